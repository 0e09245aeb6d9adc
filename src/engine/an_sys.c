/* an_sys.c — the machine itself: power, processes, permissions, accounts, cron,
 * services, kernel parameters, mounts, firewalls, system packages and root.
 *
 * Destroying the system's ability to run (shutdown, kill -9 -1, chmod -R on /usr,
 * sudoers, passwords) is denied; changing its state (services, packages, firewall,
 * sysctl, mounts) is escalated; reading it is allowed. */
#include <string.h>

#include "engine/an_common.h"

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

/* The first operand (verb) after options; short_arg lists options with values. */
static const char *verbOf(const lh_cmd *cmd, const char *short_arg, const char *const *long_arg,
                          int *at) {
    int ops[2];
    int n = an_operands(cmd, 1, short_arg, long_arg, ops, 2);
    if (at) *at = n ? ops[0] : -1;
    return n ? cmd->argv[ops[0]].s : "";
}

/* ------------------------------------------------------------------------------ */
/* Power and processes                                                             */
/* ------------------------------------------------------------------------------ */

void an_sys_shutdown(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "shutdown") && lh_has_opt(cmd, 'c', NULL)) return;   /* cancel */
    if (lh_has_opt(cmd, 0, "--help") || lh_has_opt(cmd, 0, "--version")) return;
    if (!strcmp(p, "kexec") && !lh_has_opt(cmd, 'e', "--exec")) return;
    lh_emit(s->c, idx, LH_RULE(SYS_SHUTDOWN), p);
}

void an_sys_init(an_state *s, int idx, const lh_cmd *cmd) {
    int k = lh_first_operand(cmd, 0);
    if (k < 0) return;
    const char *v = cmd->argv[k].s;
    if (!strcmp(v, "0") || !strcmp(v, "6") || !strcmp(v, "1") || !strcmp(v, "s") || !strcmp(v, "S"))
        lh_emit(s->c, idx, LH_RULE(SYS_SHUTDOWN), v);
    else if (!strcmp(v, "2") || !strcmp(v, "3") || !strcmp(v, "4") || !strcmp(v, "5") ||
             !strcmp(v, "q") || !strcmp(v, "u"))
        lh_emit(s->c, idx, LH_RULE(SYS_CONFIG), v);
}

void an_sys_kill(an_state *s, int idx, const lh_cmd *cmd) {
    int i = 1;
    while (i < cmd->argc) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-l") || !strcmp(a, "-L") || !strcmp(a, "--list") || !strcmp(a, "--table")) return;
        if (!strcmp(a, "-s") || !strcmp(a, "-n") || !strcmp(a, "--signal")) { i += 2; continue; }
        if (!strcmp(a, "--")) { i++; break; }
        if (a[0] == '-' && a[1] && i == 1) { i++; continue; }   /* -9, -KILL, -SIGTERM */
        break;
    }
    for (; i < cmd->argc; i++) {
        const char *pid = cmd->argv[i].s;
        if (!strcmp(pid, "-1") || !strcmp(pid, "1")) {
            lh_emit(s->c, idx, LH_RULE(PROC_KILL_ALL), pid);
            return;
        }
    }
}

void an_sys_pkill(an_state *s, int idx, const lh_cmd *cmd) {
    if (!strcmp(cmd->prog, "killall5")) { lh_emit(s->c, idx, LH_RULE(PROC_KILL_ALL), "killall5"); return; }
    static const char *const lo[] = {"--signal", "--user", "--euid", "--uid", "--group", "--parent",
                                     "--session", "--terminal", "--pidfile", "--ns", "--older-than",
                                     "--younger-than", "--context", NULL};
    int ops[16];
    int n = an_operands(cmd, 1, "sugGPtUFnoIY", lo, ops, 16);
    const char *user = an_opt_value(cmd, 'u', "--user");
    if (!user) user = an_opt_value(cmd, 'U', "--uid");
    if (n == 0) {
        if (user) {
            if (!strcmp(user, "root") || !strcmp(user, "0")) lh_emit(s->c, idx, LH_RULE(PROC_KILL_ALL), user);
            else lh_emit(s->c, idx, LH_RULE(PROC_KILL_SYSTEM), user);
        }
        return;
    }
    static const char *const fatal[] = {"init", "systemd", "launchd", ".", ".*", "", "^", NULL};
    static const char *const services[] = {"sshd", "dockerd", "containerd", "kubelet", "Xorg",
                                           "gdm", "sddm", "lightdm", "NetworkManager", "dbus-daemon",
                                           "systemd-journald", "journald", "cron", "crond", "postgres",
                                           "mysqld", "mongod", "redis-server", "nginx", "apache2",
                                           "httpd", "ssh-agent", "polkitd", "rsyslogd", "udevd",
                                           "systemd-udevd", "WindowServer", "loginwindow", "Finder",
                                           NULL};
    for (int k = 0; k < n; k++) {
        const char *pat = cmd->argv[ops[k]].s;
        if (inList(pat, fatal)) { lh_emit(s->c, idx, LH_RULE(PROC_KILL_ALL), pat); return; }
        if (inList(pat, services)) { lh_emit(s->c, idx, LH_RULE(PROC_KILL_SYSTEM), pat); return; }
    }
}

/* ------------------------------------------------------------------------------ */
/* Permissions                                                                     */
/* ------------------------------------------------------------------------------ */

/* Does a chmod mode give group or others read/write (644, 777, o+r, a+w, +r)? */
static int modeExposes(const char *m) {
    if (m[0] >= '0' && m[0] <= '7') {
        size_t n = strlen(m);
        if (n < 3) return 0;
        return m[n - 1] != '0' || m[n - 2] != '0';
    }
    for (const char *p = m; *p; p++) {
        if (*p != '+' && *p != '=') continue;
        /* who is the run of letters before the operator */
        const char *w = p;
        while (w > m && w[-1] != ',' ) w--;
        int others = (w == p) || memchr(w, 'o', (size_t)(p - w)) || memchr(w, 'g', (size_t)(p - w)) ||
                     memchr(w, 'a', (size_t)(p - w));
        if (others && (p[1] == 'r' || p[1] == 'w' || strchr(p + 1, 'r') || strchr(p + 1, 'w'))) return 1;
    }
    return 0;
}

/* Does one setfacl ACL spec ("u:nobody:rwx,g::r", "d:o::rw") give anyone but the owner
 * read or write? A named user, a group, others or the mask with r, w or an octal 4/2. */
static int aclExposes(const char *spec) {
    while (spec && *spec) {
        const char *e = spec, *end = strchr(spec, ',');
        size_t n = end ? (size_t)(end - spec) : strlen(spec);
        if (!strncmp(e, "d:", 2)) e += 2;
        else if (!strncmp(e, "default:", 8)) e += 8;
        const char *c1 = memchr(e, ':', n - (size_t)(e - spec));
        if (c1) {
            const char *c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - spec));
            const char *perm = c2 ? c2 + 1 : c1 + 1;
            size_t pn = n - (size_t)(perm - spec);
            int owner = (*e == 'u') && c2 == c1 + 1;   /* u::rwx is the owner */
            int grants = memchr(perm, 'r', pn) || memchr(perm, 'w', pn) ||
                         (pn == 1 && perm[0] >= '0' && perm[0] <= '7' && ((perm[0] - '0') & 6));
            if (!owner && grants) return 1;
        }
        spec = end ? end + 1 : NULL;
    }
    return 0;
}

/* setfacl -m|--modify|--set SPEC (also attached, or with =) exposes a file. */
static int faclExposes(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        const char *v = NULL, *m;
        if (!strcmp(a, "--modify") || !strcmp(a, "--set")) v = i + 1 < cmd->argc ? cmd->argv[++i].s : NULL;
        else if (!strncmp(a, "--modify=", 9)) v = a + 9;
        else if (!strncmp(a, "--set=", 6)) v = a + 6;
        else if (a[0] == '-' && a[1] != '-' && (m = strchr(a + 1, 'm')) != NULL)   /* -m SPEC, -Rm SPEC, -mSPEC */
            v = m[1] ? m + 1 : i + 1 < cmd->argc ? cmd->argv[++i].s : NULL;
        if (v && aclExposes(v)) return 1;
    }
    return 0;
}

static int modeWorldWritable(const char *m) {
    if (m[0] >= '0' && m[0] <= '7') {
        size_t n = strlen(m);
        return n >= 3 && (m[n - 1] == '2' || m[n - 1] == '3' || m[n - 1] == '6' || m[n - 1] == '7');
    }
    return strstr(m, "o+w") || strstr(m, "a+w") || strstr(m, "+w") == m || strstr(m, "o=rw") ||
           strstr(m, "a=rw") || strstr(m, "+rwx") == m;
}

static int modeSetuid(const char *m);
int an_sys_mode_setuid(const char *mode) { return modeSetuid(mode); }

static int modeSetuid(const char *m) {
    if (m[0] >= '0' && m[0] <= '7') {
        size_t n = strlen(m);
        return n == 4 && (m[0] == '4' || m[0] == '2' || m[0] == '6' || m[0] == '7');
    }
    for (const char *p = m; *p; p++)
        if ((*p == '+' || *p == '=') && strchr(p, 's')) return 1;
    return 0;
}

/* chmod MODE under xargs: the files come from the stage before xargs (find DIR, grep -rl
 * PAT DIR). find walks DIR, so a system tree, the root or the home directory there is a
 * recursive change (perm.system when find filters the names). */
static void chmodStdinFiles(an_state *s, int idx, const char *mode) {
    const lh_cmd *up = an_xargs_feeder(s, idx);
    if (!up) return;
    const char *paths[16];
    int dot, filtered;
    int n = an_feeder_paths(up, paths, 16, &dot, &filtered);
    for (int k = 0; k < n; k++) {
        lh_path pp;
        lh_path_class cls = an_path(s, idx, paths[k], &pp);
        if (cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || (pp.flags & LH_PF_IS_HOME)) {
            lh_emit(s->c, idx, filtered ? LH_RULE(PERM_SYSTEM) : LH_RULE(PERM_RECURSIVE), pp.norm);
            return;
        }
        if (cls == LH_PATH_PROJECT && !filtered && modeWorldWritable(mode)) lh_emit(s->c, idx, LH_RULE(PERM_WORLD), pp.norm);
    }
}

void an_sys_chmod(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int chmod = !strcmp(p, "chmod");
    int recursive = lh_has_opt(cmd, 'R', "--recursive");
    int ops[64];
    static const char *const lo[] = {"--reference", "--from", NULL};
    int n = an_operands(cmd, 1, !strcmp(p, "setfacl") ? "mMxX" : "", lo, ops, 64);
    int first = lh_has_opt(cmd, 0, "--reference") || !strcmp(p, "setfacl") ? 0 : 1;
    if (n == first && first && chmod && (an_at(s, idx)->flags & LH_C_STDIN_ARGS)) {
        chmodStdinFiles(s, idx, cmd->argv[ops[0]].s);   /* find / | xargs chmod 777 */
        return;
    }
    if (n <= first && first) return;
    const char *mode = first ? cmd->argv[ops[0]].s : "";
    /* "chmod -x f", "chmod -R -w d": a mode that looks like an option was skipped */
    for (int i = 1; chmod && i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1] && strspn(a + 1, "rwxXst") == strlen(a + 1)) {
            mode = a;
            first = 0;
            break;
        }
    }
    int exposes = chmod ? modeExposes(mode) : !strcmp(p, "setfacl") && faclExposes(cmd);
    int world = chmod && modeWorldWritable(mode);
    int setuid = chmod && modeSetuid(mode);
    for (int k = first; k < n; k++) {
        lh_path pp;
        lh_path_class cls = an_path(s, idx, cmd->argv[ops[k]].s, &pp);
        const char *nm = pp.norm;
        if (pp.flags & LH_PF_DEV_NULL) continue;
        if (recursive && (cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE ||
                          cls == LH_PATH_VIRTUAL || (pp.flags & LH_PF_IS_HOME))) {
            lh_emit(s->c, idx, LH_RULE(PERM_RECURSIVE), nm);
            return;
        }
        if (cls == LH_PATH_ROOT) { lh_emit(s->c, idx, LH_RULE(PERM_RECURSIVE), nm); return; }
        if (setuid && cls != LH_PATH_PROJECT && cls != LH_PATH_TEMP) {
            lh_emit_full(s->c, idx, LH_RULE(PERM_SETUID)->id, LH_DENY, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                         LH_RULE(PERM_SETUID)->reason, LH_RULE(PERM_SETUID)->instead, nm);
            return;
        }
        if (setuid) { lh_emit(s->c, idx, LH_RULE(PERM_SETUID), nm); continue; }
        switch (cls) {
        case LH_PATH_SECRET:
            if (exposes && !(pp.flags & LH_PF_IN_PROJECT)) lh_emit(s->c, idx, LH_RULE(PERM_EXPOSE), nm);
            else if (!chmod && (pp.flags & LH_PF_AUTH_DB)) lh_emit(s->c, idx, LH_RULE(PERM_SYSTEM), nm);
            break;
        case LH_PATH_SYSTEM:
        case LH_PATH_DEVICE:
            if ((pp.flags & LH_PF_AUTH_DB) && (exposes || world || !chmod)) lh_emit(s->c, idx, LH_RULE(PERM_EXPOSE), nm);
            else if (cls == LH_PATH_DEVICE && exposes) lh_emit(s->c, idx, LH_RULE(PERM_EXPOSE), nm);
            else lh_emit(s->c, idx, LH_RULE(PERM_SYSTEM), nm);
            break;
        case LH_PATH_HOME:
        case LH_PATH_OTHER:
            if (recursive || world) lh_emit(s->c, idx, LH_RULE(FS_WRITE_OUTSIDE), nm);
            break;
        case LH_PATH_PROJECT:
        case LH_PATH_UNKNOWN:   /* chmod -R 777 $(echo /): the tree is known only at run time */
            if (recursive && world) lh_emit(s->c, idx, LH_RULE(PERM_WORLD), nm);
            break;
        default: break;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Cron and accounts                                                               */
/* ------------------------------------------------------------------------------ */

void an_sys_crontab(an_state *s, int idx, const lh_cmd *cmd) {
    if (lh_has_opt(cmd, 'r', "--remove")) { lh_emit(s->c, idx, LH_RULE(CRON_REMOVE), "crontab -r"); return; }
    if (lh_has_opt(cmd, 'l', "--list")) return;
    lh_emit(s->c, idx, LH_RULE(CRON_INSTALL), "crontab");
}

static int isAdminGroup(const char *g) {
    static const char *const admin[] = {"sudo", "wheel", "admin", "root", "docker", "adm",
                                        "lxd", "libvirt", "disk", "shadow", NULL};
    /* a comma list: any member */
    char buf[128];
    size_t n = strlen(g);
    if (n >= sizeof(buf)) return 1;
    memcpy(buf, g, n + 1);
    for (char *tok = buf; tok;) {
        char *comma = strchr(tok, ',');
        if (comma) *comma = 0;
        if (inList(tok, admin)) return 1;
        tok = comma ? comma + 1 : NULL;
    }
    return 0;
}

void an_sys_account(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    lh_ctx *c = s->c;
    if (!strcmp(p, "visudo")) {
        if (lh_has_opt(cmd, 'c', "--check")) return;
        lh_emit(c, idx, LH_RULE(AUTH_SUDOERS), "visudo");
        return;
    }
    if (!strcmp(p, "passwd")) {
        if (lh_has_opt(cmd, 'S', "--status") || lh_has_opt(cmd, 0, "--help")) return;
        lh_emit(c, idx, LH_RULE(AUTH_PASSWD), "passwd");
        return;
    }
    if (!strcmp(p, "chpasswd") || !strcmp(p, "newusers") || !strcmp(p, "vipw") || !strcmp(p, "vigr") ||
        !strcmp(p, "userdel") || !strcmp(p, "deluser") || !strcmp(p, "groupdel") || !strcmp(p, "delgroup")) {
        lh_emit(c, idx, LH_RULE(AUTH_PASSWD), p);
        return;
    }
    if (!strcmp(p, "usermod") || !strcmp(p, "useradd") || !strcmp(p, "adduser")) {
        const char *g = an_opt_value(cmd, 'G', "--groups");
        const char *uid = an_opt_value(cmd, 'u', "--uid");
        if ((g && isAdminGroup(g)) || (uid && !strcmp(uid, "0")) || lh_has_opt(cmd, 'o', "--non-unique")) {
            lh_emit(c, idx, LH_RULE(AUTH_SUDOERS), g ? g : "uid 0");
            return;
        }
        int ops[4];
        static const char *const lo[] = {"--groups", "--uid", "--gid", "--home", "--shell", "--comment",
                                         "--password", "--expiredate", "--inactive", "--login", "--ingroup",
                                         NULL};
        int n = an_operands(cmd, 1, "GugdscpeflK", lo, ops, 4);
        if (!strcmp(p, "adduser") && n == 2 && isAdminGroup(cmd->argv[ops[1]].s)) {
            lh_emit(c, idx, LH_RULE(AUTH_SUDOERS), cmd->argv[ops[1]].s);
            return;
        }
        if (!strcmp(p, "usermod") && (lh_has_opt(cmd, 'p', "--password") || lh_has_opt(cmd, 'L', "--lock"))) {
            lh_emit(c, idx, LH_RULE(AUTH_PASSWD), p);
            return;
        }
        lh_emit(c, idx, LH_RULE(AUTH_ACCOUNT), p);
        return;
    }
    if (!strcmp(p, "gpasswd")) {
        int ops[4];
        int n = an_operands(cmd, 1, "adMA", NULL, ops, 4);
        const char *g = n ? cmd->argv[ops[n - 1]].s : "";
        if ((lh_has_opt(cmd, 'a', NULL) || lh_has_opt(cmd, 'M', NULL)) && isAdminGroup(g)) {
            lh_emit(c, idx, LH_RULE(AUTH_SUDOERS), g);
            return;
        }
        lh_emit(c, idx, LH_RULE(AUTH_ACCOUNT), p);
        return;
    }
    lh_emit(c, idx, LH_RULE(AUTH_ACCOUNT), p);   /* groupadd, groupmod, chsh, chage */
}

/* ------------------------------------------------------------------------------ */
/* Services, kernel, mounts, firewalls                                             */
/* ------------------------------------------------------------------------------ */

void an_sys_systemctl(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--host", "--machine", "--type", "--property", "--lines",
                                     "--output", "--state", "--signal", "--kill-whom", "--root", NULL};
    int at;
    const char *v = verbOf(cmd, "HMtpnos", lo, &at);
    static const char *const power[] = {"poweroff", "reboot", "halt", "kexec", "suspend", "hibernate",
                                        "hybrid-sleep", "suspend-then-hibernate", "emergency",
                                        "rescue", "soft-reboot", "default", NULL};
    static const char *const change[] = {"start", "stop", "restart", "try-restart", "reload-or-restart",
                                         "try-reload-or-restart", "reload", "enable", "disable", "mask",
                                         "unmask", "kill", "set-property", "edit", "daemon-reexec",
                                         "revert", "link", "preset", "preset-all", "set-default",
                                         "condrestart", "force-reload", "reenable", "freeze", "thaw",
                                         "clean", "isolate", "set-environment", "unset-environment",
                                         "import-environment", NULL};
    if (inList(v, power)) { lh_emit(s->c, idx, LH_RULE(SYS_SHUTDOWN), v); return; }
    if (!strcmp(v, "isolate") && at >= 0 && at + 1 < cmd->argc) {
        const char *t = cmd->argv[at + 1].s;
        if (strstr(t, "rescue") || strstr(t, "emergency") || strstr(t, "poweroff") ||
            strstr(t, "reboot") || strstr(t, "halt") || strstr(t, "shutdown")) {
            lh_emit(s->c, idx, LH_RULE(SYS_SHUTDOWN), t);
            return;
        }
    }
    if (inList(v, change)) {
        const char *unit = at >= 0 && at + 1 < cmd->argc ? cmd->argv[at + 1].s : v;
        const char *subj = lh_arena_printf(s->c->arena, "systemctl %s %s", v, unit);
        lh_emit(s->c, idx, LH_RULE(SVC_SYSTEMCTL), subj ? subj : v);
    }
}

void an_sys_service(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[3];
    int n = an_operands(cmd, 1, "", NULL, ops, 3);
    const char *p = cmd->prog;
    if (!strcmp(p, "brew")) {
        /* brew services start|stop|restart NAME; everything else brew does is per-user */
        if (n >= 2 && !strcmp(cmd->argv[ops[0]].s, "services")) {
            const char *v = cmd->argv[ops[1]].s;
            if (strcmp(v, "list") && strcmp(v, "info") && strcmp(v, "--help"))
                lh_emit(s->c, idx, LH_RULE(SVC_SYSTEMCTL), "brew services");
        }
        return;
    }
    if (!strcmp(p, "launchctl")) {
        static const char *const change[] = {"load", "unload", "bootstrap", "bootout", "kickstart", "kill",
                                             "enable", "disable", "remove", "start", "stop", "reboot", NULL};
        if (n >= 1 && inList(cmd->argv[ops[0]].s, change)) {
            if (!strcmp(cmd->argv[ops[0]].s, "reboot")) lh_emit(s->c, idx, LH_RULE(SYS_SHUTDOWN), "launchctl reboot");
            else lh_emit(s->c, idx, LH_RULE(SVC_SYSTEMCTL), "launchctl");
        }
        return;
    }
    if (n < 2) return;
    const char *act = cmd->argv[ops[1]].s;
    static const char *const change[] = {"start", "stop", "restart", "reload", "force-reload",
                                         "try-restart", "condrestart", "zap", NULL};
    if (inList(act, change)) lh_emit(s->c, idx, LH_RULE(SVC_SYSTEMCTL), cmd->argv[ops[0]].s);
}

void an_sys_sysctl(an_state *s, int idx, const lh_cmd *cmd) {
    int write = lh_has_opt(cmd, 'w', "--write") || lh_has_opt(cmd, 'p', "--load") ||
                lh_has_opt(cmd, 0, "--system");
    for (int i = 1; i < cmd->argc && !write; i++)
        if (cmd->argv[i].s[0] != '-' && strchr(cmd->argv[i].s, '=')) write = 1;
    if (write) lh_emit(s->c, idx, LH_RULE(SYSCTL_WRITE), "sysctl");
}

void an_sys_mount(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "mount")) {
        int ops[2];
        int n = an_operands(cmd, 1, "tOoLUTN", (const char *const[]){"--types", "--options", NULL}, ops, 2);
        if (n == 0 && !lh_has_opt(cmd, 'a', "--all") && !an_has_word(cmd, 1, "--bind") &&
            !lh_has_opt(cmd, 0, "--move"))
            return;   /* lists mounts */
    }
    if ((!strcmp(p, "swapon") || !strcmp(p, "swapoff")) &&
        (lh_has_opt(cmd, 's', "--summary") || lh_has_opt(cmd, 0, "--show")))
        return;
    if (!strcmp(p, "umount") && cmd->argc < 2) return;
    lh_emit(s->c, idx, LH_RULE(MOUNT), p);
}

void an_sys_firewall(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int change = 0;
    if (!strcmp(p, "iptables") || !strcmp(p, "ip6tables")) {
        static const char *const mut[] = {"-A", "--append", "-I", "--insert", "-D", "--delete", "-R",
                                          "--replace", "-F", "--flush", "-X", "--delete-chain", "-P",
                                          "--policy", "-N", "--new-chain", "-Z", "--zero", "-E",
                                          "--rename-chain", NULL};
        for (int i = 1; i < cmd->argc && !change; i++) {
            const char *a = cmd->argv[i].s;
            if (inList(a, mut)) change = 1;
            else if (a[0] == '-' && a[1] != '-' && strpbrk(a + 1, "AIDRFXPNZE") && strlen(a) <= 4 &&
                     !strchr(a, 'L') && !strchr(a, 'S') && !strchr(a, 'C'))
                change = 1;
        }
    } else if (!strcmp(p, "nft")) {
        int k = lh_first_operand(cmd, 0);
        const char *v = k > 0 ? cmd->argv[k].s : "";
        change = lh_has_opt(cmd, 'f', "--file") || (strcmp(v, "list") && strcmp(v, "describe") && *v);
    } else if (!strcmp(p, "ufw")) {
        int k = lh_first_operand(cmd, 0);
        const char *v = k > 0 ? cmd->argv[k].s : "";
        change = *v && strcmp(v, "status") && strcmp(v, "show") && strcmp(v, "version") && strcmp(v, "app");
    } else if (!strcmp(p, "firewall-cmd")) {
        change = 0;
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (!strncmp(a, "--list", 6) || !strcmp(a, "--state") || !strncmp(a, "--get", 5) ||
                !strncmp(a, "--query", 7) || !strncmp(a, "--info", 6) || !strcmp(a, "--check-config") ||
                !strncmp(a, "--zone", 6) || !strcmp(a, "--permanent") || a[0] != '-')
                continue;
            change = 1;
        }
    } else {
        change = 1;   /* iptables-restore and friends */
    }
    if (change) lh_emit(s->c, idx, LH_RULE(FW_CHANGE), p);
}

/* ------------------------------------------------------------------------------ */
/* Packages                                                                        */
/* ------------------------------------------------------------------------------ */

static int isEssentialPkg(const char *n) {
    static const char *const ess[] = {"libc6", "libc-bin", "glibc", "systemd", "systemd-sysv", "sudo",
                                      "openssh-server", "openssh", "ssh", "coreutils", "bash", "dash",
                                      "apt", "dpkg", "rpm", "dnf", "yum", "pacman", "init", "base-files",
                                      "base-passwd", "login", "passwd", "util-linux", "python3",
                                      "e2fsprogs", "mount", "sed", "grep", "tar", "gzip", "findutils",
                                      "debianutils", "perl-base", "libpam0g", "libpam-modules",
                                      "libssl3", "zlib1g", "libsystemd0", "udev", "kmod", "procps",
                                      "linux-image-generic", "grub-pc", "grub2", "grub-efi-amd64",
                                      "shadow-utils", "filesystem", "setup", "busybox", "musl",
                                      "alpine-baselayout", "apk-tools", NULL};
    if (inList(n, ess)) return 1;
    return !strncmp(n, "linux-image", 11) || !strncmp(n, "kernel", 6);
}

/* What a package manager command does: 0 read-only, 1 installs/updates, 2 removes. */
static int pkgAction(const lh_cmd *cmd, int *first_pkg) {
    const char *p = cmd->prog;
    int at;
    *first_pkg = -1;
    if (!strcmp(p, "pacman")) {
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (a[0] != '-' || a[1] == '-') continue;
            *first_pkg = i + 1;
            if (strchr(a, 'R')) return 2;
            if (strchr(a, 'U')) return 1;
            if (strchr(a, 'S')) return (strpbrk(a, "silgp") && !strchr(a, 'u')) ? 0 : 1;
        }
        return 0;
    }
    if (!strcmp(p, "dpkg") || !strcmp(p, "rpm")) {
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            *first_pkg = i + 1;
            if (!strcmp(a, "-r") || !strcmp(a, "-P") || !strcmp(a, "--remove") || !strcmp(a, "--purge") ||
                !strcmp(a, "-e") || !strcmp(a, "--erase"))
                return 2;
            if (!strcmp(a, "-i") || !strcmp(a, "--install") || !strcmp(a, "-U") || !strcmp(a, "--upgrade") ||
                !strcmp(a, "-F") || !strcmp(a, "--freshen") || !strcmp(a, "--configure") ||
                !strcmp(a, "--unpack") || !strcmp(a, "--import") || !strncmp(a, "-iv", 3) ||
                !strncmp(a, "-Uv", 3))
                return 1;
        }
        return 0;
    }
    if (!strcmp(p, "emerge")) {
        if (lh_has_opt(cmd, 's', "--search") || lh_has_opt(cmd, 'p', "--pretend") || lh_has_opt(cmd, 0, "--info"))
            return 0;
        *first_pkg = 1;
        return lh_has_opt(cmd, 'C', "--unmerge") || lh_has_opt(cmd, 'c', "--depclean") ? 2 : 1;
    }
    const char *v = verbOf(cmd, "oc", (const char *const[]){"--option", "--config", "--root", NULL}, &at);
    *first_pkg = at >= 0 ? at + 1 : -1;
    static const char *const removes[] = {"remove", "purge", "autoremove", "autopurge", "erase", "del",
                                          "uninstall", "rm", NULL};
    static const char *const installs[] = {"install", "reinstall", "upgrade", "full-upgrade",
                                           "dist-upgrade", "build-dep", "downgrade", "groupinstall",
                                           "localinstall", "swap", "distro-sync", "add", "fix", "in",
                                           "up", "dup", "patch", "refresh", "revert", "selfupdate",
                                           "addrepo", "ar", "enable", "disable", "group", "module",
                                           "config-manager", NULL};
    if (inList(v, removes)) return 2;
    if (inList(v, installs)) return 1;
    /* yum/dnf/zypper "update" upgrades packages; apt/apk "update" refreshes indexes */
    if (!strcmp(v, "update") && (!strcmp(p, "yum") || !strcmp(p, "dnf") || !strcmp(p, "zypper") ||
                                 !strcmp(p, "flatpak")))
        return 1;
    return 0;
}

void an_sys_pkg(an_state *s, int idx, const lh_cmd *cmd) {
    int first;
    int act = pkgAction(cmd, &first);
    if (!act) return;
    if (an_has_word(cmd, 1, "--force-remove-essential")) { lh_emit(s->c, idx, LH_RULE(PKG_ESSENTIAL), "--force-remove-essential"); return; }
    if (act == 2 && first > 0) {
        for (int i = first; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (a[0] == '-') continue;
            if (isEssentialPkg(a)) { lh_emit(s->c, idx, LH_RULE(PKG_ESSENTIAL), a); return; }
        }
    }
    const lh_cmd *orig = an_at(s, idx);
    lh_emit(s->c, idx, (orig->flags & LH_C_SUDO) ? LH_RULE(PKG_SUDO) : LH_RULE(PKG_SYSTEM), cmd->prog);
}

/* pip / pipx: only root installs and --break-system-packages touch the system. */
void an_sys_langpkg(an_state *s, int idx, const lh_cmd *cmd) {
    int k = lh_first_operand(cmd, 0);
    const char *v = k > 0 ? cmd->argv[k].s : "";
    if (strcmp(v, "install") && strcmp(v, "uninstall")) return;
    const lh_cmd *orig = an_at(s, idx);
    if (orig->flags & LH_C_SUDO) lh_emit(s->c, idx, LH_RULE(PKG_SUDO), cmd->prog);
    else if (an_has_word(cmd, 1, "--break-system-packages")) lh_emit(s->c, idx, LH_RULE(PKG_SYSTEM), "--break-system-packages");
}

/* ------------------------------------------------------------------------------ */
/* Other system settings                                                           */
/* ------------------------------------------------------------------------------ */

void an_sys_misc(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int k = lh_first_operand(cmd, 0);
    const char *v = k > 0 ? cmd->argv[k].s : "";
    lh_ctx *c = s->c;
    if (!strcmp(p, "date")) {
        if (lh_has_opt(cmd, 's', "--set")) lh_emit(c, idx, LH_RULE(SYS_CONFIG), "date --set");
        return;
    }
    if (!strcmp(p, "hostnamectl") || !strcmp(p, "timedatectl")) {
        if (!strncmp(v, "set-", 4) || !strcmp(v, "hostname")) lh_emit(c, idx, LH_RULE(SYS_CONFIG), p);
        return;
    }
    if (!strcmp(p, "modprobe")) {
        if (k > 0 && !lh_has_opt(cmd, 0, "--show-depends") && !lh_has_opt(cmd, 'n', "--dry-run"))
            lh_emit(c, idx, LH_RULE(SYS_KMOD), v);
        return;
    }
    if (!strcmp(p, "insmod") || !strcmp(p, "rmmod")) { lh_emit(c, idx, LH_RULE(SYS_KMOD), v); return; }
    if (!strcmp(p, "update-grub") || !strcmp(p, "grub-install") || !strcmp(p, "setenforce")) {
        lh_emit(c, idx, LH_RULE(SYS_CONFIG), p);
        return;
    }
    if (!strcmp(p, "update-alternatives")) {
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (!strcmp(a, "--set") || !strcmp(a, "--install") || !strcmp(a, "--remove") ||
                !strcmp(a, "--config") || !strcmp(a, "--remove-all") || !strcmp(a, "--auto")) {
                lh_emit(c, idx, LH_RULE(SYS_CONFIG), p);
                return;
            }
        }
        return;
    }
    if (!strcmp(p, "ip")) {
        static const char *const mut[] = {"add", "del", "delete", "flush", "replace", "change", "set",
                                          "append", "prepend", NULL};
        for (int i = 1; i < cmd->argc; i++)
            if (inList(cmd->argv[i].s, mut)) { lh_emit(c, idx, LH_RULE(SYS_CONFIG), "ip"); return; }
        return;
    }
    if (!strcmp(p, "ifconfig")) {
        int ops[4];
        int n = an_operands(cmd, 1, "", NULL, ops, 4);
        if (n >= 2) lh_emit(c, idx, LH_RULE(SYS_CONFIG), "ifconfig");
    }
}

/* ------------------------------------------------------------------------------ */
/* Root                                                                            */
/* ------------------------------------------------------------------------------ */

/* A here-doc or here-string fed to a root shell (sudo -s <<<, su <<EOF) is a script:
 * parse it so its commands are analysed in turn. Returns 1 if there was one. The root
 * shell itself is then judged as `sudo sh -c SCRIPT` is (rootShellScript). */
static int parseStdinScript(an_state *s, int idx) {
    const lh_cmd *cmd = an_at(s, idx);
    if (cmd->flags & LH_C_REPLACED) return 1;
    for (int r = 0; r < cmd->nredirs; r++) {
        const lh_redir *rd = &cmd->redirs[r];
        if (rd->op != LH_R_HEREDOC && rd->op != LH_R_HERESTR) continue;
        an_parse_child(s, idx, rd->target.s, rd->target.len, LH_ORIGIN_HEREDOC);
        return 1;
    }
    return 0;
}

/* A root shell that reads its script from stdin (a here-doc, a here-string, a pipe) runs
 * that script as root: the same finding as `sudo sh -c SCRIPT` (priv.sudo on the shell),
 * whatever the script's own commands add. Returns 1 when it is fed so. */
static int rootShellScript(an_state *s, int idx, const char *name) {
    if (!(an_at(s, idx)->flags & LH_C_PIPE_IN) && !parseStdinScript(s, idx)) return 0;
    lh_emit(s->c, idx, LH_RULE(PRIV_SUDO), name);
    return 1;
}

void an_sys_su(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {   /* su -c CMD, -lc CMD, --command=CMD: children */
        const char *a = cmd->argv[i].s;
        if (!strncmp(a, "--command", 9) || (a[0] == '-' && a[1] != '-' && strchr(a + 1, 'c'))) return;
    }
    if (rootShellScript(s, idx, "su")) return;
    lh_emit(s->c, idx, LH_RULE(PRIV_ROOT_SHELL), "su");
}

/* What the unwrapper left as "sudo": sudo -i / -s (a root shell), sudo -e (sudoedit),
 * sudo -l / -v / -k (harmless). */
void an_sys_sudo_rest(an_state *s, int idx, const lh_cmd *cmd) {
    int shell = 0, edit = !strcmp(cmd->prog, "sudoedit");
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-') break;
        if (!strcmp(a, "-l") || !strcmp(a, "--list") || !strcmp(a, "-v") || !strcmp(a, "--validate") ||
            !strcmp(a, "-k") || !strcmp(a, "-K") || !strcmp(a, "-V") || !strcmp(a, "--version") ||
            !strcmp(a, "-h") || !strcmp(a, "--help"))
            return;
        if (!strcmp(a, "--login") || !strcmp(a, "--shell") || (a[1] != '-' && (strchr(a, 'i') || strchr(a, 's'))))
            shell = 1;
        if (!strcmp(a, "--edit") || (a[1] != '-' && strchr(a, 'e'))) edit = 1;
    }
    if (edit) {
        int ops[16];
        int n = an_operands(cmd, 1, "ugpChDrtUT", NULL, ops, 16);
        for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_WRITE);
        return;
    }
    if (!shell) return;
    if (rootShellScript(s, idx, "sudo")) return;
    lh_emit(s->c, idx, LH_RULE(PRIV_ROOT_SHELL), "sudo");
}

/* Programs that only look, so running them as root changes nothing. */
void an_sys_generic_sudo(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const readonly[] = {
        "ls", "ll", "du", "df", "lsof", "ss", "netstat", "journalctl", "dmesg", "ps", "top", "htop",
        "id", "whoami", "stat", "file", "lsblk", "blkid", "lsmod", "lspci", "lsusb", "dmidecode",
        "smartctl", "iotop", "free", "uptime", "uname", "which", "whereis", "tcpdump", "nethogs",
        "iftop", "lshw", "pwd", "echo", "printf", "true", "test", "[", "wc", "md5sum", "sha256sum",
        "getfacl", "lsattr", "last", "lastlog", "who", "w", "crictl", "nginx", "apachectl",
        "sestatus", "getenforce", "aa-status", "ufw", "ip", "ifconfig", "arp", "route", "nmap",
        "pwck", "grpck", "tree", "realpath", "readlink", "env",
        "printenv", "date", "hostname", "sensors", "iostat", "vmstat", "mpstat", "sar", "pidstat",
        "strace", "ltrace", "perf", "gdb", "true", "false", "sleep", "locate", "updatedb", "mlocate",
        NULL};
    /* container and cluster CLIs often need root: only their read subcommands are
     * read-only (`sudo docker ps`, not `sudo docker compose up`) */
    static const char *const clis[] = {"docker", "podman", "kubectl", "crictl", "nerdctl", NULL};
    static const char *const reads[] = {"ps", "logs", "images", "inspect", "stats", "top", "version",
                                        "info", "get", "describe", "events", "port", "diff", "history",
                                        "search", "api-resources", "explain", "cluster-info", NULL};
    if (inList(cmd->prog, clis)) {
        int sub = lh_first_operand(cmd, 0);
        if (sub > 0 && inList(cmd->argv[sub].s, reads)) return;
        lh_emit(s->c, idx, LH_RULE(PRIV_SUDO), cmd->prog);
        return;
    }
    if (cmd->argc == 0 || inList(cmd->prog, readonly)) {
        if (!strcmp(cmd->prog, "nginx") && !lh_has_opt(cmd, 't', NULL) && !lh_has_opt(cmd, 'T', NULL) &&
            !lh_has_opt(cmd, 'v', NULL) && !lh_has_opt(cmd, 'V', NULL))
            lh_emit(s->c, idx, LH_RULE(PRIV_SUDO), cmd->prog);
        return;
    }
    lh_emit(s->c, idx, LH_RULE(PRIV_SUDO), cmd->prog);
}

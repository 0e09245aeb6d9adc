/* an_data.c — data services, object stores, archivers that delete their sources, editors
 * in batch mode, broad kills, journals, forced package removal, installs from unreviewed
 * sources and services exposed to the network.
 *
 * These handlers run in addition to the program's main handler (analyze.c calls
 * an_data_dispatch() after it), so a program that already has one (curl, vault, tar, vim,
 * kill, pip, npm…) keeps it: deny beats escalate beats allow across their findings.
 * The rule packs (pack.*) are in an_packs.c. */
#include <assert.h>
#include <string.h>

#include "engine/an_common.h"
#include "engine/unwrap.h"

/* ------------------------------------------------------------------------------ */
/* Small helpers                                                                   */
/* ------------------------------------------------------------------------------ */

static int inList(const char *w, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(w, list[i])) return 1;
    return 0;
}

/* Is a host, URL or host:port word somewhere else than this machine? An unknown ($X)
 * word counts as remote. */
static int remoteWord(const char *w) {
    if (!w || !*w) return 0;
    char host[256];
    if (strstr(w, "://")) return !an_is_loopback_host(an_url_host(w, host, sizeof(host)));
    size_t n = strcspn(w, ":/,");
    if (n >= sizeof(host)) return 1;
    memcpy(host, w, n);
    host[n] = 0;
    return !an_is_loopback_host(host);
}

/* Is the whole word (case-insensitive) present in text, with non-letters around it? */
static int hasToken(const char *text, size_t len, const char *tok) {
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= len; i++) {
        if (i > 0) {
            char b = text[i - 1];
            if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '_') continue;
        }
        size_t k = 0;
        while (k < tl && (text[i + k] | 0x20) == (tok[k] | 0x20)) k++;
        if (k < tl) continue;
        char a = i + tl < len ? text[i + tl] : 0;
        if ((a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z') || a == '_') continue;
        return 1;
    }
    return 0;
}

static int isDryRun(const lh_cmd *cmd) {
    return lh_has_opt(cmd, 0, "--dry-run") || lh_has_opt(cmd, 0, "--dryrun") ||
           lh_has_opt(cmd, 0, "--what-if");
}

/* ------------------------------------------------------------------------------ */
/* Key-value stores, brokers, search, secrets                                      */
/* ------------------------------------------------------------------------------ */

/* Redis commands sent as raw protocol through nc, ncat, socat or telnet. */
/* Does an echo/printf whose output reaches command idx print FLUSHALL or FLUSHDB
 * ("(printf 'FLUSHALL\r\n'; sleep 1) | nc host 6379")? */
static int flushFedTo(an_state *s, int idx) {
    const lh_script *sc = s->c->script;
    for (int j = AN_LO(idx); j < idx; j++) {
        const lh_cmd *w = &sc->cmds[j];
        if (strcmp(w->prog, "printf") && strcmp(w->prog, "echo")) continue;
        int hit = 0;
        for (int k = 1; k < w->argc && !hit; k++)
            hit = hasToken(w->argv[k].s, w->argv[k].len, "FLUSHALL") || hasToken(w->argv[k].s, w->argv[k].len, "FLUSHDB");
        if (hit && an_flows_to_sender(s, j, NULL) == idx) return 1;
    }
    return 0;
}

static void rawProtocol(an_state *s, int idx, const lh_cmd *cmd) {
    size_t len;
    const char *in = lh_stdin_text(s->c, idx, &len);
    if (in ? hasToken(in, len, "FLUSHALL") || hasToken(in, len, "FLUSHDB") : flushFedTo(s, idx)) {
        lh_emit(s->c, idx, LH_RULE(DATA_WIPE), cmd->prog);
        return;
    }
    if (!in) return;
    int remote = 0;
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        if (a[0] == '-' && a[1]) continue;
        const char *t = !strncmp(a, "TCP:", 4) || !strncmp(a, "tcp:", 4) ? a + 4 : a;
        if ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') || (t[0] >= '0' && t[0] <= '9' && strchr(t, '.')))
            remote |= remoteWord(t);
    }
    if (!remote) return;
    static const char *const writes[] = {"SHUTDOWN", "SLAVEOF", "REPLICAOF", "DEBUG", "MIGRATE", "DEL",
                                         "UNLINK", NULL};
    for (int i = 0; writes[i]; i++)
        if (hasToken(in, len, writes[i])) { lh_emit(s->c, idx, LH_RULE(DB_REMOTE_WRITE), writes[i]); return; }
    if (hasToken(in, len, "CONFIG") && (hasToken(in, len, "SET") || hasToken(in, len, "REWRITE")))
        lh_emit(s->c, idx, LH_RULE(DB_REMOTE_WRITE), "CONFIG SET");
}

static void etcdctl(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--endpoints", "--cacert", "--cert", "--key", "--user", "--password",
                                     "--command-timeout", "--dial-timeout", "--write-out", NULL};
    int ops[4];
    int n = an_operands(cmd, 1, "w", lo, ops, 4);
    if (n < 1 || (strcmp(cmd->argv[ops[0]].s, "del") && strcmp(cmd->argv[ops[0]].s, "delete"))) return;
    const char *key = n > 1 ? cmd->argv[ops[1]].s : "";
    if (lh_has_opt(cmd, 0, "--prefix") || lh_has_opt(cmd, 0, "--from-key")) { lh_emit(s->c, idx, LH_RULE(DATA_WIPE), key); return; }
    /* one key: a shared cluster when --endpoints names another host (the default is local) */
    const char *ep = an_opt_value(cmd, 0, "--endpoints");
    int remote = 0;
    for (const char *e = ep; e && *e; e = strchr(e, ',') ? strchr(e, ',') + 1 : NULL) remote |= remoteWord(e);
    if (remote) lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), key);
}

static void consul(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    if (n < 2 || strcmp(cmd->argv[ops[0]].s, "kv") || strcmp(cmd->argv[ops[1]].s, "delete")) return;
    const char *key = n > 2 ? cmd->argv[ops[2]].s : "";
    int rec = 0;
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        if (a[0] == '-' && (!strncmp(a + (a[1] == '-'), "-recurse", 8)) && strcmp(a + 8 + (a[1] == '-'), "=false"))
            rec = 1;
    }
    if (rec || !*key)
        lh_emit(s->c, idx, LH_RULE(DATA_WIPE), key);
    else
        lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), key);
}

/* vault secrets disable, kv destroy, kv metadata delete: the data is gone for good (a
 * plain delete is a soft delete, left to an_net_secret_tool). */
static void vault(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    const char *v1 = n > 0 ? cmd->argv[ops[0]].s : "";
    const char *v2 = n > 1 ? cmd->argv[ops[1]].s : "";
    const char *v3 = n > 2 ? cmd->argv[ops[2]].s : "";
    if ((!strcmp(v1, "secrets") && !strcmp(v2, "disable")) || (!strcmp(v1, "kv") && !strcmp(v2, "destroy")) ||
        (!strcmp(v1, "kv") && !strcmp(v2, "metadata") && !strcmp(v3, "delete")))
        lh_emit(s->c, idx, LH_RULE(DATA_WIPE), n > 2 ? cmd->argv[ops[n - 1]].s : v1);
}

static void kafkaTopics(an_state *s, int idx, const lh_cmd *cmd) {
    if (!lh_has_opt(cmd, 0, "--delete")) return;
    const char *t = an_opt_value(cmd, 0, "--topic");
    lh_emit(s->c, idx, LH_RULE(DATA_WIPE), t ? t : "--delete");
}

/* HTTP DELETE of every index (_all, *, a wildcard) on a search cluster or any REST API. */
static void httpWipe(an_state *s, int idx, const lh_cmd *cmd) {
    const char *m = an_opt_value(cmd, 'X', "--request");
    if (!m || !an_ieq(m, "DELETE")) return;
    for (int k = 1; k < cmd->argc; k++) {
        const char *u = cmd->argv[k].s;
        if (u[0] == '-') continue;
        const char *path = strstr(u, "://");
        path = strchr(path ? path + 3 : u, '/');
        if (!path || !remoteWord(u)) continue;
        if (strchr(path, '*') || strstr(path, "/_all")) { lh_emit(s->c, idx, LH_RULE(DATA_WIPE), u); return; }
    }
}

/* ------------------------------------------------------------------------------ */
/* Object stores                                                                   */
/* ------------------------------------------------------------------------------ */

static int recursive(const lh_cmd *cmd) { return lh_has_opt(cmd, 'r', "--recursive") || lh_has_opt(cmd, 'R', NULL); }

static void rclone(an_state *s, int idx, const lh_cmd *cmd) {
    if (isDryRun(cmd) || lh_has_opt(cmd, 'n', NULL)) return;
    int ops[4];
    int n = an_operands(cmd, 1, "", (const char *const[]){"--config", "--include", "--exclude", "--filter",
                                                           "--min-age", "--max-age", "--min-size", "--max-size",
                                                           "--transfers", "--checkers", NULL},
                        ops, 4);
    if (n < 2) return;
    const char *v = cmd->argv[ops[0]].s, *t = cmd->argv[ops[1]].s;
    int filtered = lh_has_opt(cmd, 0, "--include") || lh_has_opt(cmd, 0, "--exclude") ||
                   lh_has_opt(cmd, 0, "--filter") || lh_has_opt(cmd, 0, "--min-age") ||
                   lh_has_opt(cmd, 0, "--max-age");
    if (!strcmp(v, "purge")) lh_emit(s->c, idx, LH_RULE(CLOUD_STORAGE_DELETE), t);
    else if (!strcmp(v, "delete")) lh_emit(s->c, idx, filtered ? LH_RULE(DATA_REMOTE_DELETE) : LH_RULE(CLOUD_STORAGE_DELETE), t);
    else if (!strcmp(v, "deletefile") || !strcmp(v, "rmdirs")) lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), t);
    else if (!strcmp(v, "sync") && n > 2 && strchr(cmd->argv[ops[2]].s, ':'))
        lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), cmd->argv[ops[2]].s);
}

static void mc(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    if (n < 2 || isDryRun(cmd)) return;
    const char *v = cmd->argv[ops[0]].s, *t = cmd->argv[ops[1]].s;
    if (!strcmp(v, "rb") || (!strcmp(v, "rm") && recursive(cmd))) lh_emit(s->c, idx, LH_RULE(CLOUD_STORAGE_DELETE), t);
    else if (!strcmp(v, "mirror") && lh_has_opt(cmd, 0, "--remove")) lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), t);
}

static void s3cmd(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "c", NULL, ops, 4);
    if (n < 2 || isDryRun(cmd) || lh_has_opt(cmd, 'n', NULL)) return;
    const char *v = cmd->argv[ops[0]].s, *t = cmd->argv[ops[1]].s;
    if (!strcmp(v, "rb") || ((!strcmp(v, "del") || !strcmp(v, "rm")) && recursive(cmd)))
        lh_emit(s->c, idx, LH_RULE(CLOUD_STORAGE_DELETE), t);
    else if (!strcmp(v, "sync") && lh_has_opt(cmd, 0, "--delete-removed"))
        lh_emit(s->c, idx, LH_RULE(DATA_REMOTE_DELETE), n > 2 ? cmd->argv[ops[2]].s : t);
}

static void azcopy(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    if (n < 2 || isDryRun(cmd) || strcmp(cmd->argv[ops[0]].s, "remove")) return;
    if (lh_has_opt(cmd, 0, "--recursive")) lh_emit(s->c, idx, LH_RULE(CLOUD_STORAGE_DELETE), cmd->argv[ops[1]].s);
}

/* ------------------------------------------------------------------------------ */
/* Archivers that delete what they archive                                         */
/* ------------------------------------------------------------------------------ */

static void deleteSources(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int from, int n) {
    for (int k = from; k < n; k++) an_fs_delete_target(s, idx, cmd->argv[ops[k]].s, 1, 1, 0);
    /* find … | xargs tar --remove-files: the sources come from stdin */
    if ((an_at(s, idx)->flags & LH_C_STDIN_ARGS) && !an_fs_stdin_targets(s, idx, 1, 1))
        lh_emit(s->c, idx, LH_RULE(RM_DYNAMIC), "paths read from stdin");
}

static void tarRemove(an_state *s, int idx, const lh_cmd *cmd) {
    if (!lh_has_opt(cmd, 0, "--remove-files")) return;
    static const char *const lo[] = {"--file", "--directory", "--exclude", "--files-from", "--exclude-from",
                                     "--transform", "--owner", "--group", "--mode", "--mtime", "--use-compress-program",
                                     "--format", "--label", "--newer", "--after-date", NULL};
    int ops[32];
    int n;
    const char *a1 = lh_arg(cmd, 1);
    if (a1[0] && a1[0] != '-' && strchr(a1, 'f')) {
        /* old style "tar czf ARCHIVE FILES…": the archive follows the letters */
        n = an_operands(cmd, 3, "fCTXbHKLgNV", lo, ops, 32);
    } else {
        n = an_operands(cmd, 1, "fCTXbHKLgNV", lo, ops, 32);
    }
    deleteSources(s, idx, cmd, ops, 0, n);
}

static void zipMove(an_state *s, int idx, const lh_cmd *cmd) {
    if (!lh_has_opt(cmd, 'm', "--move")) return;
    int ops[32];
    int n = an_operands(cmd, 1, "bntxiOPZ", (const char *const[]){"--exclude", "--include", "--password", NULL}, ops, 32);
    deleteSources(s, idx, cmd, ops, 1, n);   /* ops[0] is the zip file */
}

static void sevenZip(an_state *s, int idx, const lh_cmd *cmd) {
    if (!an_has_word(cmd, 1, "-sdel")) return;
    int ops[32];
    int n = an_operands(cmd, 1, "", NULL, ops, 32);
    deleteSources(s, idx, cmd, ops, 2, n);   /* ops[0] is the command (a), ops[1] the archive */
}

/* ------------------------------------------------------------------------------ */
/* Editors run as scripts                                                          */
/* ------------------------------------------------------------------------------ */

/* Does an ex command line write (w, wq, x, up, sav, exi…)? Commands are split on |. */
static int exWrites(const char *c) {
    while (*c) {
        while (*c == ' ' || *c == ':' || *c == '|') c++;
        while (*c && strchr("0123456789%$.,'<>+-;/ ", *c)) {
            if (*c == '/') { c++; while (*c && *c != '/') c++; if (*c) c++; continue; }
            c++;
        }
        if (c[0] == 'w' || c[0] == 'x' || !strncmp(c, "up", 2) || !strncmp(c, "sav", 3) || !strncmp(c, "exi", 3))
            return 1;
        while (*c && *c != '|') c++;
    }
    return 0;
}

static void editor(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int ex = !strcmp(p, "ex");
    int script = 0, writes = 0, exmode = ex;
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        if (!strcmp(a, "-e") || !strcmp(a, "-es") || !strcmp(a, "-E") || !strcmp(a, "-Es")) exmode = 1;
    }
    int ops[16], n = 0;
    for (int k = 1; k < cmd->argc && n < 16; k++) {
        const char *a = cmd->argv[k].s;
        if (!strcmp(a, "--")) { for (k++; k < cmd->argc && n < 16; k++) ops[n++] = k; break; }
        if (a[0] == '+') { script = 1; writes |= exWrites(a + 1); continue; }
        if (a[0] != '-' || !a[1]) { ops[n++] = k; continue; }
        if (!strcmp(a, "-c") || !strcmp(a, "--cmd")) {
            script = 1;
            if (k + 1 < cmd->argc) writes |= exWrites(cmd->argv[++k].s);
            continue;
        }
        if (!strncmp(a, "-c", 2) || !strncmp(a, "-sc", 3)) {   /* -c'cmd', ex -sc 'cmd' */
            script = 1;
            const char *v = a[1] == 's' ? a + 3 : a + 2;
            if (!*v && k + 1 < cmd->argc) v = cmd->argv[++k].s;
            writes |= exWrites(v);
            continue;
        }
        if (!strcmp(a, "-S") || (!strcmp(a, "-s") && !exmode)) { script = writes = 1; k++; continue; }
        if (!strcmp(a, "-u") || !strcmp(a, "-U") || !strcmp(a, "-i") || !strcmp(a, "-T") || !strcmp(a, "-w") ||
            !strcmp(a, "-W") || !strcmp(a, "-t") || !strcmp(a, "-q"))
            k++;
    }
    /* ex and vim -es read their commands from stdin when none are given */
    if (exmode && !script) {
        size_t len;
        const char *in = lh_stdin_text(s->c, idx, &len);
        script = 1;
        writes = in ? exWrites(in) || strstr(in, "\nw") || strstr(in, "\nx") : 1;
    }
    if (!script || !writes) return;
    for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_WRITE);
}

/* ed FILE < script: writes when the script has a w command (or is not known). */
static void ed(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "p", NULL, ops, 4);
    if (n < 1) return;
    size_t len;
    const char *in = lh_stdin_text(s->c, idx, &len);
    int writes = 1;
    if (in) {
        writes = 0;
        const char *end = in + len;
        for (const char *l = in; l < end;) {
            while (l < end && *l && strchr("0123456789,$. ", *l)) l++;
            if (l < end && (*l == 'w' || *l == 'W')) { writes = 1; break; }
            while (l < end && *l != '\n') l++;
            l++;
        }
    }
    if (writes) an_fs_write_target(s, idx, cmd->argv[ops[0]].s, AN_W_WRITE);
}

/* ------------------------------------------------------------------------------ */
/* Broad kills, journals, forced package removal                                   */
/* ------------------------------------------------------------------------------ */

/* A SIGKILL (-9, -KILL, -s KILL…): the process gets no chance to clean up. */
static int sigkill(const lh_cmd *cmd) {
    const char *v = an_opt_value(cmd, 's', "--signal");
    if (v && (!strcmp(v, "9") || an_ieq(v, "KILL") || an_ieq(v, "SIGKILL"))) return 1;
    return an_has_word(cmd, 1, "-9") || an_has_word(cmd, 1, "-KILL") || an_has_word(cmd, 1, "-SIGKILL");
}

/* kill -9 $(pgrep …): every pid a command prints at run time; kill -- -PGID: a group. */
static void kill(an_state *s, int idx, const lh_cmd *cmd) {
    int k9 = sigkill(cmd);
    for (int k = 1; k < cmd->argc; k++) {
        const lh_word *w = &cmd->argv[k];
        if ((w->flags & LH_W_SUBST) && k9) { lh_emit(s->c, idx, LH_RULE(PROC_BROAD_KILL), w->s); return; }
        if (k > 1 && w->s[0] == '-' && w->s[1] >= '1' && w->s[1] <= '9' && strcmp(w->s, "-1") &&
            !strcmp(cmd->argv[k - 1].s, "--")) {
            lh_emit(s->c, idx, LH_RULE(PROC_BROAD_KILL), w->s);
            return;
        }
    }
}

static void pkill(an_state *s, int idx, const lh_cmd *cmd) {
    if (!strcmp(cmd->prog, "killall5")) return;
    if (lh_has_opt(cmd, 'l', "--list") || lh_has_opt(cmd, 0, "--help") || lh_has_opt(cmd, 'V', "--version")) return;
    const char *sig = an_opt_value(cmd, 's', "--signal");
    if (sig && !strcmp(sig, "0")) return;
    if (an_has_word(cmd, 1, "-0")) return;
    static const char *const lo[] = {"--signal", "--user", "--euid", "--uid", "--group", "--parent",
                                     "--session", "--terminal", "--pidfile", "--ns", "--older-than",
                                     "--younger-than", "--context", NULL};
    int ops[4];
    int n = an_operands(cmd, 1, "sugGPtUFnoIY", lo, ops, 4);
    /* killall NAME, pkill -9 PATTERN (a plain pkill -f 'node server.js' stays allowed) */
    if (n > 0 && (!strcmp(cmd->prog, "killall") || sigkill(cmd)))
        lh_emit(s->c, idx, LH_RULE(PROC_BROAD_KILL), cmd->argv[ops[0]].s);
}

static void journalctl(an_state *s, int idx, const lh_cmd *cmd) {
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        if (!strncmp(a, "--vacuum-", 9) || !strcmp(a, "--rotate") || !strcmp(a, "--flush")) {
            lh_emit(s->c, idx, LH_RULE(SYS_JOURNAL), a);
            return;
        }
    }
}

static void forceRemove(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    int removes = 0, force = 0;
    if (!strcmp(p, "rpm")) {
        removes = lh_has_opt(cmd, 'e', "--erase");
        force = lh_has_opt(cmd, 0, "--nodeps");
    } else if (!strcmp(p, "dpkg")) {
        removes = lh_has_opt(cmd, 'r', "--remove") || lh_has_opt(cmd, 'P', "--purge");
        force = lh_has_opt(cmd, 0, "--force-depends") || lh_has_opt(cmd, 0, "--force-remove-essential") ||
                lh_has_opt(cmd, 0, "--force-all") || lh_has_opt(cmd, 0, "--force-remove-reinstreq");
    } else if (!strcmp(p, "pacman")) {
        for (int k = 1; k < cmd->argc; k++) {
            const char *a = cmd->argv[k].s;
            if (a[0] == '-' && a[1] == 'R') { removes = 1; force |= strchr(a, 'd') != NULL; }
            if (!strcmp(a, "--remove")) removes = 1;
            if (!strcmp(a, "--nodeps")) force = 1;
        }
    } else if (!strcmp(p, "brew")) {
        const char *v = lh_arg(cmd, lh_first_operand(cmd, 0));
        removes = !strcmp(v, "uninstall") || !strcmp(v, "remove") || !strcmp(v, "rm");
        force = lh_has_opt(cmd, 0, "--ignore-dependencies");
    } else {   /* apt, apt-get, yum, dnf, zypper */
        removes = an_has_word(cmd, 1, "remove") || an_has_word(cmd, 1, "purge") || an_has_word(cmd, 1, "erase") ||
                  an_has_word(cmd, 1, "autoremove") || an_has_word(cmd, 1, "rm");
        force = lh_has_opt(cmd, 0, "--force-yes") || lh_has_opt(cmd, 0, "--allow-remove-essential") ||
                lh_has_opt(cmd, 0, "--nodeps");
    }
    if (removes && force) lh_emit(s->c, idx, LH_RULE(PKG_FORCE_REMOVE), p);
}

/* ------------------------------------------------------------------------------ */
/* Installs from unreviewed sources                                                */
/* ------------------------------------------------------------------------------ */

static int isUrlSpec(const char *w);
int an_pkg_url_spec(const char *w) { return isUrlSpec(w); }

static int isUrlSpec(const char *w) {
    return strstr(w, "://") != NULL || !strncmp(w, "git+", 4) || !strncmp(w, "hg+", 3) || !strncmp(w, "svn+", 4) ||
           !strncmp(w, "bzr+", 4) || !strncmp(w, "github:", 7) || !strncmp(w, "gitlab:", 7) ||
           !strncmp(w, "bitbucket:", 10) || !strncmp(w, "gist:", 5) || !strncmp(w, "git@", 4) ||
           strstr(w, "@git+") != NULL || strstr(w, "@https://") != NULL;
}

/* A registry URL other than the language's default one. */
static int altRegistry(const char *url, const char *const *official) {
    char host[256];
    const char *h = an_url_host(url, host, sizeof(host));
    if (!h || !*h) return 1;
    if (an_is_loopback_host(h)) return 0;
    for (int i = 0; official[i]; i++)
        if (an_ieq(h, official[i])) return 0;
    return 1;
}

static const char *const kPypi[] = {"pypi.org", "pypi.python.org", "files.pythonhosted.org", "download.pytorch.org", NULL};
static const char *const kNpm[] = {"registry.npmjs.org", "registry.yarnpkg.com", "registry.npmjs.com", NULL};
static const char *const kGems[] = {"rubygems.org", "index.rubygems.org", NULL};

static void pipInstall(an_state *s, int idx, const lh_cmd *cmd) {
    int k = lh_first_operand(cmd, 0);
    if (!strcmp(lh_arg(cmd, k), "pip")) k = lh_first_operand(cmd, k);   /* uv pip install */
    if (strcmp(lh_arg(cmd, k), "install") && strcmp(lh_arg(cmd, k), "download") && strcmp(lh_arg(cmd, k), "add"))
        return;
    static const char *const idxOpts[] = {"--index-url", "--extra-index-url", "--find-links", "--index", "--default-index", NULL};
    for (int i = 0; idxOpts[i]; i++) {
        const char *v = an_opt_value(cmd, 0, idxOpts[i]);
        if (v && altRegistry(v, kPypi)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), v); return; }
    }
    const char *v = an_opt_value(cmd, 'i', NULL);
    if (!v) v = an_opt_value(cmd, 'f', NULL);
    if (v && strstr(v, "://") && altRegistry(v, kPypi)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), v); return; }
    int ops[32];
    int n = an_operands(cmd, k + 1, "rcieft", (const char *const[]){"--requirement", "--constraint", "--index-url",
                                                                   "--extra-index-url", "--find-links", "--target",
                                                                   "--prefix", "--root", "--src", "--python", NULL},
                        ops, 32);
    for (int i = 0; i < n; i++) {
        const char *w = cmd->argv[ops[i]].s;
        if (isUrlSpec(w)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), w); return; }
    }
}

/* A local tarball named without ./ (npm install dist/x-1.0.0.tgz) */
static int tarballPath(const char *w) {
    size_t n = strlen(w);
    return !strstr(w, "://") && ((n > 4 && !strcmp(w + n - 4, ".tgz")) || (n > 7 && !strcmp(w + n - 7, ".tar.gz")) ||
                                 (n > 4 && !strcmp(w + n - 4, ".tar")));
}

static void jsInstall(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--registry", "--prefix", "--workspace", "--filter", "--cache", "--tag",
                                     "--userconfig", "--globalconfig", "--cwd", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, "wC", lo, ops, 32);
    if (n < 1) return;
    const char *v = cmd->argv[ops[0]].s;
    const char *reg = an_opt_value(cmd, 0, "--registry");
    if (reg && altRegistry(reg, kNpm)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), reg); return; }
    /* npm config set registry URL, yarn config set npmRegistryServer URL, npm set registry URL */
    if ((!strcmp(v, "config") && n > 3 && !strcmp(cmd->argv[ops[1]].s, "set")) || (!strcmp(v, "set") && n > 2)) {
        int a = !strcmp(v, "set") ? 1 : 2;
        const char *key = cmd->argv[ops[a]].s, *val = cmd->argv[ops[a + 1]].s;
        if ((strstr(key, "registry") || strstr(key, "Registry")) && altRegistry(val, kNpm))
            lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), val);
        return;
    }
    static const char *const inst[] = {"install", "i", "add", "in", "isntall", "update", "up", "upgrade", NULL};
    if (!inList(v, inst)) return;
    for (int i = 1; i < n; i++) {
        const char *w = cmd->argv[ops[i]].s;
        int ghShort = w[0] != '@' && w[0] != '.' && w[0] != '/' && w[0] != '~' && strncmp(w, "file:", 5) &&
                      strncmp(w, "npm:", 4) && strncmp(w, "workspace:", 10) && strchr(w, '/') && !strchr(w, '@') &&
                      !tarballPath(w);
        if (isUrlSpec(w) || ghShort) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), w); return; }
    }
}

static void gemInstall(an_state *s, int idx, const lh_cmd *cmd) {
    if (strcmp(lh_arg(cmd, lh_first_operand(cmd, 0)), "install")) return;
    const char *v = an_opt_value(cmd, 's', "--source");
    if (v && altRegistry(v, kGems)) lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), v);
}

/* go install / go get MODULE@VERSION from a host outside the well-known ones. */
/* go install|get MOD@VERSION, and go run MOD@VERSION (fetched now and run, as npx PKG):
 * a module from a host outside the well-known ones is pkg.untrusted-source. go run's
 * package is its first operand that looks like one; what follows is the program's. */
static void goInstall(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[16];
    int n = an_operands(cmd, 1, "C", NULL, ops, 16);
    if (n < 2) return;
    int run = !strcmp(cmd->argv[ops[0]].s, "run");
    if (!run && strcmp(cmd->argv[ops[0]].s, "install") && strcmp(cmd->argv[ops[0]].s, "get")) return;
    static const char *const hosts[] = {"golang.org", "google.golang.org", "github.com", "gitlab.com",
                                        "bitbucket.org", "go.uber.org", "gopkg.in", "cloud.google.com",
                                        "go.opentelemetry.io", "k8s.io", "sigs.k8s.io", "honnef.co", "mvdan.cc",
                                        "go.etcd.io", "gotest.tools", "gorm.io", "golang.zx2c4.com", "filippo.io",
                                        "connectrpc.com", "buf.build", "entgo.io", "go.mongodb.org", "gvisor.dev",
                                        "modernc.org", "lukechampine.com", "storj.io", "tailscale.com", NULL};
    for (int i = 1; i < n; i++) {
        const char *w = cmd->argv[ops[i]].s;
        size_t wl = strlen(w);
        int pkg = w[0] == '.' || w[0] == '/' || strchr(w, '/') || strchr(w, '@') ||
                  (wl > 3 && !strcmp(w + wl - 3, ".go"));
        if (run && !pkg) continue;   /* a flag's value (-tags netgo) */
        if (run && (!strchr(w, '@') || w[0] == '.' || w[0] == '/')) return;   /* local, or in go.mod */
        if (w[0] == '.' || w[0] == '/' || !strchr(w, '@')) continue;   /* local package, or go.mod's version */
        char host[128];
        size_t l = strcspn(w, "/@");
        if (l >= sizeof(host)) l = sizeof(host) - 1;
        memcpy(host, w, l);
        host[l] = 0;
        if (!strchr(host, '.') && run) return;
        if (!strchr(host, '.')) continue;   /* std or a path in this module */
        if (!inList(host, hosts)) { lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), w); return; }
        if (run) return;   /* the rest are the program's arguments */
    }
}

static void cargoInstall(an_state *s, int idx, const lh_cmd *cmd) {
    if (strcmp(lh_arg(cmd, lh_first_operand(cmd, 0)), "install")) return;
    const char *v = an_opt_value(cmd, 0, "--git");
    if (!v) v = an_opt_value(cmd, 0, "--index");
    if (!v) v = an_opt_value(cmd, 0, "--registry");
    if (v) lh_emit(s->c, idx, LH_RULE(PKG_UNTRUSTED), v);
}

/* ------------------------------------------------------------------------------ */
/* Services exposed to the network                                                 */
/* ------------------------------------------------------------------------------ */

static int anyAddr(const char *v) {
    return !strcmp(v, "0.0.0.0") || !strncmp(v, "0.0.0.0:", 8) || !strcmp(v, "::") || !strcmp(v, "[::]") ||
           !strncmp(v, "[::]:", 5) || !strcmp(v, "*") || !strncmp(v, "tcp://0.0.0.0", 13) ||
           !strncmp(v, "http://0.0.0.0", 14);
}

/* --host/--bind/--listen/--address/--ip/-b VALUE naming every interface, on any program. */
static void bindAll(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--host", "--bind", "--listen", "--address", "--ip", "--hostname",
                                     "--bind-address", "--http-address", "--addr", "--listen-address", NULL};
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        assert(a); /* lh_word.s is never NULL (shell.h) */
        if (a[0] != '-') continue;
        const char *v = NULL;
        if (a[1] == '-') {
            for (int i = 0; lo[i] && !v; i++) {
                size_t l = strlen(lo[i]);
                if (!strncmp(a, lo[i], l) && a[l] == '=') v = a + l + 1;
                else if (!strcmp(a, lo[i]) && k + 1 < cmd->argc) v = cmd->argv[k + 1].s;
            }
        } else if ((!strcmp(a, "-b") || !strcmp(a, "-l") || !strcmp(a, "-H") || !strcmp(a, "-a")) && k + 1 < cmd->argc) {
            v = cmd->argv[k + 1].s;
        }
        if (v && anyAddr(v)) { lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), v); return; }
    }
}

static void pythonServer(an_state *s, int idx, const lh_cmd *cmd) {
    const char *m = an_opt_value(cmd, 'm', NULL);
    if (!m || strcmp(m, "http.server")) return;
    const char *b = an_opt_value(cmd, 'b', "--bind");
    if (!b || !an_is_loopback_host(b) || !strcmp(b, "0.0.0.0")) lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), b ? b : "http.server");
}

static void phpServer(an_state *s, int idx, const lh_cmd *cmd) {
    const char *v = an_opt_value(cmd, 'S', NULL);
    if (v && anyAddr(v)) lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), v);
}

static void redisServer(an_state *s, int idx, const lh_cmd *cmd) {
    const char *v = an_opt_value(cmd, 0, "--protected-mode");
    if (v && !strcmp(v, "no")) lh_emit(s->c, idx, LH_RULE(NET_EXPOSE), "--protected-mode no");
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

typedef struct dentry {
    const char *name;
    an_fn fn;
} dentry;

/* Sorted by name (strcmp order); test_analyzers checks the order. */
static const dentry kData[] = {
    {"7z", sevenZip},          {"7za", sevenZip},       {"apt", forceRemove},    {"apt-get", forceRemove},
    {"azcopy", azcopy},        {"brew", forceRemove},   {"bun", jsInstall},      {"cargo", cargoInstall},
    {"consul", consul},        {"curl", httpWipe},      {"dnf", forceRemove},    {"dpkg", forceRemove},
    {"ed", ed},                {"etcdctl", etcdctl},    {"ex", editor},          {"gem", gemInstall},
    {"go", goInstall},         {"journalctl", journalctl},
    {"kafka-topics", kafkaTopics},                      {"kafka-topics.sh", kafkaTopics},
    {"kill", kill},            {"killall", pkill},      {"mc", mc},              {"nc", rawProtocol},
    {"ncat", rawProtocol},     {"netcat", rawProtocol}, {"npm", jsInstall},      {"nvim", editor},
    {"pacman", forceRemove},   {"php", phpServer},      {"pip", pipInstall},     {"pip3", pipInstall},
    {"pkill", pkill},          {"pnpm", jsInstall},     {"python", pythonServer}, {"python3", pythonServer},
    {"rclone", rclone},        {"redis-server", redisServer},                    {"rpm", forceRemove},
    {"s3cmd", s3cmd},          {"socat", rawProtocol},  {"tar", tarRemove},      {"telnet", rawProtocol},
    {"uv", pipInstall},        {"vault", vault},        {"vi", editor},          {"vim", editor},
    {"yarn", jsInstall},       {"yum", forceRemove},    {"zip", zipMove},        {"zypper", forceRemove},
};
#define NDATA ((int)(sizeof(kData) / sizeof(kData[0])))

int an_data_table_sorted(void) {
    for (int i = 1; i < NDATA; i++)
        if (strcmp(kData[i - 1].name, kData[i].name) >= 0) return 0;
    return 1;
}

void an_data_dispatch(an_state *s, int idx, const lh_cmd *view) {
    const char *p = view->prog;
    int lo = 0, hi = NDATA - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(p, kData[mid].name);
        if (c == 0) { kData[mid].fn(s, idx, view); break; }
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    if (!strncmp(p, "python", 6) && strcmp(p, "python") && strcmp(p, "python3")) pythonServer(s, idx, view);
    bindAll(s, idx, view);
    an_ops_dispatch(s, idx, view);
    an_packs_dispatch(s, idx, view);
}

/* an_send.c — credentials handed to a program that sends files away (evasion round 3).
 *
 * `rclone copy ~/.ssh remote:b`, `s3cmd put ~/.aws/credentials s3://…`, `mutt -a KEY --`,
 * `mail -A KEY`, `mailx -a .env`, `git send-email ~/.ssh/id_rsa`, `gh release upload`,
 * `gh issue create --body-file`, `azcopy copy`, `smbclient -c 'put F'`, `swaks --attach`: the file to send is an
 * operand or an attachment option, not something the command prints into a pipe, so the
 * pipe-following of an_shared.c does not see it. A credential path (or the home
 * directory itself) in that place is exfil.secret-to-network, unless every host the
 * sender names is the machine itself (an_net_secret_used). */
#include <string.h>

#include "engine/an_common.h"

/* Judge word w of cmd as a file the command sends. */
static void sends(an_state *s, int idx, const char *w) {
    if (!*w || !strcmp(w, "-")) return;
    lh_path p;
    lh_path_class cls = an_path(s, idx, w, &p);
    if (cls == LH_PATH_SECRET || (p.flags & LH_PF_IS_HOME)) an_net_secret_used(s, idx, p.norm);
}

/* The same for senders that only ever send away (no loopback form): exfil at once. */
static void sendsAway(an_state *s, int idx, const char *w) {
    if (!*w || !strcmp(w, "-")) return;
    lh_path p;
    if (an_path(s, idx, w, &p) == LH_PATH_SECRET || (p.flags & LH_PF_IS_HOME)) lh_emit(s->c, idx, LH_RULE(EXFIL), p.norm);
}

/* A remote of rclone (NAME:path) or a URL (s3://…), not a local path. */
static int isRemote(const char *a) {
    const char *colon = strchr(a, ':'), *slash = strchr(a, '/');
    return colon && colon > a && (!slash || colon < slash);
}

/* rclone copy|copyto|sync|move|moveto|bisync SRC DST: a local SRC sent to a remote DST. */
static void rclone(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--config", "--include", "--exclude", "--filter", "--transfers",
                                     "--checkers", "--log-file", "--min-age", "--max-age", NULL};
    int ops[4];
    int n = an_operands(cmd, 1, "", lo, ops, 4);
    if (n < 3) return;
    const char *v = cmd->argv[ops[0]].s;
    if (strcmp(v, "copy") && strcmp(v, "copyto") && strcmp(v, "sync") && strcmp(v, "move") &&
        strcmp(v, "moveto") && strcmp(v, "bisync"))
        return;
    const char *src = cmd->argv[ops[1]].s, *dst = cmd->argv[ops[2]].s;
    if (!isRemote(src) && isRemote(dst)) sends(s, idx, src);
}

/* s3cmd put|sync SRC… s3://DST */
static void s3cmd(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[16];
    int n = an_operands(cmd, 1, "c", (const char *const[]){"--config", NULL}, ops, 16);
    if (n < 3 || (strcmp(cmd->argv[ops[0]].s, "put") && strcmp(cmd->argv[ops[0]].s, "sync"))) return;
    if (!isRemote(cmd->argv[ops[n - 1]].s)) return;
    for (int k = 1; k < n - 1; k++) sends(s, idx, cmd->argv[ops[k]].s);
}

/* mutt -a FILE… [--] ADDR; mail/mailx/s-nail -A FILE, -a FILE, --attach[=]FILE. */
static void mailer(an_state *s, int idx, const lh_cmd *cmd) {
    int mutt = !strcmp(cmd->prog, "mutt") || !strcmp(cmd->prog, "neomutt");
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return;
        if (!strncmp(a, "--attach=", 9)) { sends(s, idx, a + 9); continue; }
        if (strcmp(a, "-a") && strcmp(a, "-A") && strcmp(a, "--attach")) continue;
        if (!mutt) {
            if (i + 1 < cmd->argc) sends(s, idx, cmd->argv[++i].s);
            continue;
        }
        while (i + 1 < cmd->argc && cmd->argv[i + 1].s[0] != '-') sends(s, idx, cmd->argv[++i].s);   /* -a F1 F2 -- */
    }
}

/* git send-email [options] FILE…: each file operand is mailed; git -C DIR push (also
 * --git-dir=, --work-tree=) with DIR a credentials directory (~/.ssh, ~/.aws, ~/.gnupg)
 * sends what DIR holds. */
static void sendEmail(an_state *s, int idx, const lh_cmd *cmd) {
    int at = -1;
    const char *dir = NULL;
    for (int i = 1; i < cmd->argc && at < 0; i++) {
        const char *a = cmd->argv[i].s;
        if ((!strcmp(a, "-C") || !strcmp(a, "-c") || !strcmp(a, "--git-dir") || !strcmp(a, "--work-tree")) &&
            i + 1 < cmd->argc) {
            if (a[1] != 'c') dir = cmd->argv[i + 1].s;
            i++;
        } else if (!strncmp(a, "--git-dir=", 10) || !strncmp(a, "--work-tree=", 12)) {
            dir = strchr(a, '=') + 1;
        } else if (a[0] != '-') {
            at = i;
        }
    }
    if (at <= 0) return;
    if (dir && !strcmp(cmd->argv[at].s, "push")) {   /* not the home directory: a dotfiles repository */
        lh_path p;
        if (an_path(s, idx, dir, &p) == LH_PATH_SECRET) lh_emit(s->c, idx, LH_RULE(EXFIL), p.norm);
        return;
    }
    if (strcmp(cmd->argv[at].s, "send-email")) return;
    for (int i = at + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-') {
            /* --to X, --cc X, --from X … take a value when it is not joined with = */
            if (a[1] == '-' && !strchr(a, '=') && i + 1 < cmd->argc &&
                (!strcmp(a, "--to") || !strcmp(a, "--cc") || !strcmp(a, "--bcc") || !strcmp(a, "--from") ||
                 !strcmp(a, "--subject") || !strcmp(a, "--in-reply-to") || !strcmp(a, "--smtp-server")))
                i++;
            continue;
        }
        sendsAway(s, idx, a);
    }
}

/* gh release upload TAG FILE…; gh issue|pr create|comment|edit --body-file F / -F F. */
static void gh(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[8];
    int n = an_operands(cmd, 1, "FRbtRLa", (const char *const[]){"--body-file", "--repo", "--title", "--body", NULL}, ops, 8);
    if (n >= 4 && !strcmp(cmd->argv[ops[0]].s, "release") && !strcmp(cmd->argv[ops[1]].s, "upload"))
        for (int k = 3; k < n; k++) sendsAway(s, idx, cmd->argv[ops[k]].s);
    if (n < 2 || (strcmp(cmd->argv[ops[0]].s, "issue") && strcmp(cmd->argv[ops[0]].s, "pr"))) return;
    const char *f = an_opt_value(cmd, 'F', "--body-file");
    if (f) sendsAway(s, idx, f);
}

/* azcopy copy|sync SRC https://…; smbclient … -c 'put LOCAL [REMOTE]'; swaks --attach [@]F. */
static void azcopy(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[4];
    int n = an_operands(cmd, 1, "", NULL, ops, 4);
    if (n >= 3 && (!strcmp(cmd->argv[ops[0]].s, "copy") || !strcmp(cmd->argv[ops[0]].s, "cp") ||
                   !strcmp(cmd->argv[ops[0]].s, "sync")) &&
        strstr(cmd->argv[ops[2]].s, "://") && !strstr(cmd->argv[ops[1]].s, "://"))
        sendsAway(s, idx, cmd->argv[ops[1]].s);
}

static void smbclient(an_state *s, int idx, const lh_cmd *cmd) {
    const char *c = an_opt_value(cmd, 'c', "--command");
    for (const char *p = c ? strstr(c, "put ") : NULL; p; p = strstr(p + 4, "put ")) {
        char file[512];
        const char *q = p + 4;
        while (*q == ' ') q++;
        size_t n = 0;
        while (q[n] && q[n] != ' ' && q[n] != ';' && n + 1 < sizeof(file)) { file[n] = q[n]; n++; }
        file[n] = 0;
        sends(s, idx, file);
    }
}

static void swaks(an_state *s, int idx, const lh_cmd *cmd) {
    for (int i = 1; i + 1 < cmd->argc; i++)
        if (!strcmp(cmd->argv[i].s, "--attach") || !strcmp(cmd->argv[i].s, "--attach-body")) {
            const char *v = cmd->argv[i + 1].s;
            sendsAway(s, idx, v[0] == '@' ? v + 1 : v);
        }
}

/* rsync --remove-source-files SRC… DST: the sources are deleted once sent. */
static void rsyncMoves(an_state *s, int idx, const lh_cmd *cmd) {
    if (!an_has_word(cmd, 1, "--remove-source-files")) return;
    int ops[16];
    int n = an_operands(cmd, 1, "eBfT", (const char *const[]){"--rsh", "--exclude", "--include", "--filter",
                                                             "--rsync-path", "--temp-dir", NULL},
                        ops, 16);
    for (int k = 0; k + 1 < n; k++)
        if (!isRemote(cmd->argv[ops[k]].s)) an_fs_delete_target(s, idx, cmd->argv[ops[k]].s, 1, 1, 0);
}

void an_send_dispatch(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    switch (p[0]) {   /* the hot path: a switch on the first letters, then exact names */
    case 'r':
        if (p[1] == 'c' && !strcmp(p, "rclone")) rclone(s, idx, cmd);
        else if (p[1] == 's' && !strcmp(p, "rsync")) rsyncMoves(s, idx, cmd);
        break;
    case 's':
        if (p[1] == '3' && !strcmp(p, "s3cmd")) s3cmd(s, idx, cmd);
        else if (p[1] == '-' && !strcmp(p, "s-nail")) mailer(s, idx, cmd);
        else if (p[1] == 'm' && !strcmp(p, "smbclient")) smbclient(s, idx, cmd);
        else if (p[1] == 'w' && !strcmp(p, "swaks")) swaks(s, idx, cmd);
        break;
    case 'm':
        if ((p[1] == 'u' && !strcmp(p, "mutt")) || (p[1] == 'a' && (!strcmp(p, "mail") || !strcmp(p, "mailx"))))
            mailer(s, idx, cmd);
        break;
    case 'n':
        if (p[1] == 'e' ? !strcmp(p, "neomutt") : p[1] == 'a' && !strcmp(p, "nail")) mailer(s, idx, cmd);
        break;
    case 'b': if (p[1] == 's' && !strcmp(p, "bsd-mailx")) mailer(s, idx, cmd); break;
    case 'g':
        if (p[1] == 'i' && p[2] == 't' && !p[3]) sendEmail(s, idx, cmd);
        else if (p[1] == 'h' && !p[2]) gh(s, idx, cmd);
        break;
    case 'a': if (p[1] == 'z' && !strcmp(p, "azcopy")) azcopy(s, idx, cmd); break;
    default: break;
    }
}

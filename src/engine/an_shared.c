/* an_shared.c — the judging helpers that every analyzer family may call.
 *
 * A write to a path, the deletion of a path (and the paths find or an xargs pipeline
 * hands to one), a secret that is read (and maybe sent), Lighthouse's own files, a
 * database framework's wipe task, a deploy script's name: each is judged the same way
 * whichever command does it, so the families (an_fs.c, an_net.c, an_infra.c, an_data.c,
 * …) call these instead of one another. Together with
 * analyze.c (the walk and the word helpers), an_ctx.c (context that makes an everyday
 * call safe) and an_url.c (URL destinations) this is the shared analyzer layer that
 * an_common.h declares. */
#include <string.h>

#include "engine/an_common.h"

/* ------------------------------------------------------------------------------ */
/* Helpers                                                                      */
/* ------------------------------------------------------------------------------ */

/* path equals dir or is under it */
static int under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    return n > 0 && !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

static int endsWith(const char *s, const char *suf) {
    size_t n = strlen(s), l = strlen(suf);
    return n >= l && !strcmp(s + n - l, suf);
}

static int hasComponent(const char *p, const char *name) {
    size_t n = strlen(name);
    for (const char *q = strstr(p, name); q; q = strstr(q + 1, name))
        if ((q == p || q[-1] == '/') && (q[n] == 0 || q[n] == '/')) return 1;
    return 0;
}

static const char *baseOf(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

int an_in_temp_dir(const char *norm) {
    return under(norm, "/tmp") || under(norm, "/var/tmp") || under(norm, "/dev/shm") ||
           under(norm, "/private/tmp") || under(norm, "/var/folders") || under(norm, "/private/var/folders");
}

void an_emit_as(an_state *s, int idx, lh_rule_id r, lh_action act, const char *subject) {
    const lh_rule_info *ri = &lh_rules[r];
    lh_emit_full(s->c, idx, ri->id, act, ri->risk > LH_RISK_MEDIUM && act == LH_ESCALATE ? LH_RISK_MEDIUM : ri->risk,
                 LH_TIER_ANALYSIS, ri->reason, ri->instead, subject);
}

/* "${DIR:?}/cache": the shell stops when DIR is unset or empty, and what goes is a
 * named subdirectory, not the tree the variable points at. */
static int guardedSubpath(const char *t) {
    if (strncmp(t, "${", 2)) return 0;
    const char *close = strchr(t, '}');
    if (!close || close - t < 5 || close[-1] != '?' || close[-2] != ':' || close[1] != '/') return 0;
    const char *rest = close + 2;
    if (!*rest || strpbrk(rest, "*?[$`")) return 0;
    return strcmp(rest, ".") && strcmp(rest, "..") && strncmp(rest, "../", 3);
}

/* ------------------------------------------------------------------------------ */
/* Judging one path: a write, a deletion                                        */
/* ------------------------------------------------------------------------------ */

void an_fs_write_target(an_state *s, int idx, const char *text, int how) {
    lh_path p;
    lh_path_class cls = an_path(s, idx, text, &p);
    if (an_self_guard(s, idx, &p)) return;
    unsigned f = p.flags;
    const char *n = p.norm;
    if (f & (LH_PF_DEV_NULL | LH_PF_NET_DEV)) return;
    lh_ctx *c = s->c;
    if (how == AN_W_WRITE && (strstr(n, "/.claude/settings") || strstr(n, "/.claude/hooks"))) {
        /* the agent's permissions and hooks: Lighthouse itself is installed there */
        lh_emit(c, idx, LH_RULE(FS_AGENT_SETTINGS), n);
        return;
    }
    switch (cls) {
    case LH_PATH_DEVICE:
        lh_emit(c, idx, LH_RULE(FS_WRITE_DEVICE), n);
        return;
    case LH_PATH_VIRTUAL:
        if (!strcmp(n, "/proc/sysrq-trigger")) lh_emit(c, idx, LH_RULE(SYS_SHUTDOWN), n);
        else if (how == AN_W_WRITE) lh_emit(c, idx, LH_RULE(FS_WRITE_KERNEL), n);
        return;
    case LH_PATH_ROOT:
        lh_emit(c, idx, how == AN_W_CREATE ? LH_RULE(FS_WRITE_OUTSIDE) : LH_RULE(FS_WRITE_SYSTEM), n);
        return;
    case LH_PATH_SYSTEM:
        if (how == AN_W_CREATE) { lh_emit(c, idx, LH_RULE(FS_WRITE_OUTSIDE), n); return; }
        if (f & LH_PF_AUTH_DB) {
            int sudo = strstr(n, "sudoers") || strstr(n, "doas");
            lh_emit(c, idx, sudo ? LH_RULE(AUTH_SUDOERS) : LH_RULE(AUTH_PASSWD), n);
        } else if (f & LH_PF_CRON) lh_emit(c, idx, LH_RULE(FS_CRON), n);
        else if (f & LH_PF_SHELL_STARTUP) lh_emit(c, idx, LH_RULE(FS_STARTUP), n);
        else lh_emit(c, idx, LH_RULE(FS_WRITE_SYSTEM), n);
        return;
    case LH_PATH_SECRET:
        if (f & LH_PF_AUTH_KEYS) { lh_emit(c, idx, LH_RULE(FS_AUTH_KEYS), n); return; }
        if (f & LH_PF_AUTH_DB) { lh_emit(c, idx, LH_RULE(AUTH_PASSWD), n); return; }
        if (an_in_temp_dir(n)) return;
        if ((f & LH_PF_IN_PROJECT) || how == AN_W_CREATE) {
            an_emit_as(s, idx, LH_RULE_FS_WRITE_SECRET, LH_ESCALATE, n);
            return;
        }
        lh_emit(c, idx, LH_RULE(FS_WRITE_SECRET), n);
        return;
    case LH_PATH_HOME:
    case LH_PATH_OTHER:
        if ((f & LH_PF_SHELL_STARTUP) && how == AN_W_WRITE) lh_emit(c, idx, LH_RULE(FS_STARTUP), n);
        else if ((f & LH_PF_GIT_HOOKS) && how == AN_W_WRITE) lh_emit(c, idx, LH_RULE(FS_GIT_HOOKS), n);
        else lh_emit(c, idx, LH_RULE(FS_WRITE_OUTSIDE), n);
        return;
    case LH_PATH_PROJECT:
        if (how != AN_W_WRITE) return;
        if (f & LH_PF_GIT_HOOKS) lh_emit(c, idx, LH_RULE(FS_GIT_HOOKS), n);
        else if ((f & LH_PF_GIT_DIR) && endsWith(n, "/.git/config")) lh_emit(c, idx, LH_RULE(FS_GIT_CONFIG), n);
        return;
    default:
        return;   /* temp, or a run-time path: writes there are the agent's business */
    }
}

void an_fs_delete_target(an_state *s, int idx, const char *text, int recursive, int forced,
                         int filtered) {
    if (!*text) return;
    lh_path p;
    lh_path_class cls = an_path(s, idx, text, &p);
    if (an_self_guard(s, idx, &p)) return;
    unsigned f = p.flags;
    const char *n = p.norm;
    lh_ctx *c = s->c;
    int broad = recursive || forced || (f & LH_PF_GLOB);
    switch (cls) {
    case LH_PATH_ROOT:
        lh_emit(c, idx, LH_RULE(RM_ROOT), n);
        return;
    case LH_PATH_SYSTEM:
    case LH_PATH_DEVICE:
    case LH_PATH_VIRTUAL:
        lh_emit(c, idx, LH_RULE(RM_SYSTEM), n);
        return;
    case LH_PATH_SECRET:
        if (an_in_temp_dir(n)) return;
        if (f & LH_PF_IN_PROJECT) an_emit_as(s, idx, LH_RULE_RM_SECRET, LH_ESCALATE, n);
        else lh_emit(c, idx, LH_RULE(RM_SECRET), n);
        return;
    case LH_PATH_HOME:
    case LH_PATH_OTHER:
        /* a filter (find -name …) narrows what goes, but not where: still outside */
        if (f & LH_PF_IS_HOME) lh_emit(c, idx, LH_RULE(RM_HOME), n);
        else if (cls == LH_PATH_HOME && an_ctx_home_cache(c, n)) return;   /* ~/.cache/pip… */
        else if (broad) lh_emit(c, idx, LH_RULE(RM_OUTSIDE), n);
        else lh_emit(c, idx, LH_RULE(RM_FILE_OUTSIDE), n);
        return;
    case LH_PATH_PROJECT:
        if (f & LH_PF_GIT_DIR) {
            const char *g = strstr(n, "/.git");
            const char *after = g ? g + 5 : "";
            if (*after == 0 || under(after, "/objects") || under(after, "/refs") || !strcmp(after, "/*"))
                lh_emit(c, idx, LH_RULE(RM_GIT_DIR), n);
            return;
        }
        if ((f & LH_PF_IS_CWD) && recursive && !filtered) {
            /* the directory itself, "*" (all the work that is not committed yet goes,
             * issue 11), a dot-glob (".*" takes .git) or a run-time name */
            if (f & LH_PF_DYNAMIC) lh_emit(c, idx, LH_RULE(RM_DYNAMIC), n);
            else lh_emit(c, idx, LH_RULE(RM_PROJECT_ROOT), n);
        }
        return;
    case LH_PATH_UNKNOWN:
        if (recursive && !filtered && !guardedSubpath(text)) lh_emit(c, idx, LH_RULE(RM_DYNAMIC), n);
        return;
    default:
        return;
    }
}

/* ------------------------------------------------------------------------------ */
/* Where deletions get their paths                                                 */
/* ------------------------------------------------------------------------------ */

/* find expressions that narrow what matches (so -delete is not "everything"). */
int an_find_has_filter(const lh_cmd *f) {
    static const char *const tests[] = {"-name", "-iname", "-path", "-ipath", "-regex", "-iregex",
                                        "-wholename", "-iwholename", "-mtime", "-mmin", "-atime",
                                        "-amin", "-ctime", "-cmin", "-newer", "-size", "-user",
                                        "-group", "-perm", "-empty", "-links", "-inum", "-lname",
                                        "-ilname", "-samefile", "-uid", "-gid", "-nouser", "-newermt",
                                        NULL};
    for (int i = 1; i < f->argc; i++)
        for (int k = 0; tests[k]; k++)
            if (!strcmp(f->argv[i].s, tests[k])) return 1;
    return 0;
}

/* The starting points of a find command (argv indexes); "." when none. */
int an_find_starts(const lh_cmd *f, int *idx, int max) {
    int i = 1, n = 0;
    while (i < f->argc) {
        const char *a = f->argv[i].s;
        if (!strcmp(a, "-H") || !strcmp(a, "-L") || !strcmp(a, "-P") || !strncmp(a, "-O", 2)) { i++; continue; }
        if (!strcmp(a, "-D")) { i += 2; continue; }
        break;
    }
    for (; i < f->argc && n < max; i++) {
        const char *a = f->argv[i].s;
        if (a[0] == '-' || !strcmp(a, "(") || !strcmp(a, "!") || !strcmp(a, ",")) break;
        idx[n++] = i;
    }
    return n;
}

/* The pipeline stage that feeds the xargs running command idx (directly, or through
 * "xargs -I{} sh -c 'rm -rf {}'"), or NULL. */
const lh_cmd *an_xargs_feeder(an_state *s, int idx) {
    const lh_script *sc = s->c->script;
    int cur = idx;
    for (int hop = 0; hop < 4 && cur >= 0; hop++) {
        const lh_cmd *c = &sc->cmds[cur];
        if (c->origin == LH_ORIGIN_SHELL_C || c->origin == LH_ORIGIN_EVAL) { cur = c->parent; continue; }
        if (c->origin != LH_ORIGIN_XARGS || c->parent < 0) return NULL;
        const lh_cmd *x = &sc->cmds[c->parent];
        if (!(x->flags & LH_C_PIPE_IN)) return NULL;
        for (int j = c->parent - 1; j >= AN_LO(c->parent); j--) {
            const lh_cmd *up = &sc->cmds[j];
            if (up->pipeline == x->pipeline && up->pipe_pos == x->pipe_pos - 1 && up->parent == x->parent)
                return up;
        }
        return NULL;
    }
    return NULL;
}

/* The start paths of a listing stage (find's start dirs, grep -r/rg -l operands, ls,
 * echo's words; "." when it lists the cwd). Returns how many (argv words in out), 0 with
 * *dot set for the cwd, -1 when the stage is not known. *filtered: only some files go. */
int an_feeder_paths(const lh_cmd *up, const char **out, int max, int *dot, int *filtered) {
    *dot = 0;
    *filtered = 0;
    if (!strcmp(up->prog, "find")) {
        int st[16];
        int n = an_find_starts(up, st, max < 16 ? max : 16);
        *filtered = an_find_has_filter(up);
        for (int k = 0; k < n; k++) out[k] = up->argv[st[k]].s;
        *dot = n == 0;
        return n;
    }
    if (!strcmp(up->prog, "echo") || !strcmp(up->prog, "printf") || !strcmp(up->prog, "ls")) {
        int ops[32];
        int n = an_operands(up, 1, "", NULL, ops, max < 32 ? max : 32);
        if (n == 0 && !strcmp(up->prog, "ls")) { out[0] = "*"; return 1; }
        for (int k = 0; k < n; k++) out[k] = up->argv[ops[k]].s;
        return n;
    }
    int grep = !strcmp(up->prog, "grep") || !strcmp(up->prog, "egrep") || !strcmp(up->prog, "fgrep");
    int rg = !strcmp(up->prog, "rg") || !strcmp(up->prog, "ag") || !strcmp(up->prog, "ack");
    if (!strcmp(up->prog, "git") && an_has_word(up, 1, "grep")) { *dot = 1; *filtered = 1; return 0; }
    if (!strcmp(up->prog, "git") && an_has_word(up, 1, "ls-files")) { *dot = 1; *filtered = 1; return 0; }
    if (!grep && !rg) return -1;
    /* only file names are listed: -l (or -L), and grep reads directories with -r */
    if (!lh_has_opt(up, 'l', "--files-with-matches") && !lh_has_opt(up, 'L', "--files-without-match") &&
        !(rg && lh_has_opt(up, 0, "--files")))
        return -1;
    int ops[33];
    int n = an_operands(up, 1, "efmABCdDgtT", (const char *const[]){"--include", "--exclude", "--glob",
                                                                      "--type", "--regexp", "--file", NULL},
                        ops, 33);
    int skip = !lh_has_opt(up, 'e', "--regexp") && !lh_has_opt(up, 'f', "--file") && !lh_has_opt(up, 0, "--files");
    int m = 0;
    for (int k = skip; k < n && m < max; k++) out[m++] = up->argv[ops[k]].s;
    *filtered = 1;
    *dot = m == 0;
    return m;
}

/* Paths an xargs child (rm -rf) receives from the stage before xargs: find's start
 * dirs, ls's operands, echo's words. Returns 1 when they are known. */
int an_fs_stdin_targets(an_state *s, int idx, int recursive, int forced) {
    const lh_cmd *up = an_xargs_feeder(s, idx);
    if (!up) return 0;
    if (strcmp(up->prog, "find") && strcmp(up->prog, "echo") && strcmp(up->prog, "printf") && strcmp(up->prog, "ls"))
        return 0;
    const char *paths[32];
    int dot, filtered;
    int n = an_feeder_paths(up, paths, 32, &dot, &filtered);
    if (n < 0) return 0;
    if (dot) an_fs_delete_target(s, idx, ".", recursive, forced, filtered);
    for (int k = 0; k < n; k++) an_fs_delete_target(s, idx, paths[k], recursive, forced, filtered);
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Lighthouse's own files                                                       */
/* ------------------------------------------------------------------------------ */

int an_self_path(const lh_ctx *c, const lh_path *p) {
    const char *n = p->norm;
    if (!n || !*n) return 0;
    const char *b = baseOf(n);
    if ((!strcmp(b, "lighthouse") || !strcmp(b, "lighthouse-hook")) && p->cls != LH_PATH_PROJECT &&
        p->cls != LH_PATH_TEMP && !(p->flags & LH_PF_IN_PROJECT))
        return 1;
    if (hasComponent(n, "lighthouse-data") || hasComponent(n, "lighthouse-data.checkpoints")) return 1;
    const char *cl = strstr(n, "/.claude/settings");
    if (cl && !strchr(cl + 17, '/')) {
        size_t l = strlen(cl);
        if (l >= 5 && !strcmp(cl + l - 5, ".json")) return 1;
    }
    for (int i = 0; i < c->nself_paths; i++)
        if (under(n, c->self_paths[i])) return 1;
    return 0;
}

int an_self_guard(an_state *s, int idx, const lh_path *p) {
    if (!an_self_path(s->c, p)) return 0;
    lh_emit(s->c, idx, LH_RULE(SELF_TAMPER), p->norm);
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Secrets: read, or sent                                                       */
/* ------------------------------------------------------------------------------ */

/* Is cmd itself something that sends data over the network? */
static int selfSends(const lh_cmd *cmd) {
    static const char *const list[] = {"curl", "wget", "nc", "ncat", "netcat", "socat", "telnet",
                                       "ssh", "scp", "sftp", "rsync", "ftp", "tftp", "lftp", "http",
                                       "https", "xh", "xhs", "mail", "mailx", "sendmail", "mutt",
                                       "rclone", "s3cmd", "smbclient", "curlie", NULL};
    if (inList(cmd->prog, list)) return 1;
    if (!strcmp(cmd->prog, "aws")) return an_has_word(cmd, 1, "s3");
    if (!strcmp(cmd->prog, "gsutil")) return an_has_word(cmd, 1, "cp") || an_has_word(cmd, 1, "rsync");
    return 0;
}

/* Every URL or host word of a sender is local. */
static int allLoopback(const lh_cmd *cmd) {
    char host[256];
    int any = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' || a[0] == '@') continue;
        if (!strstr(a, "://") && !strchr(a, '.') && strcmp(a, "localhost")) continue;
        if (!strstr(a, "://") && (strchr(a, '=') || strchr(a, '/'))) continue;
        any = 1;
        if (!an_is_loopback_host(an_url_host(a, host, sizeof(host)))) return 0;
    }
    return any;
}

/* Skip export/declare parents: "export $(cat .env | xargs)" loads, it does not show. */
static int loadsIntoEnv(an_state *s, int idx) {
    const lh_cmd *c = an_at(s, idx);
    for (int hop = 0; hop < 4; hop++) {
        if (c->origin == LH_ORIGIN_XARGS && c->parent >= 0) {   /* cat .env | xargs */
            c = an_at(s, c->parent);
            continue;
        }
        if (c->flags & LH_C_PIPE_OUT) {
            /* the last stage of the pipeline decides */
            const lh_script *sc = s->c->script;
            const lh_cmd *last = NULL;
            int at = (int)(c - sc->cmds);
            for (int j = AN_LO(at); j < AN_HI(at, sc->ncmds); j++)
                if (sc->cmds[j].pipeline == c->pipeline && sc->cmds[j].parent == c->parent &&
                    sc->cmds[j].pipe_pos == c->pipe_len - 1)
                    last = &sc->cmds[j];
            if (!last || last == c) return 0;
            if (strcmp(last->prog, "xargs")) return 0;
            c = last;
            continue;
        }
        if (c->origin == LH_ORIGIN_CMDSUBST && c->parent >= 0) {
            const char *p = an_at(s, c->parent)->prog;
            return !strcmp(p, "export") || !strcmp(p, "declare") || !strcmp(p, "typeset") ||
                   !strcmp(p, "set") || !strcmp(p, "env");
        }
        return 0;
    }
    return 0;
}

void an_net_secret_used(an_state *s, int idx, const char *subject) {
    const lh_cmd *cmd = an_at(s, idx);
    if (cmd->argc > 0 && selfSends(cmd)) {
        if (!allLoopback(cmd)) { lh_emit(s->c, idx, LH_RULE(EXFIL), subject); return; }
    }
    int lb = 0;
    if (an_flows_to_sender(s, idx, &lb) >= 0 && !lb) {
        lh_emit(s->c, idx, LH_RULE(EXFIL), subject);
        return;
    }
    if (loadsIntoEnv(s, idx)) return;
    lh_emit(s->c, idx, LH_RULE(SECRET_READ), subject);
}

/* ------------------------------------------------------------------------------ */
/* Databases and deploys                                                        */
/* ------------------------------------------------------------------------------ */

/* Framework commands that drop or recreate the database. */
void an_db_framework(an_state *s, int idx, const lh_cmd *cmd) {
    char buf[512];
    size_t o = 0;
    for (int i = 1; i < cmd->argc && o + cmd->argv[i].len + 2 < sizeof(buf); i++) {
        memcpy(buf + o, cmd->argv[i].s, cmd->argv[i].len);
        o += cmd->argv[i].len;
        buf[o++] = ' ';
    }
    buf[o] = 0;
    static const char *const wipes[] = {
        "db:drop", "db:reset", "db:purge", "db:schema:load", "db:migrate:reset", "db:truncate_all",
        "db:seed:replant", "migrate:fresh", "migrate:reset", "migrate:refresh", "db:wipe",
        "ecto.drop", "ecto.reset", "migrate reset", "db push --force-reset", "schema:drop",
        "database drop", "database reset", "db reset", "downgrade base", "migrate:rollback --all",
        "reset_db", "manage.py flush", "django-admin flush", NULL,
    };
    const char *p = cmd->prog;
    int django = strstr(buf, "manage.py") != NULL || !strcmp(p, "django-admin") || !strcmp(p, "manage.py");
    for (int k = 0; wipes[k]; k++) {
        const char *hit = strstr(buf, wipes[k]);
        if (!hit) continue;
        lh_emit(s->c, idx, LH_RULE(DB_RESET), wipes[k]);
        return;
    }
    if (strstr(buf, "--accept-data-loss")) {
        lh_emit_full(s->c, idx, LH_RULE(DB_RESET)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                     "applies a schema change that drops data (--accept-data-loss)", LH_RULE(DB_RESET)->instead,
                     "--accept-data-loss");
        return;
    }
    if (django && (!strncmp(buf, "flush", 5) || strstr(buf, " flush"))) {
        lh_emit(s->c, idx, LH_RULE(DB_RESET), "flush");
        return;
    }
}

int an_is_deploy_name(const char *name) {
    const char *b = strrchr(name, '/');
    b = b ? b + 1 : name;
    return an_istr(b, "deploy") != NULL || an_istr(b, "release") != NULL ||
           (an_istr(b, "publish") != NULL && !an_istr(b, "prepublish") && !an_istr(b, "MavenLocal"));
}

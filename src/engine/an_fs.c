/* an_fs.c — files: deletion (rm, unlink, find -delete, shred), writes (redirections,
 * tee, cp, mv, install, ln, truncate, sed -i, mkdir/touch, archive extraction).
 *
 * Every judgement comes from the class of the path (paths.c): the project and temp
 * dirs are the agent's to change; the home dir, other projects and the rest of the
 * machine are not. What is deleted recursively or forcibly outside them is denied;
 * other writes outside them are escalated; system, device and credential files are
 * never written. That judgement of one path (an_fs_write_target, an_fs_delete_target)
 * lives in the shared layer, an_shared.c, because other families write and delete too;
 * this file finds the paths each command writes or deletes. */
#include <string.h>

#include "engine/an_common.h"

/* ------------------------------------------------------------------------------ */
/* Helpers                                                                         */
/* ------------------------------------------------------------------------------ */

static int endsWith(const char *s, const char *suf) {
    size_t n = strlen(s), l = strlen(suf);
    return n >= l && !strcmp(s + n - l, suf);
}

/* ------------------------------------------------------------------------------ */
/* Deletions                                                                       */
/* ------------------------------------------------------------------------------ */

/* sed -i under xargs: the files come from the stage before xargs (find DIR, grep -rl
 * PAT DIR, rg -l PAT DIR). A script that empties each file ("d", "1,$d") is judged as a
 * deletion of those paths, any other as a write of them. */
static void sedStdinFiles(an_state *s, int idx, int empties) {
    const lh_cmd *up = an_xargs_feeder(s, idx);
    if (!up) return;
    const char *paths[32];
    int dot, filtered;
    int n = an_feeder_paths(up, paths, 32, &dot, &filtered);
    if (n < 0) return;
    if (dot && empties) an_fs_delete_target(s, idx, ".", 1, 1, filtered);
    for (int k = 0; k < n; k++) {
        if (empties) an_fs_delete_target(s, idx, paths[k], 1, 1, filtered);
        else an_fs_write_target(s, idx, paths[k], AN_W_WRITE);
    }
}

/* Does a sed script delete every line ("d", "1,$d", "/.*\/d", "/^/d")? */
static int sedEmpties(const char *sc) {
    char b[16];
    size_t n = 0;
    for (; *sc && n + 1 < sizeof(b); sc++)
        if (*sc != ' ' && *sc != '\t' && *sc != ';') b[n++] = *sc;
    if (*sc) return 0;
    b[n] = 0;
    return !strcmp(b, "d") || !strcmp(b, "1,$d") || !strcmp(b, "/.*/d") || !strcmp(b, "/^/d") ||
           !strcmp(b, "/$/d") || !strcmp(b, "0,$d");
}

void an_fs_rm(an_state *s, int idx, const lh_cmd *cmd) {
    int unlink = !strcmp(cmd->prog, "unlink");
    int rimraf = !strcmp(cmd->prog, "rimraf");   /* the npm package: always rm -rf */
    int recursive = rimraf || (!unlink && (lh_has_opt(cmd, 'r', "--recursive") || lh_has_opt(cmd, 'R', NULL)));
    int forced = rimraf || (!unlink && lh_has_opt(cmd, 'f', "--force"));
    if (an_has_word(cmd, 1, "--no-preserve-root"))
        lh_emit_full(s->c, idx, LH_RULE(RM_ROOT)->id, LH_DENY, LH_RISK_CRITICAL, LH_TIER_ANALYSIS,
                     "rm --no-preserve-root exists only to delete the root directory", LH_RULE(RM_ROOT)->instead, NULL);
    int filtered = 0;
    const lh_cmd *orig = an_at(s, idx);
    if (orig->origin == LH_ORIGIN_FIND_EXEC && orig->parent >= 0)
        filtered = an_find_has_filter(an_at(s, orig->parent));
    int ops[64];
    int n = an_operands(cmd, 1, "", NULL, ops, 64);
    int from_stdin = n == 0 && (orig->flags & LH_C_STDIN_ARGS);
    for (int k = 0; k < n; k++) {
        const char *w = cmd->argv[ops[k]].s;
        if (strstr(w, "{}") && orig->origin != LH_ORIGIN_FIND_EXEC) { from_stdin = 1; continue; }  /* xargs -I{} */
        an_fs_delete_target(s, idx, w, recursive, forced, filtered);
    }
    if (from_stdin && !an_fs_stdin_targets(s, idx, recursive, forced) && recursive)
        lh_emit(s->c, idx, LH_RULE(RM_DYNAMIC), "paths read from stdin");
}

void an_fs_rmdir(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[32];
    int n = an_operands(cmd, 1, "", NULL, ops, 32);
    for (int k = 0; k < n; k++) {
        lh_path p;
        lh_path_class cls = an_path(s, idx, cmd->argv[ops[k]].s, &p);
        if (cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE || (p.flags & LH_PF_IS_HOME))
            lh_emit(s->c, idx, LH_RULE(RM_FILE_OUTSIDE), p.norm);
    }
}

void an_fs_find(an_state *s, int idx, const lh_cmd *cmd) {
    if (!an_has_word(cmd, 1, "-delete")) return;
    int st[16];
    int n = an_find_starts(cmd, st, 16);
    int filtered = an_find_has_filter(cmd);
    if (n == 0) an_fs_delete_target(s, idx, ".", 1, 1, filtered);
    for (int k = 0; k < n; k++) an_fs_delete_target(s, idx, cmd->argv[st[k]].s, 1, 1, filtered);
}

void an_fs_shred(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[32];
    int n = an_operands(cmd, 1, "ns", (const char *const[]){"--iterations", "--size", "--random-source", NULL}, ops, 32);
    for (int k = 0; k < n; k++) {
        lh_path p;
        lh_path_class cls = an_path(s, idx, cmd->argv[ops[k]].s, &p);
        if (cls == LH_PATH_TEMP || (p.flags & LH_PF_DEV_NULL)) continue;
        /* a project file: the user's own (issue 11 part 9); not the project itself */
        if (cls == LH_PATH_PROJECT && !(p.flags & LH_PF_IS_CWD)) continue;
        if (cls == LH_PATH_PROJECT || cls == LH_PATH_UNKNOWN)
            an_emit_as(s, idx, LH_RULE_DISK_SHRED, LH_ESCALATE, p.norm);
        else lh_emit(s->c, idx, LH_RULE(DISK_SHRED), p.norm);
    }
}

/* ------------------------------------------------------------------------------ */
/* Writers                                                                         */
/* ------------------------------------------------------------------------------ */

/* Sources of cp/mv that are credentials: reading them is secret.read. */
static void checkSecretSources(an_state *s, int idx, const lh_cmd *cmd, const int *ops, int n) {
    for (int k = 0; k < n; k++) {
        lh_path p;
        if (an_path(s, idx, cmd->argv[ops[k]].s, &p) == LH_PATH_SECRET && !(p.flags & LH_PF_IN_PROJECT))
            an_net_secret_used(s, idx, p.norm);
    }
}

/* Destination of cp/mv/install/ln: -t DIR, else the last operand. */
static const char *destOf(const lh_cmd *cmd, const int *ops, int *n) {
    const char *t = an_opt_value(cmd, 't', "--target-directory");
    if (t) return t;
    if (*n < 2) return NULL;
    (*n)--;
    return cmd->argv[ops[*n]].s;
}

static const char *const kCpLong[] = {"--target-directory", "--suffix", "--backup", "--reflink",
                                      "--sparse", "--preserve", "--no-preserve", NULL};

void an_fs_cp(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[64];
    int n = an_operands(cmd, 1, "tS", kCpLong, ops, 64);
    const char *dest = destOf(cmd, ops, &n);
    checkSecretSources(s, idx, cmd, ops, n);
    if (dest && !an_ctx_env_copy(s, idx, cmd, ops, n, dest)) an_fs_write_target(s, idx, dest, AN_W_WRITE);
}

/* mv removes its sources from where they were. */
static void judgeMoveSource(an_state *s, int idx, const char *text) {
    lh_path p;
    lh_path_class cls = an_path(s, idx, text, &p);
    if (an_self_guard(s, idx, &p)) return;
    const char *n = p.norm;
    lh_ctx *c = s->c;
    switch (cls) {
    case LH_PATH_ROOT: lh_emit(c, idx, LH_RULE(RM_ROOT), n); break;
    case LH_PATH_SYSTEM:
    case LH_PATH_DEVICE:
        if (p.flags & LH_PF_AUTH_DB) lh_emit(c, idx, LH_RULE(AUTH_PASSWD), n);
        else lh_emit(c, idx, LH_RULE(FS_WRITE_SYSTEM), n);
        break;
    case LH_PATH_VIRTUAL:
        if (!(p.flags & LH_PF_DEV_NULL)) lh_emit(c, idx, LH_RULE(FS_WRITE_SYSTEM), n);
        break;
    case LH_PATH_SECRET:
        if (an_in_temp_dir(n)) break;
        if (p.flags & LH_PF_IN_PROJECT) an_emit_as(s, idx, LH_RULE_FS_WRITE_SECRET, LH_ESCALATE, n);
        else lh_emit(c, idx, LH_RULE(FS_WRITE_SECRET), n);
        break;
    case LH_PATH_HOME:
    case LH_PATH_OTHER:
        if (p.flags & LH_PF_IS_HOME) lh_emit(c, idx, LH_RULE(RM_HOME), n);
        else if (p.flags & LH_PF_SHELL_STARTUP) lh_emit(c, idx, LH_RULE(FS_STARTUP), n);
        else lh_emit(c, idx, LH_RULE(RM_FILE_OUTSIDE), n);
        break;
    case LH_PATH_PROJECT:
        if ((p.flags & LH_PF_GIT_DIR) && endsWith(n, "/.git")) an_emit_as(s, idx, LH_RULE_RM_GIT_DIR, LH_ESCALATE, n);
        else if (p.flags & LH_PF_IS_CWD) an_emit_as(s, idx, LH_RULE_RM_PROJECT_ROOT, LH_ESCALATE, n);
        break;
    default: break;
    }
}

void an_fs_mv(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[64];
    int n = an_operands(cmd, 1, "tS", kCpLong, ops, 64);
    const char *dest = destOf(cmd, ops, &n);
    for (int k = 0; k < n; k++) judgeMoveSource(s, idx, cmd->argv[ops[k]].s);
    if (dest) an_fs_write_target(s, idx, dest, AN_W_WRITE);
}

void an_fs_ln(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[32];
    int n = an_operands(cmd, 1, "tS", kCpLong, ops, 32);
    const char *dest = destOf(cmd, ops, &n);
    if (!lh_has_opt(cmd, 's', "--symbolic")) checkSecretSources(s, idx, cmd, ops, n);   /* a hard link is a copy */
    if (dest) an_fs_write_target(s, idx, dest, AN_W_WRITE);
}

void an_fs_install(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--mode", "--owner", "--group", "--target-directory",
                                     "--suffix", "--strip-program", "--context", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, "mogtS", lo, ops, 32);
    if (lh_has_opt(cmd, 'd', "--directory")) {
        for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_CREATE);
        return;
    }
    const char *dest = destOf(cmd, ops, &n);
    checkSecretSources(s, idx, cmd, ops, n);
    if (dest) an_fs_write_target(s, idx, dest, AN_W_WRITE);
    const char *mode = an_opt_value(cmd, 'm', "--mode");   /* install -m 4755 /bin/sh /tmp/x */
    if (dest && mode && an_sys_mode_setuid(mode)) lh_emit(s->c, idx, LH_RULE(PERM_SETUID), dest);
}

void an_fs_tee(an_state *s, int idx, const lh_cmd *cmd) {
    int ops[32];
    int n = an_operands(cmd, 1, "", NULL, ops, 32);
    for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_WRITE);
}

void an_fs_truncate(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--size", "--reference", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, "sr", lo, ops, 32);
    for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_WRITE);
}

void an_fs_create(an_state *s, int idx, const lh_cmd *cmd) {
    static const char *const lo[] = {"--mode", "--context", "--date", "--reference", NULL};
    int ops[32];
    int n = an_operands(cmd, 1, !strcmp(cmd->prog, "touch") ? "drt" : "mZ", lo, ops, 32);
    for (int k = 0; k < n; k++) an_fs_write_target(s, idx, cmd->argv[ops[k]].s, AN_W_CREATE);
}

/* sed -i (and -i.bak, -Ei, --in-place): the files are rewritten in place; without -i
 * they are only read. */
void an_fs_sed(an_state *s, int idx, const lh_cmd *cmd) {
    int inplace = 0, script_given = 0;
    int files[32], nf = 0, first = 1;
    const char *script = NULL;
    for (int i = 1; i < cmd->argc && nf < 32; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1] && a[1] != '-') {
            const char *o = a + 1;
            for (; *o; o++) {
                if (*o == 'i') { inplace = 1; break; }          /* the rest is a suffix */
                if (*o == 'e' || *o == 'f' || *o == 'l') {
                    if (*o == 'e') script = o[1] ? o + 1 : (i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL);
                    if (*o != 'l') script_given = 1;
                    if (o[1] == 0) i++;
                    break;
                }
            }
            if (!strcmp(a, "-i") && i + 1 < cmd->argc && cmd->argv[i + 1].len == 0) i++;  /* BSD sed -i '' */
            continue;
        }
        if (a[0] == '-' && a[1] == '-') {
            if (!strncmp(a, "--in-place", 10)) inplace = 1;
            if (!strncmp(a, "--expression", 12) || !strncmp(a, "--file", 6)) {
                script_given = 1;
                if (!strchr(a, '=')) i++;
            }
            continue;
        }
        if (first && !script_given) { first = 0; script = a; continue; }   /* the script */
        first = 0;
        files[nf++] = i;
    }
    if (inplace && nf == 0 && (an_at(s, idx)->flags & LH_C_STDIN_ARGS))
        sedStdinFiles(s, idx, script && sedEmpties(script));
    for (int k = 0; k < nf; k++) {
        const char *w = cmd->argv[files[k]].s;
        if (inplace) {
            an_fs_write_target(s, idx, w, AN_W_WRITE);
        } else {
            lh_path p;
            if (an_path(s, idx, w, &p) == LH_PATH_SECRET) an_net_secret_used(s, idx, p.norm);
        }
    }
}

/* tar -x / unzip / 7z x write into a directory (-C, -d, -o; default the cwd); tar -c
 * reads its operands. */
void an_fs_extract(an_state *s, int idx, const lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (!strcmp(p, "unzip")) {
        const char *d = an_opt_value(cmd, 'd', NULL);
        if (d) an_fs_write_target(s, idx, d, AN_W_WRITE);
        return;
    }
    if (!strcmp(p, "7z")) {
        for (int i = 1; i < cmd->argc; i++)
            if (!strncmp(cmd->argv[i].s, "-o", 2) && cmd->argv[i].s[2])
                an_fs_write_target(s, idx, cmd->argv[i].s + 2, AN_W_WRITE);
        return;
    }
    /* tar: the mode is in the first word ("xzf", "-xzf") or a long option */
    int extract = 0, create = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--extract") || !strcmp(a, "--get")) extract = 1;
        else if (!strcmp(a, "--create") || !strcmp(a, "--append")) create = 1;
        else if ((a[0] == '-' && a[1] != '-') || i == 1) {
            if (i == 1 || a[0] == '-') {
                if (strchr(a, 'x')) extract = 1;
                if (strchr(a, 'c') || strchr(a, 'r')) create = 1;
            }
        }
    }
    if (extract) {
        const char *d = an_opt_value(cmd, 'C', "--directory");
        if (d) an_fs_write_target(s, idx, d, AN_W_WRITE);
        return;
    }
    if (create) {
        static const char *const lo[] = {"--file", "--directory", "--exclude", "--files-from",
                                         "--exclude-from", "--transform", "--owner", "--group",
                                         "--mode", "--use-compress-program", NULL};
        int ops[32];
        int n = an_operands(cmd, 2, "fCbTXgKNVFLI", lo, ops, 32);
        checkSecretSources(s, idx, cmd, ops, n);
        /* the archive written: -f F, -cfF, --file[=]F, or old style `tar cf F …` */
        const char *f = NULL;
        for (int i = 1; i < cmd->argc && !f; i++) {
            const char *a = cmd->argv[i].s, *fp = a[0] == '-' && a[1] != '-' ? strchr(a, 'f') : NULL;
            if (fp) f = fp[1] ? fp + 1 : (i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL);
            else if (!strncmp(a, "--file=", 7)) f = a + 7;
            else if (!strcmp(a, "--file") && i + 1 < cmd->argc) f = cmd->argv[i + 1].s;
            else if (i == 1 && a[0] != '-' && strchr(a, 'f') && cmd->argc > 2) f = cmd->argv[2].s;
        }
        if (f && strcmp(f, "-")) an_fs_write_target(s, idx, f, AN_W_WRITE);
    }
}

/* ------------------------------------------------------------------------------ */
/* Redirections and dynamic programs                                               */
/* ------------------------------------------------------------------------------ */

void an_fs_redirs(an_state *s, int idx, const lh_cmd *cmd) {
    for (int r = 0; r < cmd->nredirs; r++) {
        const lh_redir *rd = &cmd->redirs[r];
        int writes = lh_redir_writes_file(rd);
        if (!writes && rd->op != LH_R_IN) continue;
        const char *t = rd->target.s;
        if (!t || !*t) continue;
        if (!strncmp(t, "/dev/tcp/", 9) || !strncmp(t, "/dev/udp/", 9)) {
            /* a shell wired to a socket is a reverse shell */
            const char *p = cmd->prog;
            if (cmd->argc > 0 && (an_is_shell(p) || an_is_interp(p)))
                lh_emit(s->c, idx, LH_RULE(NET_REVERSE_SHELL), t);
            continue;
        }
        if (writes && !an_ctx_env_redirect(s, idx, cmd, rd)) an_fs_write_target(s, idx, t, AN_W_WRITE);
    }
}

/* A command word known only at run time with rm-like options: when the operands
 * are /, a system dir or the home dir, treat it as the rm it probably is. */
void an_fs_dynamic(an_state *s, int idx, const lh_cmd *cmd) {
    int recursive = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1] != '-' && (strchr(a, 'r') || strchr(a, 'R'))) recursive = 1;
        if (!strcmp(a, "--recursive") || !strcmp(a, "--no-preserve-root")) recursive = 1;
    }
    if (!recursive) return;
    int ops[32];
    int n = an_operands(cmd, 1, "", NULL, ops, 32);
    for (int k = 0; k < n; k++) {
        lh_path p;
        lh_path_class cls = an_path(s, idx, cmd->argv[ops[k]].s, &p);
        if (cls == LH_PATH_ROOT || cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE ||
            cls == LH_PATH_SECRET || (p.flags & LH_PF_IS_HOME))
            an_fs_delete_target(s, idx, cmd->argv[ops[k]].s, 1, 1, 0);
    }
}

/* feeds.c — code that reaches a program by a side door; see feeds.h. */
#include "engine/feeds.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/paths.h"
#include "engine/runners.h"
#include "engine/unwrap.h"
#include "engine/wrappers.h"

#define FEED_MAX_TEXT (64u << 10)   /* printf output past this is not followed */

static lh_cmd *cmdAt(lh_ctx *c, int k) { return &c->script->cmds[k]; }

static int isStdinPath(const char *a) {
    return !strcmp(a, "-") || !strcmp(a, "/dev/stdin") || !strcmp(a, "/dev/fd/0") ||
           !strcmp(a, "/proc/self/fd/0");
}

static void child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text,
                  size_t len, lh_origin origin) {
    if (text && len) lh_unwrap_parse_child(c, lim, k, argi, text, len, origin);
}

static void childStr(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text) {
    if (text) child(c, lim, k, argi, text, strlen(text), LH_ORIGIN_EVAL);
}

/* Single-quote s for re-parsing as one word, in the arena. */
static char *quoted(lh_ctx *c, const char *s) {
    size_t n = strlen(s);
    char *q = lh_arena_alloc(c->arena, n * 4 + 3);
    if (!q) { c->oom = 1; return NULL; }
    size_t o = 0;
    q[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') { memcpy(q + o, "'\\''", 4); o += 4; }
        else q[o++] = *s;
    }
    q[o++] = '\'';
    q[o] = 0;
    return q;
}

/* ------------------------------------------------------------------------------ */
/* What a command prints                                                          */
/* ------------------------------------------------------------------------------ */

static const char *printed(lh_ctx *c, int j, size_t *len);
#define checkPreload lh_feed_check_preload   /* feeds_env.c */

/* The last stage of the first pipeline of the process substitution (origin) that sits
 * in word argi of command k (-1: a redirection or an assignment), or -1. A child's
 * parent_arg counts words from before any wrapper was stripped (sudo bash <(…)), so for
 * an unwrapped command the substitution is found by its rank from the last word. */
static int substAt(lh_ctx *c, int k, int argi, lh_origin origin) {
    const lh_script *s = c->script;
    const lh_cmd *cmd = &s->cmds[k];
    int want = argi;
    if (argi >= 0 && (cmd->flags & LH_C_UNWRAPPED)) {
        int m = 0, vals[16], nv = 0;
        for (int i = argi; i < cmd->argc; i++) m += (cmd->argv[i].flags & LH_W_PROCSUBST) != 0;
        for (int j = k + 1; j < s->ncmds && nv < 16; j++) {
            const lh_cmd *q = &s->cmds[j];
            if (q->parent != k || q->parent_arg < 0 || (q->origin != LH_ORIGIN_PROCSUBST_IN &&
                                                        q->origin != LH_ORIGIN_PROCSUBST_OUT))
                continue;
            if (nv == 0 || vals[nv - 1] != q->parent_arg) vals[nv++] = q->parent_arg;
        }
        if (m == 0 || m > nv) return -1;
        want = vals[nv - m];
    }
    for (int j = k + 1; j < s->ncmds; j++) {
        const lh_cmd *q = &s->cmds[j];
        if (q->parent == k && q->origin == origin && q->parent_arg == want &&
            q->pipe_pos == q->pipe_len - 1)
            return j;
    }
    return -1;
}

/* Is command j a download (its output is code no one read)? */
static int downloads(const lh_cmd *q) {
    const char *p = q->prog;
    return !strcmp(p, "curl") || !strcmp(p, "wget") || !strcmp(p, "fetch") || !strcmp(p, "http") ||
           !strcmp(p, "https") || !strcmp(p, "xh") || !strcmp(p, "aria2c") || !strcmp(p, "lynx");
}

/* acc (*n bytes), a newline and t (l bytes) as one text in the arena; *n is its length.
 * NULL when out of memory (c->oom set). */
static const char *joinLines(lh_ctx *c, const char *acc, size_t *n, const char *t, size_t l) {
    char *m = lh_arena_alloc(c->arena, *n + l + 2);
    if (!m) { c->oom = 1; return NULL; }
    memcpy(m, acc, *n);
    m[*n] = '\n';
    memcpy(m + *n + 1, t, l);
    m[*n + 1 + l] = 0;
    *n += l + 1;
    return m;
}

/* Everything the process substitution (origin) in word argi of k prints, each command's
 * output after the last (`<(echo a; echo b)`), or NULL when none can be read. Sets
 * *dl when one of its commands is a download. */
static const char *substText(lh_ctx *c, int k, int argi, lh_origin origin, size_t *len, int *dl) {
    int first = substAt(c, k, argi, origin);
    if (first < 0) return NULL;
    const lh_cmd *f = cmdAt(c, first);
    int want = f->parent_arg;
    const char *acc = NULL;
    size_t n = 0;
    for (int j = first; j < c->script->ncmds; j++) {
        const lh_cmd *q = cmdAt(c, j);
        if (q->parent != k || q->origin != origin || q->parent_arg != want) continue;
        if (dl && downloads(q)) *dl = 1;
        if (q->pipe_pos != q->pipe_len - 1) continue;
        size_t l = 0;
        const char *t = printed(c, j, &l);
        if (!t) continue;
        if (!acc) { acc = t; n = l; continue; }
        if (!(acc = joinLines(c, acc, &n, t, l))) return NULL;
    }
    *len = n;
    return acc;
}

/* The substitution in word argi of k read as code (a script, a makefile, BASH_ENV): its
 * text, and net.pipe-to-shell when one of its commands is a download. */
static const char *substCode(lh_ctx *c, int k, int argi, size_t *len) {
    int dl = 0;
    const char *t = substText(c, k, argi, LH_ORIGIN_PROCSUBST_IN, len, &dl);
    if (dl) lh_emit(c, k, LH_RULE(NET_PIPE_SHELL), "<(…)");
    return t;
}

/* printf FORMAT ARGS… as printf fills it: the format is reused while arguments remain. */
static const char *fillPrintf(lh_ctx *c, const lh_cmd *cmd, int from, size_t *len) {
    if (from >= cmd->argc) return NULL;
    const char *fmt = cmd->argv[from].s;
    size_t cap = cmd->argv[from].len + 1;
    int nargs = cmd->argc - from - 1;
    for (int a = from + 1; a < cmd->argc; a++) cap += cmd->argv[a].len + cmd->argv[from].len + 1;
    if (cap > FEED_MAX_TEXT) return NULL;
    char *out = lh_arena_alloc(c->arena, cap + 1);
    if (!out) { c->oom = 1; return NULL; }
    size_t o = 0;
    int next = 0;
    do {
        int used = 0;
        for (const char *f = fmt; *f && o < cap; f++) {
            if (*f == '\\' && f[1]) {
                f++;
                if (*f == 'n') out[o++] = '\n';
                else if (*f == 't') out[o++] = '\t';
                else if (*f == '\\') out[o++] = '\\';
                else if (o + 1 < cap) { out[o++] = '\\'; out[o++] = *f; }   /* \r … as written */
                continue;
            }
            if (*f != '%') { out[o++] = *f; continue; }
            if (f[1] == '%') { out[o++] = '%'; f++; continue; }
            f++;
            while (*f && strchr("-+ #0123456789.", *f)) f++;
            if (!*f) break;
            used = 1;
            const char *arg = next < nargs ? cmd->argv[from + 1 + next].s : "";
            next++;
            for (; *arg && o < cap; arg++) out[o++] = *arg;
        }
        if (!used) break;
    } while (next < nargs);
    out[o] = 0;
    *len = o;
    return out;
}

/* A filter that prints its input (cat, tee, head, tail with no file, or -): its stdin,
 * or the process substitution it reads. */
static const char *passedOn(lh_ctx *c, int j, size_t *len) {
    const lh_cmd *cmd = cmdAt(c, j);
    const char *p = cmd->prog;
    int tee = !strcmp(p, "tee");
    if (!tee && strcmp(p, "cat") && strcmp(p, "head") && strcmp(p, "tail") && strcmp(p, "sort") &&
        strcmp(p, "uniq") && strcmp(p, "tac"))
        return NULL;
    const char *acc = NULL;
    size_t n = 0;
    int ops = 0;
    for (int i = 1; i < cmd->argc && !tee; i++) {
        const char *a = cmd->argv[i].s;
        if ((!strcmp(a, "-n") || !strcmp(a, "-c")) && strcmp(p, "cat")) { i++; continue; }
        if (a[0] == '-' && a[1]) continue;
        size_t l = 0;
        const char *t;
        if (isStdinPath(a)) t = lh_stdin_text(c, j, &l);
        else if (cmd->argv[i].flags & LH_W_PROCSUBST) t = substText(c, j, i, LH_ORIGIN_PROCSUBST_IN, &l, NULL);
        else return NULL;   /* a file */
        ops++;
        if (!t) continue;
        if (!acc) { acc = t; n = l; continue; }
        if (!(acc = joinLines(c, acc, &n, t, l))) return NULL;
    }
    if (ops) { *len = n; return acc; }
    return lh_stdin_text(c, j, len);
}

/* The text command j prints when the call gives it literally, or NULL. */
static const char *printed(lh_ctx *c, int j, size_t *len) {
    if (j < 0 || !lh_step(c, 1)) return NULL;
    const lh_cmd *cmd = cmdAt(c, j);
    if (cmd->argc == 0) return NULL;
    if (!strcmp(cmd->prog, "printf")) {
        int from = 1;
        if (from < cmd->argc && !strcmp(cmd->argv[from].s, "--")) from++;
        return fillPrintf(c, cmd, from, len);
    }
    if (!strcmp(cmd->prog, "yes") && cmd->argc > 1) {   /* yes WORDS prints them, again and again */
        size_t l = 0;
        for (int a = 1; a < cmd->argc; a++) l += cmd->argv[a].len + 1;
        char *t = lh_arena_alloc(c->arena, l + 1);
        if (!t) { c->oom = 1; return NULL; }
        size_t o = 0;
        for (int a = 1; a < cmd->argc; a++) {
            memcpy(t + o, cmd->argv[a].s, cmd->argv[a].len);
            o += cmd->argv[a].len;
            t[o++] = a + 1 < cmd->argc ? ' ' : '\n';
        }
        t[o] = 0;
        *len = o;
        return t;
    }
    if (!strcmp(cmd->prog, "echo")) {
        int from = 1, esc = 0;
        while (from < cmd->argc && cmd->argv[from].s[0] == '-' && cmd->argv[from].s[1] &&
               strspn(cmd->argv[from].s + 1, "neE") == strlen(cmd->argv[from].s + 1))
            esc |= strchr(cmd->argv[from++].s, 'e') != NULL;
        size_t n = 0;
        for (int a = from; a < cmd->argc; a++) n += cmd->argv[a].len + 1;
        char *t = lh_arena_alloc(c->arena, n + 1);
        if (!t) { c->oom = 1; return NULL; }
        size_t o = 0;
        for (int a = from; a < cmd->argc; a++) {
            const char *w = cmd->argv[a].s;
            for (size_t q = 0; q < cmd->argv[a].len; q++) {
                if (w[q] == '\\' && w[q + 1] == 'n') { t[o++] = '\n'; q++; }
                else if (w[q] == '\\' && w[q + 1] == 't' && esc) { t[o++] = '\t'; q++; }
                else t[o++] = w[q];
            }
            if (a + 1 < cmd->argc) t[o++] = ' ';
        }
        t[o] = 0;
        *len = o;
        return t;
    }
    return passedOn(c, j, len);
}

const char *lh_feed_stdin(lh_ctx *c, int k, size_t *len) {
    const lh_cmd *cmd = cmdAt(c, k);
    /* cmd < <(…) */
    for (int r = 0; r < cmd->nredirs; r++)
        if (cmd->redirs[r].op == LH_R_IN && cmd->redirs[r].fd <= 0 &&
            (cmd->redirs[r].target.flags & LH_W_PROCSUBST)) {
            return substText(c, k, -1, LH_ORIGIN_PROCSUBST_IN, len, NULL);
        }
    /* >(cmd): it reads what its parent prints */
    if (cmd->origin == LH_ORIGIN_PROCSUBST_OUT && cmd->parent >= 0 && cmd->pipe_pos == 0)
        return printed(c, cmd->parent, len);
    /* xargs … sh -c: the input becomes the script argument */
    if (cmd->origin == LH_ORIGIN_XARGS && cmd->parent >= 0 && cmd->argc >= 2 && lh_is_shell(cmd->prog) &&
        !strcmp(cmd->argv[cmd->argc - 1].s, "-c") && lh_step(c, 1))
        return lh_stdin_text(c, cmd->parent, len);
    if (!(cmd->flags & LH_C_PIPE_IN)) {
        /* `script -qc sh`, `su -c bash`, `sh -c 'bash'`: a command a runner starts reads the
         * runner's stdin */
        if (cmd->parent >= 0 && cmd->pipe_pos == 0 && cmd->nredirs == 0 &&
            (cmd->origin == LH_ORIGIN_SHELL_C || cmd->origin == LH_ORIGIN_WRAPPED) && lh_step(c, 1))
            return lh_stdin_text(c, cmd->parent, len);
        return NULL;
    }
    for (int j = k - 1; j >= 0; j--) {
        const lh_cmd *prev = cmdAt(c, j);
        if (prev->pipeline != cmd->pipeline || prev->pipe_pos != cmd->pipe_pos - 1 ||
            prev->parent != cmd->parent)
            continue;
        if (!strcmp(prev->prog, "printf")) return printed(c, j, len);
        if (!strcmp(prev->prog, "cat") && lh_first_operand(prev, 0) < 0) {
            for (int r = 0; r < prev->nredirs; r++)   /* cat <<EOF | sh: unwrap.c */
                if (prev->redirs[r].op == LH_R_HEREDOC || prev->redirs[r].op == LH_R_HERESTR) return NULL;
            return lh_stdin_text(c, j, len);            /* … | cat | sh */
        }
        return printed(c, j, len);   /* echo, printf, yes, tee, head … (cat <<EOF | sh: unwrap.c) */
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* make                                                                            */
/* ------------------------------------------------------------------------------ */

/* Makefile text (make -f -, --eval): judged as a makefile written with Write is (an_content.c:
 * recipes, `target: ; recipe`, `$(shell CMD)`, `NAME != CMD`), each command a child of k. */
static void makeRecipes(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text,
                        size_t len) {
    size_t n = 0;
    const char *t = lh_content_commands(c, "Makefile", LH_TOOL_WRITE, text, len, &n);
    if (!t) return;
    for (const char *u = t, *end = t + n; u < end;) {
        const char *ue = memchr(u, LH_CONTENT_UNIT[0], (size_t)(end - u));
        if (!ue) ue = end;
        child(c, lim, k, argi, u, (size_t)(ue - u), LH_ORIGIN_EVAL);
        u = ue + 1;
    }
}

static void expandMake(lh_ctx *c, const lh_shell_limits *lim, int k) {
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const lh_cmd *cmd = cmdAt(c, k);
        const char *a = cmd->argv[i].s;
        int vi = -1;
        const char *v = NULL;
        if (!strcmp(a, "--eval") || !strcmp(a, "-E")) {
            if (i + 1 < cmd->argc) { vi = i + 1; v = cmd->argv[vi].s; }
        } else if (!strncmp(a, "--eval=", 7)) {
            vi = i; v = a + 7;
        }
        if (v) {
            /* --eval text is makefile syntax: a rule's recipe after `;` or a tab */
            makeRecipes(c, lim, k, vi, v, strlen(v));
            i = vi;
            continue;
        }
        /* -f F, -sf F (a cluster of flags ending in f), -fF, --file F, --file=F */
        size_t fl = a[0] == '-' && a[1] != '-' ? strspn(a + 1, "bBeiknqrRsStvwW") : 0;
        const char *f = NULL;
        if (!strcmp(a, "--file") || !strcmp(a, "--makefile") || (a[0] == '-' && a[1 + fl] == 'f' && !a[2 + fl])) {
            if (i + 1 < cmd->argc) { vi = i + 1; f = cmd->argv[vi].s; }
        } else if (!strncmp(a, "--file=", 7) || !strncmp(a, "--makefile=", 11)) {
            vi = i; f = strchr(a, '=') + 1;
        } else if (a[0] == '-' && a[1 + fl] == 'f' && a[2 + fl]) {
            vi = i; f = a + 2 + fl;
        }
        if (vi < 0) continue;
        size_t len = 0;
        const char *text = NULL;
        if (cmd->argv[vi].flags & LH_W_PROCSUBST) text = substCode(c, k, vi, &len);
        else if (isStdinPath(f)) text = lh_stdin_text(c, k, &len);
        if (text) makeRecipes(c, lim, k, vi, text, len);
        i = vi;
    }
}

/* ------------------------------------------------------------------------------ */
/* Commands given as options                                                       */
/* ------------------------------------------------------------------------------ */

/* less +CMD: a `!` command runs in a shell. */
static void expandLess(lh_ctx *c, const lh_shell_limits *lim, int k) {
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const char *a = cmdAt(c, k)->argv[i].s;
        if (a[0] != '+') continue;
        const char *bang = strchr(a, '!');   /* +G!cmd: the keys run in order */
        if (bang) childStr(c, lim, k, i, bang + 1);
    }
}

/* man -P CMD / --pager=CMD; fc -e CMD. */
static void expandOptCommand(lh_ctx *c, const lh_shell_limits *lim, int k, char so, const char *lo) {
    size_t ll = lo ? strlen(lo) : 0;
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const lh_cmd *cmd = cmdAt(c, k);
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1] == so && !a[2] && i + 1 < cmd->argc) {
            if (strcmp(cmd->argv[i + 1].s, "-")) childStr(c, lim, k, i + 1, cmd->argv[i + 1].s);
            i++;
        } else if (a[0] == '-' && a[1] == so && a[2]) {
            childStr(c, lim, k, i, a + 2);
        } else if (lo && !strncmp(a, lo, ll) && a[ll] == '=') {
            childStr(c, lim, k, i, a + ll + 1);
        } else if (lo && !strcmp(a, lo) && i + 1 < cmd->argc) {
            childStr(c, lim, k, i + 1, cmd->argv[i + 1].s);
            i++;
        }
    }
}

/* git --upload-pack/-u/--receive-pack/--exec CMD and git grep -O[CMD]: the command git
 * runs for the other side, or as the pager of the matches. */
static void expandGitCommands(lh_ctx *c, const lh_shell_limits *lim, int k) {
    static const char *const lo[] = {"--upload-pack", "--receive-pack", "--exec", NULL};
    int grep = 0, clone = 0;
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const lh_cmd *cmd = cmdAt(c, k);
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "grep")) grep = 1;
        if (!strncmp(a, "ext::", 5)) {
            /* the ext transport runs its URL as argv: blanks part words, `% ` is a blank
             * inside one, `%%` a percent sign */
            size_t n = strlen(a);
            char *t = lh_arena_alloc(c->arena, n * 4 + 8);
            if (!t) { c->oom = 1; return; }
            size_t o = 0;
            int open = 0;
            for (const char *q = a + 5; *q; q++) {
                if (*q == ' ') { if (open) { t[o++] = '\''; open = 0; } t[o++] = ' '; continue; }
                if (!open) { t[o++] = '\''; open = 1; }
                if (q[0] == '%' && (q[1] == ' ' || q[1] == '%')) q++;
                if (*q == '\'') { memcpy(t + o, "'\\''", 4); o += 4; }
                else t[o++] = *q;
            }
            if (open) t[o++] = '\'';
            t[o] = 0;
            childStr(c, lim, k, i, t);
            continue;
        }
        if (grep && !strncmp(a, "-O", 2) && a[2]) { childStr(c, lim, k, i, a + 2); continue; }
        if (grep && !strncmp(a, "--open-files-in-pager=", 22)) { childStr(c, lim, k, i, a + 22); continue; }
        if (!strcmp(a, "-u") && i + 1 < cmd->argc) { childStr(c, lim, k, i + 1, cmd->argv[i + 1].s); i++; continue; }
        if (clone && ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < cmd->argc)) {
            /* clone -c KEY=VALUE sets the new repository's config: judged as git -c */
            char *q = quoted(c, cmd->argv[i + 1].s);
            if (q) childStr(c, lim, k, i + 1, lh_arena_printf(c->arena, "git -c %s status", q));
            i++;
            continue;
        }
        if (clone && !strncmp(a, "--config=", 9)) {
            char *q = quoted(c, a + 9);
            if (q) childStr(c, lim, k, i, lh_arena_printf(c->arena, "git -c %s status", q));
            continue;
        }
        if (!strcmp(a, "clone")) clone = 1;
        for (int j = 0; lo[j]; j++) {
            size_t n = strlen(lo[j]);
            if (strncmp(a, lo[j], n)) continue;
            if (a[n] == '=') childStr(c, lim, k, i, a + n + 1);
            else if (!a[n] && i + 1 < cmd->argc) { childStr(c, lim, k, i + 1, cmd->argv[i + 1].s); i++; }
            break;
        }
    }
}

/* cmake -E rm|remove|remove_directory|env|chdir|time …: the tool mode runs these. */
static void expandCmake(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    if (cmd->argc < 3 || strcmp(cmd->argv[1].s, "-E")) return;
    const char *m = cmd->argv[2].s;
    if (!strcmp(m, "rm") || !strcmp(m, "time")) {
        lh_unwrap_argv_child(c, lim, k, !strcmp(m, "rm") ? 2 : 3);
        return;
    }
    if (!strcmp(m, "remove_directory") || !strcmp(m, "remove")) {
        char *t = lh_arena_strdup(c->arena, !strcmp(m, "remove") ? "rm -f" : "rm -rf");
        for (int i = 3; t && i < cmd->argc; i++) {
            if (!strcmp(cmd->argv[i].s, "-f")) continue;
            char *q = quoted(c, cmd->argv[i].s);
            t = q ? lh_arena_printf(c->arena, "%s %s", t, q) : NULL;
        }
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, 3, t);
        return;
    }
    if (!strcmp(m, "env")) {
        int i = 3;
        while (i < cmd->argc && (strchr(cmd->argv[i].s, '=') || cmd->argv[i].s[0] == '-')) i++;
        lh_unwrap_argv_child(c, lim, k, i);
        return;
    }
    if (!strcmp(m, "chdir") && cmd->argc > 4) {
        char *q = quoted(c, cmd->argv[3].s);
        char *t = q ? lh_arena_printf(c->arena, "cd %s &&", q) : NULL;
        for (int i = 4; t && i < cmd->argc; i++) {
            char *w = quoted(c, cmd->argv[i].s);
            /* globs stay unquoted: cmake -E chdir / rm -rf * is run by a shell? no, but
             * the words reach rm as cmake passes them; a literal * names every entry */
            if (w && (cmd->argv[i].flags & LH_W_GLOB)) w = (char *)cmd->argv[i].s;
            t = w ? lh_arena_printf(c->arena, "%s %s", t, w) : NULL;
        }
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, 4, t);
    }
}

/* socat ADDRESS…: SYSTEM:CMD and EXEC:CMD run CMD (options follow a comma). */
static void expandSocat(lh_ctx *c, const lh_shell_limits *lim, int k) {
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const char *a = cmdAt(c, k)->argv[i].s;
        const char *v = NULL;
        if (!strncmp(a, "SYSTEM:", 7) || !strncmp(a, "system:", 7)) v = a + 7;
        else if (!strncmp(a, "EXEC:", 5) || !strncmp(a, "exec:", 5)) v = a + 5;
        if (!v) continue;
        const char *comma = strchr(v, ',');
        char *t = comma ? lh_arena_strndup(c->arena, v, (size_t)(comma - v)) : (char *)v;
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, i, t);
    }
}

/* nodemon --exec|-x CMD; concurrently CMD…; watchexec [opts] [--] CMD…; sg GROUP CMD. */
static void expandDevRunners(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    if (!strcmp(p, "nodemon")) {
        expandOptCommand(c, lim, k, 'x', "--exec");
    } else if (!strcmp(p, "concurrently")) {
        for (int i = 1; i < cmdAt(c, k)->argc; i++) {
            const char *a = cmdAt(c, k)->argv[i].s;
            if (a[0] == '-') {
                if (!strcmp(a, "-n") || !strcmp(a, "--names") || !strcmp(a, "-c") ||
                    !strcmp(a, "--prefix-colors") || !strcmp(a, "-p") || !strcmp(a, "--prefix") ||
                    !strcmp(a, "-m") || !strcmp(a, "--max-processes"))
                    i++;
                continue;
            }
            if (!strncmp(a, "npm:", 4) || !strncmp(a, "yarn:", 5) || !strncmp(a, "pnpm:", 5)) continue;
            childStr(c, lim, k, i, a);
        }
    } else if (!strcmp(p, "watchexec")) {
        static const char *const lo[] = {"--exts", "--watch", "--ignore", "--shell", "--signal",
                                         "--debounce", "--filter", "--delay-run", "--on-busy-update",
                                         "--project-origin", "--workdir", "--env", NULL};
        int i = lh_skip_options(cmd->argv, cmd->argc, 1, "ewisdpE", lo);
        if (i >= cmd->argc) return;
        lh_unwrap_join_child(c, lim, k, i, cmd->argc, LH_ORIGIN_SHELL_C);
    } else if (!strcmp(p, "sg")) {
        /* sg GROUP [-c] CMD: without -c the rest is the command (runners.c reads -c) */
        if (cmd->argc > 2 && strcmp(cmd->argv[2].s, "-c") && cmd->argv[1].s[0] != '-')
            lh_unwrap_join_child(c, lim, k, 2, cmd->argc, LH_ORIGIN_SHELL_C);
    } else if (!strcmp(p, "start-stop-daemon")) {
        /* --start … --exec|--startas PATH [-- ARGS]: PATH runs with ARGS */
        int start = 0, exe = -1, dd = -1;
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (!strcmp(a, "--")) { dd = i; break; }
            if (!strcmp(a, "--start") || !strcmp(a, "-S")) start = 1;
            if ((!strcmp(a, "--exec") || !strcmp(a, "-x") || !strcmp(a, "--startas") || !strcmp(a, "-a")) && i + 1 < cmd->argc)
                exe = i + 1;
        }
        if (!start || exe < 0) return;
        lh_word *argv = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)(cmd->argc + 1));
        if (!argv) { c->oom = 1; return; }
        int n = 0;
        argv[n++] = cmd->argv[exe];
        for (int i = dd >= 0 ? dd + 1 : cmd->argc; i < cmd->argc; i++) argv[n++] = cmd->argv[i];
        char *t = lh_arena_strdup(c->arena, "");
        for (int i = 0; t && i < n; i++) {
            char *q = quoted(c, argv[i].s);
            t = q ? lh_arena_printf(c->arena, "%s%s%s", t, i ? " " : "", q) : NULL;
        }
        if (!t) { c->oom = 1; return; }
        childStr(c, lim, k, exe, t);
    } else if (!strcmp(p, "bwrap")) {
        /* bubblewrap's options take zero, one or two values; then the command */
        static const char *const two[] = {"--bind", "--ro-bind", "--dev-bind", "--bind-try", "--ro-bind-try",
                                          "--dev-bind-try", "--symlink", "--setenv", "--file", "--bind-data",
                                          "--ro-bind-data", "--chmod", NULL};
        int i = 1;
        while (i < cmd->argc && cmd->argv[i].s[0] == '-' && cmd->argv[i].s[1] == '-') {
            const char *a = cmd->argv[i].s;
            int vals = 1;
            if (!strcmp(a, "--")) { i++; break; }
            for (int t = 0; two[t]; t++) if (!strcmp(a, two[t])) vals = 2;
            if (!strncmp(a, "--unshare-", 10) || !strncmp(a, "--share-", 8) || !strcmp(a, "--die-with-parent") ||
                !strcmp(a, "--new-session") || !strcmp(a, "--as-pid-1") || !strcmp(a, "--clearenv") ||
                !strcmp(a, "--disable-userns") || !strcmp(a, "--assert-userns-disabled"))
                vals = 0;
            i += 1 + vals;
        }
        if (i < cmd->argc) lh_unwrap_argv_child(c, lim, k, i);
    } else if (!strcmp(p, "gdb")) {
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "--args")) { lh_unwrap_argv_child(c, lim, k, i + 1); break; }
    }
}

/* Tools with a command language of their own that can start a shell command: the
 * command after the marker, to the closing character, in any argument or on stdin. */
#define VIMS "vim|nvim|vi|ex|view|gvim|vimdiff"
static const struct { const char *prog, *open; char close; } kToolCmds[] = {
    {VIMS, "system(\"", '"'}, {VIMS, "system('", '\''}, {VIMS, "systemlist(\"", '"'},
    {VIMS, "exe \"!", '"'}, {VIMS, "execute \"!", '"'}, {VIMS, "os.execute(\"", '"'},
    {VIMS, "os.execute('", '\''}, {VIMS, "vim.fn.system(\"", '"'},
    {"R", "system(\"", '"'}, {"R", "system('", '\''}, {"Rscript", "system(\"", '"'},
    {"Rscript", "system('", '\''}, {"dc", "!", '\n'}, {"ed", "!", '\n'},
    {"emacs", "(shell-command \"", '"'}, {"emacs", "(call-process-shell-command \"", '"'},
    {"gnuplot", "system \"", '"'}, {"gnuplot", "system(\"", '"'}, {"gnuplot", "system '", '\''},
    {"expect|tclsh|wish", "exec ", '\n'}, {"expect", "spawn ", '\n'}, {"julia", "run(`", '`'}, {"lldb", "platform shell ", '\n'}, {"m4", "esyscmd(", ')'},
    {"m4", "syscmd(", ')'}, {"octave", "system(\"", '"'}, {"octave", "system('", '\''},
};

static void scanToolText(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text,
                         size_t len) {
    const char *p = cmdAt(c, k)->prog;
    const char *end = text + len;
    size_t pl = strlen(p);
    for (size_t t = 0; t < sizeof(kToolCmds) / sizeof(kToolCmds[0]); t++) {
        const char *hit = strstr(kToolCmds[t].prog, p);   /* a name in the '|' list */
        if (!hit || (hit != kToolCmds[t].prog && hit[-1] != '|') || (hit[pl] && hit[pl] != '|')) continue;
        size_t on = strlen(kToolCmds[t].open);
        for (const char *q = text; q + on <= end && lh_step(c, 1); q++) {
            if (memcmp(q, kToolCmds[t].open, on)) continue;
            /* a `!` command starts a line (ed) or follows a blank (dc) */
            if (on == 1 && q > text && q[-1] != '\n' && q[-1] != ' ' && q[-1] != '\t') continue;
            const char *b = q + on;
            const char *e = memchr(b, kToolCmds[t].close, (size_t)(end - b));
            if (!e) e = end;
            if (e > b) child(c, lim, k, argi, b, (size_t)(e - b), LH_ORIGIN_EVAL);
            q = e - 1 < q ? q : e - 1;
        }
    }
}

static void expandToolCmds(lh_ctx *c, const lh_shell_limits *lim, int k) {
    for (int i = 1; i < cmdAt(c, k)->argc; i++)
        scanToolText(c, lim, k, i, cmdAt(c, k)->argv[i].s, cmdAt(c, k)->argv[i].len);
    size_t len = 0;
    const char *t = lh_stdin_text(c, k, &len);
    if (t) scanToolText(c, lim, k, -1, t, len);
}

/* apt/apt-get -o KEY=CMD for the hooks apt runs as shell commands (APT::Update::Pre-Invoke,
 * DPkg::Post-Invoke …). */
static void expandAptHooks(lh_ctx *c, const lh_shell_limits *lim, int k) {
    for (int i = 1; i < cmdAt(c, k)->argc; i++) {
        const lh_cmd *cmd = cmdAt(c, k);
        const char *a = cmd->argv[i].s, *kv = NULL;
        int vi = i;
        if (!a) continue;
        if ((!strcmp(a, "-o") || !strcmp(a, "--option")) && i + 1 < cmd->argc) kv = cmd->argv[vi = i + 1].s;
        else if (!strncmp(a, "-o", 2) && a[2]) kv = a + 2;
        else if (!strncmp(a, "--option=", 9)) kv = a + 9;
        if (!kv) continue;
        const char *eq = strchr(kv, '=');
        if (eq && (strstr(kv, "Invoke") || strstr(kv, "invoke")) && (size_t)(strstr(kv, "nvoke") - kv) < (size_t)(eq - kv))
            childStr(c, lim, k, vi, eq + 1);
        i = vi;
    }
}

/* pixi run CMD…, devbox run CMD… (a task name or a command line); scl enable COLL… CMD
 * (the last word, a shell string, or the words after --); entr -s CMD / entr CMD ARG…. */
static void expandStringRunners(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    if (!strcmp(p, "pixi") || !strcmp(p, "devbox")) {
        if (cmd->argc < 3 || strcmp(cmd->argv[1].s, "run")) return;
        int i = 2;
        while (i < cmd->argc && cmd->argv[i].s[0] == '-') i += strchr(cmd->argv[i].s, '=') ? 1 : 2;
        if (i < cmd->argc) lh_unwrap_join_child(c, lim, k, i, cmd->argc, LH_ORIGIN_SHELL_C);
    } else if (!strcmp(p, "scl")) {
        if (cmd->argc < 4 || strcmp(cmd->argv[1].s, "enable")) return;
        for (int i = 2; i < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "--")) { lh_unwrap_argv_child(c, lim, k, i + 1); return; }
        childStr(c, lim, k, cmd->argc - 1, cmd->argv[cmd->argc - 1].s);
    } else if (!strcmp(p, "entr")) {
        int shell = 0, i = 1;
        for (; i < cmd->argc && cmd->argv[i].s[0] == '-'; i++) shell |= strchr(cmd->argv[i].s, 's') != NULL;
        if (i >= cmd->argc) return;
        if (shell) childStr(c, lim, k, i, cmd->argv[i].s);
        else lh_unwrap_argv_child(c, lim, k, i);
    }
}

/* awk -f /dev/stdin, sed -f /dev/stdin: the program comes on stdin; judged as the same
 * program given inline (runners.c reads it). */
static void expandProgramOnStdin(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    for (int i = 1; i + 1 < cmd->argc; i++) {
        if (strcmp(cmd->argv[i].s, "-f") || !isStdinPath(cmd->argv[i + 1].s)) continue;
        size_t len = 0;
        const char *t = lh_stdin_text(c, k, &len);
        char *prog = t ? lh_arena_strndup(c->arena, t, len) : NULL;
        char *q = prog ? quoted(c, prog) : NULL;
        if (q) childStr(c, lim, k, i + 1, lh_arena_printf(c->arena, !strcmp(cmd->prog, "sed") ? "sed -e %s" : "%s %s",
                                                       !strcmp(cmd->prog, "sed") ? q : cmd->prog, q));
        return;
    }
}

/* enable -f FILE NAME loads a builtin from a shared object; gcc/clang -fplugin=FILE loads
 * a compiler plugin (exec.preload outside the system directories); gcc -wrapper
 * PROG,ARG… runs every compiler pass under PROG. */
static void expandLoaders(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(cmd->prog, "enable")) {
            if (!strcmp(a, "-f") && i + 1 < cmd->argc) checkPreload(c, k, cmd->argv[i + 1].s);
            continue;
        }
        if (!strncmp(a, "-fplugin=", 9)) checkPreload(c, k, a + 9);
        if (!strcmp(a, "-wrapper") && i + 1 < cmd->argc) {
            const char *v = cmd->argv[i + 1].s;   /* PROG,ARG,…: argv, quoted word by word */
            char *out = lh_arena_alloc(c->arena, strlen(v) * 4 + 8);
            if (!out) { c->oom = 1; return; }
            size_t o = 0;
            out[o++] = '\'';
            for (; *v; v++) {
                if (*v == ',') { memcpy(out + o, "' '", 3); o += 3; }
                else if (*v == '\'') { memcpy(out + o, "'\\''", 4); o += 4; }
                else out[o++] = *v;
            }
            out[o++] = '\'';
            out[o] = 0;
            childStr(c, lim, k, i + 1, out);
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* parallel reading its commands                                                   */
/* ------------------------------------------------------------------------------ */

static int parallelReadsCommands(const lh_cmd *cmd) {
    if (strcmp(cmd->prog, "parallel")) return 0;
    static const char *const lo[] = {"--jobs", "--sshlogin", "--joblog", "--results", "--delay",
                                     "--timeout", "--retries", "--arg-file", NULL};
    int i = lh_skip_options(cmd->argv, cmd->argc, 1, "jSaI", lo);
    for (int j = 1; j < cmd->argc; j++)
        if (!strcmp(cmd->argv[j].s, ":::") || !strcmp(cmd->argv[j].s, "::::")) return 0;
    return i >= cmd->argc;
}

/* A command string that is a shell reading its script on stdin ("sh", "bash -s"). */
static int bareShell(const char *v) {
    char first[16];
    size_t n = strcspn(v, " \t");
    if (n == 0 || n >= sizeof(first)) return 0;
    memcpy(first, v, n);
    first[n] = 0;
    const char *b = strrchr(first, '/');
    if (!lh_is_shell(b ? b + 1 : first)) return 0;
    for (const char *w = v + n; *w;) {
        while (*w == ' ' || *w == '\t') w++;
        if (!*w) break;
        if (w[0] != '-' || !strncmp(w, "-c", 2)) return !strncmp(w, "-s", 2) || isStdinPath(w);
        w += strcspn(w, " \t");
    }
    return 1;
}

int lh_feed_runs_stdin(const lh_cmd *cmd) {
    if (parallelReadsCommands(cmd)) return 1;
    const char *p = cmd->prog;
    if (!strcmp(p, "at") || !strcmp(p, "batch") || !strcmp(p, "newgrp")) {
        for (int i = 1; i < cmd->argc; i++)
            if (cmd->argv[i].s[0] == '-' && strpbrk(cmd->argv[i].s + 1, "fldrc")) return 0;
        return !strcmp(p, "newgrp") ? cmd->argc <= 2 : 1;
    }
    if (!strcmp(p, "source") || !strcmp(p, ".")) return cmd->argc > 1 && isStdinPath(cmd->argv[1].s);
    if (!strcmp(p, "script") || !strcmp(p, "su") || !strcmp(p, "sg") || !strcmp(p, "runuser") ||
        !strcmp(p, "flock")) {
        /* -c CMD (or -qc, --command=CMD) where CMD is a bare shell */
        for (int i = 1; i < cmd->argc; i++) {
            const char *a = cmd->argv[i].s;
            if (!strncmp(a, "--command=", 10)) return bareShell(a + 10);
            if (a[0] == '-' && a[1] != '-' && strchr(a, 'c') && i + 1 < cmd->argc) return bareShell(cmd->argv[i + 1].s);
        }
        return 0;
    }
    if (!strcmp(p, "xargs")) {   /* xargs … sh -c: each input line is the script */
        int last = cmd->argc - 1;
        return last > 1 && !strcmp(cmd->argv[last].s, "-c") && lh_is_shell(cmd->argv[last - 1].s);
    }
    if (!strcmp(p, "m4")) return lh_first_operand(cmd, 0) < 0;   /* m4 reads macros (syscmd) on stdin */
    if (strcmp(p, "make") && strcmp(p, "gmake")) return 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        size_t fl = a[0] == '-' && a[1] != '-' ? strspn(a + 1, "bBeiknqrRsStvwW") : 0;
        if ((!strcmp(a, "--file") || (a[0] == '-' && a[1 + fl] == 'f' && !a[2 + fl])) && i + 1 < cmd->argc &&
            isStdinPath(cmd->argv[i + 1].s))
            return 1;
        if (!strcmp(a, "--file=-") || !strcmp(a, "--file=/dev/stdin") || (a[0] == '-' && a[1 + fl] == 'f' && isStdinPath(a + 2 + fl)))
            return 1;
    }
    return 0;
}

/* A shell reading, through a pipe, text that sed or tr made from a literal (`sed 's/^#//'
 * <<EOF | sh`, `tr -d '#' <<< 'r#m …' | sh`): what runs is hidden text, as with rev. */
static void checkTransformed(lh_ctx *c, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    if (!(cmd->flags & LH_C_PIPE_IN) || lh_first_operand(cmd, 0) > 0) return;
    for (int j = k - 1; j >= 0; j--) {
        const lh_cmd *prev = cmdAt(c, j);
        if (prev->pipeline != cmd->pipeline || prev->pipe_pos != cmd->pipe_pos - 1 || prev->parent != cmd->parent)
            continue;
        if (!strcmp(prev->prog, "openssl") && lh_first_operand(prev, 0) > 0 &&
            !strcmp(prev->argv[lh_first_operand(prev, 0)].s, "s_client")) {   /* a TLS connection's data */
            lh_emit(c, k, LH_RULE(NET_PIPE_SHELL), "openssl s_client");
            return;
        }
        const char *by = lh_feed_transformed_by(c, k);
        if (by) lh_emit(c, k, LH_RULE(EXEC_DECODED), by);
        return;
    }
}

const char *lh_feed_transformed_by(lh_ctx *c, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    if (!(cmd->flags & LH_C_PIPE_IN)) return NULL;
    for (int j = k - 1; j >= 0; j--) {
        const lh_cmd *prev = cmdAt(c, j);
        if (prev->pipeline != cmd->pipeline || prev->pipe_pos != cmd->pipe_pos - 1 || prev->parent != cmd->parent)
            continue;
        if (strcmp(prev->prog, "sed") && strcmp(prev->prog, "tr") && strcmp(prev->prog, "grep") &&
            strcmp(prev->prog, "cut") && strcmp(prev->prog, "jq"))
            return NULL;
        size_t len = 0;
        /* jq -n prints its literal program's strings */
        if (lh_stdin_text(c, j, &len) || (!strcmp(prev->prog, "jq") && (lh_has_opt(prev, 'n', "--null-input"))))
            return prev->prog;
        return NULL;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Words a reference expands to                                                    */
/* ------------------------------------------------------------------------------ */

#define FEED_MAX_SPLIT 32   /* words one reference may become */

typedef struct { const char *s[FEED_MAX_SPLIT]; size_t n[FEED_MAX_SPLIT]; uint32_t f[FEED_MAX_SPLIT]; int count; } wordSet;

/* Split text (len bytes) on blanks into ws; plain words only (no quotes or expansions).
 * Returns 0 when a word is not plain or there are too many. */
static int splitPlain(const char *t, size_t len, wordSet *ws, int tilde) {
    ws->count = 0;
    for (const char *p = t, *end = t + len; p < end;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) p++;
        if (p >= end) break;
        const char *b = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\n') p++;
        if (ws->count >= FEED_MAX_SPLIT || memchr(b, '$', (size_t)(p - b)) || memchr(b, '`', (size_t)(p - b)) ||
            memchr(b, '"', (size_t)(p - b)) || memchr(b, '\'', (size_t)(p - b)) || memchr(b, '\\', (size_t)(p - b)))
            return 0;
        ws->s[ws->count] = b;
        ws->f[ws->count] = (tilde && *b == '~' ? LH_W_TILDE : 0) | (memchr(b, '*', (size_t)(p - b)) ? LH_W_GLOB : 0);
        ws->n[ws->count++] = (size_t)(p - b);
    }
    return 1;
}

/* The one literal value the call gives NAME (a bare NAME=VALUE or NAME=(…) before k in the
 * same script), or NULL: a second, different or computed assignment makes it unknown. */
static const lh_word *assignedBefore(lh_ctx *c, int k, const char *name, size_t n) {
    const lh_script *sc = c->script;
    const lh_word *found = NULL;
    if (!lh_step(c, 1u + (uint32_t)sc->ncmds / 16u)) return NULL;
    for (int j = 0; j < sc->ncmds; j++) {
        const lh_cmd *q = &sc->cmds[j];
        for (int a = 0; a < q->nassigns; a++) {
            const lh_word *w = &q->assigns[a];
            if (strncmp(w->s, name, n) || w->s[n] != '=') continue;
            if (found || j >= k || q->argc || q->parent != sc->cmds[k].parent) return NULL;
            found = w;
        }
        if (q->argc > 1 && (!strcmp(q->prog, "read") || !strcmp(q->prog, "readarray") ||
                            !strcmp(q->prog, "mapfile") || !strcmp(q->prog, "declare")))
            for (int a = 1; a < q->argc; a++)
                if (!strncmp(q->argv[a].s, name, n) && !isalnum((unsigned char)q->argv[a].s[n]) && q->argv[a].s[n] != '_')
                    return NULL;
    }
    return found;
}

/* The words of the last `set [--] WORDS` before k in the same script (literal), or 0. */
static int positionalSet(lh_ctx *c, int k, wordSet *ws) {
    const lh_script *sc = c->script;
    int got = 0;
    for (int j = k - 1; j >= 0 && !got; j--) {
        const lh_cmd *q = &sc->cmds[j];
        if (q->parent != sc->cmds[k].parent || q->argc < 2 || strcmp(q->prog, "set")) continue;
        int from = !strcmp(q->argv[1].s, "--") ? 2 : 1;
        if (from == 1 && (q->argv[1].s[0] == '-' || q->argv[1].s[0] == '+')) continue;
        ws->count = 0;
        for (int a = from; a < q->argc && ws->count < FEED_MAX_SPLIT; a++) {
            if (q->argv[a].flags & LH_W_DYNAMIC) return 0;
            ws->s[ws->count] = q->argv[a].s;
            ws->f[ws->count] = q->argv[a].flags;
            ws->n[ws->count++] = q->argv[a].len;
        }
        got = 1;
    }
    return got;
}

/* What word w of command k expands to when the call says it literally: "$@", $1 after
 * `set -- …`; "${arr[@]}", ${arr[N]} after arr=(…); an unquoted $x whose value has
 * blanks (split as the shell splits it). Returns 1 and fills ws. */
static int expandRef(lh_ctx *c, int k, const lh_word *w, wordSet *ws) {
    const char *t = w->s;
    if (t[0] != '$' || (w->flags & (LH_W_SUBST | LH_W_PROCSUBST | LH_W_ARITH))) return 0;
    int br = t[1] == '{';
    const char *r = t + 1 + br;
    size_t rn = strlen(r);
    if (br) { if (!rn || r[rn - 1] != '}') return 0; rn--; }
    if (rn == 1 && (r[0] == '@' || r[0] == '*' || (r[0] >= '1' && r[0] <= '9'))) {
        wordSet all;
        if (c->script->cmds[k].func >= 0 || !positionalSet(c, k, &all)) return 0;
        if (r[0] == '@' || r[0] == '*') { *ws = all; return 1; }
        int i = r[0] - '1';
        ws->count = i < all.count ? 1 : 0;
        if (ws->count) { ws->s[0] = all.s[i]; ws->n[0] = all.n[i]; ws->f[0] = all.f[i]; }
        return 1;
    }
    size_t nn = 0;
    while (nn < rn && (isalnum((unsigned char)r[nn]) || r[nn] == '_')) nn++;
    if (!nn || isdigit((unsigned char)r[0])) return 0;
    const lh_word *a = assignedBefore(c, k, r, nn);
    if (!a) return 0;
    const char *v = a->s + nn + 1;
    if (nn == rn) {   /* $x */
        if ((w->flags & LH_W_QUOTED) || v[0] == '(' || (a->flags & LH_W_DYNAMIC)) return 0;
        return splitPlain(v, strlen(v), ws, 0) && ws->count > 1;   /* a quoted ~ stays a name */
    }
    /* ${arr[@]}, ${arr[N]} */
    if (!br || r[nn] != '[' || v[0] != '(') return 0;
    size_t vl = strlen(v);
    if (vl < 2 || v[vl - 1] != ')') return 0;
    wordSet all;
    if (!splitPlain(v + 1, vl - 2, &all, 1)) return 0;
    const char *idx = r + nn + 1;
    if ((idx[0] == '@' || idx[0] == '*') && idx[1] == ']') { *ws = all; return 1; }
    if (isdigit((unsigned char)idx[0])) {
        long i = strtol(idx, NULL, 10);   /* LONG_MAX when too long: past the end */
        ws->count = i < all.count ? 1 : 0;
        if (ws->count) { ws->s[0] = all.s[i]; ws->n[0] = all.n[i]; ws->f[0] = all.f[i]; }
        return 1;
    }
    return 0;
}

/* Replace the argument words of command k that expand to known literal words. */
static void splitRefs(lh_ctx *c, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    int any = 0;
    for (int i = 1; i < cmd->argc && !any; i++) any = (cmd->argv[i].flags & LH_W_VAR) && cmd->argv[i].s[0] == '$';
    if (!any) return;
    wordSet ws[4];
    int at[4], n = 0, extra = 0;
    for (int i = 1; i < cmd->argc && n < 4; i++) {
        if (!(cmd->argv[i].flags & LH_W_VAR) || cmd->argv[i].s[0] != '$') continue;
        if (expandRef(c, k, &cmd->argv[i], &ws[n])) { at[n] = i; extra += ws[n].count - 1; n++; }
    }
    if (!n) return;
    cmd = cmdAt(c, k);
    lh_word *nv = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)(cmd->argc + extra + 1));
    if (!nv) { c->oom = 1; return; }
    int o = 0, q = 0;
    for (int i = 0; i < cmd->argc; i++) {
        if (q < n && at[q] == i) {
            for (int w = 0; w < ws[q].count; w++) {
                char *t = lh_arena_strndup(c->arena, ws[q].s[w], ws[q].n[w]);
                if (!t) { c->oom = 1; return; }
                nv[o].s = t;
                nv[o].len = (uint32_t)ws[q].n[w];
                nv[o].flags = ws[q].f[w];
                o++;
            }
            q++;
            continue;
        }
        nv[o++] = cmd->argv[i];
    }
    cmd->argv = nv;
    cmd->argc = o;
}

/* A shell in >(…) whose parent downloads: `curl URL > >(sh)`, `curl -o >(sh) URL`. */
static void checkDownloadInto(lh_ctx *c, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    if (cmd->origin != LH_ORIGIN_PROCSUBST_OUT || cmd->parent < 0 || cmd->pipe_pos != 0) return;
    if (lh_first_operand(cmd, 0) > 0 && !lh_feed_runs_stdin(cmd)) return;
    if (downloads(cmdAt(c, cmd->parent))) lh_emit(c, k, LH_RULE(NET_PIPE_SHELL), ">(…)");
}

/* ------------------------------------------------------------------------------ */
/* For feeds_env.c                                                                 */
/* ------------------------------------------------------------------------------ */

void lh_feed_child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text, size_t len) {
    child(c, lim, k, argi, text, len, LH_ORIGIN_EVAL);
}

char *lh_feed_quote(lh_ctx *c, const char *s) { return quoted(c, s); }

const char *lh_feed_subst_code(lh_ctx *c, int k, int argi, size_t *len) { return substCode(c, k, argi, len); }
const char *lh_feed_printed(lh_ctx *c, int k, size_t *len) { return printed(c, k, len); }
const char *lh_feed_subst_text(lh_ctx *c, int k, int argi, size_t *len) {
    return substText(c, k, argi, LH_ORIGIN_PROCSUBST_IN, len, NULL);
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

static int hasSubst(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++)
        if (cmd->argv[i].flags & LH_W_PROCSUBST) return 1;
    return 0;
}

int lh_feed_expand(lh_ctx *c, const lh_shell_limits *lim, int k) {
    splitRefs(c, k);
    lh_cmd *cmd = cmdAt(c, k);
    if (cmd->nassigns || (cmd->argc > 1 && strchr("edlrt", cmd->prog[0]))) lh_feed_assigns(c, lim, k);
    cmd = cmdAt(c, k);
    if (cmd->argc == 0) return 0;
    const char *p = cmd->prog;
    /* the hot path: one switch on the first letter, then exact names */
    switch (p[0]) {
    case '.': case 's': case 'b': case 'd': case 'z': case 'k': case 'a': case 'm': case 'y':
        /* bash <(…), source <(…): the substitution is the script (the hot path: only a
         * command that reads a pipe, sits in >(…) or has a <(…) word needs the check) */
        if (((cmd->flags & LH_C_PIPE_IN) || cmd->origin == LH_ORIGIN_PROCSUBST_OUT || hasSubst(cmd)) &&
            (lh_is_shell(p) || !strcmp(p, ".") || !strcmp(p, "source"))) {
            if (lh_is_shell(p)) { checkTransformed(c, k); checkDownloadInto(c, k); }
            int op = lh_first_operand(cmd, 0);
            if (op > 0 && (cmd->argv[op].flags & LH_W_PROCSUBST)) {
                size_t len = 0;
                const char *t = substCode(c, k, op, &len);
                if (t) child(c, lim, k, op, t, len, LH_ORIGIN_HEREDOC);
            }
            return 0;
        }
        switch (p[0]) {   /* then each letter's own names */
        case 's':
            if (!strcmp(p, "sed")) expandProgramOnStdin(c, lim, k);
            else if (!strcmp(p, "socat")) expandSocat(c, lim, k);
            else if (!strcmp(p, "sg") || !strcmp(p, "start-stop-daemon")) expandDevRunners(c, lim, k);
            else if (!strcmp(p, "scl")) expandStringRunners(c, lim, k);
            break;
        case 'a':
            if (!strcmp(p, "awk")) expandProgramOnStdin(c, lim, k);
            else if (!strcmp(p, "apt") || !strcmp(p, "apt-get")) expandAptHooks(c, lim, k);
            break;
        case 'm':
            if (!strcmp(p, "make")) expandMake(c, lim, k);
            else if (!strcmp(p, "m4")) expandToolCmds(c, lim, k);
            else if (!strcmp(p, "man")) {
                expandOptCommand(c, lim, k, 'P', "--pager");
                for (int i = 1; i < cmdAt(c, k)->argc; i++) {   /* -HBROWSER, --html=BROWSER */
                    const char *a = cmdAt(c, k)->argv[i].s;
                    if (!strncmp(a, "-H", 2) && a[2]) childStr(c, lim, k, i, a + 2);
                    else if (!strncmp(a, "--html=", 7)) childStr(c, lim, k, i, a + 7);
                }
            }
            break;
        case 'd':
            if (!strcmp(p, "dc")) expandToolCmds(c, lim, k);
            else if (!strcmp(p, "devbox")) expandStringRunners(c, lim, k);
            break;
        case 'b':
            if (!strcmp(p, "bwrap")) expandDevRunners(c, lim, k);
            break;
        case 'y':
            if (!strcmp(p, "yarn")) lh_feed_install(c, k);
            break;
        default:
            break;
        }
        return 0;
    case 'c':
        if (!strcmp(p, "cmake")) expandCmake(c, lim, k);
        else if (!strcmp(p, "clang") || !strcmp(p, "clang++") || !strcmp(p, "cc") || !strcmp(p, "c++"))
            expandLoaders(c, lim, k);
        else if (!strcmp(p, "concurrently")) expandDevRunners(c, lim, k);
        else if (!strcmp(p, "cargo")) lh_feed_install(c, k);
        return 0;
    case 'f':
        if (!strcmp(p, "fc")) expandOptCommand(c, lim, k, 'e', NULL);
        return 0;
    case 'e':
        if (!strcmp(p, "ed") || !strcmp(p, "emacs") || !strcmp(p, "ex") || !strcmp(p, "expect")) expandToolCmds(c, lim, k);
        else if (!strcmp(p, "enable")) expandLoaders(c, lim, k);
        else if (!strcmp(p, "entr")) expandStringRunners(c, lim, k);
        return 0;
    case 'j': case 'o': case 'R':
        if (!strcmp(p, "julia") || !strcmp(p, "octave") || !strcmp(p, "R") || !strcmp(p, "Rscript"))
            expandToolCmds(c, lim, k);
        return 0;
    case 'g':
        if (!strcmp(p, "git")) expandGitCommands(c, lim, k);
        else if (!strcmp(p, "gmake")) expandMake(c, lim, k);
        else if (!strcmp(p, "gdb")) expandDevRunners(c, lim, k);
        else if (!strcmp(p, "gem")) lh_feed_install(c, k);
        else if (!strcmp(p, "gnuplot") || !strcmp(p, "gvim")) expandToolCmds(c, lim, k);
        else if (!strcmp(p, "gcc") || !strcmp(p, "g++")) expandLoaders(c, lim, k);
        else if (!strcmp(p, "gawk")) expandProgramOnStdin(c, lim, k);
        return 0;
    case 'l':
        if (!strcmp(p, "less")) expandLess(c, lim, k);
        else if (!strcmp(p, "lldb")) expandToolCmds(c, lim, k);
        return 0;
    case 'n':
        if (!strcmp(p, "nodemon")) expandDevRunners(c, lim, k);
        else if (!strcmp(p, "npm")) lh_feed_install(c, k);
        else if (!strcmp(p, "nvim")) expandToolCmds(c, lim, k);
        else if (!strcmp(p, "newgrp") && cmd->argc <= 2) {   /* a new shell reads its script on stdin */
            size_t len = 0;
            const char *t = lh_stdin_text(c, k, &len);
            if (t) child(c, lim, k, -1, t, len, LH_ORIGIN_HEREDOC);
        }
        return 0;
    case 'w':
        if (!strcmp(p, "watchexec")) expandDevRunners(c, lim, k);
        else if (!strcmp(p, "wish")) expandToolCmds(c, lim, k);
        return 0;
    case 't':
        if (!strcmp(p, "tclsh")) expandToolCmds(c, lim, k);
        return 0;
    case 'v':
        if (!strcmp(p, "vim") || !strcmp(p, "vi") || !strcmp(p, "view") || !strcmp(p, "vimdiff"))
            expandToolCmds(c, lim, k);
        return 0;
    case 'p':
        if (parallelReadsCommands(cmd)) {
            size_t len = 0;
            const char *t = lh_stdin_text(c, k, &len);
            if (t) child(c, lim, k, -1, t, len, LH_ORIGIN_HEREDOC);
            return 1;
        }
        if (!strncmp(p, "pip", 3) || !strncmp(p, "python", 6) || !strcmp(p, "pnpm")) lh_feed_install(c, k);
        else if (!strcmp(p, "pixi")) expandStringRunners(c, lim, k);
        return 0;
    case 'u':
        if (!strcmp(p, "uv")) lh_feed_install(c, k);
        return 0;
    default:
        return 0;
    }
}

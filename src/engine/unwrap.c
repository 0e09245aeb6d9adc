/* unwrap.c — strip wrappers and expand nested scripts; see unwrap.h. */
#include "engine/unwrap.h"
#include "engine/code_refs.h"
#include "engine/runners.h"
#include "engine/wrappers.h"
#include "engine/semantics.h"

#include "engine/code_lex.h"
#include "engine/feeds.h"

#include <string.h>

/* ------------------------------------------------------------------------------ */
/* Program classes                                                                 */
/* ------------------------------------------------------------------------------ */

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static const char *const kShells[] = {
    "sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "yash", "posh", "fish", "csh",
    "tcsh", "rbash", "osh", "ysh", "hush", "elvish", "nu", "xonsh", NULL,
};

int lh_is_shell(const char *prog) { return inList(prog, kShells); }

/* python3.11, python2 … count as python. */
static int isPython(const char *p) { return !strncmp(p, "python", 6) || !strcmp(p, "pypy3") || !strcmp(p, "pypy"); }

int lh_is_interpreter(const char *p) {
    static const char *const others[] = {
        "perl", "ruby", "node", "nodejs", "php", "deno", "bun", "lua", "luajit", "Rscript",
        "ipython", "ipython3", "tsx", "ts-node",
        "tclsh", "osascript", "pwsh", "powershell", NULL,
    };
    return isPython(p) || !strncmp(p, "perl5", 5) || inList(p, others);
}

/* ------------------------------------------------------------------------------ */
/* Small helpers                                                                   */
/* ------------------------------------------------------------------------------ */

static lh_cmd *cmdAt(lh_ctx *c, int k) { return &c->script->cmds[k]; }

static void addWrapper(lh_ctx *c, lh_cmd *cmd, const char *name) {
    if (!cmd->wrappers) cmd->wrappers = name;
    else cmd->wrappers = lh_arena_printf(c->arena, "%s %s", cmd->wrappers, name);
}

static const char *baseName(const char *s) {
    const char *slash = strrchr(s, '/');
    const char *b = slash ? slash + 1 : s;
    while (*b == '\\') b++;
    return b;
}

/* Make argv[skip] the command word. */
static void dropArgs(lh_cmd *cmd, int skip) {
    if (skip > cmd->argc) skip = cmd->argc;
    cmd->argv += skip;
    cmd->argc -= skip;
    cmd->prog = cmd->argc > 0 ? baseName(cmd->argv[0].s) : "";
    cmd->flags &= ~LH_C_DYNAMIC_CMD;
    if (cmd->argc > 0 && (cmd->argv[0].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST)))
        cmd->flags |= LH_C_DYNAMIC_CMD;
    cmd->flags |= LH_C_UNWRAPPED;
}

/* Skip options: returns the index of the first operand. with_arg lists the short
 * options that take a value ("ugp" for sudo); long_arg the long ones ("--user",
 * NULL-terminated). The one option reader is lh_skip_options (wrappers.c). */
static int skipOptions(const lh_cmd *cmd, int i, const char *with_arg,
                       const char *const *long_arg) {
    return lh_skip_options(cmd->argv, cmd->argc, i, with_arg, long_arg);
}

/* ------------------------------------------------------------------------------ */
/* Wrappers                                                                        */
/* ------------------------------------------------------------------------------ */

/* If cmd's program is a wrapper (wrappers.c's table), strip it and return 1 (call
 * again: wrappers nest). Returns 0 when there is nothing to strip, and 2 when the
 * wrapper runs nothing (command -v, sudo -l, chroot DIR alone …). */
static int stripWrapper(lh_ctx *c, lh_cmd *cmd) {
    const char *p = cmd->prog;
    if (cmd->argc == 0) return 0;
    const lh_wrapper *w = lh_wrapper_find(p);
    if (!w) return 0;
    /* these run a command string: expandOne or runners.c parses it (env -S, flock -c,
     * pnpm -c, runuser without -u is su) */
    for (int k = 1; k < cmd->argc; k++) {
        const char *a = cmd->argv[k].s;
        if (!strcmp(p, "env") && lh_sem_env_split_text(a)) return 0;
        if (!strcmp(p, "flock") && (!strcmp(a, "-c") || !strcmp(a, "--command"))) return 0;
        if (!strcmp(p, "pnpm") && (!strcmp(a, "-c") || !strcmp(a, "--shell-mode"))) return 0;
    }
    if (!strcmp(p, "runuser") && !lh_option_value(cmd->argv, cmd->argc, 1, w->short_val, w->long_val, 'u', "--user"))
        return 0;
    int i = lh_wrapper_skip(w, cmd->argv, cmd->argc, 1);
    if (i < 0) return 2;
    if (w->flags & LH_WR_PRIV) cmd->flags |= LH_C_SUDO;
    if (i >= cmd->argc) return 2;
    addWrapper(c, cmd, p);
    if (w->flags & LH_WR_ASSIGN) lh_litvar_keep_assigns(c, cmd, i);   /* env NAME=VAL */
    dropArgs(cmd, i);
    return 1;
}

static void parseChild(lh_ctx *c, const lh_shell_limits *lim, int k, int argi,
                       const char *text, size_t len, lh_origin origin);

/* strace -o '|CMD' (or '!CMD', --output=…; ltrace alike) pipes the trace into CMD, which
 * a shell runs: every such value is a child script, as `sh -c CMD` would be. The traced
 * program is still unwrapped after, so k is not marked replaced. Every -o is read (the
 * last one wins when strace runs, any one may be the pipe). */
static void tracePipe(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;   /* "strace" and "ltrace": one letter, then "trace" */
    if (cmd->argc < 2 || (p[0] != 's' && p[0] != 'l') || p[1] != 't' || strcmp(p + 1, "trace")) return;
    const lh_wrapper *w = lh_wrapper_find(cmd->prog);
    int end = lh_wrapper_skip(w, cmd->argv, cmd->argc, 1);
    if (end < 0 || end > cmd->argc) end = cmd->argc;
    for (int i = 1; i < end; i++) {
        cmd = cmdAt(c, k);
        int to = i + 2 < end ? i + 2 : end;   /* the option at word i and its value */
        const char *v = lh_option_value(cmd->argv, to, i, w->short_val, w->long_val, 'o', "--output");
        if (!v || (v[0] != '|' && v[0] != '!') || !v[1]) continue;
        uint32_t keep = cmd->flags & LH_C_REPLACED;
        parseChild(c, lim, k, -1, v + 1, strlen(v + 1), LH_ORIGIN_SHELL_C);
        if (!keep) cmdAt(c, k)->flags &= ~LH_C_REPLACED;
    }
}

/* ------------------------------------------------------------------------------ */
/* Nested scripts                                                                  */
/* ------------------------------------------------------------------------------ */

/* Parse text as a child script of command k. */
static void parseChild(lh_ctx *c, const lh_shell_limits *lim, int k, int argi,
                       const char *text, size_t len, lh_origin origin) {
    lh_script *s = c->script;
    int first = s->ncmds;
    int depth = cmdAt(c, k)->depth + 1;
    lh_shell_parse(c->arena, text, len, lim, s, k, argi, origin, depth);
    lh_cmd *parent = cmdAt(c, k);
    parent->flags |= LH_C_REPLACED;
    uint32_t inherit = parent->flags & LH_C_SUDO;
    for (int j = first; j < s->ncmds; j++) cmdAt(c, j)->flags |= inherit;
}

void lh_unwrap_parse_child(lh_ctx *c, const lh_shell_limits *lim, int k, int argi,
                           const char *text, size_t len, lh_origin origin) {
    parseChild(c, lim, k, argi, text, len, origin);
}

/* Join words [from, to) with spaces. */
static char *joinWords(lh_ctx *c, const lh_cmd *cmd, int from, int to, size_t *len) {
    size_t n = 0;
    for (int j = from; j < to; j++) n += cmd->argv[j].len + 1;
    char *buf = lh_arena_alloc(c->arena, n + 1);
    if (!buf) { c->oom = 1; *len = 0; return NULL; }
    size_t o = 0;
    for (int j = from; j < to; j++) {
        memcpy(buf + o, cmd->argv[j].s, cmd->argv[j].len);
        o += cmd->argv[j].len;
        if (j + 1 < to) buf[o++] = ' ';
    }
    buf[o] = 0;
    *len = o;
    return buf;
}

/* Single-quote s for re-parsing as one word. */
size_t lh_unwrap_quote_into(char *out, const char *s) {
    size_t o = 0;
    out[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') { memcpy(out + o, "'\\''", 4); o += 4; } /* NOLINT(bugprone-not-null-terminated-result): counted bytes, the caller ends them */
        else out[o++] = *s;
    }
    out[o++] = '\'';
    return o;
}

/* sh -c SCRIPT [NAME [ARGS…]]: replace $1…$9, "$@", $@ and $* in SCRIPT with the
 * literal arguments, so `sh -c 'rm -rf "$1"' _ /` is read as `rm -rf /`. */
static char *substitutePositional(lh_ctx *c, const char *script, const lh_cmd *cmd,
                                  int argbase, size_t *outlen) {
    int nargs = cmd->argc - argbase;   /* $1 = argv[argbase] */
    if (nargs <= 0) { *outlen = strlen(script); return (char *)script; }
    size_t alen = 0;
    for (int j = argbase; j < cmd->argc; j++) alen += cmd->argv[j].len * 4 + 3;
    size_t cap = strlen(script) * (alen + 1) + 1;
    if (cap > (1u << 20)) { *outlen = strlen(script); return (char *)script; }
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; *outlen = strlen(script); return (char *)script; }
    size_t o = 0;
    for (const char *s = script; *s;) {
        int q = (*s == '"');
        const char *t = s + q;
        if (t[0] == '$') {
            int idx = -1, all = 0;
            size_t used = 0;
            if (t[1] >= '1' && t[1] <= '9') { idx = t[1] - '1'; used = 2; }
            else if (t[1] == '{' && t[2] >= '1' && t[2] <= '9' && t[3] == '}') { idx = t[2] - '1'; used = 4; }
            else if (t[1] == '@' || t[1] == '*') { all = 1; used = 2; }
            if (used && q && t[used] != '"') used = 0;   /* "$1x": leave alone */
            if (used) {
                if (all) {
                    for (int j = argbase; j < cmd->argc; j++) {
                        o += lh_unwrap_quote_into(out + o, cmd->argv[j].s);
                        if (j + 1 < cmd->argc) out[o++] = ' ';
                    }
                } else if (idx < nargs) {
                    o += lh_unwrap_quote_into(out + o, cmd->argv[argbase + idx].s);
                } else {
                    out[o++] = '\''; out[o++] = '\'';
                }
                s = t + used + (q ? 1 : 0);
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

/* sh -c / bash -lc … : returns 1 if handled. */
static int expandShellC(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    int has_c = 0, i = 1;
    for (; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) { i++; break; }
        if (a[0] == '+' ) continue;
        if (a[0] != '-' || a[1] == 0) break;
        if (a[1] == '-') continue;           /* --login, --norc … */
        if (strchr(a + 1, 'c')) has_c = 1;
        if (!strcmp(a, "-o") || !strcmp(a, "-O")) i++;
    }
    if (!has_c || i >= cmd->argc) return 0;
    size_t len;
    char *text = substitutePositional(c, cmd->argv[i].s, cmd, i + 2, &len);
    parseChild(c, lim, k, i, text, len, LH_ORIGIN_SHELL_C);
    return 1;
}

const char *lh_stdin_text(lh_ctx *c, int k, size_t *len) {
    lh_cmd *cmd = cmdAt(c, k);
    for (int r = 0; r < cmd->nredirs; r++) {
        if (cmd->redirs[r].op == LH_R_HEREDOC || cmd->redirs[r].op == LH_R_HERESTR) {
            *len = cmd->redirs[r].target.len;
            return cmd->redirs[r].target.s;
        }
    }
    const char *fed = lh_feed_stdin(c, k, len);   /* < <(…), >(sh), printf/tee/head | sh */
    if (fed) return fed;
    if (!(cmd->flags & LH_C_PIPE_IN)) return NULL;
    for (int j = k - 1; j >= 0; j--) {
        lh_cmd *prev = cmdAt(c, j);
        if (prev->pipeline != cmd->pipeline || prev->pipe_pos != cmd->pipe_pos - 1 ||
            prev->parent != cmd->parent)
            continue;
        if (!strcmp(prev->prog, "cat") && lh_first_operand(prev, 0) < 0) {
            /* cat <<EOF | sh: the here-doc is the text */
            for (int r = 0; r < prev->nredirs; r++)
                if (prev->redirs[r].op == LH_R_HEREDOC || prev->redirs[r].op == LH_R_HERESTR) {
                    *len = prev->redirs[r].target.len;
                    return prev->redirs[r].target.s;
                }
            return NULL;
        }
        return NULL;   /* echo and printf: lh_feed_stdin (feeds.c) */
    }
    return NULL;
}

/* Does the shell command run a script file or read one from stdin? */
static int shellHasOperand(const lh_cmd *cmd) {
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-s")) return 0;
        if (!strcmp(a, "-o") || !strcmp(a, "-O")) { i++; continue; }
        if (a[0] == '-' || a[0] == '+') continue;
        return !lh_sem_is_stdin_path(a);   /* `bash /dev/stdin <<<…` reads stdin */
    }
    return 0;
}

/* Add a child of command k that runs argv (argc words) directly, without a shell in
 * between (xargs, find -exec, docker exec). Returns its index or -1. */
static int addArgvChild(lh_ctx *c, const lh_shell_limits *lim, int k, lh_word *argv, int argc,
                        int parent_arg, lh_origin origin, uint32_t flags) {
    int child = lh_script_add_cmd(c->arena, c->script, lim);
    if (child < 0) { c->oom = 1; return -1; }
    lh_cmd *cmd = cmdAt(c, k), *ch = cmdAt(c, child);
    ch->argv = argv;
    ch->argc = argc;
    ch->prog = baseName(argv[0].s);
    if (argv[0].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST)) ch->flags |= LH_C_DYNAMIC_CMD;
    ch->flags |= flags | (cmd->flags & (LH_C_SUDO | LH_C_BACKGROUND));
    ch->parent = k;
    ch->parent_arg = parent_arg;
    ch->origin = origin;
    ch->depth = cmd->depth + 1;
    ch->func = cmd->func;
    ch->pipeline = -1;
    ch->pipe_len = 1;
    cmd->flags |= LH_C_REPLACED;
    return child;
}

/* xargs CMD fed a literal here-string or here-doc (`xargs rm -rf <<< /`): one child
 * with the input's words appended (echo/printf pipes are read by the fs analyzer).
 * Returns 1 when done. */
static int xargsAppend(lh_ctx *c, const lh_shell_limits *lim, int k, int i, const char *text,
                       size_t len) {
    lh_cmd *cmd = cmdAt(c, k);
    int own = 0;
    for (int r = 0; r < cmd->nredirs; r++)
        if (cmd->redirs[r].op == LH_R_HEREDOC || cmd->redirs[r].op == LH_R_HERESTR) own = 1;
    if (!own) return 0;
    enum { MAXW = 64 };
    int n = cmd->argc - i;
    lh_word *argv = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)(n + MAXW));
    if (!argv) { c->oom = 1; return 1; }
    memcpy(argv, cmd->argv + i, sizeof(lh_word) * (size_t)n);
    const char *end = text + len;
    for (const char *p = text; p < end && n < cmd->argc - i + MAXW;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\n') p++;
        if (p == w) break;
        char *t = lh_arena_strndup(c->arena, w, (size_t)(p - w));
        if (!t) { c->oom = 1; return 1; }
        argv[n].s = t;
        argv[n].len = (uint32_t)(p - w);
        argv[n].flags = 0;
        n++;
    }
    addArgvChild(c, lim, k, argv, n, i, LH_ORIGIN_XARGS, 0);
    return 1;
}

/* xargs -I R CMD … R … fed a literal (here-string, echo/printf |, -a /dev/stdin): one
 * child per input line with R replaced, as xargs runs it. Without -I, see xargsAppend.
 * Returns 1 when done. */
static int xargsReplace(lh_ctx *c, const lh_shell_limits *lim, int k, int i) {
    static const char *const lo[] = {"--arg-file", "--delimiter", "--eof", "--replace",
                                     "--max-lines", "--max-args", "--max-procs",
                                     "--max-chars", "--process-slot-var", NULL};
    lh_cmd *cmd = cmdAt(c, k);
    const char *repl = lh_option_value(cmd->argv, cmd->argc, 1, "adEILnPs", lo, 'I', "--replace");
    const char *file = lh_option_value(cmd->argv, cmd->argc, 1, "adEILnPs", lo, 'a', "--arg-file");
    if (i >= cmd->argc) return 0;
    if (file && strcmp(file, "/dev/stdin") && strcmp(file, "-")) return 0;
    size_t len;
    const char *text = lh_stdin_text(c, k, &len);
    if (!text) return 0;
    if (!repl || !*repl) return xargsAppend(c, lim, k, i, text, len);
    size_t rl = strlen(repl);
    int made = 0;
    for (const char *line = text, *end = text + len; line < end && made < 16;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        while (line < le && (*line == ' ' || *line == '\t')) line++;   /* xargs -I trims blanks */
        if (le > line) {
            cmd = cmdAt(c, k);
            int n = cmd->argc - i;
            lh_word *argv = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)n);
            if (!argv) { c->oom = 1; return 1; }
            for (int q = 0; q < n; q++) {
                argv[q] = cmd->argv[i + q];
                const char *ph = strstr(argv[q].s, repl);
                if (!ph) continue;
                char *t = lh_arena_printf(c->arena, "%.*s%.*s%s", (int)(ph - argv[q].s), argv[q].s,
                                          (int)(le - line), line, ph + rl);
                if (!t) { c->oom = 1; return 1; }
                argv[q].s = t;
                argv[q].len = (uint32_t)strlen(t);
                argv[q].flags &= ~(uint32_t)LH_W_DYNAMIC;
            }
            if (addArgvChild(c, lim, k, argv, n, i, LH_ORIGIN_XARGS, 0) < 0) return 1;
            made++;
        }
        line = nl ? nl + 1 : end;
    }
    return made > 0;
}

/* xargs [options] CMD ARGS… → a child command CMD ARGS… whose further arguments come
 * from stdin. */
static void expandXargs(lh_ctx *c, const lh_shell_limits *lim, int k) {
    static const char *const lo[] = {"--arg-file", "--delimiter", "--eof", "--replace",
                                     "--max-lines", "--max-args", "--max-procs",
                                     "--max-chars", "--process-slot-var", NULL};
    static lh_word echo_word = {"echo", 4, 0};
    lh_cmd *cmd = cmdAt(c, k);
    int i = skipOptions(cmd, 1, "adEILnPs", lo);
    if (xargsReplace(c, lim, k, i)) return;
    int child = i < cmd->argc
        ? addArgvChild(c, lim, k, cmd->argv + i, cmd->argc - i, i, LH_ORIGIN_XARGS, LH_C_STDIN_ARGS)
        : addArgvChild(c, lim, k, &echo_word, 1, -1, LH_ORIGIN_XARGS, LH_C_STDIN_ARGS);
    if (child < 0) return;
    /* it reads the pipeline's data: keep the stage, for exfiltration checks */
    cmd = cmdAt(c, k);
    lh_cmd *ch = cmdAt(c, child);
    ch->pipeline = cmd->pipeline;
    ch->pipe_pos = cmd->pipe_pos;
    ch->pipe_len = cmd->pipe_len;
    ch->flags |= cmd->flags & (LH_C_PIPE_IN | LH_C_PIPE_OUT);
}

/* parallel [options] CMD … ::: ARGS → the command with the arguments filled in. */
static void expandParallel(lh_ctx *c, const lh_shell_limits *lim, int k) {
    static const char *const lo[] = {"--jobs", "--sshlogin", "--joblog", "--results",
                                     "--delay", "--timeout", "--retries", "--arg-file", NULL};
    lh_cmd *cmd = cmdAt(c, k);
    int i = skipOptions(cmd, 1, "jSaI", lo);
    int sep = cmd->argc;
    for (int j = i; j < cmd->argc; j++)
        if (!strcmp(cmd->argv[j].s, ":::") || !strcmp(cmd->argv[j].s, "::::")) { sep = j; break; }
    if (i >= sep) {
        /* parallel ::: CMD1 CMD2: each argument is a command line */
        for (int j = sep + 1; j < cmdAt(c, k)->argc; j++) {
            if (!strcmp(cmdAt(c, k)->argv[j].s, ":::") || !strcmp(cmdAt(c, k)->argv[j].s, "::::")) break;
            parseChild(c, lim, k, j, cmdAt(c, k)->argv[j].s, cmdAt(c, k)->argv[j].len, LH_ORIGIN_XARGS);
        }
        return;
    }
    size_t clen, alen = 0;
    char *ctext = joinWords(c, cmd, i, sep, &clen);
    char *atext = sep + 1 < cmd->argc ? joinWords(c, cmd, sep + 1, cmd->argc, &alen) : NULL;
    if (!ctext) return;
    char *text = ctext;
    size_t len = clen;
    if (atext) {
        const char *ph = strstr(ctext, "{}");
        if (ph) text = lh_arena_printf(c->arena, "%.*s%s%s", (int)(ph - ctext), ctext, atext, ph + 2);
        else text = lh_arena_printf(c->arena, "%s %s", ctext, atext);
        if (!text) { c->oom = 1; return; }
        len = strlen(text);
    }
    int first = c->script->ncmds;
    parseChild(c, lim, k, i, text, len, LH_ORIGIN_XARGS);
    if (!atext)
        for (int j = first; j < c->script->ncmds; j++) cmdAt(c, j)->flags |= LH_C_STDIN_ARGS;
}

/* find START… EXPR -exec CMD {} ; → one child CMD per START with {} replaced by it
 * (analyzers narrow it by find's filters: -name, -prune …). */
static void expandFind(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    int i = 1;
    while (i < cmd->argc) {               /* -H -L -P -D x -O3 */
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "-H") || !strcmp(a, "-L") || !strcmp(a, "-P") || !strncmp(a, "-O", 2)) { i++; continue; }
        if (!strcmp(a, "-D")) { i += 2; continue; }
        break;
    }
    /* every start path: `find build / -exec rm -rf {} +` also deletes / */
    const char *starts[8];
    int nstarts = 0;
    for (; i < cmd->argc && nstarts < 8; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' || !strcmp(a, "(") || !strcmp(a, "!")) break;
        starts[nstarts++] = a;
    }
    if (nstarts == 0) starts[nstarts++] = ".";
    for (int j = i; j < cmd->argc; j++) {
        const char *a = cmd->argv[j].s;
        if (strcmp(a, "-exec") && strcmp(a, "-execdir") && strcmp(a, "-ok") && strcmp(a, "-okdir"))
            continue;
        int from = j + 1, to = from;
        while (to < cmd->argc && strcmp(cmd->argv[to].s, ";") && strcmp(cmd->argv[to].s, "+")) to++;
        if (to == from) continue;
        for (int st = 0; st < nstarts; st++) {
            lh_word *argv = lh_arena_alloc(c->arena, sizeof(lh_word) * (size_t)(to - from));
            if (!argv) { c->oom = 1; return; }
            for (int q = from; q < to; q++) {
                argv[q - from] = cmd->argv[q];
                const char *ph = strstr(cmd->argv[q].s, "{}");
                if (ph) {
                    char *t = lh_arena_printf(c->arena, "%.*s%s%s", (int)(ph - cmd->argv[q].s),
                                              cmd->argv[q].s, starts[st], ph + 2);
                    if (!t) { c->oom = 1; return; }
                    argv[q - from].s = t;
                    argv[q - from].len = (uint32_t)strlen(t);
                }
            }
            if (addArgvChild(c, lim, k, argv, to - from, from, LH_ORIGIN_FIND_EXEC, 0) < 0) return;
            cmd = cmdAt(c, k);
        }
        j = to;
    }
}

/* Remote or in-container commands: ssh HOST CMD…, kubectl exec … -- CMD…,
 * docker exec [opts] CTR CMD…, su -c CMD, watch CMD, eval …, env -S … */
static void expandJoined(lh_ctx *c, const lh_shell_limits *lim, int k, int from,
                         lh_origin origin) {
    lh_cmd *cmd = cmdAt(c, k);
    if (from >= cmd->argc) return;
    size_t len;
    char *text = joinWords(c, cmd, from, cmd->argc, &len);
    if (text) parseChild(c, lim, k, from, text, len, origin);
}

/* A remote or in-container shell with no -c reads its script on stdin:
 * `ssh host <<EOF`, `ssh host 'bash -s' <<< …`, `docker exec -i c sh <<< …`. */
static int readsScript(const lh_cmd *cmd, int from) {
    if (from >= cmd->argc) return 1;
    const char *w = cmd->argv[from].s;
    size_t n = strcspn(w, " \t");
    char first[16];
    if (n >= sizeof(first)) return 0;
    memcpy(first, w, n);
    first[n] = 0;
    if (!lh_is_shell(baseName(first))) return 0;
    for (int j = from; j < cmd->argc; j++)
        if (strstr(cmd->argv[j].s, "-c") || (j > from && cmd->argv[j].s[0] != '-')) return 0;
    return 1;
}

static void parseStdinScript(lh_ctx *c, const lh_shell_limits *lim, int k, int from) {
    if (!readsScript(cmdAt(c, k), from)) return;
    size_t len;
    const char *text = lh_stdin_text(c, k, &len);
    if (text) parseChild(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
}

static void expandSsh(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    int i = skipOptions(cmd, 1, "BbcDEeFIiJLlmOoPpQRSWw", NULL);
    if (i + 1 < cmd->argc) expandJoined(c, lim, k, i + 1, LH_ORIGIN_SHELL_C);
    if (i < cmd->argc) parseStdinScript(c, lim, k, i + 1);
}

/* kubectl exec POD -- CMD… and docker exec [opts] CTR CMD… run CMD's argv directly in
 * the container (no shell joins the words, unlike ssh). */
static void expandExec(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    if (cmd->argc < 3 || strcmp(cmd->argv[1].s, "exec")) return;
    int from = -1;
    if (!strcmp(cmd->prog, "kubectl") || !strcmp(cmd->prog, "oc")) {
        for (int j = 2; j < cmd->argc; j++)
            if (!strcmp(cmd->argv[j].s, "--")) { from = j + 1; break; }
    } else {
        static const char *const lo[] = {"--env", "--env-file", "--user", "--workdir", "--detach-keys", NULL};
        from = skipOptions(cmd, 2, "euw", lo) + 1;
    }
    if (from > 0 && from < cmd->argc) {
        addArgvChild(c, lim, k, cmd->argv + from, cmd->argc - from, from, LH_ORIGIN_SHELL_C, 0);
        parseStdinScript(c, lim, k, from);
    }
}

/* ------------------------------------------------------------------------------ */
/* The walk                                                                        */
/* ------------------------------------------------------------------------------ */

static void expandOne(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    if (cmd->argc == 0 && !cmd->nassigns) return;
    if (lh_feed_expand(c, lim, k)) return;      /* side doors: feeds.c */
    cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    if (cmd->argc == 0) return;
    if (lh_runner_expand(c, lim, k)) return;   /* at, tmux, screen, awk, sed, salt … */
    if (lh_is_shell(p)) {
        if (expandShellC(c, lim, k)) return;
        if (!shellHasOperand(cmd)) {
            size_t len;
            const char *text = lh_stdin_text(c, k, &len);
            if (text) parseChild(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
        }
        return;
    }
    if (lh_is_interpreter(p)) {
        size_t len;
        const char *code = lh_unwrap_inline_code(c, k, &len);
        if (code) lh_unwrap_scan_code(c, lim, k, code, len);
        return;
    }
    if (!strcmp(p, "eval")) { expandJoined(c, lim, k, 1, LH_ORIGIN_EVAL); return; }
    if (!strcmp(p, "xargs")) { expandXargs(c, lim, k); return; }
    if (!strcmp(p, "parallel")) { expandParallel(c, lim, k); return; }
    if (!strcmp(p, "find")) { expandFind(c, lim, k); return; }
    if (!strcmp(p, "ssh")) { expandSsh(c, lim, k); return; }
    if (!strcmp(p, "kubectl") || !strcmp(p, "oc") || !strcmp(p, "docker") || !strcmp(p, "podman")) {
        expandExec(c, lim, k);
        return;
    }
    if (!strcmp(p, "watch")) {
        static const char *const lo[] = {"--interval", "--differences", NULL};
        int i = skipOptions(cmd, 1, "n", lo);
        expandJoined(c, lim, k, i, LH_ORIGIN_SHELL_C);
        return;
    }
    if (!strcmp(p, "flock")) {          /* su -c, runuser -c, script -c: runners.c */
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-c") || !strcmp(cmd->argv[i].s, "--command")) {
                parseChild(c, lim, k, i + 1, cmd->argv[i + 1].s, cmd->argv[i + 1].len, LH_ORIGIN_SHELL_C);
                return;
            }
        return;
    }
    /* A root shell with no command reads its script from stdin: `sudo -s <<EOF`,
     * `echo 'rm -rf /' | sudo -i`. (sudo with a command was unwrapped; su: runners.c.) */
    if (!strcmp(p, "sudo") || !strcmp(p, "doas")) {
        size_t len;
        const char *text = lh_stdin_text(c, k, &len);
        if (text) {
            cmd->flags |= LH_C_SUDO;
            parseChild(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
        }
        return;
    }
    if (!strcmp(p, "env")) {
        for (int i = 1; i < cmd->argc; i++) {
            const char *split = lh_sem_env_split_text(cmd->argv[i].s);
            if (!split) continue;
            if (!*split) { expandJoined(c, lim, k, i + 1, LH_ORIGIN_SHELL_C); return; }
            /* the string is attached (-S'…', --split-string=…): it and the words after */
            size_t rl = 0;
            char *rest = i + 1 < cmd->argc ? joinWords(c, cmd, i + 1, cmd->argc, &rl) : "";
            char *text = rest ? lh_arena_printf(c->arena, "%s %s", split, rest) : NULL;
            if (!text) { c->oom = 1; return; }
            parseChild(c, lim, k, i, text, strlen(text), LH_ORIGIN_SHELL_C);
            return;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* cd                                                                              */
/* ------------------------------------------------------------------------------ */

#define UNKNOWN_DIR "?"

/* dir (normalised, absolute) joined with the relative path t and normalised, or
 * UNKNOWN_DIR past LH_MAX_PATH_BYTES. Only t is folded: dir is copied once, so a chain
 * of cds (`cd a && cd a && …`) costs each cd its directory's length in memcpy. */
static const char *joinDir(lh_ctx *c, const char *dir, const char *t) {
    size_t dn = strlen(dir), tn = strlen(t);
    if (dn + 1 + tn > LH_MAX_PATH_BYTES) return UNKNOWN_DIR;
    char *p = lh_arena_alloc(c->arena, dn + 2 + tn);
    if (!p) { c->oom = 1; return UNKNOWN_DIR; }
    memcpy(p, dir, dn);
    size_t o = (dn == 1) ? 0 : dn;   /* "/" joins as "" + "/name" */
    for (size_t i = 0; i < tn;) {
        while (i < tn && t[i] == '/') i++;
        size_t st = i;
        while (i < tn && t[i] != '/') i++;
        size_t n = i - st;
        if (n == 0 || (n == 1 && t[st] == '.')) continue;
        if (n == 2 && t[st] == '.' && t[st + 1] == '.') {
            while (o > 0 && p[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        p[o++] = '/';
        memcpy(p + o, t + st, n);
        o += n;
    }
    if (o == 0) p[o++] = '/';
    p[o] = 0;
    return p;
}

/* The directory `cd ARG` (or pushd) moves to from dir; UNKNOWN_DIR when it depends on
 * a run-time value. */
static const char *cdTarget(lh_ctx *c, const lh_cmd *cmd, const char *dir, const char *prev) {
    int i = 1;
    while (i < cmd->argc && cmd->argv[i].s[0] == '-' && cmd->argv[i].s[1]) i++;  /* -P -L */
    const char *home = c->home ? c->home : UNKNOWN_DIR;
    if (i >= cmd->argc) return home;
    const lh_word *w = &cmd->argv[i];
    const char *t = w->s;
    if (!strcmp(t, "-")) return prev ? prev : UNKNOWN_DIR;   /* back to $OLDPWD */
    /* the repository's top level: the request's cwd is the project */
    static const char *const tops[] = {"$(git rev-parse --show-toplevel)",
                                       "`git rev-parse --show-toplevel`", NULL};
    for (int k = 0; tops[k]; k++) {
        size_t tl = strlen(tops[k]);
        if (!strncmp(t, tops[k], tl) && (t[tl] == 0 || t[tl] == '/') && c->cwd_is_project &&
            !strchr(t + tl, '$') && !strchr(t + tl, '`')) {
            char *p = lh_arena_printf(c->arena, "%s%s", c->cwd, t + tl);
            if (!p) { c->oom = 1; return UNKNOWN_DIR; }
            lh_path_normalize(p, strlen(p));
            return p;
        }
    }
    if (w->flags & LH_W_DYNAMIC) {
        if (!strcmp(t, "$HOME") || !strcmp(t, "${HOME}")) return home;
        if (!strncmp(t, "$HOME/", 6)) t += 5;
        else if (!strncmp(t, "${HOME}/", 8)) t += 7;
        else return UNKNOWN_DIR;
        if (!strcmp(home, UNKNOWN_DIR) || (w->flags & LH_W_SUBST)) return UNKNOWN_DIR;
        char *h = lh_arena_printf(c->arena, "%s%s", home, t);
        if (!h) { c->oom = 1; return UNKNOWN_DIR; }
        lh_path_normalize(h, strlen(h));   /* joinDir folds only what is joined later */
        return h;
    }
    if (w->flags & LH_W_GLOB) return UNKNOWN_DIR;
    char *p;
    if (t[0] == '~' && (t[1] == 0 || t[1] == '/')) {
        if (!strcmp(home, UNKNOWN_DIR)) return UNKNOWN_DIR;
        p = lh_arena_printf(c->arena, "%s%s", home, t + 1);
    } else if (t[0] == '/') {
        p = lh_arena_strdup(c->arena, t);
    } else {
        if (!strcmp(dir, UNKNOWN_DIR)) return UNKNOWN_DIR;
        return joinDir(c, dir, t);
    }
    if (!p) { c->oom = 1; return UNKNOWN_DIR; }
    /* no longer than a path can be: else each cd of a chain (`cd a && cd a && …`) copied
     * and folded a longer one, and every later path was joined to it (quadratic) */
    size_t n = lh_path_normalize(p, strlen(p));
    return n > LH_MAX_PATH_BYTES ? UNKNOWN_DIR : p;
}

/* Give every command the directory it runs in. A `cd` outside a pipeline moves the
 * commands after it in the same script; a nested script starts where its parent runs.
 * Subshells are not tracked separately: a cd inside ( … ) is taken to last. */
static void trackDirs(lh_ctx *c) {
    lh_script *s = c->script;
    typedef struct { int parent; lh_origin origin; const char *dir, *prev; } scope;
    scope scopes[32];
    int nscopes = 0;
    for (int k = 0; k < s->ncmds; k++) {
        lh_cmd *cmd = cmdAt(c, k);
        const char *start = cmd->parent >= 0 && cmdAt(c, cmd->parent)->cwd ? cmdAt(c, cmd->parent)->cwd : NULL;
        scope *sc = NULL;
        for (int j = 0; j < nscopes; j++)
            if (scopes[j].parent == cmd->parent && scopes[j].origin == cmd->origin) sc = &scopes[j];
        if (!sc && nscopes < 32) {
            sc = &scopes[nscopes++];
            sc->parent = cmd->parent;
            sc->origin = cmd->origin;
            sc->dir = start;
            sc->prev = NULL;
        }
        cmd->cwd = sc ? sc->dir : start;
        if (sc && cmd->argc > 0 && cmd->pipe_len == 1 &&
            (!strcmp(cmd->prog, "cd") || !strcmp(cmd->prog, "pushd") || !strcmp(cmd->prog, "chdir"))) {
            const char *from = sc->dir ? sc->dir : c->cwd;
            if (!lh_step_bytes(c, strlen(from))) return;   /* the join copies it, kept per cd */
            sc->dir = cdTarget(c, cmd, from, sc->prev ? sc->prev : c->cwd);
            sc->prev = from;
        }
    }
}

void lh_unwrap_child(lh_ctx *c, const lh_shell_limits *lim, int k, const char *text, size_t len) {
    parseChild(c, lim, k, -1, text, len, LH_ORIGIN_SHELL_C);
}

static void unwrapFrom(lh_ctx *c, const lh_shell_limits *lim, int from) {
    lh_script *s = c->script;
    lh_sem sem;
    sem.naliases = sem.nrenames = 0;   /* the tables are read only below their counts */
    for (int k = from; k < s->ncmds && !c->oom && lh_step(c, 1); k++) {
        lh_litvar_resolve(c, k);
        if (lh_sem_before(c, lim, &sem, k)) continue;
        lh_feed_prestrip(c, k);   /* ld.so --preload: feeds.c */
        /* each strip takes at least one word: this ends, and the budget bounds it */
        while (lh_step(c, 1)) {
            tracePipe(c, lim, k);   /* strace -o '|CMD' (it may grow the command table) */
            if (stripWrapper(c, cmdAt(c, k)) != 1) break;
        }
        if (s->error == LH_SH_NOMEM) { c->oom = 1; return; }
        lh_sem_after(c, lim, &sem, k);
        expandOne(c, lim, k);
    }
    trackDirs(c);
}

/* ------------------------------------------------------------------------------ */
/* For runners.c                                                                   */
/* ------------------------------------------------------------------------------ */

void lh_unwrap_argv_child(lh_ctx *c, const lh_shell_limits *lim, int k, int from) {
    lh_cmd *cmd = cmdAt(c, k);
    if (from < cmd->argc)
        addArgvChild(c, lim, k, cmd->argv + from, cmd->argc - from, from, LH_ORIGIN_SHELL_C, 0);
}

void lh_unwrap_join_child(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to,
                          lh_origin origin) {
    lh_cmd *cmd = cmdAt(c, k);
    if (from >= to || to > cmd->argc) return;
    size_t len;
    char *text = joinWords(c, cmd, from, to, &len);
    if (text) parseChild(c, lim, k, from, text, len, origin);
}

void lh_unwrap(lh_ctx *c, const lh_shell_limits *lim) {
    unwrapFrom(c, lim, 0);
    /* a file written and then run: the run's children are the written content */
    int before = c->script->ncmds;
    if (!c->oom) lh_links(c);   /* ln -s T L; … L …: the later words name T (links.c) */
    if (!c->oom) lh_writerun(c, lim);
    if (c->script->ncmds > before) unwrapFrom(c, lim, before);
}

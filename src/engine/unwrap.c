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
static size_t quoteInto(char *out, const char *s) {
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
                        o += quoteInto(out + o, cmd->argv[j].s);
                        if (j + 1 < cmd->argc) out[o++] = ' ';
                    }
                } else if (idx < nargs) {
                    o += quoteInto(out + o, cmd->argv[argbase + idx].s);
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
        int is_printf = !strcmp(prev->prog, "printf");
        if (strcmp(prev->prog, "echo") && !is_printf) return NULL;
        int from = 1;
        while (!is_printf && from < prev->argc && prev->argv[from].s[0] == '-') from++;
        /* printf FORMAT ARGS: with a %s format, each argument is printed on its own */
        int per_line = is_printf && from < prev->argc && strstr(prev->argv[from].s, "%s");
        if (per_line) from++;
        if (from >= prev->argc) return NULL;
        size_t n = 0;
        for (int a = from; a < prev->argc; a++) n += prev->argv[a].len + 1;
        char *t = lh_arena_alloc(c->arena, n + 1);
        if (!t) { c->oom = 1; return NULL; }
        size_t o = 0;
        for (int a = from; a < prev->argc; a++) {
            const char *w = prev->argv[a].s;
            for (size_t q = 0; q < prev->argv[a].len; q++) {
                /* printf and echo -e turn \n into newlines */
                if (w[q] == '\\' && w[q + 1] == 'n') { t[o++] = '\n'; q++; }
                else t[o++] = w[q];
            }
            if (a + 1 < prev->argc) t[o++] = per_line ? '\n' : ' ';
        }
        t[o] = 0;
        *len = o;
        return t;
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
/* Inline interpreter code                                                         */
/* ------------------------------------------------------------------------------ */

/* The code given with -c/-e/-r/--eval (or a here-doc/here-string when no script
 * file is named); NULL if none. */
static const char *inlineCode(lh_ctx *c, int k, size_t *len) {
    lh_cmd *cmd = cmdAt(c, k);
    int operand = 0;
    lh_lang lang = lh_code_lang(cmd->prog);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        /* (advcontent) options whose meaning differs by language: python -E is a flag,
         * node -r and php -d take a value */
        if (lang == LH_LANG_PYTHON && !strcmp(a, "-E")) continue;
        if (((lang == LH_LANG_JS && !strcmp(a, "-r")) || (lang == LH_LANG_PHP && !strcmp(a, "-d"))) && i + 1 < cmd->argc) {
            i++;
            continue;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "-e") || !strcmp(a, "-E") || !strcmp(a, "-r") ||
            !strcmp(a, "--eval") || !strcmp(a, "-p") || !strcmp(a, "--print") ||
            !strcmp(a, "-pe") || !strcmp(a, "-ne") || !strcmp(a, "-lne") || !strcmp(a, "-le")) {
            if (i + 1 < cmd->argc) { *len = cmd->argv[i + 1].len; return cmd->argv[i + 1].s; }
            return NULL;
        }
        if (!strncmp(a, "--eval=", 7)) { *len = strlen(a + 7); return a + 7; }
        if (!strcmp(a, "-m")) return NULL;      /* python -m module */
        /* (advcontent) options that take a value (python -X utf8, -W ignore), and short
         * flags joined with the code option (python -Ic, -Sc, perl -we) */
        if ((!strcmp(a, "-X") || !strcmp(a, "-W") || !strcmp(a, "-Q")) && i + 1 < cmd->argc) { i++; continue; }
        size_t al = strlen(a);
        if (al > 2 && al < 8 && a[0] == '-' && a[1] != '-' && strchr("ceEr", a[al - 1])) {
            int flags = 1;
            for (size_t j = 1; j + 1 < al; j++)
                if (!((a[j] >= 'a' && a[j] <= 'z') || (a[j] >= 'A' && a[j] <= 'Z'))) flags = 0;
            if (flags) {
                if (i + 1 < cmd->argc) { *len = cmd->argv[i + 1].len; return cmd->argv[i + 1].s; }
                return NULL;
            }
        }
        /* `-` and /dev/stdin (python3 /dev/stdin <<<…) read the script on stdin */
        if (a[0] != '-' || !strcmp(a, "-")) { operand = 1; if (strcmp(a, "-") && !lh_sem_is_stdin_path(a)) break; }
    }
    if (operand && strcmp(cmd->argv[cmd->argc - 1].s, "-")) {
        int dash = 0;
        for (int i = 1; i < cmd->argc; i++) if (!strcmp(cmd->argv[i].s, "-") || lh_sem_is_stdin_path(cmd->argv[i].s)) dash = 1;
        if (!dash) return NULL;
    }
    for (int r = 0; r < cmd->nredirs; r++)
        if (cmd->redirs[r].op == LH_R_HEREDOC || cmd->redirs[r].op == LH_R_HERESTR) {
            *len = cmd->redirs[r].target.len;
            return cmd->redirs[r].target.s;
        }
    return NULL;
}

/* Read a string literal at s ('…', "…", `…`, r"…", b'…', f"…", """…"""); returns
 * the decoded text (simple escapes) or NULL. *end is set past it; *fstring when it
 * interpolates ({…} in an f-string, ${…} in a JS template, #{…} in Ruby, "$x" in
 * perl/php double quotes). */
static char *readLiteral(lh_ctx *c, const char *s, const char *lim, const char **end,
                         int *interp) {
    *interp = 0;
    int fstr = 0;
    while (s < lim && (*s == 'r' || *s == 'b' || *s == 'u' || *s == 'f' || *s == 'R' || *s == 'F')) {
        if (*s == 'f' || *s == 'F') fstr = 1;
        s++;
    }
    if (s >= lim || (*s != '"' && *s != '\'' && *s != '`')) return NULL;
    char q = *s;
    int triple = (lim - s >= 3 && s[1] == q && s[2] == q);
    s += triple ? 3 : 1;
    /* find the closing quote first and allocate the literal's own size: code with
     * many literals would otherwise take the rest of the code once per literal */
    const char *close = s;
    while (close < lim && !(triple ? (lim - close >= 3 && close[0] == q && close[1] == q && close[2] == q)
                                   : *close == q))
        close += (*close == '\\' && close + 1 < lim) ? 2 : 1;
    if (close >= lim) return NULL;
    char *out = lh_arena_alloc(c->arena, (size_t)(close - s) + 1);
    if (!out) { c->oom = 1; return NULL; }
    size_t o = 0;
    while (s < close) {
        if (*s == '\\' && s + 1 < close) {
            char e = s[1];
            int hex = e == 'x' ? 2 : e == 'u' ? 4 : 0;   /* \x72, \u0072: ASCII decoded */
            if (e >= '0' && e <= '7' && s + 3 < lim && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
                unsigned ov = (unsigned)(e - '0') * 64 + (unsigned)(s[2] - '0') * 8 + (unsigned)(s[3] - '0');
                if (ov > 0 && ov < 0x80) { out[o++] = (char)ov; s += 4; continue; }   /* \162: octal */
            }
            unsigned v = 0;
            for (int i = 0; i < hex && s + 2 + i < lim; i++) {
                char h = s[2 + i];
                int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (d < 0) { hex = 0; break; }
                v = v * 16 + (unsigned)d;
            }
            if (hex && s + 2 + hex <= lim && v > 0 && v < 0x80) { out[o++] = (char)v; s += 2 + hex; continue; }
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            s += 2;
            continue;
        }
        out[o++] = *s++;
    }
    *end = close + (triple ? 3 : 1);
    out[o] = 0;
    if (fstr && strchr(out, '{')) *interp = 1;
    if (q == '`' && strstr(out, "${")) *interp = 1;
    if (q == '"' && (strstr(out, "#{") || strchr(out, '$'))) *interp = 1;
    return out;
}

/* out (cap bytes, o used) with room for need more bytes and a NUL, grown in the arena
 * (doubling); NULL when out of memory. */
static char *roomFor(lh_ctx *c, char *out, size_t *cap, size_t o, size_t need) {
    if (o + need + 1 <= *cap) return out;
    size_t ncap = *cap * 2 > o + need + 1 ? *cap * 2 : o + need + 1;
    char *n = lh_arena_grow(c->arena, out, *cap, ncap);
    if (!n) { c->oom = 1; return NULL; }
    *cap = ncap;
    return n;
}

static const char *skipSpace(const char *s, const char *lim) {
    while (s < lim && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    return s;
}

static const char *deleteTarget(lh_ctx *c, const char *s, const char *lim);

/* Collect the string literals of a list literal [ … ] as one shell-quoted command (a
 * known home expression, os.path.expanduser('~') or Path.home(), is ~). */
static char *readListCommand(lh_ctx *c, const char *s, const char *lim, int *opaque) {
    if (s >= lim || *s != '[') return NULL;
    s++;
    size_t cap = 64, o = 0;
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; return NULL; }
    for (;;) {
        s = skipSpace(s, lim);
        if (s >= lim) return NULL;
        if (*s == ']') break;
        const char *e;
        int interp;
        char *lit = readLiteral(c, s, lim, &e, &interp);
        if (!lit) {
            const char *t = deleteTarget(c, s, lim);
            if (!t || strcmp(t, "~")) { *opaque = 1; return NULL; }
            if (o) out[o++] = ' ';
            out[o++] = '~';
            int depth = 0;   /* past the expression: to the next top-level ',' or ']' */
            for (; s < lim && (depth || (*s != ',' && *s != ']')); s++) {
                if (*s == '(' || *s == '[' || *s == '{') depth++;
                else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
            }
            if (s < lim && *s == ',') s++;
            continue;
        }
        if (interp) *opaque = 1;
        if (!(out = roomFor(c, out, &cap, o, strlen(lit) * 4 + 3))) return NULL;
        if (o) out[o++] = ' ';
        o += quoteInto(out + o, lit);
        s = skipSpace(e, lim);
        if (s < lim && *s == ',') s++;
    }
    out[o] = 0;
    return out;
}

/* The arguments after the first of a list-form call, system("rm", "-rf", $dir) in perl
 * or ruby: each literal (or a known home expression, as ~) shell-quoted after first; a
 * computed one becomes a variable the script never sets, so it is judged as a run-time
 * value (rm -rf "$X" escalates, ls "$X" does not). s is just past the first literal. */
static char *readArgTail(lh_ctx *c, const char *first, const char *s, const char *lim) {
    /* the buffer grows with what is written (a literal quoted takes at most 4 bytes
     * per byte, plus 3; a computed argument 18): sized by the whole rest of the code,
     * code with many calls took it once per call */
    size_t cap = strlen(first) * 4 + 3 + 64, o = 0;
    char *out = lh_arena_alloc(c->arena, cap);
    if (!out) { c->oom = 1; return NULL; }
    o += quoteInto(out, first);
    for (s = skipSpace(s, lim); s < lim && *s == ',';) {
        s = skipSpace(s + 1, lim);
        const char *e;
        int interp;
        char *lit = readLiteral(c, s, lim, &e, &interp);
        if (lit && !interp) {
            if (!(out = roomFor(c, out, &cap, o, strlen(lit) * 4 + 3))) return NULL;
            out[o++] = ' ';
            o += quoteInto(out + o, lit);
            s = skipSpace(e, lim);
            continue;
        }
        const char *t = deleteTarget(c, s, lim);   /* $ENV{HOME}, Dir.home … */
        const char *w = t && !strcmp(t, "~") ? " ~" : " \"${LH_CODE_ARG}\"";
        if (!(out = roomFor(c, out, &cap, o, strlen(w)))) return NULL;
        memcpy(out + o, w, strlen(w));
        o += strlen(w);
        int depth = 0;   /* past this argument: to the next top-level ',' or the ')' */
        for (; s < lim && (depth || (*s != ',' && *s != ')')); s++) {
            if (*s == '(' || *s == '[' || *s == '{') depth++;
            else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
        }
    }
    out[o] = 0;
    return out;
}

typedef enum { CALL_SHELL, CALL_ARGV, CALL_DELETE, CALL_UNLINK, CALL_EXECL, CALL_EXECV,
               CALL_PIPE_OPEN } call_kind;

typedef struct code_call {
    const char *name;
    call_kind kind;
} code_call;

/* Calls that run a shell command or delete a tree, in the interpreters we read. */
static const code_call kCalls[] = {
    /* shell strings */
    {"os.system(", CALL_SHELL}, {"os.popen(", CALL_SHELL}, {"subprocess.run(", CALL_ARGV},
    {"subprocess.call(", CALL_ARGV}, {"subprocess.Popen(", CALL_ARGV},
    {"subprocess.check_call(", CALL_ARGV}, {"subprocess.check_output(", CALL_ARGV},
    {"subprocess.getoutput(", CALL_SHELL}, {"subprocess.getstatusoutput(", CALL_SHELL},
    {"commands.getoutput(", CALL_SHELL}, {"pty.spawn(", CALL_ARGV},
    {"os.execvp(", CALL_EXECV}, {"os.execv(", CALL_EXECV}, {"os.spawnvp(", CALL_EXECV},
    {"system(", CALL_SHELL}, {"exec(", CALL_SHELL}, {"shell_exec(", CALL_SHELL},
    {"passthru(", CALL_SHELL}, {"popen(", CALL_SHELL}, {"proc_open(", CALL_SHELL},
    {"execSync(", CALL_SHELL}, {"spawnSync(", CALL_ARGV}, {"spawn(", CALL_ARGV},
    {"execFileSync(", CALL_ARGV}, {"execFile(", CALL_ARGV}, {"IO.popen(", CALL_SHELL},
    {"Open3.capture2(", CALL_SHELL}, {"Open3.capture3(", CALL_SHELL},
    {"%x{", CALL_SHELL}, {"%x(", CALL_SHELL}, {"qx{", CALL_SHELL}, {"qx(", CALL_SHELL},
    {"Deno.Command(", CALL_ARGV}, {"Bun.spawn(", CALL_ARGV},
    /* (advcontent) the exec and spawn families: a program's path, then its argv (whose
     * first item, argv[0], is only a name); the spawn calls' first argument is a mode */
    {"os.execl(", CALL_EXECL}, {"os.execlp(", CALL_EXECL}, {"os.execle(", CALL_EXECL},
    {"os.execlpe(", CALL_EXECL}, {"os.execve(", CALL_EXECV}, {"os.execvpe(", CALL_EXECV},
    {"os.spawnl(", CALL_EXECL}, {"os.spawnlp(", CALL_EXECL}, {"os.spawnle(", CALL_EXECL},
    {"os.spawnlpe(", CALL_EXECL}, {"os.spawnv(", CALL_EXECV}, {"os.spawnve(", CALL_EXECV},
    {"os.spawnvpe(", CALL_EXECV}, {"os.posix_spawn(", CALL_EXECV}, {"os.posix_spawnp(", CALL_EXECV},
    {"create_subprocess_shell(", CALL_SHELL}, {"create_subprocess_exec(", CALL_SHELL},
    {"pcntl_exec(", CALL_ARGV}, {"readpipe(", CALL_SHELL}, {"open3(", CALL_PIPE_OPEN},
    {"open2(", CALL_PIPE_OPEN}, {"sh(", CALL_SHELL}, {"open(", CALL_PIPE_OPEN},
    {"os.execute(", CALL_SHELL}, {"io.popen(", CALL_SHELL}, {"getoutput(", CALL_SHELL},
    {"%x[", CALL_SHELL}, {"%x|", CALL_SHELL}, {"qx/", CALL_SHELL}, {"qx'", CALL_SHELL},
    /* recursive deletes */
    {"shutil.rmtree(", CALL_DELETE}, {"rmtree(", CALL_DELETE}, {"remove_tree(", CALL_DELETE},
    {"rm_rf(", CALL_DELETE}, {"rm_r(", CALL_DELETE}, {"remove_dir(", CALL_DELETE},
    {"remove_entry_secure(", CALL_DELETE}, {"rmSync(", CALL_DELETE}, {"rmdirSync(", CALL_DELETE},
    {"fs.rm(", CALL_DELETE}, {"fs.rmdir(", CALL_DELETE}, {"fs.promises.rm(", CALL_DELETE},
    {"Deno.remove(", CALL_DELETE}, {"os.removedirs(", CALL_DELETE},
    /* single files */
    {"unlink(", CALL_UNLINK}, {"unlink ", CALL_UNLINK}, {"os.remove(", CALL_UNLINK}, {"unlinkSync(", CALL_UNLINK},
    {"File.delete(", CALL_UNLINK}, {"FileUtils.rm(", CALL_UNLINK}, {"truncate(", CALL_UNLINK},
};

/* Is the match at p the start of an identifier (not the tail of a longer name)? */
static int atNameStart(const char *code, const char *p, const char *name) {
    if (name[0] == '%' || name[0] == 'q') return p == code || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_');
    if (p == code) return 1;
    char b = p[-1];
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_') return 0;
    /* "exec(" after "child_process." or "os." is fine; after another identifier's dot
     * ("re.exec(") is not a shell call */
    if (b == '.' && !strcmp(name, "exec("))
        return (p - code >= 7 && !memcmp(p - 7, "Kernel.", 7)) || (p - code >= 8 && !memcmp(p - 8, "Process.", 8));
    if (b == '.' && (!strcmp(name, "open(") || !strcmp(name, "sh("))) return p - code >= 7 && !memcmp(p - 7, "Kernel.", 7);
    return 1;
}

/* The path a delete call targets: a literal, ~, expanduser("~…"), Path.home(),
 * os.environ['HOME'] …; NULL (opaque) otherwise. */
static const char *deleteTarget(lh_ctx *c, const char *s, const char *lim) {
    s = skipSpace(s, lim);
    const char *e;
    int interp;
    char *lit = readLiteral(c, s, lim, &e, &interp);
    if (lit) return interp ? NULL : lit;
    static const char *const homes[] = {"Path.home()", "str(Path.home())", "pathlib.Path.home()", "str(pathlib.Path.home())", "os.path.expanduser(\"~\")",
                                        "os.path.expanduser('~')", "os.homedir()",
                                        "os.environ['HOME']", "os.environ[\"HOME\"]",
                                        "process.env.HOME", "ENV['HOME']", "ENV[\"HOME\"]",
                                        "$ENV{HOME}", "Dir.home", "os.getenv('HOME')",
                                        "os.getenv(\"HOME\")", "getenv('HOME')", NULL};
    for (int k = 0; homes[k]; k++)
        if ((size_t)(lim - s) >= strlen(homes[k]) && !strncmp(s, homes[k], strlen(homes[k]))) return "~";
    if (!strncmp(s, "os.path.expanduser(", 19) || !strncmp(s, "File.expand_path(", 17)) {
        const char *t = strchr(s, '(') + 1;
        lit = readLiteral(c, t, lim, &e, &interp);
        if (lit && !interp) return lit;
    }
    return NULL;
}

/* Code that forks in a loop: perl's `fork while fork`, python's `while True: os.fork()`,
 * ruby's `loop { fork }`. */
static int forksForever(const char *code, size_t len) {
    const char *f = memmem(code, len, "fork", 4);
    if (!f) return 0;
    static const char *const loops[] = {"while", "loop", "for(;;)", "for (;;)", "until", NULL};
    for (int i = 0; loops[i]; i++)
        if (memmem(code, len, loops[i], strlen(loops[i]))) return 1;
    return 0;
}

/* Calls that send data over the network from inline code. */
static int sendsToNetwork(const char *code, size_t len) {
    static const char *const net[] = {
        "requests.post", "requests.put", "requests.request", "urlopen(", "urllib.request",
        "http.client", "httpx.", "socket.", "aiohttp", "fetch(", "axios", "http.request(",
        "https.request(", "Net::HTTP", "LWP::", "HTTP::Tiny", "IO::Socket", "curl_exec",
        "file_get_contents(\"http", "smtplib", "ftplib", "paramiko", "TCPSocket", NULL,
    };
    for (int i = 0; net[i]; i++)
        if (memmem(code, len, net[i], strlen(net[i]))) return 1;
    return 0;
}

/* The first string literal in code that names a secret file, or NULL. */
static const char *secretLiteral(lh_ctx *c, const char *code, size_t len) {
    const char *end = code + len;
    for (const char *p = code; p < end; p++) {
        if (*p != '"' && *p != '\'') continue;
        const char *e;
        int interp;
        char *lit = readLiteral(c, p, end, &e, &interp);
        if (!lit) continue;
        p = e - 1;
        if (!*lit || strlen(lit) > 512 || strchr(lit, ' ')) continue;
        if (lit[0] != '/' && lit[0] != '~' && lit[0] != '.' && !strchr(lit, '/')) continue;
        if (!lh_step_bytes(c, strlen(lit))) return NULL;   /* a classification per literal */
        lh_path path;
        if (lh_path_classify(c, lit, strlen(lit), &path) == LH_PATH_SECRET) return path.norm ? path.norm : lit;
    }
    return NULL;
}

/* text with each interpolation ({x}, ${x}, #{x}) made the run-time value
 * "${LH_CODE_ARG}", so the command around it is judged with a value it cannot see. */
static char *interpAsVar(lh_ctx *c, const char *text) {
    size_t n = strlen(text), o = 0;
    char *out = lh_arena_alloc(c->arena, n * 18 + 1);
    if (!out) { c->oom = 1; return (char *)text; }
    for (const char *p = text; *p;) {
        const char *b = *p == '{' ? p : ((*p == '$' || *p == '#') && p[1] == '{') ? p + 1 : NULL;
        const char *e = b ? strchr(b, '}') : NULL;
        if (e) {
            memcpy(out + o, "\"${LH_CODE_ARG}\"", 17);
            o += 17;
            p = e + 1;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = 0;
    return out;
}

/* Does the argument at s (up to its call's ')' or 256 bytes) decode or build its text from
 * codes (base64, hex, rot13, chr, a reversed string …)? In file code such a command is
 * still opaque: that is how a payload is hidden, not how a program names its files. */
static int decodedArg(const char *s, const char *end) {
    static const char *const dec[] = {"b64decode", "fromhex", "decode(", "codecs.", "zlib", "marshal", "atob(",
                                      "Buffer.from(", "unpack(", "pack(", "chr(", "fromCharCode", "rot13",
                                      "[::-1]", "reverse", "unhexlify", "decompress", "base64", NULL};
    const char *lim = end - s > 256 ? s + 256 : end;
    int depth = 1;
    const char *e = s;
    for (; e < lim && depth; e++) {
        if (*e == '(') depth++;
        else if (*e == ')') depth--;
    }
    for (int i = 0; dec[i]; i++)
        if (memmem(s, (size_t)(e - s), dec[i], strlen(dec[i]))) return 1;
    return 0;
}

/* Is text a shell alone (sh, /bin/bash, ['sh'] as one quoted word), which reads its
 * script from stdin? */
static int bareShell(const char *text) {
    char word[32];
    size_t n = 0;
    for (const char *t = text; *t && n + 1 < sizeof(word); t++)
        if (*t != '\'' && *t != '"' && *t != ' ') word[n++] = *t;
        else if (*t == ' ' && n) return 0;
    word[n] = 0;
    const char *b = strrchr(word, '/');
    return n && lh_is_shell(b ? b + 1 : word);
}

/* Past one argument of a call at s: to the next top-level ',' (returned at it) or the
 * call's ')'. */
static const char *skipArg(const char *s, const char *lim) {
    int depth = 0;
    for (; s < lim && (depth || (*s != ',' && *s != ')')); s++) {
        if (*s == '(' || *s == '[' || *s == '{') depth++;
        else if ((*s == ')' || *s == ']' || *s == '}') && depth) depth--;
        else if (*s == '\'' || *s == '"') {
            const char *q = memchr(s + 1, *s, (size_t)(lim - s - 1));
            if (q) s = q;
        }
    }
    return s;
}

/* (advcontent) The exec and spawn families and piped opens. how 0: execl-like (path,
 * argv0, args…); 1: execv-like (path, [argv0, args…]); the spawn calls' mode argument
 * first is skipped. how 2: perl and ruby open(F, '|-', cmd), open(F, '| cmd'),
 * open(F, 'cmd |'), open('|cmd'), and IPC::Open2/3's open2(…, cmd): the command is
 * judged; a pipe into a bare shell writes a script computed by the code (opaque). An
 * open without a pipe is a file open: nothing. */
static void codeExecCall(lh_ctx *c, const lh_shell_limits *lim, int k, const char *name, int how,
                         const char *s, const char *end, int filecode) {
    const char *e;
    int interp = 0, opaque = 0;
    char *text = NULL;
    if (how == 2) {
        int open3 = name[0] == 'o' && name[1] == 'p' && name[4] != '(';
        char *last = NULL;
        int dash = 0;
        for (const char *q = skipSpace(s, end); q < end && *q != ')';) {
            char *lit = readLiteral(c, q, end, &e, &interp);
            if (lit && !interp) {
                size_t n = strlen(lit);
                const char *t = lit;
                while (*t == ' ') t++;
                if (dash && !text) text = lit;
                else if ((*t == '|' && !strcmp(t + 1, "-")) || (*t == '-' && !strcmp(t + 1, "|"))) dash = 1;
                else if (*t == '|' && !text) text = (char *)t + 1;
                else if (n && lit[n - 1] == '|' && !text) { lit[n - 1] = 0; text = lit; }
                last = lit;
                q = e;
            } else {
                q = skipArg(q, end);
            }
            q = skipSpace(q, end);
            if (q < end && *q == ',') q = skipSpace(q + 1, end);
            else break;
        }
        if (open3 && !text) text = last;
        if (!text) {
            if (open3 && !filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
            return;
        }
        while (*text == ' ') text++;
        if (lh_is_shell(text) || (!strncmp(text, "/bin/", 5) && lh_is_shell(text + 5))) {
            lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a pipe into a shell");
            return;
        }
        parseChild(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
        return;
    }
    if (strstr(name, "spawn") && !strstr(name, "posix_spawn")) {   /* os.P_WAIT, … */
        s = skipArg(s, end);
        if (s < end && *s == ',') s = skipSpace(s + 1, end);
    }
    char *path = readLiteral(c, s, end, &e, &interp);
    if (!path || interp) {
        if (!filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
        return;
    }
    const char *rest = skipSpace(e, end);
    if (rest >= end || *rest != ',') { parseChild(c, lim, k, -1, path, strlen(path), LH_ORIGIN_INLINE); return; }
    rest = skipSpace(rest + 1, end);
    if (how == 1) {
        if (rest < end && (*rest == '[' || *rest == '(')) {
            const char *q = skipSpace(rest + 1, end);          /* past argv[0] */
            q = skipArg(q, end);
            if (q < end && *q == ',') {
                /* the list's tail read as a list: "[" + what follows argv[0] */
                size_t n = (size_t)(end - q);
                char *list = lh_arena_alloc(c->arena, n + 1);
                if (!list) { c->oom = 1; return; }
                memcpy(list, q, n);
                list[0] = '[';
                list[n] = 0;
                char *tail = readListCommand(c, list, list + n, &opaque);
                text = tail ? lh_arena_printf(c->arena, "%s %s", path, tail) : NULL;
            } else {
                text = path;
            }
        } else {
            opaque = 1;
        }
    } else {
        const char *q = skipArg(rest, end);                   /* past argv0 */
        text = q < end && *q == ',' ? readArgTail(c, path, q, end) : path;
    }
    if (!text || opaque) {
        if (!filecode) lh_emit(c, k, LH_RULE(CODE_OPAQUE), name);
        if (!text) return;
    }
    parseChild(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
}

/* Read inline code: shell-outs become child commands; recursive deletes outside the
 * project are findings; calls whose command cannot be read are escalated. */
static void scanCodeIn(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code,
                       size_t len, int depth);

static void scanCode(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code,
                     size_t len) {
    scanCodeIn(c, lim, k, code, len, 0);
}

/* Code evaluated by eval/exec/Function/load: a literal is read as code of the same
 * language (a few levels deep); a computed string is escalated, naming it. Writes that
 * replace a file are judged as a shell redirection to it. (code_lex.c) */
static void scanCodeEffects(lh_ctx *c, const lh_shell_limits *lim, int k, lh_lang lang,
                            const char *code, size_t len, int depth) {
    lh_code_effect fx[16];
    int n = lh_code_effects(c->arena, lang, code, len, fx, 16);
    if (n < 0) { c->oom = 1; return; }
    for (int i = 0; i < n; i++) {
        if (fx[i].kind == LH_CODE_WRITE) {
            parseChild(c, lim, k, -1, fx[i].text, strlen(fx[i].text), LH_ORIGIN_INLINE);
        } else if (fx[i].kind == LH_CODE_EVAL && depth < 3) {
            scanCodeIn(c, lim, k, fx[i].text, strlen(fx[i].text), depth + 1);
        } else if (fx[i].kind == LH_CODE_EVAL_REMOTE) {
            lh_emit(c, k, LH_RULE(NET_PIPE_SHELL), fx[i].text);   /* downloaded code, evaluated */
        } else {
            const char *what = fx[i].text;
            while (*what == ' ' || *what == '\t' || *what == '\n') what++;   /* no blank after the ':' */
            lh_emit_full(c, k, LH_RULE(CODE_OPAQUE)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                         "inline code evaluates a string computed at run time: what it runs cannot be seen",
                         "run the evaluated code directly so it can be checked", what);
        }
    }
}

static void scanCodeIn(lh_ctx *c, const lh_shell_limits *lim, int k, const char *code,
                       size_t len, int depth) {
    if (!lh_step_bytes(c, len)) return;
    lh_lang lang = lh_code_lang(cmdAt(c, k)->prog);
    int filecode = (cmdAt(c, k)->flags & LH_C_FILE_CODE) != 0;   /* computed args: not opaque … */
    const char *canon = lh_code_canon(c->arena, lang, code, len, &len);
    if (!canon) { c->oom = 1; return; }
    code = canon;
    scanCodeEffects(c, lim, k, lang, code, len, depth);
    const char *end = code + len;
    for (size_t n = 0; n < sizeof(kCalls) / sizeof(kCalls[0]); n++) {
        const code_call *call = &kCalls[n];
        size_t nl = strlen(call->name);
        /* a call's name may stand apart from its '(' (os.system  ('…')): the name is
         * matched without it and blanks skipped */
        size_t ml = nl > 1 && call->name[nl - 1] == '(' && call->name[0] != '%' && call->name[0] != 'q' ? nl - 1 : nl;
        const char *p = code;
        while ((p = memmem(p, (size_t)(end - p), call->name, ml)) != NULL) {
            const char *at = p;
            p += ml;
            if (ml < nl) {
                const char *b = p;
                while (b < end && (*b == ' ' || *b == '\t')) b++;
                if (b >= end || *b != '(') continue;
                p = b + 1;
            }
            if (!atNameStart(code, at, call->name)) continue;
            const char *arg = skipSpace(p, end);
            if (call->kind == CALL_UNLINK) {
                /* unlink("/etc/passwd"), unlink glob("/etc/x*"): deny on system, device and
                 * secret files; escalate outside the project; opaque when computed */
                if (!strncmp(arg, "glob(", 5)) arg = skipSpace(arg + 5, end);
                const char *t = deleteTarget(c, arg, end);
                if (!t) { if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), "file delete of a computed path"); continue; }
                lh_path path;
                lh_path_class cls = lh_path_classify(c, t, strlen(t), &path);
                const char *subj = path.norm ? path.norm : t;
                if (cls == LH_PATH_SYSTEM || cls == LH_PATH_DEVICE || cls == LH_PATH_SECRET ||
                    cls == LH_PATH_ROOT || cls == LH_PATH_VIRTUAL)
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_DENY, LH_RISK_CRITICAL, LH_TIER_ANALYSIS,
                                 "inline interpreter code deletes or truncates a system or secret file",
                                 LH_RULE(CODE_DELETE)->instead, subj);
                else if (cls != LH_PATH_PROJECT && cls != LH_PATH_TEMP)
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_ESCALATE, LH_RISK_HIGH, LH_TIER_ANALYSIS,
                                 "inline interpreter code deletes a file outside the project",
                                 LH_RULE(CODE_DELETE)->instead, subj);
                continue;
            }
            if (call->kind == CALL_DELETE) {
                const char *t = deleteTarget(c, arg, end);
                if (!t) { if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), "recursive delete of a computed path"); continue; }
                lh_path path;
                lh_path_classify(c, t, strlen(t), &path);
                if (path.cls != LH_PATH_PROJECT && path.cls != LH_PATH_TEMP)
                    lh_emit(c, k, LH_RULE(CODE_DELETE), path.norm ? path.norm : t);
                else if (path.flags & (LH_PF_IS_CWD))
                    lh_emit_full(c, k, LH_RULE(CODE_DELETE)->id, LH_ESCALATE, LH_RISK_HIGH,
                                 LH_TIER_ANALYSIS, "inline code deletes the whole project directory",
                                 "delete specific paths inside the project", path.norm);
                continue;
            }
            if (!strcmp(call->name, "sh(") && lang != LH_LANG_RUBY) continue;   /* rake's sh */
            if (call->kind == CALL_EXECL || call->kind == CALL_EXECV || call->kind == CALL_PIPE_OPEN) {
                codeExecCall(c, lim, k, call->name, call->kind == CALL_EXECV ? 1 : call->kind == CALL_EXECL ? 0 : 2,
                             arg, end, filecode);
                continue;
            }
            const char *e = arg;
            int interp = 0, opaque = 0;
            char *text = NULL;
            if (call->name[0] == '%' || call->name[0] == 'q') {
                /* %x{…} / qx{…} / %x[…] / qx/…/: up to the closing bracket */
                char open = call->name[nl - 1];
                char close = open == '{' ? '}' : open == '(' ? ')' : open == '[' ? ']' : open;
                const char *q = memchr(arg, close, (size_t)(end - arg));
                if (q) text = lh_arena_strndup(c->arena, arg, (size_t)(q - arg));
                if (text && (strstr(text, "#{") || strchr(text, '$'))) interp = 1;
            } else if (*arg == '[') {
                text = readListCommand(c, arg, end, &opaque);
            } else {
                text = readLiteral(c, arg, end, &e, &interp);
                const char *after = text ? skipSpace(e, end) : end;
                if (text && !interp && strstr(call->name, "popen") && bareShell(text)) {
                    /* popen("sh", "w"): the code writes the shell's script */
                    lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a shell reading a script the code writes");
                    continue;
                }
                if (text && call->kind == CALL_SHELL && lang != LH_LANG_PHP && !interp &&
                    after < end && *after == ',') {
                    /* system("rm", "-rf", $dir): a list, run without a shell (php's
                     * exec(cmd, $out) is a command and its output array) */
                    text = readArgTail(c, text, e, end);
                } else if (text && call->kind == CALL_ARGV) {
                    /* spawn("rm", ["-rf", "/"]) */
                    if (after < end && *after == ',') {
                        after = skipSpace(after + 1, end);
                        if (after < end && *after == '[') {
                            char *rest = readListCommand(c, after, end, &opaque);
                            if (rest) text = lh_arena_printf(c->arena, "%s %s", text, rest);
                        }
                    }
                }
            }
            if (text && !interp && !opaque && *arg != '[' && call->name[0] != '%' && call->name[0] != 'q') {
                /* a literal that is only the start of the argument ('rm -rf %s' % x,
                 * ' '.join(words), "rm -rf " .. home) is a computed command */
                const char *after = skipSpace(e, end);
                if (after < end && (*after == '.' || *after == '%' || *after == '+' || *after == '*' || *after == '[')) {
                    opaque = 1;
                    /* 'rm -rf ' + home: the rest is a run-time value, judged as one */
                    if (*after == '+' || (*after == '.' && (lang == LH_LANG_PHP || lang == LH_LANG_PERL || lang == LH_LANG_LUA)))
                        text = lh_arena_printf(c->arena, "%s\"${LH_CODE_ARG}\"", text);
                }
            }
            if (!text || interp || opaque) {
                if (!filecode || decodedArg(arg, end)) lh_emit(c, k, LH_RULE(CODE_OPAQUE), call->name);   /* … unless decoded */
                if (!text) continue;
                if (interp) text = interpAsVar(c, text);   /* f"rm -rf {home}": a run-time value */
            }
            if (bareShell(text)) {   /* a shell with no script: it reads one the code writes */
                lh_emit(c, k, LH_RULE(CODE_OPAQUE), "a shell reading a script the code writes");
                continue;
            }
            parseChild(c, lim, k, -1, text, strlen(text), LH_ORIGIN_INLINE);
        }
    }
    if (forksForever(code, len)) lh_emit(c, k, LH_RULE(FORK_BOMB), "inline code forks in a loop");
    const char *indirect = lh_code_indirect_runner(code, len);   /* getattr(os, 'system') … */
    if (indirect) lh_emit(c, k, LH_RULE(CODE_OPAQUE), indirect);
    const char *secret = secretLiteral(c, code, len);
    if (secret) lh_emit(c, k, sendsToNetwork(code, len) ? LH_RULE(EXFIL) : LH_RULE(SECRET_READ), secret);
    /* Backquotes run a shell in perl, ruby and php. */
    const char *prog = cmdAt(c, k)->prog;
    if (!strncmp(prog, "perl", 4) || !strcmp(prog, "ruby") || !strcmp(prog, "php")) {
        const char *p = code;
        while ((p = memchr(p, '`', (size_t)(end - p))) != NULL) {
            const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
            if (!q) break;
            parseChild(c, lim, k, -1, p + 1, (size_t)(q - p - 1), LH_ORIGIN_INLINE);
            p = q + 1;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* The walk                                                                        */
/* ------------------------------------------------------------------------------ */

static void expandOne(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    if (cmd->argc == 0 && !cmd->nassigns) return;
    if (lh_feed_expand(c, lim, k)) return;      /* side doors: feeds.c */
    cmd = cmdAt(c, k);
    p = cmd->prog;
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
        const char *code = inlineCode(c, k, &len);
        if (code) scanCode(c, lim, k, code, len);
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
        lh_cmd *cmd = cmdAt(c, k);
        lh_litvar_resolve(c, k);
        if (lh_sem_before(c, lim, &sem, k)) continue;
        lh_feed_prestrip(c, k);   /* ld.so --preload: feeds.c */
        /* each strip takes at least one word: this ends, and the budget bounds it */
        while (lh_step(c, 1) && stripWrapper(c, cmd) == 1) {}
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
    if (!c->oom) lh_writerun(c, lim);
    if (c->script->ncmds > before) unwrapFrom(c, lim, before);
}

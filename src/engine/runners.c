/* runners.c — read the command a runner runs (at, tmux, screen, awk, sed, fleet runners);
 * see runners.h. Everything is allocated in the request's arena. */
#include "engine/runners.h"

#include <string.h>

#include "engine/unwrap.h"
#include "engine/wrappers.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static lh_cmd *cmdAt(lh_ctx *c, int k) { return &c->script->cmds[k]; }

static int inList(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static void parseText(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text,
                      size_t len, lh_origin origin) {
    lh_unwrap_parse_child(c, lim, k, argi, text, len, origin);
}

static void parseStr(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text) {
    if (text) parseText(c, lim, k, argi, text, strlen(text), LH_ORIGIN_SHELL_C);
}

/* A child that writes file: `: > 'file'` (or >>), judged like any redirection. */
static void writeChild(lh_ctx *c, const lh_shell_limits *lim, int k, const char *file, size_t n,
                       int append) {
    char *q = lh_arena_alloc(c->arena, n * 4 + 16);
    if (!q) { c->oom = 1; return; }
    size_t o = 0;
    memcpy(q, append ? ": >> '" : ": > '", append ? 6 : 5);
    o = append ? 6 : 5;
    for (size_t i = 0; i < n; i++) {
        if (file[i] == '\'') { memcpy(q + o, "'\\''", 4); o += 4; }
        else q[o++] = file[i];
    }
    q[o++] = '\'';
    q[o] = 0;
    parseText(c, lim, k, -1, q, o, LH_ORIGIN_INLINE);
}

/* ------------------------------------------------------------------------------ */
/* at, batch                                                                       */
/* ------------------------------------------------------------------------------ */

/* at [-q Q] [-f FILE] [-mMv] TIME… reads its script on stdin. */
static void expandAt(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-') continue;
        /* -f FILE reads the file; -l -d -r -c list, delete or print jobs */
        if (strpbrk(a + 1, "fldrc")) return;
    }
    size_t len;
    const char *text = lh_stdin_text(c, k, &len);
    if (text) parseText(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
}

/* ------------------------------------------------------------------------------ */
/* tmux, screen                                                                    */
/* ------------------------------------------------------------------------------ */

/* tmux key names that type nothing (send-keys Escape, C-a, Up …). */
static int isKeyName(const char *k) {
    static const char *const names[] = {"Escape", "BSpace", "Up", "Down", "Left", "Right",
                                        "Home", "End", "PageUp", "PageDown", "PPage", "NPage",
                                        "DC", "IC", "BTab", "Any", NULL};
    if (inList(k, names)) return 1;
    if (k[0] == 'F' && k[1] >= '0' && k[1] <= '9') return 1;
    if ((k[0] == 'C' || k[0] == 'M' || k[0] == 'S') && k[1] == '-' && k[2]) return 1;
    return 0;
}

/* send-keys: the keys become typed text; Enter, C-m and C-j end a line, C-c and C-u
 * drop it. The whole text is judged (a line typed without Enter may run later). */
static void sendKeys(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to) {
    lh_cmd *cmd = cmdAt(c, k);
    int i = lh_skip_options(cmd->argv, to, from, "cNt", NULL);
    int literal = 0;
    for (int j = from; j < i; j++) {
        const char *a = cmd->argv[j].s;
        if (a[0] == '-' && strchr(a, 'l')) literal = 1;
        if (a[0] == '-' && (strchr(a, 'X') || strchr(a, 'H'))) return;  /* copy mode, hex */
    }
    size_t cap = 2;
    for (int j = i; j < to; j++) cap += cmd->argv[j].len + 1;
    char *t = lh_arena_alloc(c->arena, cap);
    if (!t) { c->oom = 1; return; }
    size_t o = 0;
    for (int j = i; j < to; j++) {
        const char *a = cmd->argv[j].s;
        if (!literal && (!strcmp(a, "Enter") || !strcmp(a, "C-m") || !strcmp(a, "C-j") ||
                         !strcmp(a, "KPEnter"))) { t[o++] = '\n'; continue; }
        if (!literal && !strcmp(a, "Space")) { t[o++] = ' '; continue; }
        if (!literal && !strcmp(a, "Tab")) { t[o++] = '\t'; continue; }
        if (!literal && isKeyName(a)) continue;
        memcpy(t + o, a, cmd->argv[j].len);
        o += cmd->argv[j].len;
    }
    t[o] = 0;
    if (o) parseText(c, lim, k, i, t, o, LH_ORIGIN_SHELL_C);
}

/* One tmux command in argv[from, to). */
static void tmuxCommand(lh_ctx *c, const lh_shell_limits *lim, int k, int from, int to) {
    static const char *const n_new[] = {"new-session", "new", NULL};
    static const char *const n_win[] = {"new-window", "neww", NULL};
    static const char *const n_split[] = {"split-window", "splitw", NULL};
    static const char *const n_resp[] = {"respawn-pane", "respawnp", "respawn-window", "respawnw", NULL};
    static const char *const n_run[] = {"run-shell", "run", NULL};
    static const char *const n_pop[] = {"display-popup", "popup", NULL};
    static const char *const n_if[] = {"if-shell", "if", NULL};
    static const char *const n_pipe[] = {"pipe-pane", "pipep", NULL};
    static const struct { const char *const *names; const char *vals; int first_only; } subs[] = {
        {n_new, "cefFnstxy", 0}, {n_win, "cefFnt", 0}, {n_split, "celtFp", 0},
        {n_resp, "cet", 0}, {n_run, "cdt", 0}, {n_pop, "bcdehsStTwxy", 0},
        {n_if, "t", 1}, {n_pipe, "t", 0},
    };
    lh_cmd *cmd = cmdAt(c, k);
    if (from >= to) return;
    const char *sub = cmd->argv[from].s;
    if (!strcmp(sub, "send-keys") || !strcmp(sub, "send")) { sendKeys(c, lim, k, from + 1, to); return; }
    for (size_t n = 0; n < sizeof(subs) / sizeof(subs[0]); n++) {
        if (!inList(sub, subs[n].names)) continue;
        int i = lh_skip_options(cmd->argv, to, from + 1, subs[n].vals, NULL);
        /* one word is a shell command; several words run as argv */
        if (i + 1 == to || (i < to && subs[n].first_only))
            parseText(c, lim, k, i, cmd->argv[i].s, cmd->argv[i].len, LH_ORIGIN_SHELL_C);
        else if (i < to && to == cmd->argc)
            lh_unwrap_argv_child(c, lim, k, i);
        else if (i < to)
            lh_unwrap_join_child(c, lim, k, i, to, LH_ORIGIN_SHELL_C);
        return;
    }
}

/* tmux [-c CMD] [global options] COMMAND … [\; COMMAND …] */
static void expandTmux(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *sc = lh_option_value(cmd->argv, cmd->argc, 1, "cfLST", NULL, 'c', NULL);
    if (sc) { parseStr(c, lim, k, -1, sc); return; }
    int i = lh_skip_options(cmd->argv, cmd->argc, 1, "cfLST", NULL);
    while (i < cmd->argc) {
        int end = i;
        while (end < cmd->argc && strcmp(cmd->argv[end].s, ";")) end++;
        tmuxCommand(c, lim, k, i, end);
        cmd = cmdAt(c, k);
        i = end + 1;
    }
}

/* screen's stuff text: \n, \r and ^M end lines. */
static char *unescapeStuff(lh_ctx *c, const char *s, size_t *len) {
    size_t n = strlen(s);
    char *t = lh_arena_alloc(c->arena, n + 1);
    if (!t) { c->oom = 1; return NULL; }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && (s[i + 1] == 'n' || s[i + 1] == 'r')) { t[o++] = '\n'; i++; }
        else if (s[i] == '^' && (s[i + 1] == 'M' || s[i + 1] == 'J')) { t[o++] = '\n'; i++; }
        else t[o++] = s[i];
    }
    t[o] = 0;
    *len = o;
    return t;
}

/* screen [opts] CMD ARGS…, screen -S x -X stuff 'CMD\n', screen -X exec CMD */
static void expandScreen(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    static const char *const attach[] = {"-r", "-R", "-RR", "-x", "-ls", "-list", "-wipe",
                                         "-D", "-Q", NULL};
    int remote = 0;
    int i = 1;
    while (i < cmd->argc) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || !strcmp(a, "--")) break;
        if (inList(a, attach)) return;
        /* a cluster such as -dmS NAME: the first value letter takes the rest or the
         * next word */
        int next = 0;
        for (const char *o = a + 1; *o; o++) {
            if (*o == 'X') remote = 1;
            if (strchr("cehpSTst", *o)) { next = o[1] == 0; break; }
        }
        i += 1 + next;
    }
    if (i > cmd->argc) i = cmd->argc;
    if (i < cmd->argc && !strcmp(cmd->argv[i].s, "--")) i++;
    if (i >= cmd->argc) return;
    if (!remote) { lh_unwrap_argv_child(c, lim, k, i); return; }
    const char *verb = cmd->argv[i].s;
    if (!strcmp(verb, "stuff") && i + 1 < cmd->argc) {
        size_t len;
        char *t = unescapeStuff(c, cmd->argv[i + 1].s, &len);
        if (t) parseText(c, lim, k, i + 1, t, len, LH_ORIGIN_SHELL_C);
    } else if ((!strcmp(verb, "exec") || !strcmp(verb, "screen")) && i + 1 < cmd->argc) {
        int j = i + 1;
        /* exec [[fdpat] newcommand]: an fd pattern such as "!.." or ".!" comes first */
        if (!strcmp(verb, "exec") && strspn(cmd->argv[j].s, ".!:|") == cmd->argv[j].len) j++;
        lh_unwrap_join_child(c, lim, k, j, cmd->argc, LH_ORIGIN_SHELL_C);
    }
}

/* ------------------------------------------------------------------------------ */
/* su, runuser USER -c CMD, script -c CMD                                          */
/* ------------------------------------------------------------------------------ */

/* The value of option opt (or lopt) anywhere before "--", reading clusters: in
 * `su -lc CMD` and `script -qc CMD`, c takes the next word. vals lists the short options
 * that take a value. Returns the word index of the value (or -1) and sets *attached for
 * -cCMD. */
static int clusterValue(const lh_cmd *cmd, const char *vals, char opt, const char *lopt,
                        const char **attached) {
    size_t ln = strlen(lopt);
    *attached = NULL;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) return -1;
        if (a[0] != '-' || a[1] == 0) continue;
        if (a[1] == '-') {
            if (!strncmp(a, lopt, ln) && a[ln] == '=') { *attached = a + ln + 1; return i; }
            if (!strcmp(a, lopt)) return i + 1 < cmd->argc ? i + 1 : -1;
            continue;
        }
        for (const char *o = a + 1; *o; o++) {
            if (!strchr(vals, *o)) continue;
            if (*o == opt) {
                if (o[1]) { *attached = o + 1; return i; }
                return i + 1 < cmd->argc ? i + 1 : -1;
            }
            if (!o[1]) i++;     /* another option's value */
            break;
        }
    }
    return -1;
}

/* su [-] [USER] -c CMD (clusters such as -lc), or a root shell reading stdin; runuser
 * without -u is the same (runuser -u U -- CMD is a wrapper). */
static void expandSu(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *att;
    int v = clusterValue(cmd, "cgGsw", 'c', "--command", &att);
    cmd->flags |= LH_C_SUDO;
    if (v >= 0) {
        parseStr(c, lim, k, v, att ? att : cmd->argv[v].s);
        return;
    }
    size_t len;
    const char *text = lh_stdin_text(c, k, &len);
    if (text) parseText(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
}

/* script [-q] -c CMD [FILE] */
static void expandScript(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const char *att;
    int v = clusterValue(cmdAt(c, k), "cEIOTBm", 'c', "--command", &att);
    if (v >= 0) parseStr(c, lim, k, v, att ? att : cmdAt(c, k)->argv[v].s);
}


/* ------------------------------------------------------------------------------ */
/* awk                                                                             */
/* ------------------------------------------------------------------------------ */

/* Read an awk string literal at p ('"'); returns its unescaped text and sets *end past
 * the closing quote, or NULL when unterminated. */
static char *awkString(lh_ctx *c, const char *p, const char *lim, const char **end) {
    char *t = lh_arena_alloc(c->arena, (size_t)(lim - p) + 1);
    if (!t) { c->oom = 1; return NULL; }
    size_t o = 0;
    for (const char *q = p + 1; q < lim; q++) {
        if (*q == '"') { t[o] = 0; *end = q + 1; return t; }
        if (*q == '\\' && q + 1 < lim) {
            q++;
            t[o++] = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q;
            continue;
        }
        t[o++] = *q;
    }
    return NULL;
}

static const char *skipBlank(const char *p, const char *lim) {
    while (p < lim && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* The statement that contains p starts after the last ; { } or newline before it. */
static const char *statementStart(const char *prog, const char *p) {
    while (p > prog && !strchr(";{}\n", p[-1])) p--;
    return p;
}

static int startsWord(const char *p, const char *lim, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(lim - p) < n || strncmp(p, w, n)) return 0;
    char e = p + n < lim ? p[n] : ' ';
    return !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') || e == '_');
}

/* The print statement holding the operator at p: sets *from to its expression (between
 * print and p) and returns 1, or returns 0 when the statement prints nothing. */
static int printExpr(const char *prog, const char *p, const char **from) {
    const char *s = statementStart(prog, p);
    int found = 0;
    /* the last print in the statement: `if ($3 > 100) print > "f"` */
    for (const char *q = s; q < p; q++) {
        if (*q == '"') {                       /* skip strings */
            for (q++; q < p && *q != '"'; q++)
                if (*q == '\\') q++;
            continue;
        }
        if (q > s && (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$", q[-1])))
            continue;
        if (startsWord(q, p, "printf")) { *from = q + 6; found = 1; }
        else if (startsWord(q, p, "print")) { *from = q + 5; found = 1; }
    }
    return found;
}

static void awkPipe(lh_ctx *c, const lh_shell_limits *lim, int k, const char *prog,
                    const char *bar, const char *end) {
    const char *from;
    if (!printExpr(prog, bar, &from)) return;
    const char *q = bar + 1;
    if (q < end && *q == '&') q++;
    q = skipBlank(q, end);
    const char *after;
    char *target = q < end && *q == '"' ? awkString(c, q, end, &after) : NULL;
    if (!target) { lh_emit(c, k, LH_RULE(CODE_OPAQUE), "awk prints into a computed command"); return; }
    const char *t = skipBlank(target, target + strlen(target));
    char prog0[32];
    size_t n = strcspn(t, " \t");
    if (n >= sizeof(prog0)) n = sizeof(prog0) - 1;
    memcpy(prog0, t, n);
    prog0[n] = 0;
    const char *slash = strrchr(prog0, '/');
    if (lh_is_shell(slash ? slash + 1 : prog0) && !strchr(t, ' ')) {
        /* print EXPR | "sh": the printed text is the script */
        const char *e = skipBlank(from, bar), *se;
        char *lit = e < bar && *e == '"' ? awkString(c, e, bar, &se) : NULL;
        if (lit && skipBlank(se, bar) == bar) { parseStr(c, lim, k, -1, lit); return; }
        lh_emit(c, k, LH_RULE(CODE_OPAQUE), "awk prints computed text into a shell");
        return;
    }
    parseStr(c, lim, k, -1, target);
}

static void awkRedirect(lh_ctx *c, const lh_shell_limits *lim, int k, const char *prog,
                        const char *gt, const char *end) {
    const char *from;
    if (gt > prog && (gt[-1] == '>' || gt[-1] == '=')) return;
    if (!printExpr(prog, gt, &from)) return;
    int append = gt + 1 < end && gt[1] == '>';
    const char *q = skipBlank(gt + 1 + append, end), *after;
    if (q >= end || *q != '"') return;   /* print > $1 ".txt": files chosen by the data */
    char *file = awkString(c, q, end, &after);
    if (file && *file && strcmp(file, "/dev/stdout") && strcmp(file, "/dev/stderr"))
        writeChild(c, lim, k, file, strlen(file), append);
}

/* awk -v NAME=VALUE assignments: system(NAME) runs VALUE. */
typedef struct {
    const char *name[8];
    size_t nlen[8];
    const char *value[8];
    int n;
} awkVars;

/* The -v value of the identifier at p followed by ')', or NULL. */
static const char *awkVarCall(const awkVars *v, const char *p, const char *end) {
    for (int i = 0; v && i < v->n; i++) {
        size_t n = v->nlen[i];
        if ((size_t)(end - p) > n && !strncmp(p, v->name[i], n) && *skipBlank(p + n, end) == ')')
            return v->value[i];
    }
    return NULL;
}

static void scanAwk(lh_ctx *c, const lh_shell_limits *lim, int k, const char *prog, size_t len,
                    const awkVars *vars) {
    const char *end = prog + len;
    for (const char *p = prog; p < end; p++) {
        if (*p == '"') {
            const char *after;
            char *lit = awkString(c, p, end, &after);
            if (!lit) return;
            const char *q = skipBlank(after, end);
            if (q + 1 < end && q[0] == '|' && q[1] != '|') {
                const char *g = skipBlank(q + 1 + (q[1] == '&'), end);
                if (startsWord(g, end, "getline")) parseStr(c, lim, k, -1, lit);   /* "cmd" | getline */
            }
            p = after - 1;
            continue;
        }
        if (*p == '|' && p + 1 < end && p[1] != '|' && (p == prog || p[-1] != '|')) {
            awkPipe(c, lim, k, prog, p, end);
            continue;
        }
        if (*p == '>') { awkRedirect(c, lim, k, prog, p, end); if (p + 1 < end && p[1] == '>') p++; continue; }
        if (startsWord(p, end, "system") && (p == prog || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", p[-1]))) {
            const char *q = skipBlank(p + 6, end);
            if (q >= end || *q != '(') continue;
            q = skipBlank(q + 1, end);
            const char *after;
            char *lit = q < end && *q == '"' ? awkString(c, q, end, &after) : NULL;
            const char *var = lit ? NULL : awkVarCall(vars, q, end);
            if (lit && *skipBlank(after, end) == ')') parseStr(c, lim, k, -1, lit);
            else if (var) parseStr(c, lim, k, -1, var);
            else lh_emit(c, k, LH_RULE(CODE_OPAQUE), "awk system() of a computed command");
            p = q - 1;
        }
    }
}

/* awk [-F fs] [-v a=b] 'PROGRAM' FILES…, or -e/--source PROGRAM; -f FILE reads a file. */
static void expandAwk(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    static const char *const lo[] = {"--field-separator", "--assign", "--file", "--source",
                                     "--include", "--load", "--exec", NULL};
    int found = 0, has_file = 0;
    awkVars vars = {.n = 0};
    for (int i = 1; i + 1 < cmd->argc && vars.n < 8; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || !strcmp(a, "--")) break;
        if (strcmp(a, "-v") && strcmp(a, "--assign")) continue;
        const char *asg = cmd->argv[++i].s, *eq = strchr(asg, '=');
        if (!eq || eq == asg) continue;
        vars.name[vars.n] = asg;
        vars.nlen[vars.n] = (size_t)(eq - asg);
        vars.value[vars.n++] = eq + 1;
    }
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] != '-' || !strcmp(a, "--")) break;
        if ((!strcmp(a, "-e") || !strcmp(a, "--source")) && i + 1 < cmd->argc) {
            scanAwk(c, lim, k, cmd->argv[i + 1].s, cmd->argv[i + 1].len, &vars);
            cmd = cmdAt(c, k);
            found = 1;
        }
        if (!strcmp(a, "-f") || !strcmp(a, "--file") || !strcmp(a, "-E") || !strcmp(a, "--exec")) has_file = 1;
        if (lh_skip_options(cmd->argv, cmd->argc, i, "FvfeEil", lo) > i + 1) i++;
    }
    if (found || has_file) return;
    int i = lh_skip_options(cmd->argv, cmd->argc, 1, "FvfeEil", lo);
    if (i < cmd->argc) scanAwk(c, lim, k, cmd->argv[i].s, cmd->argv[i].len, &vars);
}

/* ------------------------------------------------------------------------------ */
/* sed                                                                             */
/* ------------------------------------------------------------------------------ */

/* Skip a /re/ or \cREc address or regex at p (p at the opening delimiter). */
static const char *skipDelimited(const char *p, const char *end, char d) {
    for (p++; p < end && *p != d; p++)
        if (*p == '\\' && p + 1 < end) p++;
    return p < end ? p + 1 : end;
}

static const char *skipAddress(const char *p, const char *end) {
    if (p < end && *p == '$') return p + 1;
    if (p < end && (*p == '+' || *p == '~')) p++;
    if (p < end && *p >= '0' && *p <= '9') {
        while (p < end && ((*p >= '0' && *p <= '9') || *p == '~')) p++;
        return p;
    }
    if (p < end && *p == '/') return skipDelimited(p, end, '/');
    if (p + 1 < end && *p == '\\') return skipDelimited(p + 1, end, p[1]);
    return p;
}

/* Up to the end of the line: a sed command's text or file argument. */
static const char *lineEnd(const char *p, const char *end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static void scanSed(lh_ctx *c, const lh_shell_limits *lim, int k, const char *s, size_t len) {
    const char *end = s + len;
    const char *p = s;
    while (p < end) {
        while (p < end && strchr(" \t\n;{}", *p)) p++;
        if (p >= end) break;
        p = skipAddress(p, end);
        if (p < end && *p == ',') p = skipAddress(p + 1, end);
        p = skipBlank(p, end);
        if (p < end && *p == '!') p = skipBlank(p + 1, end);
        if (p >= end) break;
        char op = *p++;
        if (op == 'e') {
            const char *e = lineEnd(p, end);
            const char *t = skipBlank(p, e);
            if (t < e) parseText(c, lim, k, -1, lh_arena_strndup(c->arena, t, (size_t)(e - t)), (size_t)(e - t), LH_ORIGIN_INLINE);
            else lh_emit(c, k, LH_RULE(CODE_OPAQUE), "sed e runs the pattern space as a command");
            p = e;
        } else if (op == 's' || op == 'y') {
            if (p >= end) break;
            char d = *p;
            p = skipDelimited(p, end, d);          /* pattern */
            p = skipDelimited(p - 1, end, d);      /* replacement */
            if (op == 'y') continue;
            while (p < end && !strchr(";\n}", *p)) {
                if (*p == 'e') lh_emit(c, k, LH_RULE(CODE_OPAQUE), "sed s///e runs the result as a command");
                if (*p == 'w' || *p == 'W') {
                    const char *e = lineEnd(p + 1, end), *f = skipBlank(p + 1, e);
                    if (f < e && strncmp(f, "/dev/std", 8)) writeChild(c, lim, k, f, (size_t)(e - f), 0);
                    p = e;
                    break;
                }
                p++;
            }
        } else if (op == 'w' || op == 'W') {
            const char *e = lineEnd(p, end), *f = skipBlank(p, e);
            if (f < e && strncmp(f, "/dev/std", 8)) writeChild(c, lim, k, f, (size_t)(e - f), 0);
            p = e;
        } else if (strchr("aicrRbtT:", op)) {
            /* text, file to read, or label: to the end of the line (labels also end at ;) */
            const char *e = lineEnd(p, end);
            if (strchr("btT:", op)) {
                const char *semi = memchr(p, ';', (size_t)(e - p));
                if (semi) e = semi;
            }
            p = e;
        }
    }
}

/* sed [-n] [-e SCRIPT]… [-f FILE] [-i[SUF]] SCRIPT FILES… */
static void expandSed(lh_ctx *c, const lh_shell_limits *lim, int k) {
    static const char *const lo[] = {"--expression", "--file", "--line-length", NULL};
    lh_cmd *cmd = cmdAt(c, k);
    int found = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (!strcmp(a, "--")) break;
        const char *script = NULL;
        if ((!strcmp(a, "-e") || !strcmp(a, "--expression")) && i + 1 < cmd->argc) script = cmd->argv[++i].s;
        else if (!strncmp(a, "--expression=", 13)) script = a + 13;
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < cmd->argc) { found = 1; i++; }
        else if (!strcmp(a, "-l")) i++;
        if (script) {
            found = 1;
            scanSed(c, lim, k, script, strlen(script));
            cmd = cmdAt(c, k);
        }
    }
    if (found) return;
    int i = lh_skip_options(cmd->argv, cmd->argc, 1, "efl", lo);
    if (i < cmd->argc) scanSed(c, lim, k, cmd->argv[i].s, cmd->argv[i].len);
}

/* ------------------------------------------------------------------------------ */
/* Fleet runners                                                                   */
/* ------------------------------------------------------------------------------ */

/* The value of -X / --long anywhere in argv (fleet tools put options after the hosts). */
static const char *anyValue(const lh_cmd *cmd, char opt, const char *lopt) {
    size_t ln = strlen(lopt);
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1] == opt && a[2] == 0) return i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL;
        if (a[0] == '-' && a[1] == opt && a[1] != '-') return a + 2;
        if (!strncmp(a, lopt, ln) && a[ln] == '=') return a + ln + 1;
        if (!strcmp(a, lopt)) return i + 1 < cmd->argc ? cmd->argv[i + 1].s : NULL;
    }
    return NULL;
}

/* ansible HOSTS [-m shell|command|raw] -a CMD (the default module is command). */
static void expandAnsible(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *m = anyValue(cmd, 'm', "--module-name");
    const char *a = anyValue(cmd, 'a', "--args");
    if (!a) return;
    if (m) {
        const char *dot = strrchr(m, '.');
        const char *base = dot ? dot + 1 : m;
        if (strcmp(base, "shell") && strcmp(base, "command") && strcmp(base, "raw")) return;
    }
    parseStr(c, lim, k, -1, a);
}

/* salt TARGET cmd.run CMD (salt-ssh too; salt-call runs it here). */
static void expandSalt(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    for (int i = 1; i < cmd->argc; i++) {
        const char *f = cmd->argv[i].s;
        if (strncmp(f, "cmd.", 4)) continue;
        if (strcmp(cmd->prog, "salt-call")) lh_emit(c, k, LH_RULE(SSH_REMOTE), f);
        if (!strcmp(f, "cmd.run") || !strcmp(f, "cmd.shell") || !strcmp(f, "cmd.run_all") ||
            !strcmp(f, "cmd.run_stdout") || !strcmp(f, "cmd.run_bg")) {
            int j = i + 1;
            while (j < cmd->argc && cmd->argv[j].s[0] == '-') j++;
            if (j < cmd->argc) {
                const char *t = cmd->argv[j].s;
                if (!strncmp(t, "cmd=", 4)) t += 4;
                parseStr(c, lim, k, j, t);
            }
        } else {
            lh_emit(c, k, LH_RULE(CODE_OPAQUE), f);   /* cmd.script, cmd.exec_code … */
        }
        return;
    }
}

/* pssh -h HOSTS [opts] CMD, pdsh -w HOSTS CMD, clush -w NODES CMD */
static void expandFanout(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog;
    const char *vals;
    const char *const *lo;
    if (!strcmp(p, "pdsh")) { vals = "wxgXlRtufe"; lo = NULL; }
    else if (!strcmp(p, "clush")) {
        vals = "wxgXlftuoR";
        lo = L("--nodes", "--exclude", "--group", "--user", "--fanout", "--options", "--worker",
               "--connect_timeout", "--command_timeout");
    } else {
        vals = "hHlpoetOxX";
        lo = L("--hosts", "--host", "--user", "--par", "--outdir", "--errdir", "--timeout",
               "--option", "--extra-args", "--extra-arg");
    }
    int i = lh_skip_options(cmd->argv, cmd->argc, 1, vals, lo);
    if (i >= cmd->argc) return;
    lh_emit(c, k, LH_RULE(SSH_REMOTE), p);
    lh_unwrap_join_child(c, lim, k, i, cmd->argc, LH_ORIGIN_SHELL_C);
}

/* vagrant ssh [-c CMD], gcloud compute ssh VM --command CMD: a remote command string. */
static void expandRemoteCommand(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    if (!strcmp(cmd->prog, "gcloud") &&
        (cmd->argc < 3 || strcmp(cmd->argv[1].s, "compute") || strcmp(cmd->argv[2].s, "ssh")))
        return;
    if (!strcmp(cmd->prog, "vagrant") && (cmd->argc < 2 || strcmp(cmd->argv[1].s, "ssh"))) return;
    const char *att;
    int v = clusterValue(cmd, "c", 'c', "--command", &att);
    if (v >= 0) parseStr(c, lim, k, v, att ? att : cmd->argv[v].s);
}

/* sg GROUP -c CMD, nix-shell --run CMD, cargo watch -s CMD: a command string;
 * nix develop|shell … -c CMD…: argv. */
static void expandDevShell(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    const char *p = cmd->prog, *att;
    int v = -1;
    if (!strcmp(p, "sg")) v = clusterValue(cmd, "c", 'c', "--command", &att);
    else if (!strcmp(p, "nix-shell")) {
        v = clusterValue(cmd, "", 0, "--run", &att);
        if (v < 0) v = clusterValue(cmd, "", 0, "--command", &att);
    } else if (!strcmp(p, "cargo")) {
        if (cmd->argc < 2 || strcmp(cmd->argv[1].s, "watch")) return;
        v = clusterValue(cmd, "sxwi", 's', "--shell", &att);
    } else if (!strcmp(p, "nix")) {
        if (cmd->argc < 2 || (strcmp(cmd->argv[1].s, "develop") && strcmp(cmd->argv[1].s, "shell"))) return;
        for (int i = 2; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-c") || !strcmp(cmd->argv[i].s, "--command")) {
                lh_unwrap_argv_child(c, lim, k, i + 1);
                return;
            }
        return;
    }
    if (v >= 0) parseStr(c, lim, k, v, att ? att : cmd->argv[v].s);
}

/* lxc|incus exec NAME [opts] -- CMD…, nerdctl exec [opts] CTR CMD…: argv in a container. */
static void expandContainerExec(lh_ctx *c, const lh_shell_limits *lim, int k) {
    lh_cmd *cmd = cmdAt(c, k);
    if (cmd->argc < 3 || strcmp(cmd->argv[1].s, "exec")) return;
    int from = -1;
    if (!strcmp(cmd->prog, "nerdctl")) {
        static const char *const lo[] = {"--env", "--env-file", "--user", "--workdir", "--detach-keys", NULL};
        from = lh_skip_options(cmd->argv, cmd->argc, 2, "euw", lo) + 1;
    } else {
        for (int j = 2; j < cmd->argc; j++)
            if (!strcmp(cmd->argv[j].s, "--")) { from = j + 1; break; }
    }
    if (from > 0 && from < cmd->argc) lh_unwrap_argv_child(c, lim, k, from);
}

/* ------------------------------------------------------------------------------ */
/* git, npm, vim: subcommands and options that run a command of their own          */
/* ------------------------------------------------------------------------------ */

/* The value of option -<so> / <lo> at argv[j] (-x CMD, -xCMD, --exec CMD, --exec=CMD), or
 * NULL; *vi is the index of the word that holds it. */
static const char *optAt(const lh_word *argv, int argc, int j, char so, const char *lo, int *vi) {
    const char *a = argv[j].s;
    size_t ln = strlen(lo);
    *vi = j + 1;
    if (!a) return NULL;
    if ((a[0] == '-' && a[1] == so && a[2] == 0) || !strcmp(a, lo)) return j + 1 < argc ? argv[j + 1].s : NULL;
    *vi = j;
    if (!strncmp(a, lo, ln) && a[ln] == '=') return a + ln + 1;
    if (a[0] == '-' && a[1] == so && a[2]) return a + 2;
    return NULL;
}

/* Every value of -<so> / <lo> in argv[from…) (up to `--`), parsed as a shell string. */
static void parseOptValues(lh_ctx *c, const lh_shell_limits *lim, int k, int from, char so, const char *lo) {
    /* the words live apart from the command table, which grows as children are added */
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    for (int j = from; j < argc; j++) {
        if (!strcmp(argv[j].s, "--")) break;
        int vi;
        const char *v = optAt(argv, argc, j, so, lo, &vi);
        if (!v) continue;
        parseStr(c, lim, k, vi, v);
        j = vi;
    }
}

/* Is key (section.name, any case) a git setting whose value git runs as a shell
 * command: the pager and editor settings, a difftool's, mergetool's or browser's cmd? */
static int gitShellKey(const char *key, size_t n) {
    char low[96];
    if (n >= sizeof(low)) return 0;
    for (size_t i = 0; i < n; i++) low[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] + 32) : key[i];
    low[n] = 0;
    static const char *const exact[] = {"core.pager", "core.editor", "sequence.editor",
                                        "interactive.difffilter", NULL};
    if (inList(low, exact) || !strncmp(low, "pager.", 6)) return 1;
    return (!strncmp(low, "difftool.", 9) || !strncmp(low, "mergetool.", 10) || !strncmp(low, "browser.", 8)) &&
           n > 4 && !strcmp(low + n - 4, ".cmd");
}

/* git -c KEY=VALUE … and git config [options] KEY VALUE for a gitShellKey: the value is
 * a shell command (run now, or by every later git command). sub: the subcommand's index. */
static void gitShellValues(lh_ctx *c, const lh_shell_limits *lim, int k, int sub) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    for (int j = 1; j + 1 < sub; j++) {
        if (strcmp(argv[j].s, "-c")) continue;
        const char *kv = argv[++j].s, *eq = strchr(kv, '=');
        if (eq && gitShellKey(kv, (size_t)(eq - kv))) parseStr(c, lim, k, j, eq + 1);
    }
    if (sub >= argc || strcmp(argv[sub].s, "config")) return;
    int ops[2], n = 0;
    for (int j = sub + 1; j < argc && n < 2; j++) {
        const char *a = argv[j].s;
        if (!strcmp(a, "--file") || !strcmp(a, "-f") || !strcmp(a, "--type") || !strcmp(a, "--default") ||
            !strcmp(a, "--blob") || !strcmp(a, "--comment")) { j++; continue; }
        if (a[0] == '-' || (!strcmp(a, "set") && n == 0)) continue;
        ops[n++] = j;
    }
    if (n == 2 && gitShellKey(argv[ops[0]].s, strlen(argv[ops[0]].s))) parseStr(c, lim, k, ops[1], argv[ops[1]].s);
}

/* git [global options] SUB …: submodule foreach [--recursive] CMD… (a shell string),
 * rebase --exec|-x CMD, difftool --extcmd|-x CMD (shell strings, any number), bisect run
 * CMD ARG… (run as argv); editor, pager and tool settings (gitShellValues). */
static void expandGit(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    int i = lh_skip_options(argv, argc, 1, "Cc",
                            L("--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env"));
    gitShellValues(c, lim, k, i);
    if (i >= argc) return;
    const char *sub = argv[i].s;
    if (!strcmp(sub, "submodule")) {
        int j = i + 1;
        while (j < argc && argv[j].s[0] == '-') j++;   /* --quiet */
        if (j >= argc || strcmp(argv[j].s, "foreach")) return;
        for (j++; j < argc && argv[j].s[0] == '-';)    /* --recursive, -q, -- */
            if (!strcmp(argv[j++].s, "--")) break;
        if (j < argc) lh_unwrap_join_child(c, lim, k, j, argc, LH_ORIGIN_SHELL_C);
    } else if (!strcmp(sub, "bisect")) {
        if (i + 2 < argc && !strcmp(argv[i + 1].s, "run")) lh_unwrap_argv_child(c, lim, k, i + 2);
    } else if (!strcmp(sub, "rebase")) {
        parseOptValues(c, lim, k, i + 1, 'x', "--exec");
    } else if (!strcmp(sub, "difftool")) {
        parseOptValues(c, lim, k, i + 1, 'x', "--extcmd");
    }
}

/* npx -c CMD, npm exec|x -c CMD (--call CMD, --call=CMD): a shell string; pnpm exec|dlx
 * -c (--shell-mode) runs its command words in a shell. Without -c these are wrappers
 * (wrappers.c). */
static void expandNodeCall(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    const char *p = cmdAt(c, k)->prog;
    if (!strcmp(p, "pnpm")) {
        int shell = 0, j = 1;
        for (; j < argc; j++) {
            const char *a = argv[j].s;
            if (!strcmp(a, "-c") || !strcmp(a, "--shell-mode")) shell = 1;
            else if (!strcmp(a, "exec") || !strcmp(a, "dlx")) break;
        }
        for (int m = j + 1; m < argc && argv[m].s[0] == '-'; m++)
            if (!strcmp(argv[m].s, "-c") || !strcmp(argv[m].s, "--shell-mode")) shell = 1;
        if (!shell || j >= argc) return;
        int from = lh_skip_options(argv, argc, j + 1, "C", L("--dir", "--filter", "--package"));
        if (from < argc) lh_unwrap_join_child(c, lim, k, from, argc, LH_ORIGIN_SHELL_C);
        return;
    }
    if (!strcmp(p, "npm")) {   /* only under exec / x */
        int j = lh_skip_options(argv, argc, 1, "wc", L("--workspace", "--package", "--prefix", "--call"));
        if (j >= argc || (strcmp(argv[j].s, "exec") && strcmp(argv[j].s, "x"))) return;
    }
    parseOptValues(c, lim, k, 1, 'c', "--call");
}

/* One Ex command line of vim -c / --cmd / +: `:!CMD`, `:silent !CMD`, `:r !CMD` and
 * `:w !CMD` run CMD in a shell, which takes the rest of the line (`|` included); before
 * it, `|` separates Ex commands. */
static void vimEx(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *ex) {
    while (ex && *ex) {
        while (*ex == ':' || *ex == ' ' || *ex == '\t') ex++;
        if (!strncmp(ex, "silent", 6)) {
            ex += 6;
            if (*ex == '!') ex++;
            while (*ex == ' ') ex++;
        } else {
            static const char *const rw[] = {"r ", "read ", "w ", "write ", NULL};
            for (int m = 0; rw[m]; m++)
                if (!strncmp(ex, rw[m], strlen(rw[m]))) {
                    ex += strlen(rw[m]);
                    while (*ex == ' ') ex++;
                    break;
                }
        }
        if (*ex == '!') { parseStr(c, lim, k, argi, ex + 1); return; }
        ex = strchr(ex, '|');
        if (ex) ex++;
    }
}

/* vim, nvim, vi, view, ex, gvim, vimdiff: -c CMD, --cmd CMD and +CMD are Ex commands. */
static void expandVim(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    for (int j = 1; j < argc; j++) {
        const char *a = argv[j].s;
        if (!strcmp(a, "--")) break;
        if ((!strcmp(a, "-c") || !strcmp(a, "--cmd")) && j + 1 < argc) {
            vimEx(c, lim, k, j + 1, argv[j + 1].s);
            j++;
        } else if (a[0] == '+' && a[1] && (a[1] < '0' || a[1] > '9')) {
            vimEx(c, lim, k, j, a + 1);
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Shell escapes in other tools' options and commands                              */
/* ------------------------------------------------------------------------------ */

/* tar --checkpoint-action=exec=CMD, --to-command=CMD, -I|--use-compress-program=CMD,
 * -F|--info-script|--new-volume-script=CMD; zip -TT|--unzip-command CMD: tar and zip run
 * them with the shell. */
static void expandArchiver(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    int tar = !strcmp(cmdAt(c, k)->prog, "tar");
    static const char *const tarLong[] = {"--to-command", "--use-compress-program", "--info-script",
                                          "--new-volume-script", "--checkpoint-action", NULL};
    for (int j = 1; j < argc; j++) {
        const char *a = argv[j].s, *v = NULL;
        int vi = j;
        if (!tar) {
            if ((!strcmp(a, "-TT") || !strcmp(a, "--unzip-command")) && j + 1 < argc) v = argv[vi = ++j].s;
        } else if ((!strcmp(a, "-I") || !strcmp(a, "-F")) && j + 1 < argc) {
            v = argv[vi = ++j].s;
        } else if ((a[1] == 'I' || a[1] == 'F') && a[0] == '-' && a[2]) {
            v = a + 2;
        } else {
            for (int m = 0; tarLong[m]; m++) {
                size_t n = strlen(tarLong[m]);
                if (strncmp(a, tarLong[m], n)) continue;
                if (a[n] == '=') v = a + n + 1;
                else if (!a[n] && j + 1 < argc) v = argv[vi = ++j].s;
                break;
            }
            if (v && !strncmp(a, "--checkpoint-action", 19)) v = !strncmp(v, "exec=", 5) ? v + 5 : NULL;
        }
        if (v) parseStr(c, lim, k, vi, v);
    }
}

/* Each `PREFIX CMD` that starts a line or a ';'-separated statement of text: CMD (to the
 * end of its line) is a shell command. */
static void parseEscapes(lh_ctx *c, const lh_shell_limits *lim, int k, int argi, const char *text,
                         const char *const *prefixes) {
    for (const char *p = text; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ';') p++;
        for (int m = 0; prefixes[m]; m++) {
            size_t n = strlen(prefixes[m]);
            if (strncmp(p, prefixes[m], n)) continue;
            const char *cmd = p + n, *eol = strchr(cmd, '\n');
            size_t len = eol ? (size_t)(eol - cmd) : strlen(cmd);
            lh_unwrap_parse_child(c, lim, k, argi, cmd, len, LH_ORIGIN_SHELL_C);
            break;
        }
        p += strcspn(p, "\n;");
    }
}

/* Database shells and debuggers that run shell commands: sqlite3 `.shell CMD` / `.system
 * CMD` (as an argument or -cmd), psql `\! CMD` (-c, --command), mysql and mariadb
 * `system CMD` / `\! CMD` (-e, --execute), gdb `shell CMD` / `!CMD` (-ex, -iex,
 * --eval-command). */
static void expandToolShell(lh_ctx *c, const lh_shell_limits *lim, int k) {
    const lh_word *argv = cmdAt(c, k)->argv;
    int argc = cmdAt(c, k)->argc;
    const char *p = cmdAt(c, k)->prog;
    static const char *const sqlite[] = {".shell ", ".system ", NULL};
    static const char *const psql[] = {"\\! ", "\\!", NULL};
    static const char *const mysql[] = {"system ", "\\! ", "\\!", NULL};
    static const char *const gdb[] = {"shell ", "!", NULL};
    if (!strcmp(p, "sqlite3") || !strcmp(p, "sqlite")) {
        for (int j = 1; j < argc; j++) parseEscapes(c, lim, k, j, argv[j].s, sqlite);
        return;
    }
    const char *const *esc = !strcmp(p, "psql") ? psql : !strcmp(p, "gdb") ? gdb : mysql;
    char so = !strcmp(p, "psql") ? 'c' : 'e';
    const char *lo = !strcmp(p, "psql") ? "--command" : !strcmp(p, "gdb") ? "--eval-command" : "--execute";
    static const char *const gdbOpts[] = {"-ex", "-iex", "-eval-command", "--eval-command", "-init-eval-command",
                                          "--init-eval-command", NULL};
    for (int j = 1; j < argc; j++) {
        const char *a = argv[j].s;
        if (!a) continue;
        int vi = j + 1;
        const char *v = NULL;
        if (strcmp(p, "gdb")) {
            v = optAt(argv, argc, j, so, lo, &vi);
        } else if (inList(a, gdbOpts)) {   /* -ex is one option, not -e with x */
            v = vi < argc ? argv[vi].s : NULL;
        } else if (!strncmp(a, "--eval-command=", 15)) {
            v = a + 15;
            vi = j;
        }
        if (!v) continue;
        parseEscapes(c, lim, k, vi, v, esc);
        j = vi;
    }
}

/* ------------------------------------------------------------------------------ */
/* Dispatch                                                                        */
/* ------------------------------------------------------------------------------ */

typedef void (*runnerFn)(lh_ctx *c, const lh_shell_limits *lim, int k);

/* Sorted by name (strcmp order) for bisection; test_wrappers.c checks every name. */
static const struct { const char *name; runnerFn fn; } kRunners[] = {
    {"ansible", expandAnsible}, {"at", expandAt}, {"awk", expandAwk}, {"batch", expandAt},
    {"busybox-awk", expandAwk}, {"byobu", expandTmux}, {"cargo", expandDevShell}, {"clush", expandFanout},
    {"ex", expandVim}, {"gawk", expandAwk},
    {"gcloud", expandRemoteCommand}, {"gdb", expandToolShell}, {"git", expandGit}, {"gsed", expandSed}, {"gvim", expandVim},
    {"incus", expandContainerExec},
    {"lxc", expandContainerExec}, {"mariadb", expandToolShell}, {"mawk", expandAwk},
    {"mysql", expandToolShell}, {"nawk", expandAwk},
    {"nerdctl", expandContainerExec}, {"nix", expandDevShell}, {"nix-shell", expandDevShell},
    {"npm", expandNodeCall}, {"npx", expandNodeCall}, {"nvim", expandVim},
    {"parallel-ssh", expandFanout}, {"pdsh", expandFanout}, {"pnpm", expandNodeCall}, {"psql", expandToolShell}, {"pssh", expandFanout},
    {"runuser", expandSu}, {"salt", expandSalt}, {"salt-call", expandSalt},
    {"salt-ssh", expandSalt}, {"screen", expandScreen}, {"script", expandScript},
    {"sed", expandSed}, {"sg", expandDevShell}, {"sqlite", expandToolShell}, {"sqlite3", expandToolShell},
    {"su", expandSu}, {"tar", expandArchiver}, {"tmux", expandTmux}, {"vagrant", expandRemoteCommand},
    {"vi", expandVim}, {"view", expandVim}, {"vim", expandVim}, {"vimdiff", expandVim},
    {"zip", expandArchiver},
};

static runnerFn findRunner(const char *p) {
    size_t lo = 0, hi = sizeof(kRunners) / sizeof(kRunners[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(p, kRunners[mid].name);
        if (r == 0) return kRunners[mid].fn;
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

int lh_runner_is(const char *prog) { return findRunner(prog) != NULL; }

int lh_runner_expand(lh_ctx *c, const lh_shell_limits *lim, int k) {
    runnerFn fn = findRunner(cmdAt(c, k)->prog);
    if (!fn) return 0;
    fn(c, lim, k);
    return 1;
}

/* semantics.c — shell semantics the parser leaves to run time, modelled where the
 * words of the call decide them (issue 11, "Judgement under attack").
 *
 * lh_unwrap() calls in here for every command, in source order:
 * - brace expansion of the words ({a,b}, {1..3}), capped at LH_SEM_MAX_BRACE words per
 *   command; past the cap the decision escalates (engine.budget);
 * - aliases defined earlier in the call (as if expand_aliases were on): the use is
 *   re-parsed with the alias text in place of its first word;
 * - a known program copied, linked, moved or installed under a new name earlier in the
 *   call: the new name takes the program's identity;
 * - code that runs later: trap handlers, PROMPT_COMMAND values, $(…) in PS0/PS1/PS2/PS4,
 *   and the script at and
 *   batch read on stdin are parsed as children.
 * Every piece of work counts steps (lh_step). docs/analyzers.md lists the limits. */
#include "engine/semantics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* Helpers                                                                         */
/* ------------------------------------------------------------------------------ */

static const char *semBase(const char *s) {
    const char *slash = strrchr(s, '/');
    const char *b = slash ? slash + 1 : s;
    while (*b == '\\') b++;
    return b;
}

static int isNameChar(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

/* ------------------------------------------------------------------------------ */
/* Brace expansion                                                                 */
/* ------------------------------------------------------------------------------ */

typedef struct {
    lh_word *w;
    int n;
    int cap;
    int limit;     /* the most words the list may hold */
    int over;      /* the cap was reached: the expansion is incomplete */
} wordlist;

static void listPush(lh_ctx *c, wordlist *l, const char *s, size_t len, uint32_t flags) {
    if (l->n >= l->limit) { l->over = 1; return; }
    if (!lh_step(c, LH_STEP_WORD)) { l->over = 1; return; }   /* a word more to judge */
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 8;
        lh_word *nw = lh_arena_alloc(c->arena, (size_t)ncap * sizeof(lh_word));
        if (!nw) { c->oom = 1; l->over = 1; return; }
        if (l->n) memcpy(nw, l->w, (size_t)l->n * sizeof(lh_word));
        l->w = nw;
        l->cap = ncap;
    }
    char *t = lh_arena_strndup(c->arena, s, len);
    if (!t) { c->oom = 1; l->over = 1; return; }
    l->w[l->n].s = t;
    l->w[l->n].len = (uint32_t)len;
    l->w[l->n].flags = flags & ~LH_W_BRACE;
    l->n++;
}

/* A range "A..B" or "A..B..S" of integers or single letters. Returns the count of
 * items (0 when text is not a range) and fills *lo, *step. Letters come back as chars. */
static long parseRange(const char *t, size_t n, long *lo, long *step, int *letters) {
    char buf[64];
    if (n == 0 || n >= sizeof(buf)) return 0;
    memcpy(buf, t, n);
    buf[n] = 0;
    char *d1 = strstr(buf, "..");
    if (!d1) return 0;
    *d1 = 0;
    char *b = d1 + 2;
    char *d2 = strstr(b, "..");
    long st = 1;
    if (d2) {
        *d2 = 0;
        char *e;
        st = labs(strtol(d2 + 2, &e, 10));
        if (*e || d2[2] == 0) return 0;
        if (st == 0) st = 1;
    }
    long a, z;
    if (strlen(buf) == 1 && strlen(b) == 1 &&
        ((buf[0] >= 'a' && buf[0] <= 'z') || (buf[0] >= 'A' && buf[0] <= 'Z')) &&
        ((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= 'A' && b[0] <= 'Z'))) {
        a = (unsigned char)buf[0];
        z = (unsigned char)b[0];
        *letters = 1;
    } else {
        char *e1, *e2;
        if (!buf[0] || !b[0] || strlen(buf) > 18 || strlen(b) > 18) return 0;
        a = strtol(buf, &e1, 10);
        z = strtol(b, &e2, 10);
        if (*e1 || *e2) return 0;
        *letters = 0;
    }
    *lo = a;
    *step = a <= z ? st : -st;
    return labs(z - a) / st + 1;
}

#define SEM_MAX_NEST 64   /* braces open at once in one word; deeper is not judged */

/* The first brace group in s[0..n) that expands (the leftmost '{', not after a '$',
 * whose matching '}' encloses a top-level ',' or a range): sets *open, *close and
 * returns 1; 0 when none; -1 when braces nest deeper than SEM_MAX_NEST. One pass with
 * a stack of the open braces: a scan to the match from each '{' took time quadratic in
 * the word (60 words of 1,300 unclosed "{a," spent 1.4 G instructions). */
static int findGroup(const char *s, size_t n, size_t *open, size_t *close, int *is_range) {
    size_t pos[SEM_MAX_NEST];
    unsigned char comma[SEM_MAX_NEST];
    int d = 0, found = 0;
    for (size_t j = 0; j < n; j++) {
        char ch = s[j];
        if (ch == '{') {
            if (d == SEM_MAX_NEST) return -1;
            pos[d] = j;
            comma[d++] = 0;
        } else if (ch == ',' && d > 0) {
            comma[d - 1] = 1;
        } else if (ch == '}' && d > 0) {
            size_t i = pos[--d];
            if (!(i > 0 && s[i - 1] == '$') && (!found || i < *open)) {
                long lo, step;
                int letters;
                int range = !comma[d] && parseRange(s + i + 1, j - i - 1, &lo, &step, &letters) > 0;
                if (comma[d] || range) {
                    *open = i;
                    *close = j;
                    *is_range = range;
                    found = 1;
                }
            }
            if (found && d == 0) return 1;   /* a later group starts further right */
        }
    }
    return found;
}

/* Expand s into l, left to right as bash does; depth bounds the recursion. */
static void expandWord(lh_ctx *c, const char *s, size_t n, uint32_t flags, wordlist *l, int depth) {
    size_t open, close;
    int is_range;
    if (l->over) return;
    int g = depth > 16 ? -1 : findGroup(s, n, &open, &close, &is_range);
    if (g <= 0) {
        if (g < 0) l->over = 1;
        listPush(c, l, s, n, flags);
        return;
    }
    char buf[LH_SEM_MAX_WORD];
    const char *pre = s, *post = s + close + 1;
    size_t prelen = open, postlen = n - close - 1;
    const char *body = s + open + 1;
    size_t blen = close - open - 1;
    if (is_range) {
        long lo, step;
        int letters = 0;
        long count = parseRange(body, blen, &lo, &step, &letters);
        if (count > LH_SEM_MAX_BRACE) { l->over = 1; return; }
        for (long k = 0; k < count && !l->over; k++) {
            char item[32];
            long v = lo + k * step;
            int il = letters ? (item[0] = (char)v, item[1] = 0, 1) : snprintf(item, sizeof(item), "%ld", v);
            size_t tl = prelen + (size_t)il + postlen;
            if (tl >= sizeof(buf)) { l->over = 1; return; }
            memcpy(buf, pre, prelen);
            memcpy(buf + prelen, item, (size_t)il);
            memcpy(buf + prelen + (size_t)il, post, postlen);
            expandWord(c, buf, tl, flags, l, depth + 1);
        }
        return;
    }
    /* alternatives split at top-level commas */
    size_t start = 0;
    int d = 0;
    for (size_t j = 0; j <= blen && !l->over; j++) {
        if (j < blen && body[j] == '{') d++;
        else if (j < blen && body[j] == '}') d--;
        if (j == blen || (body[j] == ',' && d == 0)) {
            size_t al = j - start;
            size_t tl = prelen + al + postlen;
            if (tl >= sizeof(buf)) { l->over = 1; return; }
            memcpy(buf, pre, prelen);
            memcpy(buf + prelen, body + start, al);
            memcpy(buf + prelen + al, post, postlen);
            expandWord(c, buf, tl, flags, l, depth + 1);
            start = j + 1;
        }
    }
}

/* True when w holds a brace group that expands ({a,b}, {1..3}). Quoted braces are
 * literal: the parser flags words with an unquoted "{…," or "{….." (LH_W_BRACE). */
static int hasGroup(const lh_word *w) {
    size_t o, e;
    int r;
    return (w->flags & LH_W_BRACE) && findGroup(w->s, w->len, &o, &e, &r) != 0;
}

/* Brace-expand every word of cmd in place: at most LH_SEM_MAX_BRACE words more than
 * it had. Returns 0 when the cap was passed. */
static int expandBraces(lh_ctx *c, lh_cmd *cmd) {
    int any = 0;
    for (int i = 0; i < cmd->argc && !any; i++) any = hasGroup(&cmd->argv[i]);
    if (!any) return 1;
    wordlist l = {0};
    l.limit = cmd->argc + LH_SEM_MAX_BRACE;
    for (int i = 0; i < cmd->argc && !l.over; i++) {
        const lh_word *w = &cmd->argv[i];
        if (hasGroup(w)) expandWord(c, w->s, w->len, w->flags, &l, 0);
        else listPush(c, &l, w->s, w->len, w->flags);
    }
    if (l.over) return 0;
    if (l.n == 0) return 1;
    cmd->argv = l.w;
    cmd->argc = l.n;
    if (!(cmd->flags & LH_C_FOR_LIST)) cmd->prog = semBase(cmd->argv[0].s);
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Aliases and renamed programs                                                    */
/* ------------------------------------------------------------------------------ */

static void recordAlias(lh_sem *st, const char *def) {
    const char *eq = strchr(def, '=');
    if (!eq || eq == def || st->naliases >= LH_SEM_MAX_NAMES) return;
    for (const char *p = def; p < eq; p++)
        if (!isNameChar(*p)) return;
    lh_sem_name *a = &st->aliases[st->naliases++];
    a->name = def;
    a->nlen = (size_t)(eq - def);
    a->value = eq + 1;
}

static const lh_sem_name *findName(const lh_sem_name *list, int n, const char *s) {
    if (n == 0) return NULL;
    size_t len = strlen(s);
    for (int i = n - 1; i >= 0; i--)   /* the last definition wins */
        if (list[i].nlen == len && !memcmp(list[i].name, s, len)) return &list[i];
    return NULL;
}

/* True when command k came from expanding the alias name (bash does not expand an alias
 * again inside its own expansion: `alias ls='ls --color'; ls`). */
static int inOwnExpansion(const lh_ctx *c, int k, const lh_sem_name *a) {
    const lh_cmd *x = &c->script->cmds[k];
    for (int hop = 0; hop < 64 && x->parent >= 0 && x->origin == LH_ORIGIN_EVAL; hop++) {
        x = &c->script->cmds[x->parent];
        if (x->argc > 0 && x->argv[0].len == a->nlen && !memcmp(x->argv[0].s, a->name, a->nlen)) return 1;
    }
    return 0;
}

/* The program a source word of cp/ln names: "/bin/rm" -> "rm", "$(which rm)" -> "rm";
 * NULL when it does not name an installed program. */
static const char *programOf(lh_ctx *c, const lh_word *w) {
    static const char *const dirs[] = {"/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/",
                                       "/usr/local/bin/", "/usr/local/sbin/", NULL};
    static const char *const finders[] = {"$(which ", "$(command -v ", "`which ", "$(type -P ", NULL};
    for (int k = 0; dirs[k]; k++)
        if (!strncmp(w->s, dirs[k], strlen(dirs[k])) && !strchr(w->s + strlen(dirs[k]), '/'))
            return w->s + strlen(dirs[k]);
    for (int k = 0; finders[k]; k++) {
        size_t fl = strlen(finders[k]);
        if (strncmp(w->s, finders[k], fl)) continue;
        const char *p = w->s + fl;
        size_t n = 0;
        while (isNameChar(p[n])) n++;
        if (n && (p[n] == ')' || p[n] == '`') && p[n + 1] == 0) {
            char *t = lh_arena_strndup(c->arena, p, n);
            if (!t) c->oom = 1;
            return t;
        }
    }
    return NULL;
}

static void addRename(lh_ctx *c, lh_sem *st, const lh_word *src, const char *dest) {
    if (st->nrenames >= LH_SEM_MAX_NAMES) return;
    const char *prog = programOf(c, src);
    if (!prog || !*prog || !*dest) return;
    lh_sem_name *r = &st->renames[st->nrenames++];
    r->name = dest;
    r->nlen = strlen(dest);
    r->value = prog;
}

/* hash -p PATH NAME: NAME now runs PATH, with nothing copied. */
static void recordHash(lh_ctx *c, lh_sem *st, const lh_cmd *cmd) {
    for (int i = 1; i + 2 < cmd->argc; i++)
        if (!strcmp(cmd->argv[i].s, "-p")) {
            addRename(c, st, &cmd->argv[i + 1], cmd->argv[i + 2].s);
            return;
        }
}

/* cp|ln|mv|install SRC DEST: DEST's name now runs SRC's program. */
static void recordRename(lh_ctx *c, lh_sem *st, const lh_cmd *cmd) {
    int ops[2], nops = 0;
    for (int i = 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i].s;
        if (a[0] == '-' && a[1]) {
            /* install -m MODE / -o OWNER / -g GROUP, cp/ln -t DIR (no rename then) */
            if (!strcmp(a, "-m") || !strcmp(a, "-o") || !strcmp(a, "-g") || !strcmp(a, "-S")) i++;
            if (!strcmp(a, "-t") || !strncmp(a, "--target-directory", 18)) return;
            continue;
        }
        if (nops == 2) return;   /* several sources into a directory */
        ops[nops++] = i;
    }
    if (nops != 2) return;
    addRename(c, st, &cmd->argv[ops[0]], semBase(cmd->argv[ops[1]].s));
}

const char *lh_sem_env_split_text(const char *a) {
    if (!strcmp(a, "--split-string")) return "";
    if (!strncmp(a, "--split-string=", 15)) return a + 15;
    if (a[0] != '-' || a[1] == '-' || a[1] == 0) return NULL;
    for (const char *o = a + 1; *o; o++) {
        if (*o == 'S') return o + 1;
        if (*o == 'u' || *o == 'C') return NULL;   /* takes the rest as its value */
    }
    return NULL;
}

int lh_sem_is_stdin_path(const char *a) {
    return !strcmp(a, "/dev/stdin") || !strcmp(a, "/dev/fd/0") || !strcmp(a, "/proc/self/fd/0");
}

/* ------------------------------------------------------------------------------ */
/* Entry points                                                                    */
/* ------------------------------------------------------------------------------ */

/* The items of `for NAME in {a,b} c` brace-expand like any words. */
static int expandForList(lh_ctx *c, lh_cmd *cmd) {
    lh_cmd tmp = *cmd;
    tmp.argv = cmd->assigns;
    tmp.argc = cmd->nassigns;
    if (!expandBraces(c, &tmp)) return 0;
    cmd->assigns = tmp.argv;
    cmd->nassigns = tmp.argc;
    return 1;
}

/* A fixed program that only prints its words or counts, lists or generates (issue 11):
 * `echo {a..z}{a..z}{a..z} | wc -w` does the same whatever the words expand to, so an
 * expansion past the cap need not escalate. Programs that open the files they are
 * given (cat, head, cp…) are not in the list: their expanded names matter. */
static int printsOnly(const lh_cmd *cmd) {
    static const char *const progs[] = {"echo", "printf", "wc", "seq", "ls", "true", "false", ":"};
    if (hasGroup(&cmd->argv[0]) || (cmd->argv[0].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST)) ||
        (cmd->flags & LH_C_DYNAMIC_CMD))
        return 0;
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++)
        if (!strcmp(cmd->prog, progs[i])) return 1;
    return 0;
}

int lh_sem_before(lh_ctx *c, const lh_shell_limits *lim, lh_sem *st, int k) {
    lh_cmd *cmd = &c->script->cmds[k];
    if ((cmd->flags & LH_C_FOR_LIST) && !expandForList(c, cmd)) {
        c->over_budget = 1;
        return 1;
    }
    if (cmd->argc == 0) return 0;
    if (!expandBraces(c, cmd)) {
        if (printsOnly(cmd)) return 0;   /* judged on its words as written */
        c->over_budget = 1;   /* a capped expansion cannot be judged whole */
        return 1;
    }
    if (!(cmd->argv[0].flags & (LH_W_QUOTED | LH_W_DYNAMIC))) {
        const lh_sem_name *a = findName(st->aliases, st->naliases, cmd->argv[0].s);
        if (a && !inOwnExpansion(c, k, a) && lh_step(c, 1)) {
            size_t vl = strlen(a->value), n = vl;
            for (int i = 1; i < cmd->argc; i++) n += 3 + 4 * (size_t)cmd->argv[i].len + 1;
            char *text = lh_arena_alloc(c->arena, n + 1);
            if (!text) { c->oom = 1; return 1; }
            memcpy(text, a->value, vl);
            size_t o = vl;
            for (int i = 1; i < cmd->argc; i++) {
                text[o++] = ' ';
                text[o++] = '\'';
                for (const char *s = cmd->argv[i].s; *s; s++) {
                    if (*s == '\'') { memcpy(text + o, "'\\''", 4); o += 4; }
                    else text[o++] = *s;
                }
                text[o++] = '\'';
            }
            text[o] = 0;
            lh_unwrap_parse_child(c, lim, k, 0, text, o, LH_ORIGIN_EVAL);
            return 1;
        }
    }
    const lh_sem_name *r = findName(st->renames, st->nrenames, cmd->prog);
    if (r) {
        cmd->prog = r->value;
        cmd->argv[0].s = r->value;
        cmd->argv[0].len = (uint32_t)strlen(r->value);
    }
    return 0;
}

/* NAME=value of a variable whose value the shell runs later: PROMPT_COMMAND is code
 * run before each prompt; PS0, PS1, PS2 and PS4 are expanded at each prompt (or trace
 * line), so their $(…) and `…` run. Parsed as children of command k. */
static void judgeAssignedCode(lh_ctx *c, const lh_shell_limits *lim, int k, int argi,
                              const lh_word *w) {
    if (!strchr("BEFGLMPSV", w->s[0])) return;   /* the hot path: most names are none below */
    /* variables whose value a program runs as a shell command: git's editor, pager, ssh
     * and diff commands, the askpass helpers, PAGER/EDITOR/VISUAL for anything that opens
     * one, LESSOPEN's input filter ("|cmd %s") */
    static const char *const cmdVars[] = {
        "GIT_SSH_COMMAND=", "GIT_EXTERNAL_DIFF=", "GIT_PAGER=", "GIT_EDITOR=", "GIT_SEQUENCE_EDITOR=",
        "GIT_ASKPASS=", "SSH_ASKPASS=", "SUDO_ASKPASS=", "PAGER=", "MANPAGER=", "SYSTEMD_PAGER=",
        "EDITOR=", "VISUAL=", "FCEDIT=", "BROWSER=", "LESSOPEN=", "LESSCLOSE=", NULL};
    for (int i = 0; cmdVars[i]; i++) {
        size_t n = strlen(cmdVars[i]);
        if (strncmp(w->s, cmdVars[i], n)) continue;
        const char *v = w->s + n;
        while (*v == '|') v++;
        if (*v) lh_unwrap_parse_child(c, lim, k, argi, v, strlen(v), LH_ORIGIN_EVAL);
        return;
    }
    if (w->s[0] != 'P') return;
    if (!strncmp(w->s, "PROMPT_COMMAND=", 15)) {
        lh_unwrap_parse_child(c, lim, k, argi, w->s + 15, w->len - 15, LH_ORIGIN_EVAL);
        return;
    }
    if (w->s[1] != 'S' || !strchr("0124", w->s[2]) || w->s[3] != '=') return;
    const char *v = w->s + 4;
    if (!strchr(v, '$') && !strchr(v, '`')) return;
    /* `: "VALUE"`: the substitutions parse, the rest stays one word */
    size_t n = strlen(v);
    char *text = lh_arena_alloc(c->arena, 2 * n + 6);
    if (!text) { c->oom = 1; return; }
    size_t o = 0;
    text[o++] = ':';
    text[o++] = ' ';
    text[o++] = '"';
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') text[o++] = '\\';
        text[o++] = *v;
    }
    text[o++] = '"';
    text[o] = 0;
    lh_unwrap_parse_child(c, lim, k, argi, text, o, LH_ORIGIN_EVAL);
}

void lh_sem_after(lh_ctx *c, const lh_shell_limits *lim, lh_sem *st, int k) {
    lh_cmd *cmd = &c->script->cmds[k];
    const char *p = cmd->prog;
    /* the words live apart from the command table, which grows as children are added */
    const lh_word *assigns = cmd->assigns;
    int nassigns = cmd->nassigns;
    for (int i = 0; i < nassigns; i++) judgeAssignedCode(c, lim, k, -1, &assigns[i]);
    cmd = &c->script->cmds[k];
    if (cmd->argc == 0) return;
    /* the hot path: most programs are none of the names below */
    int is_decl = 0, is_alias = 0, is_trap = 0, is_at = 0, is_copy = 0;
    switch (p[0]) {
    case '.':
    case 's':
        /* `source /dev/stdin <<<…` runs its stdin in this shell */
        if ((!strcmp(p, ".") || !strcmp(p, "source")) && cmd->argc > 1 &&
            lh_sem_is_stdin_path(cmd->argv[1].s))
            is_at = 1;
        break;
    case 'a': is_alias = !strcmp(p, "alias"); is_at = !strcmp(p, "at"); break;
    case 'b': is_at = !strcmp(p, "batch"); break;
    case 'c':
        is_copy = !strcmp(p, "cp");
        if (!strcmp(p, "cat") && cmd->argc == 2)   /* cat /bin/rm > tidy: a copy by redirection */
            for (int r = 0; r < cmd->nredirs; r++)
                if (cmd->redirs[r].op == LH_R_OUT && cmd->redirs[r].fd <= 1)
                    addRename(c, st, &cmd->argv[1], semBase(cmd->redirs[r].target.s));
        break;
    case 'd': is_decl = !strcmp(p, "declare"); break;
    case 'h':
        if (!strcmp(p, "hash")) recordHash(c, st, cmd);
        return;
    case 'e': is_decl = !strcmp(p, "export"); break;
    case 'i': is_copy = !strcmp(p, "install"); break;
    case 'l': is_copy = !strcmp(p, "ln"); break;
    case 'm':
        is_copy = !strcmp(p, "mv");
        if (!strcmp(p, "mapfile")) is_trap = 2;
        break;
    case 'r':
        is_decl = !strcmp(p, "readonly");
        if (!strcmp(p, "readarray")) is_trap = 2;
        break;
    case 't': is_decl = !strcmp(p, "typeset"); is_trap = !strcmp(p, "trap"); break;
    default: return;
    }
    if (is_decl) {
        const lh_word *argv = cmd->argv;
        int argc = cmd->argc;
        for (int i = 1; i < argc; i++) judgeAssignedCode(c, lim, k, i, &argv[i]);
        return;
    }
    if (is_alias) {
        for (int i = 1; i < cmd->argc; i++) recordAlias(st, cmd->argv[i].s);
        return;
    }
    if (is_trap == 2) {   /* mapfile/readarray -C CALLBACK: code run every -c lines */
        for (int i = 1; i + 1 < cmd->argc; i++)
            if (!strcmp(cmd->argv[i].s, "-C")) {
                lh_unwrap_parse_child(c, lim, k, i + 1, cmd->argv[i + 1].s, cmd->argv[i + 1].len,
                                      LH_ORIGIN_EVAL);
                return;
            }
        return;
    }
    if (is_trap) {
        int i = 1;
        if (i < cmd->argc && !strcmp(cmd->argv[i].s, "--")) i++;
        if (i + 1 < cmd->argc && cmd->argv[i].s[0] != '-')   /* not -p, -l, or "-" (reset) */
            lh_unwrap_parse_child(c, lim, k, i, cmd->argv[i].s, cmd->argv[i].len, LH_ORIGIN_EVAL);
        return;
    }
    if (is_at) {   /* at, batch, source /dev/stdin: the script comes on stdin */
        size_t len;
        const char *text = lh_stdin_text(c, k, &len);
        if (text) lh_unwrap_parse_child(c, lim, k, -1, text, len, LH_ORIGIN_HEREDOC);
        return;
    }
    if (is_copy) recordRename(c, st, cmd);
}

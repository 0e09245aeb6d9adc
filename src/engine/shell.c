/* shell.c — a recursive-descent parser for POSIX shell (plus the bash forms agents use)
 * that lists the simple commands a script would run. See shell.h for the output.
 *
 * The parser never executes or expands anything: words keep expansions as source text.
 * It recurses into $(…), `…`, <(…), >(…), ${…} and unquoted here-doc bodies, because
 * the commands inside them run even when the outer command is harmless (echo "$(rm …)").
 *
 * Grammar (simplified from POSIX XCU 2.10):
 *   list     := and_or ((';' | '&' | NL) and_or)*
 *   and_or   := pipeline (('&&' | '||') NL* pipeline)*
 *   pipeline := ['!'] command (('|' | '|&') NL* command)*
 *   command  := simple | compound redir* | funcdef
 *   compound := '(' list ')' | '{' list '}' | if | while | until | for | case | select
 *               | '((' arith '))' | '[[' … ']]'
 *
 * The one source file allowed over 1,300 lines (tests/integration/source_sizes.sh): it
 * is one grammar. Its productions call one another recursively (a word holds $(…),
 * which holds a list) and share the parser state, so split into files each part would
 * need that state and the whole recursion in a header, and none could be read alone.
 */
#include "engine/shell.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/check.h"

/* ------------------------------------------------------------------------------ */
/* Parser state                                                                    */
/* ------------------------------------------------------------------------------ */

typedef struct pending_heredoc {
    int cmd;            /* command index holding the redirection */
    int redir;          /* index into that command's redirs */
    const char *delim;
    size_t delim_len;
    int strip_tabs;     /* <<- */
    int quoted;
} pending_heredoc;

#define MAX_PENDING_HEREDOCS 64

typedef struct parser {
    lh_arena *a;
    const char *s;
    size_t n;
    size_t i;
    const lh_shell_limits *lim;
    lh_script *out;
    int depth;           /* syntactic nesting, bounded by lim->max_depth */
    int script_depth;    /* nesting of scripts (substitutions) */
    int parent;          /* parent command of everything parsed here */
    int parent_arg;
    lh_origin origin;
    int func;            /* enclosing function, -1 */
    pending_heredoc pend[MAX_PENDING_HEREDOCS];
    int npend;
    int failed;
} parser;

typedef struct wbuf {
    char *p;
    size_t len, cap;
} wbuf;

/* What a list stopped at. */
typedef enum {
    STOP_EOF, STOP_RPAREN, STOP_DSEMI, STOP_WORD, STOP_RBRACE_DBL /* "))" */
} stop_kind;

static void parseList(parser *p, stop_kind *stop, const char **stopword);
static int parseWord(parser *p, lh_word *w, int cmd, int argi);

/* ------------------------------------------------------------------------------ */
/* Errors and small helpers                                                        */
/* ------------------------------------------------------------------------------ */

static void fail(parser *p, lh_shell_error e, const char *msg) {
    if (p->failed) return;
    p->failed = 1;
    if (p->out->error == LH_SH_OK) {
        p->out->error = e;
        p->out->errmsg = msg;
        p->out->errpos = p->i;
    }
}

static inline int atEnd(const parser *p) { return p->i >= p->n || p->failed; }
static inline char cur(const parser *p) { return p->i < p->n ? p->s[p->i] : 0; }
static inline char peekc(const parser *p, size_t k) {
    return p->i + k < p->n ? p->s[p->i + k] : 0;
}

static inline int isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
/* Characters that end an unquoted word. */
static inline int isMeta(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '&' ||
           c == '|' || c == '<' || c == '>' || c == '(' || c == ')' || c == 0;
}
static inline int isNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static inline int isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

static int enter(parser *p) {
    if (++p->depth > p->lim->max_depth) {
        fail(p, LH_SH_TOO_DEEP, "nesting is deeper than the limit");
        return 0;
    }
    return 1;
}
static void leave(parser *p) { p->depth--; }

static void wbPut(parser *p, wbuf *b, char c) {
    if (b->len + 1 >= b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 32;
        char *np = lh_arena_grow(p->a, b->p, b->cap, ncap);
        if (!np) { fail(p, LH_SH_NOMEM, "out of memory"); return; }
        b->p = np;
        b->cap = ncap;
    }
    b->p[b->len++] = c;
}

static void wbPutN(parser *p, wbuf *b, const char *s, size_t n) {
    for (size_t k = 0; k < n && !p->failed; k++) wbPut(p, b, s[k]);
}

/* Grow a typed arena array by one slot; returns the new base (or NULL). */
static void *growArray(parser *p, void *base, int n, int *cap, size_t elem) {
    void *nb = lh_arena_reserve(p->a, base, n, cap, elem);
    if (!nb) fail(p, LH_SH_NOMEM, "out of memory");
    return nb;
}

/* Skip blanks, line continuations and comments (not newlines). */
static void skipBlanks(parser *p) {
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (isBlank(c)) { p->i++; continue; }
        if (c == '\\' && peekc(p, 1) == '\n') { p->i += 2; continue; }
        if (c == '#') {
            while (p->i < p->n && p->s[p->i] != '\n') p->i++;
            continue;
        }
        break;
    }
}

/* ------------------------------------------------------------------------------ */
/* Commands                                                                        */
/* ------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------ */
/* Invariants (shell.h's promises, asserted in the sanitizer build)                */
/* ------------------------------------------------------------------------------ */

#ifdef LH_DEBUG
static void assertWord(const lh_word *w) {
    LH_DEBUG_ASSERT(w->s && w->s[w->len] == 0);   /* NUL-terminated at len */
}

/* One command's kind and the fields each kind uses. */
static void assertCmd(const lh_script *s, int k) {
    const lh_cmd *c = &s->cmds[k];
    LH_DEBUG_ASSERT((unsigned)c->origin <= LH_ORIGIN_WRAPPED);
    /* the script itself has no parent; a nested one names the command that encloses it,
     * which comes before it, or none ($( … ) in an arithmetic command: `(( x = $(y) ))`) */
    LH_DEBUG_ASSERT(c->origin != LH_ORIGIN_TOP || c->parent == -1);
    LH_DEBUG_ASSERT(c->parent >= -1 && c->parent < k);
    LH_DEBUG_ASSERT(c->parent >= 0 || c->parent_arg == -1);
    LH_DEBUG_ASSERT(c->parent_arg >= -1);
    LH_DEBUG_ASSERT(c->parent < 0 || s->cmds[c->parent].depth <= c->depth);
    LH_DEBUG_ASSERT(c->func >= -1 && c->func < s->nfuncs);
    LH_DEBUG_ASSERT(c->pipe_len >= 1 && c->pipe_pos >= 0 && c->pipe_pos < c->pipe_len);
    LH_DEBUG_ASSERT(c->prog);
    LH_DEBUG_ASSERT(c->argc >= 0 && (c->argc == 0 || c->argv));
    LH_DEBUG_ASSERT(c->nassigns >= 0 && (c->nassigns == 0 || c->assigns));
    LH_DEBUG_ASSERT(c->nredirs >= 0 && (c->nredirs == 0 || c->redirs));
    /* a for list runs no program: its items are in assigns */
    LH_DEBUG_ASSERT(!(c->flags & LH_C_FOR_LIST) || c->argc == 0);
    /* and its body, when recorded, is the commands parsed right after it */
    LH_DEBUG_ASSERT(c->body_end == 0 || ((c->flags & LH_C_FOR_LIST) && c->body_end > k && c->body_end <= s->ncmds));
    for (int i = 0; i < c->argc; i++) assertWord(&c->argv[i]);
    for (int i = 0; i < c->nassigns; i++) assertWord(&c->assigns[i]);
    for (int i = 0; i < c->nredirs; i++) {
        LH_DEBUG_ASSERT((unsigned)c->redirs[i].op <= LH_R_HERESTR);
        assertWord(&c->redirs[i].target);
    }
}

void lh_script_assert(const lh_script *s) {
    if (s->error != LH_SH_OK) return;
    LH_ASSERT(s->ncmds >= 0 && s->ncmds <= s->capcmds && (s->ncmds == 0 || s->cmds));
    for (int k = 0; k < s->ncmds; k++) assertCmd(s, k);
    for (int f = 0; f < s->nfuncs; f++)
        LH_ASSERT(s->funcs[f].first_cmd >= 0 && s->funcs[f].ncmds >= 0 &&
                  s->funcs[f].first_cmd + s->funcs[f].ncmds <= s->ncmds);
}
#endif

int lh_script_add_cmd(lh_arena *a, lh_script *s, const lh_shell_limits *lim) {
    if (s->ncmds >= lim->max_cmds) return -1;
    if (s->ncmds == s->capcmds) {
        int ncap = s->capcmds ? s->capcmds * 2 : 16;
        lh_cmd *nc = lh_arena_grow(a, s->cmds, (size_t)s->capcmds * sizeof(lh_cmd),
                                   (size_t)ncap * sizeof(lh_cmd));
        if (!nc) return -1;
        s->cmds = nc;
        s->capcmds = ncap;
    }
    lh_cmd *c = &s->cmds[s->ncmds];
    memset(c, 0, sizeof(*c));
    c->prog = "";
    c->parent = -1;
    c->parent_arg = -1;
    c->func = -1;
    c->pipeline = -1;
    c->pipe_len = 1;
    return s->ncmds++;
}

static int newCmd(parser *p) {
    int idx = lh_script_add_cmd(p->a, p->out, p->lim);
    if (idx < 0) {
        fail(p, p->out->ncmds >= p->lim->max_cmds ? LH_SH_TOO_MANY : LH_SH_NOMEM,
             "too many commands");
        return -1;
    }
    lh_cmd *c = &p->out->cmds[idx];
    c->parent = p->parent;
    c->parent_arg = p->parent_arg;
    c->origin = p->origin;
    c->depth = p->script_depth;
    c->func = p->func;
    if (p->func >= 0) c->flags |= LH_C_IN_FUNC;
    return idx;
}

/* basename of argv[0] without a leading backslash. */
static const char *progName(const char *s) {
    const char *slash = strrchr(s, '/');
    const char *b = slash ? slash + 1 : s;
    while (*b == '\\') b++;
    return b;
}

/* ------------------------------------------------------------------------------ */
/* Substitutions                                                                   */
/* ------------------------------------------------------------------------------ */

/* Parse a nested script in text[0..len) as children of cmd/argi. */
static void parseNested(parser *p, const char *text, size_t len, int cmd, int argi,
                        lh_origin origin) {
    if (p->script_depth + 1 > p->lim->max_script_depth * 8 ||
        p->depth + 1 > p->lim->max_depth) {
        fail(p, LH_SH_TOO_DEEP, "substitutions are nested deeper than the limit");
        return;
    }
    parser q = *p;
    q.s = text;
    q.n = len;
    q.i = 0;
    q.parent = cmd;
    q.parent_arg = argi;
    q.origin = origin;
    q.script_depth = p->script_depth + 1;
    q.depth = p->depth + 1;
    q.npend = 0;
    stop_kind stop;
    const char *sw;
    parseList(&q, &stop, &sw);
    if (!q.failed && (stop != STOP_EOF)) fail(&q, LH_SH_SYNTAX, "unexpected token in substitution");
    if (q.failed) {
        p->failed = 1;
        /* keep the outer position for the message */
        if (p->out->errpos == q.i) p->out->errpos = p->i;
    }
}

/* $( … ) or <( … ) / >( … ): parse in place up to the matching ')'. p->i is just after
 * the '('. Appends the source text (with delimiters) to b. */
/* Parse the command list of a substitution in place, from p->i, as children of cmd/argi;
 * *stop and *sw say what ended it. Returns -1 when parsing failed. */
static int parseNestedList(parser *p, int cmd, int argi, lh_origin origin, stop_kind *stop,
                           const char **sw) {
    if (!enter(p)) return -1;
    parser q = *p;
    q.parent = cmd;
    q.parent_arg = argi;
    q.origin = origin;
    q.script_depth = p->script_depth + 1;
    q.npend = 0;
    parseList(&q, stop, sw);
    p->failed = q.failed;
    p->i = q.i;
    leave(p);
    return p->failed ? -1 : 0;
}

static void parseParenSubst(parser *p, wbuf *b, const char *open, int cmd, int argi,
                            lh_origin origin) {
    size_t start = p->i;
    stop_kind stop;
    const char *sw;
    if (parseNestedList(p, cmd, argi, origin, &stop, &sw)) return;
    if (stop != STOP_RPAREN) {
        fail(p, LH_SH_SYNTAX, "unterminated substitution: missing ')'");
        return;
    }
    p->i++; /* ) */
    wbPutN(p, b, open, strlen(open));
    wbPutN(p, b, p->s + start, p->i - start);
}

/* ${ …; } or ${| …; } (p->i just after "${" or "${|"): the commands up to the '}' that
 * ends the list, as children of cmd/argi. Appends the source text to b. */
static void parseFunSubst(parser *p, wbuf *b, int cmd, int argi) {
    size_t start = p->i;
    stop_kind stop;
    const char *sw;
    if (parseNestedList(p, cmd, argi, LH_ORIGIN_CMDSUBST, &stop, &sw)) return;
    if (stop != STOP_WORD || strcmp(sw, "}")) { fail(p, LH_SH_SYNTAX, "unterminated ${ …; }"); return; }
    p->i++; /* } */
    wbPutN(p, b, "${", 2);
    wbPutN(p, b, p->s + start, p->i - start);
}

/* `…`: find the closing backquote, undo \` \\ \$ and parse the inside. */
static void parseBackquote(parser *p, wbuf *b, int cmd, int argi, int in_dquote) {
    size_t start = p->i; /* after the opening ` */
    wbuf inner = {0};
    while (p->i < p->n && p->s[p->i] != '`') {
        char c = p->s[p->i];
        if (c == '\\' && p->i + 1 < p->n) {
            char d = p->s[p->i + 1];
            if (d == '`' || d == '\\' || d == '$' || (in_dquote && d == '"')) {
                wbPut(p, &inner, d);
                p->i += 2;
                continue;
            }
        }
        wbPut(p, &inner, c);
        p->i++;
    }
    if (p->i >= p->n) { fail(p, LH_SH_SYNTAX, "unterminated `…` substitution"); return; }
    p->i++; /* closing ` */
    wbPut(p, b, '`');
    wbPutN(p, b, p->s + start, p->i - start);
    if (!p->failed && inner.len) parseNested(p, inner.p, inner.len, cmd, argi, LH_ORIGIN_CMDSUBST);
}

/* Do "((" at k-2 open arithmetic? As in bash: only when the ')' that closes the first
 * '(' is followed at once by ')'. "$((cmd) | x)" is a command substitution of a
 * subshell, and "((cmd) | x)" nested subshells, whose commands run. */
static int arithCloses(const parser *p, size_t k, size_t *end) {
    int depth = 0;
    for (; k < p->n; k++) {
        char c = p->s[k];
        if (c == '(') depth++;
        else if (c == ')') {
            if (depth == 0) { *end = k; return k + 1 < p->n && p->s[k + 1] == ')'; }
            depth--;
        }
    }
    return 0;
}

static int isArithOperandChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c == '#' || c == '{' || c == '}' || c == '@';
}

/* True when text[0..n) reads as a (( … )) arithmetic expression: operands and operators
 * alternate, it does not end on a binary operator, and no word looks like an option or
 * a path (" -u", " /dev"). bash evaluates any balanced (( … )) as arithmetic, but a
 * POSIX shell such as dash runs `((rm -rf /))` as two nested subshells: the guard takes
 * the reading that runs commands. */
/* In command position, "((" whose text reads as words and options rather than an
 * expression ("((rm -rf /))") is read as nested subshells, as dash runs it: bash would
 * run nothing, so the stricter reading is the safe one (docs/architecture.md). */
static int looksArith(const char *t, size_t n) {
    int last = 0;   /* 0 start, 1 operand, 2 operator */
    for (size_t i = 0; i < n;) {
        char c = t[i];
        if (c == ' ' || c == '\t' || c == '\n') { i++; continue; }
        if (c == '\'' || c == '"' || c == '`' || c == ';') return 0;
        if ((c == '-' || c == '/') && i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t') && i + 1 < n &&
            ((t[i + 1] >= 'a' && t[i + 1] <= 'z') || (t[i + 1] >= 'A' && t[i + 1] <= 'Z')))
            return 0;
        if (isArithOperandChar(c)) {
            if (last == 1) return 0;
            if (c == '$' && i + 1 < n && t[i + 1] == '(') return 1;   /* $(…) inside: keep it simple */
            while (i < n && isArithOperandChar(t[i])) i++;
            last = 1;
            continue;
        }
        if (c == '(' || c == ')') { i++; continue; }   /* grouping: the tokens around decide */
        if ((c == '+' || c == '-') && i + 1 < n && t[i + 1] == c) { i += 2; continue; } /* ++ -- */
        last = 2;
        i++;
    }
    return last != 2;
}

static void parseDollar(parser *p, wbuf *b, uint32_t *flags, int cmd, int argi,
                        int in_dquote);

/* Arithmetic after "((" (p->i just past it), to the matching "))". bash expands $(…),
 * `…` and ${…} in it before it evaluates it, so their commands are parsed (children of
 * cmd/argi). When b is given, the source text from start is appended to it. */
static void scanArith(parser *p, wbuf *b, size_t start, uint32_t *flags, int cmd, int argi) {
    int depth = 2;
    wbuf sink = {0};
    if (!enter(p)) return;   /* $(( $(( … is bounded like other nesting */
    while (p->i < p->n && depth > 0 && !p->failed) {
        char c = p->s[p->i];
        sink.len = 0;
        if (c == '\\' && p->i + 1 < p->n) { p->i += 2; continue; }
        if (c == '$') { p->i++; parseDollar(p, &sink, flags, cmd, argi, 1); continue; }
        if (c == '`') {
            p->i++;
            *flags |= LH_W_SUBST | LH_W_DYNAMIC;
            parseBackquote(p, &sink, cmd, argi, 1);
            continue;
        }
        p->i++;
        if (c == '(') depth++;
        else if (c == ')') depth--;
    }
    leave(p);
    if (p->failed) return;
    if (depth > 0) { fail(p, LH_SH_SYNTAX, "unterminated (( … ))"); return; }
    if (b) wbPutN(p, b, p->s + start, p->i - start);
}

/* ${ … }: copy to the matching '}', recursing into nested $(…) and quotes. */
static void parseBraceParam(parser *p, wbuf *b, uint32_t *flags, int cmd, int argi) {
    wbPutN(p, b, "${", 2);
    if (!enter(p)) return;
    while (p->i < p->n && !p->failed) {
        char c = p->s[p->i];
        if (c == '}') { p->i++; wbPut(p, b, '}'); leave(p); return; }
        if (c == '\\' && p->i + 1 < p->n) { wbPutN(p, b, p->s + p->i, 2); p->i += 2; continue; }
        if (c == '\'') {
            size_t st = p->i++;
            while (p->i < p->n && p->s[p->i] != '\'') p->i++;
            if (p->i >= p->n) break;
            p->i++;
            wbPutN(p, b, p->s + st, p->i - st);
            continue;
        }
        if (c == '$') { p->i++; parseDollar(p, b, flags, cmd, argi, 0); continue; }
        if (c == '`') { p->i++; *flags |= LH_W_SUBST; parseBackquote(p, b, cmd, argi, 0); continue; }
        wbPut(p, b, c);
        p->i++;
    }
    if (!p->failed) fail(p, LH_SH_SYNTAX, "unterminated ${ … }");
}

/* After a '$' (p->i just past it). */
static void parseDollar(parser *p, wbuf *b, uint32_t *flags, int cmd, int argi,
                        int in_dquote) {
    char c = cur(p);
    if (c == '(') {
        size_t end;
        if (peekc(p, 1) == '(' && arithCloses(p, p->i + 2, &end)) {
            p->i += 2;
            *flags |= LH_W_ARITH | LH_W_DYNAMIC;
            scanArith(p, b, p->i - 3, flags, cmd, argi);
            return;
        }
        p->i++;
        *flags |= LH_W_SUBST | LH_W_DYNAMIC;
        parseParenSubst(p, b, "$(", cmd, argi, LH_ORIGIN_CMDSUBST);
        return;
    }
    if (c == '{') {
        char d = peekc(p, 1);
        if (isBlank(d) || d == '\n' || d == '|') {   /* bash 5.3: ${ cmds; } ${| cmds; } */
            p->i += d == '|' ? 2 : 1;
            *flags |= LH_W_SUBST | LH_W_DYNAMIC;
            parseFunSubst(p, b, cmd, argi);
            return;
        }
        p->i++;
        *flags |= LH_W_VAR | LH_W_DYNAMIC;
        parseBraceParam(p, b, flags, cmd, argi);
        return;
    }
    if (isNameStart(c)) {
        size_t st = p->i;
        while (p->i < p->n && isNameChar(p->s[p->i])) p->i++;
        wbPut(p, b, '$');
        wbPutN(p, b, p->s + st, p->i - st);
        *flags |= LH_W_VAR | LH_W_DYNAMIC;
        return;
    }
    if ((c >= '0' && c <= '9') || c == '@' || c == '*' || c == '#' || c == '?' ||
        c == '-' || c == '$' || c == '!') {
        p->i++;
        wbPut(p, b, '$');
        wbPut(p, b, c);
        *flags |= LH_W_VAR | LH_W_DYNAMIC;
        return;
    }
    (void)in_dquote;
    wbPut(p, b, '$'); /* a lone $ is literal */
}

/* ------------------------------------------------------------------------------ */
/* Quotes                                                                          */
/* ------------------------------------------------------------------------------ */

static int hexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void putUtf8(parser *p, wbuf *b, unsigned long cp) {
    if (cp == 0) return;
    if (cp < 0x80) wbPut(p, b, (char)cp);
    else if (cp < 0x800) {
        wbPut(p, b, (char)(0xC0 | (cp >> 6)));
        wbPut(p, b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        wbPut(p, b, (char)(0xE0 | (cp >> 12)));
        wbPut(p, b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        wbPut(p, b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x110000) {
        wbPut(p, b, (char)(0xF0 | (cp >> 18)));
        wbPut(p, b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        wbPut(p, b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        wbPut(p, b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* $'…' (p->i just past the opening quote): decode the ANSI-C escapes, since
 * $'\x72\x6d' is how an obfuscated "rm" arrives. Any escape that makes a NUL (\0, \x00,
 * \c@, \u0000, \400) ends the string, as in bash:
 * what follows is dropped, but its escapes are still read (a \' does not close). */
static void parseAnsiQuote(parser *p, wbuf *out) {
    int ended = 0;
    wbuf sink = {0};
    wbuf *b = out;   /* becomes &sink after a \0 */
    while (p->i < p->n) {
        if (b == &sink) sink.len = 0;
        char c = p->s[p->i++];
        if (c == '\'') { ended = 1; break; }
        if (c != '\\' || p->i >= p->n) { wbPut(p, b, c); continue; }
        char e = p->s[p->i++];
        switch (e) {
        case 'n': wbPut(p, b, '\n'); break;
        case 't': wbPut(p, b, '\t'); break;
        case 'r': wbPut(p, b, '\r'); break;
        case 'a': wbPut(p, b, '\a'); break;
        case 'b': wbPut(p, b, '\b'); break;
        case 'f': wbPut(p, b, '\f'); break;
        case 'v': wbPut(p, b, '\v'); break;
        case 'e': case 'E': wbPut(p, b, 27); break;
        case '\\': case '\'': case '"': case '?': wbPut(p, b, e); break;
        case 'c':   /* \c@ is a NUL too */
            if (p->i < p->n) {
                char ch = (char)(p->s[p->i++] & 0x1F);
                if (ch == 0) b = &sink;
                else wbPut(p, b, ch);
            }
            break;
        case 'x': {
            unsigned v = 0; int k = 0;
            while (k < 2 && p->i < p->n && hexVal(p->s[p->i]) >= 0)
                v = v * 16 + (unsigned)hexVal(p->s[p->i++]), k++;
            if (k == 0) { wbPut(p, b, '\\'); wbPut(p, b, 'x'); }
            else if (v == 0) b = &sink;
            else wbPut(p, b, (char)v);
            break;
        }
        case 'u': case 'U': {
            unsigned long v = 0; int k = 0, max = e == 'u' ? 4 : 8;
            while (k < max && p->i < p->n && hexVal(p->s[p->i]) >= 0)
                v = v * 16 + (unsigned long)hexVal(p->s[p->i++]), k++;
            if (k == 0) { wbPut(p, b, '\\'); wbPut(p, b, e); }   /* \uZ: kept as written */
            else if (v == 0) b = &sink;                          /* \u0000, \U0 */
            else putUtf8(p, b, v);
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                unsigned v = (unsigned)(e - '0'); int k = 1;
                while (k < 3 && p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '7')
                    v = v * 8 + (unsigned)(p->s[p->i++] - '0'), k++;
                if ((v & 0xFF) == 0) b = &sink;   /* \0, \400: the byte is a NUL */
                else wbPut(p, b, (char)v);
            } else {
                wbPut(p, b, '\\');
                wbPut(p, b, e);
            }
        }
    }
    if (!ended) fail(p, LH_SH_SYNTAX, "unterminated $'…' quote");
}

/* "…" (p->i just past the opening quote). */
static void parseDquote(parser *p, wbuf *b, uint32_t *flags, int cmd, int argi) {
    while (p->i < p->n && !p->failed) {
        char c = p->s[p->i];
        if (c == '"') { p->i++; return; }
        if (c == '\\' && p->i + 1 < p->n) {
            char d = p->s[p->i + 1];
            if (d == '$' || d == '`' || d == '"' || d == '\\') { wbPut(p, b, d); p->i += 2; continue; }
            if (d == '\n') { p->i += 2; continue; }
            wbPut(p, b, c);
            p->i++;
            continue;
        }
        if (c == '$') { p->i++; parseDollar(p, b, flags, cmd, argi, 1); continue; }
        if (c == '`') { p->i++; *flags |= LH_W_SUBST | LH_W_DYNAMIC; parseBackquote(p, b, cmd, argi, 1); continue; }
        wbPut(p, b, c);
        p->i++;
    }
    if (!p->failed) fail(p, LH_SH_SYNTAX, "unterminated double quote");
}

/* ------------------------------------------------------------------------------ */
/* Words                                                                           */
/* ------------------------------------------------------------------------------ */

/* Parse one word at p->i into *w (after quote removal). cmd/argi say where nested
 * commands belong. Returns 0 if there is no word here. */
static int parseWord(parser *p, lh_word *w, int cmd, int argi) {
    wbuf b = {0};
    uint32_t flags = 0;
    size_t start = p->i;
    int brace_open = 0;
    if (++p->out->nwords > p->lim->max_words) {
        fail(p, LH_SH_TOO_MANY, "too many words");
        return 0;
    }
    if (cur(p) == '~') flags |= LH_W_TILDE;
    while (p->i < p->n && !p->failed) {
        char c = p->s[p->i];
        if (c == '\\') {
            /* a backslash at the very end stays one, as in bash */
            if (p->i + 1 >= p->n) { wbPut(p, &b, c); p->i++; break; }
            char d = p->s[p->i + 1];
            p->i += 2;
            if (d == '\n') continue;   /* line continuation */
            /* A leading backslash on the command word bypasses aliases: keep the
             * character, note the quoting. */
            wbPut(p, &b, d);
            flags |= LH_W_QUOTED;
            continue;
        }
        if (c == '\'') {
            p->i++;
            size_t st = p->i;
            while (p->i < p->n && p->s[p->i] != '\'') p->i++;
            if (p->i >= p->n) { fail(p, LH_SH_SYNTAX, "unterminated single quote"); break; }
            wbPutN(p, &b, p->s + st, p->i - st);
            p->i++;
            flags |= LH_W_QUOTED;
            continue;
        }
        if (c == '"') {
            p->i++;
            flags |= LH_W_QUOTED;
            parseDquote(p, &b, &flags, cmd, argi);
            continue;
        }
        if (c == '$') {
            if (peekc(p, 1) == '\'') { p->i += 2; flags |= LH_W_QUOTED; parseAnsiQuote(p, &b); continue; }
            if (peekc(p, 1) == '"') { p->i += 2; flags |= LH_W_QUOTED; parseDquote(p, &b, &flags, cmd, argi); continue; }
            p->i++;
            parseDollar(p, &b, &flags, cmd, argi, 0);
            continue;
        }
        if (c == '`') {
            p->i++;
            flags |= LH_W_SUBST | LH_W_DYNAMIC;
            parseBackquote(p, &b, cmd, argi, 0);
            continue;
        }
        if ((c == '<' || c == '>') && peekc(p, 1) == '(') {   /* anywhere in a word, as bash */
            p->i += 2;
            flags |= LH_W_PROCSUBST | LH_W_DYNAMIC;
            parseParenSubst(p, &b, c == '<' ? "<(" : ">(", cmd, argi,
                            c == '<' ? LH_ORIGIN_PROCSUBST_IN : LH_ORIGIN_PROCSUBST_OUT);
            continue;
        }
        if (isMeta(c)) break;
        if (c == '*' || c == '?' || c == '[') flags |= LH_W_GLOB;
        if (c == '{') brace_open = 1;
        if ((c == ',' || (c == '.' && peekc(p, 1) == '.')) && brace_open) flags |= LH_W_BRACE;
        wbPut(p, &b, c);
        p->i++;
    }
    if (p->failed) return 0;
    if (p->i == start) return 0;
    if (!b.p) wbPut(p, &b, 0), b.len = 0; /* an empty quoted word: "" */
    else wbPut(p, &b, 0), b.len--;
    if (p->failed) return 0;
    w->s = b.p;
    w->len = (uint32_t)b.len;
    w->flags = flags;
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Here-documents                                                                  */
/* ------------------------------------------------------------------------------ */

/* Scan an unquoted here-doc body for $(…) and `…`, whose commands run. */
static void scanBodySubst(parser *p, const char *body, size_t len, int cmd) {
    parser q = *p;
    q.s = body;
    q.n = len;
    q.i = 0;
    q.npend = 0;
    wbuf sink = {0};
    uint32_t flags = 0;
    while (q.i < q.n && !q.failed) {
        char c = q.s[q.i];
        if (c == '\\') { q.i += 2; continue; }
        if (c == '$') { q.i++; parseDollar(&q, &sink, &flags, cmd, -1, 1); sink.len = 0; continue; }
        if (c == '`') { q.i++; parseBackquote(&q, &sink, cmd, -1, 1); sink.len = 0; continue; }
        q.i++;
    }
    if (q.failed) p->failed = 1;
}

/* After a newline: read the bodies of pending here-docs, in order. */
static void readHeredocs(parser *p) {
    for (int k = 0; k < p->npend && !p->failed; k++) {
        pending_heredoc *h = &p->pend[k];
        wbuf body = {0};
        int found = 0;
        while (p->i < p->n) {
            size_t ls = p->i;
            while (p->i < p->n && p->s[p->i] != '\n') p->i++;
            size_t le = p->i;
            if (p->i < p->n) p->i++; /* the newline */
            size_t cs = ls;
            if (h->strip_tabs) while (cs < le && p->s[cs] == '\t') cs++;
            if (le - cs == h->delim_len && memcmp(p->s + cs, h->delim, h->delim_len) == 0) {
                found = 1;
                break;
            }
            wbPutN(p, &body, p->s + cs, le - cs);
            wbPut(p, &body, '\n');
        }
        (void)found; /* bash accepts a here-doc ended by end of input */
        wbPut(p, &body, 0);
        if (p->failed) return;
        if (h->redir >= p->out->cmds[h->cmd].nredirs) {   /* never expected; refuse, not crash */
            fail(p, LH_SH_SYNTAX, "here-doc body before its redirection was complete");
            return;
        }
        lh_redir *r = &p->out->cmds[h->cmd].redirs[h->redir];
        r->target.s = body.p;
        r->target.len = (uint32_t)(body.len - 1);
        if (!h->quoted && body.len > 1) scanBodySubst(p, body.p, body.len - 1, h->cmd);
    }
    p->npend = 0;
}

/* Consume one newline and any here-doc bodies that follow it. */
static void eatNewline(parser *p) {
    p->i++;
    if (p->npend) readHeredocs(p);
}

/* ------------------------------------------------------------------------------ */
/* Redirections                                                                    */
/* ------------------------------------------------------------------------------ */

/* Is there a redirection operator at p->i (optionally after an fd number)? Returns the
 * operator length and sets *op, *fd; 0 when none. Does not move. */
static size_t peekRedir(const parser *p, lh_redir_op *op, int *fd) {
    size_t k = p->i;
    int n = -1;
    if (k < p->n && p->s[k] >= '0' && p->s[k] <= '9') {
        size_t d = k;
        n = 0;
        while (d < p->n && p->s[d] >= '0' && p->s[d] <= '9' && n < 100000) n = n * 10 + (p->s[d++] - '0');
        if (d >= p->n || (p->s[d] != '<' && p->s[d] != '>')) return 0;
        k = d;
    }
    const char *s = p->s + k;
    size_t left = p->n - k;
    *fd = n;
#define IS(str) (left >= sizeof(str) - 1 && memcmp(s, str, sizeof(str) - 1) == 0)
    size_t len = 0;
    if (n < 0 && IS("&>>")) { *op = LH_R_APPENDERR; len = 3; }
    else if (n < 0 && IS("&>")) { *op = LH_R_OUTERR; len = 2; }
    else if (IS("<<<")) { *op = LH_R_HERESTR; len = 3; }
    else if (IS("<<-")) { *op = LH_R_HEREDOC; len = 3; }
    else if (IS("<<")) { *op = LH_R_HEREDOC; len = 2; }
    else if (IS("<>")) { *op = LH_R_RDWR; len = 2; }
    else if (IS("<&")) { *op = LH_R_DUPIN; len = 2; }
    else if (IS(">>")) { *op = LH_R_APPEND; len = 2; }
    else if (IS(">|")) { *op = LH_R_CLOBBER; len = 2; }
    else if (IS(">&")) { *op = LH_R_DUPOUT; len = 2; }
    else if (IS("<(") || IS(">(")) return 0;   /* process substitution, a word */
    else if (IS("<")) { *op = LH_R_IN; len = 1; }
    else if (IS(">")) { *op = LH_R_OUT; len = 1; }
#undef IS
    if (!len) return 0;
    return (k - p->i) + len;
}

/* Parse a redirection at p->i into cmd's redirs. */
static void parseRedir(parser *p, int cmd, lh_redir **redirs, int *nredirs, int *cap) {
    lh_redir_op op;
    int fd;
    size_t len = peekRedir(p, &op, &fd);
    assert(len > 0); /* called only where peekRedir saw a redirection (it then set op and fd) */
    int strip = (op == LH_R_HEREDOC && p->s[p->i + len - 1] == '-');
    p->i += len;
    skipBlanks(p);
    lh_word w;
    if (!parseWord(p, &w, cmd, -1)) {
        if (!p->failed) fail(p, LH_SH_SYNTAX, "a redirection needs a target");
        return;
    }
    lh_redir *r = growArray(p, *redirs, *nredirs, cap, sizeof(lh_redir));
    if (!r) return;
    *redirs = r;
    lh_redir *nr = &r[(*nredirs)++];
    memset(nr, 0, sizeof(*nr));
    nr->fd = fd;
    nr->op = op;
    nr->target = w;
    if (op == LH_R_HEREDOC) {
        nr->heredoc_quoted = (w.flags & LH_W_QUOTED) != 0;
        if (p->npend >= MAX_PENDING_HEREDOCS) { fail(p, LH_SH_TOO_MANY, "too many here-documents"); return; }
        pending_heredoc *h = &p->pend[p->npend++];
        h->cmd = cmd;
        h->redir = *nredirs - 1;
        h->delim = w.s;
        h->delim_len = w.len;
        h->strip_tabs = strip;
        h->quoted = nr->heredoc_quoted;
        nr->target.s = "";   /* filled at the next newline */
        nr->target.len = 0;
    }
}

int lh_redir_writes_file(const lh_redir *r) {
    switch (r->op) {
    case LH_R_OUT: case LH_R_APPEND: case LH_R_CLOBBER: case LH_R_RDWR:
    case LH_R_OUTERR: case LH_R_APPENDERR:
        return 1;
    case LH_R_DUPOUT: {
        /* >&2 and >&- duplicate fds; >&file writes a file */
        const char *t = r->target.s;
        if (!*t || !strcmp(t, "-")) return 0;
        for (; *t; t++) if (*t < '0' || *t > '9') return *t == '-' && !t[1] ? 0 : 1;
        return 0;
    }
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------ */
/* Reserved words                                                                  */
/* ------------------------------------------------------------------------------ */

/* If an unquoted reserved word w is at p->i (followed by a delimiter), return 1. */
static int atWord(const parser *p, const char *w) {
    size_t len = strlen(w);
    if (p->n - p->i < len || memcmp(p->s + p->i, w, len) != 0) return 0;
    char after = p->i + len < p->n ? p->s[p->i + len] : 0;
    /* '{' and '!' too end at any metacharacter: '!<x rm' and '{<x rm; }' run rm (bash reads
     * the operator as the start of the next token), and '!(cmd)' is a negated subshell
     * (extglob is off in bash -c). */
    return isMeta(after);
}

static const char *const kStopWords[] = {"then", "do", "done", "fi", "else", "elif", "esac", "}"};

static const char *atStopWord(const parser *p) {
    for (size_t k = 0; k < sizeof(kStopWords) / sizeof(kStopWords[0]); k++)
        if (atWord(p, kStopWords[k])) return kStopWords[k];
    return NULL;
}

static int expectWord(parser *p, const char *w) {
    skipBlanks(p);
    while (cur(p) == '\n' || cur(p) == ';') {
        if (cur(p) == '\n') eatNewline(p); else p->i++;
        skipBlanks(p);
    }
    if (!atWord(p, w)) {
        static char msg[64];
        (void)msg;
        fail(p, LH_SH_SYNTAX, "missing reserved word (then/do/done/fi/esac/})");
        return 0;
    }
    p->i += strlen(w);
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Simple commands                                                                 */
/* ------------------------------------------------------------------------------ */

/* NAME=… or NAME+=… where NAME is unquoted, at raw[0..left). */
static int isAssignment(const char *raw, size_t left) {
    size_t k = 0;
    if (left == 0 || !isNameStart(raw[0])) return 0;
    while (k < left && isNameChar(raw[k])) k++;
    if (k < left && raw[k] == '+') k++;
    return k < left && raw[k] == '=';
}

/* Conditional expression [[ … ]]: words up to "]]", where < > && || ( ) are words. */
static void parseCondWords(parser *p, int cmd, lh_word **argv, int *argc, int *cap) {
    for (;;) {
        skipBlanks(p);
        while (cur(p) == '\n') { eatNewline(p); skipBlanks(p); }
        if (atEnd(p)) { fail(p, LH_SH_SYNTAX, "missing ]]"); return; }
        lh_word w;
        char c = cur(p);
        int ok;
        if (c == '<' || c == '>' || c == '(' || c == ')' || c == '&' || c == '|') {
            size_t st = p->i;
            while (p->i < p->n && strchr("<>()&|", p->s[p->i]) && p->i - st < 2) p->i++;
            w.s = lh_arena_strndup(p->a, p->s + st, p->i - st);
            w.len = (uint32_t)(p->i - st);
            w.flags = 0;
            ok = w.s != NULL;
        } else {
            ok = parseWord(p, &w, cmd, *argc);
        }
        if (!ok) { if (!p->failed) fail(p, LH_SH_SYNTAX, "bad [[ expression"); return; }
        lh_word *nv = growArray(p, *argv, *argc, cap, sizeof(lh_word));
        if (!nv) return;
        *argv = nv;
        nv[(*argc)++] = w;
        if (!strcmp(w.s, "]]") && !(w.flags & LH_W_QUOTED)) return;
    }
}

/* Parse a simple command (assignments, words, redirections) into a new command.
 * Returns its index, or -1. */
static int parseSimple(parser *p) {
    int idx = newCmd(p);
    if (idx < 0) return -1;
    lh_word *argv = NULL, *assigns = NULL;
    lh_redir *redirs = NULL;
    int argc = 0, nassigns = 0, nredirs = 0, capv = 0, capa = 0, capr = 0;
    for (;;) {
        skipBlanks(p);
        if (atEnd(p)) break;
        lh_redir_op op;
        int fd;
        if (peekRedir(p, &op, &fd)) {
            parseRedir(p, idx, &redirs, &nredirs, &capr);
            if (p->failed) return -1;
            /* On the command at once: a here-doc body can be read before the command
             * ends (a newline inside [[ … ]]), and readHeredocs stores it there. */
            p->out->cmds[idx].redirs = redirs;
            p->out->cmds[idx].nredirs = nredirs;
            continue;
        }
        char c = cur(p);
        if (isMeta(c) && !((c == '<' || c == '>') && peekc(p, 1) == '(')) break;
        const char *raw = p->s + p->i;
        if (argc == 0 && atWord(p, "[[")) {
            lh_word w = {.s = "[[", .len = 2, .flags = 0};
            p->i += 2;
            argv = growArray(p, argv, argc, &capv, sizeof(lh_word));
            if (!argv) return -1;
            argv[argc++] = w;
            parseCondWords(p, idx, &argv, &argc, &capv);
            if (p->failed) return -1;
            continue;
        }
        lh_word w;
        int assign = argc == 0 && isAssignment(raw, p->n - p->i);
        if (assign) {
            /* NAME=( … ) array assignment: keep the source text */
            const char *eq = memchr(raw, '=', p->n - p->i);
            if (eq && eq + 1 < p->s + p->n && eq[1] == '(') {
                size_t st = p->i;
                p->i = (size_t)(eq - p->s) + 2;
                int d = 1;
                while (p->i < p->n && d > 0) {
                    char e = p->s[p->i++];
                    if (e == '(') d++;
                    else if (e == ')') d--;
                    else if (e == '\'' ) { while (p->i < p->n && p->s[p->i] != '\'') p->i++; if (p->i < p->n) p->i++; }
                }
                if (d > 0) { fail(p, LH_SH_SYNTAX, "unterminated array assignment"); return -1; }
                /* the elements' substitutions run: parse them (children of this command) */
                size_t in0 = (size_t)(eq - p->s) + 2;
                scanBodySubst(p, p->s + in0, p->i - 1 - in0, idx);
                if (p->failed) return -1;
                w.s = lh_arena_strndup(p->a, p->s + st, p->i - st);
                w.len = (uint32_t)(p->i - st);
                w.flags = LH_W_DYNAMIC;
                if (!w.s) { fail(p, LH_SH_NOMEM, "out of memory"); return -1; }
                assigns = growArray(p, assigns, nassigns, &capa, sizeof(lh_word));
                if (!assigns) return -1;
                assigns[nassigns++] = w;
                continue;
            }
        }
        if (!parseWord(p, &w, idx, assign ? -1 : argc)) {
            if (!p->failed) fail(p, LH_SH_SYNTAX, "unexpected character");
            return -1;
        }
        if (assign) {
            assigns = growArray(p, assigns, nassigns, &capa, sizeof(lh_word));
            if (!assigns) return -1;
            assigns[nassigns++] = w;
        } else {
            argv = growArray(p, argv, argc, &capv, sizeof(lh_word));
            if (!argv) return -1;
            argv[argc++] = w;
        }
    }
    if (p->failed) return -1;
    lh_cmd *c = &p->out->cmds[idx];
    c->argv = argv;
    c->argc = argc;
    c->assigns = assigns;
    c->nassigns = nassigns;
    c->redirs = redirs;
    c->nredirs = nredirs;
    if (argc > 0) {
        c->prog = progName(argv[0].s);
        if (argv[0].flags & (LH_W_DYNAMIC | LH_W_PROCSUBST)) c->flags |= LH_C_DYNAMIC_CMD;
    }
    return idx;
}

/* ------------------------------------------------------------------------------ */
/* Compound commands                                                               */
/* ------------------------------------------------------------------------------ */

/* Redirections after a compound command become a command with no argv that carries
 * them, so "{ …; } > /etc/passwd" is seen. */
static void parseTrailingRedirs(parser *p) {
    lh_redir_op op;
    int fd;
    skipBlanks(p);
    if (!peekRedir(p, &op, &fd)) return;
    int idx = newCmd(p);
    if (idx < 0) return;
    lh_redir *redirs = NULL;
    int nredirs = 0, cap = 0;
    while (!p->failed) {
        skipBlanks(p);
        if (!peekRedir(p, &op, &fd)) break;
        parseRedir(p, idx, &redirs, &nredirs, &cap);
    }
    if (p->failed) return;
    p->out->cmds[idx].redirs = redirs;
    p->out->cmds[idx].nredirs = nredirs;
}

static void parseBody(parser *p, const char *end) {
    stop_kind stop;
    const char *sw = NULL;
    parseList(p, &stop, &sw);
    if (p->failed) return;
    if (stop != STOP_WORD || !sw || strcmp(sw, end) != 0) {
        if (!(stop == STOP_WORD && sw && !strcmp(end, "fi") &&
              (!strcmp(sw, "else") || !strcmp(sw, "elif"))))
            fail(p, LH_SH_SYNTAX, "unterminated compound command");
        return;
    }
}

static void parseIf(parser *p) {
    stop_kind stop;
    const char *sw;
    for (;;) {
        parseList(p, &stop, &sw);                       /* condition */
        if (p->failed) return;
        if (stop != STOP_WORD || strcmp(sw, "then")) { fail(p, LH_SH_SYNTAX, "if without then"); return; }
        p->i += 4;
        parseList(p, &stop, &sw);                       /* then-part */
        if (p->failed) return;
        if (stop != STOP_WORD) { fail(p, LH_SH_SYNTAX, "if without fi"); return; }
        if (!strcmp(sw, "elif")) { p->i += 4; continue; }
        if (!strcmp(sw, "else")) {
            p->i += 4;
            parseList(p, &stop, &sw);
            if (p->failed) return;
            if (stop != STOP_WORD || strcmp(sw, "fi")) { fail(p, LH_SH_SYNTAX, "if without fi"); return; }
        }
        if (strcmp(sw, "fi")) { fail(p, LH_SH_SYNTAX, "if without fi"); return; }
        p->i += 2;
        return;
    }
}

static void parseLoopBody(parser *p) {
    if (!expectWord(p, "do")) return;
    stop_kind stop;
    const char *sw;
    parseList(p, &stop, &sw);
    if (p->failed) return;
    if (stop != STOP_WORD || strcmp(sw, "done")) { fail(p, LH_SH_SYNTAX, "loop without done"); return; }
    p->i += 4;
}

static void parseWhile(parser *p) {
    stop_kind stop;
    const char *sw;
    parseList(p, &stop, &sw);
    if (p->failed) return;
    if (stop != STOP_WORD || strcmp(sw, "do")) { fail(p, LH_SH_SYNTAX, "while without do"); return; }
    parseLoopBody(p);
}

/* for NAME [in WORDS]; do …; done — the words are kept as a command "for NAME in …"
 * so substitutions in them are seen. Also for (( … )). */
static void parseFor(parser *p) {
    skipBlanks(p);
    if (cur(p) == '(' && peekc(p, 1) == '(') {
        p->i += 2;
        uint32_t fl = 0;
        scanArith(p, NULL, 0, &fl, p->parent, p->parent_arg);
        if (p->failed) return;
        parseLoopBody(p);
        return;
    }
    lh_word name;
    if (!parseWord(p, &name, -1, -1)) { if (!p->failed) fail(p, LH_SH_SYNTAX, "for needs a name"); return; }
    skipBlanks(p);
    while (cur(p) == '\n') { eatNewline(p); skipBlanks(p); }
    int idx = -1;
    if (atWord(p, "in")) {
        p->i += 2;
        idx = newCmd(p);
        if (idx < 0) return;
        lh_word *argv = NULL;
        int argc = 0, cap = 0;
        for (;;) {
            skipBlanks(p);
            char c = cur(p);
            if (atEnd(p) || c == ';' || c == '\n') break;
            lh_word w;
            if (!parseWord(p, &w, idx, argc)) { if (!p->failed) fail(p, LH_SH_SYNTAX, "bad for list"); return; }
            argv = growArray(p, argv, argc, &cap, sizeof(lh_word));
            if (!argv) return;
            argv[argc++] = w;
        }
        /* Keep the list as data of a no-program command: substitutions inside were
         * recorded as its children; each item is kept as NAME=ITEM so the analyzers
         * can judge the loop body once per item. */
        lh_word *items = argc ? lh_arena_alloc(p->a, (size_t)argc * sizeof(lh_word)) : NULL;
        if (argc && !items) { fail(p, LH_SH_NOMEM, "out of memory"); return; }
        for (int k = 0; k < argc; k++) {
            char *t = lh_arena_printf(p->a, "%s=%s", name.s, argv[k].s);
            if (!t) { fail(p, LH_SH_NOMEM, "out of memory"); return; }
            items[k].s = t;
            items[k].len = (uint32_t)strlen(t);
            items[k].flags = argv[k].flags;
        }
        lh_cmd *fc = &p->out->cmds[idx];
        fc->argc = 0;
        fc->assigns = items;
        fc->nassigns = argc;
        fc->flags |= LH_C_FOR_LIST;
    }
    parseLoopBody(p);
    if (idx >= 0 && !p->failed) p->out->cmds[idx].body_end = p->out->ncmds;
}

static void parseCase(parser *p) {
    skipBlanks(p);
    int idx = newCmd(p);   /* holds the subject word's substitutions */
    if (idx < 0) return;
    lh_word subj;
    if (!parseWord(p, &subj, idx, 0)) { if (!p->failed) fail(p, LH_SH_SYNTAX, "case needs a word"); return; }
    if (!expectWord(p, "in")) return;
    for (;;) {
        skipBlanks(p);
        while (cur(p) == '\n' || cur(p) == ';') {
            if (cur(p) == '\n') eatNewline(p); else p->i++;
            skipBlanks(p);
        }
        if (atEnd(p)) { fail(p, LH_SH_SYNTAX, "case without esac"); return; }
        if (atWord(p, "esac")) { p->i += 4; return; }
        if (cur(p) == '(') p->i++;
        /* patterns: words separated by | up to ) */
        for (;;) {
            skipBlanks(p);
            lh_word pat;
            if (!parseWord(p, &pat, idx, -1)) { if (!p->failed) fail(p, LH_SH_SYNTAX, "bad case pattern"); return; }
            skipBlanks(p);
            if (cur(p) == '|') { p->i++; continue; }
            if (cur(p) == ')') { p->i++; break; }
            fail(p, LH_SH_SYNTAX, "bad case pattern");
            return;
        }
        stop_kind stop;
        const char *sw;
        parseList(p, &stop, &sw);
        if (p->failed) return;
        if (stop == STOP_DSEMI) {
            p->i += 2;
            if (cur(p) == '&') p->i++;
            continue;
        }
        if (stop == STOP_WORD && !strcmp(sw, "esac")) { p->i += 4; return; }
        fail(p, LH_SH_SYNTAX, "case without esac");
        return;
    }
}

/* Mark fn's body commands and detect the fork-bomb shape: it calls itself in a
 * pipeline or in the background. */
static void finishFunction(parser *p, int fidx, int first) {
    lh_func *f = &p->out->funcs[fidx];
    f->first_cmd = first;
    f->ncmds = p->out->ncmds - first;
    for (int k = first; k < p->out->ncmds; k++) {
        lh_cmd *c = &p->out->cmds[k];
        if (c->argc > 0 && !strcmp(c->prog, f->name) &&
            (c->pipe_len > 1 || (c->flags & LH_C_BACKGROUND)))
            f->recursive_bg = 1;
    }
}

static int parseCommand(parser *p);

/* name() compound  or  function name [()] compound */
static int parseFunction(parser *p, const char *name, size_t name_len) {
    lh_func *nf = lh_arena_grow(p->a, p->out->funcs, (size_t)p->out->nfuncs * sizeof(lh_func),
                                (size_t)(p->out->nfuncs + 1) * sizeof(lh_func));
    if (!nf) { fail(p, LH_SH_NOMEM, "out of memory"); return -1; }
    p->out->funcs = nf;
    int fidx = p->out->nfuncs++;
    memset(&nf[fidx], 0, sizeof(lh_func));
    nf[fidx].name = lh_arena_strndup(p->a, name, name_len);
    skipBlanks(p);
    while (cur(p) == '\n') { eatNewline(p); skipBlanks(p); }
    /* "f()" at the end, or before an operator: bash rejects the line, and runs none of it */
    if (p->i >= p->n || cur(p) == ';' || cur(p) == '&' || cur(p) == '|' || cur(p) == ')') {
        fail(p, LH_SH_SYNTAX, "a function definition without a body");
        return -1;
    }
    int saved = p->func;
    p->func = fidx;
    int first = p->out->ncmds;
    parseCommand(p);
    p->func = saved;
    if (p->failed) return -1;
    finishFunction(p, fidx, first);
    return 0;
}

/* Is "NAME ( )" at p->i? Returns the name length (0 if not). */
static size_t peekFuncDef(const parser *p) {
    size_t k = p->i;
    while (k < p->n && !isMeta(p->s[k]) && p->s[k] != '"' && p->s[k] != '\'' &&
           p->s[k] != '$' && p->s[k] != '`' && p->s[k] != '=')
        k++;
    size_t len = k - p->i;
    if (len == 0) return 0;
    while (k < p->n && isBlank(p->s[k])) k++;
    if (k >= p->n || p->s[k] != '(') return 0;
    k++;
    while (k < p->n && isBlank(p->s[k])) k++;
    if (k >= p->n || p->s[k] != ')') return 0;
    return len;
}

/* Parse one command. Returns 0, or -1 when there was none (e.g. at a stop word). */
static int parseCommand(parser *p) {
    skipBlanks(p);
    if (atEnd(p)) return -1;
    char c = cur(p);
    int ok = 0;
    if (c == '(') {
        size_t end = 0;
        if (peekc(p, 1) == '(' && arithCloses(p, p->i + 2, &end) &&
            looksArith(p->s + p->i + 2, end - (p->i + 2))) {   /* (( arithmetic )) */
            p->i += 2;
            uint32_t fl = 0;
            scanArith(p, NULL, 0, &fl, p->parent, p->parent_arg);
            if (p->failed) return -1;
            parseTrailingRedirs(p);
            return 0;
        }
        p->i++;
        if (!enter(p)) return -1;
        stop_kind stop;
        const char *sw;
        parseList(p, &stop, &sw);
        leave(p);
        if (p->failed) return -1;
        if (stop != STOP_RPAREN) { fail(p, LH_SH_SYNTAX, "unterminated subshell: missing ')'"); return -1; }
        p->i++;
        parseTrailingRedirs(p);
        return 0;
    }
    if (atWord(p, "{")) {
        p->i++;
        if (!enter(p)) return -1;
        parseBody(p, "}");
        leave(p);
        if (p->failed) return -1;
        p->i++;
        parseTrailingRedirs(p);
        return 0;
    }
    struct { const char *w; void (*fn)(parser *); } kw[] = {
        {"if", parseIf}, {"while", parseWhile}, {"until", parseWhile},
        {"for", parseFor}, {"select", parseFor}, {"case", parseCase},
    };
    for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
        if (atWord(p, kw[k].w)) {
            p->i += strlen(kw[k].w);
            if (!enter(p)) return -1;
            kw[k].fn(p);
            leave(p);
            if (p->failed) return -1;
            parseTrailingRedirs(p);
            ok = 1;
            break;
        }
    }
    if (ok) return 0;
    if (atWord(p, "function")) {
        p->i += 8;
        skipBlanks(p);
        size_t st = p->i;
        while (p->i < p->n && !isMeta(p->s[p->i])) p->i++;
        size_t len = p->i - st;
        if (!len) { fail(p, LH_SH_SYNTAX, "function needs a name"); return -1; }
        skipBlanks(p);
        if (cur(p) == '(') {
            p->i++;
            skipBlanks(p);
            if (cur(p) != ')') { fail(p, LH_SH_SYNTAX, "bad function definition"); return -1; }
            p->i++;
        }
        if (!enter(p)) return -1;
        int r = parseFunction(p, p->s + st, len);
        leave(p);
        return r < 0 ? -1 : 0;
    }
    size_t fl = peekFuncDef(p);
    if (fl) {
        const char *name = p->s + p->i;
        p->i += fl;
        skipBlanks(p);
        p->i++; /* ( */
        skipBlanks(p);
        p->i++; /* ) */
        if (!enter(p)) return -1;
        int r = parseFunction(p, name, fl);
        leave(p);
        return r < 0 ? -1 : 0;
    }
    if (atStopWord(p)) return -1;
    int idx = parseSimple(p);
    if (idx < 0) return -1;
    lh_cmd *sc = &p->out->cmds[idx];
    if (sc->argc == 0 && sc->nassigns == 0 && sc->nredirs == 0) {
        /* nothing here (e.g. a stray operator): drop the empty command */
        if (idx == p->out->ncmds - 1) p->out->ncmds--;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Pipelines and lists                                                             */
/* ------------------------------------------------------------------------------ */

/* Give commands [first, end) that belong to this script level the pipeline stage
 * facts: direct stages and the commands inside compound stages. */
static void markStage(parser *p, int first, int end, int pid, int pos, int len,
                      int pipe_err) {
    for (int k = first; k < end; k++) {
        lh_cmd *c = &p->out->cmds[k];
        if (c->parent != p->parent || c->origin != p->origin || c->depth != p->script_depth)
            continue;
        if (c->pipe_len > 1) continue;   /* an inner pipeline keeps its own */
        c->pipeline = pid;
        c->pipe_pos = pos;
        c->pipe_len = len;
        if (pos > 0) c->flags |= LH_C_PIPE_IN;
        if (pos < len - 1) c->flags |= LH_C_PIPE_OUT;
        if (pipe_err && pos < len - 1) c->flags |= LH_C_PIPE_ERR;
    }
}

#define MAX_STAGES 256

/* `time [-p]` and `coproc [NAME]` before a compound command ({ …; } or ( … )) only time
 * it or run it in the background: skip them. Before a simple command they stay, and
 * the unwrapper strips them like any wrapper. */
static void skipCompoundPrefix(parser *p) {
    for (int round = 0; round < 4; round++) {
        if (cur(p) != 'c' && cur(p) != 't') return;   /* the common case, cheaply */
        size_t save = p->i;
        int coproc = atWord(p, "coproc");
        if (!coproc && !atWord(p, "time")) return;
        p->i += coproc ? 6 : 4;
        skipBlanks(p);
        if (!coproc && atWord(p, "-p")) { p->i += 2; skipBlanks(p); }
        if (coproc && cur(p) != '{' && cur(p) != '(') {
            for (char ch; p->i < p->n && ((ch = cur(p)) == '_' || (ch >= 'a' && ch <= 'z') ||
                                          (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'));)
                p->i++;
            skipBlanks(p);
        }
        if (cur(p) != '{' && cur(p) != '(') { p->i = save; return; }
    }
}

/* Returns 0 when a pipeline was parsed, -1 when none. */
static int parsePipeline(parser *p) {
    skipBlanks(p);
    int negated = 0;
    if (atWord(p, "!")) { negated = 1; p->i++; }
    skipBlanks(p);
    skipCompoundPrefix(p);
    int starts[MAX_STAGES + 1];
    int errs[MAX_STAGES];
    int nst = 0;
    int first = p->out->ncmds;
    for (;;) {
        if (nst >= MAX_STAGES) { fail(p, LH_SH_TOO_MANY, "pipeline too long"); return -1; }
        starts[nst] = p->out->ncmds;
        errs[nst] = 0;
        if (parseCommand(p) < 0) {
            if (p->failed) return -1;
            if (nst == 0 && !negated) return -1;
            fail(p, LH_SH_SYNTAX, "a pipeline needs a command after |");
            return -1;
        }
        nst++;
        skipBlanks(p);
        if (cur(p) == '|' && peekc(p, 1) != '|') {
            if (peekc(p, 1) == '&') { errs[nst - 1] = 1; p->i += 2; }
            else p->i++;
            skipBlanks(p);
            while (cur(p) == '\n') { eatNewline(p); skipBlanks(p); }
            continue;
        }
        break;
    }
    starts[nst] = p->out->ncmds;
    int pid = p->out->npipelines++;
    for (int k = 0; k < nst; k++) markStage(p, starts[k], starts[k + 1], pid, k, nst, errs[k]);
    if (negated)
        for (int k = first; k < p->out->ncmds; k++) p->out->cmds[k].flags |= LH_C_NEGATED;
    return 0;
}

/* Parse a list until end of input, ')' , ';;' or a stop word in command position. */
static void parseList(parser *p, stop_kind *stop, const char **stopword) {
    *stopword = NULL;
    for (;;) {
        /* separators and blank lines */
        for (;;) {
            skipBlanks(p);
            if (cur(p) == '\n' && p->i < p->n) { eatNewline(p); continue; }
            if (cur(p) == ';' && peekc(p, 1) != ';' && peekc(p, 1) != '&') { p->i++; continue; }
            break;
        }
        if (p->failed) { *stop = STOP_EOF; return; }
        if (atEnd(p)) { *stop = STOP_EOF; return; }
        char c = cur(p);
        if (c == ')') { *stop = STOP_RPAREN; return; }
        if (c == ';' && (peekc(p, 1) == ';' || peekc(p, 1) == '&')) { *stop = STOP_DSEMI; return; }
        const char *sw = atStopWord(p);
        if (sw) { *stop = STOP_WORD; *stopword = sw; return; }

        /* and_or */
        int first = p->out->ncmds;
        if (parsePipeline(p) < 0) {
            if (!p->failed) fail(p, LH_SH_SYNTAX, "unexpected token");
            *stop = STOP_EOF;
            return;
        }
        for (;;) {
            skipBlanks(p);
            if ((cur(p) == '&' && peekc(p, 1) == '&') || (cur(p) == '|' && peekc(p, 1) == '|')) {
                p->i += 2;
                skipBlanks(p);
                while (cur(p) == '\n') { eatNewline(p); skipBlanks(p); }
                if (parsePipeline(p) < 0) {
                    if (!p->failed) fail(p, LH_SH_SYNTAX, "&& or || needs a command after it");
                    *stop = STOP_EOF;
                    return;
                }
                continue;
            }
            break;
        }
        if (p->failed) { *stop = STOP_EOF; return; }
        skipBlanks(p);
        c = cur(p);
        if (c == '&' && peekc(p, 1) != '&' && peekc(p, 1) != '>') {
            p->i++;
            for (int k = first; k < p->out->ncmds; k++) {
                lh_cmd *cm = &p->out->cmds[k];
                if (cm->parent == p->parent && cm->origin == p->origin) cm->flags |= LH_C_BACKGROUND;
            }
            continue;
        }
        if (c == ';' && peekc(p, 1) != ';' && peekc(p, 1) != '&') { p->i++; continue; }
        if (c == '\n' || atEnd(p) || c == ')' || (c == ';')) continue;
        if (atStopWord(p)) continue;
        fail(p, LH_SH_SYNTAX, "unexpected token after command");
        *stop = STOP_EOF;
        return;
    }
}

/* ------------------------------------------------------------------------------ */
/* Entry points                                                                    */
/* ------------------------------------------------------------------------------ */

void lh_shell_default_limits(lh_shell_limits *l) {
    l->max_input = 256u << 10;
    l->max_depth = 64;
    l->max_words = 20000;
    l->max_cmds = 4096;
    l->max_script_depth = 8;
}

lh_shell_error lh_shell_parse(lh_arena *a, const char *text, size_t len,
                              const lh_shell_limits *lim, lh_script *out,
                              int parent, int parent_arg, lh_origin origin, int depth) {
    lh_shell_limits defaults;
    if (!lim) { lh_shell_default_limits(&defaults); lim = &defaults; }
    if (out->error != LH_SH_OK) return out->error;
    if (len > lim->max_input) {
        out->error = LH_SH_TOO_LONG;
        out->errmsg = "the command is longer than the limit";
        return out->error;
    }
    if (memchr(text, 0, len)) {
        out->error = LH_SH_BAD_BYTES;
        out->errmsg = "the command contains a NUL byte";
        out->errpos = (size_t)((const char *)memchr(text, 0, len) - text);
        return out->error;
    }
    if (depth > lim->max_script_depth) {
        out->error = LH_SH_TOO_DEEP;
        out->errmsg = "nested scripts (sh -c, eval …) go deeper than the limit";
        return out->error;
    }
    parser p;
    memset(&p, 0, sizeof(p));
    p.a = a;
    p.s = text;
    p.n = len;
    p.lim = lim;
    p.out = out;
    p.parent = parent;
    p.parent_arg = parent_arg;
    p.origin = origin;
    p.script_depth = depth;
    p.func = -1;
    stop_kind stop;
    const char *sw;
    parseList(&p, &stop, &sw);
    if (!p.failed && stop != STOP_EOF) {
        fail(&p, LH_SH_SYNTAX, stop == STOP_RPAREN ? "unexpected ')'" :
                               stop == STOP_DSEMI ? "unexpected ';;'" :
                               "unexpected reserved word");
    }
    if (!p.failed && p.npend) readHeredocs(&p); /* here-doc at end of input */
    if (parent < 0) lh_script_assert(out);
    return out->error;
}

const char *lh_shell_error_name(lh_shell_error e) {
    switch (e) {
    case LH_SH_OK: return "ok";
    case LH_SH_SYNTAX: return "syntax error";
    case LH_SH_TOO_LONG: return "too long";
    case LH_SH_TOO_DEEP: return "nested too deep";
    case LH_SH_TOO_MANY: return "too many words or commands";
    case LH_SH_BAD_BYTES: return "bad bytes";
    case LH_SH_NOMEM: return "out of memory";
    }
    return "?";
}

const char *lh_origin_name(lh_origin o) {
    static const char *const names[] = {
        "top", "cmdsubst", "procsubst-in", "procsubst-out", "heredoc", "sh-c",
        "eval", "xargs", "find-exec", "inline-code", "wrapped",
    };
    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

/* symbols.c — the lightweight symbol finder (see symbols.h): one scanner for the brace
 * languages (C, JS/TS, Go), one for Python's indentation, one for shell. */
#include "util/symbols.h"

#include <string.h>

lh_src_lang lh_symbols_lang(const char *path) {
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot) return LH_SRC_NONE;
    static const struct { const char *ext; lh_src_lang lang; } exts[] = {
        {".c", LH_SRC_C},      {".h", LH_SRC_C},     {".py", LH_SRC_PYTHON}, {".pyi", LH_SRC_PYTHON},
        {".js", LH_SRC_JS},    {".mjs", LH_SRC_JS},  {".cjs", LH_SRC_JS},    {".jsx", LH_SRC_JS},
        {".ts", LH_SRC_JS},    {".tsx", LH_SRC_JS},  {".mts", LH_SRC_JS},    {".cts", LH_SRC_JS},
        {".go", LH_SRC_GO},    {".sh", LH_SRC_SHELL}, {".bash", LH_SRC_SHELL}, {".zsh", LH_SRC_SHELL},
        {".ksh", LH_SRC_SHELL},
    };
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (!strcmp(dot, exts[i].ext)) return exts[i].lang;
    return LH_SRC_NONE;
}

const char *lh_sym_kind_name(lh_sym_kind k) {
    return k == LH_SYM_CLASS ? "class" : k == LH_SYM_METHOD ? "method" : "function";
}

typedef struct symOut {
    lh_symbol *v;
    int n, max;
} symOut;

/* Add a symbol named a (with "b" after a dot when b is given); its index, or -1 when full. */
static int addSym(symOut *o, lh_sym_kind kind, const char *a, size_t an, const char *b, size_t bn, int start) {
    if (o->n >= o->max || !an) return -1;
    lh_symbol *s = &o->v[o->n];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    size_t k = an < LH_SYMBOL_NAME_MAX ? an : LH_SYMBOL_NAME_MAX;
    memcpy(s->name, a, k);
    if (b && bn && k + 1 + bn <= LH_SYMBOL_NAME_MAX) {
        s->name[k++] = '.';
        memcpy(s->name + k, b, bn);
        k += bn;
    }
    s->name[k] = 0;
    s->start = s->end = start;
    return o->n++;
}

static int isIdStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; }
static int isIdChar(char c) { return isIdStart(c) || (c >= '0' && c <= '9'); }

/* ------------------------------------------------------------------------------ */
/* C, JS/TS, Go: tokens and braces                                                  */
/* ------------------------------------------------------------------------------ */

/* Token kinds: 'i' identifier, 's' string, 'n' number, 'A' "=>", 'E' "==", 'e' the end,
 * else the punctuation character itself. */
typedef struct btok {
    char k;
    const char *s;
    size_t n;
    int line;
    int nl;        /* a newline came before it */
} btok;

typedef struct blex {
    lh_src_lang lang;
    const char *base, *p, *end;
    int line;
    char prevk;    /* the previous token's kind (JS: a regex or a division?) */
    const char *prevs;
    size_t prevn;
} blex;

/* Skip a quoted string from p (at its opening quote q) to past its end, counting lines. */
static const char *skipQuoted(blex *L, const char *p, char q, int multiline) {
    p++;
    while (p < L->end) {
        if (*p == '\\' && p + 1 < L->end) {
            if (p[1] == '\n') L->line++;
            p += 2;
            continue;
        }
        if (*p == q) return p + 1;
        if (*p == '\n') {
            if (!multiline) return p;   /* an unterminated string ends at the line's end */
            L->line++;
        }
        p++;
    }
    return p;
}

/* A JS regex literal may follow this token (not a division)? */
static int regexMayFollow(const blex *L) {
    if (L->prevk == 'i') {
        static const char *kw[] = {"return", "typeof", "case", "in", "of", "delete", "void", "throw", "new", "yield", "await"};
        for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
            if (L->prevn == strlen(kw[i]) && !memcmp(L->prevs, kw[i], L->prevn)) return 1;
        return 0;
    }
    return !(L->prevk == 'n' || L->prevk == 's' || L->prevk == ')' || L->prevk == ']' || L->prevk == '}');
}

/* Only blanks between the line's start and p? (looks back at most 256 bytes) */
static int lineStart(const char *base, const char *p) {
    for (int i = 0; i < 256 && p > base; i++) {
        char c = *--p;
        if (c == '\n') return 1;
        if (c != ' ' && c != '\t') return 0;
    }
    return p == base;
}

static btok bnext(blex *L) {
    btok t = {'e', L->end, 0, L->line, 0};
    const char *p = L->p, *end = L->end;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')) {
            if (*p == '\n') { L->line++; t.nl = 1; }
            p++;
        }
        if (p >= end) break;
        if (p + 1 < end && p[0] == '/' && p[1] == '/') {
            while (p < end && *p != '\n') p++;
            continue;
        }
        if (p + 1 < end && p[0] == '/' && p[1] == '*') {
            p += 2;
            while (p < end && !(p + 1 < end && p[0] == '*' && p[1] == '/')) { if (*p == '\n') L->line++; p++; }
            p = p < end ? p + 2 : end;
            continue;
        }
        if (*p == '#' && L->lang == LH_SRC_C && lineStart(L->base, p)) {   /* a preprocessor line, with its continuations */
            while (p < end && *p != '\n') {
                if (*p == '\\' && p + 1 < end && p[1] == '\n') { L->line++; p += 2; continue; }
                p++;
            }
            continue;
        }
        break;
    }
    t.line = L->line;
    if (p >= end) { L->p = end; t.k = 'e'; return t; }
    t.s = p;
    char c = *p;
    if (isIdStart(c) || (c == '#' && L->lang == LH_SRC_JS) || (c == '@' && L->lang == LH_SRC_JS)) {
        p++;
        while (p < end && isIdChar(*p)) p++;
        t.k = 'i';
    } else if (c >= '0' && c <= '9') {
        while (p < end && (isIdChar(*p) || *p == '.')) p++;
        t.k = 'n';
    } else if (c == '"' || c == '\'') {
        p = skipQuoted(L, p, c, 0);
        t.k = 's';
    } else if (c == '`' && L->lang != LH_SRC_C) {
        /* JS template (its ${} holes are read as part of it), Go raw string (no escapes) */
        if (L->lang == LH_SRC_GO) {
            p++;
            while (p < end && *p != '`') { if (*p == '\n') L->line++; p++; }
            p = p < end ? p + 1 : end;
        } else {
            p = skipQuoted(L, p, '`', 1);
        }
        t.k = 's';
    } else if (c == '/' && L->lang == LH_SRC_JS && regexMayFollow(L)) {
        p++;
        int inClass = 0;
        while (p < end && *p != '\n') {
            if (*p == '\\' && p + 1 < end && p[1] != '\n') { p += 2; continue; }
            if (*p == '[') inClass = 1;
            else if (*p == ']') inClass = 0;
            else if (*p == '/' && !inClass) { p++; break; }
            p++;
        }
        while (p < end && isIdChar(*p)) p++;   /* flags */
        t.k = 's';
    } else if (c == '=' && p + 1 < end && p[1] == '>') {
        p += 2;
        t.k = 'A';
    } else if (c == '=' && p + 1 < end && p[1] == '=') {
        while (p < end && *p == '=') p++;
        t.k = 'E';
    } else {
        p++;
        t.k = c;
    }
    t.n = (size_t)(p - t.s);
    L->p = p;
    L->prevk = t.k;
    L->prevs = t.s;
    L->prevn = t.n;
    return t;
}

static int tokIs(const btok *t, const char *w) { return t->k == 'i' && t->n == strlen(w) && !memcmp(t->s, w, t->n); }

/* Words that take parentheses but never name a definition. */
static int notAName(const btok *t) {
    static const char *kw[] = {"if", "for", "while", "switch", "catch", "with", "return", "typeof", "function", "do",
                               "else", "new", "await", "super", "yield", "sizeof", "__attribute__", "_Static_assert",
                               "static_assert", "_Alignof", "alignof", "defined", "__declspec", "asm", "__asm__"};
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (tokIs(t, kw[i])) return 1;
    return 0;
}

typedef struct bframe { int sym; int classBody; } bframe;

static int scanBraces(lh_src_lang lang, const char *src, size_t len, symOut *o) {
    blex L = {lang, src, src, src + len, 1, 0, NULL, 0};
    static const bframe plain = {-1, 0};
    bframe stack[LH_SYMBOLS_MAX_DEPTH];
    int depth = 0, pdepth = 0;
    /* What is pending at the definition level (depth 0, or a class body's) */
    int stmtLine = 0;
    btok prev = {0}, cand = {0}, fnName = {0}, varName = {0}, className = {0}, recv = {0};
    int hasCand = 0, candPd = 0, afterParams = 0, hasFn = 0, varState = 0, hasClass = 0, classBody = 0;
    int goFunc = 0, goType = 0, exprSym = -1;
#define RESET() (hasCand = afterParams = hasFn = varState = hasClass = goFunc = goType = 0, recv.n = 0)
    for (;;) {
        btok t = bnext(&L);
        if (t.k == 'e') break;
        int ok = depth == 0 || (depth == 1 && stack[0].classBody);
        const char *cls = ok && depth == 1 && stack[0].sym >= 0 ? o->v[stack[0].sym].name : NULL;
        if (exprSym >= 0) {   /* an arrow function with an expression body: up to its statement's end */
            if (ok && pdepth == 0 && (t.k == ';' || (t.nl && (t.k == 'i' || t.k == 's' || t.k == '}')))) exprSym = -1;
            else o->v[exprSym].end = t.line;
        }
        if (ok && pdepth == 0 && lang != LH_SRC_C && t.nl && afterParams && t.k != '{') RESET();   /* f()\n: a call */
        if (ok && pdepth == 0) {
            int pending = hasCand || afterParams || hasFn || varState || hasClass || goFunc || goType;
            if (!stmtLine || (lang != LH_SRC_C && t.nl && !pending)) stmtLine = t.line;
        }
        if (ok && pdepth == 0 && varState == 2 && t.k != '{') {   /* an arrow function's expression body */
            exprSym = cls ? addSym(o, LH_SYM_METHOD, cls, strlen(cls), varName.s, varName.n, stmtLine ? stmtLine : t.line)
                          : addSym(o, LH_SYM_FUNCTION, varName.s, varName.n, 0, 0, stmtLine ? stmtLine : t.line);
            if (exprSym >= 0) o->v[exprSym].end = t.line;
            RESET();
        }
        switch (t.k) {
        case '(': case '[':
            if (ok && pdepth == 0 && hasClass && lang == LH_SRC_C && t.k == '(') hasClass = 0;   /* struct s *f(...) */
            if (ok && pdepth == 0 && t.k == '(' && !afterParams && !hasClass && !goFunc && !goType && !varState) {
                if (hasFn) { cand = fnName; hasCand = 1; }
                else if (prev.k == 'i' && !notAName(&prev)) { cand = prev; hasCand = 1; }
                candPd = 1;
            } else if (ok && goFunc == 1 && t.k == '(' && pdepth == 0) {
                goFunc = 2;   /* a receiver: (r *T) */
            }
            pdepth++;
            break;
        case ')': case ']':
            if (pdepth > 0) pdepth--;
            if (ok && pdepth == 0 && goFunc == 2 && t.k == ')') goFunc = 3;   /* after the receiver, the name */
            else if (ok && pdepth == 0 && hasCand && candPd) { afterParams = 1; candPd = 0; }
            break;
        case '{': {
            bframe f = plain;
            if (ok && pdepth == 0) {
                int start = stmtLine ? stmtLine : t.line;
                if (goFunc == 4 && !tokIs(&prev, "struct") && !tokIs(&prev, "interface")) {
                    f.sym = recv.n ? addSym(o, LH_SYM_METHOD, recv.s, recv.n, fnName.s, fnName.n, start)
                                   : addSym(o, LH_SYM_FUNCTION, fnName.s, fnName.n, 0, 0, start);
                    RESET();
                } else if (goFunc == 4) {
                    /* struct{} or interface{} in a signature: a plain brace */
                } else if (hasClass) {
                    f.sym = addSym(o, LH_SYM_CLASS, className.s, className.n, 0, 0, start);
                    f.classBody = classBody && depth == 0;
                    RESET();
                } else if (afterParams && hasCand) {
                    f.sym = cls ? addSym(o, LH_SYM_METHOD, cls, strlen(cls), cand.s, cand.n, start)
                                : addSym(o, LH_SYM_FUNCTION, cand.s, cand.n, 0, 0, start);
                    RESET();
                } else if (varState == 2 || varState == 3) {
                    f.sym = cls ? addSym(o, LH_SYM_METHOD, cls, strlen(cls), varName.s, varName.n, start)
                                : addSym(o, LH_SYM_FUNCTION, varName.s, varName.n, 0, 0, start);
                    RESET();
                } else {
                    RESET();
                }
            }
            if (depth < LH_SYMBOLS_MAX_DEPTH) stack[depth] = f;
            depth++;
            break;
        }
        case '}':
            if (depth > 0) {
                depth--;
                if (depth < LH_SYMBOLS_MAX_DEPTH && stack[depth].sym >= 0) o->v[stack[depth].sym].end = t.line;
                if (depth == 0 || (depth == 1 && stack[0].classBody)) {
                    if (goFunc != 4) { RESET(); stmtLine = 0; }
                }
            }
            break;
        case ';':
            if (ok && pdepth == 0) { RESET(); stmtLine = 0; }
            break;
        case '=':
            if (ok && pdepth == 0) {
                int wasVar = varState == 0 && prev.k == 'i' && lang == LH_SRC_JS;
                RESET();
                if (wasVar) { varName = prev; varState = 1; }
            }
            break;
        case 'A':   /* => */
            if (ok && pdepth == 0 && (varState == 1 || varState == 4)) varState = 2;
            break;
        case 'i':
            if (goFunc == 2 && pdepth == 1) recv = t;   /* the receiver's type is its last name */
            if (!ok || pdepth > 0) break;
            if (varState == 1 && tokIs(&t, "function")) { varState = 3; break; }
            if (varState == 1) { if (!tokIs(&t, "async")) varState = 4; break; }   /* x => ... */
            if (varState == 4) { RESET(); break; }
            if (lang == LH_SRC_GO && depth == 0) {
                if (tokIs(&t, "func") && !goFunc) { RESET(); goFunc = 1; break; }
                if ((goFunc == 1 || goFunc == 3) && !hasFn) { fnName = t; hasFn = 1; goFunc = 4; break; }
                if (tokIs(&t, "type") && !goFunc) { RESET(); goType = 1; break; }
                if (goType == 1) { className = t; goType = 2; break; }
                if (goType == 2) {
                    if (tokIs(&t, "struct") || tokIs(&t, "interface")) { hasClass = 1; classBody = 0; }
                    goType = 0;
                    break;
                }
                break;
            }
            if (lang == LH_SRC_JS && (tokIs(&prev, "class") || tokIs(&prev, "interface") || tokIs(&prev, "enum")) &&
                depth == 0 && !hasClass) {
                className = t;
                hasClass = 1;
                classBody = !tokIs(&prev, "enum");
                break;
            }
            if (lang == LH_SRC_C && (tokIs(&prev, "struct") || tokIs(&prev, "union") || tokIs(&prev, "enum")) &&
                !hasCand) {
                className = t;
                hasClass = 1;
                classBody = 0;
                break;
            }
            if (lang == LH_SRC_JS && tokIs(&prev, "function") && !hasFn) { fnName = t; hasFn = 1; break; }
            break;
        case 's': case 'n':
            if (ok && pdepth == 0 && (varState == 1 || varState == 4 || afterParams)) RESET();
            break;
        default:
            if (ok && pdepth == 0) {
                /* What may stand between a signature's ")" and its "{" (a TS return type, C's
                 * qualifiers); anything else ends a candidate. */
                if (afterParams && !strchr(":.<>|&*?", t.k)) RESET();
                if (t.k == ',' && lang == LH_SRC_C) RESET();
                if ((varState == 1 && t.k != '*') || varState == 4) RESET();
            }
            break;
        }
        prev = t;
    }
#undef RESET
    return o->n;
}

/* ------------------------------------------------------------------------------ */
/* Python: indentation                                                              */
/* ------------------------------------------------------------------------------ */

typedef struct pyBlock { int indent, sym, isClass; } pyBlock;

/* "def NAME", "async def NAME" or "class NAME" at s (the line's first non-blank): the kind
 * (1 def, 2 class) and the name; 0 otherwise. */
static int pyDef(const char *s, const char *e, const char **name, size_t *nlen) {
    int kind = 0;
    if (e - s > 6 && !memcmp(s, "async", 5) && (s[5] == ' ' || s[5] == '\t')) {
        s += 5;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        if (e - s < 4 || memcmp(s, "def", 3)) return 0;
    }
    if (e - s > 4 && !memcmp(s, "def", 3) && (s[3] == ' ' || s[3] == '\t')) { kind = 1; s += 3; }
    else if (e - s > 6 && !memcmp(s, "class", 5) && (s[5] == ' ' || s[5] == '\t')) { kind = 2; s += 5; }
    else return 0;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    const char *n = s;
    while (s < e && (isIdChar(*s) || (unsigned char)*s >= 0x80)) s++;
    if (s == n || *n == '$') return 0;
    *name = n;
    *nlen = (size_t)(s - n);
    return kind;
}

static int scanPython(const char *src, size_t len, symOut *o) {
    const char *p = src, *end = src + len;
    pyBlock open[LH_SYMBOLS_MAX_DEPTH];
    int nopen = 0, ln = 0, lastSig = 0, decoLine = 0, bracket = 0, cont = 0;
    char inStr = 0;   /* the quote of an open triple-quoted string */
    while (p < end) {
        ln++;
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        const char *s = p;
        int indent = 0;
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\f')) { indent = *s == '\t' ? (indent / 8 + 1) * 8 : indent + 1; s++; }
        int blank = s >= e || *s == '#' || (*s == '\r' && s + 1 >= e);
        if (!inStr && !bracket && !cont && !blank) {
            while (nopen && open[nopen - 1].indent >= indent) {
                nopen--;
                if (open[nopen].sym >= 0) o->v[open[nopen].sym].end = lastSig;
            }
            const char *name;
            size_t nlen;
            int kind = *s == '@' ? 0 : pyDef(s, e, &name, &nlen);
            if (*s == '@') {
                if (!decoLine) decoLine = ln;
            } else {
                if (kind) {
                    int top = nopen == 0 && indent == 0;
                    int inClass = nopen > 0 && open[nopen - 1].isClass && open[nopen - 1].sym >= 0 && nopen == 1;
                    int sym = -1;
                    int start = decoLine ? decoLine : ln;
                    if (top) sym = addSym(o, kind == 2 ? LH_SYM_CLASS : LH_SYM_FUNCTION, name, nlen, 0, 0, start);
                    else if (inClass && kind == 1) {
                        const char *cn = o->v[open[0].sym].name;
                        sym = addSym(o, LH_SYM_METHOD, cn, strlen(cn), name, nlen, start);
                    }
                    if (nopen < LH_SYMBOLS_MAX_DEPTH) open[nopen++] = (pyBlock){indent, sym, kind == 2};
                }
                decoLine = 0;
            }
        }
        /* The line's strings, comments and brackets. */
        int sig = !blank || inStr || bracket;
        cont = 0;
        for (const char *q = inStr ? p : s; q < e; q++) {
            if (inStr) {
                if (*q == '\\' && q + 1 < e) { q++; continue; }
                if (e - q >= 3 && q[0] == inStr && q[1] == inStr && q[2] == inStr) { inStr = 0; q += 2; }
                continue;
            }
            char c = *q;
            if (c == '#') break;
            if (c == '"' || c == '\'') {
                if (e - q >= 3 && q[1] == c && q[2] == c) { inStr = c; q += 2; continue; }
                for (q++; q < e && *q != c; q++)
                    if (*q == '\\' && q + 1 < e) q++;
                if (q >= e) break;
                continue;
            }
            if (c == '(' || c == '[' || c == '{') bracket++;
            else if ((c == ')' || c == ']' || c == '}') && bracket > 0) bracket--;
            else if (c == '\\' && (q + 1 == e || (q + 2 == e && q[1] == '\r'))) cont = 1;
        }
        if (sig) lastSig = ln;
        p = e < end ? e + 1 : end;
    }
    while (nopen) {
        nopen--;
        if (open[nopen].sym >= 0) o->v[open[nopen].sym].end = lastSig;
    }
    return o->n;
}

/* ------------------------------------------------------------------------------ */
/* Shell                                                                            */
/* ------------------------------------------------------------------------------ */

#define SH_HEREDOCS 8

static int shNameChar(char c) { return isIdChar(c) || c == '-' || c == '.' || c == ':'; }

static int scanShell(const char *src, size_t len, symOut *o) {
    const char *p = src, *end = src + len;
    int line = 1, depth = 0, cmdPos = 1;
    int stack[LH_SYMBOLS_MAX_DEPTH];
    /* a definition in progress: 1 after "function NAME" or "NAME ( )" (the body's "{"
     * may follow, after newlines); 2 "function" seen; a NAME at command position then
     * "(" (3) and ")" */
    int defState = 0, defLine = 0;
    const char *defName = NULL;
    size_t defLen = 0;
    struct { const char *w; size_t n; int strip; } hd[SH_HEREDOCS];
    int nhd = 0;
    while (p < end) {
        char c = *p;
        if (c == '\n') {
            line++;
            p++;
            cmdPos = 1;
            for (int i = 0; i < nhd; i++) {   /* here-document bodies: skipped to their delimiter */
                while (p < end) {
                    const char *e = memchr(p, '\n', (size_t)(end - p));
                    if (!e) e = end;
                    const char *s = p;
                    if (hd[i].strip) while (s < e && *s == '\t') s++;
                    int last = (size_t)(e - s) == hd[i].n && !memcmp(s, hd[i].w, hd[i].n);
                    p = e < end ? e + 1 : end;
                    line++;
                    if (last) break;
                }
            }
            nhd = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') { p++; continue; }
        if (c == '#') { while (p < end && *p != '\n') p++; continue; }
        if (c == ';' || c == '&' || c == '|') { p++; cmdPos = 1; if (defState > 1) defState = 0; continue; }
        if (c == '(' || c == ')') {
            if (c == '(' && defState == 3) defState = 4;
            else if (c == ')' && defState == 4) { defState = 1; p++; continue; }
            else defState = defState == 1 ? 0 : defState == 2 ? 0 : defState >= 3 ? 0 : defState;
            p++;
            cmdPos = 1;
            continue;
        }
        if (c == '<' && p + 1 < end && p[1] == '<' && !(p + 2 < end && p[2] == '<')) {
            p += 2;
            int strip = p < end && *p == '-';
            if (strip) p++;
            while (p < end && (*p == ' ' || *p == '\t')) p++;
            const char *w = p;
            char q = p < end && (*p == '\'' || *p == '"') ? *p : 0;
            if (q) { w = ++p; while (p < end && *p != q && *p != '\n') p++; }
            else while (p < end && (isIdChar(*p) || *p == '-' || *p == '.')) p++;
            size_t n = (size_t)(p - w);
            if (q && p < end && *p == q) p++;
            if (n && nhd < SH_HEREDOCS) { hd[nhd].w = w; hd[nhd].n = n; hd[nhd].strip = strip; nhd++; }
            continue;
        }
        if (c == '<' && p + 2 < end && p[1] == '<' && p[2] == '<') { p += 3; continue; }   /* a here-string */
        if (c == '<' || c == '>') { p++; continue; }
        /* A word, with its quotes and expansions. */
        const char *w = p;
        int plainName = 1;
        while (p < end) {
            c = *p;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '&' || c == '|' || c == '(' ||
                c == ')' || c == '<' || c == '>')
                break;
            if (!shNameChar(c)) plainName = 0;
            if (c == '\\' && p + 1 < end) { if (p[1] == '\n') line++; p += 2; continue; }
            if (c == '\'') {
                for (p++; p < end && *p != '\''; p++) if (*p == '\n') line++;
                if (p < end) p++;
                continue;
            }
            if (c == '"' || c == '`') {
                for (p++; p < end && *p != c; p++) {
                    if (*p == '\\' && p + 1 < end) { if (p[1] == '\n') line++; p++; continue; }
                    if (*p == '\n') line++;
                }
                if (p < end) p++;
                continue;
            }
            if (c == '$' && p + 1 < end && (p[1] == '{' || p[1] == '(')) {
                char open = p[1], close = open == '{' ? '}' : ')';
                int n = 0;
                for (p++; p < end; p++) {
                    if (*p == '\\' && p + 1 < end) { p++; continue; }
                    if (*p == '\'' && open == '(') { for (p++; p < end && *p != '\''; p++) if (*p == '\n') line++; continue; }
                    if (*p == '"') { for (p++; p < end && *p != '"'; p++) { if (*p == '\\') p++; else if (*p == '\n') line++; } continue; }
                    if (*p == '\n') line++;
                    if (*p == open) n++;
                    else if (*p == close && --n == 0) { p++; break; }
                }
                continue;
            }
            p++;
        }
        if (p > end) p = end;   /* a backslash as the last byte steps past it (fuzz_symbols) */
        size_t wn = (size_t)(p - w);
        if (!wn) { p++; continue; }
#define WORD(s) (wn == strlen(s) && !memcmp(w, s, wn))
        if (defState == 2) {   /* function NAME */
            if (plainName) { defName = w; defLen = wn; defState = 1; }
            else defState = 0;
            while (p < end && (*p == ' ' || *p == '\t')) p++;
            if (defState == 1 && p + 1 < end && p[0] == '(' && p[1] == ')') p += 2;
            cmdPos = 1;
            continue;
        }
        if (WORD("{") && (cmdPos || defState == 1)) {
            int sym = -1;
            if (defState == 1 && depth == 0) sym = addSym(o, LH_SYM_FUNCTION, defName, defLen, 0, 0, defLine);
            if (depth < LH_SYMBOLS_MAX_DEPTH) stack[depth] = sym;
            depth++;
            defState = 0;
            cmdPos = 1;
            continue;
        }
        if (WORD("}") && cmdPos && depth > 0) {
            depth--;
            if (depth < LH_SYMBOLS_MAX_DEPTH && stack[depth] >= 0) o->v[stack[depth]].end = line;
            cmdPos = 0;
            continue;
        }
        if (defState == 1) defState = 0;   /* a body that is not a brace group: not followed */
        if (cmdPos && WORD("function")) { defState = 2; defLine = line; continue; }
        if (cmdPos && plainName) {
            /* NAME followed by "()" (spaces allowed before and inside) */
            const char *q = p;
            while (q < end && (*q == ' ' || *q == '\t')) q++;
            if (q < end && *q == '(') {
                q++;
                while (q < end && (*q == ' ' || *q == '\t')) q++;
                if (q < end && *q == ')') { defName = w; defLen = wn; defLine = line; defState = 1; p = q + 1; continue; }
            }
        }
        cmdPos = WORD("then") || WORD("do") || WORD("else") || WORD("elif") || WORD("if") || WORD("while") ||
                 WORD("until") || WORD("!") || WORD("time");
#undef WORD
    }
    return o->n;
}

int lh_symbols_find(lh_src_lang lang, const char *src, size_t len, lh_symbol *out, int max) {
    if (len > LH_SYMBOLS_MAX_BYTES || max < 0) return -1;
    symOut o = {out, 0, max};
    switch (lang) {
    case LH_SRC_C: case LH_SRC_JS: case LH_SRC_GO: return scanBraces(lang, src, len, &o);
    case LH_SRC_PYTHON: return scanPython(src, len, &o);
    case LH_SRC_SHELL: return scanShell(src, len, &o);
    default: return -1;
    }
}

/* code_lex.c — a small tokenizer per interpreter language, the canonical rewrite of
 * inline code and the list of its file writes and dynamic evaluations (see code_lex.h). */
#include "engine/code_lex.h"

#include <assert.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* Languages                                                                       */
/* ------------------------------------------------------------------------------ */

lh_lang lh_code_lang(const char *p) {
    if (!strncmp(p, "python", 6) || !strcmp(p, "pypy") || !strcmp(p, "pypy3") || !strncmp(p, "ipython", 7))
        return LH_LANG_PYTHON;
    if (!strcmp(p, "tsx") || !strcmp(p, "ts-node")) return LH_LANG_JS;
    if (!strcmp(p, "node") || !strcmp(p, "nodejs") || !strcmp(p, "deno") || !strcmp(p, "bun"))
        return LH_LANG_JS;
    if (!strncmp(p, "perl", 4)) return LH_LANG_PERL;
    if (!strcmp(p, "ruby")) return LH_LANG_RUBY;
    if (!strncmp(p, "php", 3)) return LH_LANG_PHP;
    if (!strcmp(p, "lua") || !strcmp(p, "luajit") || !strncmp(p, "lua5", 4)) return LH_LANG_LUA;
    return LH_LANG_NONE;
}

/* ------------------------------------------------------------------------------ */
/* Tokenizer                                                                       */
/* ------------------------------------------------------------------------------ */

typedef enum { T_END, T_ID, T_STR, T_SYM, T_NUM, T_P } tkind;

typedef struct tok {
    tkind k;
    const char *s;      /* the token's text in the source */
    size_t n;
    int nl;             /* a newline (or the start) comes before it */
} tok;

typedef struct lexer {
    lh_lang lang;
    const char *base, *p, *end;
} lexer;

static int isIdStart(lh_lang lang, char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') return 1;
    if (ch == '$') return lang == LH_LANG_JS || lang == LH_LANG_PHP || lang == LH_LANG_PERL;
    if (ch == '@') return lang == LH_LANG_RUBY || lang == LH_LANG_PERL;
    return 0;
}

static int isIdChar(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$';
}

static int hashComments(lh_lang l) {
    return l == LH_LANG_PYTHON || l == LH_LANG_PERL || l == LH_LANG_RUBY || l == LH_LANG_PHP;
}

/* Skip a quoted string starting at p (the quote); returns the position past it. */
static const char *skipString(lh_lang lang, const char *p, const char *end) {
    char q = *p;
    int triple = lang == LH_LANG_PYTHON && end - p >= 3 && p[1] == q && p[2] == q;
    p += triple ? 3 : 1;
    while (p < end) {
        if (*p == '\\' && p + 1 < end) { p += 2; continue; }
        if (triple ? (end - p >= 3 && p[0] == q && p[1] == q && p[2] == q) : *p == q)
            return p + (triple ? 3 : 1);
        p++;
    }
    return end;
}

static tok nextTok(lexer *L) {
    tok t = {T_END, L->end, 0, L->p == L->base};
    const char *p = L->p, *end = L->end;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            if (*p == '\n') t.nl = 1;
            p++;
        }
        if (p >= end) break;
        int line = (*p == '#' && hashComments(L->lang)) ||
                   (p + 1 < end && *p == '/' && p[1] == '/' && (L->lang == LH_LANG_JS || L->lang == LH_LANG_PHP)) ||
                   (p + 1 < end && *p == '-' && p[1] == '-' && L->lang == LH_LANG_LUA);
        if (line) {
            while (p < end && *p != '\n') p++;
            continue;
        }
        if (p + 1 < end && *p == '/' && p[1] == '*' && (L->lang == LH_LANG_JS || L->lang == LH_LANG_PHP)) {
            const char *e = memmem(p + 2, (size_t)(end - p - 2), "*/", 2);
            p = e ? e + 2 : end;
            continue;
        }
        break;
    }
    if (p >= end) { L->p = end; return t; }
    t.s = p;
    const char *q = p;
    if (L->lang == LH_LANG_PYTHON) {
        while (q < end && q - p < 2 && strchr("rbufRBUF", *q)) q++;
        if (q < end && (*q == '"' || *q == '\'')) {
            t.k = T_STR;
            q = skipString(L->lang, q, end);
            goto done;
        }
        q = p;
    }
    if (*q == '"' || *q == '\'' || (*q == '`' && L->lang != LH_LANG_PYTHON)) {
        t.k = T_STR;
        q = skipString(L->lang, q, end);
    } else if (*q == ':' && L->lang == LH_LANG_RUBY && q + 1 < end && isIdStart(L->lang, q[1]) &&
               (q == L->base || q[-1] != ':') && (q + 1 >= end || q[1] != ':')) {
        t.k = T_SYM;
        q++;
        while (q < end && isIdChar(*q)) q++;
    } else if (isIdStart(L->lang, *q)) {
        t.k = T_ID;
        q++;
        while (q < end && isIdChar(*q)) q++;
        if (q < end && (*q == '?' || *q == '!') && L->lang == LH_LANG_RUBY) q++;
    } else if (*q >= '0' && *q <= '9') {
        t.k = T_NUM;
        while (q < end && (isIdChar(*q) || *q == '.')) q++;
    } else {
        t.k = T_P;
        q++;
    }
done:
    t.n = (size_t)(q - p);
    L->p = q;
    return t;
}

static int isP(const tok *t, char ch) { return t->k == T_P && t->s[0] == ch; }
static int isId(const tok *t, const char *name) {
    return t->k == T_ID && t->n == strlen(name) && !memcmp(t->s, name, t->n);
}

/* The decoded text of a string token, *interp set when it interpolates; NULL for
 * other tokens. */
static char *strText(lh_arena *a, lh_lang lang, const tok *t, int *interp) {
    *interp = 0;
    if (t->k == T_SYM) return lh_arena_strndup(a, t->s + 1, t->n - 1);
    if (t->k != T_STR) return NULL;
    const char *s = t->s, *end = t->s + t->n;
    int fstr = 0;
    while (s < end && *s != '"' && *s != '\'' && *s != '`') {
        if (*s == 'f' || *s == 'F') fstr = 1;
        s++;
    }
    if (s >= end) return NULL;
    char q = *s;
    int triple = lang == LH_LANG_PYTHON && end - s >= 6 && s[1] == q && s[2] == q;
    s += triple ? 3 : 1;
    const char *stop = end - (triple ? 3 : 1);
    if (stop < s) stop = s;
    char *out = lh_arena_alloc(a, (size_t)(stop - s) + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (; s < stop; s++) {
        if (*s == '\\' && s + 1 < stop) {
            char e = *++s;
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            continue;
        }
        out[o++] = *s;
    }
    out[o] = 0;
    if (fstr && strchr(out, '{')) *interp = 1;
    if (q == '`' && (lang != LH_LANG_JS || strstr(out, "${"))) *interp = 1;
    if (q == '"' && lang == LH_LANG_RUBY && strstr(out, "#{")) *interp = 1;
    if (q == '"' && (lang == LH_LANG_PERL || lang == LH_LANG_PHP) && (strchr(out, '$') || strchr(out, '@')))
        *interp = lang == LH_LANG_PHP ? strchr(out, '$') != NULL : 1;
    return out;
}

static int identLike(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!isIdChar(*s)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* Output buffer                                                                   */
/* ------------------------------------------------------------------------------ */

typedef struct obuf {
    lh_arena *a;
    char *s;
    size_t n, cap;
    int oom;
} obuf;

static void put(obuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *ns = lh_arena_alloc(b->a, cap);
        if (!ns) { b->oom = 1; return; }
        if (b->n) memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = cap;
    }
    assert(b->s); /* the growth above allocated it: cap >= n + 1 > 0 */
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts0(obuf *b, const char *s) { put(b, s, strlen(s)); }

/* ------------------------------------------------------------------------------ */
/* Canonical form                                                                  */
/* ------------------------------------------------------------------------------ */

#define MAX_ALIASES 32

typedef struct canon {
    lh_arena *a;
    lh_lang lang;
    lexer L;
    obuf out;
    const char *gap;            /* source position the next token's gap starts at */
    struct { const char *name; size_t n; const char *to; } alias[MAX_ALIASES];
    int naliases;
    /* a pending `NAME = …` whose right side may be a plain dotted name */
    const char *assign_name;
    size_t assign_n, assign_at;
} canon;

#define MAX_ALIAS_TARGET 160   /* longer targets (x = x.next, repeated) are not kept */

static void addAlias(canon *c, const char *name, size_t n, const char *to) {
    if (!to || !*to) return;
    int keep = strlen(to) <= MAX_ALIAS_TARGET;
    for (int i = 0; i < c->naliases; i++)
        if (c->alias[i].n == n && !memcmp(c->alias[i].name, name, n)) {
            if (keep) c->alias[i].to = to;
            else c->alias[i] = c->alias[--c->naliases];
            return;
        }
    if (!keep) return;
    if (c->naliases >= MAX_ALIASES) return;
    c->alias[c->naliases].name = name;
    c->alias[c->naliases].n = n;
    c->alias[c->naliases].to = to;
    c->naliases++;
}

static const char *aliasOf(const canon *c, const tok *t) {
    for (int i = c->naliases - 1; i >= 0; i--)
        if (c->alias[i].n == t->n && !memcmp(c->alias[i].name, t->s, t->n)) return c->alias[i].to;
    return NULL;
}

static tok peek(const canon *c, int ahead) {
    lexer L = c->L;
    tok t = {T_END, L.end, 0, 0};
    for (int i = 0; i <= ahead; i++) t = nextTok(&L);
    return t;
}

static tok take(canon *c) { return nextTok(&c->L); }

/* Copy the gap before token t (whitespace, comments) to the output. */
static void gapTo(canon *c, const tok *t) {
    if (t->s > c->gap) put(&c->out, c->gap, (size_t)(t->s - c->gap));
    c->gap = t->s + t->n;
}

/* Close a pending assignment: when its right side came out as a plain dotted name, the
 * assigned name is an alias of it. */
static void endStatement(canon *c) {
    if (!c->assign_name) return;
    const char *rhs = c->out.s ? c->out.s + c->assign_at : "";
    while (*rhs == ' ' || *rhs == '\t') rhs++;
    size_t n = strlen(rhs);
    while (n && (rhs[n - 1] == ' ' || rhs[n - 1] == '\t' || rhs[n - 1] == ';' || rhs[n - 1] == '\n')) n--;
    int plain = n > 0 && !(rhs[0] >= '0' && rhs[0] <= '9');
    for (size_t i = 0; i < n; i++)
        if (!isIdChar(rhs[i]) && rhs[i] != '.') plain = 0;
    if (plain) addAlias(c, c->assign_name, c->assign_n, lh_arena_strndup(c->a, rhs, n));
    c->assign_name = NULL;
}

/* The module a JS require()/Python __import__ names: "node:fs" -> "fs". */
static const char *moduleName(canon *c, const tok *t) {
    int interp;
    char *m = strText(c->a, c->lang, t, &interp);
    if (!m || interp) return NULL;
    if (!strncmp(m, "node:", 5)) m += 5;
    return identLike(m) || strchr(m, '.') ? m : NULL;
}

/* Python `import a.b as x`, `from a import b as x, c as y`. */
static void pyImport(canon *c, tok *t) {
    int from = isId(t, "from");
    gapTo(c, t);
    put(&c->out, t->s, t->n);
    char mod[128];
    size_t mn = 0;
    tok u;
    for (;;) {
        /* a dotted module name */
        mn = 0;
        while (((u = peek(c, 0)).k == T_ID || isP(&u, '.')) && !u.nl && !isId(&u, "as") &&
               !isId(&u, "import")) {
            u = take(c);
            gapTo(c, &u);
            put(&c->out, u.s, u.n);
            if (mn + u.n < sizeof(mod)) { memcpy(mod + mn, u.s, u.n); mn += u.n; }
        }
        mod[mn] = 0;
        if (from) break;
        /* `import a.b as x, c as y` */
        u = peek(c, 0);
        if (isId(&u, "as") && !u.nl) {
            u = take(c);
            gapTo(c, &u);
            put(&c->out, u.s, u.n);
            tok v = peek(c, 0);
            if (v.k != T_ID || v.nl) return;
            v = take(c);
            gapTo(c, &v);
            put(&c->out, v.s, v.n);
            if (mn) addAlias(c, v.s, v.n, lh_arena_strndup(c->a, mod, mn));
        }
        u = peek(c, 0);
        if (!isP(&u, ',') || u.nl) return;
        u = take(c);
        gapTo(c, &u);
        put(&c->out, u.s, u.n);
    }
    u = peek(c, 0);
    if (!isId(&u, "import")) return;
    u = take(c);    /* import */
    gapTo(c, &u);
    put(&c->out, u.s, u.n);
    tok star = peek(c, 0);
    if (isP(&star, '*')) {   /* from M import *: M's runners by their bare names (advcontent3) */
        static const char *const froms[][8] = {
            {"os", "system", "popen", "execv", "execvp", "execl", "execlp", NULL},
            {"subprocess", "call", "run", "Popen", "check_call", "check_output", "getoutput", "getstatusoutput"},
            {"shutil", "rmtree", NULL}, {"pty", "spawn", NULL}, {"importlib", "import_module", NULL}};
        for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++)
            for (int k = 1; !strcmp(mod, froms[i][0]) && k < 8 && froms[i][k]; k++)
                addAlias(c, froms[i][k], strlen(froms[i][k]), lh_arena_printf(c->a, "%s.%s", mod, froms[i][k]));
        return;
    }
    for (;;) {
        tok name = peek(c, 0);
        if (isP(&name, '(')) { name = take(c); gapTo(c, &name); put(&c->out, name.s, name.n); continue; }
        if (name.k != T_ID || name.nl) return;
        name = take(c);
        gapTo(c, &name);
        put(&c->out, name.s, name.n);
        const char *full = lh_arena_printf(c->a, "%s.%.*s", mod, (int)name.n, name.s);
        tok as = peek(c, 0);
        if (isId(&as, "as")) {
            as = take(c);
            gapTo(c, &as);
            put(&c->out, as.s, as.n);
            tok x = peek(c, 0);
            if (x.k != T_ID) return;
            x = take(c);
            gapTo(c, &x);
            put(&c->out, x.s, x.n);
            addAlias(c, x.s, x.n, full);
        } else {
            addAlias(c, name.s, name.n, full);
        }
        tok comma = peek(c, 0);
        if (!isP(&comma, ',')) return;
        comma = take(c);
        gapTo(c, &comma);
        put(&c->out, comma.s, comma.n);
    }
}

/* JS `{ a: b, c } = …`: b is a, from the brace at t. Copies the braces through. */
static void jsDestructure(canon *c, tok *t) {
    gapTo(c, t);
    put(&c->out, t->s, t->n);
    /* only when the closing brace is followed by '=' */
    lexer save = c->L;
    int depth = 1, ok = 0, n = 0;
    tok rhs = {T_END, NULL, 0, 0};
    /* patterns are short: look at most 64 tokens ahead (bounded work on many braces) */
    for (tok u = nextTok(&c->L); u.k != T_END && n < 64; u = nextTok(&c->L), n++) {
        if (isP(&u, '{')) depth++;
        if (isP(&u, '}') && --depth == 0) {
            tok eq = nextTok(&c->L);
            tok eq2 = nextTok(&c->L);
            ok = isP(&eq, '=') && !isP(&eq2, '=');
            /* = NAME; (a plain object: const {Command} = Deno) binds each member to
             * NAME.member (advcontent3) */
            tok after = nextTok(&c->L);
            if (ok && eq2.k == T_ID && !isP(&after, '.') && !isP(&after, '(') && !isP(&after, '[')) rhs = eq2;
            break;
        }
    }
    c->L = save;
    if (!ok) return;
    for (;;) {
        tok a = take(c);
        gapTo(c, &a);
        put(&c->out, a.s, a.n);
        if (a.k == T_END || isP(&a, '}')) return;
        tok colon = peek(c, 0), b = peek(c, 1);
        if (a.k == T_ID && isP(&colon, ':') && b.k == T_ID) {
            colon = take(c);
            gapTo(c, &colon);
            put(&c->out, colon.s, colon.n);
            b = take(c);
            gapTo(c, &b);
            put(&c->out, b.s, b.n);
            addAlias(c, b.s, b.n, lh_arena_strndup(c->a, a.s, a.n));
        } else if (a.k == T_ID && rhs.k == T_ID && (isP(&colon, ',') || isP(&colon, '}'))) {
            const char *to = aliasOf(c, &rhs);
            addAlias(c, a.s, a.n, to ? lh_arena_printf(c->a, "%s.%.*s", to, (int)a.n, a.s)
                                     : lh_arena_printf(c->a, "%.*s.%.*s", (int)rhs.n, rhs.s, (int)a.n, a.s));
        }
    }
}

/* Perl and Ruby `system "a", "b"` / `system("a", "b")` / `system "a b"`: emit
 * `system(` and, for a list of literals, `["a", "b"]`. t is the call's name. */
static void parenless(canon *c, tok *t) {
    gapTo(c, t);
    put(&c->out, t->s, t->n);
    tok u = peek(c, 0);
    int paren = isP(&u, '(');
    tok first = peek(c, paren ? 1 : 0);
    if (first.k != T_STR) {
        /* system $cmd, exec { 'sh' } …: an argument that is not a literal (opaque) */
        if (!paren && (first.k == T_ID || isP(&first, '{'))) puts0(&c->out, "(");
        return;
    }
    /* count the literals of a comma list */
    lexer save = c->L;
    if (paren) nextTok(&c->L);
    int n = 0;
    for (;;) {
        tok s = nextTok(&c->L);
        if (s.k != T_STR) { n = -1; break; }
        n++;
        tok comma = nextTok(&c->L);
        if (!isP(&comma, ',')) {
            if (paren && !isP(&comma, ')')) n = -1;
            break;
        }
    }
    c->L = save;
    if (n < 2) {
        if (!paren) { puts0(&c->out, "("); c->gap = first.s; }
        return;
    }
    puts0(&c->out, "([");
    if (paren) { tok p = take(c); c->gap = p.s + p.n; }
    for (int i = 0; i < n; i++) {
        tok s = take(c);
        put(&c->out, s.s, s.n);
        c->gap = s.s + s.n;
        if (i + 1 < n) {
            tok comma = take(c);
            c->gap = comma.s + comma.n;
            puts0(&c->out, ", ");
        }
    }
    puts0(&c->out, "]");
    if (paren) { tok p = take(c); c->gap = p.s + p.n; }
    puts0(&c->out, ")");
}

/* Calls whose name is given by a string: the name, when t starts one; the tokens of the
 * call up to its argument list are consumed and the name emitted. */
static int byString(canon *c, tok *t) {
    int interp;
    lh_lang l = c->lang;
    /* getattr(X, 'name') -> X.name */
    if (isId(t, "getattr") && l == LH_LANG_PYTHON) {
        tok p = peek(c, 0), x = peek(c, 1), comma = peek(c, 2), s = peek(c, 3), close = peek(c, 4);
        if (!isP(&p, '(') || x.k != T_ID || !isP(&comma, ',') || s.k != T_STR || !isP(&close, ')')) return 0;
        char *name = strText(c->a, l, &s, &interp);
        if (!name || interp || !identLike(name)) return 0;
        gapTo(c, t);
        for (int i = 0; i < 5; i++) take(c);
        const char *to = aliasOf(c, &x);
        if (to) puts0(&c->out, to); else put(&c->out, x.s, x.n);
        puts0(&c->out, ".");
        puts0(&c->out, name);
        c->gap = close.s + close.n;
        return 1;
    }
    /* __import__('os'), require('child_process'), importlib.import_module('os') -> os */
    int imp = (isId(t, "__import__") && l == LH_LANG_PYTHON) || (isId(t, "require") && l == LH_LANG_JS);
    int skip = 0;
    const char *al = l == LH_LANG_PYTHON && t->k == T_ID ? aliasOf(c, t) : NULL;
    if (al && !strcmp(al, "importlib.import_module")) imp = 1;   /* from importlib import import_module [as f] */
    if ((isId(t, "importlib") || (al && !strcmp(al, "importlib"))) && l == LH_LANG_PYTHON) {
        tok dot = peek(c, 0), im = peek(c, 1);
        if (isP(&dot, '.') && isId(&im, "import_module")) { imp = 1; skip = 2; }
    }
    if (imp) {
        tok p = peek(c, skip), s = peek(c, skip + 1), close = peek(c, skip + 2);
        if (!isP(&p, '(') || s.k != T_STR || !isP(&close, ')')) return 0;
        const char *m = moduleName(c, &s);
        if (!m) return 0;
        gapTo(c, t);
        for (int i = 0; i < skip + 3; i++) take(c);
        puts0(&c->out, m);
        c->gap = close.s + close.n;
        return 1;
    }
    /* Ruby send(:system, …) / PHP call_user_func('system', …) -> system(… */
    int send = (l == LH_LANG_RUBY && (isId(t, "send") || isId(t, "public_send") || isId(t, "__send__"))) ||
               (l == LH_LANG_PHP && isId(t, "call_user_func"));
    if (send) {
        tok p = peek(c, 0), s = peek(c, 1), comma = peek(c, 2);
        if (!isP(&p, '(') || (s.k != T_STR && s.k != T_SYM) || !isP(&comma, ',')) return 0;
        char *name = strText(c->a, l, &s, &interp);
        if (!name || interp || !identLike(name)) return 0;
        gapTo(c, t);
        for (int i = 0; i < 3; i++) take(c);
        puts0(&c->out, name);
        puts0(&c->out, "(");
        c->gap = comma.s + comma.n;
        return 1;
    }
    /* vars(X) -> X; globals()['n'] / locals()['n'] -> n */
    if (l == LH_LANG_PYTHON && isId(t, "vars")) {
        tok p = peek(c, 0), x = peek(c, 1), close = peek(c, 2);
        if (!isP(&p, '(') || x.k != T_ID || !isP(&close, ')')) return 0;
        gapTo(c, t);
        for (int i = 0; i < 3; i++) take(c);
        const char *to = aliasOf(c, &x);
        if (to) puts0(&c->out, to); else put(&c->out, x.s, x.n);
        c->gap = close.s + close.n;
        return 1;
    }
    if (l == LH_LANG_PYTHON && (isId(t, "globals") || isId(t, "locals"))) {
        tok p = peek(c, 0), close = peek(c, 1), b = peek(c, 2), s = peek(c, 3), e = peek(c, 4);
        if (!isP(&p, '(') || !isP(&close, ')') || !isP(&b, '[') || s.k != T_STR || !isP(&e, ']')) return 0;
        char *name = strText(c->a, l, &s, &interp);
        if (!name || interp || !identLike(name)) return 0;
        gapTo(c, t);
        for (int i = 0; i < 5; i++) take(c);
        puts0(&c->out, name);
        c->gap = e.s + e.n;
        return 1;
    }
    return 0;
}

/* Calls named like the ones unwrap.c knows: Lua os.execute -> os.system, io.popen ->
 * os.popen; Ruby Open3.popen3 (and kin) -> Open3.capture3; JS shelljs.exec -> execSync;
 * Python asyncio.create_subprocess_shell -> os.system. */
static const char *otherName(lh_lang lang, const tok *t, const tok *dot, const tok *m) {
    if (!isP(dot, '.')) return NULL;
    if (lang == LH_LANG_LUA && isId(t, "os") && isId(m, "execute")) return "os.system";
    if (lang == LH_LANG_LUA && isId(t, "io") && isId(m, "popen")) return "os.popen";
    if (lang == LH_LANG_RUBY && isId(t, "Open3") &&
        (isId(m, "popen3") || isId(m, "popen2") || isId(m, "popen2e") || isId(m, "capture2e") ||
         isId(m, "pipeline") || isId(m, "pipeline_r") || isId(m, "pipeline_w")))
        return "Open3.capture3";
    if (lang == LH_LANG_JS && isId(t, "shelljs") && isId(m, "exec")) return "execSync";
    if (lang == LH_LANG_PYTHON && isId(t, "asyncio") && isId(m, "create_subprocess_shell")) return "os.system";
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Constant strings                                                                */
/* ------------------------------------------------------------------------------ */

/* The concatenation operator between two literals: '+' (Python, JS, Ruby), '.' (PHP,
 * Perl); Python also joins adjacent literals ("cpu_" "count"). */
static int concatOp(lh_lang l, const tok *t) {
    if (isP(t, '+')) return l == LH_LANG_PYTHON || l == LH_LANG_JS || l == LH_LANG_RUBY;
    if (isP(t, '.')) return l == LH_LANG_PHP || l == LH_LANG_PERL || l == LH_LANG_LUA;   /* Lua: `..` */
    return 0;
}

/* An operator that binds tighter than concatenation or applies to the literal next to
 * it ('%s' % x, 'ab' * 2, 'a'.upper(), 'abc'[1]): the literal is not folded. */
static int bindsTighter(lh_lang l, const tok *t) {
    if (concatOp(l, t)) return 0;
    return t->k == T_P && strchr("*%/-[.(", t->s[0]);
}

/* The same before a literal: x * 'a' + 'b', x % 'a' + 'b'. */
static int bindsTighterBefore(const tok *t) {
    return t->k == T_P && strchr("*%/-+.", t->s[0]);
}

/* Fold concatenations of plain string literals into one literal ('sys' + 'tem' ->
 * 'system'), so the lookups of lh_code_canon see the name. Returns code when nothing
 * was folded. */
static const char *foldStrings(lh_arena *a, lh_lang lang, const char *code, size_t len, size_t *outlen) {
    lexer L = {lang, code, code, code + len};
    obuf out = {a, NULL, 0, 0, 0};
    const char *copied = code;
    tok prev = {T_END, code, 0, 1};
    int folded = 0;
    for (tok t = nextTok(&L); t.k != T_END;) {
        int interp;
        char *first = t.k == T_STR && !bindsTighterBefore(&prev) ? strText(a, lang, &t, &interp) : NULL;
        if (!first || interp) { prev = t; t = nextTok(&L); continue; }
        /* a run: STR (op STR)* */
        obuf run = {a, NULL, 0, 0, 0};
        put(&run, first, strlen(first));
        tok last = t, next = nextTok(&L);
        int n = 1;
        for (;;) {
            lexer save = L;
            tok s2 = next;
            if (concatOp(lang, &next)) {
                s2 = nextTok(&L);
                if (lang == LH_LANG_LUA) {   /* the second dot of `..` */
                    if (!isP(&s2, '.') || s2.s != next.s + 1) { L = save; break; }
                    s2 = nextTok(&L);
                }
            } else if (lang != LH_LANG_PYTHON || next.k != T_STR) break;
            char *more = s2.k == T_STR ? strText(a, lang, &s2, &interp) : NULL;
            tok after = nextTok(&L);
            if (!more || interp || bindsTighter(lang, &after)) { L = save; break; }
            put(&run, more, strlen(more));
            last = s2;
            next = after;
            n++;
        }
        if (n > 1 && !run.oom) {
            put(&out, copied, (size_t)(t.s - copied));
            put(&out, "'", 1);
            for (size_t i = 0; i < run.n; i++) {
                char ch = run.s[i];
                if (ch == '\\' || ch == '\'') put(&out, "\\", 1);
                if (ch == '\n') put(&out, "\\n", 2);
                else put(&out, &ch, 1);
            }
            put(&out, "'", 1);
            copied = last.s + last.n;
            folded = 1;
        }
        prev = last;
        t = next;
    }
    if (!folded || out.oom) { *outlen = len; return code; }
    put(&out, copied, (size_t)(code + len - copied));
    if (out.oom) { *outlen = len; return code; }
    *outlen = out.n;
    return out.s;
}

const char *lh_code_canon(lh_arena *a, lh_lang lang, const char *code, size_t len,
                          size_t *outlen) {
    *outlen = len;
    if (lang == LH_LANG_NONE) return code;
    code = foldStrings(a, lang, code, len, &len);
    *outlen = len;
    canon c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.lang = lang;
    c.L.lang = lang;
    c.L.base = c.L.p = code;
    c.L.end = code + len;
    c.gap = code;
    c.out.a = a;
    c.out.cap = len * 2 + 64;
    c.out.s = lh_arena_alloc(a, c.out.cap);
    if (!c.out.s) return NULL;
    c.out.s[0] = 0;
    tok prev = {T_END, code, 0, 1};
    /* Perl code that loads IPC::Run / IPC::Cmd (looked for once: its run is a command) */
    int ipcRun = lang == LH_LANG_PERL && memmem(code, len, "IPC::Run", 8) != NULL;
    int ipcCmd = lang == LH_LANG_PERL && memmem(code, len, "IPC::Cmd", 8) != NULL;
    for (;;) {
        tok t = take(&c);
        if (t.k == T_END) break;
        if (t.nl || isP(&t, ';')) endStatement(&c);
        int after_dot = isP(&prev, '.') || (isP(&prev, '>') && prev.s > code && prev.s[-1] == '-') ||
                        (isP(&prev, ':') && prev.s > code && prev.s[-1] == ':');
        if (t.k == T_ID && !after_dot) {
            if (lang == LH_LANG_PYTHON && (isId(&t, "import") || isId(&t, "from")) && (t.nl || isP(&prev, ';'))) {
                pyImport(&c, &t);
                prev = t;
                continue;
            }
            if (byString(&c, &t)) { prev.k = T_ID; continue; }
            tok d = peek(&c, 0), m = peek(&c, 1);
            const char *to0 = aliasOf(&c, &t);
            tok named = t;
            if (to0 && !strcmp(to0, "shelljs")) { named.s = "shelljs"; named.n = 7; }
            const char *ln = otherName(lang, &named, &d, &m);
            if (ln) {
                gapTo(&c, &t);
                take(&c);
                take(&c);
                c.gap = m.s + m.n;
                puts0(&c.out, ln);
                /* Lua calls with one string need no parentheses: os.execute "…" */
                tok arg = peek(&c, 0);
                if (lang == LH_LANG_LUA && arg.k == T_STR) { puts0(&c.out, "("); c.gap = arg.s; }
                prev = m;
                continue;
            }
            /* Perl IPC::Run's run [LIST] / run([LIST], …) -> IPC::Run::run(LIST; IPC::Cmd's
             * run(command => X) -> system(X) (advcontent3) */
            if (ipcRun && isId(&t, "run")) {
                int paren = isP(&d, '(');
                tok x = paren ? m : d;
                if (isP(&x, '[')) {
                    gapTo(&c, &t);
                    if (paren) { take(&c); c.gap = d.s + d.n; }
                    puts0(&c.out, "IPC::Run::run(");
                    prev = t;
                    continue;
                }
            }
            if (ipcCmd && isId(&t, "run") && isP(&d, '(') && isId(&m, "command")) {
                tok eq = peek(&c, 2), gt = peek(&c, 3);
                if (isP(&eq, '=') && isP(&gt, '>')) {
                    gapTo(&c, &t);
                    for (int i = 0; i < 4; i++) take(&c);
                    c.gap = gt.s + gt.n;
                    puts0(&c.out, "system(");
                    prev = gt;
                    continue;
                }
            }
            /* the $`cmd` of Bun and zx (imported): -> execSync(`cmd`) (advcontent3) */
            if (lang == LH_LANG_JS && isId(&t, "$") && d.k == T_STR && d.s[0] == '`' && d.s == t.s + 1) {
                gapTo(&c, &t);
                take(&c);
                puts0(&c.out, "execSync(");
                put(&c.out, d.s, d.n);
                puts0(&c.out, ")");
                c.gap = d.s + d.n;
                prev = d;
                continue;
            }
            /* Bun's shell: Bun.$`cmd` -> execSync(`cmd`) (advcontent3) */
            if (lang == LH_LANG_JS && isId(&t, "Bun") && isP(&d, '.')) {
                tok dl = peek(&c, 1), tpl = peek(&c, 2);
                if (isId(&dl, "$") && tpl.k == T_STR && tpl.s[0] == '`') {
                    gapTo(&c, &t);
                    take(&c);
                    take(&c);
                    take(&c);
                    puts0(&c.out, "execSync(");
                    put(&c.out, tpl.s, tpl.n);
                    puts0(&c.out, ")");
                    c.gap = tpl.s + tpl.n;
                    prev = tpl;
                    continue;
                }
            }
            /* JS execa('rm', ['-rf', '/']) / execaSync / execaCommand('…') */
            if (lang == LH_LANG_JS && (isId(&t, "execa") || isId(&t, "execaSync")) && isP(&d, '(')) {
                gapTo(&c, &t);
                puts0(&c.out, "spawnSync");
                prev = t;
                continue;
            }
            if (lang == LH_LANG_JS && (isId(&t, "execaCommand") || isId(&t, "execaCommandSync")) && isP(&d, '(')) {
                gapTo(&c, &t);
                puts0(&c.out, "execSync");
                prev = t;
                continue;
            }
            /* NAME = … starts an assignment that may bind an alias */
            tok eq2 = peek(&c, 1);
            if (isP(&d, '=') && !isP(&eq2, '=') && !isP(&eq2, '>') && !isP(&eq2, '~')) {
                gapTo(&c, &t);
                put(&c.out, t.s, t.n);
                tok e = take(&c);
                gapTo(&c, &e);
                put(&c.out, e.s, e.n);
                c.assign_name = t.s;
                c.assign_n = t.n;
                c.assign_at = c.out.n;
                /* PHP $f = 'system': a variable function */
                tok s = peek(&c, 0), semi = peek(&c, 1);
                if (lang == LH_LANG_PHP && s.k == T_STR && (isP(&semi, ';') || semi.k == T_END)) {
                    int interp;
                    char *name = strText(a, lang, &s, &interp);
                    if (name && !interp && identLike(name)) addAlias(&c, t.s, t.n, name);
                    c.assign_name = NULL;
                }
                prev = e;
                continue;
            }
            if ((lang == LH_LANG_PERL || lang == LH_LANG_RUBY) &&
                (isId(&t, "system") || isId(&t, "exec") || isId(&t, "spawn") ||
                 (lang == LH_LANG_RUBY && isId(&t, "sh")) || (lang == LH_LANG_PERL && (isId(&t, "readpipe") || isId(&t, "open"))))) {
                parenless(&c, &t);
                prev = t;
                continue;
            }
            const char *to = aliasOf(&c, &t);
            /* aliases may lengthen the code at most four times over (bounded work) */
            if (to && c.out.n + strlen(to) > 4 * len + 4096) to = NULL;
            if (to && !(c.assign_name == t.s)) {
                gapTo(&c, &t);
                puts0(&c.out, to);
                prev = t;
                continue;
            }
        }
        if (t.k == T_ID && after_dot && isId(&t, "system") && lang == LH_LANG_RUBY) {
            parenless(&c, &t);   /* Kernel.system('rm', '-rf', '/') */
            prev = t;
            continue;
        }
        /* x['name'] -> x.name, and x.__dict__['name'] -> x.name */
        if (isP(&t, '[') && (prev.k == T_ID || isP(&prev, ')') || isP(&prev, ']')) &&
            !isId(&prev, "environ") && !isId(&prev, "ENV") && !isId(&prev, "env")) {
            tok s = peek(&c, 0), e = peek(&c, 1);
            int interp;
            char *name = s.k == T_STR && isP(&e, ']') ? strText(a, lang, &s, &interp) : NULL;
            if (name && !interp && identLike(name)) {
                if (isId(&prev, "__dict__") && c.out.n >= 9 && !memcmp(c.out.s + c.out.n - 9, ".__dict__", 9))
                    c.out.n -= 9;
                const char *g = c.gap;   /* os [ 'x' ]: the blanks before the bracket go (advcontent3) */
                while (g < t.s && (*g == ' ' || *g == '\t')) g++;
                if (g == t.s) c.gap = t.s;
                gapTo(&c, &t);
                take(&c);
                take(&c);
                c.gap = e.s + e.n;
                puts0(&c.out, ".");
                puts0(&c.out, name);
                prev = e;
                prev.k = T_ID;
                continue;
            }
        }
        if (isP(&t, '{') && lang == LH_LANG_JS) {
            if (isId(&prev, "import")) {
                /* import { a as b, c } from 'm': b is a */
                gapTo(&c, &t);
                put(&c.out, t.s, t.n);
                for (tok u = take(&c); u.k != T_END; u = take(&c)) {
                    gapTo(&c, &u);
                    put(&c.out, u.s, u.n);
                    if (isP(&u, '}')) break;
                    tok as = peek(&c, 0), b = peek(&c, 1);
                    if (u.k == T_ID && isId(&as, "as") && b.k == T_ID) {
                        as = take(&c);
                        gapTo(&c, &as);
                        put(&c.out, as.s, as.n);
                        b = take(&c);
                        gapTo(&c, &b);
                        put(&c.out, b.s, b.n);
                        addAlias(&c, b.s, b.n, lh_arena_strndup(a, u.s, u.n));
                    }
                }
                prev = t;
                continue;
            }
            jsDestructure(&c, &t);
            prev = t;
            continue;
        }
        /* Python's exec() runs Python, not a shell: keep it apart from shell calls */
        if (lang == LH_LANG_PYTHON && isId(&t, "exec") && !after_dot) {
            gapTo(&c, &t);
            puts0(&c.out, "py_exec");
            prev = t;
            continue;
        }
        gapTo(&c, &t);
        put(&c.out, t.s, t.n);
        prev = t;
    }
    endStatement(&c);
    if (c.gap < code + len) put(&c.out, c.gap, (size_t)(code + len - c.gap));
    if (c.out.oom) return NULL;
    /* child_process methods are named bare (`exec(`), as after a destructuring require */
    /* in one pass, in place (a memmove of the rest per name was quadratic: 3,500 names
     * in 140 KB of node took 177 M instructions) */
    char *s = c.out.s, *w = s;
    const char *r = s, *end = s + c.out.n;
    while (r < end) {
        if (*r == 'c' && end - r >= 14 && !memcmp(r, "child_process.", 14)) { r += 14; continue; }
        *w++ = *r++;
    }
    *w = 0;
    *outlen = (size_t)(w - s);
    return s;
}

/* ------------------------------------------------------------------------------ */
/* Effects                                                                         */
/* ------------------------------------------------------------------------------ */

typedef struct efx {
    lh_arena *a;
    lh_lang lang;
    lh_code_effect *out;
    int n, max, oom;
} efx;

static void addEffect(efx *e, lh_code_effect_kind k, const char *text) {
    if (!text) { e->oom = 1; return; }
    if (e->n < e->max) { e->out[e->n].kind = k; e->out[e->n].text = text; e->n++; }
}

/* `: > 'path'`, with a leading ~/ left unquoted so the shell reading expands it. */
static void addWrite(efx *e, const char *path) {
    if (!path || !*path || strlen(path) > 4096 || strchr(path, '\n')) return;
    obuf b = {e->a, NULL, 0, 0, 0};
    puts0(&b, ": > ");
    if (path[0] == '~' && (path[1] == '/' || !path[1])) { puts0(&b, "~/"); path += path[1] ? 2 : 1; }
    puts0(&b, "'");
    for (const char *p = path; *p; p++) {
        if (*p == '\'') puts0(&b, "'\\''");
        else put(&b, p, 1);
    }
    puts0(&b, "'");
    addEffect(e, LH_CODE_WRITE, b.oom ? NULL : b.s);
}

/* (advcontent) A path built from the home directory at L (the first argument of a
 * write): a home expression (os.homedir(), require('os').homedir(), process.env.HOME,
 * getenv('HOME'), os.getenv('HOME'), ENV['HOME'], Dir.home, $ENV{HOME}) joined to a
 * literal by + . .. or path.join(…, 'x'), or File.expand_path('~/x'): "~/x", with L moved
 * past the argument to the next ',' or ')'. NULL (L untouched) otherwise. */
static char *homePath(lh_arena *a, lh_lang lang, lexer *L) {
    static const char *const homes[] = {"require('os').homedir()", "require(\"os\").homedir()", "os.homedir()",
                                        "homedir()", "process.env.HOME", "process.env['HOME']", "os.getenv('HOME')",
                                        "os.getenv(\"HOME\")", "getenv('HOME')", "getenv(\"HOME\")", "ENV['HOME']",
                                        "ENV[\"HOME\"]", "Dir.home", "$ENV{HOME}", "$ENV{'HOME'}", NULL};
    const char *p = L->p, *end = L->end;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    int join = 0, expand = 0;
    if ((size_t)(end - p) > 10 && !strncmp(p, "path.join(", 10)) { p += 10; join = 1; }
    else if ((size_t)(end - p) > 17 && !strncmp(p, "File.expand_path(", 17)) { p += 17; expand = 1; }
    if (!expand) {
        int hit = 0;
        for (int i = 0; homes[i] && !hit; i++)
            if ((size_t)(end - p) >= strlen(homes[i]) && !strncmp(p, homes[i], strlen(homes[i]))) { p += strlen(homes[i]); hit = 1; }
        if (!hit) return NULL;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (join ? (p < end && *p == ',') : (p < end && (*p == '+' || *p == '.'))) p++;
        else return NULL;
        while (p < end && (*p == '.' || *p == ' ')) p++;   /* .. in lua */
    }
    lexer sub = {lang, L->base, p, end};
    tok s = nextTok(&sub);
    int interp = 0;
    char *lit = s.k == T_STR ? strText(a, lang, &s, &interp) : NULL;
    if (!lit || interp) return NULL;
    if (expand && (lit[0] != '~' || lit[1] != '/')) return NULL;
    tok close = nextTok(&sub);
    if ((join || expand) && isP(&close, ')')) close = nextTok(&sub);
    if (!isP(&close, ',') && !isP(&close, ')')) return NULL;
    L->p = close.s;
    if (expand) return lit;
    return lh_arena_printf(a, "~/%s", lit[0] == '/' ? lit + 1 : lit);
}

/* Does an open mode replace or extend the file? ('w', 'wb', 'a', 'x', 'r+', "w+") */
static int writeMode(const char *m) {
    return m && (strchr(m, 'w') || strchr(m, 'a') || strchr(m, 'x') || strchr(m, '+') ||
                 strchr(m, 'c') || m[0] == '>');
}

/* The text of the argument list that starts after the '(' at L (up to 80 bytes). */
static const char *argText(efx *e, const lexer *L) {
    const char *s = L->p, *p = s;
    int depth = 1;
    while (p < L->end && depth && p - s < 200) {
        if (*p == '(') depth++;
        if (*p == ')') depth--;
        if (depth) p++;
    }
    size_t n = (size_t)(p - s);
    while (n && (*s == ' ')) { s++; n--; }
    if (n > 80) return lh_arena_printf(e->a, "%.*s…", 80, s);
    return lh_arena_strndup(e->a, s, n);
}

/* An evaluation call: the literal it evaluates, or the expression it cannot see. L is
 * after the call's name; paren is 0 for Perl/Ruby `eval "…"`. */
static void evalCall(efx *e, lexer *L, int paren) {
    lexer save = *L;
    tok s = nextTok(L), after = nextTok(L);
    int interp = 0;
    char *lit = s.k == T_STR ? strText(e->a, e->lang, &s, &interp) : NULL;
    int lone = paren ? (isP(&after, ')') || isP(&after, ',')) :
                       (after.k == T_END || isP(&after, ';') || after.nl);
    if (lit && !interp && lone) { addEffect(e, LH_CODE_EVAL, lit); *L = save; return; }
    *L = save;
    addEffect(e, LH_CODE_EVAL_OPAQUE, paren ? argText(e, L) :
              lh_arena_strndup(e->a, L->p, (size_t)(L->end - L->p) > 80 ? 80 : (size_t)(L->end - L->p)));
}

/* Python: getattr(<a module that runs commands>, <not a literal>), __import__(<not a
 * literal>), import_module(<not a literal>). L is after the call's '('. */
static int computedName(const lexer *L, const tok *t, int after_dot) {
    lexer q = *L;
    tok x = nextTok(&q), comma = nextTok(&q), s = nextTok(&q), close = nextTok(&q);
    if (isId(t, "getattr") && !after_dot) {
        static const char *const mods[] = {"os", "subprocess", "shutil", "pty", "builtins",
                                           "__builtins__", "posix", "importlib", "sys", NULL};
        int risky = 0;
        for (int i = 0; mods[i]; i++) risky |= isId(&x, mods[i]);
        return risky && isP(&comma, ',') && !(s.k == T_STR && (isP(&close, ')') || isP(&close, ',')));
    }
    if ((isId(t, "__import__") && !after_dot) || isId(t, "import_module")) {
        tok after = comma;
        return !(x.k == T_STR && (isP(&after, ')') || isP(&after, ',')));
    }
    return 0;
}

/* True when the code downloads: an evaluation of a computed string in it is taken to
 * run what was downloaded (fetch(u).then(r => r.text()).then(eval),
 * exec(urlopen(u).read())), as `curl | sh` does. */
static int fetchesNetwork(const char *code, size_t len) {
    static const char *const calls[] = {"fetch(", "urlopen(", "requests.get(", "requests.post(",
                                        "requests.request(", "httpx.get(", "urllib3", "http.get(",
                                        "https.get(", "axios", "Net::HTTP", "URI.open(", "open-uri",
                                        "LWP::", "HTTP::Tiny", "curl_exec(", "http.request(", NULL};
    for (int i = 0; calls[i]; i++)
        if (memmem(code, len, calls[i], strlen(calls[i]))) return 1;
    return 0;
}

int lh_code_effects(lh_arena *a, lh_lang lang, const char *code, size_t len,
                    lh_code_effect *out, int max) {
    efx e = {a, lang, out, 0, max, 0};
    if (lang == LH_LANG_NONE) return 0;
    lexer L = {lang, code, code, code + len};
    tok prev = {T_END, code, 0, 1}, prev2 = prev;
    for (tok t = nextTok(&L); t.k != T_END && !e.oom; prev2 = prev, prev = t, t = nextTok(&L)) {
        if (t.k != T_ID) continue;
        int after_dot = isP(&prev, '.') || (isP(&prev, ':') && prev.s > code && prev.s[-1] == ':');
        lexer at = L;
        tok p = nextTok(&at);
        int paren = isP(&p, '(');
        int interp;
        /* --- dynamic evaluation */
        int ev = 0;
        switch (lang) {
        case LH_LANG_PYTHON: ev = !after_dot && (isId(&t, "py_exec") || isId(&t, "eval") || isId(&t, "compile")); break;
        case LH_LANG_JS: ev = (!after_dot && (isId(&t, "eval") || isId(&t, "Function"))) ||
                              (after_dot && (isId(&t, "runInThisContext") || isId(&t, "runInNewContext") ||
                                             isId(&t, "runInContext")));
                         break;
        case LH_LANG_PERL: ev = !after_dot && isId(&t, "eval"); break;
        case LH_LANG_RUBY: ev = isId(&t, "eval") || isId(&t, "instance_eval") || isId(&t, "class_eval") ||
                                isId(&t, "module_eval");
                           break;
        case LH_LANG_PHP: ev = !after_dot && (isId(&t, "eval") || isId(&t, "assert") || isId(&t, "create_function")); break;
        case LH_LANG_LUA: ev = !after_dot && (isId(&t, "load") || isId(&t, "loadstring")); break;
        default: break;
        }
        if (lang == LH_LANG_JS && after_dot && isId(&t, "constructor") && paren && isId(&prev2, "constructor"))
            ev = 1;   /* x.constructor.constructor(…): the Function constructor */
        if (lang == LH_LANG_PHP && t.s[0] == '$' && paren && !after_dot) {
            addEffect(&e, LH_CODE_EVAL_OPAQUE, lh_arena_printf(a, "%.*s(…), a function named at run time", (int)t.n, t.s));
            continue;
        }
        if (lang == LH_LANG_PYTHON && paren && !ev && computedName(&at, &t, after_dot)) {
            addEffect(&e, LH_CODE_EVAL_OPAQUE, lh_arena_printf(a, "%.*s(%s), a name computed at run time",
                                                               (int)t.n, t.s, argText(&e, &at)));
            continue;
        }
        if (ev && lang == LH_LANG_JS && !paren && !after_dot && (isP(&prev, '(') || isP(&prev, ',')) &&
            (isP(&p, ')') || isP(&p, ','))) {
            addEffect(&e, LH_CODE_EVAL_OPAQUE, "eval given as a callback: evaluates what it is passed");
            continue;   /* .then(eval), [s].map(eval) */
        }
        if (ev) {
            if (paren) { L = at; evalCall(&e, &L, 1); continue; }
            if ((lang == LH_LANG_PERL || lang == LH_LANG_RUBY) && !isP(&p, '{') && !isId(&p, "do") &&
                p.k != T_END && !isP(&p, ';')) {
                evalCall(&e, &L, 0);
            }
            continue;
        }
        if (!paren && !(lang == LH_LANG_PERL && isId(&t, "open"))) continue;
        /* --- writes: the first argument is the path */
        lexer q = at;
        int wr = 0, mode_arg = 0;
        switch (lang) {
        case LH_LANG_PYTHON:
            if (!after_dot && isId(&t, "open")) mode_arg = 1;
            if (after_dot && (isId(&t, "write_text") || isId(&t, "write_bytes")) && isP(&prev, '.')) {
                /* Path('p').write_text(…): the literal inside Path( ) before the dot */
                if (isP(&prev2, ')')) {
                    const char *o = prev2.s;
                    int depth = 0;
                    while (o > code && prev2.s - o < 4096) {
                        if (*o == ')') depth++;
                        if (*o == '(' && --depth == 0) break;
                        o--;
                    }
                    lexer pl = {lang, code, o + 1, prev2.s};
                    tok s = nextTok(&pl);
                    char *path = s.k == T_STR ? strText(a, lang, &s, &interp) : NULL;
                    if (path && !interp) addWrite(&e, path);
                }
                continue;
            }
            break;
        case LH_LANG_JS:
            wr = isId(&t, "writeFileSync") || isId(&t, "writeFile") || isId(&t, "appendFileSync") ||
                 isId(&t, "appendFile") || isId(&t, "truncateSync") || isId(&t, "truncate") ||
                 isId(&t, "createWriteStream");
            break;
        case LH_LANG_RUBY:
            wr = after_dot && (isId(&t, "write") || isId(&t, "binwrite") || isId(&t, "truncate")) &&
                 prev2.k == T_ID && (isId(&prev2, "File") || isId(&prev2, "IO"));
            if (after_dot && isId(&t, "open") && isId(&prev2, "File")) mode_arg = 1;
            break;
        case LH_LANG_PHP:
            wr = !after_dot && isId(&t, "file_put_contents");
            if (!after_dot && isId(&t, "fopen")) mode_arg = 1;
            break;
        case LH_LANG_LUA:
            if (after_dot && isId(&t, "open") && isId(&prev2, "io")) mode_arg = 1;
            break;
        case LH_LANG_PERL:
            if (!after_dot && isId(&t, "open")) {
                /* open(F, '>', p) / open(my $f, '>', p) / open F, '>p' */
                if (paren) q = at;
                else q = L;
                tok x = nextTok(&q);
                if (isId(&x, "my") || isId(&x, "our") || isId(&x, "local")) x = nextTok(&q);
                tok comma = nextTok(&q), m = nextTok(&q);
                if (x.k != T_ID || !isP(&comma, ',') || m.k != T_STR) continue;
                char *mode = strText(a, lang, &m, &interp);
                if (!mode || interp) continue;
                tok c2 = nextTok(&q);
                if (isP(&c2, ',')) {
                    tok s = nextTok(&q);
                    char *path = s.k == T_STR ? strText(a, lang, &s, &interp) : NULL;
                    if (path && !interp && mode[0] == '>') addWrite(&e, path);
                    else if (path && !interp && mode[0] == '+') addWrite(&e, path);
                } else if (mode[0] == '>' || (mode[0] == '+' && mode[1] == '>')) {
                    const char *path = mode;
                    while (*path == '>' || *path == '+' || *path == ' ') path++;
                    addWrite(&e, path);
                }
            }
            continue;
        default: break;
        }
        if (!wr && !mode_arg) continue;
        char *home = homePath(a, lang, &q);   /* os.homedir() + '/.bashrc' …: q at the ',' */
        char *path = home;
        interp = 0;
        if (!home) {
            tok s = nextTok(&q);
            path = s.k == T_STR ? strText(a, lang, &s, &interp) : NULL;
        }
        if (!path || interp) continue;
        if (mode_arg) {
            tok comma = nextTok(&q), m = nextTok(&q);
            if (!isP(&comma, ',')) continue;
            if (m.k == T_ID && isId(&m, "mode")) { nextTok(&q); m = nextTok(&q); }
            char *mode = m.k == T_STR ? strText(a, lang, &m, &interp) : NULL;
            if (!mode || interp || !writeMode(mode)) continue;
        }
        addWrite(&e, path);
    }
    if (!e.oom && fetchesNetwork(code, len))
        for (int i = 0; i < e.n; i++)
            if (out[i].kind == LH_CODE_EVAL_OPAQUE) out[i].kind = LH_CODE_EVAL_REMOTE;
    return e.oom ? -1 : e.n;
}

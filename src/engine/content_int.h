/* content_int.h — the growing text and line helpers an_content.c and content_tools.c
 * share (internal to the engine's content readers). */
#ifndef LH_CONTENT_INT_H
#define LH_CONTENT_INT_H

#include <assert.h>
#include <string.h>

#include "engine/analyze.h"

static inline int endsWith(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* ---- a growing text in the arena ---------------------------------------------------- */

typedef struct text {
    lh_ctx *c;
    char *s;
    size_t n, cap;
} text;

static inline void add(text *t, const char *s, size_t n) {
    if (t->c->oom) return;
    if (t->n + n + 2 > t->cap) {
        size_t cap = (t->cap + n + 2) * 2;
        char *ns = lh_arena_alloc(t->c->arena, cap);
        if (!ns) { t->c->oom = 1; return; }
        if (t->n) memcpy(ns, t->s, t->n);
        t->s = ns;
        t->cap = cap;
    }
    assert(t->s); /* the growth above allocated it: cap >= n + 2 > 0 */
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = 0;
}
static inline void adds(text *t, const char *s) { add(t, s, strlen(s)); }

/* Single-quote s (n bytes) as one shell word. */
static inline void addQuoted(text *t, const char *s, size_t n) {
    adds(t, "'");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') adds(t, "'\\''");
        else add(t, s + i, 1);
    }
    adds(t, "'");
}

/* ---- lines ---------------------------------------------------------------------------- */

static inline const char *lineEnd(const char *p, const char *end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    return e ? e : end;
}

static inline size_t indentOf(const char *p, const char *e) {
    size_t n = 0;
    while (p + n < e && p[n] == ' ') n++;
    return n;
}

/* Add a line of shell with GitHub `${{ … }}` expressions made plain words. */
static inline void addWithoutExprs(text *t, const char *p, const char *e) {
    while (p < e) {
        const char *x = memmem(p, (size_t)(e - p), "${{", 3);
        if (!x) { add(t, p, (size_t)(e - p)); break; }
        add(t, p, (size_t)(x - p));
        const char *y = memmem(x, (size_t)(e - x), "}}", 2);
        adds(t, "GH_EXPR");
        p = y ? y + 2 : e;
    }
    adds(t, "\n");
}

static inline int has(const char *p, const char *e, const char *w) { return memmem(p, (size_t)(e - p), w, strlen(w)) != NULL; }


/* content_tools.c: more files whose content runs (each adds shell units to sh) */
typedef enum { INI_TOX, INI_PYLINT, INI_CARGO, INI_PYPROJECT } ini_kind;
void lh_ct_yaml_commands(const char *s, size_t len, const char *const *keys, text *sh);
void lh_ct_justfile(const char *s, size_t len, text *sh);
void lh_ct_go_generate(const char *s, size_t len, text *sh);
void lh_ct_ini_commands(const char *s, size_t len, ini_kind kind, text *sh);
void lh_ct_jenkinsfile(const char *s, size_t len, text *sh);
void lh_ct_cmake(const char *s, size_t len, text *sh);
void lh_ct_envrc_source_url(const char *s, size_t len, text *sh);
void lh_ct_gitmodules(const char *s, size_t len, text *sh);
void lh_ct_rust(const char *s, size_t len, text *sh);
void lh_ct_workflow_python(const char *s, size_t len, text *sh);
/* content_files3.c (advcontent3): more files whose content runs; returns 1 when path is
 * one of its own kinds (some readers, pytest's addopts and docker:// actions, add to
 * files an_content.c also reads) */
int lh_ct3_commands(lh_ctx *c, const char *path, const char *s, size_t len, text *sh);
/* an_content.c's JSON readers: the values of keys as commands; one string decoded */
void lh_ct_json_values(lh_ctx *c, const char *s, size_t len, const char *const *keys, text *sh);
const char *lh_ct_json_string(lh_ctx *c, const char *p, const char *end, text *out);
/* The first byte of a unit that is the code of a file a tool runs by itself. */
#define LH_FILE_CODE_MARK "\x1f"
/* content.tool-program: a tool's config naming a program the tool runs */
void lh_ct_tool_program(lh_ctx *c, const char *path, const char *s, size_t len);

#endif

/* prompt.c — the operator's prompt template (see llm.h, docs/expert-llm.md). A template is
 * text with placeholders {{name}}; each becomes the named part of the escalation as JSON
 * text (a string in quotes, with its newlines and quotes escaped), so the agent's command
 * cannot break out of the place the template gives it. Text that is not {{name}} with a
 * name of lower-case letters and '_' is copied as it is. */
#include "expert/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A placeholder: its name and where its value sits in the ESC object ("context.paths":
 * member paths of the object; "*" marks the computed ones). */
typedef struct placeholder { const char *name, *where; } placeholder;

static const placeholder PLACEHOLDERS[] = {
    {"id", "id"},                   {"agent", "agent"},
    {"session", "session"},         {"tool", "tool"},
    {"rule", "rule"},               {"risk", "risk"},
    {"reason", "reason"},           {"capabilities", "capabilities"},
    {"quorum", "quorum"},           {"on_timeout", "on_timeout"},
    {"request", "request"},         {"cwd", "request.cwd"},
    {"context", "context"},         {"command", "context.command"},
    {"commands", "context.commands"}, {"paths", "context.paths"},
    {"findings", "context.findings"}, {"recent", "context.recent"},
    {"verdicts", "verdicts"},       {"deadline_s", "*"},
};
#define NPLACEHOLDERS (sizeof(PLACEHOLDERS) / sizeof(PLACEHOLDERS[0]))
#define NAME_MAX_LEN 32

/* At s (just past "{{"): the length of a name followed by "}}", or 0 when it is not one. */
static size_t nameAt(const char *s) {
    size_t n = 0;
    while (n <= NAME_MAX_LEN && ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_')) n++;
    if (n == 0 || n > NAME_MAX_LEN || s[n] != '}' || s[n + 1] != '}') return 0;
    return n;
}

static const placeholder *lookup(const char *s, size_t n) {
    for (size_t i = 0; i < NPLACEHOLDERS; i++)
        if (strlen(PLACEHOLDERS[i].name) == n && !memcmp(PLACEHOLDERS[i].name, s, n)) return &PLACEHOLDERS[i];
    return NULL;
}

int lh_llm_prompt_check(const char *tmpl, char *err, size_t errlen) {
    int line = 1;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '\n') line++;
        if (p[0] != '{' || p[1] != '{') continue;
        size_t n = nameAt(p + 2);
        if (n && !lookup(p + 2, n)) {
            snprintf(err, errlen, "line %d: unknown placeholder {{%.*s}} (see docs/expert-llm.md)", line, (int)n, p + 2);
            return -1;
        }
        if (n) p += n + 3;
    }
    return 0;
}

/* The value at a dotted path of esc (borrowed), or NULL. */
static json_t *valueAt(const json_t *esc, const char *where) {
    char part[32];
    const json_t *v = esc;
    while (*where && v) {
        size_t k = strcspn(where, ".");
        snprintf(part, sizeof(part), "%.*s", (int)k, where);
        v = json_object_get(v, part);
        where += k + (where[k] == '.');
    }
    return (json_t *)v;
}

typedef struct buf { char *p; size_t n, cap; int over; } buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->over) return;
    if (b->n + n > LH_LLM_PROMPT_MAX) { b->over = 1; return; }
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n + 1) c *= 2;
        char *q = realloc(b->p, c);
        if (!q) { b->over = 2; return; }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void putValue(buf *b, const placeholder *ph, const json_t *esc, long long now_ns) {
    if (!strcmp(ph->where, "*")) {   /* deadline_s: whole seconds left */
        json_t *d = json_object_get(esc, "deadline_ns");
        long long left = json_is_integer(d) ? (json_integer_value(d) - now_ns) / 1000000000LL : 0;
        char num[32];
        int k = snprintf(num, sizeof(num), "%lld", left > 0 ? left : 0);
        put(b, num, (size_t)k);
        return;
    }
    json_t *v = valueAt(esc, ph->where);
    if (!v) { put(b, "null", 4); return; }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) { b->over = 2; return; }
    put(b, s, strlen(s));
    free(s);
}

char *lh_llm_prompt_render(const char *tmpl, const json_t *esc, long long now_ns, char *err, size_t errlen) {
    buf b = {0};
    const char *lit = tmpl;
    for (const char *p = tmpl; *p; p++) {
        if (p[0] != '{' || p[1] != '{') continue;
        size_t n = nameAt(p + 2);
        const placeholder *ph = n ? lookup(p + 2, n) : NULL;
        if (!ph) continue;
        put(&b, lit, (size_t)(p - lit));
        putValue(&b, ph, esc, now_ns);
        p += n + 3;
        lit = p + 1;
    }
    put(&b, lit, strlen(lit));
    if (b.over) {
        snprintf(err, errlen, b.over == 1 ? "the rendered prompt is larger than 256 KiB" : "out of memory");
        free(b.p);
        return NULL;
    }
    if (!b.p) return strdup("");
    return b.p;
}

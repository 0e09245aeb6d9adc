/* test_store_canonical.c — the store's canonical JSON (docs/store.md, "Canonical form") is
 * jansson's compact dump with sorted keys, byte for byte, whichever path made it: the scan
 * that keeps canonical text as it is, the one-pass rewriter, or jansson itself. Generated
 * inputs (escapes, Unicode, surrogate pairs, keys that are prefixes or escaped spellings of
 * each other, repeated keys, whitespace, numbers jansson treats specially, broken text) are
 * canonicalised both ways and compared. */
#include "testutil.h"

#include <stdio.h>

#include <jansson.h>

#include "store/store_int.h"

typedef struct gen { unsigned seed; char *p; size_t n, cap; } gen;

static unsigned rnd(gen *g, unsigned n) { return (unsigned)rand_r(&g->seed) % n; }

static void put(gen *g, const char *s) {
    size_t l = strlen(s);
    if (g->n + l + 1 > g->cap) {
        g->cap = (g->n + l + 1) * 2;
        g->p = realloc(g->p, g->cap);
        assert_non_null(g->p);
    }
    memcpy(g->p + g->n, s, l + 1);
    g->n += l;
}

static void ws(gen *g) {
    static const char *const w[] = {"", "", "", "", " ", "\n", "\t ", "\r\n  "};
    put(g, w[rnd(g, 8)]);
}

/* Pieces of strings: plain text, UTF-8, every escape jansson reads, every escape jansson
 * writes (\u00XX in upper case for controls without a short form), and the other spellings
 * of those (lower-case hex, \u0008 for \b, \u0041, \/), which the fast path must leave alone. */
static void strPiece(gen *g) {
    static const char *const p[] = {
        "a", "b", "ab", "key", "A", "z", "_", "0", " ", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\x7f", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0061", "\\u00e9", "\\u00E9",
        "\\u001f", "\\u0001", "\\u007f", "\\u2028", "\\ud83d\\ude00", "\\uD83D\\uDE00", "\\u20ac", "\\u0000",
        "\\ud83d", "\\ude00", "\\x", "\\u12", "'", "{", "}", "[", "]", ":", ",",
        "\\u001F", "\\u001B", "\\u000B", "\\u000b", "\\u000E", "\\u0010", "\\u0008", "\\u0009", "\\u000a",
        "\\u000A", "\\u000c", "\\u000D", "\\u0022", "\\u005c", "\\u005C", "\\u002F", "\\u0041", "\\u0020",
        "\\u0100", "\\u001", "\\U001F", "\x1f",
    };
    put(g, p[rnd(g, sizeof(p) / sizeof(p[0]))]);
}

static void str(gen *g, int maxPieces) {
    put(g, "\"");
    for (unsigned i = 0, n = rnd(g, (unsigned)maxPieces + 1); i < n; i++) strPiece(g);
    put(g, "\"");
}

static void value(gen *g, int depth);

static void object(gen *g, int depth) {
    put(g, "{");
    ws(g);
    unsigned n = rnd(g, 6);
    for (unsigned i = 0; i < n; i++) {
        if (i) { put(g, ","); ws(g); }
        str(g, 2); /* short keys, so prefixes and repeats are common */
        ws(g);
        put(g, ":");
        ws(g);
        value(g, depth + 1);
        ws(g);
    }
    put(g, "}");
}

static void value(gen *g, int depth) {
    static const char *const nums[] = {"0", "1", "-1", "42", "-0", "007", "1.5", "1e3", "-2E-2", "0.0",
                                       "123456789012345678", "1234567890123456789", "-123456789012345678",
                                       "99999999999999999999", "1.0", "2.5e+10", "-"};
    unsigned k = rnd(g, depth > 4 ? 6 : 9);
    switch (k) {
    case 0: case 1: str(g, 6); break;
    case 2: case 3: put(g, nums[rnd(g, sizeof(nums) / sizeof(nums[0]))]); break;
    case 4: put(g, rnd(g, 2) ? "true" : "false"); break;
    case 5: put(g, "null"); break;
    case 6: case 7: object(g, depth); break;
    default: {
        put(g, "[");
        ws(g);
        for (unsigned i = 0, n = rnd(g, 4); i < n; i++) {
            if (i) { put(g, ","); ws(g); }
            value(g, depth + 1);
            ws(g);
        }
        put(g, "]");
    }
    }
}

/* What jansson makes of the text: its canonical dump, or NULL when it refuses it. */
static char *viaJansson(const char *s, size_t n) {
    json_error_t je;
    json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    char *out = root && json_is_object(root) ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return out;
}

/* ---------- The fast path ----------
 *
 * Generated text is rarely canonical as it stands (whitespace, unsorted keys), so the scan
 * is tested on jansson's own output, which must be kept as it is unless a key has an escape
 * (keys on the fast path have none), and on that output with one character or escape spelt
 * another valid way, which the scan must keep only if it is still jansson's bytes. */
enum { NESC = 8 };
static const char *const escName[NESC] = {"\\\"", "\\\\", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00XX"};
typedef struct fastStats { long tried, kept, respelt, respelt_kept; long esc[NESC]; } fastStats;

/* Which escapes of escName the text has inside strings (bit k for escName[k]). */
static unsigned escapesIn(const char *s) {
    static const char after[] = "\"\\bfnrtu"; /* the byte after the backslash, in escName's order */
    unsigned m = 0;
    for (const char *p = s; *p; p++) {
        if (*p != '\\') continue;
        const char *k = strchr(after, p[1]);
        if (k) m |= 1u << (k - after);
        p++;
    }
    return m;
}

/* The code point of a two-character escape such as \n. */
static unsigned shortEscape(char c) {
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return (unsigned char)c; /* '"', '\\' */
    }
}

/* 1 when a key (a string followed by ':') of canonical text has an escape. */
static int keyHasEscape(const char *s) {
    for (const char *p = s; *p; p++) {
        if (*p != '"') continue;
        int esc = 0;
        for (p++; *p != '"'; p++)
            if (*p == '\\') { esc = 1; p++; }
        if (p[1] == ':' && esc) return 1;
    }
    return 0;
}

/* Copy of canonical text s with the character or escape that starts at a random place
 * inside a string spelt another way JSON allows: \u00xx or \u00XX, \/ for '/'. */
static char *respell(gen *g, const char *s) {
    size_t n = strlen(s), at = rnd(g, (unsigned)n), i = 0, len = 0;
    int in = 0;
    for (; i < n; i += len) { /* find the piece at or after `at` inside a string */
        len = s[i] == '\\' ? (s[i + 1] == 'u' ? 6 : 2) : 1;
        if (s[i] == '"') { in = !in; continue; }
        if (in && i >= at && (unsigned char)s[i] < 0x80) break;
    }
    if (i >= n) return NULL;
    unsigned cp = (unsigned char)s[i];
    if (len == 2) cp = shortEscape(s[i + 1]);
    else if (len == 6) cp = (unsigned)strtoul((char[]){s[i + 4], s[i + 5], 0}, NULL, 16);
    char *out = malloc(n + 8), sp[8];
    assert_non_null(out);
    if (cp == '/' && rnd(g, 2)) snprintf(sp, sizeof(sp), "\\/");
    else snprintf(sp, sizeof(sp), rnd(g, 2) ? "\\u%04x" : "\\u%04X", cp);
    memcpy(out, s, i);
    strcpy(out + i, sp);
    strcat(out, s + i + len);
    return out;
}

static void fastPathChecks(gen *g, int i, const char *want, fastStats *st) {
    size_t n = strlen(want);
    if (!keyHasEscape(want)) {
        st->tried++;
        if (lh_store_is_canonical(want, n, 64)) {
            st->kept++;
            unsigned m = escapesIn(want);
            for (int k = 0; k < NESC; k++) st->esc[k] += m >> k & 1;
        }
    }
    char *v = respell(g, want);
    if (!v) return;
    st->respelt++;
    if (lh_store_is_canonical(v, strlen(v), 64)) {
        st->respelt_kept++;
        char *j = viaJansson(v, strlen(v));
        if (!j || strcmp(j, v)) fail_msg("input %d: the fast path kept %s\n  jansson: %s", i, v, j ? j : "(refused)");
        free(j);
    }
    free(v);
}

static void test_rewriter_matches_jansson(void **state) {
    (void)state;
    gen g = {.seed = 20261127};
    fastStats fast = {0};
    long rewritten = 0, total = 0, accepted = 0;
    for (int i = 0; i < 200000; i++) {
        g.n = 0;
        ws(&g);
        object(&g, 0);
        ws(&g);
        if (rnd(&g, 10) == 0 && g.n > 2) { /* break it: cut it short, or change one byte */
            if (rnd(&g, 2)) g.p[g.n = rnd(&g, (unsigned)g.n)] = 0;
            else g.p[rnd(&g, (unsigned)g.n)] = "{}[]\",: x\\"[rnd(&g, 10)];
        }
        if (!lh_store_utf8_valid(g.p, g.n)) continue; /* checked before either path runs */
        total++;
        char *want = viaJansson(g.p, g.n), *got = NULL, err[256];
        accepted += want != NULL;
        if (lh_canonical_rewrite(g.p, g.n, 64, &got)) {
            rewritten++;
            if (!want || strcmp(want, got))
                fail_msg("input %d: %s\n  rewriter: %s\n  jansson:  %s", i, g.p, got, want ? want : "(refused)");
            free(got);
        }
        int rc = lh_store_canonical_json(g.p, g.n, 64, &got, err, sizeof(err));
        if (want ? rc != 0 || strcmp(want, got) : rc == 0)
            fail_msg("input %d: %s\n  store: %s\n  jansson: %s", i, g.p, rc ? err : got, want ? want : "(refused)");
        free(got);
        if (want) fastPathChecks(&g, i, want, &fast);
        free(want);
    }
    free(g.p);
    /* The fast path must keep jansson's own output, escapes and all, as it is. */
    for (int k = 0; k < NESC; k++)
        if (!fast.esc[k]) fail_msg("the fast path never kept a string with jansson's escape %s", escName[k]);
    if (fast.kept < fast.tried / 2)
        fail_msg("the fast path kept only %ld of jansson's %ld outputs", fast.kept, fast.tried);
    printf("# fast path: kept %ld of jansson's %ld outputs; %ld respelt variants checked, %ld of them kept\n",
           fast.kept, fast.tried, fast.respelt, fast.respelt_kept);
    /* The rewriter must really carry the common cases, not leave everything to jansson. */
    if (rewritten < accepted / 3)
        fail_msg("the rewriter took only %ld of the %ld inputs jansson accepts", rewritten, accepted);
    printf("# %ld generated inputs, %ld accepted by jansson, %ld rewritten without it; all matched\n", total,
           accepted, rewritten);
}

/* The bridge's events: keys in its own order, escapes in commands and reasons. */
static void test_bridge_shaped_event(void **state) {
    (void)state;
    const char *in = "{\"route\":\"validate\",\"tool\":\"Bash\",\"cwd\":\"/home/dev/app\",\"role\":\"builder\","
                     "\"command\":\"find . -name \\\"*.log\\\" -exec rm -f {} +\",\"decision\":{\"id\":\"x1\","
                     "\"decision\":\"deny\",\"reason\":\"line\\nbreak \\u00e9\\/\",\"latency_us\":12}}";
    char *out = NULL;
    assert_int_equal(lh_canonical_rewrite(in, strlen(in), 64, &out), 1);
    assert_string_equal(out, "{\"command\":\"find . -name \\\"*.log\\\" -exec rm -f {} +\",\"cwd\":\"/home/dev/app\","
                             "\"decision\":{\"decision\":\"deny\",\"id\":\"x1\",\"latency_us\":12,"
                             "\"reason\":\"line\\nbreak \xc3\xa9/\"},\"role\":\"builder\",\"route\":\"validate\","
                             "\"tool\":\"Bash\"}");
    char *want = viaJansson(in, strlen(in));
    assert_string_equal(out, want);
    free(want);
    free(out);
    /* a repeated key (spelt two ways) is left to jansson, which refuses it */
    in = "{\"a\":1,\"\\u0061\":2}";
    assert_int_equal(lh_canonical_rewrite(in, strlen(in), 64, &out), 0);
    assert_null(out);
    /* deeper than the bound: left to the caller's depth check and jansson */
    in = "{\"a\":{\"b\":{\"c\":{}}}}";
    assert_int_equal(lh_canonical_rewrite(in, strlen(in), 2, &out), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridge_shaped_event),
        cmocka_unit_test(test_rewriter_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

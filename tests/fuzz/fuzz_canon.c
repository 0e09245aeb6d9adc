/* fuzz_canon.c — differential libFuzzer target: the store's canonical JSON
 * (lh_store_canonical_json, src/store/event.c: a recogniser for canonical text, a
 * rewriter without a tree, then jansson) against jansson alone, which defines the form
 * (docs/store.md, "Canonical form"): valid UTF-8, nesting within max_depth, an object
 * without duplicate keys, written compact with sorted keys. Both must accept the same
 * inputs and write the same bytes; the canonical form of canonical text is itself. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* Nesting of [ and { outside strings: the depth the store's limit counts. */
static int refDepth(const char *s, size_t len) {
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') { if (++depth > max) max = depth; }
        else if (c == ']' || c == '}') depth--;
    }
    return max;
}

static char *refCanonical(const char *json, size_t len, int max_depth) {
    if (!lh_store_utf8_valid(json, len) || refDepth(json, len) > max_depth) return NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) { json_decref(root); return NULL; }
    char *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!out) abort();
    return out;
}

static void differ(const char *why, const uint8_t *data, size_t size, const char *a, const char *b) {
    fprintf(stderr, "canonical JSON differs (%s) on %zu bytes:\n%.*s\n  store:   %s\n  jansson: %s\n", why, size,
            (int)(size < 2000 ? size : 2000), (const char *)data, a ? a : "(refused)", b ? b : "(refused)");
    abort();
}

static void one(const uint8_t *data, size_t size, int max_depth) {
    char *out = NULL, err[256] = "";
    int rc = lh_store_canonical_json((const char *)data, size, max_depth, &out, err, sizeof(err));
    char *ref = refCanonical((const char *)data, size, max_depth);
    if ((rc == 0) != (ref != NULL)) differ("accept/refuse", data, size, out, ref);
    if (rc != 0 && (out || !err[0])) abort();
    if (rc == 0) {
        if (strcmp(out, ref)) differ("bytes", data, size, out, ref);
        char *again = NULL;
        if (lh_store_canonical_json(out, strlen(out), max_depth, &again, err, sizeof(err)) != 0 || strcmp(again, out))
            differ("not a fixed point", (const uint8_t *)out, strlen(out), again, out);
        free(again);
    }
    free(out);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(data, size, LH_STORE_MAX_JSON_DEPTH_DEFAULT);
    one(data, size, 3);
    return 0;
}

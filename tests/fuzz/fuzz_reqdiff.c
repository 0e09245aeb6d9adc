/* fuzz_reqdiff.c — differential libFuzzer target: the hand-written request parser
 * (src/engine/request.c) against the jansson parser it replaced (request_ref.h, the same
 * reference tests/unit/test_request_json.c uses). Both must accept and refuse the same
 * bytes, fill every field of lh_request alike, and give the same message for a refusal
 * that is not a syntax error (syntax messages name jansson's words, not ours). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request_ref.h"

static lh_arena *A1, *A2;
static const char kSyntax[] = "invalid JSON at line ";

static void differ(const char *why, const char *e1, const char *e2) {
    fprintf(stderr, "parsers differ (%s)\n  jansson: %s\n  new:     %s\n", why, e1, e2);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!A1) {
        A1 = lh_arena_new(1 << 16);
        A2 = lh_arena_new(1 << 16);
        if (!A1 || !A2) abort();
    }
    lh_arena_reset(A1);
    lh_arena_reset(A2);
    lh_request r1, r2;
    char e1[512] = "", e2[512] = "";
    int rc1 = refParse(A1, (const char *)data, size, &r1, e1, sizeof(e1));
    int rc2 = lh_request_parse_json(A2, (const char *)data, size, &r2, e2, sizeof(e2));
    if (rc1 != rc2) differ("accept/refuse", rc1 ? e1 : "ok", rc2 ? e2 : "ok");
    const char *field = diffRequest(&r1, &r2);
    if (field) differ(field, "", "");
    if (rc1 != 0) {
        int syn1 = !strncmp(e1, kSyntax, sizeof(kSyntax) - 1), syn2 = !strncmp(e2, kSyntax, sizeof(kSyntax) - 1);
        if (syn1 != syn2 || (!syn1 && strcmp(e1, e2))) differ("error message", e1, e2);
    }
    return 0;
}

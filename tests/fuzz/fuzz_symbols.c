/* fuzz_symbols.c — libFuzzer target: the symbol finder (src/util/symbols.c) and anchor
 * resolution (src/util/anchor.c) on arbitrary source. The first byte picks the language
 * (C, Python, JS/TS, Go, shell), the rest is the file. Checks: at most `max` symbols, each
 * with a non-empty name, a known kind and 1 <= start <= end <= the file's lines; and an
 * anchor made on any symbol, or on any line, resolves in the same version to `exact` at the
 * same lines (a note on an unchanged file never moves). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/anchor.h"
#include "util/symbols.h"

#define MAXS 64

static void check(int ok) {
    if (!ok) abort();
}

static void anchorSelf(const char *sym, lh_sym_kind kind, int start, int end, const uint32_t *h, int n,
                       const lh_symbol *s, int ns) {
    lh_anchor a = {0};
    a.symbol = sym;
    a.kind = kind;
    a.start = start;
    a.end = end;
    a.body = h + start - 1;
    a.nbefore = start - 1 < LH_ANCHOR_CONTEXT ? start - 1 : LH_ANCHOR_CONTEXT;
    a.before = h + start - 1 - a.nbefore;
    a.nafter = n - end < LH_ANCHOR_CONTEXT ? n - end : LH_ANCHOR_CONTEXT;
    a.after = h + end;
    lh_anchor_result r;
    check(lh_anchor_resolve(&a, h, n, s, ns, &r) == 0);
    check(r.confidence == LH_ANCHOR_EXACT && r.start == start && r.end == end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const lh_src_lang langs[] = {LH_SRC_C, LH_SRC_PYTHON, LH_SRC_JS, LH_SRC_GO, LH_SRC_SHELL};
    lh_src_lang lang = langs[data[0] % 5];
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    lh_symbol s[MAXS];
    int ns = lh_symbols_find(lang, src, len, s, MAXS);
    check(ns >= 0 && ns <= MAXS);
    uint32_t *h;
    int n;
    check(lh_anchor_lines(src, len, &h, &n) == 0);
    for (int i = 0; i < ns; i++) {
        size_t nl = strnlen(s[i].name, sizeof(s[i].name));
        check(nl > 0 && nl < sizeof(s[i].name));
        check(s[i].kind == LH_SYM_FUNCTION || s[i].kind == LH_SYM_CLASS || s[i].kind == LH_SYM_METHOD);
        check(s[i].start >= 1 && s[i].start <= s[i].end && s[i].end <= (n > 0 ? n : 1));
    }
    /* The first symbol, the last line: unchanged, so exact where they are. (A symbol
     * whose name another symbol of its kind shares nearer to it is not checked.) */
    if (ns > 0 && n > 0) {
        int dup = 0;
        for (int i = 1; i < ns; i++) dup |= s[i].kind == s[0].kind && !strcmp(s[i].name, s[0].name);
        if (!dup) anchorSelf(s[0].name, s[0].kind, s[0].start, s[0].end, h, n, s, ns);
    }
    if (n > 0) anchorSelf(NULL, LH_SYM_FUNCTION, n, n, h, n, s, ns);
    free(h);
    return 0;
}

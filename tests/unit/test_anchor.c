/* test_anchor.c — re-resolving annotation anchors (util/anchor.h): exact when untouched,
 * moved after edits above, moved by context after a rename, lost after a delete. The
 * bridge's routes over it: tests/integration/annotations.sh. */
#include "testutil.h"

#include <stdio.h>

#include "util/anchor.h"

/* An anchor made on version v0 (C) at symbol name (or lines start..end when name is NULL),
 * resolved in v1. */
static lh_anchor_result resolveIn(const char *v0, const char *name, int start, int end, const char *v1) {
    lh_symbol s0[32], s1[32];
    int n0s = lh_symbols_find(LH_SRC_C, v0, strlen(v0), s0, 32);
    int n1s = lh_symbols_find(LH_SRC_C, v1, strlen(v1), s1, 32);
    assert_true(n0s >= 0 && n1s >= 0);
    lh_anchor a = {0};
    if (name) {
        int i = 0;
        while (i < n0s && strcmp(s0[i].name, name)) i++;
        assert_true(i < n0s);
        a.symbol = name;
        a.kind = s0[i].kind;
        start = s0[i].start;
        end = s0[i].end;
    }
    uint32_t *h0, *h1;
    int n0, n1;
    assert_int_equal(lh_anchor_lines(v0, strlen(v0), &h0, &n0), 0);
    assert_int_equal(lh_anchor_lines(v1, strlen(v1), &h1, &n1), 0);
    a.start = start;
    a.end = end;
    a.body = h0 + start - 1;
    a.nbefore = start - 1 < LH_ANCHOR_CONTEXT ? start - 1 : LH_ANCHOR_CONTEXT;
    a.before = h0 + start - 1 - a.nbefore;
    a.nafter = n0 - end < LH_ANCHOR_CONTEXT ? n0 - end : LH_ANCHOR_CONTEXT;
    a.after = h0 + end;
    lh_anchor_result r;
    assert_int_equal(lh_anchor_resolve(&a, h1, n1, s1, n1s, &r), 0);
    free(h0);
    free(h1);
    return r;
}

static const char *V0 =
    "#include <stdio.h>\n"
    "\n"
    "static int helper(int x) {\n"
    "    return x * 2;\n"
    "}\n"
    "\n"
    "int compute(int a, int b) {\n"      /* 7 */
    "    int s = helper(a);\n"
    "    s += helper(b);\n"
    "    return s;\n"
    "}\n";                               /* 11 */

static void test_lines_hash(void **state) {
    (void)state;
    uint32_t *h;
    int n;
    assert_int_equal(lh_anchor_lines("a\n  b  \nc", 9, &h, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(h[1], lh_anchor_line_hash("b", 1));   /* blanks at the ends do not count */
    free(h);
    assert_int_equal(lh_anchor_lines("", 0, &h, &n), 0);
    assert_int_equal(n, 0);
    assert_null(h);
}

static void test_exact_when_untouched(void **state) {
    (void)state;
    lh_anchor_result r = resolveIn(V0, "compute", 0, 0, V0);
    assert_int_equal(r.confidence, LH_ANCHOR_EXACT);
    assert_int_equal(r.by, LH_FOUND_SYMBOL);
    assert_int_equal(r.start, 7);
    assert_int_equal(r.end, 11);
    r = resolveIn(V0, NULL, 8, 9, V0);
    assert_int_equal(r.confidence, LH_ANCHOR_EXACT);
    assert_int_equal(r.start, 8);
}

static void test_moved_by_edits_above(void **state) {
    (void)state;
    const char *v1 =
        "#include <stdio.h>\n"
        "#include <stdlib.h>\n"
        "/* two more lines */\n"
        "\n"
        "static int helper(int x) {\n"
        "    return x * 2;\n"
        "}\n"
        "\n"
        "int compute(int a, int b) {\n"   /* 9 */
        "    int s = helper(a);\n"
        "    s += helper(b);\n"
        "    return s;\n"
        "}\n";
    lh_anchor_result r = resolveIn(V0, "compute", 0, 0, v1);
    assert_int_equal(r.confidence, LH_ANCHOR_MOVED);
    assert_int_equal(r.by, LH_FOUND_SYMBOL);
    assert_int_equal(r.start, 9);
    assert_int_equal(r.end, 13);
    r = resolveIn(V0, NULL, 8, 9, v1);   /* a lines anchor follows its text */
    assert_int_equal(r.confidence, LH_ANCHOR_MOVED);
    assert_int_equal(r.by, LH_FOUND_CONTEXT);
    assert_int_equal(r.start, 10);
    assert_int_equal(r.end, 11);
}

static void test_moved_by_context_after_rename(void **state) {
    (void)state;
    const char *v1 =
        "#include <stdio.h>\n"
        "\n"
        "int total(int a, int b) {\n"     /* renamed and moved up */
        "    int s = helper(a);\n"
        "    s += helper(b);\n"
        "    return s;\n"
        "}\n"
        "\n"
        "static int helper(int x) {\n"
        "    return x * 2;\n"
        "}\n";
    lh_anchor_result r = resolveIn(V0, "compute", 0, 0, v1);
    assert_int_equal(r.confidence, LH_ANCHOR_MOVED);
    assert_int_equal(r.by, LH_FOUND_CONTEXT);
    assert_int_equal(r.start, 3);
    assert_int_equal(r.end, 7);
    assert_string_equal(r.symbol, "total");
}

static void test_lost_when_deleted(void **state) {
    (void)state;
    const char *v1 =
        "#include <stdio.h>\n"
        "\n"
        "static int helper(int x) {\n"
        "    return x * 2;\n"
        "}\n"
        "\n";
    lh_anchor_result r = resolveIn(V0, "compute", 0, 0, v1);
    assert_int_equal(r.confidence, LH_ANCHOR_LOST);
    assert_int_equal(r.start, 0);
    r = resolveIn(V0, NULL, 8, 10, v1);
    assert_int_equal(r.confidence, LH_ANCHOR_LOST);
    /* lines that are everywhere (a lone brace) say nothing: not found by them */
    const char *braces = "a\nb\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n";
    r = resolveIn("int f(void) {\n}\n", NULL, 2, 2, braces);
    assert_int_equal(r.confidence, LH_ANCHOR_LOST);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_hash),           cmocka_unit_test(test_exact_when_untouched),
        cmocka_unit_test(test_moved_by_edits_above), cmocka_unit_test(test_moved_by_context_after_rename),
        cmocka_unit_test(test_lost_when_deleted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

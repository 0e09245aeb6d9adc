/* test_growbuf.c — util/growbuf.h: appends keep a NUL after the bytes, grow the capacity,
 * and refuse (leaving the buffer as it was) past the bound, including at its exact edge. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "util/growbuf.h"

static void test_append_grows_and_terminates(void **st) {
    (void)st;
    char *b = NULL;
    size_t len = 0, cap = 0;
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, 1 << 20, "abc", 3), 0);
    assert_int_equal(len, 3);
    assert_string_equal(b, "abc");
    char big[10000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, 1 << 20, big, sizeof(big)), 0);
    assert_int_equal(len, 10003);
    assert_true(cap >= len + 1);
    assert_int_equal(b[len], 0);
    assert_int_equal(b[3], 'x');
    free(b);
}

static void test_bound_is_exact_and_refusal_changes_nothing(void **st) {
    (void)st;
    char *b = NULL;
    size_t len = 0, cap = 0;
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, 8, "12345678", 8), 0);   /* exactly max */
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, 8, "9", 1), -1);          /* one past */
    assert_int_equal(len, 8);
    assert_string_equal(b, "12345678");
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, 8, "", 0), 0);
    /* an n so large that len + n wraps around must be refused, not wrap */
    assert_int_equal(lh_growbuf_append(&b, &len, &cap, (size_t)-1, "x", (size_t)-1 - 3), -1);
    assert_int_equal(len, 8);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows_and_terminates),
        cmocka_unit_test(test_bound_is_exact_and_refusal_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

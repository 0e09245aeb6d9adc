/* check.c — the failure of an asserted invariant; see check.h. */
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>

static void (*onFail)(void);   /* set once, before threads (lh_assert_set_exit) */

void lh_assert_set_exit(void (*fn)(void)) { onFail = fn; }

_Noreturn void lh_assert_fail(const char *cond, const char *file, int line, const char *func) {
    fprintf(stderr, "lighthouse: %s:%d: %s: assertion failed: %s\n", file, line, func, cond);
    fflush(stderr);
    if (onFail) onFail();
    abort();
}

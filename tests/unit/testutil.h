/* testutil.h — shared bits for the cmocka unit tests. */
#ifndef LH_TESTUTIL_H
#define LH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* Directory of the build (LH_BUILD, set by scripts/run-tests.sh) or "build". */
static inline const char *lh_test_build_dir(void) {
    const char *b = getenv("LH_BUILD");
    return b && *b ? b : "build";
}

#endif

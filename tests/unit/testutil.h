/* testutil.h — shared bits for the cmocka unit tests. */
#ifndef LH_TESTUTIL_H
#define LH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Directory of the build (LH_BUILD, set by scripts/run-tests.sh) or "build". */
static inline const char *lh_test_build_dir(void) {
    const char *b = getenv("LH_BUILD");
    return b && *b ? b : "build";
}

/* A fresh directory "/tmp/<prefix>.XXXXXX" in dir[n] for a store test, with the
 * store's environment knobs cleared (secret, checkpoints, accepting a cut log).
 * Returns 0, or -1. Remove it with lh_test_rmtree. */
static inline int lh_test_store_dir(char *dir, size_t n, const char *prefix) {
    snprintf(dir, n, "/tmp/%s.XXXXXX", prefix);
    if (!mkdtemp(dir)) return -1;
    unsetenv("LIGHTHOUSE_SECRET");
    unsetenv("LIGHTHOUSE_CHECKPOINTS");
    unsetenv("LIGHTHOUSE_CHECKPOINT_INTERVAL_MS");
    unsetenv("LIGHTHOUSE_ACCEPT_CUT_LOG");
    return 0;
}

static inline int lh_test_rmtree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif

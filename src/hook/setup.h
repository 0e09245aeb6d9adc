/* setup.h — building an engine from a policy file, shared by `lighthouse check`,
 * `lighthouse hook` and `lighthouse-hook`. */
#ifndef LH_SETUP_H
#define LH_SETUP_H

#include <stdio.h>

#include "engine/engine.h"

/* Load the policy at path (NULL: $LIGHTHOUSE_POLICY if set, else the built-in default)
 * and build an engine with a cache of cache_entries. On error prints each problem as
 * "file:line:col: message" to diag and returns NULL. */
lh_engine *lh_setup_engine(const char *path, size_t cache_entries, FILE *diag);

/* The request's home: $HOME when the request did not name one. */
const char *lh_setup_home(void);

#endif

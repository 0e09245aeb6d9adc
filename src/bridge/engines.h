/* engines.h — the engine registry: the bridge's current engine, swapped whole on a policy
 * change, and the references that worker threads hold to it.
 *
 * Owns: eng_mu (guards cur and every engref's refs) and eng_gen (bumped by each install).
 * No other file touches either. The hot path, lh_engines_get, is one atomic load of the
 * generation when the thread's engine is still current; the mutex is taken only by a
 * thread's first request after a change. An engref is freed by its last release; the
 * cache counters of a retired engine are kept in the metrics (lh_metrics_cache_retired). */
#ifndef LH_BRIDGE_ENGINES_H
#define LH_BRIDGE_ENGINES_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/metrics.h"
#include "engine/engine.h"

/* An engine with the policy text it was built from. */
typedef struct lh_engref {
    lh_engine *e;
    char *yaml;            /* policy YAML (malloc'd) */
    size_t yaml_len;
    char revision[160];
    int refs;              /* guarded by engines.c's eng_mu */
} lh_engref;

/* A thread's reference: the engine it decides with and the generation it was current at.
 * Zeroed: none. Owned by its thread; released by lh_engines_release. */
typedef struct lh_engines_hold {
    lh_engref *eng;
    uint64_t gen;
} lh_engines_hold;

typedef struct lh_engines lh_engines;

/* cache_entries: each engine's decision cache; m (borrowed) gets retired engines' cache
 * counters. NULL when out of memory. */
lh_engines *lh_engines_new(size_t cache_entries, lh_metrics *m);
/* Release the current engine; every hold must have been released first. NULL: no-op. */
void lh_engines_free(lh_engines *g);
/* Build an engine from YAML (NULL: the built-in default) into a new engref that nobody
 * holds yet. NULL with a message that names the policy's lines. */
lh_engref *lh_engines_build(lh_engines *g, const char *yaml, size_t len, const char *name, char *err, size_t errlen);
/* Free an engref that was never installed. */
void lh_engref_discard(lh_engref *r);
/* Make r (from lh_engines_build, now owned by the registry) the current engine. Threads
 * move to it at their next lh_engines_get. */
void lh_engines_install(lh_engines *g, lh_engref *r);
/* The current engine for a thread's hold (updated when a newer one is installed). Never
 * NULL once an engine is installed. */
lh_engref *lh_engines_get(lh_engines *g, lh_engines_hold *h);
/* Drop a hold's reference (a thread's end). */
void lh_engines_release(lh_engines *g, lh_engines_hold *h);
/* A copy of the current revision ("" before the first install). */
void lh_engines_revision(lh_engines *g, char *out, size_t cap);
/* The current engine's cache counters (0 before the first install). */
void lh_engines_cache_stats(lh_engines *g, uint64_t *hits, uint64_t *lookups);

#endif

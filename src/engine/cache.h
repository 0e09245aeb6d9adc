/* cache.h — the decision cache: bounded, sharded, set-associative.
 *
 * Keyed by the whole normalised request (tool, input, cwd, home, agent, role) and the
 * policy revision. A hit compares the full key, so a hash collision can never return
 * another request's decision. Each shard has its own lock: threads rarely contend.
 * Entries are replaced least-recently-used within their 4-way set. */
#ifndef LH_CACHE_H
#define LH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

typedef struct lh_cache lh_cache;

/* The part of a decision the cache keeps. Strings point into the entry. */
typedef struct lh_cached {
    lh_action action;
    lh_risk risk;
    lh_tier tier;
    const char *rule, *reason, *instead;
} lh_cached;

#define LH_CACHE_MAX_KEY 2048  /* longer requests are not cached */

/* capacity is rounded up to a multiple of the set size. NULL on OOM. */
lh_cache *lh_cache_new(size_t capacity, uint64_t seed);
void lh_cache_free(lh_cache *c);

/* Look key up; on a hit copy the strings into the arena and fill *out. 1 hit, 0 miss. */
int lh_cache_get(lh_cache *c, const char *key, size_t klen, lh_arena *a, lh_cached *out);
/* Store a decision under key (copies everything). */
void lh_cache_put(lh_cache *c, const char *key, size_t klen, const lh_cached *d);
void lh_cache_get_stats(lh_cache *c, lh_cache_stats *out);

#endif

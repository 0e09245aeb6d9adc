/* ratelimit.h — per-agent token buckets.
 *
 * Buckets live in a hash table cut into 64 shards, each with its own mutex, so agents
 * rarely share a lock and no lock is taken by every request. The table is bounded: when
 * a shard is full, buckets idle long enough to be full again are reused. */
#ifndef LH_BRIDGE_RATELIMIT_H
#define LH_BRIDGE_RATELIMIT_H

#include <stdint.h>

typedef struct lh_ratelimit lh_ratelimit;

/* rate: tokens per second (0 disables the limit); burst: bucket size. */
lh_ratelimit *lh_ratelimit_new(double rate, double burst);
void lh_ratelimit_free(lh_ratelimit *rl);
/* Take one token for agent at now_ns. Returns 0 when allowed; otherwise 1 and
 * *retry_after_s is the whole number of seconds until a token is available. */
int lh_ratelimit_take(lh_ratelimit *rl, const char *agent, uint64_t now_ns, int *retry_after_s);

#endif

/* cache.c — sharded set-associative decision cache; see cache.h. */
#include "engine/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define WAYS 4
#define SHARDS 16

typedef struct entry {
    uint64_t hash;
    uint32_t klen;
    uint32_t stamp;       /* last use, for LRU within the set */
    char *blob;           /* key, then rule\0reason\0instead\0 (one malloc) */
    lh_action action;
    lh_risk risk;
    lh_tier tier;
    uint16_t rule_off, reason_off, instead_off; /* 0xffff: NULL */
} entry;

typedef struct shard {
    pthread_mutex_t mu;
    uint32_t clock;
    uint64_t lookups, hits, inserts, evictions;
    size_t used;
    char pad[64];
} shard;

struct lh_cache {
    entry *entries;       /* nsets * WAYS */
    size_t nsets;         /* per shard */
    uint64_t seed;
    shard shards[SHARDS];
};

lh_cache *lh_cache_new(size_t capacity, uint64_t seed) {
    lh_cache *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    size_t per_shard = (capacity + SHARDS - 1) / SHARDS;
    c->nsets = (per_shard + WAYS - 1) / WAYS;
    if (c->nsets == 0) c->nsets = 1;
    c->entries = calloc(c->nsets * WAYS * SHARDS, sizeof(entry));
    if (!c->entries) { free(c); return NULL; }
    c->seed = seed;
    for (int i = 0; i < SHARDS; i++) pthread_mutex_init(&c->shards[i].mu, NULL);
    return c;
}

void lh_cache_free(lh_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nsets * WAYS * SHARDS; i++) free(c->entries[i].blob);
    for (int i = 0; i < SHARDS; i++) pthread_mutex_destroy(&c->shards[i].mu);
    free(c->entries);
    free(c);
}

static entry *setFor(lh_cache *c, uint64_t h, shard **sh) {
    size_t s = (size_t)(h >> 60) & (SHARDS - 1);
    *sh = &c->shards[s];
    size_t set = (size_t)(h % c->nsets);
    return &c->entries[(s * c->nsets + set) * WAYS];
}

static const char *field(const entry *e, uint16_t off) {
    return off == 0xffff ? NULL : e->blob + off;
}

int lh_cache_get(lh_cache *c, const char *key, size_t klen, lh_arena *a, lh_cached *out) {
    if (klen > LH_CACHE_MAX_KEY) return 0;
    uint64_t h = lh_hash(key, klen, c->seed);
    shard *sh;
    entry *set = setFor(c, h, &sh);
    pthread_mutex_lock(&sh->mu);
    sh->lookups++;
    for (int w = 0; w < WAYS; w++) {
        entry *e = &set[w];
        if (e->blob && e->hash == h && e->klen == klen && !memcmp(e->blob, key, klen)) {
            e->stamp = ++sh->clock;
            sh->hits++;
            out->action = e->action;
            out->risk = e->risk;
            out->tier = e->tier;
            /* copy out under the lock: the entry may be replaced after we unlock */
            const char *r = field(e, e->rule_off), *re = field(e, e->reason_off),
                       *in = field(e, e->instead_off);
            out->rule = r ? lh_arena_strdup(a, r) : NULL;
            out->reason = re ? lh_arena_strdup(a, re) : NULL;
            out->instead = in ? lh_arena_strdup(a, in) : NULL;
            pthread_mutex_unlock(&sh->mu);
            return 1;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    return 0;
}

void lh_cache_put(lh_cache *c, const char *key, size_t klen, const lh_cached *d) {
    if (klen > LH_CACHE_MAX_KEY) return;
    size_t lr = d->rule ? strlen(d->rule) + 1 : 0, lre = d->reason ? strlen(d->reason) + 1 : 0,
           lin = d->instead ? strlen(d->instead) + 1 : 0;
    if (klen + lr + lre + lin >= 0xfff0) return;
    /* On the decision path: the fault injector covers it (test_oom); a failed insert
     * only leaves the decision uncached. */
    char *blob = lh_fault_step() ? NULL : malloc(klen + lr + lre + lin);
    if (!blob) return;
    memcpy(blob, key, klen);
    size_t o = klen;
    entry n = {0};
    n.rule_off = n.reason_off = n.instead_off = 0xffff;
    if (lr) { memcpy(blob + o, d->rule, lr); n.rule_off = (uint16_t)o; o += lr; }
    if (lre) { memcpy(blob + o, d->reason, lre); n.reason_off = (uint16_t)o; o += lre; }
    if (lin) { memcpy(blob + o, d->instead, lin); n.instead_off = (uint16_t)o; }
    uint64_t h = lh_hash(key, klen, c->seed);
    n.hash = h;
    n.klen = (uint32_t)klen;
    n.blob = blob;
    n.action = d->action;
    n.risk = d->risk;
    n.tier = d->tier;
    shard *sh;
    entry *set = setFor(c, h, &sh);
    pthread_mutex_lock(&sh->mu);
    int victim = 0;
    for (int w = 0; w < WAYS; w++) {
        entry *e = &set[w];
        if (e->blob && e->hash == h && e->klen == klen && !memcmp(e->blob, key, klen)) { victim = w; break; }
        if (!e->blob) { victim = w; break; }
        if (e->stamp < set[victim].stamp) victim = w;
    }
    char *old = set[victim].blob;
    if (old) sh->evictions++; else sh->used++;
    n.stamp = ++sh->clock;
    set[victim] = n;
    sh->inserts++;
    pthread_mutex_unlock(&sh->mu);
    free(old);
}

void lh_cache_get_stats(lh_cache *c, lh_cache_stats *out) {
    memset(out, 0, sizeof(*out));
    out->capacity = c->nsets * WAYS * SHARDS;
    for (int i = 0; i < SHARDS; i++) {
        shard *sh = &c->shards[i];
        pthread_mutex_lock(&sh->mu);
        out->lookups += sh->lookups;
        out->hits += sh->hits;
        out->inserts += sh->inserts;
        out->evictions += sh->evictions;
        out->entries += sh->used;
        pthread_mutex_unlock(&sh->mu);
    }
}

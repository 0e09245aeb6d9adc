/* ratelimit.c — see ratelimit.h. */
#include "bridge/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define SLOTS  256            /* buckets per shard: 16,384 agents tracked at once */
#define NAME_MAX_BYTES 128

typedef struct bucket {
    char agent[NAME_MAX_BYTES + 1];
    double tokens;
    uint64_t last_ns;
    int used;
} bucket;

typedef struct shard {
    pthread_mutex_t mu;
    bucket b[SLOTS];
} shard;

struct lh_ratelimit {
    double rate, burst;
    shard s[SHARDS];
};

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

lh_ratelimit *lh_ratelimit_new(double rate, double burst) {
    lh_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl) return NULL;
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    for (int i = 0; i < SHARDS; i++) pthread_mutex_init(&rl->s[i].mu, NULL);
    return rl;
}

void lh_ratelimit_free(lh_ratelimit *rl) {
    if (!rl) return;
    for (int i = 0; i < SHARDS; i++) pthread_mutex_destroy(&rl->s[i].mu);
    free(rl);
}

static void refill(const lh_ratelimit *rl, bucket *b, uint64_t now) {
    if (now > b->last_ns) {
        b->tokens += (double)(now - b->last_ns) / 1e9 * rl->rate;
        if (b->tokens > rl->burst) b->tokens = rl->burst;
        b->last_ns = now;
    }
}

int lh_ratelimit_take(lh_ratelimit *rl, const char *agent, uint64_t now, int *retry) {
    if (rl->rate <= 0) return 0;
    uint64_t h = fnv(agent);
    shard *sh = &rl->s[h % SHARDS];
    char name[NAME_MAX_BYTES + 1];
    size_t n = strlen(agent);
    if (n > NAME_MAX_BYTES) n = NAME_MAX_BYTES;
    memcpy(name, agent, n);
    name[n] = 0;
    pthread_mutex_lock(&sh->mu);
    /* Open addressing from the hash; remember a reusable (idle and full) slot. */
    bucket *b = NULL, *spare = NULL;
    size_t start = (size_t)(h >> 8) % SLOTS;
    for (size_t i = 0; i < SLOTS; i++) {
        bucket *x = &sh->b[(start + i) % SLOTS];
        if (!x->used) { if (!spare) spare = x; break; }
        if (!strcmp(x->agent, name)) { b = x; break; }
        if (!spare) {
            refill(rl, x, now);
            if (x->tokens >= rl->burst) spare = x;
        }
    }
    if (!b) {
        /* A new agent, or the table is full of busy agents: then use the first slot we
         * probed, which merges two agents' buckets rather than letting either go unlimited. */
        if (spare) {
            b = spare;
            memcpy(b->agent, name, n + 1);
            b->tokens = rl->burst;
            b->last_ns = now;
            b->used = 1;
        } else {
            b = &sh->b[start];
        }
    }
    refill(rl, b, now);
    int limited = 0;
    if (b->tokens >= 1) b->tokens -= 1;
    else {
        limited = 1;
        double wait = (1 - b->tokens) / rl->rate;
        *retry = (int)ceil(wait);
        if (*retry < 1) *retry = 1;
    }
    pthread_mutex_unlock(&sh->mu);
    return limited;
}

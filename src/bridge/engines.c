/* engines.c — the engine registry (engines.h): the current engine, its swap and the
 * threads' references to it.
 *
 * Locking: eng_mu guards cur and the refs of every engref. eng_gen changes only under
 * eng_mu (release order), so a thread that reads the generation it holds (acquire) may use
 * its engine without the lock. */
#include "bridge/engines.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/policy.h"

extern const char lh_default_policy_yaml[];
extern const size_t lh_default_policy_yaml_len;

struct lh_engines {
    pthread_mutex_t eng_mu;       /* guards cur and every engref's refs */
    _Atomic uint64_t eng_gen;     /* bumped under eng_mu by each install */
    lh_engref *cur;
    size_t cache_entries;
    lh_metrics *m;
};

lh_engines *lh_engines_new(size_t cache_entries, lh_metrics *m) {
    lh_engines *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    pthread_mutex_init(&g->eng_mu, NULL);
    atomic_init(&g->eng_gen, 0);
    g->cache_entries = cache_entries;
    g->m = m;
    return g;
}

void lh_engref_discard(lh_engref *r) {
    if (!r) return;
    lh_engine_free(r->e);
    free(r->yaml);
    free(r);
}

/* The last reference is gone: keep its cache counters in the metrics, free it. */
static void engrefFree(lh_engines *g, lh_engref *r) {
    lh_cache_stats cs;
    lh_engine_cache_stats(r->e, &cs);
    lh_metrics_cache_retired(g->m, cs.hits, cs.lookups);
    lh_engref_discard(r);
}

/* Drop a reference; caller holds eng_mu. */
static void engrefRelease(lh_engines *g, lh_engref *r) {
    if (r && --r->refs == 0) engrefFree(g, r);
}

void lh_engines_free(lh_engines *g) {
    if (!g) return;
    pthread_mutex_lock(&g->eng_mu);
    engrefRelease(g, g->cur);
    g->cur = NULL;
    pthread_mutex_unlock(&g->eng_mu);
    pthread_mutex_destroy(&g->eng_mu);
    free(g);
}

lh_engref *lh_engines_get(lh_engines *g, lh_engines_hold *h) {
    uint64_t gen = atomic_load_explicit(&g->eng_gen, memory_order_acquire);
    if (h->eng && h->gen == gen) return h->eng;
    pthread_mutex_lock(&g->eng_mu);
    engrefRelease(g, h->eng);
    h->eng = g->cur;
    h->eng->refs++;
    h->gen = atomic_load_explicit(&g->eng_gen, memory_order_relaxed);
    pthread_mutex_unlock(&g->eng_mu);
    return h->eng;
}

void lh_engines_release(lh_engines *g, lh_engines_hold *h) {
    pthread_mutex_lock(&g->eng_mu);
    engrefRelease(g, h->eng);
    pthread_mutex_unlock(&g->eng_mu);
    h->eng = NULL;
    h->gen = 0;
}

lh_engref *lh_engines_build(lh_engines *g, const char *yaml, size_t len, const char *name, char *err, size_t errlen) {
    lh_policy_diag diags[8];
    int nd = 0;
    if (!yaml) { yaml = lh_default_policy_yaml; len = lh_default_policy_yaml_len; name = "<default>"; }
    lh_policy *p = lh_policy_parse(yaml, len, name, diags, 8, &nd);
    if (!p) {
        size_t o = (size_t)snprintf(err, errlen, "policy %s does not load:", name);
        for (int i = 0; i < nd && o < errlen; i++)
            o += (size_t)snprintf(err + o, errlen - o, " line %d col %d: %s;", diags[i].line,
                                  diags[i].column, diags[i].message);
        if (nd == 0 && o < errlen) snprintf(err + o, errlen - o, " invalid policy");
        return NULL;
    }
    lh_engref *r = calloc(1, sizeof(*r));
    char *copy = malloc(len + 1);
    if (!r || !copy) { lh_policy_free(p); free(r); free(copy); snprintf(err, errlen, "out of memory"); return NULL; }
    memcpy(copy, yaml, len);
    copy[len] = 0;
    snprintf(r->revision, sizeof(r->revision), "%s", lh_policy_revision(p));
    r->e = lh_engine_new(p, g->cache_entries, err, errlen);
    if (!r->e) { free(r); free(copy); return NULL; }
    r->yaml = copy;
    r->yaml_len = len;
    return r;
}

void lh_engines_install(lh_engines *g, lh_engref *r) {
    pthread_mutex_lock(&g->eng_mu);
    r->refs = 1;                       /* the "current" reference */
    lh_engref *old = g->cur;
    g->cur = r;
    atomic_fetch_add_explicit(&g->eng_gen, 1, memory_order_release);
    engrefRelease(g, old);
    pthread_mutex_unlock(&g->eng_mu);
}

void lh_engines_revision(lh_engines *g, char *out, size_t cap) {
    pthread_mutex_lock(&g->eng_mu);
    snprintf(out, cap, "%s", g->cur ? g->cur->revision : "");
    pthread_mutex_unlock(&g->eng_mu);
}

void lh_engines_cache_stats(lh_engines *g, uint64_t *hits, uint64_t *lookups) {
    *hits = *lookups = 0;
    pthread_mutex_lock(&g->eng_mu);
    if (g->cur) {
        lh_cache_stats cs;
        lh_engine_cache_stats(g->cur->e, &cs);
        *hits = cs.hits;
        *lookups = cs.lookups;
    }
    pthread_mutex_unlock(&g->eng_mu);
}

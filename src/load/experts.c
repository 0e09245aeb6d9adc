/* experts.c — simulated expert agents for `lighthouse load --expert-token` (docs/load.md,
 * "Simulated experts"): each is a pair of threads with its own expert token. The poller
 * registers, long-polls GET /v1/escalations and, for each escalation it is given, draws a
 * think time (workloads.md's scenario means: production deployment 800 ms, database
 * 1200 ms, security 600 ms, network 900 ms, others 1000 ms; each an exponential draw around
 * that mean, scaled by `speed`) and books the verdict at now + think on its due heap. The
 * answerer posts each booked verdict when it falls due. So an expert works its
 * escalations concurrently, each with its own think time, as a person or an LLM agent in
 * a pool would: it is not a queue (one escalation at a time made a quarter of a load run's
 * escalations time out behind each other, whatever the availability). The poller claims
 * what it is given (?claim=, docs/api.md), so the bridge hands each escalation to quorum
 * experts of the pool, not to every one of them (handing it to all 16 and having them
 * pick theirs made the experts' polls most of the bridge's escalation work: docs/load.md).
 * Each expert is available with probability `availability` (workloads.md: 90%): an
 * unavailable one never answers, its claim outlives the deadline (CLAIM_S), and the
 * escalation's deadline decides. Verdicts are allows: the figures are about time.
 *
 * The threads use libcurl (blocking, one keep-alive connection each), apart from the
 * generator's epoll loop. Threads and locks: the counts and stop are under x->mu; each
 * expert's due heap under its qmu (taken before x->mu, never after). */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load/load.h"
#include "util/growbuf.h"

#define SEEN_SLOTS 8192            /* escalation ids an expert remembers (direct-mapped by hash) */
#define DUE_MAX 8192               /* verdicts an expert has booked and not yet posted */
#define POLL_WAIT_S 10             /* a long-poll's wait (a heartbeat too: the interval is 15 s) */
#define CLAIM_S 120                /* a claim's lease: past the longest think time (60 s) */

static const double thinkMs[LH_LOAD_SCENARIOS + 1] = {800, 1200, 600, 900, 1000};

typedef struct lh_load_experts lh_load_experts;

typedef struct due {               /* a booked verdict */
    uint64_t at;                   /* when to post it (CLOCK_MONOTONIC, ns) */
    double think_ms;
    int scen;
    char id[24];
} due;

typedef struct expertThread {
    lh_load_experts *x;
    const char *token;
    pthread_t th, ans;             /* the poller, the answerer */
    int th_started, ans_started;
    uint64_t rng;                  /* the poller's */
    char (*seen)[24];              /* SEEN_SLOTS; the poller's */
    pthread_mutex_t qmu;           /* guards heap, nheap */
    pthread_cond_t qcv;            /* a verdict was booked, or stop (on qmu) */
    due *heap;                     /* min-heap by at, DUE_MAX */
    int nheap;
} expertThread;

struct lh_load_experts {
    lh_load_experts_opts o;
    expertThread *t;
    int started;
    pthread_mutex_t mu;            /* guards the counts and stop */
    int stop;
    uint64_t verdicts, skipped, errors, polls;
    uint64_t by_scenario[LH_LOAD_SCENARIOS + 1];
    double think_ms_sum;
};

typedef struct cbuf { char *p; size_t n, cap; } cbuf;

static size_t onData(char *d, size_t sz, size_t nm, void *u) {
    cbuf *b = u;
    size_t k = sz * nm;
    return lh_growbuf_append(&b->p, &b->n, &b->cap, 64u << 20, d, k) ? 0 : k;
}

static double urand(uint64_t *s) {   /* xorshift64*, (0, 1) */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static int stopping(lh_load_experts *x) {
    pthread_mutex_lock(&x->mu);
    int s = x->stop;
    pthread_mutex_unlock(&x->mu);
    return s;
}

/* libcurl's progress callback (about once a second): a long-poll ends at the stop. */
static int onProgress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)dt, (void)dn, (void)ut, (void)un;
    return stopping(u);
}

static void count(lh_load_experts *x, uint64_t *what, int scen, double think) {
    pthread_mutex_lock(&x->mu);
    (*what)++;
    if (scen >= 0) x->by_scenario[scen]++;
    x->think_ms_sum += think;
    pthread_mutex_unlock(&x->mu);
}

static long call(CURL *h, struct curl_slist *hdr, cbuf *b, const char *url, const char *body) {
    b->n = 0;
    if (b->p) b->p[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    else curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (curl_easy_perform(h) != CURLE_OK) return -1;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static uint32_t idHash(const char *id) {
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* Has this expert been given id before? A claim is handed to its expert once; this
 * guards against a bridge that does otherwise. Direct-mapped: a collision forgets the
 * older id, whose repeated verdict the bridge refuses (409, not counted). */
static int seenBefore(expertThread *t, const char *id) {
    char *slot = t->seen[idHash(id) % SEEN_SLOTS];
    if (!strcmp(slot, id)) return 1;
    snprintf(slot, sizeof(t->seen[0]), "%s", id);
    return 0;
}

static uint64_t monoNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the due heap (under t->qmu) --------------------------------------------------- */

static void heapPush(expertThread *t, const due *d) {
    int i = t->nheap++;
    while (i > 0 && t->heap[(i - 1) / 2].at > d->at) { t->heap[i] = t->heap[(i - 1) / 2]; i = (i - 1) / 2; }
    t->heap[i] = *d;
}

static due heapPop(expertThread *t) {
    due top = t->heap[0], last = t->heap[--t->nheap];
    int i = 0, n = t->nheap;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && t->heap[c + 1].at < t->heap[c].at) c++;
        if (t->heap[c].at >= last.at) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n) t->heap[i] = last;
    return top;
}

/* Book a verdict on id at now + think_ms: 0, or -1 when DUE_MAX are booked already. */
static int book(expertThread *t, const char *id, int scen, double think_ms) {
    due d = {.at = monoNs() + (uint64_t)(think_ms * 1e6), .think_ms = think_ms, .scen = scen};
    snprintf(d.id, sizeof(d.id), "%s", id);
    pthread_mutex_lock(&t->qmu);
    int full = t->nheap >= DUE_MAX;
    if (!full) {
        heapPush(t, &d);
        pthread_cond_signal(&t->qcv);
    }
    pthread_mutex_unlock(&t->qmu);
    return full ? -1 : 0;
}

static void sleepMs(lh_load_experts *x, double ms) {
    while (ms > 0 && !stopping(x)) {
        double step = ms > 100 ? 100 : ms;
        struct timespec ts = {0, (long)(step * 1e6)};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* One keep-alive libcurl handle with the expert's token: 0, or -1. */
typedef struct conn { CURL *h; struct curl_slist *hdr; cbuf b; char base[128]; } conn;

static int connOpen(conn *k, lh_load_experts *x, const char *token) {
    char auth[1100];
    memset(k, 0, sizeof(*k));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %.1024s", token);
    k->h = curl_easy_init();
    k->hdr = curl_slist_append(NULL, auth);
    if (k->hdr) {
        struct curl_slist *n = curl_slist_append(k->hdr, "Content-Type: application/json");
        if (n) k->hdr = n;
    }
    if (!k->h || !k->hdr) return -1;
    curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &k->b);
    curl_easy_setopt(k->h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k->h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(k->h, CURLOPT_XFERINFODATA, (void *)x);
    curl_easy_setopt(k->h, CURLOPT_NOPROGRESS, 0L);
    snprintf(k->base, sizeof(k->base), "http://%s:%d", x->o.host, x->o.port);
    return 0;
}

static void connClose(conn *k) {
    free(k->b.p);
    curl_slist_free_all(k->hdr);
    if (k->h) curl_easy_cleanup(k->h);
}

/* The answerer: posts each booked verdict when it falls due, on a connection of its own
 * (the poller's is held by its long-poll). Verdicts still booked at the stop are dropped. */
static void *answerMain(void *arg) {
    expertThread *t = arg;
    lh_load_experts *x = t->x;
    conn k;
    if (connOpen(&k, x, t->token)) { count(x, &x->errors, -1, 0); connClose(&k); return NULL; }
    pthread_mutex_lock(&t->qmu);
    for (;;) {
        if (stopping(x)) break;
        uint64_t now = monoNs();
        if (!t->nheap || t->heap[0].at > now) {
            /* Until the earliest is due, a new booking, or 100 ms (to see the stop). */
            uint64_t until = now + 100000000ull;
            if (t->nheap && t->heap[0].at < until) until = t->heap[0].at;
            struct timespec ts = {(time_t)(until / 1000000000ull), (long)(until % 1000000000ull)};
            pthread_cond_timedwait(&t->qcv, &t->qmu, &ts);
            continue;
        }
        due d = heapPop(t);
        pthread_mutex_unlock(&t->qmu);
        char vurl[256];
        snprintf(vurl, sizeof(vurl), "%s/v1/escalations/%s/verdict", k.base, d.id);
        long code = call(k.h, k.hdr, &k.b, vurl, "{\"decision\":\"allow\",\"reason\":\"simulated expert (lighthouse load)\"}");
        /* 409: decided meanwhile (by others, or its deadline): not an error */
        if (code == 200) count(x, &x->verdicts, d.scen, d.think_ms);
        else if (code != 409) count(x, &x->errors, d.scen, 0);
        pthread_mutex_lock(&t->qmu);
    }
    pthread_mutex_unlock(&t->qmu);
    connClose(&k);
    return NULL;
}

/* The poller: registers, then long-polls, claiming, and books a verdict for each
 * escalation it is given (if available for it), without waiting for any of them. */
static void *expertMain(void *arg) {
    expertThread *t = arg;
    lh_load_experts *x = t->x;
    char url[512];
    conn k;
    if (connOpen(&k, x, t->token)) { count(x, &x->errors, -1, 0); goto out; }
    snprintf(url, sizeof(url), "%s/v1/experts/register", k.base);
    if (call(k.h, k.hdr, &k.b, url, x->o.capabilities_json ? x->o.capabilities_json : "{\"capabilities\":[]}") != 200) {
        count(x, &x->errors, -1, 0);
        goto out;
    }
    /* A claiming poll is answered with escalations no other expert holds, and waits while
     * there are none; it needs no cursor. */
    snprintf(url, sizeof(url), "%s/v1/escalations?state=pending&wait=%d&claim=%d", k.base, POLL_WAIT_S, CLAIM_S);
    while (!stopping(x)) {
        long code = call(k.h, k.hdr, &k.b, url, NULL);
        if (stopping(x)) break;   /* the long-poll was cut short by the stop */
        count(x, &x->polls, -1, 0);
        if (code != 200) { count(x, &x->errors, -1, 0); sleepMs(x, 100); continue; }
        json_t *j = json_loadb(k.b.p, k.b.n, 0, NULL);
        json_t *arr = json_object_get(j, "escalations"), *e;
        size_t i;
        int fresh = 0;
        json_array_foreach(arr, i, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            if (!id || strlen(id) > 23 || seenBefore(t, id)) continue;
            fresh++;
            const char *cmd = json_string_value(json_object_get(json_object_get(json_object_get(e, "request"), "input"), "command"));
            int scen = cmd ? lh_load_scenario_of(cmd) : -1;
            if (urand(&t->rng) >= x->o.availability) { count(x, &x->skipped, scen, 0); continue; }
            double think = -log(urand(&t->rng)) * thinkMs[scen >= 0 ? scen : LH_LOAD_SCENARIOS] * x->o.speed;
            if (think > 60000) think = 60000;
            if (book(t, id, scen, think)) count(x, &x->errors, scen, 0);
        }
        json_decref(j);
        /* Nothing new though the wait did not run out (a bridge that repeats itself):
         * wait a little instead of spinning. */
        if (!fresh && arr && json_array_size(arr)) sleepMs(x, 50);
    }
out:
    connClose(&k);
    return NULL;
}

lh_load_experts *lh_load_experts_start(const lh_load_experts_opts *o, char *err, size_t errlen) {
    if (o->n < 1 || o->n > LH_LOAD_EXPERTS_MAX) {
        snprintf(err, errlen, "1 to %d expert tokens", LH_LOAD_EXPERTS_MAX);
        return NULL;
    }
    lh_load_experts *x = calloc(1, sizeof(*x));
    if (!x) { snprintf(err, errlen, "out of memory"); return NULL; }
    x->o = *o;
    if (!(x->o.speed > 0)) x->o.speed = 1;
    pthread_mutex_init(&x->mu, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    x->t = calloc((size_t)o->n, sizeof(*x->t));
    if (!x->t) { snprintf(err, errlen, "out of memory"); lh_load_experts_stop(x, NULL); return NULL; }
    for (int i = 0; i < o->n; i++) {
        expertThread *t = &x->t[i];
        t->x = x;
        t->token = o->tokens[i];
        t->rng = (o->seed ^ 0x9E3779B97F4A7C15ull) * (uint64_t)(i + 1) | 1;
        pthread_mutex_init(&t->qmu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t->qcv, &ca);
        pthread_condattr_destroy(&ca);
        t->seen = calloc(SEEN_SLOTS, sizeof(*t->seen));
        t->heap = calloc(DUE_MAX, sizeof(*t->heap));
        t->ans_started = t->seen && t->heap && !pthread_create(&t->ans, NULL, answerMain, t);
        /* started counts the experts with both threads (and their locks) to stop and free */
        x->started++;
        t->th_started = t->ans_started && !pthread_create(&t->th, NULL, expertMain, t);
        if (!t->th_started) {
            snprintf(err, errlen, "cannot start simulated expert %d", i + 1);
            break;
        }
    }
    if (x->started < o->n || !x->t[o->n - 1].th_started) { lh_load_experts_stop(x, NULL); return NULL; }
    return x;
}

json_t *lh_load_experts_stop(lh_load_experts *x, const lh_load_result *r) {
    if (!x) return NULL;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_mutex_unlock(&x->mu);
    for (int i = 0; i < x->started; i++) {
        expertThread *t = &x->t[i];
        pthread_mutex_lock(&t->qmu);
        pthread_cond_broadcast(&t->qcv);
        pthread_mutex_unlock(&t->qmu);
    }
    for (int i = 0; i < x->started; i++) {
        expertThread *t = &x->t[i];
        if (t->th_started) pthread_join(t->th, NULL);
        if (t->ans_started) pthread_join(t->ans, NULL);
        pthread_cond_destroy(&t->qcv);
        pthread_mutex_destroy(&t->qmu);
        free(t->seen);
        free(t->heap);
    }
    json_t *out = NULL;
    if (r) {
        json_t *scen = json_object();
        for (int s = 0; s <= LH_LOAD_SCENARIOS; s++)
            json_object_set_new(scen, s < LH_LOAD_SCENARIOS ? lh_load_scenario_name(s) : "none",
                                json_integer((json_int_t)x->by_scenario[s]));
        /* The escalations' latency as the agents saw it: the replies decided by experts
         * (tier expert), apart from the fast path (the other tiers). */
        const lh_load_hist *eh = &r->tier[3];
        json_t *lat = eh->count ? json_pack("{s:I,s:f,s:f,s:f}", "count", (json_int_t)eh->count, "p50_ms",
                                            (double)lh_load_hist_quantile(eh, 0.5) / 1e6, "p99_ms",
                                            (double)lh_load_hist_quantile(eh, 0.99) / 1e6, "mean_ms",
                                            lh_load_hist_mean(eh) / 1e6)
                                : json_null();
        out = json_pack("{s:i,s:f,s:f,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "experts", x->o.n, "availability",
                        x->o.availability, "speed", x->o.speed, "verdicts", (json_int_t)x->verdicts, "unavailable",
                        (json_int_t)x->skipped, "errors", (json_int_t)x->errors, "polls", (json_int_t)x->polls,
                        "think_avg_ms", x->verdicts ? json_real(x->think_ms_sum / (double)x->verdicts) : json_null(),
                        "by_scenario", scen, "expert_decided_latency", lat);
    }
    pthread_mutex_destroy(&x->mu);
    free(x->t);
    free(x);
    curl_global_cleanup();   /* one per lh_load_experts_start's init */
    return out;
}

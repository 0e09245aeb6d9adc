/* appender.c — decisions reach the store in batches, and no HTTP worker waits for an fsync.
 *
 * A worker decides, queues the decision.made event here and suspends the connection
 * (MHD_suspend_connection). Appender threads take everything queued (up to
 * APPEND_BATCH events) and append it with one lh_store_append call: one transaction,
 * one fsync. Then they set each request's seq (or its error) and resume its connection.
 * MHD calls the request's handler again, which queues the reply (lh_route_decide_finish).
 * The reply still goes out only after the event is durable.
 *
 * Why not block the worker in lh_store_append? Then throughput needs one thread per
 * concurrent append. With 1,000 clients that means hundreds of threads, and the profile
 * was dominated by their context switches. Here a few workers and two appenders carry
 * the same load. */
#include "bridge/bridge_int.h"

#include <errno.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APPEND_BATCH 2048
#define TRIM_IDLE_S  1    /* seconds without decisions after which freed memory goes back */

struct lh_appender {
    lh_bridge_t *b;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lh_req *head, *tail;          /* linked through lh_req.next */
    size_t queued;
    int closing;
    int busy_since_trim;          /* decisions appended since memory was last given back */
    int nthreads;
    pthread_t th[8];
};

/* One appender thread's arrays for a batch, allocated once. */
typedef struct batch {
    lh_req *items[APPEND_BATCH];
    lh_event evs[APPEND_BATCH];
    int64_t seqs[APPEND_BATCH];
} batch;

/* Give the request its result and wake its connection. After `done` is set r belongs to
 * its connection again (it may be answered and reused at once), so c is read first and r
 * is not touched afterwards. */
static void finish(lh_bridge_t *b, lh_req *r, int64_t seq, int rc, const char *err) {
    struct MHD_Connection *c = r->conn;
    r->seq = seq;
    r->append_rc = rc;
    if (rc) snprintf(r->append_err, sizeof(r->append_err), "%s", err);
    lh_hist_observe(&b->m->commit, lh_bridge_now_ns() - r->t_enq);
    atomic_store_explicit(&r->done, 1, memory_order_release);
    MHD_resume_connection(c);
}

static void runBatch(lh_bridge_t *b, batch *bt, size_t n) {
    lh_req **items = bt->items;
    lh_event *evs = bt->evs;
    int64_t *seqs = bt->seqs;
    char err[256];
    memset(evs, 0, n * sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        evs[i].type = "decision.made";
        evs[i].id = items[i]->id;
        evs[i].agent = items[i]->claims.agent;
        evs[i].aggregate = items[i]->aggregate;
        evs[i].data = items[i]->evdata;
    }
    int rc = lh_store_append(b->store, evs, n, seqs, err, sizeof(err));
    if (rc == 0) {
        atomic_fetch_add_explicit(&b->m->store_appends, n, memory_order_relaxed);
        if (!atomic_load_explicit(&b->store_ok, memory_order_relaxed)) atomic_store(&b->store_ok, 1);
        for (size_t i = 0; i < n; i++) finish(b, items[i], seqs[i], 0, NULL);
    } else if (n > 1) {
        /* A batch is all or nothing: one event the store refuses must not fail its
         * neighbours, so retry each alone (an outage fails them all again, quickly). The
         * events are read before each request is finished, never after. */
        for (size_t i = 0; i < n; i++) {
            int64_t s = 0;
            int r1 = lh_store_append(b->store, &evs[i], 1, &s, err, sizeof(err));
            if (r1 == 0) atomic_fetch_add_explicit(&b->m->store_appends, 1, memory_order_relaxed);
            else atomic_fetch_add_explicit(&b->m->store_failures, 1, memory_order_relaxed);
            atomic_store(&b->store_ok, r1 == 0);
            finish(b, items[i], s, r1, err);
        }
    } else {
        atomic_fetch_add_explicit(&b->m->store_failures, n, memory_order_relaxed);
        atomic_store(&b->store_ok, 0);
        for (size_t i = 0; i < n; i++) finish(b, items[i], 0, -1, err);
    }
}

/* A burst of load leaves glibc's arenas holding what its connections and requests freed
 * (MHD's connection pools, request bodies, batches): measured after a 1,000-connection
 * run, 17 of the bridge's 56 MiB. Once decisions have stopped for TRIM_IDLE_S, give the
 * free pages back to the kernel. This is the bridge's only trim: under steady load the
 * freed memory is reused, and trimming then would only take every arena's lock. */
static void trimMemory(void) { malloc_trim(0); }

static void *appenderMain(void *arg) {
    struct lh_appender *ap = arg;
    pthread_setname_np(pthread_self(), "lh-appender"); /* for top -H, perf and gdb */
    batch *bt = malloc(sizeof(*bt));
    if (!bt) return NULL;
    for (;;) {
        pthread_mutex_lock(&ap->mu);
        while (!ap->head && !ap->closing) {
            if (!ap->busy_since_trim) { pthread_cond_wait(&ap->cv, &ap->mu); continue; }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += TRIM_IDLE_S;
            if (pthread_cond_timedwait(&ap->cv, &ap->mu, &until) == ETIMEDOUT && !ap->head && ap->busy_since_trim) {
                ap->busy_since_trim = 0;
                pthread_mutex_unlock(&ap->mu);
                trimMemory();
                pthread_mutex_lock(&ap->mu);
            }
        }
        if (!ap->head && ap->closing) { pthread_mutex_unlock(&ap->mu); break; }
        ap->busy_since_trim = 1;
        size_t n = 0;
        while (ap->head && n < APPEND_BATCH) {
            bt->items[n++] = ap->head;
            ap->head = ap->head->next;
        }
        if (!ap->head) ap->tail = NULL;
        ap->queued -= n;
        pthread_mutex_unlock(&ap->mu);
        runBatch(ap->b, bt, n);
    }
    free(bt);
    return NULL;
}

struct lh_appender *lh_appender_start(lh_bridge_t *b, int threads, char *err, size_t errlen) {
    struct lh_appender *ap = calloc(1, sizeof(*ap));
    if (!ap) { snprintf(err, errlen, "out of memory"); return NULL; }
    ap->b = b;
    pthread_mutex_init(&ap->mu, NULL);
    pthread_cond_init(&ap->cv, NULL);
    if (threads < 1) threads = 1;
    if (threads > 8) threads = 8;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&ap->th[i], NULL, appenderMain, ap) != 0) {
            snprintf(err, errlen, "cannot start the appender threads");
            ap->closing = 1;
            pthread_cond_broadcast(&ap->cv);
            for (int k = 0; k < i; k++) pthread_join(ap->th[k], NULL);
            pthread_mutex_destroy(&ap->mu);
            pthread_cond_destroy(&ap->cv);
            free(ap);
            return NULL;
        }
        ap->nthreads++;
    }
    return ap;
}

int lh_appender_submit(struct lh_appender *ap, struct MHD_Connection *c, lh_req *r) {
    r->conn = c;
    r->next = NULL;
    r->t_enq = lh_bridge_now_ns();
    pthread_mutex_lock(&ap->mu);
    if (ap->closing) {
        pthread_mutex_unlock(&ap->mu);
        return -1;
    }
    /* Suspend before the request is visible to the appender (it is not, until we unlock),
     * so it can never resume a connection that is not suspended yet. We are in this
     * connection's handler, as MHD requires. */
    r->waiting = 1;
    MHD_suspend_connection(c);
    if (ap->tail) ap->tail->next = r;
    else ap->head = r;
    ap->tail = r;
    ap->queued++;
    pthread_cond_signal(&ap->cv);
    pthread_mutex_unlock(&ap->mu);
    return 0;
}

void lh_appender_stop(struct lh_appender *ap) {
    if (!ap) return;
    pthread_mutex_lock(&ap->mu);
    int threads = ap->nthreads;
    ap->closing = 1;
    ap->nthreads = 0;
    pthread_cond_broadcast(&ap->cv);
    pthread_mutex_unlock(&ap->mu);
    for (int i = 0; i < threads; i++) pthread_join(ap->th[i], NULL);
}

void lh_appender_free(struct lh_appender *ap) {
    if (!ap) return;
    lh_appender_stop(ap);
    pthread_mutex_destroy(&ap->mu);
    pthread_cond_destroy(&ap->cv);
    free(ap);
}

/* appender.c — decisions reach the store without any HTTP worker waiting for an fsync.
 *
 * A worker decides, suspends the connection (MHD_suspend_connection) and hands the
 * decision.made event to the store with lh_store_append_async: the event is checked and
 * made canonical on the worker, then joins the store's next group commit (one
 * transaction, one fsync for everything queued). When the group is durable the store's
 * writer thread calls appended(), which sets the request's seq (or its error) and resumes
 * the connection; MHD calls the request's handler again, which queues the reply
 * (lh_route_decide_finish). The reply still goes out only after the event is durable.
 *
 * Why not block the worker in lh_store_append? Then throughput needs one thread per
 * concurrent append. With 1,000 clients that means hundreds of threads, and the profile
 * was dominated by their context switches. And why no thread of our own between the
 * workers and the store? There were two ("appender" threads, each appending a batch with
 * lh_store_append and waiting for it): a decision that arrived while both waited missed
 * the next group and waited for the one after, and each batch cost two more thread
 * hand-offs. */
#include "bridge/bridge_int.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lh_appender {
    lh_bridge_t *b;
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* signalled when outstanding falls to 0 while closing */
    _Atomic int closing;
    _Atomic long outstanding;     /* submitted, not yet appended() */
};

/* On the store's writer thread, once the decision's group is durable (or failed). After
 * `done` is set r belongs to its connection again (it may be answered and reused at
 * once), so c is read first and r is not touched afterwards. */
static void appended(void *arg, int rc, const char *err) {
    lh_req *r = arg;
    lh_bridge_t *b = r->b;
    struct lh_appender *ap = b->appender;
    struct MHD_Connection *c = r->conn;
    r->append_rc = rc;
    if (rc) {
        snprintf(r->append_err, sizeof(r->append_err), "%s", err ? err : "the event store failed");
        atomic_fetch_add_explicit(&b->m->store_failures, 1, memory_order_relaxed);
        atomic_store(&b->store_ok, 0);
    } else {
        atomic_fetch_add_explicit(&b->m->store_appends, 1, memory_order_relaxed);
        if (!atomic_load_explicit(&b->store_ok, memory_order_relaxed)) atomic_store(&b->store_ok, 1);
    }
    uint64_t now = lh_mono_ns();
    lh_hist_observe(&b->m->commit, now - r->t_enq);
    atomic_store_explicit(&b->last_append_ns, now, memory_order_relaxed);
    atomic_store_explicit(&r->done, 1, memory_order_release);
    MHD_resume_connection(c);
    if (atomic_fetch_sub(&ap->outstanding, 1) == 1 && atomic_load(&ap->closing)) {
        pthread_mutex_lock(&ap->mu);
        pthread_cond_broadcast(&ap->cv);
        pthread_mutex_unlock(&ap->mu);
    }
}

struct lh_appender *lh_appender_start(lh_bridge_t *b, char *err, size_t errlen) {
    struct lh_appender *ap = calloc(1, sizeof(*ap));
    if (!ap) { snprintf(err, errlen, "out of memory"); return NULL; }
    ap->b = b;
    pthread_mutex_init(&ap->mu, NULL);
    pthread_cond_init(&ap->cv, NULL);
    return ap;
}

int lh_appender_submit(struct lh_appender *ap, struct MHD_Connection *c, lh_req *r) {
    if (atomic_load(&ap->closing)) return -1;
    lh_bridge_t *b = ap->b;
    r->b = b;
    r->conn = c;
    r->t_enq = lh_mono_ns();
    lh_event ev = {.type = "decision.made", .id = r->id, .agent = r->claims.agent, .aggregate = r->aggregate,
                   .data = r->evdata};
    atomic_fetch_add(&ap->outstanding, 1);
    /* Suspend first: appended() may run on the writer thread before the call returns, and
     * must never resume a connection that is not suspended yet. We are in this
     * connection's handler, as MHD requires. */
    r->waiting = 1;
    MHD_suspend_connection(c);
    char err[256] = "out of memory";
    if (r->arena) lh_arena_reset(r->arena);
    else r->arena = lh_arena_new(4096);
    if (!r->arena || lh_store_append_async(b->store, &ev, 1, &r->seq, r->arena, appended, r, err, sizeof(err)) < 0)
        appended(r, -1, err); /* refused at once (or the store is closing): 503, as a failed append */
    return 0;
}

void lh_appender_stop(struct lh_appender *ap) {
    if (!ap) return;
    atomic_store(&ap->closing, 1);
    /* No wake-up is lost: appended() decrements, then reads closing, and signals under mu
     * when it sees closing set; so either it signals, or its decrement came before closing
     * was set and the count read below already shows it. */
    pthread_mutex_lock(&ap->mu);
    while (atomic_load(&ap->outstanding) > 0) pthread_cond_wait(&ap->cv, &ap->mu);
    pthread_mutex_unlock(&ap->mu);
}

void lh_appender_free(struct lh_appender *ap) {
    if (!ap) return;
    lh_appender_stop(ap);
    pthread_mutex_destroy(&ap->mu);
    pthread_cond_destroy(&ap->cv);
    free(ap);
}

/* A burst of load leaves glibc's arenas holding what its connections and requests freed
 * (MHD's connection pools, request bodies): measured after a 1,000-connection run, 17 of
 * the bridge's 56 MiB. Once decisions have stopped for a second, give the free pages back
 * to the kernel. The revocation watcher calls this on each of its rounds; it is the
 * bridge's only trim: under steady load the freed memory is reused, and trimming then
 * would only take every arena's lock. */
void lh_appender_trim_when_idle(lh_bridge_t *b, uint64_t *trimmed_for) {
    uint64_t last = atomic_load_explicit(&b->last_append_ns, memory_order_relaxed);
    if (last == *trimmed_for || lh_mono_ns() - last < 1000000000ull) return;
    *trimmed_for = last;
    malloc_trim(0);
}

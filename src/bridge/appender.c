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
#include "bridge/appender.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/check.h"

struct lh_appender {
    lh_store *store;
    lh_metrics *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* signalled when outstanding falls to 0 while closing */
    _Atomic int closing;
    _Atomic long outstanding;     /* submitted, not yet appended() */
    _Atomic int store_ok;         /* the last append succeeded */
    _Atomic uint64_t last_append_ns;  /* when a decision's append last finished (writer thread) */
};

static uint64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Count an append's result in the metrics and in readiness. */
static void noteResult(lh_appender *ap, int ok, uint64_t n, uint64_t ns) {
    lh_metrics_store_result(ap->m, ok, n, ns);
    if (!ok) atomic_store(&ap->store_ok, 0);
    else if (!atomic_load_explicit(&ap->store_ok, memory_order_relaxed)) atomic_store(&ap->store_ok, 1);
}

/* On the store's writer thread, once the decision's group is durable (or failed). After
 * `done` is set the job belongs to its connection again (it may be answered and reused at
 * once), so c and ap are read first and the job is not touched afterwards. */
static void appended(void *arg, int rc, const char *err) {
    lh_append_job *job = arg;
    lh_appender *ap = job->ap;
    struct MHD_Connection *c = job->conn;
    job->rc = rc;
    if (rc) snprintf(job->err, sizeof(job->err), "%s", err ? err : "the event store failed");
    else job->seq = job->seqs[job->n - 1];
    if (job->then) job->then(job->then_arg, rc);
    uint64_t now = nowNs();
    noteResult(ap, rc == 0, job->n, now - job->t_enq);
    atomic_store_explicit(&ap->last_append_ns, now, memory_order_relaxed);
    atomic_store_explicit(&job->done, 1, memory_order_release);
    MHD_resume_connection(c);
    long before = atomic_fetch_sub(&ap->outstanding, 1);
    LH_ASSERT(before > 0);   /* one appended() per submitted decision */
    if (before == 1 && atomic_load(&ap->closing)) {
        pthread_mutex_lock(&ap->mu);
        pthread_cond_broadcast(&ap->cv);
        pthread_mutex_unlock(&ap->mu);
    }
}

lh_appender *lh_appender_start(lh_store *store, lh_metrics *m, char *err, size_t errlen) {
    lh_appender *ap = calloc(1, sizeof(*ap));
    if (!ap) { snprintf(err, errlen, "out of memory"); return NULL; }
    ap->store = store;
    ap->m = m;
    pthread_mutex_init(&ap->mu, NULL);
    pthread_cond_init(&ap->cv, NULL);
    atomic_init(&ap->closing, 0);
    atomic_init(&ap->outstanding, 0);
    atomic_init(&ap->store_ok, 1);
    atomic_init(&ap->last_append_ns, 0);
    return ap;
}

int lh_appender_store_ok(const lh_appender *ap) {
    return atomic_load(&((lh_appender *)ap)->store_ok);
}

int lh_appender_done(const lh_append_job *job) {
    return atomic_load_explicit(&((lh_append_job *)job)->done, memory_order_acquire);
}

int lh_appender_append(lh_appender *ap, const lh_event *ev, size_t n, int64_t *seq, char *err, size_t errlen) {
    uint64_t t0 = nowNs();
    int rc = lh_store_append(ap->store, ev, n, seq, err, errlen);
    noteResult(ap, rc == 0, n, nowNs() - t0);
    return rc;
}

int lh_appender_submit(lh_appender *ap, struct MHD_Connection *c, lh_append_job *job, const lh_event *ev) {
    return lh_appender_submit_n(ap, c, job, ev, 1, NULL, NULL);
}

int lh_appender_submit_n(lh_appender *ap, struct MHD_Connection *c, lh_append_job *job, const lh_event *ev, size_t n,
                         void (*then)(void *arg, int rc), void *then_arg) {
    LH_ASSERT(n >= 1 && n <= LH_APPEND_JOB_MAX);
    if (atomic_load(&ap->closing)) {
        if (then) then(then_arg, -1);
        return -1;
    }
    job->ap = ap;
    job->n = n;
    job->then = then;
    job->then_arg = then_arg;
    job->conn = c;
    job->t_enq = nowNs();
    atomic_fetch_add(&ap->outstanding, 1);
    /* Suspend first: appended() may run on the writer thread before the call returns, and
     * must never resume a connection that is not suspended yet. We are in this
     * connection's handler, as MHD requires. */
    atomic_store_explicit(&job->done, 0, memory_order_relaxed);
    MHD_suspend_connection(c);
    char err[256] = "out of memory";
    if (job->arena) lh_arena_reset(job->arena);
    else job->arena = lh_arena_new(4096);
    if (!job->arena || lh_store_append_async(ap->store, ev, n, job->seqs, job->arena, appended, job, err, sizeof(err)) < 0)
        appended(job, -1, err); /* refused at once (or the store is closing): 503, as a failed append */
    return 0;
}

void lh_appender_stop(lh_appender *ap) {
    if (!ap) return;
    atomic_store(&ap->closing, 1);
    /* No wake-up is lost: appended() decrements, then reads closing, and signals under mu
     * when it sees closing set; so either it signals, or its decrement came before closing
     * was set and the count read below already shows it. */
    pthread_mutex_lock(&ap->mu);
    while (atomic_load(&ap->outstanding) > 0) pthread_cond_wait(&ap->cv, &ap->mu);
    pthread_mutex_unlock(&ap->mu);
}

void lh_appender_free(lh_appender *ap) {
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
void lh_appender_trim_when_idle(void *ctx, uint64_t *trimmed_for) {
    lh_appender *ap = ctx;
    uint64_t last = atomic_load_explicit(&ap->last_append_ns, memory_order_relaxed);
    if (last == *trimmed_for || nowNs() - last < 1000000000ull) return;
    *trimmed_for = last;
    malloc_trim(0);
}

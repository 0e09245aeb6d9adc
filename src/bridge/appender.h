/* appender.h — the bridge's writes to the event store: decisions appended while their
 * connections are suspended (no HTTP worker waits for an fsync), and the synchronous
 * appends of everything else (policy changes, tokens, the SLA monitor's events).
 *
 * Owns: store_ok (did the last append succeed: readiness), last_append_ns (when a
 * decision's append last finished), the outstanding count and closing flag of the
 * asynchronous appends (mu and cv wait for them at the stop), and every job's done flag.
 * No other file touches them. It knows the store and the metrics, not the bridge. */
#ifndef LH_BRIDGE_APPENDER_H
#define LH_BRIDGE_APPENDER_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/metrics.h"
#include "store/store.h"
#include "util/arena.h"

typedef struct lh_appender lh_appender;

#define LH_APPEND_JOB_MAX 2   /* events of one asynchronous append */

/* One decision's asynchronous append, embedded in its request (and reused with it). The
 * caller zeroes it once; arena is kept across reuse (freed by the caller). */
typedef struct lh_append_job {
    lh_appender *ap;
    struct MHD_Connection *conn;
    uint64_t t_enq;
    lh_arena *arena;       /* the store's copy of the event until the append is done */
    _Atomic int done;      /* set (release) by the store's writer thread before the resume */
    void (*then)(void *arg, int rc);   /* lh_appender_submit_n's */
    void *then_arg;
    size_t n;              /* events submitted */
    int64_t seqs[LH_APPEND_JOB_MAX];
    /* The result, valid once lh_appender_done: */
    int64_t seq;           /* the last event's */
    int rc;
    char err[256];
} lh_append_job;

/* store and m are borrowed and must outlive it. Readiness starts true (the store just
 * opened). NULL when out of memory. */
lh_appender *lh_appender_start(lh_store *store, lh_metrics *m, char *err, size_t errlen);
/* Append ev (decision.made; its strings are copied before the call returns) and suspend c;
 * c is resumed when lh_appender_done(job) (job->rc says how it went), and job is not
 * touched after that. -1, without suspending, once stopped. Called in c's handler. */
int lh_appender_submit(lh_appender *ap, struct MHD_Connection *c, lh_append_job *job, const lh_event *ev);
/* The same for n (1 to LH_APPEND_JOB_MAX) events in one batch (all or none; the
 * decision.made last: job->seq is its seq). then(then_arg, rc), when not NULL, is called
 * exactly once: on the store's writer thread once the batch is durable (rc 0) or failed
 * (-1), before the job is done and c resumed; or at once (-1) when refused. It must be
 * quick and must not call into the store. */
int lh_appender_submit_n(lh_appender *ap, struct MHD_Connection *c, lh_append_job *job, const lh_event *ev, size_t n,
                         void (*then)(void *arg, int rc), void *then_arg);
/* Has job's append finished (acquire: its result may be read)? */
int lh_appender_done(const lh_append_job *job);
/* Refuse new submits (-1) and wait until every submitted append has finished. The
 * appender stays allocated, so requests still in MHD may call submit safely. */
void lh_appender_stop(lh_appender *ap);
/* Stop (if needed) and free; call after MHD is stopped. NULL is a no-op. */
void lh_appender_free(lh_appender *ap);
/* malloc_trim once decisions have stopped for a second (the revocation watcher's rounds;
 * *trimmed_for is the caller's: last_append_ns at the last trim, 0 at first). ctx: the
 * appender. */
void lh_appender_trim_when_idle(void *ctx, uint64_t *trimmed_for);
/* Did the last append succeed (the store can append: /ready)? */
int lh_appender_store_ok(const lh_appender *ap);
/* Append n events now in one batch (all or none), waiting for the commit; counted in the
 * store metrics and readiness. 0, or -1 with err. */
int lh_appender_append(lh_appender *ap, const lh_event *ev, size_t n, int64_t *seq, char *err, size_t errlen);

#endif

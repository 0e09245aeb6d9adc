/* escalations.h — expert escalations (issue 13 part 2): an escalate decision whose policy
 * route (lh_escroute) names experts becomes an escalation that experts receive (long-poll,
 * claiming long-poll, SSE) and decide (quorum: N distinct allows allow, any deny denies) within a deadline
 * (then the route's on_timeout action). Builders may wait for the verdict (?wait=) without
 * holding an HTTP worker: their connections are suspended and resumed. Verdicts may be
 * reused (cache_ttl) for the same rule, request and policy revision. Every state change
 * is an event; pending escalations are rebuilt from the events at the start.
 *
 * Owns: mu (the table, the waiters, the verdict cache, the counters, each escalation's
 * busy flag: one change of it at a time, from its event to its effect), cv (wakes the
 * timer thread), idle_cv (a change ended); each request's lh_esc_wait (bridge_int.h) is
 * guarded by mu while it waits. No other file touches them. Lock order: mu → the experts'
 * mu. What an escalation shows of its request (its context) is built by esc_context.c.
 * docs/api.md "Escalations", docs/architecture.md. */
#ifndef LH_BRIDGE_ESCALATIONS_H
#define LH_BRIDGE_ESCALATIONS_H

#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include "bridge/bridge_int.h"
#include "engine/engine.h"

#define LH_ESC_REASON_MAX 2000        /* bytes of a verdict's reason */
#define LH_ESC_WAIT_MAX_S 300         /* a decision waits at most this long */
#define LH_ESC_LIST_WAIT_MAX_S 60     /* a long-poll of the list */
#define LH_ESC_CLAIM_MAX_S 3600       /* the lease of a claim (?claim=) */

typedef struct lh_escalations lh_escalations;
struct lh_bridge;
struct lh_req;

/* The outcome of an escalation for a waiting decision. */
typedef struct lh_esc_final {
    int pending;                  /* still pending: nothing below */
    lh_action action;             /* allow / deny; escalate for on_timeout ask */
    lh_risk risk;
    const char *rule, *reason, *revision;   /* in the arena given */
} lh_esc_final;

/* The quorum rule: any deny decides deny at once; quorum allows (of distinct experts)
 * decide allow; otherwise it stays open. */
typedef enum { LH_ESC_OPEN = 0, LH_ESC_ALLOWED, LH_ESC_DENIED } lh_esc_tally;
lh_esc_tally lh_esc_tally_votes(int allows, int denies, int quorum);
/* A deadline on the monotonic clock for one written on the wall clock (an escalation
 * rebuilt at the start): now_mono when it has already passed, so it expires at once. */
uint64_t lh_esc_deadline_mono(uint64_t now_mono, int64_t now_wall, int64_t deadline_wall);

lh_escalations *lh_escalations_new(struct lh_bridge *b, int max_pending, int max_waiters);
/* Rebuild from the store's escalation.* events and start the timer thread. */
int lh_escalations_start(lh_escalations *x, char *err, size_t errlen);
/* Resume every waiter (they answer "still pending") and refuse new waits. */
void lh_escalations_shutdown(lh_escalations *x);
/* Stop the timer thread (it appends: before the store closes). */
void lh_escalations_stop(lh_escalations *x);
void lh_escalations_free(lh_escalations *x);

/* For an escalate decision d with a route (d->escalation) of request r: decide it from the
 * verdict cache (d becomes allow/deny, tier expert; returns 2), or create or join an
 * escalation (returns 1); rq->esc.id is set in both. 0: no escalation (no route, the
 * table is full, or out of memory): d stays a plain escalate. e: the engine that
 * decided (re-asked with explain for the context); a: the request's arena.
 * A new escalation is unborn: rq->esc.created holds its escalation.created event's data,
 * which the caller appends together with the decision (one commit, the created event
 * first), passing lh_escalations_born and &rq->esc to lh_appender_submit_n; nobody else
 * sees it until then. A caller that does not append calls lh_escalations_abandon. */
int lh_escalations_on_decision(lh_escalations *x, struct lh_req *rq, const lh_request *r, lh_decision *d,
                               lh_engine *e, lh_arena *a);
/* On the store's writer thread, for w = &rq->esc: rc 0, the escalation.created event is
 * durable: the escalation is seen (lists, SSE, verdicts, its deadline); else it is
 * dropped. Frees nothing of rq. */
void lh_escalations_born(void *w, int rc);
/* rq's unborn escalation, if any, is dropped and rq->esc.created freed. */
void lh_escalations_abandon(struct lh_req *rq);
/* Suspend rq's connection until its escalation ends or rq->esc.until. 0 when suspended;
 * -1 when it is no longer pending or too many wait (answer now). */
int lh_escalations_wait(lh_escalations *x, struct MHD_Connection *c, struct lh_req *rq);
/* Has r's wait been ended (it is resumed)? */
int lh_escalations_woken(lh_escalations *x, const struct lh_req *r);
/* The outcome of escalation id (strings in a). -1: not known. */
int lh_escalations_final(lh_escalations *x, const char *id, lh_arena *a, lh_esc_final *out);
/* The metrics text (malloc'd). */
char *lh_escalations_metrics(lh_escalations *x);

/* A resumed request: its next step (the decision's reply, or the list again). */
enum MHD_Result lh_escalations_resumed(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);
/* GET /v1/escalations, GET /v1/escalations/stream, GET /v1/escalations/{id},
 * POST /v1/escalations/{id}/verdict (the id in r->rid). */
enum MHD_Result lh_route_escalations_list(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);
enum MHD_Result lh_route_escalations_stream(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);
enum MHD_Result lh_route_escalation_get(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);
enum MHD_Result lh_route_escalation_verdict(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);
/* The verdict route appends like a decision (lh_appender_submit_n, its connection
 * suspended): lh_escalations_verdict_done (w = &r->esc) applies the verdict on the store's
 * writer thread once it is durable, and the resumed request answers with
 * lh_escalations_verdict_finish (called by lh_route_decide_finish). */
void lh_escalations_verdict_done(void *w, int rc);
enum MHD_Result lh_escalations_verdict_finish(struct lh_bridge *b, struct MHD_Connection *c, struct lh_req *r);

#endif

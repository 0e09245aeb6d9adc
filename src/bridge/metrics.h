/* metrics.h — the bridge's Prometheus metrics (names from reference/operations.md).
 *
 * Every counter and histogram bucket is a relaxed atomic: recording a request costs a
 * few uncontended atomic adds and takes no lock. Rendering reads them all. */
#ifndef LH_BRIDGE_METRICS_H
#define LH_BRIDGE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/outcome.h"

typedef enum {
    LH_ROUTE_VALIDATE = 0, LH_ROUTE_HOOK, LH_ROUTE_OPA, LH_ROUTE_EVENTS, LH_ROUTE_STREAM,
    LH_ROUTE_POLICY, LH_ROUTE_POLICY_HISTORY, LH_ROUTE_ROLLBACK, LH_ROUTE_STATUS,
    LH_ROUTE_HEALTH, LH_ROUTE_READY, LH_ROUTE_METRICS, LH_ROUTE_SLA, LH_ROUTE_TOKENS, LH_ROUTE_TOKENS_REVOKE,
    LH_ROUTE_SHADOWS, LH_ROUTE_SHADOWS_TREE, LH_ROUTE_SHADOWS_FILE, LH_ROUTE_SHADOWS_HISTORY, LH_ROUTE_SHADOWS_DIFF,
    LH_ROUTE_EXPERTS_REGISTER, LH_ROUTE_EXPERTS_LEAVE, LH_ROUTE_EXPERTS, LH_ROUTE_ESCALATIONS,
    LH_ROUTE_ESCALATIONS_STREAM, LH_ROUTE_ESCALATION, LH_ROUTE_ESCALATION_VERDICT,
    LH_ROUTE_UI, LH_ROUTE_POLICY_REVISION,
    LH_ROUTE_ELICITATIONS, LH_ROUTE_ELICITATION,
    LH_ROUTE_ANNOTATIONS, LH_ROUTE_ANNOTATION,
    LH_ROUTE_MCP,
    LH_ROUTE_LOAD_RUNS,
    LH_ROUTE_OTHER, LH_ROUTE_COUNT
} lh_route;

typedef enum {
    LH_ERR_BAD_REQUEST = 0, LH_ERR_AUTH, LH_ERR_FORBIDDEN, LH_ERR_NOT_FOUND, LH_ERR_METHOD,
    LH_ERR_TOO_LARGE, LH_ERR_MEDIA_TYPE, LH_ERR_RATE_LIMITED, LH_ERR_STORE, LH_ERR_INTERNAL,
    LH_ERR_COUNT
} lh_err_kind;

#define LH_HIST_BUCKETS 16
/* Bucket upper bounds in ns (metrics.c); the last bucket is +Inf. */
extern const uint64_t lh_hist_bounds_ns[LH_HIST_BUCKETS];

typedef struct lh_hist {
    _Atomic uint64_t bucket[LH_HIST_BUCKETS + 1];  /* last: +Inf */
    _Atomic uint64_t sum_ns;
    _Atomic uint64_t count;
} lh_hist;

/* A finer histogram for the fast path's latency (lighthouse_bridge_fast_path_duration_
 * seconds): LH_FINE_BUCKETS bounds 20% apart from 50 us to 2.35 s, so a p99 read from it
 * is within 10% (the 16 buckets above jump 2-2.5x: 1, 2, 5 ms). */
#define LH_FINE_BUCKETS 60
extern const uint32_t lh_fine_bounds_us[LH_FINE_BUCKETS];
typedef struct lh_fine_hist {
    _Atomic uint64_t bucket[LH_FINE_BUCKETS + 1];  /* last: +Inf */
    _Atomic uint64_t sum_ns;
} lh_fine_hist;

enum { LH_ROLLBACK_API = 0, LH_ROLLBACK_SLA = 1 };
enum { LH_ROLLBACK_TRIGGERED = 0, LH_ROLLBACK_SUCCEEDED = 1, LH_ROLLBACK_FAILED = 2 };

#define LH_NCODES 18
/* The status codes requests are counted by (metrics.c); the last, 0, is "other". */
extern const int lh_metrics_codes[LH_NCODES];

/* Per-agent figures of the decision requests the SLA counts (ok and server faults), for
 * the SLA monitor's attribution (docs/sla.md, "Per agent"). The first LH_METRICS_AGENTS
 * agents (non-empty names) get a slot each, for the life of the process; the others, and
 * requests without an agent, are pooled as "other" (the totals less the slots). */
#define LH_METRICS_AGENTS 32
#define LH_METRICS_AGENT_NAME 129
typedef struct lh_agent_counters {
    _Atomic uint64_t requests, ok, unavailable, store_faults, dur_sum_ns;
    _Atomic uint64_t dur[LH_HIST_BUCKETS + 1], ok_dur[LH_HIST_BUCKETS + 1];
} lh_agent_counters;

typedef struct lh_metrics {
    _Atomic uint64_t requests[LH_ROUTE_COUNT][LH_NCODES];   /* answered requests by status */
    _Atomic uint64_t outcomes[LH_ROUTE_COUNT][LH_OUTCOME_COUNT];   /* every request by class (util/outcome.h) */
    lh_hist request_duration[LH_ROUTE_COUNT];
    lh_hist decision_ok;                  /* 2xx answers of the decision routes (SLA monitor; not rendered) */
    lh_hist decision_sla;                 /* ok and server-fault answers of the decision routes (SLA; not rendered) */
    lh_hist validation;                   /* engine decide time */
    lh_hist commit;                       /* store append time */
    lh_fine_hist fast_path;               /* decisions answered allow/deny without experts, arrival to reply */
    _Atomic uint64_t escalation_cpu_ns;   /* request threads' CPU on escalation work */
    _Atomic uint64_t fast_cpu_ns, fast_cpu_n;   /* sampled fast-path requests' handler CPU */
    _Atomic uint64_t errors[LH_ERR_COUNT];
    _Atomic uint64_t decisions[3][4][4];  /* action, tier, risk */
    _Atomic uint64_t store_appends, store_failures;
    /* Policy rollbacks by trigger (LH_ROLLBACK_API, LH_ROLLBACK_SLA) and result
     * (triggered, succeeded, failed); the time of the succeeded ones. */
    _Atomic uint64_t rollbacks[2][3];
    _Atomic uint64_t rollback_ns_sum;
    _Atomic uint64_t escalations;
    _Atomic uint64_t cache_hits_base, cache_lookups_base;  /* from retired engines */
    lh_agent_counters agent[LH_METRICS_AGENTS];
    char agent_name[LH_METRICS_AGENTS][LH_METRICS_AGENT_NAME];   /* written once, before agent_n counts it */
    _Atomic int agent_n;                  /* slots in use */
} lh_metrics;

const char *lh_route_name(lh_route r);
/* One request done. status 0: no reply was queued (peerGone: because the peer closed or
 * reset the connection first). Counts its outcome class; an answered request also counts
 * in requests_total by status and in the route's duration histogram. */
void lh_metrics_request(lh_metrics *m, lh_route r, int status, int peerGone, uint64_t ns);
/* The same request of a decision route, by agent (after lh_metrics_request): counted in
 * the agent's slot when its outcome counts for the SLA. A linear scan of at most
 * LH_METRICS_AGENTS names; a new agent takes a slot under a lock, once. */
void lh_metrics_agent_request(lh_metrics *m, lh_route r, const char *agent, int status, int peerGone, uint64_t ns);
void lh_metrics_error(lh_metrics *m, lh_err_kind k);
/* One fast-path decision request done (answered 2xx, allow or deny, not by experts and
 * without waiting for an escalation), ns from its arrival to its reply: the bridge's own
 * latency of the fast path, free of the client's scheduling (bench/escalation_ab.sh). */
void lh_metrics_fast_path(lh_metrics *m, uint64_t ns);
/* ns of a request thread's CPU time spent on escalation work: the experts' routes, and
 * making an escalation out of a decision (its context, its event). */
void lh_metrics_escalation_cpu(lh_metrics *m, uint64_t ns);
/* A sampled fast-path request's CPU time in the bridge's handler calls (its parse, auth,
 * engine, event and reply; not libmicrohttpd's socket I/O nor the store's commit). */
void lh_metrics_fast_path_cpu(lh_metrics *m, uint64_t ns);
void lh_hist_observe(lh_hist *h, uint64_t ns);
/* One engine decision (action, tier and risk as the engine's enums; escalated: it is an
 * escalation) that took ns. */
void lh_metrics_decision(lh_metrics *m, int action, int tier, int risk, int escalated, uint64_t ns);
/* n events appended (ok) or one append failed (!ok), which took ns (0: not timed). */
void lh_metrics_store_result(lh_metrics *m, int ok, uint64_t n, uint64_t ns);
/* A policy rollback by trigger (LH_ROLLBACK_API or _SLA) and result (LH_ROLLBACK_*); ns:
 * its time, for a succeeded one. */
void lh_metrics_rollback(lh_metrics *m, int trigger, int result, uint64_t ns);
/* The cache counters of an engine that was retired (added to the current engine's). */
void lh_metrics_cache_retired(lh_metrics *m, uint64_t hits, uint64_t lookups);

/* The cumulative counters the SLA monitor samples (sla.h: lh_sla_sample), read without
 * a lock: the decision requests of outcome ok or server_fault, their 503s (the store's),
 * their duration buckets (not cumulative), and the same per agent slot. */
typedef struct lh_metrics_sla_counts {
    uint64_t requests, ok, unavailable, store_faults, dur_sum_ns;
    uint64_t dur[LH_HIST_BUCKETS + 1], ok_dur[LH_HIST_BUCKETS + 1];
} lh_metrics_sla_counts;
/* total, and agents[0, LH_METRICS_AGENTS): the slots published so far (the others zero).
 * Returns the number of slots published. */
int lh_metrics_sla_read(const lh_metrics *m, lh_metrics_sla_counts *total, lh_metrics_sla_counts *agents);
/* The agents' names by slot (written once, before the slot is published). */
const char (*lh_metrics_agent_names(const lh_metrics *m))[LH_METRICS_AGENT_NAME];

typedef struct lh_metrics_extra {
    uint64_t cache_hits, cache_lookups;   /* current engine */
    unsigned active_connections;
    uint64_t active_sessions;
    const char *policy_revision;
    int postgres;                         /* -1: not in use; 0 down; 1 up */
    double start_time;                    /* unix seconds */
    const char *more;                     /* more exposition text to append (the SLA monitor's), or NULL */
} lh_metrics_extra;

/* Render the Prometheus text exposition into a malloc'd string (caller frees). */
char *lh_metrics_render(const lh_metrics *m, const lh_metrics_extra *x, size_t *len);

#endif

/* sla.h — the SLA evaluator: the eight thresholds of reference/workloads.md computed over
 * a sliding window of the bridge's own cumulative counters (docs/sla.md).
 *
 * This part is pure: no threads, no I/O, no clock. The caller (sla_monitor.c, or a unit
 * test) pushes one lh_sla_sample of cumulative counters per tick; the evaluator keeps a
 * ring of them, computes each metric as the difference between the newest sample and
 * the one window_s older, and steps each metric's state machine (grace on the way in,
 * a hold time on the way out). It reports the transitions; acting on them (events,
 * alerts, rollback) is the caller's business. The lineage functions below decide, as
 * pure functions too, whether a violation rolls the policy back and to which revision.
 *
 * Memory: lh_sla_eval_new allocates the ring; lh_sla_eval_free frees it. Not thread safe:
 * the caller serialises pushes and reads. */
#ifndef LH_BRIDGE_SLA_H
#define LH_BRIDGE_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/metrics.h"

typedef enum {
    LH_SLA_COMPLIANCE = 0,   /* sla_compliance_rate: % of decision requests answered 2xx in <= 100 ms */
    LH_SLA_P99,              /* p99_response_time_ms */
    LH_SLA_AVG,              /* avg_response_time_ms */
    LH_SLA_AVAILABILITY,     /* availability_percent: % of decision requests not a server fault */
    LH_SLA_ERROR_RATE,       /* error_rate_percent: % of decision requests that are a server fault */
    LH_SLA_RPS,              /* requests_per_second (only while traffic is expected) */
    LH_SLA_CPU,              /* cpu_utilization_percent of the CPUs the bridge may use */
    LH_SLA_MEMORY,           /* memory_utilization_percent: RSS / memory limit */
    LH_SLA_COUNT
} lh_sla_metric;

typedef enum { LH_SLA_WARNING = 0, LH_SLA_MINOR, LH_SLA_MAJOR, LH_SLA_CRITICAL } lh_sla_severity;

typedef enum {
    LH_SLA_OFF = 0,       /* not evaluated: turned off, or requests_per_second without expected traffic */
    LH_SLA_NO_DATA,       /* nothing to compute the value from */
    LH_SLA_OK,
    LH_SLA_BREACHING,     /* outside the threshold, within its grace */
    LH_SLA_VIOLATED,      /* outside the threshold for longer than its grace */
} lh_sla_state;

typedef struct lh_sla_threshold {
    int enabled;
    double threshold;
    double grace_s;
    lh_sla_severity severity;
    int rollback;          /* a violation may roll the policy back */
} lh_sla_threshold;

typedef struct lh_sla_config {
    int enabled;                 /* the monitor runs (default 1) */
    double window_s;             /* sliding window (default 300) */
    double interval_s;           /* sample and evaluate every (default 1) */
    double resolve_hold_s;       /* a violation resolves after this long back inside (default 30) */
    double canary_window_s;      /* automatic rollback only for revisions this young (default 900) */
    int traffic_expected;        /* evaluate requests_per_second (default 0) */
    double latency_target_ms;    /* the "fast enough" of sla_compliance_rate (default 100) */
    uint64_t min_requests;       /* fewer decision requests in the window: not enough data (default 20) */
    uint64_t rollback_min_requests; /* a rollback needs this many under the revision (default 20) */
    double rollback_margin;      /* ... and its figure worse than before by this fraction (default 0.1) */
    lh_sla_threshold t[LH_SLA_COUNT];
} lh_sla_config;

void lh_sla_config_defaults(lh_sla_config *c);
/* Apply one "sla_*" setting (key without the "sla_" prefix, e.g. "window_s",
 * "p99_response_time_ms", "p99_response_time_ms_grace_s"). 0, or -1 with a message. */
int lh_sla_config_set(lh_sla_config *c, const char *key, const char *value, char *err, size_t errlen);
/* Cross-field checks (ring size). 0, or -1 with a message. */
int lh_sla_config_check(const lh_sla_config *c, char *err, size_t errlen);

const char *lh_sla_metric_name(lh_sla_metric m);
const char *lh_sla_severity_name(lh_sla_severity s);
const char *lh_sla_state_name(lh_sla_state s);
/* 1 when a larger value is worse (violated when value > threshold), 0 when smaller is. */
int lh_sla_higher_is_worse(lh_sla_metric m);

/* One agent's cumulative counters (the same fields as the totals below). */
#define LH_SLA_AGENTS LH_METRICS_AGENTS
/* The same fields as the totals below; the metrics' snapshot type (metrics.h). */
typedef lh_metrics_sla_counts lh_sla_agent_fig;

/* Cumulative counters at one instant. Durations are of the decision routes only. */
typedef struct lh_sla_sample {
    uint64_t t_ns;                        /* monotonic clock */
    uint64_t requests;                    /* decision requests of outcome ok or server_fault (util/outcome.h) */
    uint64_t ok;                          /* ... ok (answered 2xx) */
    uint64_t unavailable;                 /* ... server_fault (5xx, or no reply through the bridge's fault) */
    uint64_t store_faults;                /* ... of those, answered 503: the store (or a stop), never a revision */
    uint64_t dur[LH_HIST_BUCKETS + 1];    /* duration buckets (not cumulative) of the requests counted */
    uint64_t dur_sum_ns;
    uint64_t ok_dur[LH_HIST_BUCKETS + 1]; /* durations of the 2xx answers */
    double cpu_s;                         /* process CPU seconds (user + system); < 0 unknown */
    double cpus;                          /* CPUs the process may use; <= 0 unknown */
    double rss_bytes;                     /* resident memory now; < 0 unknown */
    double mem_limit_bytes;               /* memory limit; <= 0 unknown */
    /* Slot i: the i-th agent the bridge saw (names: lh_sla_lineage.names); all zero for a
     * slot not taken. "other" (untracked agents, no agent) is the totals less the slots. */
    lh_sla_agent_fig agent[LH_SLA_AGENTS];
} lh_sla_sample;

/* The state of one metric. Times are on the monotonic clock of the samples. */
typedef struct lh_sla_mstate {
    lh_sla_state state;
    int has;                  /* value is meaningful */
    double value;
    const char *no_data;      /* why there is no value (static text), NULL when has */
    uint64_t since_ns;        /* when state was entered */
    uint64_t breach_ns;       /* first sample outside the threshold in this episode */
    uint64_t inside_ns;       /* violated: first sample back inside (0: not inside) */
    uint64_t violations;      /* violations raised so far */
} lh_sla_mstate;

typedef struct lh_sla_transition {
    lh_sla_metric metric;
    int violated;             /* 1: sla.violated; 0: sla.resolved */
    double value;             /* the value at the transition (NaN when no data) */
    int has;
    uint64_t breach_ns;       /* when the episode began */
    uint64_t now_ns;
} lh_sla_transition;

typedef struct lh_sla_eval lh_sla_eval;

/* NULL when out of memory or when the config does not check. */
lh_sla_eval *lh_sla_eval_new(const lh_sla_config *c);
void lh_sla_eval_free(lh_sla_eval *e);
/* Add one sample (t_ns must not go backwards), recompute every metric over the window
 * and step its state. Writes the transitions to out (room for LH_SLA_COUNT) and returns
 * how many. */
int lh_sla_eval_push(lh_sla_eval *e, const lh_sla_sample *s, lh_sla_transition *out);
void lh_sla_eval_state(const lh_sla_eval *e, lh_sla_metric m, lh_sla_mstate *out);
/* The samples the values were computed from: the newest, and the one the window starts
 * at (an all-zero sample before the first). Valid until the next push. */
const lh_sla_sample *lh_sla_eval_newest(const lh_sla_eval *e);
const lh_sla_sample *lh_sla_eval_window_start(const lh_sla_eval *e);
/* Seconds between the two samples the values were computed from (0 before the second). */
double lh_sla_eval_covered_s(const lh_sla_eval *e);

/* ---- revisions: the lineage, known-good and the rollback decision ---------------- */

#define LH_SLA_LINEAGE_MAX 64

typedef struct lh_sla_rev {
    char rev[160];
    lh_sla_sample at;         /* the counters when it (last) became active (lh_sla_lineage_set_sample) */
    int has_at;
    uint64_t activated_ns;    /* monotonic: when it (last) became active */
    uint64_t requests_at;     /* decision requests answered by then */
    int good;                 /* known-good */
    int tainted;              /* a rollback-flagged violation was raised while it was active */
} lh_sla_rev;

/* The revisions active in this run, as a stack: the top is active, the one below it is
 * what a rollback returns to. The bottom (the revision the bridge started with) is
 * known-good. */
typedef struct lh_sla_lineage {
    lh_sla_rev r[LH_SLA_LINEAGE_MAX];
    int n;
    /* The agents' names by slot (the bridge's metrics), for the evidence's text; NULL:
     * "agent #i". */
    const char (*names)[LH_METRICS_AGENT_NAME];
} lh_sla_lineage;

/* rev became active at now (requests: decision requests answered so far). A rollback to
 * the revision below the top pops the top; the same revision again changes nothing;
 * anything else is pushed (when full, the oldest above the bottom is forgotten). */
void lh_sla_lineage_change(lh_sla_lineage *l, const char *rev, int rollback, uint64_t now, uint64_t requests);
/* After an evaluation: the top becomes known-good once it has been active for the canary
 * window, has answered decision requests since, was never tainted, and no
 * rollback-flagged metric is in trouble (breaching or violated) now. */
void lh_sla_lineage_tick(lh_sla_lineage *l, uint64_t now, uint64_t requests, double canary_s, int flaggedTrouble);
/* Should violation t roll the policy back? 1 with the target and the active revision,
 * or 0 with the reason in why. A rollback-flagged violation taints the active revision
 * (it can no longer become known-good). */
int lh_sla_rollback_plan(lh_sla_lineage *l, const lh_sla_config *c, const lh_sla_transition *t, char *target,
                         char *from, size_t cap, char *why, size_t whylen);

/* The counters at the moment the top of the lineage became active (call right after
 * lh_sla_lineage_change): the end of the previous revision's figures, the start of this
 * one's. */
void lh_sla_lineage_set_sample(lh_sla_lineage *l, const lh_sla_sample *s);
/* Is there evidence against the active revision for metric m, now? After
 * lh_sla_rollback_plan said yes: 1 when, over its own canary (from when it became active
 * to now, leaving out the 503s of the store, which no revision causes), it has at least
 * rollback_min_requests decision requests, its figure is outside the threshold, and it is
 * worse than the previous revision's figure before the change (or, without enough
 * requests then, than the threshold) by more than rollback_margin, and (for a request
 * metric) it is still outside the threshold without the agent that pulls it hardest
 * (lh_sla_blame_compute). 0 with why ("no rollback: ...") when the figures clear it; -1
 * with why when it has answered too few requests yet, or one agent alone makes the
 * figure (the evidence may still come while the violation lasts). */
int lh_sla_rollback_evidence(const lh_sla_lineage *l, const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *now,
                             char *why, size_t whylen);

/* ---- per agent: attribution and the one-agent rule (sla_agents.c) ---------------- */

#define LH_SLA_OTHER LH_SLA_AGENTS   /* the slot of "other" in lh_sla_blame */
#define LH_SLA_BLAME_TOP 3

/* Who made metric m what it is between two samples, and would it be outside its
 * threshold without the agent that pulls it hardest? */
typedef struct lh_sla_blame {
    int n;                            /* contributors listed, worst first (at most LH_SLA_BLAME_TOP) */
    int slot[LH_SLA_BLAME_TOP];       /* agent slot, or LH_SLA_OTHER */
    double share[LH_SLA_BLAME_TOP];   /* of the shortfall (below), 0..1 */
    int worst;                        /* the tracked agent left out (-1: none with requests) */
    int trimmed_has;                  /* the figure without it: 1 with trimmed, 0 too few requests left */
    double trimmed;
    uint64_t trimmed_requests;        /* requests left without it */
    int alone;                        /* without the worst agent the metric is not outside its threshold */
} lh_sla_blame;

/* For a request metric (compliance, p99, avg, availability, error rate): the shortfall of
 * each agent (compliance: its requests not answered 2xx within the latency target; p99:
 * its requests above the threshold; avg: its duration sum; availability and error rate:
 * its server faults), the top contributors by share, and the trimmed figure: the metric
 * recomputed without the tracked agent that pulls it hardest (the largest shortfall; for
 * the average, whose removal improves it most), with at least min_requests left, else no
 * figure: alone. "other" is listed but never left out.
 * O(agents × buckets). Returns 0 for the other metrics (nothing to attribute), else 1. */
int lh_sla_blame_compute(const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *old, const lh_sla_sample *now,
                         uint64_t minRequests, lh_sla_blame *out);
/* "mallory 97%, alice 2%, other 1%" into buf (names by slot; NULL: "agent #i"). */
void lh_sla_blame_text(const lh_sla_blame *b, const char (*names)[LH_METRICS_AGENT_NAME], char *buf, size_t cap);
/* The name of slot i ("other" for LH_SLA_OTHER). */
const char *lh_sla_agent_name(const char (*names)[LH_METRICS_AGENT_NAME], int slot, char *tmp, size_t cap);

/* The pure maths, exposed for tests: the value of m between two samples. 1 with *v set,
 * or 0 with *why set to a static "no data" reason. */
int lh_sla_compute(const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *old,
                   const lh_sla_sample *now, double *v, const char **why);

/* How many of the bucket differences b - a are at most limitNs: whole buckets below it,
 * the bucket that holds it pro rata (exact at a bucket bound). */
double lh_sla_count_under(const uint64_t *a, const uint64_t *b, double limitNs);

#endif

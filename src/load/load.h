/* load.h — `lighthouse load`: a simulated fleet of agents driving the real bridge.
 *
 * The whole face of src/load/: workload patterns (built in or from YAML), the command
 * corpus, log-linear latency histograms, the open-loop generator (one epoll loop), the
 * sampler of the bridge's own resources, the JSON and HTML reports, baselines with a
 * statistical regression test, and the run history (SQLite). docs/load.md is the guide.
 *
 * Errors are return values (-1) with a message in err; nothing here prints to stdout
 * or exits. */
#ifndef LH_LOAD_H
#define LH_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* ---- histograms (hist.c) -------------------------------------------------------- */

/* A log-linear histogram of nanosecond values (HdrHistogram's layout): 2^sub_bits linear
 * sub-buckets per power of two, so a quantile, reported at its bucket's midpoint, is
 * within 1/2^sub_bits of the true value (sub_bits 8: 0.4%). Range 1 ns … 60 s; larger
 * values are clamped to 60 s and counted in `clamped`. */
#define LH_LOAD_HIST_MAX_NS 60000000000ull
typedef struct lh_load_hist {
    int sub_bits, nbuckets;
    uint32_t *b;                 /* owned */
    uint64_t count, clamped, min_ns, max_ns;
    double sum_ns;
} lh_load_hist;

int lh_load_hist_init(lh_load_hist *h, int sub_bits);   /* 0, or -1 out of memory */
void lh_load_hist_free(lh_load_hist *h);
void lh_load_hist_add(lh_load_hist *h, uint64_t ns);
void lh_load_hist_merge(lh_load_hist *into, const lh_load_hist *from);  /* same sub_bits */
uint64_t lh_load_hist_quantile(const lh_load_hist *h, double q);  /* 0 when empty */
double lh_load_hist_mean(const lh_load_hist *h);
/* the bucket index of a value, and a bucket's [lo, hi) in ns (for charts) */
int lh_load_hist_index(const lh_load_hist *h, uint64_t ns);
void lh_load_hist_bounds(const lh_load_hist *h, int idx, uint64_t *lo, uint64_t *hi);

/* ---- patterns (pattern.c) ------------------------------------------------------- */

enum { LH_LOAD_SAFE, LH_LOAD_RISKY, LH_LOAD_COMPLEX, LH_LOAD_CLASSES };
enum { LH_LOAD_TZ_US_EAST, LH_LOAD_TZ_US_WEST, LH_LOAD_TZ_EUROPE, LH_LOAD_TZ_ASIA, LH_LOAD_TZ_COUNT };

typedef struct lh_load_pattern {
    char name[64];
    double mix[LH_LOAD_CLASSES];      /* sums to 1 */
    double base_rate;                 /* requests/s */
    double peak_multiplier;           /* ≥ 1: the rate at the curve's peak, × base */
    double burst_probability;         /* per burst_interval_s */
    double burst_multiplier;          /* 5 */
    double burst_duration_s;
    int agents_base, agents_peak;
    double session_mean_s;            /* exponential */
    double think_time_s;              /* think = think_time_s × U(0.5, 1.5) */
    double network_error_rate;        /* fraction of requests hit by an injected fault */
    double reset_fraction;            /* of those: reset mid-request (the rest: dropped) */
    double retry_fraction;            /* of those: retried */
    double retry_delay_mean_s;        /* exponential */
    double tz_weight[LH_LOAD_TZ_COUNT];
    double day_s;                     /* a simulated day (86400; shorter compresses it) */
    double tz_min_duration_s;         /* the time-zone curve applies to runs this long */
} lh_load_pattern;

const char *const *lh_load_pattern_names(void);            /* NULL-terminated */
int lh_load_pattern_builtin(const char *name, lh_load_pattern *p, char *err, size_t errlen);
/* A YAML mapping of the fields above (docs/load.md); `pattern: NAME` starts from a
 * built-in one. Unknown keys and impossible values are errors. */
int lh_load_pattern_file(const char *path, lh_load_pattern *p, char *err, size_t errlen);
/* Set one field by its YAML/flag name ("base_rate", "mix" as "0.7/0.2/0.1", …). */
int lh_load_pattern_set(lh_load_pattern *p, const char *key, const char *val, char *err, size_t errlen);
int lh_load_pattern_check(const lh_load_pattern *p, char *err, size_t errlen);
json_t *lh_load_pattern_json(const lh_load_pattern *p);
/* The load curve in [0, 1] at t seconds into a run of duration_s (docs/load.md). */
double lh_load_pattern_curve(const lh_load_pattern *p, double t, double duration_s, double start_utc_hour);

/* ---- corpus (corpus.c) ---------------------------------------------------------- */

typedef struct lh_load_command {
    int cls;                 /* LH_LOAD_SAFE … */
    char *command;           /* as given */
    char *json;              /* the command as a JSON string literal, quotes included */
    int scenario;            /* expert escalation scenario (-1 none), see lh_load_scenario_name */
} lh_load_command;

typedef struct lh_load_corpus {
    lh_load_command *cmd;
    int n, by_class[LH_LOAD_CLASSES];
    int *idx[LH_LOAD_CLASSES];   /* indices of each class */
} lh_load_corpus;

#define LH_LOAD_SCENARIOS 4
const char *lh_load_scenario_name(int s);
/* Load a JSON-lines corpus ({"class": "safe|risky|complex", "command": "..."}); path
 * NULL searches the documented places. Each class must have at least one command. */
int lh_load_corpus_load(lh_load_corpus *c, const char *path, char *used, size_t usedlen, char *err, size_t errlen);
void lh_load_corpus_free(lh_load_corpus *c);

/* ---- the run (gen.c, sampler.c) ------------------------------------------------- */

typedef struct lh_load_options {
    lh_load_pattern pat;
    double duration_s;
    uint64_t seed;
    char host[64];           /* a loopback address */
    int port;
    char path[128];          /* /v1/validate */
    char **tokens;           /* round-robin over agents; not owned */
    int ntokens;
    double timeout_s;        /* a request unanswered this long failed */
    double drain_s;          /* after the run, wait this long for replies in flight */
    int bridge_pid;          /* 0: take the PID from /metrics' process_* series */
    const lh_load_corpus *corpus;
    int quiet;
} lh_load_options;

/* One sample of the bridge process (sampler.c). */
typedef struct lh_load_res {
    double t;                /* s since the load started (negative: before) */
    double cpu_s;            /* process CPU seconds, cumulative */
    double rss_bytes;
    double fds;
    double cpu_percent;      /* over the last interval, of one CPU */
} lh_load_res;

#define LH_LOAD_TIERS 5      /* cache, policy, analysis, expert, unknown */
const char *lh_load_tier_name(int t);

/* The outcome classes of a request, counted by the generator and by the bridge
 * (lighthouse_bridge_outcomes_total{route,class}): answered 2xx; 5xx; 4xx other than 429;
 * 429; the client went away mid-request (the generator's injected resets). */
enum { LH_LOAD_OUT_OK, LH_LOAD_OUT_SERVER_FAULT, LH_LOAD_OUT_CLIENT_ERROR, LH_LOAD_OUT_THROTTLED,
       LH_LOAD_OUT_CLIENT_GONE, LH_LOAD_OUTCOMES };

/* One timeline slot (slot_s seconds). */
typedef struct lh_load_slot {
    uint32_t ok, failed, sent, agents;
    uint32_t server_fault, client_error, throttled, gone, no_reply;   /* failed, by class */
    lh_load_hist h;          /* sub_bits 5: ±3% */
} lh_load_slot;

typedef struct lh_load_result {
    /* counts */
    uint64_t scheduled;           /* arrivals the pattern scheduled */
    uint64_t sent;                /* requests sent whole (attempts, retries included) */
    uint64_t ok;                  /* 2xx with a decision */
    uint64_t failed;              /* sent whole, no 2xx (status, timeout, connection) */
    uint64_t not_sent;            /* scheduled but never sent (generator saturated) */
    uint64_t status[6];           /* 1xx..5xx by class; [0] connection/timeout */
    uint64_t throttled;           /* 429s (in status[4]) */
    uint64_t timeouts, conn_errors, connect_failures;
    uint64_t sla_ok;              /* ok and under 100 ms */
    uint64_t by_class[LH_LOAD_CLASSES];
    uint64_t decisions[3];        /* allow, deny, escalate */
    uint64_t scenario[LH_LOAD_SCENARIOS];
    /* faults */
    uint64_t faults, dropped, resets, retries, retries_ok, abandoned;
    /* latency, from each request's scheduled time */
    lh_load_hist all, tier[LH_LOAD_TIERS], escalated;
    /* the fast path: allow and deny replies not decided by experts (escalations apart), from
     * the scheduled time and from the send (the bridge's service time, without an agent's
     * own queueing behind an escalation it waited for) */
    lh_load_hist fast, fast_sent;
    double engine_us_sum[LH_LOAD_TIERS];   /* the reply's latency_us, per tier */
    uint64_t engine_n[LH_LOAD_TIERS];
    /* timeline */
    lh_load_slot *slots;
    int nslots;
    double slot_s;
    /* agents and connections */
    int agents_peak, connections_opened, sessions_started;
    int bursts;
    /* generator */
    double wall_s, gen_cpu_s, start_epoch, t0_mono;
    double last_reply_mono, last_reply_s;   /* when the last answer came in */
    double think_effective_mean_s;
    double sched_lag_p99_ns, sched_lag_max_ns;   /* scheduled → sent, the generator's own delay */
    /* server (the bridge) */
    lh_load_res *res;
    int nres;
    int bridge_pid;
    char res_source[128];         /* "/proc/PID" or "/metrics" or why none */
    double mem_limit_bytes;
    /* from the bridge's /metrics before and after the run */
    int metrics_ok;
    double m_store_commit_sum[2], m_store_commit_n[2];
    double m_engine_sum[2], m_engine_n[2];
    double m_validate_200[2], m_decisions[2];
    double m_out[2][LH_LOAD_OUTCOMES];   /* the bridge's outcomes of o->path (NAN: not exported) */
    int m_out_native;             /* 1: from lighthouse_bridge_outcomes_total; 0: from requests_total by code */
    /* a failure of the run itself (unreachable target …); empty when it ran */
    char fatal[256];
} lh_load_result;

int lh_load_run(const lh_load_options *o, lh_load_result *r, char *err, size_t errlen);
void lh_load_result_free(lh_load_result *r);

/* ---- simulated experts (experts.c) ---------------------------------------------- */

#define LH_LOAD_EXPERTS_MAX 64
typedef struct lh_load_experts_opts {
    const char *host;              /* the bridge (loopback) */
    int port;
    char **tokens;                 /* one expert token each; not owned */
    int n;
    double availability;           /* chance an expert answers an escalation given to it */
    double speed;                  /* think times × speed (1: workloads.md's) */
    uint64_t seed;
    const char *capabilities_json; /* the register body, {"capabilities": [...]}; NULL: none */
} lh_load_experts_opts;
typedef struct lh_load_experts lh_load_experts;
/* Start n expert threads (register, long-poll, answer). NULL with err. */
lh_load_experts *lh_load_experts_start(const lh_load_experts_opts *o, char *err, size_t errlen);
/* Stop and free them; with r, the report's "experts" object (their counts, and the
 * latency of the replies experts decided, apart from the fast path). */
json_t *lh_load_experts_stop(lh_load_experts *x, const lh_load_result *r);
/* The escalation scenario of workloads.md a command triggers (-1 none). */
int lh_load_scenario_of(const char *cmd);

/* GET a loopback URL path with a plain socket: the status (or -1) and up to cap bytes of
 * body. Used for /health and /metrics. */
int lh_load_http_get(const char *host, int port, const char *path, char *body, size_t cap, double timeout_s);
/* The value of one Prometheus series (sum of all label sets matching prefix), or NAN. */
double lh_load_prom_value(const char *text, const char *series_prefix);

/* ---- the generator's counts beside the bridge's (agree.c) ---------------------------- */

const char *lh_load_outcome_name(int c);   /* "ok", "server_fault", ... */
/* The bridge's count per outcome class of requests to route, from /metrics text:
 * lighthouse_bridge_outcomes_total{route,class} when the bridge exports it (returns 1),
 * else lighthouse_bridge_requests_total{route,code} by status code (returns 0; client_gone
 * is then NAN: status codes cannot say that a client went away). */
int lh_load_outcomes_scrape(const char *text, const char *route, double out[LH_LOAD_OUTCOMES]);
/* The generator's own count of class c. */
uint64_t lh_load_outcome_count(const lh_load_result *r, int c);
/* Requests whose class the generator cannot know (timed out, connection closed without a
 * reply): the bridge may have counted each in any class. */
uint64_t lh_load_outcome_inflight(const lh_load_result *r);
/* The agreement table (docs/load.md): per class, the generator's count, the bridge's
 * delta, the difference; *status 1 agree, 0 a difference beyond the in-flight requests,
 * -1 no data (/metrics unreadable). why gets one line for the verdict. New reference. */
json_t *lh_load_agreement(const lh_load_result *r, int *status, char *why, size_t whylen);
/* Tallies of a Prometheus series: the sum over lines of metric name whose label set
 * contains every one of labels (each as key="value"; NULL-terminated); NAN when none. */
double lh_load_prom_labeled(const char *text, const char *name, const char *const *labels);

/* ---- report (report.c, html.c) -------------------------------------------------- */

typedef struct lh_load_compare lh_load_compare;   /* baseline.c */

/* The JSON report (docs/load.md); returns a new reference. cmp may be NULL. */
json_t *lh_load_report(const lh_load_options *o, const lh_load_result *r, const lh_load_compare *cmp);
/* baseline_path (may be NULL): a --baseline file, whose per-second p99 and throughput are
 * overlaid on the charts. */
int lh_load_html(const char *path, const json_t *report, const lh_load_result *r, const char *baseline_path, char *err,
                 size_t errlen);

/* ---- baselines (baseline.c) ----------------------------------------------------- */

/* The per-second samples and summary a baseline keeps. */
json_t *lh_load_baseline_json(const json_t *report, const lh_load_result *r);
/* Compare this run with a baseline file; NULL with err on a missing or corrupt file. A
 * latency regression must also be min_delta_ms slower in absolute terms. */
lh_load_compare *lh_load_compare_baseline(const char *path, const json_t *report, const lh_load_result *r,
                                          double min_delta_ms, char *err, size_t errlen);
json_t *lh_load_compare_json(const lh_load_compare *c);
int lh_load_compare_regressed(const lh_load_compare *c);
void lh_load_compare_free(lh_load_compare *c);
/* Check a baseline file whole (JSON, the marker, every metric), as the compare will read
 * it: 0, or -1 with err naming the file and what is wrong. The CLI calls it before a run. */
int lh_load_baseline_check(const char *path, char *err, size_t errlen);
/* Mann–Whitney U, one-sided: the p-value that y is stochastically greater than x. */
double lh_load_mwu_greater(const double *x, int nx, const double *y, int ny);

/* ---- history (history.c) -------------------------------------------------------- */

int lh_load_history_append(const char *path, const json_t *report, char *err, size_t errlen);
int lh_load_history_print(FILE *out, const char *path, int limit, char *err, size_t errlen);
/* The last `limit` runs of the local history (of one pattern; NULL: all), oldest first, as
 * trend rows (below); NULL with err. New reference. */
json_t *lh_load_history_rows(const char *path, int limit, const char *pattern, char *err, size_t errlen);

/* ---- the central history (summary.c) ---------------------------------------------- */

/* A run's summary as `lighthouse load` posts it to the bridge (POST /v1/load/runs), where
 * it becomes a load.completed event; docs/load.md gives the fields. The bridge refuses a
 * body over LH_LOAD_SUMMARY_MAX_BYTES (413) and one lh_load_summary_check refuses (400). */
#define LH_LOAD_SUMMARY_MAX_BYTES (64 * 1024)
#define LH_LOAD_SUMMARY_MAX_PATTERNS 16
/* Build it from a report (lh_load_report) and the run's start (unix seconds); git_commit
 * may be NULL. New reference. */
json_t *lh_load_summary(const json_t *report, double start_epoch, const char *run_id, const char *git_commit);
/* 0 when s has every field with its type and range and no other; else -1 and err names
 * the first bad field ("patterns[0].p99_ms: must be a number or null"). */
int lh_load_summary_check(const json_t *s, char *err, size_t errlen);
/* Trend rows: one object per (run, pattern), {"run", "time", "pattern", "agents", "requests",
 * "failed", "rps", "p50_ms", "p99_ms", "verdict", ...}; the local history and the bridge's
 * runs print and chart alike. rows_of_summary appends those of one checked summary (run:
 * the event's seq) to rows. */
void lh_load_summary_rows(json_t *rows, const json_t *summary, json_int_t run, int64_t time_ns);

#endif

/* sla.c — the SLA evaluator (see sla.h and docs/sla.md): settings, the window maths over
 * cumulative samples, and one small state machine per metric. */
#include "bridge/sla.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* Metrics and their defaults (reference/workloads.md)                              */
/* ------------------------------------------------------------------------------ */

typedef struct metricDef {
    const char *name;       /* also its config key, with "sla_" in front unless it has one */
    int higherWorse;
    double lo, hi;          /* accepted thresholds: lo < t <= hi (lo == -1: 0 <= t) */
    lh_sla_threshold def;
} metricDef;

static const metricDef metricDefs[LH_SLA_COUNT] = {
    {"sla_compliance_rate", 0, 0, 100, {1, 99.0, 60, LH_SLA_MAJOR, 1}},
    {"p99_response_time_ms", 1, 0, 3600000, {1, 100, 30, LH_SLA_MAJOR, 1}},
    {"avg_response_time_ms", 1, 0, 3600000, {1, 50, 120, LH_SLA_MINOR, 0}},
    {"availability_percent", 0, 0, 100, {1, 99.9, 10, LH_SLA_CRITICAL, 1}},
    {"error_rate_percent", 1, -1, 99.999, {1, 1.0, 60, LH_SLA_MAJOR, 1}},
    {"requests_per_second", 0, 0, 1e9, {1, 10, 300, LH_SLA_MINOR, 0}},
    {"cpu_utilization_percent", 1, 0, 100, {1, 85, 180, LH_SLA_WARNING, 0}},
    {"memory_utilization_percent", 1, 0, 100, {1, 90, 60, LH_SLA_MAJOR, 1}},
};

static const char *sevNames[] = {"warning", "minor", "major", "critical"};
static const char *stateNames[] = {"off", "no_data", "ok", "breaching", "violated"};

const char *lh_sla_metric_name(lh_sla_metric m) { return m < LH_SLA_COUNT ? metricDefs[m].name : "?"; }
const char *lh_sla_severity_name(lh_sla_severity s) { return s <= LH_SLA_CRITICAL ? sevNames[s] : "?"; }
const char *lh_sla_state_name(lh_sla_state s) { return s <= LH_SLA_VIOLATED ? stateNames[s] : "?"; }
int lh_sla_higher_is_worse(lh_sla_metric m) { return m < LH_SLA_COUNT && metricDefs[m].higherWorse; }

void lh_sla_config_defaults(lh_sla_config *c) {
    memset(c, 0, sizeof(*c));
    c->enabled = 1;
    c->window_s = 300;
    c->interval_s = 1;
    c->resolve_hold_s = 30;
    c->canary_window_s = 900;
    c->traffic_expected = 0;
    c->latency_target_ms = 100;
    c->min_requests = 20;
    c->rollback_min_requests = 20;
    c->rollback_margin = 0.1;
    for (int m = 0; m < LH_SLA_COUNT; m++) c->t[m] = metricDefs[m].def;
}

/* ------------------------------------------------------------------------------ */
/* Settings                                                                         */
/* ------------------------------------------------------------------------------ */

static int parseNum(const char *key, const char *v, double lo, int loOpen, double hi, double *out, char *err,
                    size_t errlen) {
    char *end;
    errno = 0;
    double n = strtod(v, &end);
    int okLo = loOpen ? n > lo : n >= lo;
    if (errno || end == v || *end || isnan(n) || !okLo || n > hi) {
        snprintf(err, errlen, "%s must be a number %s %g and at most %g (got \"%s\")", key,
                 loOpen ? "above" : "from", lo, hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int parseBool(const char *key, const char *v, int *out, char *err, size_t errlen) {
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) { *out = 1; return 0; }
    if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) { *out = 0; return 0; }
    snprintf(err, errlen, "%s must be true or false (got \"%s\")", key, v);
    return -1;
}

/* "sla_p99_response_time_ms" for p99; "sla_compliance_rate" keeps its own prefix. */
static void metricKey(lh_sla_metric m, char *out, size_t cap) {
    const char *n = metricDefs[m].name;
    snprintf(out, cap, "%s%s", strncmp(n, "sla_", 4) ? "sla_" : "", n);
}

static int setMetric(lh_sla_config *c, lh_sla_metric m, const char *suffix, const char *key, const char *v,
                     char *err, size_t errlen) {
    lh_sla_threshold *t = &c->t[m];
    const metricDef *d = &metricDefs[m];
    if (!*suffix) {
        if (!strcmp(v, "off")) { t->enabled = 0; return 0; }
        double x;
        int loOpen = d->lo >= 0;
        if (parseNum(key, v, loOpen ? d->lo : 0, loOpen, d->hi, &x, err, errlen)) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, ", or off");
            return -1;
        }
        t->threshold = x;
        t->enabled = 1;
        return 0;
    }
    if (!strcmp(suffix, "_grace_s")) return parseNum(key, v, 0, 0, 86400, &t->grace_s, err, errlen);
    if (!strcmp(suffix, "_rollback")) return parseBool(key, v, &t->rollback, err, errlen);
    if (!strcmp(suffix, "_severity")) {
        for (int s = 0; s <= LH_SLA_CRITICAL; s++)
            if (!strcmp(v, sevNames[s])) { t->severity = (lh_sla_severity)s; return 0; }
        snprintf(err, errlen, "%s must be warning, minor, major or critical (got \"%s\")", key, v);
        return -1;
    }
    return 1;   /* not a suffix of this metric */
}

int lh_sla_config_set(lh_sla_config *c, const char *key, const char *v, char *err, size_t errlen) {
    double x;
    if (!strcmp(key, "sla_enabled")) return parseBool(key, v, &c->enabled, err, errlen);
    if (!strcmp(key, "sla_traffic_expected")) return parseBool(key, v, &c->traffic_expected, err, errlen);
    if (!strcmp(key, "sla_window_s")) return parseNum(key, v, 0, 1, 86400, &c->window_s, err, errlen);
    if (!strcmp(key, "sla_eval_interval_s")) return parseNum(key, v, 0.05, 0, 60, &c->interval_s, err, errlen);
    if (!strcmp(key, "sla_resolve_hold_s")) return parseNum(key, v, 0, 0, 86400, &c->resolve_hold_s, err, errlen);
    if (!strcmp(key, "sla_canary_window_s")) return parseNum(key, v, 0, 0, 30 * 86400, &c->canary_window_s, err, errlen);
    if (!strcmp(key, "sla_latency_target_ms")) return parseNum(key, v, 0, 1, 3600000, &c->latency_target_ms, err, errlen);
    if (!strcmp(key, "sla_min_requests") || !strcmp(key, "sla_rollback_min_requests")) {
        if (parseNum(key, v, 1, 0, 1e9, &x, err, errlen)) return -1;
        if (x != floor(x)) { snprintf(err, errlen, "%s must be a whole number (got \"%s\")", key, v); return -1; }
        *(key[4] == 'r' ? &c->rollback_min_requests : &c->min_requests) = (uint64_t)x;
        return 0;
    }
    if (!strcmp(key, "sla_rollback_margin")) return parseNum(key, v, 0, 0, 10, &c->rollback_margin, err, errlen);
    for (int m = 0; m < LH_SLA_COUNT; m++) {
        char mk[64];
        metricKey((lh_sla_metric)m, mk, sizeof(mk));
        size_t n = strlen(mk);
        if (strncmp(key, mk, n) || (key[n] && key[n] != '_')) continue;
        int rc = setMetric(c, (lh_sla_metric)m, key + n, key, v, err, errlen);
        if (rc <= 0) return rc;
    }
    snprintf(err, errlen,
             "unknown SLA setting \"%s\": the metrics are sla_compliance_rate, p99_response_time_ms, "
             "avg_response_time_ms, availability_percent, error_rate_percent, requests_per_second, "
             "cpu_utilization_percent and memory_utilization_percent (keys sla_METRIC, sla_METRIC_grace_s, "
             "sla_METRIC_severity, sla_METRIC_rollback; see docs/configuration.md)", key);
    return -1;
}

#define RING_MAX 100000

static size_t ringSize(const lh_sla_config *c) {
    return (size_t)ceil(c->window_s / c->interval_s * 1.25) + 4;
}

int lh_sla_config_check(const lh_sla_config *c, char *err, size_t errlen) {
    if (!(c->window_s > 0) || !(c->interval_s > 0)) {
        snprintf(err, errlen, "sla_window_s and sla_eval_interval_s must be above 0");
        return -1;
    }
    if (c->window_s < c->interval_s) {
        snprintf(err, errlen, "sla_window_s (%g) must be at least sla_eval_interval_s (%g)", c->window_s, c->interval_s);
        return -1;
    }
    if (c->window_s / c->interval_s > RING_MAX / 1.25 - 4) {
        snprintf(err, errlen, "sla_window_s / sla_eval_interval_s is %g samples; at most %d (a longer interval or a shorter window)",
                 c->window_s / c->interval_s, (int)(RING_MAX / 1.25 - 4));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Window maths                                                                     */
/* ------------------------------------------------------------------------------ */

/* The q-quantile of the difference of two bucket arrays, in ms: linear inside the
 * bucket that holds the rank, as Prometheus' histogram_quantile does. The +Inf bucket
 * answers its lower bound (the largest finite one). */
static double quantileMs(const uint64_t *a, const uint64_t *b, uint64_t n, double q) {
    double rank = q * (double)n, cum = 0;
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) {
        double k = (double)(b[i] - a[i]);
        if (k > 0 && cum + k >= rank) {
            double lo = i == 0 ? 0 : (double)lh_hist_bounds_ns[i - 1];
            if (i == LH_HIST_BUCKETS) return lo / 1e6;
            double hi = (double)lh_hist_bounds_ns[i];
            return (lo + (hi - lo) * (rank - cum) / k) / 1e6;
        }
        cum += k;
    }
    return 0;
}

/* How many of the differences are at most limit ns: whole buckets below it, and the
 * bucket that holds it pro rata (exact when limit is a bucket bound, as 100 ms is). */
double lh_sla_count_under(const uint64_t *a, const uint64_t *b, double limitNs) {
    double n = 0;
    for (int i = 0; i < LH_HIST_BUCKETS; i++) {
        double lo = i == 0 ? 0 : (double)lh_hist_bounds_ns[i - 1], hi = (double)lh_hist_bounds_ns[i];
        double k = (double)(b[i] - a[i]);
        if (hi <= limitNs) n += k;
        else { if (limitNs > lo) n += k * (limitNs - lo) / (hi - lo); break; }
    }
    return n;
}

int lh_sla_compute(const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *old, const lh_sla_sample *now,
                   double *v, const char **why) {
    double dt = (double)(now->t_ns - old->t_ns) / 1e9;
    uint64_t n = now->requests - old->requests;
    switch (m) {
    case LH_SLA_MEMORY:
        if (now->rss_bytes < 0 || now->mem_limit_bytes <= 0) { *why = "memory use or limit unknown"; return 0; }
        *v = 100.0 * now->rss_bytes / now->mem_limit_bytes;
        return 1;
    case LH_SLA_CPU:
        if (dt <= 0) { *why = "fewer than two samples"; return 0; }
        if (now->cpu_s < 0 || old->cpu_s < 0 || now->cpus <= 0) { *why = "process CPU time unknown"; return 0; }
        *v = 100.0 * (now->cpu_s - old->cpu_s) / (dt * now->cpus);
        return 1;
    case LH_SLA_RPS:
        if (dt <= 0) { *why = "fewer than two samples"; return 0; }
        *v = (double)n / dt;
        return 1;
    default: break;
    }
    if (dt <= 0) { *why = "fewer than two samples"; return 0; }
    if (n == 0) { *why = "not enough data: no decision requests in the window"; return 0; }
    if (n < c->min_requests) { *why = "not enough data: fewer decision requests in the window than sla_min_requests"; return 0; }
    switch (m) {
    case LH_SLA_COMPLIANCE:
        *v = 100.0 * lh_sla_count_under(old->ok_dur, now->ok_dur, c->latency_target_ms * 1e6) / (double)n;
        break;
    case LH_SLA_P99: *v = quantileMs(old->dur, now->dur, n, 0.99); break;
    case LH_SLA_AVG: *v = (double)(now->dur_sum_ns - old->dur_sum_ns) / (double)n / 1e6; break;
    case LH_SLA_AVAILABILITY: *v = 100.0 * (1.0 - (double)(now->unavailable - old->unavailable) / (double)n); break;
    case LH_SLA_ERROR_RATE: *v = 100.0 * (double)(n - (now->ok - old->ok)) / (double)n; break;
    default: *why = "unknown metric"; return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------ */
/* The evaluator                                                                    */
/* ------------------------------------------------------------------------------ */

struct lh_sla_eval {
    lh_sla_config cfg;
    lh_sla_sample *ring;
    size_t cap, n, head;        /* head: where the next sample goes */
    double covered_s;
    lh_sla_mstate st[LH_SLA_COUNT];
};

lh_sla_eval *lh_sla_eval_new(const lh_sla_config *c) {
    char err[256];
    if (lh_sla_config_check(c, err, sizeof(err))) return NULL;
    lh_sla_eval *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->cfg = *c;
    e->cap = ringSize(c);
    e->ring = calloc(e->cap, sizeof(*e->ring));
    if (!e->ring) { free(e); return NULL; }
    for (int m = 0; m < LH_SLA_COUNT; m++) e->st[m].state = LH_SLA_NO_DATA;
    return e;
}

void lh_sla_eval_free(lh_sla_eval *e) {
    if (!e) return;
    free(e->ring);
    free(e);
}

static const lh_sla_sample *ringAt(const lh_sla_eval *e, size_t age) {   /* 0: newest */
    return &e->ring[(e->head + e->cap - 1 - age) % e->cap];
}

/* The sample the window starts at: the newest one at least window_s older than now, or
 * the oldest one kept while the bridge has run for less than a window. */
static const lh_sla_sample *windowStart(const lh_sla_eval *e, uint64_t now) {
    uint64_t w = (uint64_t)(e->cfg.window_s * 1e9);
    size_t lo = 1, hi = e->n - 1;   /* samples get older with age: binary search */
    if (e->n < 2 || now - ringAt(e, hi)->t_ns < w) return ringAt(e, e->n - 1);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (now - ringAt(e, mid)->t_ns >= w) hi = mid;
        else lo = mid + 1;
    }
    return ringAt(e, lo);
}

static int evaluated(const lh_sla_config *c, lh_sla_metric m) {
    return c->t[m].enabled && (m != LH_SLA_RPS || c->traffic_expected);
}

static void enter(lh_sla_mstate *s, lh_sla_state st, uint64_t now) {
    if (s->state != st) { s->state = st; s->since_ns = now; }
}

/* One step of one metric. Returns 1 (violated), -1 (resolved) or 0. */
static int step(const lh_sla_config *c, lh_sla_metric m, lh_sla_mstate *s, uint64_t now) {
    const lh_sla_threshold *t = &c->t[m];
    if (!evaluated(c, m)) { enter(s, LH_SLA_OFF, now); return 0; }
    if (!s->has) {
        /* No data changes nothing about a violation (it neither resolves nor starts the
         * hold time); a breach in its grace ends, since nothing confirms it. */
        if (s->state == LH_SLA_VIOLATED) { s->inside_ns = 0; return 0; }
        enter(s, LH_SLA_NO_DATA, now);
        s->breach_ns = 0;
        return 0;
    }
    int breach = metricDefs[m].higherWorse ? s->value > t->threshold : s->value < t->threshold;
    switch (s->state) {
    case LH_SLA_VIOLATED:
        if (breach) { s->inside_ns = 0; return 0; }
        if (!s->inside_ns) s->inside_ns = now;
        if ((double)(now - s->inside_ns) / 1e9 < c->resolve_hold_s) return 0;
        enter(s, LH_SLA_OK, now);
        s->breach_ns = s->inside_ns = 0;
        return -1;
    case LH_SLA_BREACHING:
        if (!breach) { enter(s, LH_SLA_OK, now); s->breach_ns = 0; return 0; }
        break;
    default:
        if (!breach) { enter(s, LH_SLA_OK, now); return 0; }
        s->breach_ns = now;
        enter(s, LH_SLA_BREACHING, now);
        break;
    }
    if ((double)(now - s->breach_ns) / 1e9 < t->grace_s) return 0;
    enter(s, LH_SLA_VIOLATED, now);
    s->inside_ns = 0;
    s->violations++;
    return 1;
}

int lh_sla_eval_push(lh_sla_eval *e, const lh_sla_sample *smp, lh_sla_transition *out) {
    if (e->n && smp->t_ns < ringAt(e, 0)->t_ns) return 0;   /* the clock went backwards: skip */
    if (!e->n)
        for (int m = 0; m < LH_SLA_COUNT; m++) e->st[m].since_ns = smp->t_ns;   /* the first state starts here */
    e->ring[e->head] = *smp;
    e->head = (e->head + 1) % e->cap;
    if (e->n < e->cap) e->n++;
    const lh_sla_sample *now = ringAt(e, 0), *old = windowStart(e, now->t_ns);
    e->covered_s = (double)(now->t_ns - old->t_ns) / 1e9;
    int k = 0;
    for (int m = 0; m < LH_SLA_COUNT; m++) {
        lh_sla_mstate *s = &e->st[m];
        const char *why = NULL;
        double v = 0;
        s->has = lh_sla_compute(&e->cfg, (lh_sla_metric)m, old, now, &v, &why);
        s->value = s->has ? v : NAN;
        s->no_data = s->has ? NULL : why;
        uint64_t breach = s->breach_ns;
        int r = step(&e->cfg, (lh_sla_metric)m, s, now->t_ns);
        if (!r) continue;
        out[k].metric = (lh_sla_metric)m;
        out[k].violated = r > 0;
        out[k].value = s->value;
        out[k].has = s->has;
        out[k].breach_ns = r > 0 ? s->breach_ns : breach;
        out[k].now_ns = now->t_ns;
        k++;
    }
    return k;
}

void lh_sla_eval_state(const lh_sla_eval *e, lh_sla_metric m, lh_sla_mstate *out) { *out = e->st[m]; }

static const lh_sla_sample noSample;

const lh_sla_sample *lh_sla_eval_newest(const lh_sla_eval *e) { return e->n ? ringAt(e, 0) : &noSample; }

const lh_sla_sample *lh_sla_eval_window_start(const lh_sla_eval *e) {
    return e->n ? windowStart(e, ringAt(e, 0)->t_ns) : &noSample;
}

double lh_sla_eval_covered_s(const lh_sla_eval *e) { return e->covered_s; }

/* ------------------------------------------------------------------------------ */
/* Revisions                                                                        */
/* ------------------------------------------------------------------------------ */

void lh_sla_lineage_change(lh_sla_lineage *l, const char *rev, int rollback, uint64_t now, uint64_t requests) {
    lh_sla_rev *top = l->n ? &l->r[l->n - 1] : NULL;
    if (rollback && l->n >= 2 && !strcmp(l->r[l->n - 2].rev, rev)) {
        l->n--;                         /* back to the one below: it starts a new canary */
        top = &l->r[l->n - 1];
    } else if (top && !strcmp(top->rev, rev)) {
        return;                         /* the same revision again (SIGHUP of an unchanged file) */
    } else {
        if (l->n == LH_SLA_LINEAGE_MAX) {   /* keep the bottom (the start revision) */
            memmove(&l->r[1], &l->r[2], (LH_SLA_LINEAGE_MAX - 2) * sizeof(l->r[0]));
            l->n--;
        }
        top = &l->r[l->n++];
        memset(top, 0, sizeof(*top));
        snprintf(top->rev, sizeof(top->rev), "%s", rev);
        top->good = l->n == 1;          /* the revision the bridge started with */
    }
    top->activated_ns = now;
    top->requests_at = requests;
    top->tainted = 0;
}

void lh_sla_lineage_tick(lh_sla_lineage *l, uint64_t now, uint64_t requests, double canary_s, int flaggedTrouble) {
    if (!l->n) return;
    lh_sla_rev *top = &l->r[l->n - 1];
    if (top->good || top->tainted || flaggedTrouble || requests <= top->requests_at) return;
    if ((double)(now - top->activated_ns) / 1e9 < canary_s) return;
    top->good = 1;
}

int lh_sla_rollback_plan(lh_sla_lineage *l, const lh_sla_config *c, const lh_sla_transition *t, char *target,
                         char *from, size_t cap, char *why, size_t whylen) {
    if (!c->t[t->metric].rollback) { snprintf(why, whylen, "no rollback: the metric is not rollback-flagged"); return 0; }
    if (!l->n) { snprintf(why, whylen, "no rollback: no active revision known"); return 0; }
    lh_sla_rev *top = &l->r[l->n - 1];
    top->tainted = 1;
    double age = (double)(t->now_ns - top->activated_ns) / 1e9;
    if (top->good) { snprintf(why, whylen, "no rollback: revision %s is known-good", top->rev); return 0; }
    if (l->n < 2) { snprintf(why, whylen, "no rollback: no earlier revision in this run"); return 0; }
    if (top->activated_ns > t->breach_ns) {
        snprintf(why, whylen, "no rollback: revision %s became active after the breach began", top->rev);
        return 0;
    }
    if (age > c->canary_window_s) {
        snprintf(why, whylen, "no rollback: revision %s has been active %.1f s, past the canary window of %g s", top->rev,
                 age, c->canary_window_s);
        return 0;
    }
    snprintf(target, cap, "%s", l->r[l->n - 2].rev);
    snprintf(from, cap, "%s", top->rev);
    snprintf(why, whylen, "rollback from %s to %s", top->rev, target);
    return 1;
}

void lh_sla_lineage_set_sample(lh_sla_lineage *l, const lh_sla_sample *s) {
    if (!l->n) return;
    l->r[l->n - 1].at = *s;
    l->r[l->n - 1].has_at = 1;
}

/* The sample without the store's 503s: what a revision answers for. */
static lh_sla_sample attributable(const lh_sla_sample *s) {
    lh_sla_sample a = *s;
    a.requests -= a.store_faults < a.requests ? a.store_faults : a.requests;
    a.unavailable -= a.store_faults < a.unavailable ? a.store_faults : a.unavailable;
    a.store_faults = 0;
    for (int i = 0; i < LH_SLA_AGENTS; i++) {
        lh_sla_agent_fig *g = &a.agent[i];
        g->requests -= g->store_faults < g->requests ? g->store_faults : g->requests;
        g->unavailable -= g->store_faults < g->unavailable ? g->store_faults : g->unavailable;
        g->store_faults = 0;
    }
    return a;
}

/* How bad a value is, larger worse: the value itself, or 100 less it for the percentages
 * where smaller is worse (the share that failed), or its negation. */
static double badness(lh_sla_metric m, double v) {
    if (lh_sla_higher_is_worse(m)) return v;
    return m == LH_SLA_COMPLIANCE || m == LH_SLA_AVAILABILITY ? 100 - v : -v;
}

int lh_sla_rollback_evidence(const lh_sla_lineage *l, const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *now,
                             char *why, size_t whylen) {
    if (l->n < 2 || !l->r[l->n - 1].has_at) {
        snprintf(why, whylen, "no rollback: the counters at the revision's start are unknown");
        return 0;
    }
    const lh_sla_rev *top = &l->r[l->n - 1], *prev = &l->r[l->n - 2];
    lh_sla_config cc = *c;
    cc.min_requests = c->rollback_min_requests;
    lh_sla_sample a = attributable(&top->at), z = attributable(now);
    uint64_t storeFaults = now->store_faults - top->at.store_faults;
    const char *nd = NULL;
    double v;
    int isReq = m != LH_SLA_MEMORY && m != LH_SLA_CPU && m != LH_SLA_RPS;
    if (isReq && z.requests - a.requests < c->rollback_min_requests) {
        snprintf(why, whylen, "no rollback yet: %llu decision request(s) answered by revision %s itself (%llu more were the store's 503s), fewer than sla_rollback_min_requests (%llu): not enough evidence",
                 (unsigned long long)(z.requests - a.requests), top->rev, (unsigned long long)storeFaults,
                 (unsigned long long)c->rollback_min_requests);
        return -1;
    }
    if (!lh_sla_compute(&cc, m, &a, &z, &v, &nd)) {
        snprintf(why, whylen, "no rollback: no figure of revision %s's own (%s)", top->rev, nd);
        return 0;
    }
    double thr = c->t[m].threshold;
    if (badness(m, v) <= badness(m, thr)) {
        snprintf(why, whylen, "no rollback: over revision %s's own requests (%llu of the store's 503s left out) %s is %.6g, inside its threshold %g: the revision is not the cause",
                 top->rev, (unsigned long long)storeFaults, lh_sla_metric_name(m), v, thr);
        return 0;
    }
    /* The baseline: the previous revision's figure from when it became active to the change. */
    double base = thr;
    const char *baseWhat = "the threshold (too few requests before the change)";
    char baseBuf[200];
    if (prev->has_at) {
        lh_sla_sample pa = attributable(&prev->at);
        double bv;
        if (lh_sla_compute(&cc, m, &pa, &a, &bv, &nd)) {
            base = bv;
            snprintf(baseBuf, sizeof(baseBuf), "revision %s before the change", prev->rev);
            baseWhat = baseBuf;
        }
    }
    double bb = badness(m, base), need = bb * (1 + c->rollback_margin) + c->rollback_margin * fabs(badness(m, thr));
    if (badness(m, v) <= need) {
        snprintf(why, whylen, "no rollback: revision %s's %s %.6g is not worse than %s (%.6g) by more than the margin %g",
                 top->rev, lh_sla_metric_name(m), v, baseWhat, base, c->rollback_margin);
        return 0;
    }
    /* One agent alone is no evidence: the figure without the agent that pulls it hardest
     * must be outside the threshold too (docs/sla.md, "Per agent"). */
    char who[200] = "";
    if (isReq) {
        lh_sla_blame bl;
        lh_sla_blame_compute(c, m, &a, &z, c->rollback_min_requests, &bl);
        lh_sla_blame_text(&bl, l->names, who, sizeof(who));
        if (bl.alone) {
            char tmp[32];
            const char *wn = lh_sla_agent_name(l->names, bl.worst, tmp, sizeof(tmp));
            if (bl.trimmed_has)
                snprintf(why, whylen, "no rollback yet: one agent alone: without agent %.80s, revision %s's %s is %.6g over the other agents' %llu request(s), inside its threshold %g (shortfall by agent: %s)",
                         wn, top->rev, lh_sla_metric_name(m), bl.trimmed, (unsigned long long)bl.trimmed_requests, thr, who);
            else
                snprintf(why, whylen, "no rollback yet: one agent alone: without agent %.80s, revision %s answered %llu request(s), fewer than sla_rollback_min_requests (%llu) (shortfall by agent: %s)",
                         wn, top->rev, (unsigned long long)bl.trimmed_requests, (unsigned long long)c->rollback_min_requests, who);
            return -1;
        }
    }
    snprintf(why, whylen, "evidence: revision %s's %s %.6g over %llu of its own requests, against %.6g of %s%s%s", top->rev,
             lh_sla_metric_name(m), v, (unsigned long long)(z.requests - a.requests), base, baseWhat,
             who[0] ? "; shortfall by agent: " : "", who);
    return 1;
}

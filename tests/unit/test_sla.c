/* test_sla.c — the SLA evaluator (src/bridge/sla.c), driven by synthetic samples: the
 * window maths, "no data", grace periods, hysteresis on resolve and the settings. The
 * monitor thread, events, alerts and rollback run against the real bridge in
 * tests/integration/sla_rollback.sh. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

#include "bridge/sla.h"

#define S 1000000000ull   /* one second in ns */
#define MS 1000000ull

/* Cumulative counters that a test feeds requests into, like the bridge's metrics. */
typedef struct feed { lh_sla_sample s; } feed;

static int bucketOf(uint64_t ns) {
    int i = 0;
    while (i < LH_HIST_BUCKETS && ns > lh_hist_bounds_ns[i]) i++;
    return i;
}

static void add(feed *f, uint64_t n, uint64_t ns, int status) {
    int b = bucketOf(ns);
    f->s.requests += n;
    f->s.dur[b] += n;
    f->s.dur_sum_ns += n * ns;
    if (status >= 200 && status < 300) { f->s.ok += n; f->s.ok_dur[b] += n; }
    if (status >= 500) f->s.unavailable += n;
    if (status == 503) f->s.store_faults += n;
}

/* The same requests, by the agent in slot a (also counted in the totals). */
static void addAgent(feed *f, int a, uint64_t n, uint64_t ns, int status) {
    int b = bucketOf(ns);
    lh_sla_agent_fig *g = &f->s.agent[a];
    add(f, n, ns, status);
    g->requests += n;
    g->dur[b] += n;
    g->dur_sum_ns += n * ns;
    if (status >= 200 && status < 300) { g->ok += n; g->ok_dur[b] += n; }
    if (status >= 500) g->unavailable += n;
    if (status == 503) g->store_faults += n;
}

static void initFeed(feed *f) {
    memset(f, 0, sizeof(*f));
    f->s.cpu_s = 0;
    f->s.cpus = 2;
    f->s.rss_bytes = 100;
    f->s.mem_limit_bytes = 1000;
}

static lh_sla_config quickConfig(void) {
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    c.window_s = 10;
    c.interval_s = 1;
    c.resolve_hold_s = 3;
    for (int m = 0; m < LH_SLA_COUNT; m++) c.t[m].grace_s = 2;
    c.min_requests = 1;   /* the minimum sample has its own test */
    return c;
}

/* Push the feed at second t; returns the transitions for metric m (+1 violated, -1 resolved, 0). */
static int pushAt(lh_sla_eval *e, feed *f, uint64_t t, lh_sla_metric m) {
    lh_sla_transition tr[LH_SLA_COUNT];
    f->s.t_ns = t * S;
    int n = lh_sla_eval_push(e, &f->s, tr);
    int r = 0;
    for (int i = 0; i < n; i++)
        if (tr[i].metric == m) { assert_int_equal(r, 0); r = tr[i].violated ? 1 : -1; }
    return r;
}

static lh_sla_mstate stateOf(lh_sla_eval *e, lh_sla_metric m) {
    lh_sla_mstate s;
    lh_sla_eval_state(e, m, &s);
    return s;
}

/* ---- window maths ---------------------------------------------------------------- */

static void compute_latency_and_rates(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    feed a, b;
    initFeed(&a);
    a.s.t_ns = 0;
    b = a;
    b.s.t_ns = 10 * S;
    add(&b, 980, 200000, 200);        /* 0.2 ms */
    add(&b, 10, 150 * MS, 200);       /* slow but answered */
    add(&b, 5, 300000, 400);          /* a client error */
    add(&b, 5, 300000, 503);          /* unavailable */
    double v;
    const char *why;
    assert_int_equal(lh_sla_compute(&c, LH_SLA_COMPLIANCE, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 98.0) < 1e-9);   /* 980 of 1000 were 2xx within 100 ms */
    assert_int_equal(lh_sla_compute(&c, LH_SLA_AVAILABILITY, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 99.5) < 1e-9);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_ERROR_RATE, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 1.0) < 1e-9);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_RPS, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 100.0) < 1e-9);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_AVG, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - (980 * 0.2 + 10 * 150 + 10 * 0.3) / 1000.0) < 1e-9);
    /* p99 is the 990th of 1000: the 10 slow ones (and the 10 errors) rank above it. */
    assert_int_equal(lh_sla_compute(&c, LH_SLA_P99, &a.s, &b.s, &v, &why), 1);
    assert_true(v > 0.25 && v <= 0.5);
    /* With 2% slow, rank 990 falls in the (100, 250] ms bucket. */
    feed g;
    initFeed(&g);
    g.s.t_ns = 10 * S;
    add(&g, 980, 200000, 200);
    add(&g, 20, 150 * MS, 200);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_P99, &a.s, &g.s, &v, &why), 1);
    assert_true(v > 100 && v <= 250);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_COMPLIANCE, &a.s, &g.s, &v, &why), 1);
    assert_true(fabs(v - 98.0) < 1e-9);
}

static void compute_cpu_and_memory(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    feed a, b;
    initFeed(&a);
    b = a;
    b.s.t_ns = 10 * S;
    b.s.cpu_s = 5;   /* 5 CPU seconds in 10 s on 2 CPUs */
    double v;
    const char *why;
    assert_int_equal(lh_sla_compute(&c, LH_SLA_CPU, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 25.0) < 1e-9);
    assert_int_equal(lh_sla_compute(&c, LH_SLA_MEMORY, &a.s, &b.s, &v, &why), 1);
    assert_true(fabs(v - 10.0) < 1e-9);
    b.s.cpu_s = -1;
    assert_int_equal(lh_sla_compute(&c, LH_SLA_CPU, &a.s, &b.s, &v, &why), 0);
    b.s.mem_limit_bytes = 0;
    assert_int_equal(lh_sla_compute(&c, LH_SLA_MEMORY, &a.s, &b.s, &v, &why), 0);
}

/* "No data" is never 0: without requests, compliance (which 0 would violate) and the
 * latencies have no value and are never violated. */
static void no_requests_is_no_data(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    lh_sla_eval *e = lh_sla_eval_new(&c);
    assert_non_null(e);
    feed f;
    initFeed(&f);
    for (uint64_t t = 0; t < 30; t++) {
        assert_int_equal(pushAt(e, &f, t, LH_SLA_COMPLIANCE), 0);
        assert_int_equal(pushAt(e, &f, t, LH_SLA_AVAILABILITY), 0);
    }
    lh_sla_mstate s = stateOf(e, LH_SLA_COMPLIANCE);
    assert_int_equal(s.state, LH_SLA_NO_DATA);
    assert_int_equal(s.has, 0);
    assert_true(isnan(s.value));
    assert_non_null(s.no_data);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_NO_DATA);
    /* requests_per_second is not evaluated unless traffic is expected... */
    assert_int_equal(stateOf(e, LH_SLA_RPS).state, LH_SLA_OFF);
    lh_sla_eval_free(e);
    /* ...and then 0 requests/s is a real value, and a violation after its grace. */
    c.traffic_expected = 1;
    e = lh_sla_eval_new(&c);
    int violated = 0;
    for (uint64_t t = 0; t < 10; t++) violated += pushAt(e, &f, t, LH_SLA_RPS) == 1;
    assert_int_equal(violated, 1);
    assert_int_equal(stateOf(e, LH_SLA_RPS).state, LH_SLA_VIOLATED);
    assert_true(stateOf(e, LH_SLA_RPS).value == 0);
    lh_sla_eval_free(e);
}

/* ---- grace ------------------------------------------------------------------------ */

static void breach_must_outlast_grace(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.t[LH_SLA_P99].grace_s = 3;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    assert_int_equal(pushAt(e, &f, 0, LH_SLA_P99), 0);
    add(&f, 100, 200 * MS, 200);   /* every request slow from t=1 */
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_P99), 0);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_BREACHING);
    assert_int_equal(stateOf(e, LH_SLA_P99).breach_ns, 1 * S);
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 2, LH_SLA_P99), 0);
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 3, LH_SLA_P99), 0);
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 4, LH_SLA_P99), 1);   /* 3 s after the first breach */
    lh_sla_mstate s = stateOf(e, LH_SLA_P99);
    assert_int_equal(s.state, LH_SLA_VIOLATED);
    assert_int_equal(s.violations, 1);
    /* It is raised once, not again on every tick. */
    for (uint64_t t = 5; t < 9; t++) { add(&f, 100, 200 * MS, 200); assert_int_equal(pushAt(e, &f, t, LH_SLA_P99), 0); }
    assert_int_equal(stateOf(e, LH_SLA_P99).violations, 1);
    lh_sla_eval_free(e);
}

static void short_breach_within_grace_is_forgotten(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.window_s = 2;
    c.t[LH_SLA_P99].grace_s = 5;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_P99);
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_P99), 0);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_BREACHING);
    int events = 0;
    for (uint64_t t = 2; t < 20; t++) { add(&f, 1000, 100000, 200); events += pushAt(e, &f, t, LH_SLA_P99) != 0; }
    assert_int_equal(events, 0);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_OK);
    assert_int_equal(stateOf(e, LH_SLA_P99).violations, 0);
    lh_sla_eval_free(e);
}

static void zero_grace_violates_at_once(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.t[LH_SLA_AVAILABILITY].grace_s = 0;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_AVAILABILITY);
    add(&f, 99, 100000, 200);
    add(&f, 1, 100000, 503);
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_AVAILABILITY), 1);
    lh_sla_eval_free(e);
}

/* ---- hysteresis and the window ---------------------------------------------------- */

static void resolve_needs_hold_time_inside(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.window_s = 2;               /* slow requests leave the window 2 s after they stop */
    c.resolve_hold_s = 3;
    c.t[LH_SLA_P99].grace_s = 0;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_P99);
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_P99), 1);
    /* Fast from here: the window still holds the slow second at t=2 and t=3. */
    add(&f, 100, 100000, 200);
    assert_int_equal(pushAt(e, &f, 2, LH_SLA_P99), 0);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_VIOLATED);
    add(&f, 100, 100000, 200);
    assert_int_equal(pushAt(e, &f, 3, LH_SLA_P99), 0);   /* first value inside (the window is 1..3 s) */
    assert_true(stateOf(e, LH_SLA_P99).value < 100);
    assert_int_equal(stateOf(e, LH_SLA_P99).inside_ns, 3 * S);
    /* One slow burst inside the hold restarts it. */
    add(&f, 100, 200 * MS, 200);
    assert_int_equal(pushAt(e, &f, 4, LH_SLA_P99), 0);
    assert_int_equal(stateOf(e, LH_SLA_P99).inside_ns, 0);
    int resolvedAt = 0;
    for (uint64_t t = 5; t < 20 && !resolvedAt; t++) {
        add(&f, 100, 100000, 200);
        if (pushAt(e, &f, t, LH_SLA_P99) == -1) resolvedAt = (int)t;
    }
    /* Back inside from t=6 (the window is 2 s), resolved 3 s later. */
    assert_int_equal(resolvedAt, 9);
    assert_int_equal(stateOf(e, LH_SLA_P99).state, LH_SLA_OK);
    lh_sla_eval_free(e);
}

static void no_data_neither_resolves_nor_holds(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.window_s = 2;
    c.resolve_hold_s = 2;
    c.t[LH_SLA_P99].grace_s = 0;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_P99);
    add(&f, 10, 300 * MS, 200);
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_P99), 1);
    for (uint64_t t = 2; t < 30; t++) assert_int_equal(pushAt(e, &f, t, LH_SLA_P99), 0);   /* traffic stops */
    lh_sla_mstate s = stateOf(e, LH_SLA_P99);
    assert_int_equal(s.state, LH_SLA_VIOLATED);
    assert_int_equal(s.has, 0);
    lh_sla_eval_free(e);
}

/* The window is the difference with the sample window_s older: old requests fall out. */
static void window_forgets_old_requests(void **state) {
    (void)state;
    lh_sla_config c = quickConfig();
    c.window_s = 5;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_AVG);
    add(&f, 10, 40 * MS, 200);
    pushAt(e, &f, 1, LH_SLA_AVG);
    assert_true(fabs(stateOf(e, LH_SLA_AVG).value - 40) < 1e-9);
    assert_true(fabs(lh_sla_eval_covered_s(e) - 1) < 1e-9);
    for (uint64_t t = 2; t <= 6; t++) pushAt(e, &f, t, LH_SLA_AVG);
    /* At t=5 the window (0..5] still holds them; at t=6 it is (1..6]: none left. */
    assert_int_equal(stateOf(e, LH_SLA_AVG).has, 0);
    assert_true(fabs(lh_sla_eval_covered_s(e) - 5) < 1e-9);
    add(&f, 10, 2 * MS, 200);
    pushAt(e, &f, 7, LH_SLA_AVG);
    assert_true(fabs(stateOf(e, LH_SLA_AVG).value - 2) < 1e-9);
    lh_sla_eval_free(e);
}

/* ---- revisions: lineage, known-good, the rollback decision ------------------------ */

static lh_sla_transition violation(lh_sla_metric m, uint64_t breach, uint64_t now) {
    lh_sla_transition t = {.metric = m, .violated = 1, .value = 500, .has = 1, .breach_ns = breach * S, .now_ns = now * S};
    return t;
}

static int plan(lh_sla_lineage *l, const lh_sla_config *c, lh_sla_transition t, char *target, char *why) {
    char from[160];
    return lh_sla_rollback_plan(l, c, &t, target, from, 160, why, 320);
}

static void rollback_walks_down_the_lineage(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);   /* canary 900 s */
    lh_sla_lineage l = {0};
    char target[160], why[320];
    lh_sla_lineage_change(&l, "A", 0, 0, 0);    /* start: known-good */
    assert_true(l.r[0].good);
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 10, 40), target, why), 0);
    assert_non_null(strstr(why, "A is known-good"));
    lh_sla_lineage_change(&l, "B", 0, 100 * S, 5);
    lh_sla_lineage_change(&l, "C", 0, 200 * S, 9);
    /* C breaks: back to B (not to A, not to C again). */
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 210, 240), target, why), 1);
    assert_string_equal(target, "B");
    lh_sla_lineage_change(&l, "B", 1, 241 * S, 20);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.r[1].rev, "B");
    /* A second metric violated by the same episode (breach before B came back): no second rollback. */
    assert_int_equal(plan(&l, &c, violation(LH_SLA_COMPLIANCE, 215, 245), target, why), 0);
    assert_non_null(strstr(why, "became active after the breach began"));
    /* A new episode under B, inside B's new canary: back to A, the known-good bottom... */
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 300, 330), target, why), 1);
    assert_string_equal(target, "A");
    lh_sla_lineage_change(&l, "A", 1, 331 * S, 30);
    /* ...and never past it. */
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 400, 430), target, why), 0);
    assert_non_null(strstr(why, "known-good"));
}

static void rollback_only_in_canary_and_flagged(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    c.canary_window_s = 60;
    lh_sla_lineage l = {0};
    char target[160], why[320];
    lh_sla_lineage_change(&l, "A", 0, 0, 0);
    lh_sla_lineage_change(&l, "B", 0, 100 * S, 0);
    assert_int_equal(plan(&l, &c, violation(LH_SLA_AVG, 110, 130), target, why), 0);   /* avg: not flagged */
    assert_non_null(strstr(why, "not rollback-flagged"));
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 150, 161), target, why), 0);   /* 61 s old */
    assert_non_null(strstr(why, "past the canary window"));
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 150, 160), target, why), 1);   /* 60 s: still inside */
    assert_string_equal(target, "A");
    /* The same revision again (SIGHUP of an unchanged file) changes nothing. */
    lh_sla_lineage_change(&l, "B", 0, 170 * S, 0);
    assert_int_equal(l.n, 2);
    assert_true(l.r[1].activated_ns == 100 * S);
}

static void known_good_needs_a_quiet_canary_with_traffic(void **state) {
    (void)state;
    lh_sla_lineage l = {0};
    lh_sla_lineage_change(&l, "A", 0, 0, 0);
    lh_sla_lineage_change(&l, "B", 0, 10 * S, 100);
    lh_sla_lineage_tick(&l, 100 * S, 100, 60, 0);   /* no decisions since B */
    assert_false(l.r[1].good);
    lh_sla_lineage_tick(&l, 50 * S, 150, 60, 0);    /* still in its canary */
    assert_false(l.r[1].good);
    lh_sla_lineage_tick(&l, 100 * S, 150, 60, 1);   /* a flagged metric is in trouble */
    assert_false(l.r[1].good);
    lh_sla_lineage_tick(&l, 100 * S, 150, 60, 0);
    assert_true(l.r[1].good);
    /* A revision tainted by a flagged violation never becomes known-good. */
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    char target[160], why[320];
    lh_sla_lineage_change(&l, "C", 0, 200 * S, 150);
    assert_int_equal(plan(&l, &c, violation(LH_SLA_P99, 210, 5000), target, why), 0);   /* outside the canary */
    lh_sla_lineage_tick(&l, 9000 * S, 9999, 60, 0);
    assert_false(l.r[2].good);
}

/* A quiet bridge stays quiet: fewer decision requests in the window than sla_min_requests
 * (20 by default) is "not enough data", never a violation, however bad they were. */
static void min_sample_is_not_enough_data(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    assert_int_equal(c.min_requests, 20);
    c.window_s = 10;
    for (int m = 0; m < LH_SLA_COUNT; m++) c.t[m].grace_s = 0;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    feed f;
    initFeed(&f);
    pushAt(e, &f, 0, LH_SLA_ERROR_RATE);
    add(&f, 19, 900 * MS, 500);   /* 19 slow server faults: every request metric would be violated */
    assert_int_equal(pushAt(e, &f, 1, LH_SLA_ERROR_RATE), 0);
    for (int m = LH_SLA_COMPLIANCE; m <= LH_SLA_ERROR_RATE; m++) {
        lh_sla_mstate st = stateOf(e, (lh_sla_metric)m);
        assert_int_equal(st.state, LH_SLA_NO_DATA);
        assert_non_null(st.no_data);
        assert_true(!strncmp(st.no_data, "not enough data", 15));
    }
    add(&f, 1, 900 * MS, 500);    /* the 20th: now there is a figure, and it is violated */
    assert_int_equal(pushAt(e, &f, 2, LH_SLA_ERROR_RATE), 1);
    lh_sla_eval_free(e);
}

/* Evidence against a revision: its own canary figures, without the store's 503s, worse
 * than the previous revision's before the change, beyond the margin, over a minimum
 * sample. */
static void rollback_needs_evidence(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);   /* rollback_min_requests 20, margin 0.1 */
    char why[440];
    feed f;
    initFeed(&f);
    lh_sla_lineage l = {0};
    f.s.t_ns = 0;
    lh_sla_lineage_change(&l, "A", 0, 0, 0);
    lh_sla_lineage_set_sample(&l, &f.s);
    add(&f, 200, 1 * MS, 200);               /* A: fast and healthy */
    f.s.t_ns += S;
    f.s.t_ns = 100 * S;
    lh_sla_lineage_change(&l, "B", 0, f.s.t_ns, f.s.requests);
    lh_sla_lineage_set_sample(&l, &f.s);
    feed at = f;

    /* A store outage under B: every decision 503. Not one request of B's own. */
    add(&f, 300, 1 * MS, 503);
    f.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_AVAILABILITY, &f.s, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not enough evidence"));
    /* ...with B answering too: its own availability is 100%, inside the threshold. */
    add(&f, 50, 1 * MS, 200);
    f.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_AVAILABILITY, &f.s, why, sizeof(why)), 0);
    if (!strstr(why, "not the cause")) fail_msg("%s", why);
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_ERROR_RATE, &f.s, why, sizeof(why)), 0);

    /* B makes decisions fail (500s: the engine), too few of them yet: no evidence. */
    f = at;
    add(&f, 10, 1 * MS, 500);
    f.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_ERROR_RATE, &f.s, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "sla_rollback_min_requests"));
    add(&f, 20, 1 * MS, 200);               /* 30 of B's own, a third failed: evidence */
    f.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_ERROR_RATE, &f.s, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "revision A before the change"));

    /* B makes decisions slow: p99 evidence against A's fast baseline. */
    f = at;
    add(&f, 100, 400 * MS, 200);
    f.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_P99, &f.s, why, sizeof(why)), 1);

    /* A was just as slow before the change: B is not worse beyond the margin. */
    lh_sla_lineage l2 = {0};
    feed g;
    initFeed(&g);
    lh_sla_lineage_change(&l2, "A", 0, 0, 0);
    lh_sla_lineage_set_sample(&l2, &g.s);
    add(&g, 100, 400 * MS, 200);
    g.s.t_ns += S;
    g.s.t_ns = 100 * S;
    lh_sla_lineage_change(&l2, "B", 0, g.s.t_ns, g.s.requests);
    lh_sla_lineage_set_sample(&l2, &g.s);
    add(&g, 100, 410 * MS, 200);
    g.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l2, &c, LH_SLA_P99, &g.s, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "not worse than revision A"));

    /* No traffic before the change: the threshold is the baseline. */
    lh_sla_lineage l3 = {0};
    initFeed(&g);
    lh_sla_lineage_change(&l3, "A", 0, 0, 0);
    lh_sla_lineage_set_sample(&l3, &g.s);
    g.s.t_ns = 1 * S;
    lh_sla_lineage_change(&l3, "B", 0, g.s.t_ns, 0);
    lh_sla_lineage_set_sample(&l3, &g.s);
    add(&g, 100, 400 * MS, 200);
    g.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l3, &c, LH_SLA_P99, &g.s, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "the threshold"));
}

/* ---- settings --------------------------------------------------------------------- */

static void settings(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    char err[512];
    assert_true(c.t[LH_SLA_P99].threshold == 100 && c.t[LH_SLA_P99].grace_s == 30 && c.t[LH_SLA_P99].rollback);
    assert_true(c.t[LH_SLA_AVAILABILITY].severity == LH_SLA_CRITICAL && c.t[LH_SLA_AVAILABILITY].grace_s == 10);
    assert_true(c.t[LH_SLA_CPU].severity == LH_SLA_WARNING && !c.t[LH_SLA_CPU].rollback);
    assert_true(c.window_s == 300 && c.canary_window_s == 900);
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms", "250", err, sizeof(err)), 0);
    assert_true(c.t[LH_SLA_P99].threshold == 250);
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms_grace_s", "1.5", err, sizeof(err)), 0);
    assert_true(c.t[LH_SLA_P99].grace_s == 1.5);
    assert_int_equal(lh_sla_config_set(&c, "sla_compliance_rate", "95", err, sizeof(err)), 0);
    assert_true(c.t[LH_SLA_COMPLIANCE].threshold == 95);
    assert_int_equal(lh_sla_config_set(&c, "sla_compliance_rate_rollback", "false", err, sizeof(err)), 0);
    assert_int_equal(c.t[LH_SLA_COMPLIANCE].rollback, 0);
    assert_int_equal(lh_sla_config_set(&c, "sla_cpu_utilization_percent_severity", "critical", err, sizeof(err)), 0);
    assert_int_equal(c.t[LH_SLA_CPU].severity, LH_SLA_CRITICAL);
    assert_int_equal(lh_sla_config_set(&c, "sla_memory_utilization_percent", "off", err, sizeof(err)), 0);
    assert_int_equal(c.t[LH_SLA_MEMORY].enabled, 0);
    assert_int_equal(lh_sla_config_set(&c, "sla_window_s", "5", err, sizeof(err)), 0);
    assert_int_equal(lh_sla_config_set(&c, "sla_canary_window_s", "0", err, sizeof(err)), 0);
    /* Refusals name the key and say what is wanted. */
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms", "-5", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sla_p99_response_time_ms"));
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms", "0", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_availability_percent", "101", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms_grace_s", "-1", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_window_s", "0", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_eval_interval_s", "abc", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms_severity", "huge", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "warning, minor, major or critical"));
    assert_int_equal(lh_sla_config_set(&c, "sla_p95_response_time_ms", "100", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown SLA setting \"sla_p95_response_time_ms\""));
    assert_int_equal(lh_sla_config_set(&c, "sla_p99_response_time_ms_graces", "1", err, sizeof(err)), -1);
    assert_int_equal(lh_sla_config_set(&c, "sla_min_requests", "2.5", err, sizeof(err)), -1);
    /* A window shorter than the interval does not check. */
    lh_sla_config_defaults(&c);
    c.window_s = 0.5;
    assert_int_equal(lh_sla_config_check(&c, err, sizeof(err)), -1);
    assert_null(lh_sla_eval_new(&c));
}

/* ---- per agent: attribution, the trimmed figure, the one-agent rule --------------- */

static const char agentNames[LH_SLA_AGENTS][LH_METRICS_AGENT_NAME] = {"alice", "bob", "mallory"};

/* One agent's slow requests violate p99 and compliance: the violation names it (nearly
 * all of the shortfall), the figure without it is inside, so it is "alone"; and over the
 * revision's canary it is no evidence (-1: the violation waits). When a second agent is
 * slow too, the figure without the worst one still violates: evidence. */
static void one_agent_alone_is_no_evidence(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    c.window_s = 10;
    for (int m = 0; m < LH_SLA_COUNT; m++) c.t[m].grace_s = 0;
    lh_sla_eval *e = lh_sla_eval_new(&c);
    assert_non_null(e);
    feed f;
    initFeed(&f);
    lh_sla_lineage l = {0};
    l.names = agentNames;
    lh_sla_lineage_change(&l, "A", 0, 0, 0);
    lh_sla_lineage_set_sample(&l, &f.s);
    addAgent(&f, 0, 300, 1 * MS, 200);                /* A: fast for everyone */
    addAgent(&f, 1, 300, 1 * MS, 200);
    pushAt(e, &f, 1, LH_SLA_P99);
    f.s.t_ns = 20 * S;                                /* the window has forgotten A's requests */
    lh_sla_lineage_change(&l, "B", 0, f.s.t_ns, f.s.requests);
    lh_sla_lineage_set_sample(&l, &f.s);
    feed at = f;
    pushAt(e, &f, 20, LH_SLA_P99);

    /* Under B, alice and bob stay fast; mallory's requests are slow (5% of them all). */
    addAgent(&f, 0, 500, 1 * MS, 200);
    addAgent(&f, 1, 450, 1 * MS, 200);
    addAgent(&f, 2, 50, 400 * MS, 200);
    assert_int_equal(pushAt(e, &f, 21, LH_SLA_P99), 1);
    assert_true(stateOf(e, LH_SLA_COMPLIANCE).state == LH_SLA_VIOLATED);
    lh_sla_blame b;
    for (int m = LH_SLA_COMPLIANCE; m <= LH_SLA_AVG; m++) {
        assert_int_equal(lh_sla_blame_compute(&c, (lh_sla_metric)m, lh_sla_eval_window_start(e), lh_sla_eval_newest(e),
                                              c.min_requests, &b), 1);
        assert_int_equal(b.slot[0], 2);
        assert_int_equal(b.worst, 2);
        assert_true(b.alone);
        assert_true(b.trimmed_has);
        assert_int_equal(b.trimmed_requests, 950);
    }
    lh_sla_blame_compute(&c, LH_SLA_P99, lh_sla_eval_window_start(e), lh_sla_eval_newest(e), c.min_requests, &b);
    assert_int_equal(b.n, 1);                         /* only mallory has requests above 100 ms */
    assert_true(b.share[0] > 0.999);
    assert_true(b.trimmed <= 1.0);                    /* alice's and bob's p99: 1 ms */
    char txt[200];
    lh_sla_blame_text(&b, agentNames, txt, sizeof(txt));
    assert_string_equal(txt, "mallory 100%");
    /* CPU, memory, rps: nothing to attribute. */
    assert_int_equal(lh_sla_blame_compute(&c, LH_SLA_CPU, lh_sla_eval_window_start(e), lh_sla_eval_newest(e), 1, &b), 0);

    char why[440];
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_P99, &f.s, why, sizeof(why)), -1);
    if (!strstr(why, "one agent alone") || !strstr(why, "mallory")) fail_msg("%s", why);
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_COMPLIANCE, &f.s, why, sizeof(why)), -1);

    /* Server faults of one agent (the engine fails on its input): availability too. */
    feed g = at;
    addAgent(&g, 0, 500, 1 * MS, 200);
    addAgent(&g, 2, 30, 1 * MS, 500);
    g.s.t_ns += S;
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_AVAILABILITY, &g.s, why, sizeof(why)), -1);
    if (!strstr(why, "one agent alone") || !strstr(why, "mallory")) fail_msg("%s", why);

    /* Two agents slow: without the worst one, p99 is still above 100 ms: evidence. */
    addAgent(&f, 1, 50, 400 * MS, 200);
    assert_int_equal(pushAt(e, &f, 22, LH_SLA_P99), 0);   /* still violated */
    lh_sla_blame_compute(&c, LH_SLA_P99, lh_sla_eval_window_start(e), lh_sla_eval_newest(e), c.min_requests, &b);
    assert_false(b.alone);
    assert_int_equal(b.n, 2);
    assert_true(b.share[0] > 0.49 && b.share[0] < 0.51 && b.share[1] > 0.49);
    assert_true(b.trimmed > 100);
    assert_int_equal(lh_sla_rollback_evidence(&l, &c, LH_SLA_P99, &f.s, why, sizeof(why)), 1);
    if (!strstr(why, "evidence:") || !strstr(why, "mallory") || !strstr(why, "bob")) fail_msg("%s", why);
    lh_sla_eval_free(e);
}

/* "other" (untracked agents, requests without an agent) is pooled: it is named, but never
 * left out, so pooling cannot hide a bad revision; and an agent with most of the traffic
 * cannot be left out when too few requests would remain (then it is alone). */
static void other_is_never_left_out(void **state) {
    (void)state;
    lh_sla_config c;
    lh_sla_config_defaults(&c);
    feed f, z;
    initFeed(&f);
    z = f;
    add(&f, 900, 1 * MS, 200);                        /* untracked, fast */
    add(&f, 50, 400 * MS, 200);                       /* untracked, slow */
    addAgent(&f, 0, 50, 1 * MS, 200);                 /* alice, fast */
    f.s.t_ns = S;
    lh_sla_blame b;
    lh_sla_blame_compute(&c, LH_SLA_P99, &z.s, &f.s, 20, &b);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.slot[0], LH_SLA_OTHER);
    assert_false(b.alone);                            /* leaving alice out changes nothing */
    assert_int_equal(b.worst, 0);
    char txt[200];
    lh_sla_blame_text(&b, NULL, txt, sizeof(txt));
    assert_string_equal(txt, "other 100%");

    /* A lone agent: nothing remains without it, so it is alone (no rollback). */
    initFeed(&f);
    addAgent(&f, 3, 100, 400 * MS, 200);
    f.s.t_ns = S;
    lh_sla_blame_compute(&c, LH_SLA_P99, &z.s, &f.s, 20, &b);
    assert_true(b.alone);
    assert_false(b.trimmed_has);
    lh_sla_blame_text(&b, NULL, txt, sizeof(txt));
    assert_string_equal(txt, "agent #3 100%");

    /* Too few requests without any one agent: the one left out is the one with the
     * largest shortfall (mallory), not the first in the slots (alice). */
    initFeed(&f);
    addAgent(&f, 0, 12, 1 * MS, 200);
    addAgent(&f, 2, 2, 400 * MS, 200);
    addAgent(&f, 1, 10, 1 * MS, 200);
    f.s.t_ns = S;
    lh_sla_blame_compute(&c, LH_SLA_P99, &z.s, &f.s, 20, &b);
    assert_true(b.alone);
    assert_int_equal(b.worst, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compute_latency_and_rates),
        cmocka_unit_test(compute_cpu_and_memory),
        cmocka_unit_test(no_requests_is_no_data),
        cmocka_unit_test(min_sample_is_not_enough_data),
        cmocka_unit_test(rollback_needs_evidence),
        cmocka_unit_test(one_agent_alone_is_no_evidence),
        cmocka_unit_test(other_is_never_left_out),
        cmocka_unit_test(breach_must_outlast_grace),
        cmocka_unit_test(short_breach_within_grace_is_forgotten),
        cmocka_unit_test(zero_grace_violates_at_once),
        cmocka_unit_test(resolve_needs_hold_time_inside),
        cmocka_unit_test(no_data_neither_resolves_nor_holds),
        cmocka_unit_test(window_forgets_old_requests),
        cmocka_unit_test(rollback_walks_down_the_lineage),
        cmocka_unit_test(rollback_only_in_canary_and_flagged),
        cmocka_unit_test(known_good_needs_a_quiet_canary_with_traffic),
        cmocka_unit_test(settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

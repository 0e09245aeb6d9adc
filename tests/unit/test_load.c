/* test_load.c — the load simulator's parts that need no bridge (src/load/): the
 * histogram's error bound, the Mann–Whitney test, patterns and their checks, the YAML
 * loader, the load curve, the corpus and the report of a run that never started. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "load/load.h"
#include "load/load_int.h"

static int cmpU64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Log-uniform values from 1 µs to 60 s: every quantile within 1% of the exact one. */
static void test_hist_error_bound(void **st) {
    (void)st;
    lh_load_hist h;
    assert_int_equal(lh_load_hist_init(&h, 8), 0);
    lh_load_rng g;
    lh_load_rng_seed(&g, 42);
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof(uint64_t));
    for (int i = 0; i < N; i++) {
        double lo = log(1e3), hi = log(60e9);
        v[i] = (uint64_t)exp(lo + (hi - lo) * lh_load_rng_u01(&g));
        lh_load_hist_add(&h, v[i]);
    }
    qsort(v, N, sizeof(uint64_t), cmpU64);
    const double qs[] = {.001, .01, .1, .25, .5, .75, .9, .95, .99, .999, .9999};
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        size_t rank = (size_t)ceil(qs[k] * N);
        double exact = (double)v[rank - 1], got = (double)lh_load_hist_quantile(&h, qs[k]);
        double rel = fabs(got - exact) / exact;
        if (rel > 0.01) fail_msg("q %.4f: got %.0f ns, exact %.0f ns (%.3f%% off)", qs[k], got, exact, rel * 100);
    }
    assert_int_equal(h.max_ns, v[N - 1]);
    assert_int_equal(h.min_ns, v[0]);
    assert_int_equal(h.count, N);
    /* every single value in range lands in a bucket whose midpoint is within 1% */
    for (uint64_t x = 1000; x < 60000000000ull; x = x * 1.37 + 1) {
        uint64_t lo, hi;
        lh_load_hist_bounds(&h, lh_load_hist_index(&h, x), &lo, &hi);
        assert_true(lo <= x && x < hi);
        double mid = (double)lo + (double)(hi - lo) / 2;
        assert_true(fabs(mid - (double)x) / (double)x <= 0.01);
    }
    /* beyond 60 s: clamped and counted */
    lh_load_hist_add(&h, 120000000000ull);
    assert_int_equal(h.clamped, 1);
    assert_int_equal(h.max_ns, LH_LOAD_HIST_MAX_NS);
    free(v);
    lh_load_hist_free(&h);
}

static void test_hist_merge_and_empty(void **st) {
    (void)st;
    lh_load_hist a, b;
    assert_int_equal(lh_load_hist_init(&a, 8), 0);
    assert_int_equal(lh_load_hist_init(&b, 8), 0);
    assert_int_equal(lh_load_hist_quantile(&a, .99), 0);
    for (int i = 1; i <= 100; i++) lh_load_hist_add(&a, (uint64_t)i * 1000000);
    for (int i = 101; i <= 200; i++) lh_load_hist_add(&b, (uint64_t)i * 1000000);
    lh_load_hist_merge(&a, &b);
    assert_int_equal(a.count, 200);
    double p50 = (double)lh_load_hist_quantile(&a, .5) / 1e6;
    assert_true(fabs(p50 - 100) <= 1);
    assert_true(fabs(lh_load_hist_mean(&a) / 1e6 - 100.5) < 1e-9);
    lh_load_hist_free(&a);
    lh_load_hist_free(&b);
}

static void test_mwu(void **st) {
    (void)st;
    lh_load_rng g;
    lh_load_rng_seed(&g, 7);
    double x[30], y[30], z[30];
    for (int i = 0; i < 30; i++) {
        x[i] = 1 + 0.1 * lh_load_rng_u01(&g);
        y[i] = 1 + 0.1 * lh_load_rng_u01(&g);
        z[i] = 1.3 + 0.1 * lh_load_rng_u01(&g);   /* every sample 30% slower */
    }
    assert_true(lh_load_mwu_greater(x, 30, y, 30) > 0.01);   /* same distribution: not significant */
    assert_true(lh_load_mwu_greater(x, 30, z, 30) < 1e-6);   /* shifted: significant */
    assert_true(lh_load_mwu_greater(z, 30, x, 30) > 0.99);   /* the other direction: not */
    double c[5] = {1, 1, 1, 1, 1};
    assert_true(lh_load_mwu_greater(c, 5, c, 5) >= 0.5);     /* all ties */
}

/* The p-value itself, on a sample with ties: R's wilcox.test(y, x, alternative = "greater",
 * exact = FALSE, correct = TRUE) computes W = 27.5 and p = 0.06937 with the same tie-corrected
 * variance and continuity correction as docs/load.md names. Without the tie correction p
 * would be 0.0748, without the continuity correction 0.0591: each is caught. */
static void test_mwu_exact(void **st) {
    (void)st;
    const double x[] = {1, 2, 2, 3, 4, 4}, y[] = {2, 3, 4, 4, 5, 6};
    assert_true(fabs(lh_load_mwu_greater(x, 6, y, 6) - 0.0693698552151446) < 1e-9);
    /* the other direction: U_x = 36 - 27.5 = 8.5, z = (8.5 - 18 - 0.5) / sqrt(36.9545) */
    assert_true(fabs(lh_load_mwu_greater(y, 6, x, 6) - 0.5 * erfc((8.5 - 18 - 0.5) / sqrt(36.95454545454545) / sqrt(2))) < 1e-9);
}

static void test_patterns(void **st) {
    (void)st;
    lh_load_pattern p;
    char err[256];
    assert_int_equal(lh_load_pattern_builtin("incident_response", &p, err, sizeof(err)), 0);
    assert_true(p.mix[0] == .20 && p.mix[1] == .50 && p.mix[2] == .30);
    assert_true(p.base_rate == 200 && p.peak_multiplier == 4 && p.burst_probability == .15);
    assert_int_equal(p.agents_base, 100);
    assert_int_equal(p.agents_peak, 500);
    assert_true(p.burst_multiplier == 5 && p.session_mean_s == 300 && p.think_time_s == 2);
    assert_true(p.network_error_rate == .02 && p.retry_fraction == .8 && p.retry_delay_mean_s == 1);
    assert_true(p.tz_weight[0] == .35 && p.tz_weight[3] == .15);
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), 0);
    assert_int_equal(lh_load_pattern_builtin("nope", &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown pattern"));
    lh_load_pattern_builtin("scale_test", &p, err, sizeof(err));
    assert_int_equal(lh_load_pattern_set(&p, "base_rate", "0", err, sizeof(err)), 0);
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "base_rate"));
    lh_load_pattern_set(&p, "base_rate", "-3", err, sizeof(err));
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), -1);
    lh_load_pattern_set(&p, "base_rate", "100", err, sizeof(err));
    assert_int_equal(lh_load_pattern_set(&p, "mix", "0.5/0.2/0.2", err, sizeof(err)), 0);
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sum to 1"));
    lh_load_pattern_set(&p, "mix", "0.6/0.2/0.2", err, sizeof(err));
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), 0);
    assert_int_equal(lh_load_pattern_set(&p, "agents_base", "1.5", err, sizeof(err)), -1);
    assert_int_equal(lh_load_pattern_set(&p, "bogus", "1", err, sizeof(err)), -1);
    assert_int_equal(lh_load_pattern_set(&p, "base_rate", "fast", err, sizeof(err)), -1);
    lh_load_pattern_set(&p, "agents_peak", "10", err, sizeof(err));   /* below agents_base 500 */
    assert_int_equal(lh_load_pattern_check(&p, err, sizeof(err)), -1);
}

static void test_curve(void **st) {
    (void)st;
    lh_load_pattern p;
    char err[128];
    lh_load_pattern_builtin("business_hours", &p, err, sizeof(err));
    /* short run: base at the ends, peak in the middle */
    assert_true(lh_load_pattern_curve(&p, 0, 60, 12) < 1e-9);
    assert_true(fabs(lh_load_pattern_curve(&p, 30, 60, 12) - 1) < 1e-9);
    /* a day: stays in [0, 1], reaches both ends, and the weights shape it */
    double lo = 1, hi = 0;
    for (int h = 0; h < 24 * 4; h++) {
        double c = lh_load_pattern_curve(&p, h * 900.0, 86400, 0);
        assert_true(c >= -1e-9 && c <= 1 + 1e-9);
        if (c < lo) lo = c;
        if (c > hi) hi = c;
    }
    assert_true(lo < 0.05 && hi > 0.95);
    /* all weight on Asia (UTC+8): its afternoon (06:00 UTC) is the peak, its night the floor */
    lh_load_pattern_set(&p, "time_zones", "0/0/0/1", err, sizeof(err));
    assert_true(lh_load_pattern_curve(&p, 6 * 3600.0, 86400, 0) > 0.99);
    assert_true(lh_load_pattern_curve(&p, 18 * 3600.0, 86400, 0) < 0.01);
}

static const char *writeTmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/lh_test_load_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_yaml(void **st) {
    (void)st;
    lh_load_pattern p;
    char err[512];
    const char *f = writeTmp("name: mine\nmix: {safe: 0.5, risky: 0.3, complex: 0.2}\nbase_rate: 40\nagents_base: 10\nagents_peak: 30\n");
    assert_int_equal(lh_load_pattern_file(f, &p, err, sizeof(err)), 0);
    assert_string_equal(p.name, "mine");
    assert_true(p.base_rate == 40 && p.mix[1] == .3 && p.agents_peak == 30 && p.burst_multiplier == 5);
    unlink(f);
    f = writeTmp("pattern: business_hours\nbase_rate: 75\n");
    assert_int_equal(lh_load_pattern_file(f, &p, err, sizeof(err)), 0);
    assert_true(p.base_rate == 75 && p.peak_multiplier == 2.5);
    unlink(f);
    struct { const char *yaml, *want; } bad[] = {
        {"pattern: scale_test\nbase_rat: 5\n", "unknown key 'base_rat'"},
        {"pattern: scale_test\nmix: {safe: 1, dangerous: 0}\n", "unknown key 'dangerous' in mix"},
        {"pattern: scale_test\nbase_rate: 0\n", "base_rate must be > 0"},
        {"pattern: scale_test\nbase_rate: -10\n", "base_rate must be > 0"},
        {"pattern: scale_test\nmix: {safe: 0.5, risky: 0.2, complex: 0.1}\n", "must sum to 1"},
        {"pattern: scale_test\nburst_probability: 1.5\n", "burst_probability"},
        {"pattern: scale_test\nagents_peak: 3\n", "agents_peak"},
        {"pattern: nope\n", "unknown pattern"},
        {"base_rate: 10\n", "required"},
        {"- a\n- b\n", "mapping"},
        {"pattern: scale_test\nbase_rate: [1, 2]\n", "single value"},
        {"pattern: [\n", "line"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f = writeTmp(bad[i].yaml);
        int rc = lh_load_pattern_file(f, &p, err, sizeof(err));
        unlink(f);
        if (rc != -1 || !strstr(err, bad[i].want)) fail_msg("%s: rc %d, err '%s', want '%s'", bad[i].yaml, rc, err, bad[i].want);
    }
    assert_int_equal(lh_load_pattern_file("/nonexistent/p.yaml", &p, err, sizeof(err)), -1);
}

static void test_corpus(void **st) {
    (void)st;
    lh_load_corpus c;
    char used[512], err[512], path[512];
    const char *root = getenv("LH_ROOT");
    snprintf(path, sizeof(path), "%s/data/load/commands.jsonl", root && *root ? root : ".");
    assert_int_equal(lh_load_corpus_load(&c, path, used, sizeof(used), err, sizeof(err)), 0);
    assert_true(c.n >= 90);
    for (int k = 0; k < LH_LOAD_CLASSES; k++) assert_true(c.by_class[k] >= 15);
    int scen[LH_LOAD_SCENARIOS] = {0};
    for (int i = 0; i < c.n; i++) if (c.cmd[i].scenario >= 0) scen[c.cmd[i].scenario]++;
    for (int s = 0; s < LH_LOAD_SCENARIOS; s++) assert_true(scen[s] > 0);   /* every escalation scenario is exercised */
    lh_load_corpus_free(&c);
    const char *f = writeTmp("{\"class\":\"safe\",\"command\":\"ls\"}\n{\"class\":\"risky\",\"command\":\"rm -rf /tmp/x\"}\n");
    assert_int_equal(lh_load_corpus_load(&c, f, used, sizeof(used), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no complex commands"));
    unlink(f);
    f = writeTmp("{\"class\":\"weird\",\"command\":\"ls\"}\n");
    assert_int_equal(lh_load_corpus_load(&c, f, used, sizeof(used), err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1:"));
    unlink(f);
}


/* A synthetic run: 10 one-second slots whose latencies are base_ms × (1 + small noise), and
 * bridge samples; the report carries the run-level figures the comparison reads. */
static void fakeRun(lh_load_result *r, json_t **rep, double base_ms, uint64_t seed) {
    memset(r, 0, sizeof(*r));
    lh_load_rng g;
    lh_load_rng_seed(&g, seed);
    r->nslots = 10;
    r->slot_s = 1;
    r->wall_s = 10;
    r->slots = calloc(10, sizeof(lh_load_slot));
    lh_load_hist all;
    lh_load_hist_init(&all, 8);
    for (int i = 0; i < 10; i++) {
        lh_load_hist_init(&r->slots[i].h, 5);
        for (int k = 0; k < 200; k++) {
            uint64_t ns = (uint64_t)(base_ms * 1e6 * (0.5 + lh_load_rng_u01(&g)));
            lh_load_hist_add(&r->slots[i].h, ns);
            lh_load_hist_add(&all, ns);
        }
        r->slots[i].ok = 200;
    }
    r->nres = 12;
    r->res = calloc(12, sizeof(lh_load_res));
    for (int i = 0; i < 12; i++) {
        r->res[i].t = i - 1.5;
        r->res[i].rss_bytes = 40e6 + 1e5 * lh_load_rng_u01(&g);
        r->res[i].cpu_percent = 30 + lh_load_rng_u01(&g);
    }
    *rep = json_pack("{s:{s:f,s:f,s:f},s:{s:f,s:f,s:f},s:{},s:i}", "summary", "p99_ms",
                     (double)lh_load_hist_quantile(&all, .99) / 1e6, "p95_ms", (double)lh_load_hist_quantile(&all, .95) / 1e6,
                     "rps", 200.0, "metrics", "avg_response_time_ms", lh_load_hist_mean(&all) / 1e6, "memory_peak_mb", 40.1,
                     "cpu_peak_percent", 31.0, "pattern", "seed", 1);
    lh_load_hist_free(&all);
}

static void freeRun(lh_load_result *r, json_t *rep) {
    for (int i = 0; i < r->nslots; i++) lh_load_hist_free(&r->slots[i].h);
    free(r->slots);
    free(r->res);
    json_decref(rep);
}

static void test_baseline_compare(void **st) {
    (void)st;
    char path[] = "/tmp/lh_test_baseline_XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    lh_load_result a, b;
    json_t *ra, *rb;
    fakeRun(&a, &ra, 20, 1);
    json_t *bj = lh_load_baseline_json(ra, &a);
    assert_non_null(bj);
    assert_int_equal(json_dump_file(bj, path, 0), 0);
    json_decref(bj);
    /* the same build again (another seed): no regression */
    fakeRun(&b, &rb, 20, 2);
    lh_load_compare *c = lh_load_compare_baseline(path, rb, &b, 5, err, sizeof(err));
    assert_non_null(c);
    assert_false(lh_load_compare_regressed(c));
    lh_load_compare_free(c);
    freeRun(&b, rb);
    /* 3x slower in every second: a regression of p99, p95 and avg */
    fakeRun(&b, &rb, 60, 3);
    c = lh_load_compare_baseline(path, rb, &b, 5, err, sizeof(err));
    assert_true(lh_load_compare_regressed(c));
    json_t *cj = lh_load_compare_json(c);
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(cj, "metrics"), "p99_ms"), "regressed")));
    assert_true(json_array_size(json_object_get(cj, "exceeded")) == 3);
    json_decref(cj);
    lh_load_compare_free(c);
    /* the same shift with a practical margin above it: not called */
    c = lh_load_compare_baseline(path, rb, &b, 1000, err, sizeof(err));
    assert_false(lh_load_compare_regressed(c));
    lh_load_compare_free(c);
    freeRun(&b, rb);
    /* 5% slower: under every threshold */
    fakeRun(&b, &rb, 21, 4);
    c = lh_load_compare_baseline(path, rb, &b, 0, err, sizeof(err));
    assert_false(lh_load_compare_regressed(c));
    lh_load_compare_free(c);
    /* corrupt and foreign files are errors */
    FILE *f = fopen(path, "w");
    fputs("{\"lighthouse_load_baseline\": 1, \"metrics\": ", f);
    fclose(f);
    assert_null(lh_load_compare_baseline(path, rb, &b, 5, err, sizeof(err)));
    assert_non_null(strstr(err, "baseline"));
    f = fopen(path, "w");
    fputs("{\"lighthouse_load_baseline\": 1, \"metrics\": {\"p99_ms\": {\"run\": \"x\"}}}", f);
    fclose(f);
    assert_null(lh_load_compare_baseline(path, rb, &b, 5, err, sizeof(err)));
    assert_non_null(strstr(err, "malformed"));
    freeRun(&b, rb);
    freeRun(&a, ra);
    unlink(path);
}

/* The bridge's outcome counts: its own per-class series when exported (labels in any
 * order, other routes ignored), else by status code; and the agreement verdict. */
static void test_outcomes_agreement(void **st) {
    (void)st;
    const char *native =
        "# HELP lighthouse_bridge_outcomes_total x\n"
        "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"ok\"} 100\n"
        "lighthouse_bridge_outcomes_total{class=\"throttled\",route=\"/v1/validate\"} 7\n"
        "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"client_gone\"} 3\n"
        "lighthouse_bridge_outcomes_total{route=\"/v1/validate2\",class=\"ok\"} 50\n"
        "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"ok\"} 9\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"200\"} 999\n";
    double out[LH_LOAD_OUTCOMES];
    assert_int_equal(lh_load_outcomes_scrape(native, "/v1/validate", out), 1);
    assert_true(out[LH_LOAD_OUT_OK] == 100 && out[LH_LOAD_OUT_THROTTLED] == 7 && out[LH_LOAD_OUT_CLIENT_GONE] == 3);
    assert_true(out[LH_LOAD_OUT_SERVER_FAULT] == 0 && out[LH_LOAD_OUT_CLIENT_ERROR] == 0);
    const char *codes =
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"200\"} 90\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"401\"} 2\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"413\"} 1\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"429\"} 5\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"500\"} 4\n"
        "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"503\"} 1\n"
        "lighthouse_bridge_requests_total{route=\"/v1/events\",code=\"200\"} 77\n";
    assert_int_equal(lh_load_outcomes_scrape(codes, "/v1/validate", out), 0);
    assert_true(out[LH_LOAD_OUT_OK] == 90 && out[LH_LOAD_OUT_CLIENT_ERROR] == 3 && out[LH_LOAD_OUT_THROTTLED] == 5);
    assert_true(out[LH_LOAD_OUT_SERVER_FAULT] == 5 && isnan(out[LH_LOAD_OUT_CLIENT_GONE]));

    /* a run: 100 ok, 7 throttled, 4 resets; the bridge saw 3 of the resets */
    lh_load_result r;
    memset(&r, 0, sizeof(r));
    r.metrics_ok = 1;
    r.m_out_native = 1;
    r.ok = 100;
    r.status[2] = 100;
    r.status[4] = 7;
    r.throttled = 7;
    r.resets = 4;
    lh_load_outcomes_scrape(native, "/v1/validate", r.m_out[1]);
    int status;
    char why[512];
    json_t *j = lh_load_agreement(&r, &status, why, sizeof(why));
    assert_int_equal(status, 1);
    json_decref(j);
    /* the bridge answered one more than the load counted, nothing in flight: disagree */
    r.ok = 99;
    j = lh_load_agreement(&r, &status, why, sizeof(why));
    assert_int_equal(status, 0);
    assert_non_null(strstr(why, "ok: load 99, bridge 100"));
    json_decref(j);
    /* ... unless a request is in flight (timed out on the load's side) */
    r.timeouts = 1;
    j = lh_load_agreement(&r, &status, why, sizeof(why));
    assert_int_equal(status, 1);
    json_decref(j);
    /* the bridge cannot see more resets than were made */
    r.timeouts = 0;
    r.ok = 100;
    r.resets = 2;
    j = lh_load_agreement(&r, &status, why, sizeof(why));
    assert_int_equal(status, 0);
    assert_non_null(strstr(why, "client_gone"));
    json_decref(j);
    /* no /metrics: no data, never agreement */
    r.metrics_ok = 0;
    j = lh_load_agreement(&r, &status, why, sizeof(why));
    assert_int_equal(status, -1);
    json_decref(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_error_bound), cmocka_unit_test(test_hist_merge_and_empty),
        cmocka_unit_test(test_mwu),              cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_mwu_exact),
        cmocka_unit_test(test_curve),            cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_corpus),           cmocka_unit_test(test_baseline_compare),
        cmocka_unit_test(test_outcomes_agreement),
    };
    return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}

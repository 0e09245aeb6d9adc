/* test_load_summary.c — the central history's run summary (src/load/summary.c): built
 * from a report, it passes the schema the bridge checks at POST /v1/load/runs; each kind
 * of bad input (missing, wrong type, out of range, unknown field, inconsistent figures)
 * is refused with a message that names the field; trend rows carry the figures. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "load/load.h"

/* A report as lh_load_report makes it, cut to the parts a summary reads. */
static json_t *report(void) {
    json_error_t je;
    json_t *r = json_loads("{\"summary\": {\"requests_total\": 1200, \"requests_failed\": 3, \"rps\": 99.5,"
                           " \"p50_ms\": 1.25, \"p99_ms\": 7.5, \"sla_compliance_percent\": 99.75, \"verdict\": \"GO\","
                           " \"failed_objectives\": []},"
                           " \"decisions\": {\"allow\": 900, \"deny\": 250, \"escalate\": 47},"
                           " \"metrics\": {\"peak_concurrent_agents\": 20}, \"seed\": 7,"
                           " \"parameters\": {\"duration_s\": 12}, \"pattern\": {\"name\": \"scale_test\"},"
                           " \"machine\": {\"hostname\": \"ci-1\"}, \"target\": \"http://127.0.0.1:9/v1/validate\"}",
                           0, &je);
    assert_non_null(r);
    return r;
}

static json_t *good(void) {
    json_t *rep = report();
    json_t *s = lh_load_summary(rep, 1765000000.5, "lr-0123456789abcdef", "0a1b2c3d4e5f");
    json_decref(rep);
    assert_non_null(s);
    return s;
}

static void test_built_summary_passes(void **st) {
    (void)st;
    json_t *s = good();
    char err[256] = "";
    if (lh_load_summary_check(s, err, sizeof(err))) fail_msg("a built summary was refused: %s", err);
    const json_t *p = json_array_get(json_object_get(s, "patterns"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "pattern")), "scale_test");
    assert_int_equal(json_integer_value(json_object_get(p, "requests")), 1200);
    assert_int_equal(json_integer_value(json_object_get(p, "failed")), 3);
    assert_true(json_number_value(json_object_get(p, "p99_ms")) == 7.5);
    assert_true(json_number_value(json_object_get(p, "rps")) == 99.5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "decisions"), "deny")), 250);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "sla"), "verdict")), "GO");
    assert_int_equal(json_integer_value(json_object_get(s, "start_ns")), 1765000000500000000LL);
    assert_int_equal(json_integer_value(json_object_get(s, "agents")), 20);
    assert_string_equal(json_string_value(json_object_get(s, "host")), "ci-1");
    assert_string_equal(json_string_value(json_object_get(s, "git_commit")), "0a1b2c3d4e5f");
    json_decref(s);
    /* no commit known: null, still valid */
    json_t *rep = report();
    s = lh_load_summary(rep, 1765000000, "lr-1", NULL);
    assert_true(json_is_null(json_object_get(s, "git_commit")));
    assert_int_equal(lh_load_summary_check(s, err, sizeof(err)), 0);
    json_decref(s);
    /* a run that measured nothing: null figures, NO-GO, still a valid summary */
    json_object_set_new(json_object_get(rep, "summary"), "p50_ms", json_null());
    json_object_set_new(json_object_get(rep, "summary"), "p99_ms", json_null());
    json_object_set_new(json_object_get(rep, "summary"), "verdict", json_string("NO-GO"));
    s = lh_load_summary(rep, 1765000000, "lr-2", NULL);
    if (lh_load_summary_check(s, err, sizeof(err))) fail_msg("null figures were refused: %s", err);
    json_decref(s);
    json_decref(rep);
}

/* Apply one change (a JSON object of path → value, merged at the path given) and expect a
 * refusal whose message contains want. */
static void refuse(const char *what, json_t *s, const char *want) {
    char err[256] = "";
    if (!lh_load_summary_check(s, err, sizeof(err))) fail_msg("%s: accepted", what);
    if (!strstr(err, want)) fail_msg("%s: the message \"%s\" does not name \"%s\"", what, err, want);
    json_decref(s);
}

static json_t *pat0(json_t *s) { return json_array_get(json_object_get(s, "patterns"), 0); }

static void test_bad_summaries_refused(void **st) {
    (void)st;
    json_t *s;
    char err[256];
    assert_int_equal(lh_load_summary_check(NULL, err, sizeof(err)), -1);
    json_t *arr = json_array();
    assert_int_equal(lh_load_summary_check(arr, err, sizeof(err)), -1);
    json_decref(arr);

    s = good(); json_object_del(s, "run_id"); refuse("missing run_id", s, "run_id: missing");
    s = good(); json_object_del(json_object_get(s, "sla"), "verdict"); refuse("missing sla.verdict", s, "sla.verdict: missing");
    s = good(); json_object_del(pat0(s), "p99_ms"); refuse("missing p99", s, "patterns[0].p99_ms: missing");
    s = good(); json_object_del(json_object_get(pat0(s), "decisions"), "deny"); refuse("missing deny", s, "patterns[0].decisions.deny: missing");
    s = good(); json_object_set_new(pat0(s), "p99_ms", json_string("7.5")); refuse("p99 a string", s, "patterns[0].p99_ms: must be a number");
    s = good(); json_object_set_new(pat0(s), "requests", json_real(1.5)); refuse("requests 1.5", s, "patterns[0].requests: must be a whole number");
    s = good(); json_object_set_new(s, "agents", json_string("20")); refuse("agents a string", s, "agents: must be a whole number");
    s = good(); json_object_set_new(s, "patterns", json_object()); refuse("patterns an object", s, "patterns: must be an array");
    s = good(); json_object_set_new(s, "patterns", json_array()); refuse("no pattern", s, "patterns: must hold 1 to 16");
    s = good(); json_object_set_new(s, "run_id", json_null()); refuse("run_id null", s, "run_id: must be a string, not null");
    s = good(); json_object_set_new(s, "run_id", json_string("a b")); refuse("run_id with a space", s, "run_id: only letters");
    s = good(); json_object_set_new(s, "run_id", json_string("")); refuse("empty run_id", s, "run_id: must be 1 to 64 bytes");
    s = good(); json_object_set_new(s, "git_commit", json_string("ABCDEF0")); refuse("upper-case commit", s, "git_commit: must be a git commit");
    s = good(); json_object_set_new(s, "git_commit", json_string("abc")); refuse("short commit", s, "git_commit: must be 7 to 64");
    s = good(); json_object_set_new(json_object_get(s, "sla"), "verdict", json_string("MAYBE")); refuse("verdict MAYBE", s, "sla.verdict: must be \"GO\" or \"NO-GO\"");
    s = good(); json_object_set_new(json_object_get(s, "sla"), "compliance_percent", json_real(101)); refuse("compliance 101", s, "sla.compliance_percent: 101 is out of range");
    s = good(); json_object_set_new(pat0(s), "p50_ms", json_real(-1)); refuse("negative p50", s, "patterns[0].p50_ms: -1 is out of range");
    s = good(); json_object_set_new(s, "duration_s", json_integer(0)); refuse("zero duration", s, "duration_s: 0 is out of range");
    s = good(); json_object_set_new(s, "lighthouse_load_summary", json_integer(2)); refuse("version 2", s, "lighthouse_load_summary: 2 is out of range");
    s = good(); json_object_set_new(s, "extra", json_true()); refuse("unknown top field", s, "extra: unknown field");
    s = good(); json_object_set_new(pat0(s), "p95_ms", json_real(3)); refuse("unknown pattern field", s, "patterns[0].p95_ms: unknown field");
    s = good(); json_object_set_new(json_object_get(pat0(s), "decisions"), "maybe", json_integer(1)); refuse("unknown decision", s, "patterns[0].decisions.maybe: unknown field");
    s = good(); json_object_set_new(pat0(s), "p50_ms", json_real(9)); refuse("p50 above p99", s, "patterns[0].p50_ms: greater than");
    s = good(); json_object_set_new(pat0(s), "failed", json_integer(1201)); refuse("failed above requests", s, "patterns[0].failed: more than");
    s = good(); json_array_append(json_object_get(s, "patterns"), pat0(s)); refuse("a pattern twice", s, "patterns[1].pattern: \"scale_test\" appears twice");
    s = good(); json_array_append_new(json_object_get(json_object_get(s, "sla"), "failed_objectives"), json_integer(3)); refuse("objective a number", s, "sla.failed_objectives[0]: must be a string");
    s = good(); json_object_set_new(s, "host", json_stringn("a\0b", 3)); refuse("NUL in host", s, "host: must be UTF-8 text without NUL");
    s = good(); json_object_set_new(s, "host", json_string("a\nb")); refuse("newline in host", s, "host: control characters");
    s = good();
    for (int i = 0; i < LH_LOAD_SUMMARY_MAX_PATTERNS; i++) {
        json_t *p = json_deep_copy(pat0(s));
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        json_object_set_new(p, "pattern", json_string(name));
        json_array_append_new(json_object_get(s, "patterns"), p);
    }
    refuse("17 patterns", s, "patterns: must hold 1 to 16 items, not 17");
    /* 16 distinct patterns are fine */
    s = good();
    for (int i = 1; i < LH_LOAD_SUMMARY_MAX_PATTERNS; i++) {
        json_t *p = json_deep_copy(pat0(s));
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        json_object_set_new(p, "pattern", json_string(name));
        json_array_append_new(json_object_get(s, "patterns"), p);
    }
    if (lh_load_summary_check(s, err, sizeof(err))) fail_msg("16 patterns refused: %s", err);
    json_decref(s);
}

static void test_rows(void **st) {
    (void)st;
    json_t *s = good(), *rows = json_array();
    lh_load_summary_rows(rows, s, 42, 1765000000LL * 1000000000LL);
    assert_int_equal(json_array_size(rows), 1);
    const json_t *r = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(r, "run")), 42);
    assert_string_equal(json_string_value(json_object_get(r, "time")), "2025-12-06T05:46:40Z");
    assert_string_equal(json_string_value(json_object_get(r, "pattern")), "scale_test");
    assert_true(json_number_value(json_object_get(r, "p50_ms")) == 1.25);
    assert_true(json_number_value(json_object_get(r, "p99_ms")) == 7.5);
    assert_true(json_number_value(json_object_get(r, "rps")) == 99.5);
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "GO");
    assert_string_equal(json_string_value(json_object_get(r, "run_id")), "lr-0123456789abcdef");
    json_decref(rows);
    json_decref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_summary_passes),
        cmocka_unit_test(test_bad_summaries_refused),
        cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests_name("load_summary", tests, NULL, NULL);
}

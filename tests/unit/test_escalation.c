/* test_escalation.c — escalation routes in the policy (settings.escalation, a rule's and an
 * analyzer's `escalate:`, their lint errors, the route a decision carries) and the
 * escalations' pure logic: the quorum rule and deadlines rebuilt at the start. The
 * bridge's side end to end is tests/integration/escalation.sh. */
#include "testutil.h"

#include <stdio.h>

#include "bridge/escalations.h"
#include "engine/policy.h"

static lh_policy_diag g_diags[32];
static int g_ndiags;

static lh_policy *parse(const char *yaml) {
    g_ndiags = 0;
    return lh_policy_parse(yaml, strlen(yaml), "t.yaml", g_diags, 32, &g_ndiags);
}

static int hasDiag(const char *text, int line) {
    for (int i = 0; i < g_ndiags; i++)
        if (strstr(g_diags[i].message, text) && (line == 0 || g_diags[i].line == line)) return 1;
    return 0;
}

static const char *routes =
    "version: 1\n"
    "settings:\n"
    "  escalation: {capabilities: [security], quorum: 1, deadline: 30s, on_timeout: deny}\n"
    "rules:\n"
    "  - id: prod-migrate\n"
    "    action: escalate\n"
    "    reason: a production migration needs a database expert\n"
    "    match: {program: esc-migrate}\n"
    "    escalate: {capabilities: [database, sre], quorum: 2, deadline: 20s, on_timeout: allow, cache_ttl: 10m}\n"
    "  - id: plain-esc\n"
    "    action: escalate\n"
    "    reason: an escalation with the default route\n"
    "    match: {program: esc-plain}\n"
    "analyzers:\n"
    "  \"shell.*\":\n"
    "    escalate: {quorum: 3}\n";

static void test_rule_route(void **state) {
    (void)state;
    lh_policy *p = parse(routes);
    assert_non_null(p);
    const lh_escroute *r = lh_policy_escalation(p, "prod-migrate");
    assert_non_null(r);
    assert_int_equal(r->ncaps, 2);
    assert_string_equal(r->caps[0], "database");
    assert_string_equal(r->caps[1], "sre");
    assert_int_equal(r->quorum, 2);
    assert_int_equal(r->deadline_ms, 20000);
    assert_int_equal(r->on_timeout, LH_ESC_TIMEOUT_ALLOW);
    assert_int_equal(r->cache_ttl_ms, 600000);
    lh_policy_free(p);
}

static void test_default_and_analyzer_routes(void **state) {
    (void)state;
    lh_policy *p = parse(routes);
    assert_non_null(p);
    /* A rule without escalate: gets settings.escalation. */
    const lh_escroute *d = lh_policy_escalation(p, "plain-esc");
    assert_non_null(d);
    assert_int_equal(d->ncaps, 1);
    assert_string_equal(d->caps[0], "security");
    assert_int_equal(d->quorum, 1);
    assert_int_equal(d->deadline_ms, 30000);
    /* An analyzer's route: its own keys over the settings' (capabilities inherited). */
    const lh_escroute *a = lh_policy_escalation(p, "shell.dynamic-command");
    assert_non_null(a);
    assert_ptr_not_equal(a, d);
    assert_int_equal(a->quorum, 3);
    assert_int_equal(a->ncaps, 1);
    assert_string_equal(a->caps[0], "security");
    assert_int_equal(a->deadline_ms, 30000);
    lh_policy_free(p);
}

static void test_no_route(void **state) {
    (void)state;
    lh_policy *p = parse("version: 1\nrules:\n  - id: e\n    action: escalate\n    reason: x\n    match: {program: esc-x}\n");
    assert_non_null(p);
    assert_null(lh_policy_escalation(p, "e"));
    assert_null(lh_policy_escalation(p, "shell.dynamic-command"));
    assert_null(lh_policy_escalation(p, NULL));
    lh_policy_free(p);
}

/* The decision carries its route; an allow carries none; a cache hit carries it too. */
static void test_decision_carries_route(void **state) {
    (void)state;
    lh_policy *p = parse(routes);
    assert_non_null(p);
    char err[256];
    lh_engine *e = lh_engine_new(p, 64, err, sizeof(err));
    assert_non_null(e);
    lh_arena *a = lh_arena_new(1 << 16);
    lh_request r = {.tool = LH_TOOL_BASH, .tool_name = "Bash", .command = "esc-migrate --apply", .cwd = "/tmp/p"};
    r.command_len = strlen(r.command);
    for (int round = 0; round < 2; round++) {   /* the second is a cache hit */
        lh_decision d;
        lh_engine_decide(e, &r, a, &d, 0);
        assert_int_equal(d.action, LH_ESCALATE);
        assert_string_equal(d.rule, "prod-migrate");
        assert_int_equal(d.tier, round ? LH_TIER_CACHE : LH_TIER_POLICY);
        assert_non_null(d.escalation);
        assert_int_equal(d.escalation->quorum, 2);
    }
    lh_request ok = {.tool = LH_TOOL_BASH, .tool_name = "Bash", .command = "ls -la", .cwd = "/tmp/p"};
    ok.command_len = strlen(ok.command);
    lh_decision d;
    lh_engine_decide(e, &ok, a, &d, 0);
    assert_int_equal(d.action, LH_ALLOW);
    assert_null(d.escalation);
    lh_arena_free(a);
    lh_engine_free(e);
}

static void test_route_lint(void **state) {
    (void)state;
    const char *bad =
        "version: 1\n"
        "settings:\n"
        "  escalation: {quorum: 17}\n"
        "rules:\n"
        "  - id: r1\n"
        "    action: escalate\n"
        "    reason: x\n"
        "    match: {program: esc-a}\n"
        "    escalate: {deadline: 0s, on_timeout: later, capabilities: []}\n"
        "  - id: r2\n"
        "    action: deny\n"
        "    reason: x\n"
        "    match: {program: esc-b}\n"
        "    escalate: {quorum: 1}\n"
        "  - id: r3\n"
        "    action: escalate\n"
        "    reason: x\n"
        "    match: {program: esc-c}\n"
        "    escalate: {deadline: 61m, cache_ttl: soon}\n"
        "  - id: r4\n"
        "    action: escalate\n"
        "    reason: x\n"
        "    match: {program: esc-d}\n"
        "    escalate: {colour: red}\n";
    assert_null(parse(bad));
    assert_true(hasDiag("quorum must be a whole number from 1 to 16", 3));
    assert_true(hasDiag("deadline must be more than 0 and at most 1h", 9));
    assert_true(hasDiag("on_timeout must be deny, allow or ask", 9));
    assert_true(hasDiag("capabilities must not be an empty list", 9));
    assert_true(hasDiag("escalate: is only for escalate rules", 14));
    assert_true(hasDiag("deadline must be more than 0 and at most 1h", 19));
    assert_true(hasDiag("cache_ttl must be a duration", 19));
    assert_true(hasDiag("unknown key 'colour' in escalate", 24));
    /* The bounds themselves load. */
    lh_policy *p = parse("version: 1\nrules: []\nsettings:\n  escalation: {quorum: 16, deadline: 1h, on_timeout: ask, "
                         "capabilities: [a.b-c_d]}\n");
    assert_non_null(p);
    const lh_escroute *r = lh_policy_escalation(p, "anything");
    assert_non_null(r);
    assert_int_equal(r->quorum, 16);
    assert_int_equal(r->deadline_ms, 3600000);
    assert_int_equal(r->on_timeout, LH_ESC_TIMEOUT_ASK);
    lh_policy_free(p);
    assert_null(parse("version: 1\nrules: []\nsettings:\n  escalation: {capabilities: [\"has space\"]}\n"));
    assert_true(hasDiag("capability 'has space'", 4));
}

static void test_quorum(void **state) {
    (void)state;
    assert_int_equal(lh_esc_tally_votes(0, 0, 1), LH_ESC_OPEN);
    assert_int_equal(lh_esc_tally_votes(1, 0, 1), LH_ESC_ALLOWED);
    assert_int_equal(lh_esc_tally_votes(1, 0, 2), LH_ESC_OPEN);
    assert_int_equal(lh_esc_tally_votes(2, 0, 2), LH_ESC_ALLOWED);
    assert_int_equal(lh_esc_tally_votes(1, 1, 2), LH_ESC_DENIED);   /* any deny wins */
    assert_int_equal(lh_esc_tally_votes(5, 1, 2), LH_ESC_DENIED);
    assert_int_equal(lh_esc_tally_votes(0, 1, 16), LH_ESC_DENIED);
    assert_int_equal(lh_esc_tally_votes(15, 0, 16), LH_ESC_OPEN);
}

static void test_deadline_rebuilt(void **state) {
    (void)state;
    const uint64_t mono = 5000000000ull;
    const int64_t wall = 1700000000000000000ll;
    /* 2 s left on the wall clock: 2 s from now on the monotonic clock. */
    assert_int_equal(lh_esc_deadline_mono(mono, wall, wall + 2000000000ll), mono + 2000000000ull);
    /* Already past (the bridge was down longer): now, so it expires at once. */
    assert_int_equal(lh_esc_deadline_mono(mono, wall, wall - 1), mono);
    assert_int_equal(lh_esc_deadline_mono(mono, wall, wall), mono);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_route),
        cmocka_unit_test(test_default_and_analyzer_routes),
        cmocka_unit_test(test_no_route),
        cmocka_unit_test(test_decision_carries_route),
        cmocka_unit_test(test_route_lint),
        cmocka_unit_test(test_quorum),
        cmocka_unit_test(test_deadline_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

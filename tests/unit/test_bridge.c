/* test_bridge.c — the bridge's pure parts: tokens (src/bridge/auth.c), the revoked set,
 * the per-agent rate limit (ratelimit.c), settings and their precedence (config.c), the
 * JSON depth scan, the metrics text (metrics.c) and the decision.made event's data
 * (routes.c), and two start-up paths of the daemon itself (the revocation watcher,
 * revwatch.c). The HTTP routes are tested against the real daemon in
 * tests/integration/bridge_*.sh. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bridge/auth.h"
#include "bridge/bridge.h"
#include "bridge/bridge_int.h"
#include "bridge/engines.h"
#include "bridge/metrics.h"
#include "bridge/ratelimit.h"
#include "bridge/revwatch.h"
#include "bridge/sessions.h"
#include "store/store_int.h"

int lh_json_depth(const char *s, size_t len, int limit);   /* routes.c */

static const unsigned char KEY[LH_AUTH_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char KEY2[LH_AUTH_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static void mint(const unsigned char *key, const char *agent, lh_role role, int64_t exp, char *tok, size_t cap) {
    lh_token_claims c = {0};
    snprintf(c.agent, sizeof(c.agent), "%s", agent);
    c.role = role;
    c.iat = 1000;
    c.exp = exp;
    char err[128];
    assert_int_equal(lh_auth_mint(key, &c, tok, cap, err, sizeof(err)), 0);
}

static void hmac_known_answer(void **state) {
    (void)state;
    /* python3: hmac.new(KEY, b"lh1.test", hashlib.sha256).hexdigest() */
    static const char want[] = "e7d5d4b932f66d6215f8976d1d58054cb5318f30c4bb84e3a1fd0ad111a8b5a2";
    unsigned char out[32];
    char hex[65];
    lh_auth_hmac(KEY, "lh1.test", 8, out);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
    assert_string_equal(hex, want);
}

static void token_round_trip(void **state) {
    (void)state;
    char tok[LH_AUTH_TOKEN_MAX + 1];
    mint(KEY, "builder-1", LH_ROLE_BUILDER, 5000, tok, sizeof(tok));
    lh_token_claims c;
    assert_int_equal(lh_auth_verify(KEY, tok, strlen(tok), 2000, &c), LH_AUTH_OK);
    assert_string_equal(c.agent, "builder-1");
    assert_int_equal(c.role, LH_ROLE_BUILDER);
    assert_int_equal(c.exp, 5000);
    assert_int_equal(strlen(c.tid), LH_AUTH_TID_LEN);
}

static void token_refusals(void **state) {
    (void)state;
    char tok[LH_AUTH_TOKEN_MAX + 1];
    lh_token_claims c;
    mint(KEY, "a", LH_ROLE_ADMIN, 5000, tok, sizeof(tok));
    assert_int_equal(lh_auth_verify(KEY, tok, strlen(tok), 5000, &c), LH_AUTH_EXPIRED);
    assert_int_equal(lh_auth_verify(KEY, tok, strlen(tok), 9999, &c), LH_AUTH_EXPIRED);
    assert_int_equal(lh_auth_verify(KEY2, tok, strlen(tok), 2000, &c), LH_AUTH_FORGED);
    assert_int_equal(lh_auth_verify(KEY, "", 0, 2000, &c), LH_AUTH_MISSING);
    assert_int_equal(lh_auth_verify(KEY, "garbage", 7, 2000, &c), LH_AUTH_MALFORMED);
    assert_int_equal(lh_auth_verify(KEY, "lh1.e30", 7, 2000, &c), LH_AUTH_MALFORMED);
    assert_int_equal(lh_auth_verify(KEY, "lh1.e30.!!!!", 12, 2000, &c), LH_AUTH_MALFORMED);
    /* a token of another form (prefix other than "lh1.") is malformed, not a forgery of
     * ours, even with a well-formed payload and MAC after it (mutant auth.malformed) */
    {
        char other[LH_AUTH_TOKEN_MAX + 1];
        mint(KEY, "b", LH_ROLE_BUILDER, 5000, other, sizeof(other));
        other[2] = '2';
        assert_int_equal(lh_auth_verify(KEY, other, strlen(other), 2000, &c), LH_AUTH_MALFORMED);
        memcpy(other, "LH1.", 4);
        assert_int_equal(lh_auth_verify(KEY, other, strlen(other), 2000, &c), LH_AUTH_MALFORMED);
    }
    /* every single-character change is refused, for many tokens (so every kind of
     * last character is tried: its unused low bits must not be ignored) */
    size_t n = strlen(tok);
    for (int t = 0; t < 64; t++) {
        char tk[LH_AUTH_TOKEN_MAX + 1];
        mint(KEY, "a", LH_ROLE_ADMIN, 5000, tk, sizeof(tk));
        size_t tn = strlen(tk);
        for (int ch = 0; ch < 64; ch++) {
            char t2[LH_AUTH_TOKEN_MAX + 1];
            memcpy(t2, tk, tn + 1);
            t2[tn - 1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[ch];
            if (t2[tn - 1] == tk[tn - 1]) continue;
            if (lh_auth_verify(KEY, t2, tn, 2000, &c) == LH_AUTH_OK)
                fail_msg("token %s with last char %c still verifies", tk, t2[tn - 1]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        char t2[LH_AUTH_TOKEN_MAX + 1];
        memcpy(t2, tok, n + 1);
        t2[i] = t2[i] == 'A' ? 'B' : 'A';
        lh_auth_result r = lh_auth_verify(KEY, t2, n, 2000, &c);
        if (r == LH_AUTH_OK) fail_msg("changing byte %zu of the token still verifies", i);
    }
    /* a truncated token */
    assert_int_not_equal(lh_auth_verify(KEY, tok, n - 1, 2000, &c), LH_AUTH_OK);
}

static void token_key_file(void **state) {
    (void)state;
    char dir[] = "/tmp/lh-test-bridge-XXXXXX";
    assert_non_null(mkdtemp(dir));
    unsigned char k1[LH_AUTH_KEY_LEN], k2[LH_AUTH_KEY_LEN];
    char err[256], path[300];
    assert_int_equal(lh_auth_load_key(dir, 0, k1, err, sizeof(err)), -1);   /* no key, no create */
    assert_int_equal(lh_auth_load_key(dir, 1, k1, err, sizeof(err)), 0);
    assert_int_equal(lh_auth_load_key(dir, 0, k2, err, sizeof(err)), 0);
    assert_memory_equal(k1, k2, LH_AUTH_KEY_LEN);
    snprintf(path, sizeof(path), "%s/token.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    chmod(path, 0644);
    assert_int_equal(lh_auth_load_key(dir, 0, k2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    unlink(path);
    rmdir(dir);
    /* two fresh dirs get different keys */
    char d1[] = "/tmp/lh-test-bridge-XXXXXX", d2[] = "/tmp/lh-test-bridge-XXXXXX";
    assert_non_null(mkdtemp(d1));
    assert_non_null(mkdtemp(d2));
    assert_int_equal(lh_auth_load_key(d1, 1, k1, err, sizeof(err)), 0);
    assert_int_equal(lh_auth_load_key(d2, 1, k2, err, sizeof(err)), 0);
    assert_memory_not_equal(k1, k2, LH_AUTH_KEY_LEN);
    snprintf(path, sizeof(path), "%s/token.key", d1); unlink(path); rmdir(d1);
    snprintf(path, sizeof(path), "%s/token.key", d2); unlink(path); rmdir(d2);
}

static void revoked_set(void **state) {
    (void)state;
    lh_revoked *r = lh_revoked_new();
    assert_non_null(r);
    assert_false(lh_revoked_has(r, "0123456789abcdef"));
    assert_int_equal(lh_revoked_add(r, "0123456789abcdef"), 0);
    assert_int_equal(lh_revoked_add(r, "ffffffffffffffff"), 0);
    assert_int_equal(lh_revoked_add(r, "0123456789abcdef"), 0);   /* twice: once */
    assert_int_equal(lh_revoked_add(r, "short"), -1);
    assert_true(lh_revoked_has(r, "0123456789abcdef"));
    assert_true(lh_revoked_has(r, "ffffffffffffffff"));
    assert_false(lh_revoked_has(r, "aaaaaaaaaaaaaaaa"));
    assert_int_equal(lh_revoked_count(r), 2);
    lh_revoked_free(r);
}

static void rate_limit(void **state) {
    (void)state;
    lh_ratelimit *rl = lh_ratelimit_new(10, 3);
    uint64_t t = 1000000000ull;
    int retry = 0;
    for (int i = 0; i < 3; i++) assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 0);
    assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 1);
    assert_true(retry >= 1);
    assert_int_equal(lh_ratelimit_take(rl, "b", t, &retry), 0);   /* another agent */
    t += 100000000ull;   /* 0.1 s: one token at 10/s */
    assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 0);
    assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 1);
    /* many agents: each gets its own burst, the table stays bounded */
    char name[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(name, sizeof(name), "agent-%d", i);
        lh_ratelimit_take(rl, name, t, &retry);
    }
    assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 1);   /* a is still empty or merged, never refilled */
    lh_ratelimit_free(rl);
    rl = lh_ratelimit_new(0, 1);   /* off */
    for (int i = 0; i < 100; i++) assert_int_equal(lh_ratelimit_take(rl, "a", t, &retry), 0);
    lh_ratelimit_free(rl);
}

static void config_precedence(void **state) {
    (void)state;
    lh_bridge_config c;
    char err[512];
    lh_bridge_config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:8765");
    assert_string_equal(c.data, "./lighthouse-data");
    assert_string_equal(c.store, "sqlite");
    assert_int_equal(c.body_limit, 1u << 20);
    char path[] = "/tmp/lh-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "listen: 127.0.0.1:9000\nrate_limit: 5\nbody_limit: 64K\ndata: /tmp/x\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    assert_int_equal(lh_bridge_config_file(&c, path, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "127.0.0.1:9000");
    assert_true(c.rate_limit == 5);
    assert_int_equal(c.body_limit, 64u << 10);
    setenv("LIGHTHOUSE_LISTEN", "127.0.0.1:9100", 1);
    setenv("LIGHTHOUSE_RATE_LIMIT", "7", 1);
    assert_int_equal(lh_bridge_config_env(&c, err, sizeof(err)), 0);
    assert_string_equal(c.listen, "127.0.0.1:9100");   /* env beats file */
    assert_string_equal(c.data, "/tmp/x");             /* file beats default */
    assert_int_equal(lh_bridge_config_set(&c, "listen", "unix:/tmp/s.sock", err, sizeof(err)), 0);
    assert_string_equal(c.listen, "unix:/tmp/s.sock");  /* flag beats env */
    assert_int_equal(lh_bridge_config_set(&c, "nope", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown setting"));
    assert_int_equal(lh_bridge_config_set(&c, "workers", "-1", err, sizeof(err)), -1);
    assert_int_equal(lh_bridge_config_set(&c, "body_limit", "10", err, sizeof(err)), -1);
    assert_int_equal(lh_bridge_config_set(&c, "store", "mysql", err, sizeof(err)), -1);
    setenv("LIGHTHOUSE_TIMEOUT", "soon", 1);
    assert_int_equal(lh_bridge_config_env(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "LIGHTHOUSE_TIMEOUT"));
    unsetenv("LIGHTHOUSE_TIMEOUT");
    /* Alert destinations carry secrets (a Slack URL, a PagerDuty routing key), so they
     * come from the environment too. */
    setenv("LIGHTHOUSE_ALERT_PAGERDUTY_ROUTING_KEY", "R0UT1NG", 1);
    setenv("LIGHTHOUSE_ALERT_SLACK_URL", "https://hooks.slack.example/T/B/x", 1);
    assert_int_equal(lh_bridge_config_env(&c, err, sizeof(err)), 0);
    assert_string_equal(c.alerts.pagerduty_routing_key, "R0UT1NG");
    assert_string_equal(c.alerts.slack_url, "https://hooks.slack.example/T/B/x");
    setenv("LIGHTHOUSE_ALERT_RETRIES", "99", 1);
    assert_int_equal(lh_bridge_config_env(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "LIGHTHOUSE_ALERT_RETRIES"));
    unsetenv("LIGHTHOUSE_ALERT_RETRIES");
    unsetenv("LIGHTHOUSE_ALERT_SLACK_URL");
    unsetenv("LIGHTHOUSE_ALERT_PAGERDUTY_ROUTING_KEY");
    unsetenv("LIGHTHOUSE_LISTEN");
    unsetenv("LIGHTHOUSE_RATE_LIMIT");
    const char *bad = "listen: [a, b]\n";
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(lh_bridge_config_file(&c, path, err, sizeof(err)), -1);
    unlink(path);
    assert_int_equal(lh_bridge_config_file(&c, "/nonexistent/lh.yaml", err, sizeof(err)), -1);
}

static void json_depth(void **state) {
    (void)state;
    assert_int_equal(lh_json_depth("{}", 2, 32), 1);
    assert_int_equal(lh_json_depth("{\"a\":[[1]]}", 11, 32), 3);
    assert_int_equal(lh_json_depth("{\"a\":\"[[[[\"}", 12, 32), 1);        /* brackets in strings */
    assert_int_equal(lh_json_depth("{\"a\":\"\\\"[[[[\"}", 14, 32), 1);   /* escaped quote */
    char deep[200];
    memset(deep, '[', sizeof(deep));
    assert_true(lh_json_depth(deep, sizeof(deep), 32) > 32);
}

/* Every status the bridge answers, in its class (docs/sla.md, "Outcomes"). */
static void outcome_classes(void **state) {
    (void)state;
    static const struct { int status, gone; lh_outcome o; } t[] = {
        {200, 0, LH_OUTCOME_OK}, {204, 0, LH_OUTCOME_OK}, {304, 0, LH_OUTCOME_OK},
        {400, 0, LH_OUTCOME_CLIENT_ERROR}, {401, 0, LH_OUTCOME_CLIENT_ERROR}, {403, 0, LH_OUTCOME_CLIENT_ERROR},
        {404, 0, LH_OUTCOME_CLIENT_ERROR}, {405, 0, LH_OUTCOME_CLIENT_ERROR}, {409, 0, LH_OUTCOME_CLIENT_ERROR},
        {413, 0, LH_OUTCOME_CLIENT_ERROR}, {415, 0, LH_OUTCOME_CLIENT_ERROR}, {429, 0, LH_OUTCOME_THROTTLED},
        {500, 0, LH_OUTCOME_SERVER_FAULT}, {503, 0, LH_OUTCOME_SERVER_FAULT}, {0, 0, LH_OUTCOME_SERVER_FAULT},
        {0, 1, LH_OUTCOME_CLIENT_GONE}, {200, 1, LH_OUTCOME_OK}, {503, 1, LH_OUTCOME_SERVER_FAULT},
        {999, 0, LH_OUTCOME_SERVER_FAULT},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (lh_outcome_of(t[i].status, t[i].gone) != t[i].o) fail_msg("status %d gone %d", t[i].status, t[i].gone);
    }
    assert_string_equal(lh_outcome_name(LH_OUTCOME_CLIENT_GONE), "client_gone");
    assert_true(lh_outcome_counts_for_sla(LH_OUTCOME_OK) && lh_outcome_counts_for_sla(LH_OUTCOME_SERVER_FAULT));
    assert_false(lh_outcome_counts_for_sla(LH_OUTCOME_CLIENT_ERROR) || lh_outcome_counts_for_sla(LH_OUTCOME_THROTTLED) ||
                 lh_outcome_counts_for_sla(LH_OUTCOME_CLIENT_GONE));
}

/* Per-agent counters for the SLA (docs/sla.md, "Per agent"): only the decision routes'
 * counted outcomes; a slot per named agent, first come; no agent, a name too long, or
 * the 33rd agent: pooled (no slot). */
static void metrics_per_agent(void **state) {
    (void)state;
    lh_metrics *m = calloc(1, sizeof(*m));
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "alice", 200, 0, 300000);
    lh_metrics_agent_request(m, LH_ROUTE_HOOK, "mallory", 200, 0, 400000000ull);
    lh_metrics_agent_request(m, LH_ROUTE_OPA, "mallory", 500, 0, 1000);
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "mallory", 503, 0, 1000);
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "mallory", 400, 0, 1000);   /* client error: not counted */
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "mallory", 429, 0, 1000);   /* throttled */
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "mallory", 0, 1, 1000);     /* gone */
    lh_metrics_agent_request(m, LH_ROUTE_STATUS, "mallory", 200, 0, 1000);     /* not a decision route */
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "", 200, 0, 1000);          /* no agent: other */
    assert_int_equal(atomic_load(&m->agent_n), 2);
    assert_string_equal(m->agent_name[0], "alice");
    assert_string_equal(m->agent_name[1], "mallory");
    assert_int_equal(atomic_load(&m->agent[0].requests), 1);
    assert_int_equal(atomic_load(&m->agent[0].ok), 1);
    assert_int_equal(atomic_load(&m->agent[1].requests), 3);
    assert_int_equal(atomic_load(&m->agent[1].ok), 1);
    assert_int_equal(atomic_load(&m->agent[1].unavailable), 2);
    assert_int_equal(atomic_load(&m->agent[1].store_faults), 1);
    assert_int_equal(atomic_load(&m->agent[1].ok_dur[13]), 1);   /* 400 ms: the 250–500 ms bucket */
    assert_int_equal(atomic_load(&m->agent[1].dur_sum_ns), 400000000ull + 2000);
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "agent-%d", i);
        lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, name, 200, 0, 1000);
    }
    assert_int_equal(atomic_load(&m->agent_n), LH_METRICS_AGENTS);
    assert_string_equal(m->agent_name[LH_METRICS_AGENTS - 1], "agent-29");
    lh_metrics_agent_request(m, LH_ROUTE_VALIDATE, "mallory", 200, 0, 1000);   /* a known agent still counts */
    assert_int_equal(atomic_load(&m->agent[1].requests), 4);
    free(m);
}

static void metrics_text(void **state) {
    (void)state;
    lh_metrics *m = calloc(1, sizeof(*m));
    lh_metrics_request(m, LH_ROUTE_VALIDATE, 200, 0, 300000);
    lh_metrics_request(m, LH_ROUTE_VALIDATE, 200, 0, 3000000000ull);
    lh_metrics_request(m, LH_ROUTE_VALIDATE, 418, 0, 1000);
    /* every status the bridge sends has its own label: 201 (an expert registered), 409 (an
     * escalation already resolved), 431 (a header block too large) */
    lh_metrics_request(m, LH_ROUTE_EXPERTS, 201, 0, 1000);
    lh_metrics_request(m, LH_ROUTE_EXPERTS, 409, 0, 1000);
    lh_metrics_request(m, LH_ROUTE_OTHER, 431, 0, 1000);
    /* Outcomes: a reset before the reply is client_gone (no status, no duration); no reply
     * through the bridge's fault is a 500; 429 is throttled, 503 a server fault. */
    lh_metrics_request(m, LH_ROUTE_HOOK, 0, 1, 1000);
    lh_metrics_request(m, LH_ROUTE_HOOK, 0, 0, 1000);
    lh_metrics_request(m, LH_ROUTE_HOOK, 429, 0, 1000);
    lh_metrics_request(m, LH_ROUTE_HOOK, 503, 0, 1000);
    lh_metrics_request(m, LH_ROUTE_HOOK, 400, 0, 1000);
    lh_metrics_error(m, LH_ERR_TOO_LARGE);
    lh_metrics_extra x = {0};
    x.policy_revision = "rev\"1";
    x.postgres = -1;
    size_t len;
    char *t = lh_metrics_render(m, &x, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"200\"} 2\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"other\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"/v1/experts\",code=\"201\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"/v1/experts\",code=\"409\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"other\",code=\"431\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_request_duration_seconds_bucket{route=\"/v1/validate\",le=\"0.0005\"} 2\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_request_duration_seconds_bucket{route=\"/v1/validate\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_request_duration_seconds_count{route=\"/v1/validate\"} 3\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_errors_total{kind=\"payload_too_large\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"ok\"} 2\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"client_error\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"server_fault\"} 0\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"client_gone\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"server_fault\"} 2\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"throttled\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"client_error\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_requests_total{route=\"/v1/hooks/claude-code\",code=\"500\"} 1\n"));
    assert_non_null(strstr(t, "lighthouse_bridge_request_duration_seconds_count{route=\"/v1/hooks/claude-code\"} 4\n"));
    assert_null(strstr(t, "lighthouse_bridge_outcomes_total{route=\"/health\""));   /* no requests: not shown */
    assert_non_null(strstr(t, "lighthouse_bridge_policy_revision_info{revision=\"rev\\\"1\"} 1\n"));
    assert_null(strstr(t, "postgres_connection_status"));
    assert_non_null(strstr(t, "\nprocess_resident_memory_bytes "));
    free(t);
    free(m);
}

/* The decision.made event's data is the store's canonical form as the bridge writes it
 * (keys sorted at every level, jansson's escapes), so the store's scan keeps it as it is:
 * here with a command full of escapes, every optional member, and a command cut short. */
static void checkEventData(lh_request *r, const lh_decision *d) {
    lh_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.route = LH_ROUTE_HOOK;
    rq.claims.role = LH_ROLE_EXPERT;
    char scratch[4096];
    assert_int_equal(lh_bridge_event_data(&rq, r, d, "0193a1b2c3d4e5f60718293a4b5c6d7e", scratch, sizeof(scratch)), 0);
    size_t n = strlen(rq.evdata);
    if (!lh_store_is_canonical(rq.evdata, n, 64)) fail_msg("not kept by the store's scan: %s", rq.evdata);
    json_error_t je;
    json_t *j = json_loads(rq.evdata, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, rq.evdata);
    char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(rq.evdata, want);
    /* and it is what the store keeps */
    char *stored = NULL, err[256];
    assert_int_equal(lh_store_canonical_json(rq.evdata, n, 64, &stored, err, sizeof(err)), 0);
    assert_string_equal(stored, want);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "decision"), "rule")), d->rule);
    assert_string_equal(json_string_value(json_object_get(j, "role")), "expert");
    assert_string_equal(json_string_value(json_object_get(j, "tool")), r->tool_name);
    free(stored);
    free(want);
    json_decref(j);
    free(rq.evdata);
}

static void event_data_canonical(void **state) {
    (void)state;
    lh_decision d = {.action = LH_DENY, .risk = LH_RISK_HIGH, .tier = LH_TIER_ANALYSIS, .rule = "shell.\"odd\"\\rule",
                     .reason = "deletes \"everything\"\n\tunder C:\\temp\x01\x1f\b\f\r",
                     .instead = "list it first", .policy_revision = "sha256:9dcf4ab7101b769c", .latency_us = 23};
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool_name = "Bash";
    r.command = "printf \"a\\tb\\n\" > \"x y\"\n\techo 'done'\x01\x7f \xc3\xa9 \xe2\x80\xa8";
    r.cwd = "/home/dev/app";
    r.session = "sess\"1";
    r.file_path = "/tmp/a\\b";
    r.path = "/tmp";
    r.url = "https://example.com/?q=\"x\"";
    checkEventData(&r, &d);
    /* the fewest members: no command, session, paths or url; no instead */
    lh_request bare;
    memset(&bare, 0, sizeof(bare));
    bare.tool_name = "Read";
    d.instead = NULL;
    checkEventData(&bare, &d);
    /* a command longer than the event keeps, cut at a character boundary and marked "…" */
    size_t big = 40000;
    char *cmd = malloc(big + 1);
    assert_non_null(cmd);
    for (size_t i = 0; i < big; i += 4) memcpy(cmd + i, i % 8 ? "\xc3\xa9\"\n" : "ab\\\t", 4);
    cmd[big] = 0;
    r.command = cmd;
    checkEventData(&r, &d);
    free(cmd);
}

/* ---- the engine registry (engines.c) and active sessions (sessions.c) ------------ */

/* A hold follows installs; the old engine lives while a hold has it, and its cache
 * counters reach the metrics when the last reference goes. */
static void engine_registry(void **state) {
    (void)state;
    lh_metrics *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    lh_engines *g = lh_engines_new(64, m);
    assert_non_null(g);
    char err[512], rev[160];
    lh_engines_revision(g, rev, sizeof(rev));
    assert_string_equal(rev, "");
    lh_engref *a = lh_engines_build(g, NULL, 0, NULL, err, sizeof(err));
    assert_non_null(a);
    lh_engines_install(g, a);
    lh_engines_hold h = {0};
    assert_ptr_equal(lh_engines_get(g, &h), a);
    assert_ptr_equal(lh_engines_get(g, &h), a);        /* same generation: no change */
    static const char y[] = "version: 1\nrules: []\n";
    lh_engref *bad = lh_engines_build(g, "rules: [", 8, "broken", err, sizeof(err));
    assert_null(bad);
    assert_non_null(strstr(err, "policy broken does not load"));
    lh_engref *b2 = lh_engines_build(g, y, sizeof(y) - 1, "second", err, sizeof(err));
    if (!b2) fail_msg("%s", err);
    lh_engines_install(g, b2);
    assert_int_equal(a->refs, 1);                      /* only the hold keeps it now */
    lh_engines_revision(g, rev, sizeof(rev));
    assert_string_equal(rev, b2->revision);
    assert_ptr_equal(lh_engines_get(g, &h), b2);       /* moved at its next get, a freed */
    lh_engines_release(g, &h);
    assert_null(h.eng);
    lh_engines_free(g);
    free(m);
}

static void active_sessions(void **state) {
    (void)state;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lh_sessions *s = lh_sessions_new((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    assert_non_null(s);
    assert_int_equal(lh_sessions_active(s), 0);
    lh_sessions_note(s, "a");
    lh_sessions_note(s, "a");
    lh_sessions_note(s, "b");
    lh_sessions_note(s, "");
    lh_sessions_note(s, NULL);
    assert_int_equal(lh_sessions_active(s), 2);
    lh_sessions_free(s);
}

/* ---- the daemon's start: the revocation watcher (revwatch.c) ---------------------- */

static int rmEntry(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb; (void)flag; (void)f;
    return remove(p);
}

/* Remove a data dir and the store's checkpoint file beside it (<data>.checkpoints). */
static void removeDataDir(const char *dir) {
    char cp[256];
    nftw(dir, rmEntry, 8, FTW_DEPTH | FTW_PHYS);
    snprintf(cp, sizeof(cp), "%s.checkpoints", dir);
    remove(cp);
}

/* A bridge on a fresh data dir, listening on a free port. NULL with err. */
static lh_bridge *startBridge(char *dir, char *err, size_t errlen) {
    lh_bridge_config c;
    lh_bridge_config_defaults(&c);
    snprintf(c.listen, sizeof(c.listen), "127.0.0.1:0");
    snprintf(c.data, sizeof(c.data), "%s", dir);
    c.workers = 2;
    return lh_bridge_start(&c, err, errlen);
}

/* pthread_create failed for the watcher: the start fails and says why (before, the bridge
 * ran with no revocation updates and said nothing). */
static void watcher_thread_failure_fails_start(void **state) {
    (void)state;
    char dir[] = "/tmp/lh-test-bridge-XXXXXX", err[512] = "";
    assert_non_null(mkdtemp(dir));
    lh_revwatch_test_create_error = EAGAIN;
    lh_bridge *b = startBridge(dir, err, sizeof(err));
    lh_revwatch_test_create_error = 0;
    if (b) lh_bridge_free(b);
    assert_null(b);
    assert_non_null(strstr(err, "revocation watcher"));
    /* and without the failure the same start succeeds */
    b = startBridge(dir, err, sizeof(err));
    assert_non_null(b);
    lh_bridge_free(b);
    removeDataDir(dir);
}

static const char GAP_TID[] = "0123456789abcdef";

/* Another process revokes a token between the start's read of the revocations and the
 * watcher's start. */
static void revokeInTheGap(lh_store *store) {
    lh_event ev = {.type = "token.revoked", .agent = "admin", .aggregate = "token:0123456789abcdef",
                   .data = "{\"token_id\":\"0123456789abcdef\"}"};
    char err[256];
    assert_int_equal(lh_store_append(store, &ev, 1, NULL, err, sizeof(err)), 0);
}

/* The watcher follows the store from the head the start read, so the revocation written
 * in the gap is applied (before, it read the head again and skipped it for good). */
static void revocation_in_the_gap_is_applied(void **state) {
    (void)state;
    char dir[] = "/tmp/lh-test-bridge-XXXXXX", err[512] = "";
    assert_non_null(mkdtemp(dir));
    lh_revwatch_test_gap = revokeInTheGap;
    lh_bridge *b = startBridge(dir, err, sizeof(err));
    lh_revwatch_test_gap = NULL;
    assert_non_null(b);
    /* The watcher polls the store every 20 ms; give it up to 10 s of rounds. */
    int has = 0;
    for (int i = 0; i < 500 && !(has = lh_revoked_has(b->revoked, GAP_TID)); i++) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    lh_bridge_free(b);
    removeDataDir(dir);
    assert_true(has);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmac_known_answer),
        cmocka_unit_test(metrics_per_agent),
        cmocka_unit_test(token_round_trip), cmocka_unit_test(token_refusals),
        cmocka_unit_test(token_key_file),   cmocka_unit_test(revoked_set),
        cmocka_unit_test(rate_limit),       cmocka_unit_test(config_precedence),
        cmocka_unit_test(json_depth),       cmocka_unit_test(outcome_classes),
        cmocka_unit_test(metrics_text),
        cmocka_unit_test(event_data_canonical),
        cmocka_unit_test(engine_registry),  cmocka_unit_test(active_sessions),
        cmocka_unit_test(watcher_thread_failure_fails_start),
        cmocka_unit_test(revocation_in_the_gap_is_applied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_elicitations.c — the elicitation module's core (src/bridge/elicitations.c) without
 * HTTP and without a clock: the time is an argument and events go to a recorder that can
 * be told to fail. Authorisation, schema validation keeping the elicitation pending,
 * expiry by sweep and on an answer, a failed append changing nothing, rate and pending
 * limits, the rebuild from recorded events, and the metrics text. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>

#include "bridge/elicitations.h"

#define S 1000000000ll
#define T0 (1800000000ll * S)

typedef struct recorded {
    char type[48], agent[64], aggregate[64];
    char *data;
} recorded;

static recorded rec[256];
static int nrec;
static int failAppends;

static int recordAppend(void *ctx, const char *type, const char *agent, const char *aggregate, const char *data,
                        char *err, size_t errlen) {
    (void)ctx;
    if (failAppends) { snprintf(err, errlen, "disk on fire"); return -1; }
    assert_true(nrec < 256);
    snprintf(rec[nrec].type, sizeof(rec[nrec].type), "%s", type);
    snprintf(rec[nrec].agent, sizeof(rec[nrec].agent), "%s", agent);
    snprintf(rec[nrec].aggregate, sizeof(rec[nrec].aggregate), "%s", aggregate);
    rec[nrec].data = strdup(data);
    nrec++;
    return 0;
}

static void resetRecorder(void) {
    for (int i = 0; i < nrec; i++) free(rec[i].data);
    nrec = 0;
    failAppends = 0;
}

static lh_elicits *newModule(double rate, double burst, int perTo, int total) {
    lh_elicit_limits lim = {.rate = rate, .burst = burst, .max_pending_to = perTo, .max_pending = total,
                            .max_message = 1000, .max_schema = 4000, .max_waiters = 10};
    resetRecorder();
    lh_elicits *e = lh_elicits_new(&lim, recordAppend, NULL);
    assert_non_null(e);
    return e;
}

static const lh_elicit_caller B1 = {"builder-1", 0}, B2 = {"builder-2", 0}, B3 = {"builder-3", 0}, AD = {"admin-1", 1};
static const char *ASK =
    "{\"to\":\"builder-2\",\"message\":\"port?\",\"expires_in_s\":10,"
    "\"schema\":{\"type\":\"object\",\"properties\":{\"port\":{\"type\":\"integer\"}},\"required\":[\"port\"]}}";

/* Create ASK (or body) as who at now; returns the id (static buffer) or "" with res kept. */
static const char *create(lh_elicits *e, const lh_elicit_caller *who, const char *body, int64_t now,
                          lh_elicit_result *res) {
    static char id[32];
    lh_elicits_create(e, who, body ? body : ASK, strlen(body ? body : ASK), now, res);
    id[0] = 0;
    if (res->body) snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(res->body, "id")));
    return id;
}

static int respond(lh_elicits *e, const lh_elicit_caller *who, const char *id, const char *body, int64_t now,
                   lh_elicit_result *res) {
    lh_elicits_respond(e, who, id, body, strlen(body), now, res);
    return res->status;
}

static const char *stateOf(lh_elicits *e, const char *id) {
    static char st[32];
    lh_elicit_result res;
    lh_elicits_get(e, &AD, id, &res);
    snprintf(st, sizeof(st), "%s", res.body ? json_string_value(json_object_get(res.body, "state")) : res.code);
    json_decref(res.body);
    return st;
}

static void authorisation_and_accept(void **state) {
    (void)state;
    lh_elicits *e = newModule(0, 1, 10, 100);
    lh_elicit_result res;
    char id[32];
    snprintf(id, sizeof(id), "%s", create(e, &B1, NULL, T0, &res));
    assert_int_equal(res.status, 201);
    json_decref(res.body);
    assert_int_equal(nrec, 1);
    assert_string_equal(rec[0].type, "elicitation.created");
    assert_string_equal(rec[0].agent, "builder-1");
    assert_string_equal(rec[0].aggregate, id);

    lh_elicits_get(e, &B3, id, &res);
    assert_int_equal(res.status, 403);
    lh_elicits_get(e, &B2, id, &res);
    assert_int_equal(res.status, 200);
    json_decref(res.body);
    assert_int_equal(respond(e, &B3, id, "{\"action\":\"accept\",\"content\":{\"port\":1}}", T0, &res), 403);
    assert_int_equal(respond(e, &B1, id, "{\"action\":\"accept\",\"content\":{\"port\":1}}", T0, &res), 403);
    assert_int_equal(respond(e, &AD, id, "{\"action\":\"decline\"}", T0, &res), 403);
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"cancel\"}", T0, &res), 403);
    assert_int_equal(respond(e, &B3, id, "{\"action\":\"cancel\"}", T0, &res), 403);
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"decline\",\"content\":{}}", T0, &res), 400);
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"accept\",\"content\":{\"port\":1.5}}", T0, &res), 400);
    assert_string_equal(res.code, "schema_mismatch");
    assert_non_null(strstr(res.msg, "port"));
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"accept\"}", T0, &res), 400);
    assert_string_equal(stateOf(e, id), "pending");
    assert_int_equal(nrec, 1);   /* nothing refused was recorded */

    lh_elicit_query q = {.from_me = 0, .all = 0, .limit = 100};
    lh_elicits_list(e, &B2, &q, &res);
    assert_int_equal(json_array_size(json_object_get(res.body, "elicitations")), 1);
    json_decref(res.body);

    assert_int_equal(respond(e, &B2, id, "{\"action\":\"accept\",\"content\":{\"port\":5432}}", T0 + 3 * S, &res), 200);
    assert_string_equal(json_string_value(json_object_get(res.body, "state")), "accepted");
    json_decref(res.body);
    assert_int_equal(nrec, 2);
    assert_string_equal(rec[1].type, "elicitation.accepted");
    assert_string_equal(rec[1].agent, "builder-2");
    assert_non_null(strstr(rec[1].data, "\"port\":5432"));
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"decline\"}", T0 + 4 * S, &res), 409);
    assert_string_equal(res.code, "not_pending");
    lh_elicits_list(e, &B2, &q, &res);
    assert_int_equal(json_array_size(json_object_get(res.body, "elicitations")), 0);
    json_decref(res.body);
    assert_int_equal(lh_elicits_pending(e), 0);

    char *m = lh_elicits_metrics(e);
    assert_non_null(strstr(m, "lighthouse_bridge_elicitations_total{outcome=\"accepted\"} 1\n"));
    assert_non_null(strstr(m, "lighthouse_bridge_elicitation_response_seconds_bucket{le=\"1\"} 0\n"));
    assert_non_null(strstr(m, "lighthouse_bridge_elicitation_response_seconds_bucket{le=\"5\"} 1\n"));
    assert_non_null(strstr(m, "lighthouse_bridge_elicitation_response_seconds_sum 3.000000\n"));
    free(m);
    lh_elicits_free(e);
}

static void expiry(void **state) {
    (void)state;
    lh_elicits *e = newModule(0, 1, 10, 100);
    lh_elicit_result res;
    char a[32], b[32];
    snprintf(a, sizeof(a), "%s", create(e, &B1, NULL, T0, &res));   /* expires at T0 + 10 s */
    json_decref(res.body);
    snprintf(b, sizeof(b), "%s", create(e, &B1, NULL, T0 + 5 * S, &res));
    json_decref(res.body);
    assert_int_equal(lh_elicits_sweep(e, T0 + 10 * S - 1, 0), 0);
    assert_string_equal(stateOf(e, a), "pending");
    assert_int_equal(lh_elicits_sweep(e, T0 + 10 * S, 0), 1);
    assert_string_equal(stateOf(e, a), "expired");
    assert_string_equal(rec[nrec - 1].type, "elicitation.expired");
    assert_string_equal(rec[nrec - 1].agent, "");
    /* An answer after the expiry time, before any sweep: the expiry wins and is recorded. */
    assert_int_equal(respond(e, &B2, b, "{\"action\":\"accept\",\"content\":{\"port\":1}}", T0 + 15 * S, &res), 409);
    assert_string_equal(stateOf(e, b), "expired");
    assert_string_equal(rec[nrec - 1].type, "elicitation.expired");
    assert_int_equal(lh_elicits_pending(e), 0);
    lh_elicits_free(e);
}

static void failed_append_changes_nothing(void **state) {
    (void)state;
    lh_elicits *e = newModule(0, 1, 10, 100);
    lh_elicit_result res;
    failAppends = 1;
    create(e, &B1, NULL, T0, &res);
    assert_int_equal(res.status, 503);
    assert_string_equal(res.code, "store_unavailable");
    assert_int_equal(lh_elicits_pending(e), 0);
    failAppends = 0;
    char id[32];
    snprintf(id, sizeof(id), "%s", create(e, &B1, NULL, T0, &res));
    json_decref(res.body);
    failAppends = 1;
    assert_int_equal(respond(e, &B2, id, "{\"action\":\"accept\",\"content\":{\"port\":1}}", T0, &res), 503);
    assert_string_equal(stateOf(e, id), "pending");
    assert_int_equal(lh_elicits_sweep(e, T0 + 60 * S, 0), 0);   /* its expiry cannot be recorded: still pending */
    assert_string_equal(stateOf(e, id), "pending");
    failAppends = 0;
    assert_int_equal(lh_elicits_sweep(e, T0 + 60 * S, 0), 1);
    assert_string_equal(stateOf(e, id), "expired");
    lh_elicits_free(e);
}

static void limits(void **state) {
    (void)state;
    /* A bucket of 3 that refills one per 1000 s; 2 pending per addressee, 3 in all. */
    lh_elicits *e = newModule(0.001, 3, 2, 3);
    lh_elicit_result res;
    const char *toB3 = "{\"to\":\"builder-3\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}}}";
    create(e, &B1, NULL, T0, &res); json_decref(res.body);
    create(e, &B1, NULL, T0, &res); json_decref(res.body);
    create(e, &B1, NULL, T0, &res);
    assert_int_equal(res.status, 429);
    assert_string_equal(res.code, "too_many_pending");
    assert_int_equal(res.retry_after, 10);   /* the first pending to builder-2 expires in 10 s */
    create(e, &B1, NULL, T0, &res);
    assert_int_equal(res.status, 429);
    assert_string_equal(res.code, "rate_limited");
    assert_true(res.retry_after >= 1);
    /* Another asker has its own bucket; the total limit (3) still holds. */
    create(e, &B2, toB3, T0, &res);
    assert_int_equal(res.status, 201);
    json_decref(res.body);
    create(e, &AD, toB3, T0, &res);
    assert_int_equal(res.status, 429);
    assert_string_equal(res.code, "too_many_pending");
    char *m = lh_elicits_metrics(e);
    assert_non_null(strstr(m, "outcome=\"refused_rate\"} 1\n"));
    assert_non_null(strstr(m, "outcome=\"refused_pending\"} 2\n"));
    assert_non_null(strstr(m, "lighthouse_bridge_elicitations_pending 3\n"));
    free(m);
    lh_elicits_free(e);
}

static void bad_requests(void **state) {
    (void)state;
    lh_elicits *e = newModule(0, 1, 10, 100);
    lh_elicit_result res;
    static const char *const bad[] = {
        "not json", "[]", "{\"to\":\"builder-2\",\"message\":\"m\"}",
        "{\"to\":\"builder-1\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}}}",
        "{\"to\":\"\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}}}",
        "{\"to\":\"builder-2\",\"message\":\"\",\"schema\":{\"type\":\"object\",\"properties\":{}}}",
        "{\"to\":\"builder-2\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}},\"expires_in_s\":0}",
        "{\"to\":\"builder-2\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}},\"expires_in_s\":\"5\"}",
        "{\"to\":\"builder-2\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{}},\"extra\":1}",
        "{\"to\":\"builder-2\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"null\"}}}}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        create(e, &B1, bad[i], T0, &res);
        if (res.status != 400) fail_msg("%s: status %d, want 400", bad[i], res.status);
    }
    /* A schema over max_schema (4000 bytes): 413. */
    char big[8192];
    int o = snprintf(big, sizeof(big), "{\"to\":\"builder-2\",\"message\":\"m\",\"schema\":{\"type\":\"object\",\"description\":\"");
    memset(big + o, 'd', 1000);
    o += 1000;
    o += snprintf(big + o, sizeof(big) - (size_t)o, "\",\"properties\":{");
    for (int i = 0; i < 60; i++) o += snprintf(big + o, sizeof(big) - (size_t)o, "%s\"p%02d\":{\"type\":\"boolean\",\"description\":\"a flag that says nothing at all, at length\"}", i ? "," : "", i);
    snprintf(big + o, sizeof(big) - (size_t)o, "}}}");
    create(e, &B1, big, T0, &res);
    assert_int_equal(res.status, 413);
    assert_int_equal(nrec, 0);
    lh_elicits_free(e);
}

/* The events recorded by one module rebuild the same table in another. */
static void replay_rebuilds(void **state) {
    (void)state;
    lh_elicits *e = newModule(0, 1, 10, 100);
    lh_elicit_result res;
    char a[32], b[32], c[32];
    snprintf(a, sizeof(a), "%s", create(e, &B1, NULL, T0, &res)); json_decref(res.body);
    snprintf(b, sizeof(b), "%s", create(e, &B1, NULL, T0, &res)); json_decref(res.body);
    snprintf(c, sizeof(c), "%s", create(e, &B1, NULL, T0, &res)); json_decref(res.body);
    assert_int_equal(respond(e, &B2, a, "{\"action\":\"accept\",\"content\":{\"port\":7}}", T0 + S, &res), 200);
    json_decref(res.body);
    assert_int_equal(respond(e, &B1, b, "{\"action\":\"cancel\"}", T0 + S, &res), 200);
    json_decref(res.body);
    lh_elicits_free(e);

    lh_elicit_limits lim = {.rate = 0, .burst = 1, .max_pending_to = 10, .max_pending = 100, .max_message = 1000,
                            .max_schema = 4000, .max_waiters = 10};
    lh_elicits *r = lh_elicits_new(&lim, recordAppend, NULL);
    for (int i = 0; i < nrec; i++) {
        lh_event ev = {.seq = i + 1, .type = rec[i].type, .agent = rec[i].agent, .aggregate = rec[i].aggregate,
                       .data = rec[i].data};
        lh_elicits_replay(r, &ev);
    }
    assert_string_equal(stateOf(r, a), "accepted");
    assert_string_equal(stateOf(r, b), "cancelled");
    assert_string_equal(stateOf(r, c), "pending");
    assert_int_equal(lh_elicits_pending(r), 1);
    lh_elicits_get(r, &B2, a, &res);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res.body, "content"), "port")), 7);
    assert_int_equal(json_integer_value(json_object_get(res.body, "expires_ns")), T0 + 10 * S);
    json_decref(res.body);
    /* The rebuilt pending one keeps its expiry and can be answered. */
    assert_int_equal(respond(r, &B2, c, "{\"action\":\"decline\"}", T0 + 2 * S, &res), 200);
    json_decref(res.body);
    lh_elicits_free(r);
    resetRecorder();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(authorisation_and_accept),
        cmocka_unit_test(expiry),
        cmocka_unit_test(failed_append_changes_nothing),
        cmocka_unit_test(limits),
        cmocka_unit_test(bad_requests),
        cmocka_unit_test(replay_rebuilds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

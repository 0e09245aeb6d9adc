/* test_mcp.c — the MCP core (src/mcp/) without a transport: JSON-RPC answers, revision
 * negotiation, batches, and how each tool turns its arguments into one API call and the
 * reply into a tool result. The API is a recording function here (it keeps the request it
 * was given and answers what the test set); tests/integration/mcp.sh runs the same core
 * against a real bridge. */
#include "testutil.h"

#include <stdio.h>

#include "mcp/mcp.h"

/* ---- the recording API ---- */

typedef struct rec {
    int calls;
    char method[8];
    char path[1100];
    char body[4096];
    int wait_s;
    int status;             /* what to answer */
    const char *reply;
    int unreachable;        /* answer -1 */
} rec;

static int recCall(void *ctx, const char *method, const char *path, const char *body, size_t len, int wait_s,
                   lh_mcp_reply *out, char *err, size_t errlen) {
    rec *r = ctx;
    r->calls++;
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->body, sizeof(r->body), "%.*s", (int)(body ? len : 0), body ? body : "");
    r->wait_s = wait_s;
    if (r->unreachable) { snprintf(err, errlen, "connection refused"); return -1; }
    out->status = r->status ? r->status : 200;
    out->body = strdup(r->reply ? r->reply : "{\"ok\":true}");
    out->len = strlen(out->body);
    return 0;
}

/* Send one message text through the core; return the reply parsed (or NULL: none). */
static json_t *send(lh_mcp_session *s, rec *r, const char *text) {
    lh_mcp_env env = {.call = recCall, .ctx = r, .default_cwd = "/home/dev/project"};
    lh_mcp_info info;
    char *out = NULL;
    size_t n = 0;
    json_t *m = lh_mcp_parse(text, strlen(text), &info, &out, &n);
    if (m) out = lh_mcp_answer(m, s, &env, &n);
    if (!out) return NULL;
    json_t *j = json_loadb(out, n, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

static void initialize(lh_mcp_session *s, const char *version) {
    char msg[256];
    snprintf(msg, sizeof(msg),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
             "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", version);
    rec r = {0};
    json_t *j = send(s, &r, msg);
    assert_non_null(json_object_get(j, "result"));
    json_decref(j);
}

static int errCode(json_t *j) { return (int)json_integer_value(json_object_get(json_object_get(j, "error"), "code")); }

/* tools/call NAME with ARGS (JSON); returns the result object (new reference). */
static json_t *callTool(lh_mcp_session *s, rec *r, const char *name, const char *args) {
    char msg[2048];
    snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":%s}}", name, args);
    json_t *j = send(s, r, msg);
    json_t *res = json_incref(json_object_get(j, "result"));
    json_decref(j);
    assert_non_null(res);
    return res;
}

static const char *resultText(json_t *res) {
    return json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
}

/* ---- lifecycle ---- */

static void test_negotiation(void **state) {
    (void)state;
    const char *cases[][2] = {{"2025-11-25", "2025-11-25"}, {"2025-06-18", "2025-06-18"}, {"2025-03-26", "2025-03-26"},
                              {"2024-11-05", "2025-11-25"}, {"1999-01-01", "2025-11-25"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lh_mcp_session s = {{0}, 0};
        initialize(&s, cases[i][0]);
        assert_string_equal(s.version, cases[i][1]);
    }
}

static void test_not_initialized_and_twice(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    rec r = {0};
    json_t *j = send(&s, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assert_int_equal(errCode(j), LH_RPC_INVALID_REQUEST);
    json_decref(j);
    j = send(&s, &r, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    assert_string_equal(json_string_value(json_object_get(j, "id")), "p");
    assert_int_equal(json_object_size(json_object_get(j, "result")), 0);
    json_decref(j);
    initialize(&s, "2025-11-25");
    assert_null(send(&s, &r, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    assert_int_equal(s.initialized, 1);
    j = send(&s, &r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}");
    assert_int_equal(errCode(j), LH_RPC_INVALID_REQUEST);
    json_decref(j);
    assert_int_equal(r.calls, 0);
}

static void test_jsonrpc_errors(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    rec r = {0};
    struct { const char *msg; int code; } cases[] = {
        {"{\"jsonrpc\":\"2.0\",\"id\":1,", LH_RPC_PARSE_ERROR},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", LH_RPC_PARSE_ERROR},   /* duplicate key */
        {"\"just a string\"", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", LH_RPC_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}", LH_RPC_METHOD_NOT_FOUND},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}", LH_RPC_INVALID_PARAMS},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}", LH_RPC_INVALID_PARAMS},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}", LH_RPC_INVALID_PARAMS},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"validate\",\"arguments\":[]}}",
         LH_RPC_INVALID_PARAMS},
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", LH_RPC_INVALID_REQUEST},   /* batch in 2025-11-25 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = send(&s, &r, cases[i].msg);
        if (errCode(j) != cases[i].code) fail_msg("case %zu (%s): got %d, want %d", i, cases[i].msg, errCode(j), cases[i].code);
        json_decref(j);
    }
    /* A response of the client's and a notification get nothing. */
    assert_null(send(&s, &r, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}"));
    assert_null(send(&s, &r, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}"));
    assert_int_equal(r.calls, 0);
}

static void test_batches_2025_03_26(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-03-26");
    rec r = {0};
    json_t *j = send(&s, &r, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":"
                             "\"notifications/initialized\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]");
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 2);
    assert_int_equal(errCode(json_array_get(j, 1)), LH_RPC_METHOD_NOT_FOUND);
    json_decref(j);
    assert_int_equal(s.initialized, 1);
    j = send(&s, &r, "[]");
    assert_int_equal(errCode(j), LH_RPC_INVALID_REQUEST);
    json_decref(j);
    char big[8192] = "[";
    for (int i = 0; i <= LH_MCP_MAX_BATCH; i++)
        strcat(big, i ? ",{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}" : "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    strcat(big, "]");
    j = send(&s, &r, big);
    assert_true(json_is_object(j));
    assert_int_equal(errCode(j), LH_RPC_INVALID_REQUEST);
    json_decref(j);
}

static void test_parse_bound(void **state) {
    (void)state;
    size_t n = LH_MCP_MAX_MESSAGE + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{}", 2);
    big[n] = 0;
    lh_mcp_info info;
    char *out = NULL;
    size_t outlen = 0;
    assert_null(lh_mcp_parse(big, n, &info, &out, &outlen));
    json_t *j = json_loadb(out, outlen, 0, NULL);
    assert_int_equal(errCode(j), LH_RPC_PARSE_ERROR);
    json_decref(j);
    free(out);
    free(big);
}

/* ---- tools ---- */

static void test_tools_list(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    rec r = {0};
    json_t *j = send(&s, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    json_t *tools = json_object_get(json_object_get(j, "result"), "tools");
    assert_int_equal(json_array_size(tools), 9);
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        assert_non_null(json_string_value(json_object_get(t, "description")));
        assert_string_equal(json_string_value(json_object_get(json_object_get(t, "inputSchema"), "type")), "object");
        assert_true(json_is_false(json_object_get(json_object_get(t, "inputSchema"), "additionalProperties")));
    }
    json_decref(j);
}

static void test_validate_maps_to_the_api(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    rec r = {.reply = "{\"decision\":\"allow\",\"rule\":\"default.allow\",\"seq\":3}"};
    json_t *res = callTool(&s, &r, "validate", "{\"command\":\"ls -la\",\"cwd\":\"/p\",\"wait\":30,\"session\":\"s1\"}");
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/v1/validate?wait=30");
    assert_int_equal(r.wait_s, 30);
    json_t *body = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "tool")), "Bash");
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "input"), "command")), "ls -la");
    assert_string_equal(json_string_value(json_object_get(body, "cwd")), "/p");
    assert_string_equal(json_string_value(json_object_get(body, "session")), "s1");
    json_decref(body);
    assert_true(json_is_false(json_object_get(res, "isError")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "structuredContent"), "rule")),
                        "default.allow");
    json_decref(res);
    /* tool + input, the default cwd, no wait */
    res = callTool(&s, &r, "validate", "{\"tool\":\"Write\",\"input\":{\"file_path\":\"a\",\"content\":\"x\"}}");
    assert_string_equal(r.path, "/v1/validate");
    body = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "tool")), "Write");
    assert_string_equal(json_string_value(json_object_get(body, "cwd")), "/home/dev/project");
    json_decref(body);
    json_decref(res);
}

/* Arguments the tool refuses: isError, a message, and no API call. */
static void test_bad_arguments_make_no_call(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    struct { const char *tool, *args, *says; } cases[] = {
        {"validate", "{}", "neither"},
        {"validate", "{\"command\":\"ls\",\"tool\":\"Bash\",\"input\":{}}", "both"},
        {"validate", "{\"tool\":\"Write\"}", "needs its input"},
        {"validate", "{\"command\":\"ls\",\"input\":{}}", "input goes with tool"},
        {"validate", "{\"command\":3}", "must be of type string"},
        {"validate", "{\"command\":\"ls\",\"wait\":-1}", "must be 0 to 300"},
        {"validate", "{\"command\":\"ls\",\"extra\":1}", "unknown argument extra"},
        {"escalations_list", "{\"state\":\"odd\"}", "must be one of"},
        {"escalations_list", "{\"wait\":61}", "must be 0 to 60"},
        {"escalations_list", "{\"claim\":0}", "argument claim must be 1 to 3600"},
        {"escalations_list", "{\"claim\":3601}", "argument claim must be 1 to 3600"},
        {"escalations_list", "{\"claim\":\"60\"}", "argument claim must be of type integer"},
        {"escalations_list", "{\"claim\":1.5}", "argument claim must be of type integer"},
        {"escalations_list", "{\"state\":\"all\",\"claim\":60}", "claim goes with state pending"},
        {"escalation_get", "{}", "argument id is required"},
        {"escalation_get", "{\"id\":\"../v1/status\"}", "id must be"},
        {"escalation_get", "{\"id\":\"..\"}", "id must be"},
        {"escalation_decide", "{\"id\":\"esc-1\",\"decision\":\"maybe\",\"reason\":\"r\"}", "must be one of"},
        {"escalation_decide", "{\"id\":\"esc-1\",\"decision\":\"deny\",\"reason\":\"\"}", "must be 1 to 2000"},
        {"elicitation_create", "{\"to\":\"b\",\"message\":\"m\"}", "argument schema is required"},
        {"elicitation_respond", "{\"id\":\"eli-1\",\"action\":\"accept\"}", "needs content"},
        {"elicitation_respond", "{\"id\":\"eli-1\",\"action\":\"decline\",\"content\":{}}", "accept only"},
        {"events_query", "{\"limit\":0}", "must be 1 to 1000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rec r = {0};
        json_t *res = callTool(&s, &r, cases[i].tool, cases[i].args);
        const char *text = resultText(res);
        if (!json_is_true(json_object_get(res, "isError")) || !text || !strstr(text, cases[i].says) || r.calls)
            fail_msg("case %zu %s %s: isError %d, text \"%s\", %d calls", i, cases[i].tool, cases[i].args,
                     json_is_true(json_object_get(res, "isError")), text ? text : "", r.calls);
        json_decref(res);
    }
}

static void test_each_tool_calls_its_route(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    struct { const char *tool, *args, *method, *path, *body; } cases[] = {
        {"escalations_list", "{}", "GET", "/v1/escalations?state=pending", ""},
        {"escalations_list", "{\"state\":\"all\",\"wait\":20,\"limit\":5}", "GET",
         "/v1/escalations?state=all&wait=20&limit=5", ""},
        {"escalations_list", "{\"wait\":30,\"limit\":1,\"claim\":90}", "GET",
         "/v1/escalations?state=pending&wait=30&limit=1&claim=90", ""},
        {"escalations_list", "{\"state\":\"pending\",\"claim\":3600}", "GET",
         "/v1/escalations?state=pending&claim=3600", ""},
        {"escalation_get", "{\"id\":\"esc-0123456789abcdef\"}", "GET", "/v1/escalations/esc-0123456789abcdef", ""},
        {"escalation_decide", "{\"id\":\"esc-1\",\"decision\":\"deny\",\"reason\":\"no\"}", "POST",
         "/v1/escalations/esc-1/verdict", "{\"decision\":\"deny\",\"reason\":\"no\"}"},
        {"elicitation_create", "{\"to\":\"b2\",\"message\":\"port?\",\"schema\":{\"type\":\"object\"},\"expires_in_s\":60}",
         "POST", "/v1/elicitations", "{\"to\":\"b2\",\"message\":\"port?\",\"schema\":{\"type\":\"object\"},\"expires_in_s\":60}"},
        {"elicitations_list", "{\"wait\":10}", "GET", "/v1/elicitations?for=me&state=pending&wait=10", ""},
        {"elicitation_get", "{\"id\":\"eli-1\",\"wait\":3}", "GET", "/v1/elicitations/eli-1?wait=3", ""},
        {"elicitation_respond", "{\"id\":\"eli-1\",\"action\":\"accept\",\"content\":{\"port\":1}}", "POST",
         "/v1/elicitations/eli-1/response", "{\"action\":\"accept\",\"content\":{\"port\":1}}"},
        {"elicitation_respond", "{\"id\":\"eli-1\",\"action\":\"cancel\"}", "POST", "/v1/elicitations/eli-1/response",
         "{\"action\":\"cancel\"}"},
        {"events_query", "{\"type\":\"a b&c=d\",\"agent\":\"\\u00e9\",\"after\":7,\"limit\":2}", "GET",
         "/v1/events?type=a%20b%26c%3Dd&agent=%C3%A9&after=7&limit=2", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rec r = {0};
        json_t *res = callTool(&s, &r, cases[i].tool, cases[i].args);
        int bodyOk = 1;
        if (*cases[i].body) {
            json_t *got = json_loads(r.body, 0, NULL), *want = json_loads(cases[i].body, 0, NULL);
            bodyOk = json_equal(got, want);
            json_decref(got);
            json_decref(want);
        } else {
            bodyOk = r.body[0] == 0;
        }
        if (r.calls != 1 || strcmp(r.method, cases[i].method) || strcmp(r.path, cases[i].path) || !bodyOk ||
            json_is_true(json_object_get(res, "isError")))
            fail_msg("case %zu %s: %d calls, %s %s body %s", i, cases[i].tool, r.calls, r.method, r.path, r.body);
        json_decref(res);
    }
}

static void test_api_errors_are_tool_errors(void **state) {
    (void)state;
    lh_mcp_session s = {{0}, 0};
    initialize(&s, "2025-11-25");
    rec r = {.status = 403, .reply = "{\"error\":{\"code\":\"forbidden\",\"message\":\"role builder may not use /v1/events\"}}"};
    json_t *res = callTool(&s, &r, "events_query", "{}");
    assert_true(json_is_true(json_object_get(res, "isError")));
    assert_string_equal(resultText(res), "GET /v1/events: HTTP 403 forbidden: role builder may not use /v1/events");
    assert_null(json_object_get(res, "structuredContent"));
    json_decref(res);
    rec down = {.unreachable = 1};
    res = callTool(&s, &down, "escalation_get", "{\"id\":\"esc-1\"}");
    assert_true(json_is_true(json_object_get(res, "isError")));
    assert_non_null(strstr(resultText(res), "could not be reached: connection refused"));
    json_decref(res);
    rec garbage = {.status = 502, .reply = "<html>bad gateway</html>"};
    res = callTool(&s, &garbage, "escalation_get", "{\"id\":\"esc-1\"}");
    assert_non_null(strstr(resultText(res), "HTTP 502: <html>bad gateway</html>"));
    json_decref(res);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_not_initialized_and_twice),
        cmocka_unit_test(test_jsonrpc_errors),
        cmocka_unit_test(test_batches_2025_03_26),
        cmocka_unit_test(test_parse_bound),
        cmocka_unit_test(test_tools_list),
        cmocka_unit_test(test_validate_maps_to_the_api),
        cmocka_unit_test(test_bad_arguments_make_no_call),
        cmocka_unit_test(test_each_tool_calls_its_route),
        cmocka_unit_test(test_api_errors_are_tool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

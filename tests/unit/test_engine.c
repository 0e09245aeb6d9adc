/* test_engine.c — requests in, decisions out: request parsing, the engine's own rules,
 * the cache, and the decision JSON contract. */
#include "testutil.h"
#include "testreq.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "engine/engine.h"
#include "util/utf8.h"
#include "engine/policy.h"
#include "engine/shell.h"

extern const char lh_default_policy_yaml[];
extern const size_t lh_default_policy_yaml_len;

static lh_arena *A;
static lh_engine *E;

static int setup(void **st) {
    (void)st;
    char err[256];
    A = lh_arena_new(1 << 16);
    E = lh_engine_new(NULL, 1024, err, sizeof(err));
    return E ? 0 : -1;
}
static int teardown(void **st) { (void)st; lh_engine_free(E); lh_arena_free(A); return 0; }
static int reset(void **st) { (void)st; lh_arena_reset(A); return 0; }

static lh_request bash(const char *cmd) { return lh_test_bash(cmd); }

static lh_decision decide(const lh_request *r, unsigned opts) {
    lh_decision d;
    assert_int_equal(lh_engine_decide(E, r, A, &d, opts), 0);
    return d;
}

/* ---- request parsing ---------------------------------------------------------------- */

static void test_parse_native(void **st) {
    const char *j = "{\"agent\":\"builder-1\",\"session\":\"s\",\"tool\":\"Bash\",\"input\":{\"command\":\"ls -la\"},\"cwd\":\"/srv/app\",\"role\":\"builder\"}";
    lh_request r;
    char err[256];
    assert_int_equal(lh_request_parse_json(A, j, strlen(j), &r, err, sizeof(err)), 0);
    assert_int_equal(r.tool, LH_TOOL_BASH);
    assert_string_equal(r.command, "ls -la");
    assert_string_equal(r.cwd, "/srv/app");
    assert_string_equal(r.agent, "builder-1");
    assert_string_equal(r.role, "builder");
}

static void test_parse_hook_payload(void **st) {
    const char *j = "{\"session_id\":\"abc\",\"transcript_path\":\"/t\",\"cwd\":\"/p\",\"permission_mode\":\"default\","
                    "\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Write\",\"tool_input\":{\"file_path\":\"/p/a.txt\",\"content\":\"x\"},"
                    "\"tool_use_id\":\"t1\",\"agent_id\":\"sub-1\"}";
    lh_request r;
    char err[256];
    assert_int_equal(lh_request_parse_json(A, j, strlen(j), &r, err, sizeof(err)), 0);
    assert_int_equal(r.tool, LH_TOOL_WRITE);
    assert_string_equal(r.file_path, "/p/a.txt");
    assert_string_equal(r.session, "abc");
    assert_string_equal(r.agent, "sub-1");
    assert_string_equal(r.event, "PreToolUse");
}

static void test_parse_errors(void **st) {
    const char *bad[] = {
        "", "null", "[1]", "{", "{\"tool\":1}", "{\"tool\":\"Bash\",\"input\":{}}",
        "{\"tool\":\"Bash\",\"input\":{\"command\":5}}", "{\"tool\":\"Write\",\"input\":{\"content\":\"x\"}}",
        "{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"relative/dir\"}",
        "{\"tool\":\"Bash\",\"input\":[]}", "{\"tool\":\"Bash\",\"input\":{\"command\":\"a\\u0000b\"}}",
        "{\"tool\":\"Bash\",\"tool\":\"Write\",\"input\":{\"command\":\"ls\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lh_request r;
        char err[256] = "";
        if (lh_request_parse_json(A, bad[i], strlen(bad[i]), &r, err, sizeof(err)) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_true(strlen(err) > 5);
    }
    /* invalid UTF-8 */
    const char inv[] = "{\"tool\":\"Bash\",\"input\":{\"command\":\"ls \xff\"}}";
    lh_request r;
    char err[256];
    assert_int_not_equal(lh_request_parse_json(A, inv, strlen(inv), &r, err, sizeof(err)), 0);
    /* deep JSON */
    char deep[200];
    size_t o = 0;
    o += (size_t)snprintf(deep, sizeof(deep), "{\"tool\":\"Bash\",\"x\":");
    for (int i = 0; i < 40; i++) deep[o++] = '[';
    for (int i = 0; i < 40; i++) deep[o++] = ']';
    deep[o++] = '}';
    deep[o] = 0;
    assert_int_not_equal(lh_request_parse_json(A, deep, o, &r, err, sizeof(err)), 0);
}

/* ---- the engine's own rules ------------------------------------------------------------ */

static void test_fork_bomb_denied(void **st) {
    lh_request r = bash(":(){ :|:& };:");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "shell.fork-bomb");
}

static void test_parse_error_never_allows(void **st) {
    lh_request r = bash("echo \"unterminated");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_not_equal(d.action, LH_ALLOW);
    assert_string_equal(d.rule, "shell.parse-error");
}

static void test_bounds_deny(void **st) {
    size_t n = 20001;
    char *deep = malloc(n);
    for (size_t i = 0; i + 1 < n; i += 2) { deep[i] = '$'; deep[i + 1] = '('; }
    deep[n - 1] = 0;
    lh_request r = bash(deep);
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "shell.too-complex");
    free(deep);
    char *big = malloc(10u << 20);
    memset(big, 'a', (10u << 20) - 1);
    big[(10u << 20) - 1] = 0;
    r = bash(big);
    d = decide(&r, 0);
    assert_int_equal(d.action, LH_DENY);
    free(big);
}

static void test_bad_bytes_deny(void **st) {
    lh_request r = bash("ls \xc3\x28");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "shell.bad-bytes");
    r = bash("ls");
    r.command = "ls\0rm -rf /";
    r.command_len = 11;
    d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
}

static void test_dynamic_command_escalates(void **st) {
    lh_request r = bash("$CMD --version");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "shell.dynamic-command");
}

/* A reason quotes what the shell decodes, and $'\x8e' decodes to a byte that is not UTF-8:
 * the reason (and so the hook's reply and the audit event) must stay valid UTF-8 (found by
 * tests/fuzz/fuzz_hook.c: the hook printed JSON that no parser accepts). */
static void test_reason_is_utf8(void **st) {
    lh_request r = bash("`a`$'\\x8e'x --version");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_non_null(d.reason);
    assert_true(lh_utf8_valid(d.reason, strlen(d.reason)));
    assert_non_null(strstr(d.reason, "\xEF\xBF\xBDx"));   /* U+FFFD stands for the byte */
}

static void test_unknown_tool_escalates(void **st) {
    lh_request r;
    memset(&r, 0, sizeof(r));
    r.tool = LH_TOOL_UNKNOWN;
    r.tool_name = "Teleport";
    r.cwd = "/";
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "tool.unknown");
}

static void test_inline_code_delete(void **st) {
    lh_request r = bash("python3 -c 'import shutil; shutil.rmtree(\"/etc\")'");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "code.recursive-delete");
    r = bash("python3 -c 'import shutil; shutil.rmtree(\"build\")'");
    d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ALLOW);
    r = bash("perl -e 'unlink glob(\"/etc/*\")'");
    d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_DENY);
    r = bash("python3 -c 'import os; os.remove(\"dist/a.whl\")'");
    d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ALLOW);
    r = bash("python3 -c 'import shutil,sys; shutil.rmtree(sys.argv[1])' /x");
    d = decide(&r, LH_DECIDE_NOCACHE);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "code.opaque");
}

static void test_explain_keeps_parse(void **st) {
    lh_request r = bash("sudo sh -c 'echo hi' | cat");
    lh_decision d = decide(&r, LH_DECIDE_EXPLAIN);
    assert_non_null(d.script);
    assert_true(d.script->ncmds >= 3);
}

/* ---- cache ------------------------------------------------------------------------------- */

static void test_cache_hits_and_keys(void **st) {
    char err[256];
    lh_engine *e = lh_engine_new(NULL, 64, err, sizeof(err));
    lh_request r = bash(":(){ :|:& };:");
    lh_decision d;
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_ANALYSIS);
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_CACHE);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "shell.fork-bomb");
    /* another cwd, home or tool is another key */
    r.cwd = "/srv";
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_ANALYSIS);
    r.home = "/root";
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_ANALYSIS);
    /* explain and nocache bypass it */
    lh_engine_decide(e, &r, A, &d, LH_DECIDE_EXPLAIN);
    assert_int_equal(d.tier, LH_TIER_ANALYSIS);
    lh_cache_stats cs;
    lh_engine_cache_stats(e, &cs);
    assert_int_equal(cs.hits, 1);
    assert_int_equal(cs.lookups, 4);
    /* bounded: many distinct requests never exceed capacity */
    char cmd[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(cmd, sizeof(cmd), "echo %d", i);
        r = bash(cmd);
        lh_arena_reset(A);
        lh_engine_decide(e, &r, A, &d, 0);
    }
    lh_engine_cache_stats(e, &cs);
    assert_true(cs.entries <= cs.capacity);
    assert_true(cs.capacity < 200);
    assert_true(cs.evictions > 0);
    lh_engine_free(e);
}

/* An MCP call's path arguments are parsed, and decide through the cache: the same tool
 * with another path is another key. */
static void test_mcp_args_parse_and_cache(void **st) {
    (void)st;
    char err[256];
    lh_request r;
    const char *j = "{\"tool\":\"mcp__fs__read_file\",\"cwd\":\"/home/dev/project\",\"home\":\"/home/dev\","
                    "\"input\":{\"path\":\"src/a.c\",\"content\":\"x\",\"target\":\"b\",\"uri\":\"file:///x\"}}";
    assert_int_equal(lh_request_parse_json(A, j, strlen(j), &r, err, sizeof(err)), 0);
    assert_int_equal(r.tool, LH_TOOL_MCP);
    assert_int_equal(r.nmcp_args, 3);
    assert_string_equal(r.mcp_keys[0], "path");
    assert_string_equal(r.mcp_args[0], "src/a.c");
    assert_string_equal(r.mcp_keys[1], "target");
    assert_string_equal(r.mcp_keys[2], "uri");
    lh_engine *e = lh_engine_new(NULL, 64, err, sizeof(err));
    assert_non_null(e);
    lh_decision d;
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.action, LH_ALLOW);
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_CACHE);
    const char *k = "{\"tool\":\"mcp__fs__read_file\",\"cwd\":\"/home/dev/project\",\"home\":\"/home/dev\","
                    "\"input\":{\"path\":\"~/.ssh/id_rsa\",\"content\":\"x\",\"target\":\"b\",\"uri\":\"file:///x\"}}";
    assert_int_equal(lh_request_parse_json(A, k, strlen(k), &r, err, sizeof(err)), 0);
    lh_engine_decide(e, &r, A, &d, 0);
    assert_int_equal(d.tier, LH_TIER_ANALYSIS);
    assert_int_equal(d.action, LH_ESCALATE);
    assert_string_equal(d.rule, "secret.read");
    lh_engine_free(e);
}

/* The engine knows its configured files: the policy it was loaded from and what
 * LIGHTHOUSE_POLICY / LIGHTHOUSE_DATA name. Changing them is self.tamper; reading them
 * is allowed; without the configuration the same paths are ordinary project files. */
static void test_self_paths_from_config(void **st) {
    (void)st;
    char err[256];
    lh_request w;
    memset(&w, 0, sizeof(w));
    w.tool = LH_TOOL_EDIT;
    w.tool_name = "Edit";
    w.file_path = "/home/dev/project/ops/guard.yaml";
    w.cwd = "/home/dev/project";
    w.home = "/home/dev";
    lh_request rd = w;
    rd.tool = LH_TOOL_READ;
    rd.tool_name = "Read";
    lh_request rm = bash("rm -rf state/events");
    lh_decision d;

    lh_engine *plain = lh_engine_new(NULL, 0, err, sizeof(err));
    assert_non_null(plain);
    assert_int_equal(lh_engine_decide(plain, &w, A, &d, 0), 0);
    assert_int_equal(d.action, LH_ALLOW);
    assert_int_equal(lh_engine_decide(plain, &rm, A, &d, 0), 0);
    assert_int_equal(d.action, LH_ALLOW);
    lh_engine_free(plain);

    setenv("LIGHTHOUSE_POLICY", "/home/dev/project/ops/guard.yaml", 1);
    setenv("LIGHTHOUSE_DATA", "/home/dev/project/state/", 1);
    lh_engine *e = lh_engine_new(NULL, 0, err, sizeof(err));
    unsetenv("LIGHTHOUSE_POLICY");
    unsetenv("LIGHTHOUSE_DATA");
    assert_non_null(e);
    assert_int_equal(lh_engine_decide(e, &w, A, &d, 0), 0);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "self.tamper");
    assert_int_equal(lh_engine_decide(e, &rd, A, &d, 0), 0);
    assert_int_equal(d.action, LH_ALLOW);
    assert_int_equal(lh_engine_decide(e, &rm, A, &d, 0), 0);
    assert_int_equal(d.action, LH_DENY);
    assert_string_equal(d.rule, "self.tamper");
    lh_engine_free(e);

    /* the policy file the engine was loaded from, by its name */
    lh_policy_diag diags[4];
    int nd = 0;
    const char *y = "rules: []\n";
    lh_policy *p = lh_policy_parse(y, strlen(y), "/home/dev/project/ops/guard.yaml", diags, 4, &nd);
    assert_non_null(p);
    e = lh_engine_new(p, 0, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(lh_engine_decide(e, &w, A, &d, 0), 0);
    assert_string_equal(d.rule, "self.tamper");
    lh_engine_free(e);
}

/* ---- decision JSON ---------------------------------------------------------------------- */

static void test_decision_json_contract(void **st) {
    lh_request r = bash("echo \"quote \\\" and\ttab\"; :(){ :|:& };:");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    d.latency_us = 12;
    d.seq = 99;
    char buf[4096];
    int n = lh_decision_to_json(&d, "dec-1", buf, sizeof(buf));
    assert_true(n > 0);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "dec-1");
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(j, "risk")), "critical");
    assert_string_equal(json_string_value(json_object_get(j, "tier")), "analysis");
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "shell.fork-bomb");
    assert_true(json_is_string(json_object_get(j, "reason")));
    assert_true(json_is_string(json_object_get(j, "policy_revision")));
    assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 12);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 99);
    json_decref(j);
    assert_int_equal(lh_decision_to_json(&d, NULL, buf, 20), -1);   /* too small: refused */
}

/* jansson's compact dump with sorted keys of JSON text (the store's canonical form). */
static char *canonical(const char *text) {
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    char *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(out);
    return out;
}

/* Every byte below 0x80 is escaped as jansson's dump escapes it (\b \f, upper-case \u00XX),
 * so what the bridge writes is the store's canonical form byte for byte. */
static void test_json_escape_is_janssons(void **st) {
    for (int c = 1; c < 0x80; c++) {
        char in[4] = {'a', (char)c, 'b', 0}, esc[32], quoted[40];
        assert_true(lh_json_escape(in, esc, sizeof(esc)) > 0);
        json_t *j = json_string(in);
        char *want = json_dumps(j, JSON_ENCODE_ANY);
        snprintf(quoted, sizeof(quoted), "\"%s\"", esc);
        if (strcmp(quoted, want)) fail_msg("byte 0x%02x: %s, jansson writes %s", c, quoted, want);
        free(want);
        json_decref(j);
    }
    char esc[8];
    assert_int_equal(lh_json_escape("\x01", esc, 6), -1); /* no room for \u0001 and its NUL */
    assert_int_equal(lh_json_escape("\x01", esc, 7), 6);
    assert_string_equal(esc, "\\u0001");
}

/* The sorted rendering (the bridge's event) is the contract's object, canonical as it stands. */
static void test_decision_json_sorted(void **st) {
    lh_request r = bash("rm -rf / # \"x\"\t\x1f");
    lh_decision d = decide(&r, LH_DECIDE_NOCACHE);
    d.latency_us = 7;
    for (int withSeq = 0; withSeq < 2; withSeq++) {
        d.seq = withSeq ? 1234567 : 0;
        char plain[4096], sorted[4096];
        assert_true(d.instead != NULL); /* every optional member is present */
        int n = lh_decision_to_json(&d, "dec-2", plain, sizeof(plain));
        int m = lh_decision_to_json_sorted(&d, "dec-2", sorted, sizeof(sorted));
        assert_true(n > 0);
        assert_int_equal(m, n);
        char *want = canonical(plain);
        assert_string_equal(sorted, want);
        free(want);
        assert_int_equal(lh_decision_to_json_sorted(&d, "dec-2", sorted, (size_t)m), -1); /* no room for the NUL */
    }
}

/* ---- the hook's PreToolUse output (lh_decision_to_hook_json) ---------------------------- */

#define HOOK_HEAD "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\""

static lh_decision hookDecision(lh_action action, const char *reason, const char *instead) {
    lh_decision d = {0};
    d.action = action;
    d.risk = action == LH_DENY ? LH_RISK_HIGH : LH_RISK_MEDIUM;
    d.tier = LH_TIER_ANALYSIS;
    d.rule = action == LH_ALLOW ? "default.allow" : "git.push-force";
    d.reason = reason;
    d.instead = instead;
    d.policy_revision = "sha256:0";
    return d;
}

/* The permissionDecisionReason of an output, read back by jansson (which also rejects
 * invalid UTF-8); the caller frees it. */
static char *hookReason(const char *out, const char *want_decision) {
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON (%s): %.120s", je.text, out);
    json_t *h = json_object_get(j, "hookSpecificOutput");
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_object_size(h), 3);
    assert_string_equal(json_string_value(json_object_get(h, "hookEventName")), "PreToolUse");
    assert_string_equal(json_string_value(json_object_get(h, "permissionDecision")), want_decision);
    char *r = strdup(json_string_value(json_object_get(h, "permissionDecisionReason")));
    json_decref(j);
    return r;
}

/* Allow is silent unless approve; deny and ask carry rule, risk, reason, instead and note;
 * reason_end is where the reason's text stops; a buffer too small is refused. */
static void test_hook_output_shapes(void **st) {
    static char out[LH_HOOK_OUTPUT_MAX];
    size_t end = 77;
    lh_decision d = hookDecision(LH_ALLOW, "nothing found", NULL);
    assert_int_equal(lh_decision_to_hook_json(&d, NULL, 0, out, sizeof(out), &end), 0);
    assert_string_equal(out, "");
    assert_int_equal(end, 0);
    assert_int_equal(lh_decision_to_hook_json(&d, " (a note)", 0, out, sizeof(out), NULL), 0);

    int n = lh_decision_to_hook_json(&d, NULL, 1, out, sizeof(out), &end);
    assert_string_equal(out, HOOK_HEAD "allow\",\"permissionDecisionReason\":\"Lighthouse: allowed (default.allow)\"}}");
    assert_int_equal(n, (int)strlen(out));
    assert_string_equal(out + end, "\"}}");
    lh_decision_to_hook_json(&d, " (a note)", 1, out, sizeof(out), NULL);
    assert_string_equal(out, HOOK_HEAD "allow\",\"permissionDecisionReason\":\"Lighthouse: allowed (default.allow) (a note)\"}}");

    d = hookDecision(LH_DENY, "force push rewrites shared history", "git push --force-with-lease");
    n = lh_decision_to_hook_json(&d, " (decided locally)", 0, out, sizeof(out), &end);
    assert_string_equal(out, HOOK_HEAD "deny\",\"permissionDecisionReason\":\"Lighthouse blocked this call "
                        "[git.push-force, risk high]: force push rewrites shared history. Instead: "
                        "git push --force-with-lease (decided locally)\"}}");
    assert_int_equal(n, (int)strlen(out));
    assert_string_equal(out + end, "\"}}");
    /* approve changes nothing but an allow */
    static char again[LH_HOOK_OUTPUT_MAX];
    lh_decision_to_hook_json(&d, " (decided locally)", 1, again, sizeof(again), NULL);
    assert_string_equal(again, out);

    d = hookDecision(LH_ESCALATE, "the command word is only known at run time", NULL);
    n = lh_decision_to_hook_json(&d, NULL, 0, out, sizeof(out), &end);
    assert_string_equal(out, HOOK_HEAD "ask\",\"permissionDecisionReason\":\"Lighthouse needs approval "
                        "[git.push-force, risk medium]: the command word is only known at run time.\"}}");

    /* too small: -1 and an empty buffer, never a cut JSON object */
    assert_int_equal(lh_decision_to_hook_json(&d, NULL, 0, out, 40, &end), -1);
    assert_string_equal(out, "");
    assert_int_equal(lh_decision_to_hook_json(&d, NULL, 0, out, (size_t)n, NULL), -1);   /* no room for the NUL */
    assert_int_equal(lh_decision_to_hook_json(&d, NULL, 0, out, (size_t)n + 1, NULL), n);
}

/* Quotes, backslashes, controls and UTF-8 in a reason come back intact through a parser. */
static void test_hook_output_escapes(void **st) {
    static char out[LH_HOOK_OUTPUT_MAX];
    lh_decision d = hookDecision(LH_DENY, "a \"quote\", a \\ backslash,\na newline, \x01\x1f and caf\xc3\xa9",
                                 "tab\there");
    assert_true(lh_decision_to_hook_json(&d, " \"noted\"", 0, out, sizeof(out), NULL) > 0);
    char *r = hookReason(out, "deny");
    assert_string_equal(r, "Lighthouse blocked this call [git.push-force, risk high]: a \"quote\", a \\ backslash,\n"
                           "a newline, \x01\x1f and caf\xc3\xa9. Instead: tab\there \"noted\"");
    free(r);
    assert_non_null(strstr(out, "\\\"quote\\\", a \\\\ backslash,\\na newline, \\u0001\\u001F and caf\xc3\xa9"));
}

/* A reason longer than LH_HOOK_REASON_MAX bytes is cut to at most that, never inside a
 * UTF-8 sequence (Claude Code caps its strings at 10,000 characters, and a cut sequence
 * would make the whole output invalid JSON). Each width of sequence at each offset. */
static void test_hook_output_reason_cap(void **st) {
    static char out[LH_HOOK_OUTPUT_MAX], reason[12100], full[12300];
    static const char *chars[] = {"x", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\xa5", "\x01"};
    for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
        for (int shift = 0; shift < 4; shift++) {
            size_t n = 0, w = strlen(chars[c]);
            for (int i = 0; i < shift; i++) reason[n++] = 'a';
            while (n + w < 12000) { memcpy(reason + n, chars[c], w); n += w; }
            reason[n] = 0;
            lh_decision d = hookDecision(LH_DENY, reason, NULL);
            size_t end;
            int len = lh_decision_to_hook_json(&d, NULL, 0, out, sizeof(out), &end);
            assert_true(len > 0);
            assert_string_equal(out + end, "\"}}");
            char *r = hookReason(out, "deny");
            size_t rl = strlen(r);
            snprintf(full, sizeof(full), "Lighthouse blocked this call [git.push-force, risk high]: %s.", reason);
            if (rl > LH_HOOK_REASON_MAX || rl + w <= LH_HOOK_REASON_MAX || strncmp(r, full, rl) || !lh_utf8_valid(r, rl))
                fail_msg("char %zu shift %d: a reason of %zu bytes", c, shift, rl);
            free(r);
        }
    }
    /* exactly LH_HOOK_REASON_MAX bytes: kept whole */
    size_t head = strlen("Lighthouse blocked this call [git.push-force, risk high]: ");
    memset(reason, 'y', LH_HOOK_REASON_MAX - head - 1);
    reason[LH_HOOK_REASON_MAX - head - 1] = 0;
    lh_decision d = hookDecision(LH_DENY, reason, NULL);
    assert_true(lh_decision_to_hook_json(&d, NULL, 0, out, sizeof(out), NULL) > 0);
    char *r = hookReason(out, "deny");
    assert_int_equal(strlen(r), LH_HOOK_REASON_MAX);
    assert_int_equal(r[LH_HOOK_REASON_MAX - 1], '.');
    free(r);
}

/* The built-in bundle's revision is hashed at build time; it must be the revision the
 * same bytes get when parsed at run time. */
/* A recursive function whose body has a command of 100 redirections, called with 16
 * arguments: judged once per argument at each of 4 call levels, it reached the step budget
 * one command at a time (5.8 s for 1,100 bytes; fuzz_hook found a 0.5 s case). A command
 * now costs a step per word and redirection. The bound is on this thread's CPU time, not
 * the wall clock: about 0.1 s here (-O2), 60x the bound before the fix. */
static double threadCpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_recursive_function_budget_is_bounded(void **st) {
    (void)st;
    char cmd[2048];
    size_t o = (size_t)snprintf(cmd, sizeof(cmd), "f() { echo x");
    for (int i = 0; i < 100; i++) o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " >>o%d.log", i);
    char args[128];
    size_t ao = 0;
    for (int i = 0; i < 16; i++) ao += (size_t)snprintf(args + ao, sizeof(args) - ao, " a%d", i);
    o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "; f%s; }; f%s", args, args);
    assert_true(o < sizeof(cmd));
    lh_request r = bash(cmd);
    double t0 = threadCpu();
    lh_decision d = decide(&r, 0);
    double dt = threadCpu() - t0;
#if defined(__SANITIZE_ADDRESS__)
    const double bound = 4.0;   /* ASan and UBSan at -O1: about 15x slower */
#else
    const double bound = 1.0;
#endif
    print_message("recursive function: %.3f s of CPU, %u steps, %s %s\n", dt, d.steps,
                  lh_action_name(d.action), d.rule);
    assert_true(dt < bound);
    assert_int_equal(d.action, LH_ESCALATE);   /* over the budget: not judged whole */
    assert_string_equal(d.rule, "engine.budget");
}

/* A command word that is a variable (`x=true; $x; $x; …`) is looked up by a scan of the
 * whole script: 4,000 of them in a 4,000-command script were 16 million command visits
 * (2 s of CPU at -O2) for one step each. A scan now costs a step per 16 commands, and the
 * budget ends it. */
static void test_variable_lookups_are_charged(void **st) {
    (void)st;
    enum { N = 4000 };
    static char cmd[8 + N * 4 + 1];
    size_t o = (size_t)snprintf(cmd, sizeof(cmd), "x=true; ");
    for (int i = 0; i < N; i++) { memcpy(cmd + o, "$x; ", 4); o += 4; }
    cmd[o] = 0;
    lh_request r = bash(cmd);
    double t0 = threadCpu();
    lh_decision d = decide(&r, 0);
    double dt = threadCpu() - t0;
#if defined(__SANITIZE_ADDRESS__)
    const double bound = 2.0;
#else
    const double bound = 0.5;
#endif
    print_message("variable lookups: %.3f s of CPU, %u steps, %s %s\n", dt, d.steps,
                  lh_action_name(d.action), d.rule);
    assert_true(dt < bound);
    assert_int_equal(d.action, LH_ESCALATE);   /* the $x past the budget stay unresolved */
    assert_true(d.steps > 200000);
}

static void test_default_revision_matches_content(void **st) {
    lh_policy *d = lh_policy_default();
    lh_policy *p = lh_policy_parse(lh_default_policy_yaml, lh_default_policy_yaml_len, "x", NULL, 0, NULL);
    assert_non_null(d);
    assert_non_null(p);
    assert_string_equal(lh_policy_revision(d), lh_policy_revision(p));
    assert_int_equal(strncmp(lh_policy_revision(d), "sha256:", 7), 0);
    assert_int_equal(strlen(lh_policy_revision(d)), 7 + 16);
    lh_policy_free(d);
    lh_policy_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parse_native, reset),
        cmocka_unit_test_setup(test_parse_hook_payload, reset),
        cmocka_unit_test_setup(test_parse_errors, reset),
        cmocka_unit_test_setup(test_fork_bomb_denied, reset),
        cmocka_unit_test_setup(test_parse_error_never_allows, reset),
        cmocka_unit_test_setup(test_bounds_deny, reset),
        cmocka_unit_test_setup(test_bad_bytes_deny, reset),
        cmocka_unit_test_setup(test_dynamic_command_escalates, reset),
        cmocka_unit_test_setup(test_reason_is_utf8, reset),
        cmocka_unit_test_setup(test_unknown_tool_escalates, reset),
        cmocka_unit_test_setup(test_mcp_args_parse_and_cache, reset),
        cmocka_unit_test_setup(test_self_paths_from_config, reset),
        cmocka_unit_test_setup(test_inline_code_delete, reset),
        cmocka_unit_test_setup(test_explain_keeps_parse, reset),
        cmocka_unit_test_setup(test_cache_hits_and_keys, reset),
        cmocka_unit_test_setup(test_decision_json_contract, reset),
        cmocka_unit_test_setup(test_json_escape_is_janssons, reset),
        cmocka_unit_test_setup(test_decision_json_sorted, reset),
        cmocka_unit_test_setup(test_hook_output_shapes, reset),
        cmocka_unit_test_setup(test_hook_output_escapes, reset),
        cmocka_unit_test_setup(test_hook_output_reason_cap, reset),
        cmocka_unit_test_setup(test_default_revision_matches_content, reset),
        cmocka_unit_test_setup(test_recursive_function_budget_is_bounded, reset),
        cmocka_unit_test_setup(test_variable_lookups_are_charged, reset),
    };
    return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}

/* fuzz_mcp.c — libFuzzer target: bytes as one MCP message (a JSON-RPC message or batch) to
 * the MCP core (src/mcp/), as both transports hand it over. The first byte picks the
 * session: not initialized, 2025-11-25, or 2025-03-26 (the revision with batches). The
 * tools' API calls go to a function that answers a fixed reply (200 or 404 by the path), so
 * every tool's argument checks, path building and reply handling run without a bridge.
 * Checks: a reply, when there is one, is JSON; each reply object is JSON-RPC 2.0 with
 * exactly one of result and error, an error with an integer code and a string message, and
 * a batch's reply a non-empty array of those; a parse failure always has its -32700 reply. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/mcp.h"

static int fakeCall(void *ctx, const char *method, const char *path, const char *body, size_t len, int wait_s,
                    lh_mcp_reply *out, char *err, size_t errlen) {
    if (strlen(path) % 7 == 6) { snprintf(err, errlen, "unreachable"); return -1; }
    const char *reply = strlen(path) % 2 ? "{\"error\":{\"code\":\"not_found\",\"message\":\"no route\"}}"
                                         : "{\"decision\":\"allow\",\"seq\":1}";
    out->status = strlen(path) % 2 ? 404 : 200;
    out->body = strdup(reply);
    out->len = strlen(reply);
    return out->body ? 0 : -1;
}

static void checkReply(json_t *r) {
    if (!json_is_object(r)) abort();
    if (strcmp(json_string_value(json_object_get(r, "jsonrpc")) ? json_string_value(json_object_get(r, "jsonrpc")) : "",
               "2.0"))
        abort();
    json_t *res = json_object_get(r, "result"), *err = json_object_get(r, "error");
    if (!res == !err) abort();
    if (err && (!json_is_integer(json_object_get(err, "code")) || !json_is_string(json_object_get(err, "message"))))
        abort();
    if (res && !json_is_object(res)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    lh_mcp_session s;
    memset(&s, 0, sizeof(s));
    if (data[0] % 3) snprintf(s.version, sizeof(s.version), "%s", data[0] % 3 == 1 ? LH_MCP_LATEST : "2025-03-26");
    lh_mcp_env env = {.call = fakeCall, .ctx = NULL, .default_cwd = data[0] & 4 ? "/home/dev/project" : NULL};
    lh_mcp_info info;
    char *out = NULL;
    size_t n = 0;
    json_t *m = lh_mcp_parse((const char *)data + 1, size - 1, &info, &out, &n);
    if (!m && !out) abort();   /* a parse failure always has its reply */
    if (m) out = lh_mcp_answer(m, &s, &env, &n);
    if (!out) return 0;
    json_t *j = json_loadb(out, n, 0, NULL);
    if (!j) abort();
    if (json_is_array(j)) {
        if (json_array_size(j) == 0) abort();
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e) checkReply(e);
    } else {
        checkReply(j);
    }
    json_decref(j);
    free(out);
    return 0;
}

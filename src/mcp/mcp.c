/* mcp.c — the MCP core's JSON-RPC side (see mcp.h): parse a message, check it is a valid
 * JSON-RPC 2.0 request, notification or response, and answer the lifecycle methods
 * (initialize, notifications/initialized, ping) and tools/list and tools/call (the tools
 * themselves are in mcp_tools.c). No I/O here: the transports read and write. */
#include "mcp/mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/mcp_int.h"
#include "version.h"

static const char *const versions[] = {LH_MCP_LATEST, "2025-06-18", "2025-03-26"};

int lh_mcp_version_supported(const char *v) {
    for (size_t i = 0; v && i < sizeof(versions) / sizeof(versions[0]); i++)
        if (!strcmp(v, versions[i])) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Replies                                                                          */
/* ------------------------------------------------------------------------------ */

static char *dump(json_t *j, size_t *outlen) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    *outlen = s ? strlen(s) : 0;
    return s;
}

/* {"jsonrpc":"2.0","id":id,"error":{...}}; id is borrowed (NULL: null). */
static json_t *errorObj(json_t *id, int code, const char *message) {
    return json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code", code,
                     "message", message);
}

static json_t *resultObj(json_t *id, json_t *result) {
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

char *lh_mcp_error_reply(int code, const char *message, size_t *outlen) {
    return dump(errorObj(NULL, code, message), outlen);
}

/* ------------------------------------------------------------------------------ */
/* Parsing and classifying                                                          */
/* ------------------------------------------------------------------------------ */

static int isRequest(json_t *m) {
    return json_is_object(m) && json_object_get(m, "method") && json_object_get(m, "id");
}

static void describe(json_t *m, lh_mcp_info *info) {
    if (!isRequest(m)) return;
    info->requests++;
    const char *method = json_string_value(json_object_get(m, "method"));
    if (method && !strcmp(method, "initialize")) info->initialize++;
    if (method && !strcmp(method, "tools/call")) info->tool_calls++;
}

json_t *lh_mcp_parse(const char *text, size_t len, lh_mcp_info *info, char **out, size_t *outlen) {
    memset(info, 0, sizeof(*info));
    *out = NULL;
    *outlen = 0;
    if (len > LH_MCP_MAX_MESSAGE) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Parse error: a message is at most %u bytes", LH_MCP_MAX_MESSAGE);
        *out = lh_mcp_error_reply(LH_RPC_PARSE_ERROR, msg, outlen);
        return NULL;
    }
    json_error_t je;
    /* jansson bounds nesting itself (2048 levels) and refuses invalid UTF-8 and NUL. */
    json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!m) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Parse error: %s (line %d, column %d)", je.text, je.line, je.column);
        *out = lh_mcp_error_reply(LH_RPC_PARSE_ERROR, msg, outlen);
        return NULL;
    }
    if (json_is_array(m)) {
        info->batch = 1;
        size_t i;
        json_t *e;
        json_array_foreach(m, i, e) describe(e, info);
    } else {
        describe(m, info);
    }
    return m;
}

/* ------------------------------------------------------------------------------ */
/* Methods                                                                          */
/* ------------------------------------------------------------------------------ */

static const char instructions[] =
    "Lighthouse validates an AI agent's tool calls before they run. Call validate with a shell command (or a "
    "tool and its input) and a cwd before you run it: the decision is allow, deny or escalate, with the rule "
    "and a reason. Experts list and decide escalations; agents ask each other questions with elicitation_create "
    "and answer them with elicitation_respond; events_query reads the audit log (expert and admin tokens).";

/* initialize: negotiate the revision (the client's if this server speaks it, else the
 * latest) and declare the tools capability. */
static json_t *doInitialize(json_t *id, json_t *params, lh_mcp_session *s) {
    if (s->version[0]) return errorObj(id, LH_RPC_INVALID_REQUEST, "Invalid Request: the session is already initialized");
    const char *want = json_string_value(json_object_get(params, "protocolVersion"));
    if (!want) return errorObj(id, LH_RPC_INVALID_PARAMS, "Invalid params: initialize needs protocolVersion (a string)");
    json_t *caps = json_object_get(params, "capabilities"), *ci = json_object_get(params, "clientInfo");
    if ((caps && !json_is_object(caps)) || (ci && !json_is_object(ci)))
        return errorObj(id, LH_RPC_INVALID_PARAMS, "Invalid params: capabilities and clientInfo must be objects");
    const char *v = lh_mcp_version_supported(want) ? want : LH_MCP_LATEST;
    snprintf(s->version, sizeof(s->version), "%s", v);
    json_t *r = json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s,s:s},s:s}", "protocolVersion", v, "capabilities", "tools",
                          "listChanged", 0, "serverInfo", "name", "lighthouse", "title", "Lighthouse validation bridge",
                          "version", LH_VERSION, "instructions", instructions);
    return resultObj(id, r);
}

static json_t *doToolsCall(json_t *id, json_t *params, const lh_mcp_env *env) {
    const char *name = json_string_value(json_object_get(params, "name"));
    if (!name) return errorObj(id, LH_RPC_INVALID_PARAMS, "Invalid params: tools/call needs name (a string)");
    if (!env) return errorObj(id, LH_RPC_INTERNAL, "Internal error: no way to the bridge here");
    const lh_mcp_tool *t = lh_mcp_tool_find(name);
    if (!t) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Invalid params: unknown tool %.200s (tools/list names them)", name);
        return errorObj(id, LH_RPC_INVALID_PARAMS, msg);
    }
    json_t *args = json_object_get(params, "arguments");
    if (args && !json_is_object(args) && !json_is_null(args))
        return errorObj(id, LH_RPC_INVALID_PARAMS, "Invalid params: arguments must be an object");
    json_t *empty = json_object();
    json_t *res = lh_mcp_tool_run(t, json_is_object(args) ? args : empty, env);
    json_decref(empty);
    if (!res) return errorObj(id, LH_RPC_INTERNAL, "Internal error: out of memory");
    return resultObj(id, res);
}

/* One request: its reply object (new reference). */
static json_t *answerRequest(json_t *m, const char *method, json_t *id, lh_mcp_session *s, const lh_mcp_env *env,
                             int inBatch) {
    json_t *params = json_object_get(m, "params");
    if (params && !json_is_object(params))
        return errorObj(id, LH_RPC_INVALID_PARAMS, "Invalid params: params must be an object");
    json_t *none = json_object();
    json_t *p = params ? params : none, *r;
    if (!strcmp(method, "initialize"))
        r = inBatch ? errorObj(id, LH_RPC_INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch")
                    : doInitialize(id, p, s);
    else if (!strcmp(method, "ping"))
        r = resultObj(id, json_object());
    else if (!s->version[0])
        r = errorObj(id, LH_RPC_INVALID_REQUEST, "Invalid Request: the session is not initialized; send initialize first");
    else if (!strcmp(method, "tools/list"))
        r = resultObj(id, json_pack("{s:o}", "tools", lh_mcp_tools_list()));
    else if (!strcmp(method, "tools/call"))
        r = doToolsCall(id, p, env);
    else {
        char msg[300];
        snprintf(msg, sizeof(msg), "Method not found: %.200s (this server has tools only)", method);
        r = errorObj(id, LH_RPC_METHOD_NOT_FOUND, msg);
    }
    json_decref(none);
    return r;
}

/* One element: its reply, or NULL for a notification or a response (nothing to send). */
static json_t *answerOne(json_t *m, lh_mcp_session *s, const lh_mcp_env *env, int inBatch) {
    if (!json_is_object(m)) return errorObj(NULL, LH_RPC_INVALID_REQUEST, "Invalid Request: a message is a JSON object");
    json_t *id = json_object_get(m, "id"), *method = json_object_get(m, "method");
    if (!json_is_string(json_object_get(m, "jsonrpc")) || strcmp(json_string_value(json_object_get(m, "jsonrpc")), "2.0"))
        return errorObj(json_is_string(id) || json_is_integer(id) ? id : NULL, LH_RPC_INVALID_REQUEST,
                        "Invalid Request: jsonrpc must be \"2.0\"");
    if (!method) {
        /* A response to a request of ours: this server sends none, so it is dropped. */
        if (id && (json_object_get(m, "result") || json_object_get(m, "error"))) return NULL;
        return errorObj(json_is_string(id) || json_is_integer(id) ? id : NULL, LH_RPC_INVALID_REQUEST,
                        "Invalid Request: no method");
    }
    if (id && !json_is_string(id) && !json_is_integer(id))
        return errorObj(NULL, LH_RPC_INVALID_REQUEST, "Invalid Request: id must be a string or an integer");
    if (!json_is_string(method))
        return id ? errorObj(id, LH_RPC_INVALID_REQUEST, "Invalid Request: method must be a string") : NULL;
    const char *name = json_string_value(method);
    if (!id) {   /* a notification: never answered */
        if (!strcmp(name, "notifications/initialized") && s->version[0]) s->initialized = 1;
        return NULL;
    }
    return answerRequest(m, name, id, s, env, inBatch);
}

char *lh_mcp_answer(json_t *msg, lh_mcp_session *s, const lh_mcp_env *env, size_t *outlen) {
    *outlen = 0;
    json_t *reply = NULL;
    if (!json_is_array(msg)) {
        reply = answerOne(msg, s, env, 0);
    } else if (json_array_size(msg) == 0) {
        reply = errorObj(NULL, LH_RPC_INVALID_REQUEST, "Invalid Request: an empty batch");
    } else if (strcmp(s->version, "2025-03-26")) {
        char m[160];
        snprintf(m, sizeof(m), "Invalid Request: JSON-RPC batches are part of revision 2025-03-26 only (this session: %s)",
                 s->version[0] ? s->version : "not initialized");
        reply = errorObj(NULL, LH_RPC_INVALID_REQUEST, m);
    } else if (json_array_size(msg) > LH_MCP_MAX_BATCH) {
        char m[96];
        snprintf(m, sizeof(m), "Invalid Request: a batch has at most %d messages", LH_MCP_MAX_BATCH);
        reply = errorObj(NULL, LH_RPC_INVALID_REQUEST, m);
    } else {
        reply = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(msg, i, e) {
            json_t *r = answerOne(e, s, env, 1);
            if (r) json_array_append_new(reply, r);
        }
        if (json_array_size(reply) == 0) { json_decref(reply); reply = NULL; }
    }
    json_decref(msg);
    return reply ? dump(reply, outlen) : NULL;
}

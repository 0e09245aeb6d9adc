/* mcp_tools.c — the MCP tools (docs/mcp.md, "Tools"): each checks its arguments against its
 * input schema, turns them into one call of the bridge's HTTP API (docs/api.md) made as the
 * caller, and turns the reply into a CallToolResult: the reply's JSON object as
 * structuredContent and as text; an API error (4xx/5xx) or an unreachable bridge is a
 * result with isError true whose text names the status, the error code and the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/mcp_int.h"

#define WAIT_VALIDATE_MAX 300   /* POST /v1/validate?wait= (contract: min(wait, 300)) */
#define WAIT_LIST_MAX 60        /* the long-polls of escalations and elicitations */

typedef struct call {
    const char *method;
    char path[1024];
    json_t *body;          /* POST body (owned), or NULL */
    int wait_s;
} call;

/* Fill c from args (already checked against the schema); or return a message (into msg)
 * and -1 when the arguments are wrong in a way the schema cannot say. */
typedef int (*buildFn)(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen);

struct lh_mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    const char *schema;    /* the inputSchema, JSON */
    int readonly;          /* annotations.readOnlyHint */
    buildFn build;
};

/* ------------------------------------------------------------------------------ */
/* Argument helpers                                                                 */
/* ------------------------------------------------------------------------------ */

static const char *str(json_t *args, const char *k) { return json_string_value(json_object_get(args, k)); }

static int has(json_t *args, const char *k) { return json_object_get(args, k) != NULL; }

static long long num(json_t *args, const char *k, long long dflt) {
    json_t *v = json_object_get(args, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* An id goes into the path: only the characters ids are made of. */
static int idOk(const char *id, char *msg, size_t msglen) {
    size_t n = strlen(id);
    if (n == 0 || n > 128 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n ||
        !strcmp(id, ".") || !strcmp(id, "..")) {
        snprintf(msg, msglen, "id must be 1 to 128 letters, digits, '-', '_' or '.' (as esc-0123… or eli-0123…)");
        return 0;
    }
    return 1;
}

/* Append "&k=v" (or "?k=v" first) to c->path, v percent-encoded. */
static void query(call *c, const char *k, const char *v) {
    size_t n = strlen(c->path);
    char *p = c->path + n, *end = c->path + sizeof(c->path) - 4;
    if (p + strlen(k) + 2 >= end) return;
    p += sprintf(p, "%c%s=", strchr(c->path, '?') ? '&' : '?', k);
    for (const unsigned char *s = (const unsigned char *)v; *s && p < end; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.~", *s))
            *p++ = (char)*s;
        else
            p += sprintf(p, "%%%02X", *s);
    }
    *p = 0;
}

static void queryInt(call *c, const char *k, long long v) {
    char b[24];
    snprintf(b, sizeof(b), "%lld", v);
    query(c, k, b);
}

/* ------------------------------------------------------------------------------ */
/* The tools                                                                        */
/* ------------------------------------------------------------------------------ */

static int buildValidate(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    int hasCmd = has(args, "command"), hasTool = has(args, "tool");
    if (hasCmd == hasTool) {
        snprintf(msg, msglen, "give either command (a shell command) or tool with input, not %s",
                 hasCmd ? "both" : "neither");
        return -1;
    }
    if (hasTool && !has(args, "input")) {
        snprintf(msg, msglen, "tool %s needs its input (an object, as the agent would pass it)", str(args, "tool"));
        return -1;
    }
    if (hasCmd && has(args, "input")) {
        snprintf(msg, msglen, "input goes with tool; a command is checked as the Bash tool");
        return -1;
    }
    const char *cwd = has(args, "cwd") ? str(args, "cwd") : env->default_cwd;
    if (!cwd) {
        snprintf(msg, msglen, "cwd is required here: the absolute directory the call runs in");
        return -1;
    }
    c->method = "POST";
    snprintf(c->path, sizeof(c->path), "/v1/validate");
    c->wait_s = (int)num(args, "wait", 0);
    if (c->wait_s > 0) queryInt(c, "wait", c->wait_s);
    if (hasCmd)
        c->body = json_pack("{s:s,s:{s:O},s:s}", "tool", "Bash", "input", "command", json_object_get(args, "command"),
                            "cwd", cwd);
    else
        c->body = json_pack("{s:O,s:O,s:s}", "tool", json_object_get(args, "tool"), "input",
                            json_object_get(args, "input"), "cwd", cwd);
    if (c->body && has(args, "session")) json_object_set(c->body, "session", json_object_get(args, "session"));
    return 0;
}

static int buildEscList(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    c->method = "GET";
    snprintf(c->path, sizeof(c->path), "/v1/escalations");
    query(c, "state", has(args, "state") ? str(args, "state") : "pending");
    c->wait_s = (int)num(args, "wait", 0);
    if (c->wait_s > 0) queryInt(c, "wait", c->wait_s);
    if (has(args, "limit")) queryInt(c, "limit", num(args, "limit", 0));
    if (has(args, "claim")) {
        if (has(args, "state") && strcmp(str(args, "state"), "pending")) {
            snprintf(msg, msglen, "claim goes with state pending (a claim is on work still to do)");
            return -1;
        }
        queryInt(c, "claim", num(args, "claim", 0));
    }
    return 0;
}

static int buildEscGet(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    if (!idOk(str(args, "id"), msg, msglen)) return -1;
    c->method = "GET";
    snprintf(c->path, sizeof(c->path), "/v1/escalations/%s", str(args, "id"));
    return 0;
}

static int buildEscDecide(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    if (!idOk(str(args, "id"), msg, msglen)) return -1;
    c->method = "POST";
    snprintf(c->path, sizeof(c->path), "/v1/escalations/%s/verdict", str(args, "id"));
    c->body = json_pack("{s:O,s:O}", "decision", json_object_get(args, "decision"), "reason",
                        json_object_get(args, "reason"));
    return 0;
}

static int buildEliCreate(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    c->method = "POST";
    snprintf(c->path, sizeof(c->path), "/v1/elicitations");
    c->body = json_deep_copy(args);   /* to, message, schema, expires_in_s: the API's own names */
    return 0;
}

static int buildEliList(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    c->method = "GET";
    snprintf(c->path, sizeof(c->path), "/v1/elicitations?for=me&state=pending");
    c->wait_s = (int)num(args, "wait", 0);
    if (c->wait_s > 0) queryInt(c, "wait", c->wait_s);
    return 0;
}

static int buildEliGet(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    if (!idOk(str(args, "id"), msg, msglen)) return -1;
    c->method = "GET";
    snprintf(c->path, sizeof(c->path), "/v1/elicitations/%s", str(args, "id"));
    c->wait_s = (int)num(args, "wait", 0);
    if (c->wait_s > 0) queryInt(c, "wait", c->wait_s);
    return 0;
}

static int buildEliRespond(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    if (!idOk(str(args, "id"), msg, msglen)) return -1;
    const char *action = str(args, "action");
    if (strcmp(action, "accept") && has(args, "content")) {
        snprintf(msg, msglen, "content goes with action accept only");
        return -1;
    }
    if (!strcmp(action, "accept") && !has(args, "content")) {
        snprintf(msg, msglen, "action accept needs content: an object that matches the elicitation's schema");
        return -1;
    }
    c->method = "POST";
    snprintf(c->path, sizeof(c->path), "/v1/elicitations/%s/response", str(args, "id"));
    c->body = json_pack("{s:s}", "action", action);
    if (c->body && has(args, "content")) json_object_set(c->body, "content", json_object_get(args, "content"));
    return 0;
}

static int buildEvents(json_t *args, const lh_mcp_env *env, call *c, char *msg, size_t msglen) {
    c->method = "GET";
    snprintf(c->path, sizeof(c->path), "/v1/events");
    if (has(args, "type")) query(c, "type", str(args, "type"));
    if (has(args, "agent")) query(c, "agent", str(args, "agent"));
    if (has(args, "after")) queryInt(c, "after", num(args, "after", 0));
    if (has(args, "limit")) queryInt(c, "limit", num(args, "limit", 0));
    return 0;
}

#define ID_PROP "\"id\":{\"type\":\"string\",\"maxLength\":128,"
#define WAIT_PROP(max, what) \
    "\"wait\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":" #max ",\"description\":\"" what "\"}"

static const lh_mcp_tool tools[] = {
    {"validate", "Validate a tool call",
     "Ask Lighthouse whether a tool call may run, before running it: a shell command (command), or any other "
     "tool with its input (tool + input). The decision is allow, deny or escalate, with the rule that decided, "
     "a reason and often a safer command (instead). With wait, an escalated call waits up to that many seconds "
     "for the experts' verdict.",
     "{\"type\":\"object\",\"properties\":{"
     "\"command\":{\"type\":\"string\",\"maxLength\":262144,\"description\":\"a shell command, checked as the Bash tool\"},"
     "\"tool\":{\"type\":\"string\",\"maxLength\":256,\"description\":\"another tool: Write, Edit, Read, WebFetch, mcp__server__tool, ...\"},"
     "\"input\":{\"type\":\"object\",\"description\":\"the tool's input, as the agent would pass it\"},"
     "\"cwd\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"the absolute directory the call runs in\"},"
     "\"session\":{\"type\":\"string\",\"maxLength\":256,\"description\":\"the agent's session id\"},"
     WAIT_PROP(300, "seconds to wait for the experts when the decision escalates (0: answer at once)")
     "},\"additionalProperties\":false}",
     0, buildValidate},
    {"escalations_list", "List escalations",
     "Escalations for experts to decide (expert and admin tokens). For an expert and state pending: those it has "
     "the capabilities for and has not voted on. With wait, the call returns as soon as one is pending. With "
     "claim (a pool of experts sharing the work), only those that still need an expert, each claimed for this "
     "caller for that many seconds or until its verdict: other claiming calls are not given it meanwhile.",
     "{\"type\":\"object\",\"properties\":{"
     "\"state\":{\"type\":\"string\",\"enum\":[\"pending\",\"decided\",\"expired\",\"all\"],\"description\":\"default pending\"},"
     WAIT_PROP(60, "seconds to wait for a pending escalation (a long-poll)") ","
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000},"
     "\"claim\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600,\"description\":\"seconds to claim each "
     "escalation returned (state pending only); ask with limit 1 to claim one at a time\"}"
     "},\"additionalProperties\":false}",
     1, buildEscList},
    {"escalation_get", "Get an escalation",
     "One escalation: its state, the request and its context (parsed command, path classes, findings, the "
     "agent's recent decisions), the verdicts so far and the final decision.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP "\"description\":\"esc-...\"}},\"required\":[\"id\"],"
     "\"additionalProperties\":false}",
     1, buildEscGet},
    {"escalation_decide", "Decide an escalation",
     "Give an expert's verdict on a pending escalation: allow or deny, with a reason the agent and the audit log "
     "will show. A quorum of allows is needed; any deny decides at once.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP "\"description\":\"esc-...\"},"
     "\"decision\":{\"type\":\"string\",\"enum\":[\"allow\",\"deny\"]},"
     "\"reason\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2000}"
     "},\"required\":[\"id\",\"decision\",\"reason\"],\"additionalProperties\":false}",
     0, buildEscDecide},
    {"elicitation_create", "Ask another agent",
     "Ask another agent a question, with a JSON schema for the answer (an object of flat string, number, "
     "integer and boolean properties). Poll the answer with elicitation_get.",
     "{\"type\":\"object\",\"properties\":{"
     "\"to\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,\"description\":\"the agent asked\"},"
     "\"message\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192},"
     "\"schema\":{\"type\":\"object\",\"description\":\"the answer's schema: {type: object, properties, required}\"},"
     "\"expires_in_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600,\"description\":\"default 300\"}"
     "},\"required\":[\"to\",\"message\",\"schema\"],\"additionalProperties\":false}",
     0, buildEliCreate},
    {"elicitations_list", "List questions for me",
     "The pending questions other agents asked this agent. With wait, the call returns as soon as one is pending.",
     "{\"type\":\"object\",\"properties\":{" WAIT_PROP(60, "seconds to wait for a question (a long-poll)")
     "},\"additionalProperties\":false}",
     1, buildEliList},
    {"elicitation_get", "Get a question",
     "One elicitation (asker, addressee or admin): its state and, once accepted, the answer. With wait, the call "
     "returns as soon as it is no longer pending.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP "\"description\":\"eli-...\"},"
     WAIT_PROP(60, "seconds to wait for the answer") "},\"required\":[\"id\"],\"additionalProperties\":false}",
     1, buildEliGet},
    {"elicitation_respond", "Answer a question",
     "Answer a question asked of this agent (accept with content that matches its schema, or decline), or cancel "
     "a question this agent asked.",
     "{\"type\":\"object\",\"properties\":{" ID_PROP "\"description\":\"eli-...\"},"
     "\"action\":{\"type\":\"string\",\"enum\":[\"accept\",\"decline\",\"cancel\"]},"
     "\"content\":{\"type\":\"object\",\"description\":\"the answer, with accept\"}"
     "},\"required\":[\"id\",\"action\"],\"additionalProperties\":false}",
     0, buildEliRespond},
    {"events_query", "Query the audit log",
     "Read the audit log (expert and admin tokens), oldest first, paged by seq: pass the reply's next_after as "
     "after for the next page.",
     "{\"type\":\"object\",\"properties\":{"
     "\"type\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"decision.made, escalation.created, ...\"},"
     "\"agent\":{\"type\":\"string\",\"maxLength\":256},"
     "\"after\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"only events with a larger seq\"},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":\"default 100\"}"
     "},\"additionalProperties\":false}",
     1, buildEvents},
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

const lh_mcp_tool *lh_mcp_tool_find(const char *name) {
    for (size_t i = 0; i < NTOOLS; i++)
        if (!strcmp(tools[i].name, name)) return &tools[i];
    return NULL;
}

json_t *lh_mcp_tools_list(void) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < NTOOLS; i++) {
        json_t *schema = json_loads(tools[i].schema, 0, NULL);
        if (!schema) { json_decref(arr); return NULL; }   /* a typo in the table: tests/unit catch it */
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:{s:b}}", "name", tools[i].name, "title", tools[i].title,
                                             "description", tools[i].description, "inputSchema", schema,
                                             "annotations", "readOnlyHint", tools[i].readonly));
    }
    return arr;
}

/* ------------------------------------------------------------------------------ */
/* Checking arguments against the schema                                            */
/* ------------------------------------------------------------------------------ */

/* The keywords the table uses: type, enum, minimum, maximum, minLength, maxLength, required,
 * additionalProperties false. Returns 0, or -1 with what is wrong in msg. */
static int checkArgs(json_t *schema, json_t *args, char *msg, size_t msglen) {
    json_t *props = json_object_get(schema, "properties");
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v) {
        json_t *p = json_object_get(props, k);
        if (!p) {
            char names[512] = "";
            const char *pk;
            json_t *pv;
            json_object_foreach(props, pk, pv) {
                size_t n = strlen(names);
                snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", pk);
            }
            snprintf(msg, msglen, "unknown argument %.100s (this tool takes: %s)", k, names);
            return -1;
        }
        const char *type = json_string_value(json_object_get(p, "type"));
        int ok = !strcmp(type, "string")    ? json_is_string(v)
                 : !strcmp(type, "integer") ? json_is_integer(v)
                 : !strcmp(type, "object")  ? json_is_object(v)
                 : !strcmp(type, "boolean") ? json_is_boolean(v)
                                            : json_is_number(v);
        if (!ok) { snprintf(msg, msglen, "argument %s must be of type %s", k, type); return -1; }
        json_t *en = json_object_get(p, "enum");
        if (en) {
            size_t i;
            json_t *e;
            int found = 0;
            json_array_foreach(en, i, e) found |= json_equal(e, v);
            if (!found) {
                char *list = json_dumps(en, JSON_COMPACT);
                snprintf(msg, msglen, "argument %s must be one of %s", k, list ? list : "its enum");
                free(list);
                return -1;
            }
        }
        json_t *lo = json_object_get(p, "minimum"), *hi = json_object_get(p, "maximum");
        if (json_is_integer(v) && ((lo && json_integer_value(v) < json_integer_value(lo)) ||
                                   (hi && json_integer_value(v) > json_integer_value(hi)))) {
            if (hi) snprintf(msg, msglen, "argument %s must be %lld to %lld", k, (long long)json_integer_value(lo),
                             (long long)json_integer_value(hi));
            else snprintf(msg, msglen, "argument %s must be at least %lld", k, (long long)json_integer_value(lo));
            return -1;
        }
        json_t *minl = json_object_get(p, "minLength"), *maxl = json_object_get(p, "maxLength");
        if (json_is_string(v) && ((minl && json_string_length(v) < (size_t)json_integer_value(minl)) ||
                                  (maxl && json_string_length(v) > (size_t)json_integer_value(maxl)))) {
            snprintf(msg, msglen, "argument %s must be %lld to %lld bytes", k,
                     minl ? (long long)json_integer_value(minl) : 0LL,
                     maxl ? (long long)json_integer_value(maxl) : (long long)LH_MCP_MAX_MESSAGE);
            return -1;
        }
    }
    size_t i;
    json_array_foreach(json_object_get(schema, "required"), i, v) {
        if (!json_object_get(args, json_string_value(v))) {
            snprintf(msg, msglen, "argument %s is required", json_string_value(v));
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Running a tool                                                                   */
/* ------------------------------------------------------------------------------ */

static json_t *errorResult(const char *text) {
    return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError", 1);
}

/* The API's reply as a tool result. */
static json_t *replyResult(const call *c, const lh_mcp_reply *r) {
    json_t *j = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    if (r->status >= 200 && r->status < 300 && json_is_object(j)) {
        char *text = json_dumps(j, JSON_COMPACT);
        json_t *res = json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text", "text", text ? text : "{}",
                                "structuredContent", j, "isError", 0);
        free(text);
        return res;
    }
    char text[2600];
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (code)
        snprintf(text, sizeof(text), "%s %.400s: HTTP %d %.60s: %.2000s", c->method, c->path, r->status, code,
                 message ? message : "");
    else
        snprintf(text, sizeof(text), "%s %.400s: HTTP %d: %.2000s", c->method, c->path, r->status,
                 r->body ? r->body : "");
    json_decref(j);
    return errorResult(text);
}

json_t *lh_mcp_tool_run(const lh_mcp_tool *t, json_t *args, const lh_mcp_env *env) {
    char msg[1024];
    json_t *schema = json_loads(t->schema, 0, NULL);
    if (!schema) return NULL;
    int bad = checkArgs(schema, args, msg, sizeof(msg));
    json_decref(schema);
    if (bad) return errorResult(msg);
    call c = {0};
    if (t->build(args, env, &c, msg, sizeof(msg))) return errorResult(msg);
    char *body = c.body ? json_dumps(c.body, JSON_COMPACT) : NULL;
    json_decref(c.body);
    if (!strcmp(c.method, "POST") && !body) return NULL;
    lh_mcp_reply r = {0};
    char err[512];
    json_t *res;
    if (env->call(env->ctx, c.method, c.path, body, body ? strlen(body) : 0, c.wait_s, &r, err, sizeof(err))) {
        snprintf(msg, sizeof(msg), "%s %.400s: the bridge could not be reached: %.500s", c.method, c.path, err);
        res = errorResult(msg);
    } else {
        res = replyResult(&c, &r);
    }
    free(r.body);
    free(body);
    return res;
}

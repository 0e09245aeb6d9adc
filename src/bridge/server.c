/* server.c — the bridge daemon: libmicrohttpd set-up, the request state machine
 * (route → method → auth → limits → body → handler), the worker threads' states and the
 * lifecycle (start, SIGHUP reload, SIGTERM drain, stop). It creates every module's handle
 * and wires them: the SLA monitor's host operations and the revisions' observer. It owns
 * ts_mu, draining and inflight (struct lh_server); every other lock and atomic is a
 * module's own (docs/architecture.md, "The bridge's modules, threads and locks").
 *
 * Threads: MHD runs a pool of epoll worker threads (cfg.workers). A worker decides,
 * suspends the connection and hands the decision.made event to the store without waiting
 * (appender.c, lh_store_append_async); the store's writer thread commits it with its group
 * (one fsync) and resumes the connection for the reply. */
#include "bridge/bridge_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bridge/appender.h"
#include "bridge/console.h"
#include "bridge/elicitations.h"
#include "bridge/engines.h"
#include "bridge/escalations.h"
#include "bridge/experts.h"
#include "bridge/mcp_http.h"
#include "bridge/revisions.h"
#include "bridge/revwatch.h"
#include "bridge/sessions.h"
#include "bridge/sla_monitor.h"
#include "bridge/sse.h"
#include "bridge/shadows.h"
#include "bridge/annotations.h"
#include "engine/policy.h"
#include "util/io.h"
#include "version.h"

/* What server.c alone owns: the worker threads' states, and the drain. */
struct lh_server {
    pthread_mutex_t ts_mu;         /* guards threads (a thread's first request adds its state) */
    lh_tstate *threads;
    _Atomic int draining;          /* the stop began: new requests get 503, /ready says false */
    _Atomic long inflight;         /* requests begun and not completed */
};

int lh_bridge_draining(lh_bridge *b) { return atomic_load(&b->srv->draining); }

int lh_bridge_append(lh_bridge *b, const char *type, const char *agent, const char *aggregate, const char *data,
                     int64_t *seq, char *err, size_t errlen) {
    lh_event ev = {.type = type, .agent = agent ? agent : "", .aggregate = aggregate ? aggregate : "", .data = data};
    return lh_appender_append(b->appender, &ev, 1, seq, err, errlen);
}

int lh_bridge_ready(lh_bridge *b) { return lh_appender_store_ok(b->appender) && !lh_bridge_draining(b); }

uint64_t lh_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------ */
/* Per-thread state and engine references                                           */
/* ------------------------------------------------------------------------------ */

static _Thread_local lh_tstate *tls;

lh_tstate *lh_bridge_tstate(lh_bridge *b) {
    if (tls && tls->b == b) return tls;
    lh_tstate *ts = calloc(1, sizeof(*ts));
    if (!ts) return NULL;
    ts->b = b;
    ts->arena = lh_arena_new(1 << 16);
    ts->bufcap = 64 << 10;
    ts->buf = malloc(ts->bufcap);
    if (getrandom(&ts->rng, sizeof(ts->rng), 0) != sizeof(ts->rng)) ts->rng = (uint64_t)(uintptr_t)ts ^ lh_mono_ns();
    ts->rng |= 1;
    if (!ts->arena || !ts->buf) {
        lh_arena_free(ts->arena);
        free(ts->buf);
        free(ts);
        return NULL;
    }
    pthread_mutex_lock(&b->srv->ts_mu);
    ts->next = b->srv->threads;
    b->srv->threads = ts;
    pthread_mutex_unlock(&b->srv->ts_mu);
    tls = ts;
    return ts;
}

/* ------------------------------------------------------------------------------ */
/* Replies                                                                          */
/* ------------------------------------------------------------------------------ */

enum MHD_Result lh_http_reply(struct MHD_Connection *c, lh_req *r, int status, const char *ctype,
                              const char *body, size_t len) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (r) r->status = status;
    return rc;
}

static lh_err_kind kindFor(int status) {
    switch (status) {
    case 400: return LH_ERR_BAD_REQUEST;
    case 401: return LH_ERR_AUTH;
    case 403: return LH_ERR_FORBIDDEN;
    case 404: return LH_ERR_NOT_FOUND;
    case 405: return LH_ERR_METHOD;
    case 413: return LH_ERR_TOO_LARGE;
    case 415: return LH_ERR_MEDIA_TYPE;
    case 429: return LH_ERR_RATE_LIMITED;
    case 503: return LH_ERR_STORE;
    default: return LH_ERR_INTERNAL;
    }
}

static enum MHD_Result errorReply(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int status,
                                  const char *code, int retry_after, const char *fmt, va_list ap) {
    char msg[512], esc[3 * 512 + 8], body[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (lh_json_escape(msg, esc, sizeof(esc)) < 0) snprintf(esc, sizeof(esc), "error");
    int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", code, esc);
    if (n < 0 || (size_t)n >= sizeof(body)) n = (int)strlen(body);
    lh_metrics_error(b->m, kindFor(status));
    struct MHD_Response *resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"lighthouse\"");
    if (status == 503 && lh_bridge_draining(b)) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status == 405) {
        const char *allow = "GET";
        if (r && (r->route == LH_ROUTE_VALIDATE || r->route == LH_ROUTE_HOOK || r->route == LH_ROUTE_OPA ||
                  r->route == LH_ROUTE_ROLLBACK || r->route == LH_ROUTE_SHADOWS ||
                  r->route == LH_ROUTE_EXPERTS_REGISTER || r->route == LH_ROUTE_EXPERTS_LEAVE ||
                  r->route == LH_ROUTE_ESCALATION_VERDICT))
            allow = "POST";
        else if (r && r->route == LH_ROUTE_ANNOTATIONS) allow = "GET, POST";
        else if (r && r->route == LH_ROUTE_ANNOTATION) allow = "GET, DELETE";
        else if (r && r->route == LH_ROUTE_POLICY) allow = "POST";
        else if (r && r->route == LH_ROUTE_MCP) allow = "POST, DELETE";
        else if (r && r->route == LH_ROUTE_ELICITATIONS) allow = "GET, POST";
        else if (r && r->route == LH_ROUTE_ELICITATION) allow = strchr(r->sub, '/') ? "POST" : "GET";
        else if (r && r->route == LH_ROUTE_LOAD_RUNS) allow = "GET, POST";
        MHD_add_response_header(resp, "Allow", allow);
    }
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (r) r->status = status;
    return rc;
}

int lh_http_arg_int(struct MHD_Connection *c, const char *name, int64_t lo, int64_t hi, int64_t *out) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || errno == ERANGE || n < lo || n > hi) return -1;
    *out = n;
    return 0;
}

enum MHD_Result lh_http_error(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int status,
                              const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = errorReply(b, c, r, status, code, 0, fmt, ap);
    va_end(ap);
    return rc;
}

enum MHD_Result lh_http_error_retry(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int status, const char *code,
                                    int retry_after, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = errorReply(b, c, r, status, code, retry_after, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 5, 6)))
static enum MHD_Result rateLimited(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int retry,
                                   const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = errorReply(b, c, r, 429, "rate_limited", retry, fmt, ap);
    va_end(ap);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* The request state machine                                                        */
/* ------------------------------------------------------------------------------ */

typedef struct routeDef {
    const char *path;
    lh_route route;
    int post;          /* 1: POST with a body; 0: GET; M_GET_POST, M_GET_DELETE (r->method says which) */
    unsigned roles;    /* roles allowed; 0: open */
} routeDef;

#define R_B LH_ROLE_BUILDER
#define R_E LH_ROLE_EXPERT
#define R_A LH_ROLE_ADMIN
#define M_GET_POST 3
#define M_GET_DELETE 4

static const routeDef routes[] = {
    {"/v1/validate", LH_ROUTE_VALIDATE, 1, R_B | R_A},
    {"/v1/hooks/claude-code", LH_ROUTE_HOOK, 1, R_B | R_A},
    {"/v1/data/lighthouse/decision", LH_ROUTE_OPA, 1, R_B | R_A},
    {"/v1/events", LH_ROUTE_EVENTS, 0, R_E | R_A},
    {"/v1/events/stream", LH_ROUTE_STREAM, 0, R_E | R_A},
    {"/v1/policy", LH_ROUTE_POLICY, 1, R_A},
    {"/v1/policy/history", LH_ROUTE_POLICY_HISTORY, 0, R_E | R_A},
    {"/v1/policy/rollback", LH_ROUTE_ROLLBACK, 1, R_A},
    {"/v1/status", LH_ROUTE_STATUS, 0, R_E | R_A},
    {"/v1/sla", LH_ROUTE_SLA, 0, R_E | R_A},
    {"/v1/tokens", LH_ROUTE_TOKENS, 1, R_A},
    {"/v1/tokens/revoke", LH_ROUTE_TOKENS_REVOKE, 1, R_A},
    {"/v1/shadows", LH_ROUTE_SHADOWS, 1, R_B | R_A},
    {"/v1/shadows/tree", LH_ROUTE_SHADOWS_TREE, 0, R_E | R_A},
    {"/v1/shadows/file", LH_ROUTE_SHADOWS_FILE, 0, R_E | R_A},
    {"/v1/shadows/history", LH_ROUTE_SHADOWS_HISTORY, 0, R_E | R_A},
    {"/v1/shadows/diff", LH_ROUTE_SHADOWS_DIFF, 0, R_E | R_A},
    {"/v1/annotations", LH_ROUTE_ANNOTATIONS, M_GET_POST, R_E | R_A},
    {"/v1/annotations/", LH_ROUTE_ANNOTATION, M_GET_DELETE, R_E | R_A},   /* a path ending in /: /v1/annotations/{id} */
    {"/health", LH_ROUTE_HEALTH, 0, 0},
    {"/ready", LH_ROUTE_READY, 0, 0},
    {"/metrics", LH_ROUTE_METRICS, 0, 0},
    {"/v1/experts/register", LH_ROUTE_EXPERTS_REGISTER, 1, R_E | R_A},
    {"/v1/experts/leave", LH_ROUTE_EXPERTS_LEAVE, 1, R_E | R_A},
    {"/v1/experts", LH_ROUTE_EXPERTS, 0, R_E | R_A},
    {"/v1/escalations", LH_ROUTE_ESCALATIONS, 0, R_E | R_A},
    {"/v1/escalations/stream", LH_ROUTE_ESCALATIONS_STREAM, 0, R_E | R_A},
    {"/v1/elicitations", LH_ROUTE_ELICITATIONS, M_GET_POST, R_B | R_E | R_A},
    {"/mcp", LH_ROUTE_MCP, 1, R_B | R_E | R_A},   /* methods: lh_mcp_route_headers */
    {"/v1/load/runs", LH_ROUTE_LOAD_RUNS, M_GET_POST, R_E | R_A},   /* POST: admin only (loadruns.c) */
};

/* Routes with an id in the path: /v1/escalations/{id} and /v1/escalations/{id}/verdict. */
static const routeDef escGet = {"/v1/escalations/{id}", LH_ROUTE_ESCALATION, 0, R_B | R_E | R_A};
static const routeDef escVerdict = {"/v1/escalations/{id}/verdict", LH_ROUTE_ESCALATION_VERDICT, 1, R_E | R_A};

/* The {id} of an escalation path into r->rid; its route, or NULL. */
static const routeDef *findIdRoute(const char *url, lh_req *r) {
    static const char pre[] = "/v1/escalations/";
    if (strncmp(url, pre, sizeof(pre) - 1)) return NULL;
    const char *id = url + sizeof(pre) - 1, *slash = strchr(id, '/');
    size_t n = slash ? (size_t)(slash - id) : strlen(id);
    if (n == 0 || n >= sizeof(r->rid) || (slash && strcmp(slash, "/verdict"))) return NULL;
    memcpy(r->rid, id, n);
    r->rid[n] = 0;
    return slash ? &escVerdict : &escGet;
}

/* Routes by prefix: the rest of the URL, which may hold more than an id, goes to lh_req.sub. */
static const routeDef prefixRoutes[] = {
    {"/v1/elicitations/", LH_ROUTE_ELICITATION, M_GET_POST, R_B | R_E | R_A},
};

static int isPrefixRoute(const routeDef *rd) {
    return rd >= prefixRoutes && rd < prefixRoutes + sizeof(prefixRoutes) / sizeof(prefixRoutes[0]);
}

/* The route of url; a path of routes[] ending in "/" takes one more component, an id, into
 * r->rid ("" when it does not fit). */
static const routeDef *findRoute(const char *url, lh_req *r) {
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        if (p[n - 1] == '/') {
            if (strncmp(url, p, n) || !url[n] || strchr(url + n, '/')) continue;
            if (strlen(url + n) < sizeof(r->rid)) snprintf(r->rid, sizeof(r->rid), "%s", url + n);
            return &routes[i];
        }
        if (!strcmp(url, p)) return &routes[i];
    }
    for (size_t i = 0; i < sizeof(prefixRoutes) / sizeof(prefixRoutes[0]); i++)
        if (!strncmp(url, prefixRoutes[i].path, strlen(prefixRoutes[i].path))) return &prefixRoutes[i];
    return NULL;
}

static int isDecisionRoute(lh_route r) {
    return r == LH_ROUTE_VALIDATE || r == LH_ROUTE_HOOK || r == LH_ROUTE_OPA;
}

/* Media type of the body, ignoring parameters such as charset. */
static int mediaIs(const char *ct, const char *want) {
    size_t n = strlen(want);
    while (*ct == ' ') ct++;
    return !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* lh_auth_verify with a small per-thread cache: agents send the same token again and
 * again, and a full check (base64, HMAC, JSON) was 8% of the bridge's CPU. Only tokens
 * that verified are cached, in a set chosen by a hash of their last bytes (the MAC),
 * and compared in full in constant time, so a hit means the same bytes and the same
 * result. Expiry is checked on every use; revocation by the caller. The cache is set
 * associative: with one slot per hash (16 slots), the bench's 16 tokens collided and
 * a third of the requests paid the full check. */
static lh_auth_result verifyCached(lh_bridge *b, const char *tok, size_t len, int64_t now,
                                   lh_token_claims *out) {
    lh_tstate *ts = lh_bridge_tstate(b);
    lh_tokslot *set = NULL;
    if (ts && len >= 16 && len <= LH_AUTH_TOKEN_MAX) {
        uint32_t h = 2166136261u;
        for (size_t i = len - 16; i < len; i++) h = (h ^ (unsigned char)tok[i]) * 16777619u;
        set = ts->tokcache[h % LH_TOKCACHE_SETS];
        for (int w = 0; w < LH_TOKCACHE_WAYS; w++) {
            if (set[w].tok && set[w].len == len && CRYPTO_memcmp(set[w].tok, tok, len) == 0) {
                *out = set[w].claims;
                return out->exp <= now ? LH_AUTH_EXPIRED : LH_AUTH_OK;
            }
        }
    }
    lh_auth_result ar = lh_auth_verify(b->tokkey, tok, len, now, out);
    if (ar == LH_AUTH_OK && set) {
        int w = 0;
        while (w < LH_TOKCACHE_WAYS && set[w].tok) w++;
        if (w == LH_TOKCACHE_WAYS) w = (int)(ts->tokvictim++ % LH_TOKCACHE_WAYS);
        char *copy = malloc(len);
        if (copy) {
            memcpy(copy, tok, len);
            free(set[w].tok);
            set[w].tok = copy;
            set[w].len = len;
            set[w].claims = *out;
        }
    }
    return ar;
}

static enum MHD_Result authorize(lh_bridge *b, struct MHD_Connection *c, lh_req *r, unsigned roles) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || !*h) return lh_http_error(b, c, r, 401, "unauthorized", "%s", lh_auth_result_text(LH_AUTH_MISSING));
    if (strncasecmp(h, "Bearer ", 7))
        return lh_http_error(b, c, r, 401, "unauthorized", "Authorization must be \"Bearer TOKEN\"");
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    lh_auth_result ar = verifyCached(b, tok, strlen(tok), (int64_t)time(NULL), &r->claims);
    if (ar == LH_AUTH_OK && lh_revoked_has(b->revoked, r->claims.tid)) ar = LH_AUTH_REVOKED;
    if (ar != LH_AUTH_OK) return lh_http_error(b, c, r, 401, "unauthorized", "%s", lh_auth_result_text(ar));
    if (!(r->claims.role & roles))
        return lh_http_error(b, c, r, 403, "forbidden", "role %s may not use %s", lh_role_name(r->claims.role),
                             lh_route_name(r->route));
    r->authed = 1;
    return MHD_YES;
}

/* First call for a request: everything that can be decided from the headers. Returns
 * MHD_YES with r->status still 0 when the request goes on to its body or handler. */
static enum MHD_Result onHeaders(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *url,
                                 const char *method) {
    /* The console's files (open) and a policy revision's text: paths with a parameter. */
    if (!strncmp(url, "/ui", 3) && (url[3] == 0 || url[3] == '/')) return lh_route_ui(b, c, r, url, method);
    if (!strncmp(url, "/v1/policy/revisions/", 21)) {
        r->route = LH_ROUTE_POLICY_REVISION;
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return lh_http_error(b, c, r, 405, "method_not_allowed", "%s needs GET", url);
        enum MHD_Result ar = authorize(b, c, r, R_E | R_A);
        if (r->status || ar != MHD_YES) return ar;
        return lh_route_policy_revision(b, c, r, url + 21);
    }
    const routeDef *rd = findRoute(url, r);
    if (!rd) rd = findIdRoute(url, r);
    if (!rd) {
        r->route = LH_ROUTE_OTHER;
        return lh_http_error(b, c, r, 404, "not_found", "no route %s (see docs/api.md)", url);
    }
    r->route = rd->route;
    int isPost = !strcmp(method, "POST"), isGet = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int isDelete = !strcmp(method, "DELETE");
    snprintf(r->method, sizeof(r->method), "%s", isPost ? "POST" : isDelete ? "DELETE" : "GET");
    if (rd->route == LH_ROUTE_MCP) {
        enum MHD_Result mr = lh_mcp_route_headers(b, c, r, method);
        if (r->status || mr != MHD_YES) return mr;
    } else if (rd->post == M_GET_POST || rd->post == M_GET_DELETE) {
        if (!isGet && !(rd->post == M_GET_POST ? isPost : isDelete))
            return lh_http_error(b, c, r, 405, "method_not_allowed", "%s needs GET or %s", url,
                                 rd->post == M_GET_POST ? "POST" : "DELETE");
    } else if ((rd->post && !isPost) || (!rd->post && !isGet))
        return lh_http_error(b, c, r, 405, "method_not_allowed", "%s needs %s", url, rd->post ? "POST" : "GET");
    r->is_post = isPost;
    if (isPrefixRoute(rd)) {
        size_t pl = strlen(rd->path), rest = strlen(url + pl);
        if (!rest || rest >= sizeof(r->sub))
            return lh_http_error(b, c, r, 404, "not_found", "no route %.200s (see docs/api.md)", url);
        memcpy(r->sub, url + pl, rest + 1);
    }
    /* libmicrohttpd 0.9.75 decodes only a bare "chunked"; any other coding (identity,
     * gzip, "gzip, chunked") it neither decodes nor refuses, and the request hung until
     * the timeout. Answered here, before the body: MHD then closes the connection. */
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te && strcasecmp(te, "chunked"))
        return lh_http_error(b, c, r, 400, "bad_transfer_encoding",
                             "Transfer-Encoding \"%.60s\" is not supported; send chunked or a Content-Length", te);
    unsigned roles = rd->roles;
    if (rd->route == LH_ROUTE_METRICS && b->cfg.metrics_auth) roles = R_B | R_E | R_A;
    if (roles) {
        enum MHD_Result ar = authorize(b, c, r, roles);
        if (r->status || ar != MHD_YES) return ar;
    }
    if (isDecisionRoute(rd->route)) {
        int retry = 0;
        if (lh_ratelimit_take(b->rl, r->claims.agent, lh_mono_ns(), &retry))
            return rateLimited(b, c, r, retry, "agent %s is over its rate limit of %g requests/s; retry in %d s",
                               r->claims.agent, b->cfg.rate_limit, retry);
    }
    if (isPost) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int hasBody = (cl && strcmp(cl, "0")) || te;
        if (rd->route == LH_ROUTE_POLICY && ct &&
            (mediaIs(ct, "application/yaml") || mediaIs(ct, "application/x-yaml") || mediaIs(ct, "text/yaml")))
            r->yaml = 1;
        else if (hasBody && (!ct || !mediaIs(ct, "application/json")))
            return lh_http_error(b, c, r, 415, "unsupported_media_type", "%s wants Content-Type: application/json%s",
                                 url, rd->route == LH_ROUTE_POLICY ? " or application/yaml" : "");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end || n > b->cfg.body_limit)
                return lh_http_error(b, c, r, 413, "payload_too_large", "the body limit is %zu bytes", b->cfg.body_limit);
        }
    }
    return MHD_YES;
}

static enum MHD_Result dispatch(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    switch (r->route) {
    case LH_ROUTE_VALIDATE: case LH_ROUTE_HOOK: case LH_ROUTE_OPA: return lh_route_decide(b, c, r);
    case LH_ROUTE_EVENTS: return lh_route_events(b, c, r);
    case LH_ROUTE_STREAM: return lh_route_stream(b, c, r);
    case LH_ROUTE_POLICY: return lh_route_policy_push(b, c, r);
    case LH_ROUTE_POLICY_HISTORY: return lh_route_policy_history(b, c, r);
    case LH_ROUTE_ROLLBACK: return lh_route_policy_rollback(b, c, r);
    case LH_ROUTE_STATUS: return lh_route_status(b, c, r);
    case LH_ROUTE_SLA: return lh_route_sla(b, c, r);
    case LH_ROUTE_TOKENS: return lh_route_tokens_create(b, c, r);
    case LH_ROUTE_TOKENS_REVOKE: return lh_route_tokens_revoke(b, c, r);
    case LH_ROUTE_SHADOWS: return lh_route_shadows_post(b, c, r);
    case LH_ROUTE_SHADOWS_TREE: return lh_route_shadows_tree(b, c, r);
    case LH_ROUTE_SHADOWS_FILE: return lh_route_shadows_file(b, c, r);
    case LH_ROUTE_SHADOWS_HISTORY: return lh_route_shadows_history(b, c, r);
    case LH_ROUTE_SHADOWS_DIFF: return lh_route_shadows_diff(b, c, r);
    case LH_ROUTE_ANNOTATIONS:
        return !strcmp(r->method, "POST") ? lh_route_annotations_post(b, c, r) : lh_route_annotations_list(b, c, r);
    case LH_ROUTE_ANNOTATION:
        return !strcmp(r->method, "DELETE") ? lh_route_annotation_delete(b, c, r) : lh_route_annotation_get(b, c, r);
    case LH_ROUTE_METRICS: return lh_route_metrics(b, c, r);
    case LH_ROUTE_EXPERTS_REGISTER: return lh_route_experts_register(b, c, r);
    case LH_ROUTE_EXPERTS_LEAVE: return lh_route_experts_leave(b, c, r);
    case LH_ROUTE_EXPERTS: return lh_route_experts_list(b, c, r);
    case LH_ROUTE_ESCALATIONS: return lh_route_escalations_list(b, c, r);
    case LH_ROUTE_ESCALATIONS_STREAM: return lh_route_escalations_stream(b, c, r);
    case LH_ROUTE_ESCALATION: return lh_route_escalation_get(b, c, r);
    case LH_ROUTE_ESCALATION_VERDICT: return lh_route_escalation_verdict(b, c, r);
    case LH_ROUTE_MCP: return lh_route_mcp(b, c, r);
    case LH_ROUTE_ELICITATIONS: return lh_route_elicitations(b, c, r);
    case LH_ROUTE_ELICITATION: return lh_route_elicitation(b, c, r);
    case LH_ROUTE_LOAD_RUNS: return lh_route_load_runs(b, c, r);
    case LH_ROUTE_HEALTH: return lh_http_reply(c, r, 200, "application/json", "{\"status\":\"ok\"}\n", 16);
    case LH_ROUTE_READY: {
        int ok = lh_bridge_ready(b);
        const char *body = ok ? "{\"ready\":true}\n"
                          : lh_bridge_draining(b) ? "{\"ready\":false,\"reason\":\"shutting down\"}\n"
                                                      : "{\"ready\":false,\"reason\":\"event store cannot append\"}\n";
        return lh_http_reply(c, r, ok ? 200 : 503, "application/json", body, strlen(body));
    }
    default: return lh_http_error(b, c, r, 404, "not_found", "no such route");
    }
}

/* Requests are reused through a free list per thread, buffers and all: a request's
 * calloc (its struct is over 1 KiB, so glibc consolidated its fast bins on every one)
 * and the frees of its body, reply and event were ~5% of the bridge's CPU under load.
 * A request ends on the thread of its connection, so the lists need no lock. */
enum { SPARE_REQS = 128, SPARE_BUF_MAX = 64 << 10 };

static lh_req *reqNew(lh_bridge *b) {
    lh_tstate *ts = lh_bridge_tstate(b);
    lh_req *r = ts ? ts->spare : NULL;
    if (!r) return calloc(1, sizeof(*r));
    ts->spare = r->next;
    ts->nspare--;
    char *body = r->body, *reply = r->reply, *ev = r->evdata;
    size_t cap = r->cap, rcap = r->reply_cap, ecap = r->evcap;
    lh_arena *arena = r->job.arena;
    memset(r, 0, sizeof(*r));
    r->job.arena = arena;
    r->body = body, r->cap = cap;
    r->reply = reply, r->reply_cap = rcap;
    r->evdata = ev, r->evcap = ecap;
    return r;
}

static void reqRelease(lh_req *r) {
    lh_arena_free(r->job.arena);
    free(r->body);
    free(r->reply);
    free(r->evdata);
    free(r);
}

static void reqFree(lh_bridge *b, lh_req *r) {
    lh_tstate *ts = lh_bridge_tstate(b);
    if (!ts || ts->nspare >= SPARE_REQS) { reqRelease(r); return; }
    /* A big body or reply goes back to the allocator rather than waiting here. */
    if (r->cap > SPARE_BUF_MAX) { free(r->body); r->body = NULL; r->cap = 0; }
    if (r->reply_cap > SPARE_BUF_MAX) { free(r->reply); r->reply = NULL; r->reply_cap = 0; }
    if (r->evcap > SPARE_BUF_MAX) { free(r->evdata); r->evdata = NULL; r->evcap = 0; }
    r->next = ts->spare;
    ts->spare = r;
    ts->nspare++;
}

static enum MHD_Result handleRequest(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                     const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    lh_bridge *b = cls;
    lh_req *r = *con_cls;
    if (!r) {
        r = reqNew(b);
        if (!r) return MHD_NO;
        *con_cls = r;
        r->t0 = lh_mono_ns();
        atomic_fetch_add(&b->srv->inflight, 1);
        /* Draining: a new request on a kept-alive connection is refused (and the
         * connection closed), so the requests in flight can finish and the count falls
         * to zero even under steady load. Health checks still answer. */
        if (lh_bridge_draining(b) && strcmp(url, "/health") && strcmp(url, "/ready")) {
            r->route = LH_ROUTE_OTHER;
            return lh_http_error(b, c, r, 503, "shutting_down", "the bridge is stopping; retry on another replica");
        }
        return onHeaders(b, c, r, url, method);
    }
    if (r->esc.waiting) {  /* resumed after waiting on an escalation (escalations.c) */
        if (!lh_escalations_woken(b->escalations, r)) return MHD_YES;
        r->esc.waiting = 0;
        return lh_escalations_resumed(b, c, r);
    }
    if (r->waiting) {  /* resumed after the append: the decision is durable (or failed) */
        if (!lh_appender_done(&r->job)) return MHD_YES;
        r->waiting = 0;
        return lh_route_decide_finish(b, c, r);
    }
    if (r->mcp_job) return lh_route_mcp_resumed(b, c, r);   /* a tool call resumed it */
    if (r->status) {  /* already answered; discard any body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->len + *upload_size > b->cfg.body_limit) {
            /* A chunked body past the limit: answer when it ends, keep nothing. */
            r->overflow = 1;
            *upload_size = 0;
            return MHD_YES;
        }
        if (r->len + *upload_size + 1 > r->cap) {
            size_t nc = r->cap ? r->cap : 1024;
            while (nc < r->len + *upload_size + 1) nc *= 2;
            char *nb = realloc(r->body, nc);
            if (!nb) return MHD_NO;
            r->body = nb;
            r->cap = nc;
        }
        memcpy(r->body + r->len, upload, *upload_size);
        r->len += *upload_size;
        r->body[r->len] = 0;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->overflow)
        return lh_http_error(b, c, r, 413, "payload_too_large", "the body limit is %zu bytes", b->cfg.body_limit);
    return dispatch(b, c, r);
}

/* The request threads' CPU time on the experts' routes (lists, verdicts, registration,
 * streams) goes to lighthouse_bridge_escalation_cpu_seconds_total, so the fast path's CPU
 * per decision can be told apart from escalation work (bench/escalation_ab.sh). Only
 * these routes are timed: a decision's call costs one compare here, no clock read. */
static int expertRoute(const lh_req *r, const char *url) {
    if (r) return r->route >= LH_ROUTE_EXPERTS_REGISTER && r->route <= LH_ROUTE_ESCALATION_VERDICT;
    return !strncmp(url, "/v1/escalations", 15) || !strncmp(url, "/v1/experts", 11);
}

static uint64_t threadCpuNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One request in FAST_CPU_SAMPLE (per thread) has its handler calls' CPU summed too: if
 * it ends as a fast-path decision, that is a sample of the fast path's own CPU per
 * request (lighthouse_bridge_fast_path_cpu_seconds). A thread CPU clock read costs about
 * 1.4 us here, a system call: too dear for every decision, cheap for one in 64. */
#define FAST_CPU_SAMPLE 64
static _Thread_local unsigned sampleTick;

static enum MHD_Result onRequest(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    lh_req *r = *con_cls;
    int expert = expertRoute(r, url), sampled = r ? r->cpu_sampled : ++sampleTick % FAST_CPU_SAMPLE == 0;
    if (!expert && !sampled) return handleRequest(cls, c, url, method, version, upload, upload_size, con_cls);
    uint64_t t0 = threadCpuNs();
    enum MHD_Result rc = handleRequest(cls, c, url, method, version, upload, upload_size, con_cls);
    uint64_t dt = threadCpuNs() - t0;
    if (expert) lh_metrics_escalation_cpu(((lh_bridge *)cls)->m, dt);
    if ((r = *con_cls) && sampled) {
        r->cpu_sampled = 1;
        r->cpu_ns += dt;
    }
    return rc;
}

static void onCompleted(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    lh_bridge *b = cls;
    lh_req *r = *con_cls;
    if (!r) return;
    /* No reply queued: the peer went away first (it closed, reset, or stalled past the
     * timeout), or the bridge failed to answer (a server fault). */
    int gone = toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT || toe == MHD_REQUEST_TERMINATED_READ_ERROR ||
               toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED;
    uint64_t ns = lh_mono_ns() - r->t0;
    lh_metrics_request(b->m, r->route, r->status, gone, ns);
    lh_metrics_agent_request(b->m, r->route, r->claims.agent, r->status, gone, ns);
    if (r->fast && !gone && r->status >= 200 && r->status < 300) {
        lh_metrics_fast_path(b->m, ns);
        if (r->cpu_sampled) lh_metrics_fast_path_cpu(b->m, r->cpu_ns);
    }
    lh_mcp_req_done(r);
    reqFree(b, r);
    *con_cls = NULL;
    atomic_fetch_sub(&b->srv->inflight, 1);
}

static void mhdLog(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    /* A client that went away (an event stream closed, a reset before the reply) is no
     * error of the bridge's: it is counted (outcome client_gone, or its status), not
     * logged. */
    if (strstr(msg, "closed by remote peer") || strstr(msg, "reset by peer") || strstr(msg, "Broken pipe")) return;
    fprintf(stderr, "lighthouse serve: http: %s\n", msg);
}

/* ------------------------------------------------------------------------------ */
/* Listening socket                                                                 */
/* ------------------------------------------------------------------------------ */

/* Open the listening socket of l ("HOST:PORT" or "unix:/path"); its address as bound (the
 * port the kernel picked for :0) goes to address, a unix socket's path to unix_path. */
static int openListener(const char *l, char address[LH_BRIDGE_PATH_MAX + 8], char unix_path[LH_BRIDGE_PATH_MAX],
                        char *err, size_t errlen) {
    int fd;
    if (!strncmp(l, "unix:", 5)) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(l + 5) >= sizeof(sa.sun_path) || !l[5]) {
            snprintf(err, errlen, "listen %s: a unix socket path must be 1 to %zu bytes", l, sizeof(sa.sun_path) - 1);
            return -1;
        }
        strcpy(sa.sun_path, l + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
        unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4096)) {
            snprintf(err, errlen, "listen %s: %s", l, strerror(errno));
            close(fd);
            return -1;
        }
        snprintf(unix_path, LH_BRIDGE_PATH_MAX, "%s", sa.sun_path);
        snprintf(address, LH_BRIDGE_PATH_MAX + 8, "%s", l);
        return fd;
    }
    const char *colon = strrchr(l, ':');
    if (!colon) { snprintf(err, errlen, "listen %s: want HOST:PORT or unix:/path", l); return -1; }
    char host[256];
    size_t hl = (size_t)(colon - l);
    if (hl >= sizeof(host)) { snprintf(err, errlen, "listen: host too long"); return -1; }
    memcpy(host, l, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) {
        snprintf(err, errlen, "listen %s: the port must be 0 to 65535", l);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    char *h = host;
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') { h[hl - 1] = 0; h++; }
    if (!strcmp(h, "localhost")) h = "127.0.0.1";
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, *h ? h : "0.0.0.0", &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof(*s4);
    } else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*s6);
    } else {
        snprintf(err, errlen, "listen %s: the host must be an IP address or localhost", l);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 4096)) {
        snprintf(err, errlen, "listen %s: %s", l, strerror(errno));
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char ip[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(address, LH_BRIDGE_PATH_MAX + 8, "%s:%u", ip, ntohs(s4->sin_port));
    } else {
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(address, LH_BRIDGE_PATH_MAX + 8, "[%s]:%u", ip, ntohs(s6->sin6_port));
    }
    return fd;
}

/* The experts' listener's threads run at nice 19, set by each on its first connection
 * (MHD names its threads alike, so they cannot be told apart from outside). Once lowered
 * it stays so: those threads serve nothing else. A CPU shared with the fast path's
 * workers then goes to a waking worker at once, and nice 19 never starves the experts
 * outright (SCHED_IDLE could, on a busy CPU, and their escalations would time out). */
static _Thread_local int lowered;

static void onExpertConnection(void *cls, struct MHD_Connection *c, void **socket_context,
                               enum MHD_ConnectionNotificationCode toe) {
    (void)cls, (void)c, (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED || lowered) return;
    lowered = 1;
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19))
        fprintf(stderr, "lighthouse serve: the experts' listener could not lower its thread's priority: %s\n",
                strerror(errno));
}

/* The experts' listener: its socket is opened with the main one (before system.started,
 * which names both), its daemon started after the main one's. It serves every route, on
 * two threads of its own (long-polls and streams are suspended connections, not threads). */
static int openExpertListener(lh_bridge *b, char *err, size_t errlen) {
    const lh_bridge_config *cfg = &b->cfg;
    if (!cfg->expert_listen[0]) return 0;
    size_t n = strlen(cfg->listen);   /* HOST:0 twice is two ports the kernel picks */
    if (!strcmp(cfg->expert_listen, cfg->listen) && !(n >= 2 && !strcmp(cfg->listen + n - 2, ":0"))) {
        snprintf(err, errlen, "expert_listen %s is the same address as listen", cfg->expert_listen);
        return -1;
    }
    b->expert_fd = openListener(cfg->expert_listen, b->expert_address, b->expert_unix_path, err, errlen);
    return b->expert_fd < 0 ? -1 : 0;
}

static int startExpertListener(lh_bridge *b, char *err, size_t errlen) {
    const lh_bridge_config *cfg = &b->cfg;
    if (b->expert_fd < 0) return 0;
    b->dx = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, onRequest, b, MHD_OPTION_EXTERNAL_LOGGER, mhdLog, b,
                             MHD_OPTION_LISTEN_SOCKET, (MHD_socket)b->expert_fd, MHD_OPTION_THREAD_POOL_SIZE, 2u,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(8 << 10),
                             MHD_OPTION_NOTIFY_COMPLETED, onCompleted, b,
                             MHD_OPTION_NOTIFY_CONNECTION, onExpertConnection, b, MHD_OPTION_END);
    if (!b->dx) {
        snprintf(err, errlen, "could not start the experts' listener on %s", b->expert_address);
        return -1;
    }
    return 0;
}

/* Connections open on both listeners (/v1/status, /metrics). */
unsigned lh_bridge_connections(lh_bridge *b) {
    unsigned n = 0;
    struct MHD_Daemon *ds[2] = {b->d, b->dx};
    for (int i = 0; i < 2; i++) {
        const union MHD_DaemonInfo *di = ds[i] ? MHD_get_daemon_info(ds[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
        if (di) n += di->num_connections;
    }
    return n;
}

/* ------------------------------------------------------------------------------ */
/* Lifecycle                                                                        */
/* ------------------------------------------------------------------------------ */

/* Build an engine from the configured policy file (or the default). */
static lh_engref *loadPolicyFile(lh_bridge *b, char *err, size_t errlen) {
    if (!b->cfg.policy[0]) return lh_engines_build(b->engines, NULL, 0, "<default>", err, errlen);
    size_t len;
    char rerr[256];
    char *text = lh_read_file(b->cfg.policy, LH_POLICY_MAX_BYTES, &len, rerr, sizeof(rerr));
    if (!text) { snprintf(err, errlen, "policy %s: %s", b->cfg.policy, rerr); return NULL; }
    lh_engref *er = lh_engines_build(b->engines, text, len, b->cfg.policy, err, errlen);
    free(text);
    return er;
}

static int reloadPolicyFile(lh_bridge *b, const char *source, int64_t *seq, char *err, size_t errlen) {
    lh_engref *er = loadPolicyFile(b, err, errlen);
    return er ? lh_bridge_policy_install(b, er, source, "", seq, err, errlen) : -1;
}

/* ---- the SLA monitor's host operations (sla_monitor.h) ---- */

static void hostCounts(void *ctx, lh_metrics_sla_counts *total, lh_metrics_sla_counts *agents) {
    lh_bridge *b = ctx;
    lh_metrics_sla_read(b->m, total, agents);
}

static int hostAppend(void *ctx, const char *type, const char *aggregate, const char *data, int64_t *seq, char *err,
                      size_t errlen) {
    return lh_bridge_append(ctx, type, "", aggregate, data, seq, err, errlen);
}

static int hostRollback(void *ctx, const lh_rollback_req *rq, lh_rollback_result *res, char *err, size_t errlen) {
    return lh_bridge_rollback(ctx, rq, res, err, errlen);
}

static void hostRevision(void *ctx, char *out, size_t cap) {
    lh_bridge *b = ctx;
    lh_engines_revision(b->engines, out, cap);
}

/* The revisions' observer: the monitor learns of each change (under policy_mu). */
static void onPolicyChanged(void *ctx, const char *revision, int rollback) {
    lh_slamon_policy_changed(ctx, revision, rollback);
}

/* The watcher's policy callback: another replica's policy change, installed here too. */
static void onReplicaPolicy(void *ctx, const lh_event *ev) {
    char err[512];
    if (lh_revisions_apply_event(ctx, ev, err, sizeof(err)))
        fprintf(stderr, "lighthouse serve: cannot install the policy of %s seq %lld from another replica: %s\n",
                ev->type, (long long)ev->seq, err);
}

static lh_slamon *startMonitor(lh_bridge *b, char *err, size_t errlen) {
    lh_slamon_host host = {.ctx = b, .counts = hostCounts, .names = lh_metrics_agent_names(b->m), .append = hostAppend,
                           .rollback = hostRollback, .revision = hostRevision, .store = b->store};
    lh_slamon *m = lh_slamon_new(&b->cfg.sla, &b->cfg.alerts, &host, err, errlen);
    if (m) lh_revisions_observe(b->revisions, onPolicyChanged, m);
    return m;
}

/* The handles every module owns, before the store opens. */
static int newHandles(lh_bridge *b) {
    b->srv = calloc(1, sizeof(*b->srv));
    if (b->srv) {
        pthread_mutex_init(&b->srv->ts_mu, NULL);
        atomic_init(&b->srv->draining, 0);
        atomic_init(&b->srv->inflight, 0);
    }
    b->m = calloc(1, sizeof(*b->m));
    b->revoked = lh_revoked_new();
    b->rl = lh_ratelimit_new(b->cfg.rate_limit, b->cfg.rate_burst);
    b->engines = b->m ? lh_engines_new(b->cfg.cache_entries, b->m) : NULL;
    b->revisions = lh_revisions_new();
    b->streams = lh_streams_new(b->cfg.max_streams);
    b->sessions = lh_sessions_new(b->start_ns);
    b->experts = lh_experts_new(b, b->cfg.expert_heartbeat_s);
    b->escalations = lh_escalations_new(b, b->cfg.esc_max_pending, b->cfg.esc_max_waiters);
    b->mcp = lh_mcp_http_new();
    return b->srv && b->m && b->revoked && b->rl && b->engines && b->revisions && b->streams && b->sessions &&
                   b->experts && b->escalations && b->mcp
               ? 0
               : -1;
}

lh_bridge *lh_bridge_start(const lh_bridge_config *cfg, char *err, size_t errlen) {
    lh_bridge *b = calloc(1, sizeof(*b));
    if (!b) { snprintf(err, errlen, "out of memory"); return NULL; }
    b->cfg = *cfg;
    b->listen_fd = -1;
    b->expert_fd = -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    b->start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    b->start_ns = lh_mono_ns();
    if (newHandles(b)) { snprintf(err, errlen, "out of memory"); goto fail; }

    lh_store_options so = {0};
    if (lh_store_backend_parse(cfg->store, &so.backend, err, errlen)) goto fail;
    b->postgres = so.backend == LH_STORE_POSTGRES;
    if (b->postgres && !cfg->pg[0]) { snprintf(err, errlen, "store postgres needs --pg CONNINFO (or LIGHTHOUSE_PG)"); goto fail; }
    so.data_dir = cfg->data;
    so.conninfo = cfg->pg[0] ? cfg->pg : NULL;
    so.max_json_depth = 64;
    so.verify_chain = 1;   /* a broken chain is refused at start (docs/store.md, "Chaos") */
    mkdir(cfg->data, 0700);
    char serr[512];
    b->store = lh_store_open(&so, serr, sizeof(serr));
    if (!b->store) { snprintf(err, errlen, "event store: %s", serr); goto fail; }
    b->appender = lh_appender_start(b->store, b->m, err, errlen);   /* every append goes through it */
    if (!b->appender) goto fail;
    if (lh_auth_load_key(cfg->data, 1, b->tokkey, err, errlen)) goto fail;
    b->shadows = lh_shadows_new(b, err, errlen);
    if (!b->shadows) goto fail;
    b->elicits = lh_elicits_start(b, err, errlen);   /* rebuilt from the store; its sweeper appends */
    if (!b->elicits) goto fail;
    b->annotations = lh_annotations_new(b, err, errlen);
    if (!b->annotations) goto fail;
    /* The watcher (started below) follows the store from the head read here, so a
     * revocation recorded in between is applied too. */
    int64_t head = 0;
    if (lh_revwatch_load(b->store, b->revoked, &head, serr, sizeof(serr))) { snprintf(err, errlen, "event store: %s", serr); goto fail; }

    /* The policy is loaded before anything is recorded: a bad policy file stops the start
     * without a system.started that no system.stopped would follow. */
    lh_engref *first = loadPolicyFile(b, err, errlen);
    if (!first) goto fail;
    b->sla = startMonitor(b, err, errlen);   /* before the first install: it records the lineage */
    if (!b->sla) { lh_engref_discard(first); goto fail; }
    b->listen_fd = openListener(cfg->listen, b->address, b->unix_path, err, errlen);
    if (b->listen_fd < 0 || openExpertListener(b, err, errlen)) { lh_engref_discard(first); goto fail; }
    char data[2560], esc[512], xesc[512], xfield[600] = "";
    lh_json_escape(b->address, esc, sizeof(esc));
    if (b->expert_fd >= 0) {
        lh_json_escape(b->expert_address, xesc, sizeof(xesc));
        snprintf(xfield, sizeof(xfield), "\"expert_listen\":\"%s\",", xesc);
    }
    snprintf(data, sizeof(data), "{\"version\":\"%s\",\"listen\":\"%s\",%s\"pid\":%d}", LH_VERSION, esc, xfield,
             (int)getpid());
    if (lh_bridge_append(b, "system.started", "", "system", data, NULL, serr, sizeof(serr))) {
        snprintf(err, errlen, "event store: %s", serr);
        lh_engref_discard(first);
        goto fail;
    }
    lh_slamon_resume(b->sla, first->revision);
    if (lh_bridge_policy_install(b, first, "start", "", NULL, err, errlen)) goto fail;
    /* Experts and pending escalations come back from their events (one past its deadline
     * expires as soon as the timer thread runs). */
    if (lh_experts_load(b->experts, b->store, serr, sizeof(serr)) ||
        lh_escalations_start(b->escalations, serr, sizeof(serr))) {
        snprintf(err, errlen, "event store: %s", serr);
        goto fail;
    }

    int workers = cfg->workers;
    if (workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        /* Workers never wait for the store (appender.c), so a few per CPU suffice. */
        workers = (int)(n > 0 ? n : 1) * 2;
        if (workers < 4) workers = 4;
        if (workers > 64) workers = 64;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    b->d = MHD_start_daemon(flags, 0, NULL, NULL, onRequest, b,
                            MHD_OPTION_EXTERNAL_LOGGER, mhdLog, b,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)b->listen_fd,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)workers,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                            /* Headers must fit (about 7 KiB; more gets 431). MHD zeroes the
                             * pool after every request: at 16 KiB that was ~24 k instructions
                             * a request, and the pages of every connection stayed touched. */
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(8 << 10),
                            MHD_OPTION_NOTIFY_COMPLETED, onCompleted, b,
                            MHD_OPTION_END);
    if (!b->d) { snprintf(err, errlen, "could not start the HTTP server on %s", b->address); goto fail; }
    if (startExpertListener(b, err, errlen)) goto fail;
    /* Without the watcher, tokens revoked by other processes would stay valid here: a
     * thread that cannot start fails the start. */
    b->revwatch = lh_revwatch_start(b->store, b->revoked, b->postgres, head, lh_appender_trim_when_idle, b->appender,
                                    onReplicaPolicy, b, err, errlen);
    if (!b->revwatch) goto fail;
    if (lh_slamon_start(b->sla, err, errlen)) goto fail;
    return b;
fail:
    lh_bridge_free(b);
    return NULL;
}

const char *lh_bridge_address(const lh_bridge *b) { return b->address; }
const char *lh_bridge_expert_address(const lh_bridge *b) { return b->dx ? b->expert_address : NULL; }

static void stopServing(lh_bridge *b) {
    if (!b->d) return;
    atomic_store(&b->srv->draining, 1);
    MHD_socket lfd = MHD_quiesce_daemon(b->d);   /* no new connections from here on */
    if (lfd != MHD_INVALID_SOCKET) { close(lfd); b->listen_fd = -1; }
    if (b->unix_path[0]) unlink(b->unix_path);
    if (b->dx) {
        lfd = MHD_quiesce_daemon(b->dx);
        if (lfd != MHD_INVALID_SOCKET) { close(lfd); b->expert_fd = -1; }
        if (b->expert_unix_path[0]) unlink(b->expert_unix_path);
    }
    lh_streams_shutdown(b->streams);
    lh_escalations_shutdown(b->escalations);   /* waiting requests answer "still pending" */
    lh_elicits_shutdown(b->elicits);   /* long-polls answer now */
    lh_mcp_http_stop(b->mcp);   /* its tool calls give up and resume their connections */
    /* Drain: every request that has started gets its answer. */
    uint64_t deadline = lh_mono_ns() + (uint64_t)b->cfg.drain_s * 1000000000ull;
    while (atomic_load(&b->srv->inflight) > 0 && lh_mono_ns() < deadline) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    long left = atomic_load(&b->srv->inflight);
    if (left > 0) fprintf(stderr, "lighthouse serve: %ld requests still in flight after %d s; closing them\n", left, b->cfg.drain_s);
    /* Every suspended decision is resumed once its append finishes, and lh_appender_stop
     * waits for that; MHD must not be stopped with suspended connections. */
    lh_appender_stop(b->appender);
    if (b->dx) MHD_stop_daemon(b->dx);
    b->dx = NULL;
    MHD_stop_daemon(b->d);
    b->d = NULL;
    lh_streams_wait_helpers(b->streams);   /* they use the store */
}

int lh_bridge_wait(lh_bridge *b) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            char err[1024];
            int64_t seq = 0;
            if (reloadPolicyFile(b, "sighup", &seq, err, sizeof(err)))
                fprintf(stderr, "lighthouse serve: SIGHUP: keeping the current policy: %s\n", err);
            else {
                char rev[160];
                lh_engines_revision(b->engines, rev, sizeof(rev));
                fprintf(stderr, "lighthouse serve: SIGHUP: policy %s active (event %lld)\n", rev, (long long)seq);
            }
            continue;
        }
        fprintf(stderr, "lighthouse serve: %s: draining and stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    stopServing(b);
    lh_slamon_stop(b->sla);   /* it appends: stop it before the store closes */
    lh_escalations_stop(b->escalations);   /* so does the escalations' timer */
    lh_elicits_stop(b->elicits);   /* so does the elicitation sweeper */
    lh_revwatch_stop(b->revwatch);
    b->revwatch = NULL;
    char err[512], data[128];
    uint64_t up = (lh_mono_ns() - b->start_ns) / 1000000000ull;
    snprintf(data, sizeof(data), "{\"uptime_s\":%llu,\"pid\":%d}", (unsigned long long)up, (int)getpid());
    int rc = 0;
    if (lh_bridge_append(b, "system.stopped", "", "system", data, NULL, err, sizeof(err))) {
        fprintf(stderr, "lighthouse serve: could not record system.stopped: %s\n", err);
        rc = 1;
    }
    lh_store_close(b->store);   /* the writer finishes pending appends first */
    b->store = NULL;
    return rc;
}

/* Free every thread's state (its engine hold, token cache and spare requests). */
static void freeThreads(lh_bridge *b) {
    pthread_mutex_lock(&b->srv->ts_mu);
    for (lh_tstate *t = b->srv->threads, *n; t; t = n) {
        n = t->next;
        lh_engines_release(b->engines, &t->eng);
        lh_arena_free(t->arena);
        for (int i = 0; i < LH_TOKCACHE_SETS; i++)
            for (int w = 0; w < LH_TOKCACHE_WAYS; w++) free(t->tokcache[i][w].tok);
        for (lh_req *r = t->spare, *rn; r; r = rn) { rn = r->next; reqRelease(r); }
        free(t->buf);
        free(t);
    }
    b->srv->threads = NULL;
    pthread_mutex_unlock(&b->srv->ts_mu);
}

void lh_bridge_free(lh_bridge *b) {
    if (!b) return;
    /* A start that failed part way, or a bridge never waited on: stop what runs. */
    if (b->d) { atomic_store(&b->srv->draining, 1); lh_streams_shutdown(b->streams); lh_elicits_shutdown(b->elicits); }
    lh_escalations_shutdown(b->escalations);
    lh_mcp_http_stop(b->mcp);
    lh_slamon_stop(b->sla);
    lh_escalations_stop(b->escalations);
    lh_elicits_stop(b->elicits);
    lh_appender_stop(b->appender);
    /* MHD_stop_daemon closes the listening socket it was given: not again below */
    if (b->dx) { MHD_stop_daemon(b->dx); b->expert_fd = -1; }
    if (b->d) { MHD_stop_daemon(b->d); b->listen_fd = -1; lh_streams_wait_helpers(b->streams); }
    lh_revwatch_stop(b->revwatch);
    if (b->listen_fd >= 0) close(b->listen_fd);
    if (b->expert_fd >= 0) close(b->expert_fd);
    if (b->store) lh_store_close(b->store);   /* the writer runs the last appended() callbacks */
    lh_appender_free(b->appender);
    if (b->srv) {
        if (b->engines) freeThreads(b);
        pthread_mutex_destroy(&b->srv->ts_mu);
        free(b->srv);
    }
    lh_engines_free(b->engines);
    lh_slamon_free(b->sla);
    lh_revisions_free(b->revisions);
    lh_streams_free(b->streams);
    lh_sessions_free(b->sessions);
    lh_annotations_free(b->annotations);
    lh_shadows_free(b->shadows);
    lh_escalations_free(b->escalations);
    lh_experts_free(b->experts);
    lh_mcp_http_free(b->mcp);
    lh_elicits_free(b->elicits);
    lh_revoked_free(b->revoked);
    lh_ratelimit_free(b->rl);
    free(b->m);
    free(b);
}

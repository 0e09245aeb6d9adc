/* mcp_http.c — see mcp_http.h. The protocol itself is the MCP core's (src/mcp/); this file
 * is the transport: methods and headers, sessions, and the threads that run tool calls.
 *
 * Threads and locks: mu guards the session table and running; cv signals running's fall
 * to zero for lh_mcp_http_stop. A job belongs to its thread from the suspend until done is
 * set; then to its connection (the worker that resumes frees it). stop is read by the jobs'
 * transfers (lh_mcp_client.stop) without the lock. */
#include "bridge/mcp_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "mcp/mcp.h"

typedef struct mcpSession {
    char id[33];                    /* 128 random bits in hex; "" = free slot */
    char tid[LH_AUTH_TID_LEN + 1];  /* the token that opened it */
    lh_mcp_session st;
    uint64_t last_ns;
} mcpSession;

struct lh_mcp_http {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mcpSession sessions[LH_MCP_MAX_SESSIONS];   /* guarded by mu */
    int running;                                /* jobs started and not finished; guarded by mu */
    _Atomic int stop;
};

typedef struct lh_mcp_job {
    lh_mcp_http *h;
    struct MHD_Connection *c;
    json_t *msg;                    /* consumed by the thread */
    lh_mcp_session st;
    char sid[33];
    char tid[LH_AUTH_TID_LEN + 1];
    lh_mcp_client cl;
    char *out;                      /* the reply (malloc'd) or NULL */
    size_t outlen;
    _Atomic int done;
} lh_mcp_job;

lh_mcp_http *lh_mcp_http_new(void) {
    lh_mcp_http *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    atomic_init(&h->stop, 0);
    return h;
}

void lh_mcp_http_stop(lh_mcp_http *h) {
    if (!h) return;
    atomic_store(&h->stop, 1);
    pthread_mutex_lock(&h->mu);
    while (h->running > 0) pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void lh_mcp_http_free(lh_mcp_http *h) {
    if (!h) return;
    lh_mcp_http_stop(h);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

void lh_mcp_req_done(lh_req *r) {
    lh_mcp_job *j = r->mcp_job;
    if (!j) return;
    free(j->out);
    free(j);
    r->mcp_job = NULL;
}

/* ------------------------------------------------------------------------------ */
/* Headers: method, Origin, Host                                                    */
/* ------------------------------------------------------------------------------ */

/* Is the host part of h[0..n) (no port) a loopback name? */
static int loopbackHost(const char *h, size_t n) {
    return (n == 9 && !strncasecmp(h, "localhost", 9)) || (n == 9 && !strncmp(h, "127.0.0.1", 9)) ||
           (n == 5 && !strncmp(h, "[::1]", 5));
}

/* "HOST[:PORT]" → is HOST loopback? */
static int loopbackAuthority(const char *a) {
    size_t n = a[0] == '[' ? strcspn(a, "]") + 1 : strcspn(a, ":/");
    if (a[0] == '[' && a[n - 1] != ']') return 0;
    const char *rest = a + n;
    if (*rest == ':') rest += 1 + strspn(rest + 1, "0123456789");
    return *rest == 0 && loopbackHost(a, n);
}

/* Does the bridge listen on a loopback address (or a Unix socket) only? */
static int listensLocally(const lh_bridge *b) {
    return !strncmp(b->address, "unix:", 5) || !strncmp(b->address, "127.", 4) || !strncmp(b->address, "[::1]", 5);
}

enum MHD_Result lh_mcp_route_headers(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *method) {
    if (!strcmp(method, "DELETE")) r->mcp_delete = 1;
    else if (strcmp(method, "POST"))
        return lh_http_error(b, c, r, 405, "method_not_allowed",
                             "/mcp takes POST (JSON-RPC) and DELETE (end a session); it opens no GET stream");
    /* DNS rebinding (the transport's security warning): a web page must not reach a local
     * server through a name that resolves to it. A browser always sends Origin on these
     * requests, so any Origin but a loopback one is refused; and a bridge on loopback
     * answers only to loopback names. */
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin) {
        const char *a = !strncmp(origin, "http://", 7) ? origin + 7 : !strncmp(origin, "https://", 8) ? origin + 8 : NULL;
        if (!a || !loopbackAuthority(a))
            return lh_http_error(b, c, r, 403, "origin_not_allowed",
                                 "Origin %.200s may not use /mcp (only a loopback origin may)", origin);
    }
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (listensLocally(b) && host && !loopbackAuthority(host))
        return lh_http_error(b, c, r, 403, "host_not_allowed",
                             "Host %.200s is not a loopback name: this bridge listens on %s", host, b->address);
    return MHD_YES;
}

/* ------------------------------------------------------------------------------ */
/* Replies                                                                          */
/* ------------------------------------------------------------------------------ */

/* A JSON-RPC reply (body may be NULL: 202 with no body), with the session's header. */
static enum MHD_Result replyRpc(struct MHD_Connection *c, lh_req *r, int status, const char *body, size_t len,
                                const char *sid) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(body ? len : 0, (void *)(body ? body : ""),
                                                                MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    if (body) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (sid && *sid) MHD_add_response_header(resp, "Mcp-Session-Id", sid);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return rc;
}

/* An HTTP refusal with a JSON-RPC error body (id null). */
static enum MHD_Result refuse(struct MHD_Connection *c, lh_req *r, int status, int code, const char *message) {
    size_t n;
    char *body = lh_mcp_error_reply(code, message, &n);
    if (!body) return MHD_NO;
    enum MHD_Result rc = replyRpc(c, r, status, body, n, NULL);
    free(body);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Sessions                                                                         */
/* ------------------------------------------------------------------------------ */

/* The session sid of token tid, or NULL; under mu. */
static mcpSession *findSession(lh_mcp_http *h, const char *sid, const char *tid) {
    for (int i = 0; i < LH_MCP_MAX_SESSIONS; i++)
        if (h->sessions[i].id[0] && !strcmp(h->sessions[i].id, sid))
            return strcmp(h->sessions[i].tid, tid) ? NULL : &h->sessions[i];
    return NULL;
}

/* A slot for a new session of token tid: a free one, else the token's oldest when it holds
 * its maximum, else the least recently used. Under mu. */
static mcpSession *slotFor(lh_mcp_http *h, const char *tid) {
    mcpSession *free_ = NULL, *lru = NULL, *mine = NULL;
    int count = 0;
    for (int i = 0; i < LH_MCP_MAX_SESSIONS; i++) {
        mcpSession *s = &h->sessions[i];
        if (!s->id[0]) { if (!free_) free_ = s; continue; }
        if (!lru || s->last_ns < lru->last_ns) lru = s;
        if (!strcmp(s->tid, tid)) { count++; if (!mine || s->last_ns < mine->last_ns) mine = s; }
    }
    if (count >= LH_MCP_SESSIONS_PER_TOKEN) return mine;
    return free_ ? free_ : lru;
}

static int newSessionId(char out[33]) {
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) return -1;
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

static int createSession(lh_mcp_http *h, const char *tid, const lh_mcp_session *st, char sid[33]) {
    if (newSessionId(sid)) return -1;
    pthread_mutex_lock(&h->mu);
    mcpSession *s = slotFor(h, tid);
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", sid);
    snprintf(s->tid, sizeof(s->tid), "%s", tid);
    s->st = *st;
    s->last_ns = lh_mono_ns();
    pthread_mutex_unlock(&h->mu);
    return 0;
}

/* Copy session sid's state into *st (and mark it used): 0, or -1 when there is none for this
 * token (ended, dropped, never made, or another token's). */
static int loadSession(lh_mcp_http *h, const char *sid, const char *tid, lh_mcp_session *st) {
    pthread_mutex_lock(&h->mu);
    mcpSession *s = findSession(h, sid, tid);
    if (s) { *st = s->st; s->last_ns = lh_mono_ns(); }
    pthread_mutex_unlock(&h->mu);
    return s ? 0 : -1;
}

/* Write back what a message changed (notifications/initialized). */
static void saveSession(lh_mcp_http *h, const char *sid, const char *tid, const lh_mcp_session *st) {
    pthread_mutex_lock(&h->mu);
    mcpSession *s = findSession(h, sid, tid);
    if (s && st->initialized) s->st.initialized = 1;
    pthread_mutex_unlock(&h->mu);
}

static int endSession(lh_mcp_http *h, const char *sid, const char *tid) {
    pthread_mutex_lock(&h->mu);
    mcpSession *s = findSession(h, sid, tid);
    if (s) memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&h->mu);
    return s ? 0 : -1;
}

/* ------------------------------------------------------------------------------ */
/* Tool calls on their own thread                                                   */
/* ------------------------------------------------------------------------------ */

/* The bridge's own address as a URL for the loopback call. */
static void selfUrl(const lh_bridge *b, char *out, size_t cap) {
    const char *a = b->address;
    if (!strncmp(a, "unix:", 5)) snprintf(out, cap, "%.1000s", a);
    else if (!strncmp(a, "0.0.0.0:", 8)) snprintf(out, cap, "http://127.0.0.1:%s", a + 8);
    else if (!strncmp(a, "[::]:", 5)) snprintf(out, cap, "http://[::1]:%s", a + 5);
    else snprintf(out, cap, "http://%.1000s", a);
}

static void *runJob(void *arg) {
    lh_mcp_job *j = arg;
    lh_mcp_http *h = j->h;
    lh_mcp_env env = {.call = lh_mcp_client_call, .ctx = &j->cl, .default_cwd = NULL};
    j->out = lh_mcp_answer(j->msg, &j->st, &env, &j->outlen);
    j->msg = NULL;
    saveSession(h, j->sid, j->tid, &j->st);
    struct MHD_Connection *c = j->c;
    /* From here the job is its connection's: not touched again. */
    atomic_store_explicit(&j->done, 1, memory_order_release);
    MHD_resume_connection(c);
    pthread_mutex_lock(&h->mu);
    if (--h->running == 0) pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static enum MHD_Result startJob(lh_bridge *b, struct MHD_Connection *c, lh_req *r, json_t *msg,
                                const lh_mcp_session *st, const char *sid) {
    lh_mcp_http *h = b->mcp;
    lh_mcp_job *j = calloc(1, sizeof(*j));
    if (!j) { json_decref(msg); return lh_http_error(b, c, r, 503, "out_of_memory", "out of memory"); }
    j->h = h;
    j->c = c;
    j->msg = msg;
    j->st = *st;
    snprintf(j->sid, sizeof(j->sid), "%s", sid);
    snprintf(j->tid, sizeof(j->tid), "%s", r->claims.tid);
    selfUrl(b, j->cl.url, sizeof(j->cl.url));
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok = auth ? auth + 7 : "";   /* authorize() checked "Bearer " */
    while (*tok == ' ') tok++;
    snprintf(j->cl.token, sizeof(j->cl.token), "%s", tok);
    j->cl.stop = &h->stop;
    atomic_init(&j->done, 0);
    pthread_mutex_lock(&h->mu);
    int busy = h->running >= LH_MCP_MAX_CALLS, stopping = atomic_load(&h->stop);
    if (!busy && !stopping) h->running++;
    pthread_mutex_unlock(&h->mu);
    if (busy || stopping) {
        json_decref(msg);
        free(j);
        if (stopping) return lh_http_error(b, c, r, 503, "shutting_down", "the bridge is stopping");
        return lh_http_error(b, c, r, 429, "rate_limited", "%d MCP tool calls are running; retry", LH_MCP_MAX_CALLS);
    }
    r->mcp_job = j;
    MHD_suspend_connection(c);   /* before the thread can resume it */
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &at, runJob, j);
    pthread_attr_destroy(&at);
    if (rc) {
        /* Answered on this thread instead: slower for a long-poll, never wrong. */
        runJob(j);
    }
    return MHD_YES;
}

enum MHD_Result lh_route_mcp_resumed(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_mcp_job *j = r->mcp_job;
    if (!atomic_load_explicit(&j->done, memory_order_acquire)) return MHD_YES;
    enum MHD_Result rc = j->out ? replyRpc(c, r, 200, j->out, j->outlen, NULL) : replyRpc(c, r, 202, NULL, 0, NULL);
    lh_mcp_req_done(r);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* The route                                                                        */
/* ------------------------------------------------------------------------------ */

/* Does the Accept header (if any) allow a JSON reply? */
static int acceptsJson(const char *a) {
    return !a || !*a || strstr(a, "application/json") || strstr(a, "*/*") || strstr(a, "application/*");
}

enum MHD_Result lh_route_mcp(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_mcp_http *h = b->mcp;
    const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
    const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
    const char *tid = r->claims.tid;
    if (r->mcp_delete) {
        if (!sid) return refuse(c, r, 400, LH_RPC_INVALID_REQUEST, "Bad Request: DELETE /mcp needs Mcp-Session-Id");
        if (endSession(h, sid, tid)) return refuse(c, r, 404, -32001, "Session not found");
        return replyRpc(c, r, 200, "{}", 2, NULL);
    }
    if (!acceptsJson(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)))
        return refuse(c, r, 406, LH_RPC_INVALID_REQUEST, "Not Acceptable: the client must accept application/json");
    if (ver && !lh_mcp_version_supported(ver)) {
        char m[200];
        snprintf(m, sizeof(m), "Bad Request: unsupported MCP-Protocol-Version %.40s (supported: %s, 2025-06-18, 2025-03-26)",
                 ver, LH_MCP_LATEST);
        return refuse(c, r, 400, LH_RPC_INVALID_REQUEST, m);
    }
    lh_mcp_info info;
    char *out = NULL;
    size_t outlen = 0;
    json_t *msg = lh_mcp_parse(r->body ? r->body : "", r->len, &info, &out, &outlen);
    if (!msg) {
        enum MHD_Result rc = out ? replyRpc(c, r, 400, out, outlen, NULL) : MHD_NO;
        free(out);
        return rc;
    }
    lh_mcp_session st;
    memset(&st, 0, sizeof(st));
    char newSid[33] = "";
    if (info.initialize && !info.batch) {
        if (sid) {
            json_decref(msg);
            return refuse(c, r, 400, LH_RPC_INVALID_REQUEST,
                          "Bad Request: initialize opens a new session; send it without Mcp-Session-Id");
        }
        out = lh_mcp_answer(msg, &st, NULL, &outlen);   /* no tool runs in an initialize */
        if (st.version[0] && createSession(h, tid, &st, newSid)) {
            free(out);
            return lh_http_error(b, c, r, 503, "no_randomness", "cannot make a session id");
        }
        enum MHD_Result rc = out ? replyRpc(c, r, 200, out, outlen, newSid) : MHD_NO;
        free(out);
        return rc;
    }
    if (!sid) {
        json_decref(msg);
        return refuse(c, r, 400, -32000, "Bad Request: Mcp-Session-Id header is required (initialize first)");
    }
    if (loadSession(h, sid, tid, &st)) {
        json_decref(msg);
        return refuse(c, r, 404, -32001, "Session not found");
    }
    if (info.tool_calls) return startJob(b, c, r, msg, &st, sid);
    out = lh_mcp_answer(msg, &st, NULL, &outlen);
    saveSession(h, sid, tid, &st);
    enum MHD_Result rc = out ? replyRpc(c, r, 200, out, outlen, NULL) : replyRpc(c, r, 202, NULL, 0, NULL);
    free(out);
    return rc;
}

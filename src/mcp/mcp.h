/* mcp.h — the Model Context Protocol server's core, shared by both transports: JSON-RPC 2.0
 * messages in, replies out, and the tool table (docs/mcp.md). It knows no transport: the
 * tools reach the bridge's HTTP API through a function the transport gives it (lh_mcp_env),
 * as the caller's token. `lighthouse mcp` (src/cli/mcp.c) gives it libcurl to
 * LIGHTHOUSE_URL; the bridge's POST /mcp (src/bridge/mcp_http.c) gives it libcurl to the
 * bridge's own listener with the token of the request, so both run the same route code.
 *
 * Protocol revisions: 2025-11-25 (the latest this server speaks), 2025-06-18 and
 * 2025-03-26 (the one revision with JSON-RPC batches: a batch is accepted only in a session
 * that negotiated it). */
#ifndef LH_MCP_H
#define LH_MCP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#define LH_MCP_LATEST "2025-11-25"
#define LH_MCP_MAX_MESSAGE (1u << 20)     /* one JSON-RPC message or batch, in bytes */
#define LH_MCP_MAX_BATCH 64               /* elements of a batch */
#define LH_MCP_MAX_REPLY (8u << 20)       /* one reply of the bridge's API, in bytes */

/* JSON-RPC error codes. */
#define LH_RPC_PARSE_ERROR (-32700)
#define LH_RPC_INVALID_REQUEST (-32600)
#define LH_RPC_METHOD_NOT_FOUND (-32601)
#define LH_RPC_INVALID_PARAMS (-32602)
#define LH_RPC_INTERNAL (-32603)

/* One reply of the bridge's API: status and body (malloc'd, NUL-terminated; the caller
 * frees it). */
typedef struct lh_mcp_reply {
    int status;
    char *body;
    size_t len;
} lh_mcp_reply;

/* Send one HTTP request to the bridge as the caller: method "GET" or "POST", path with its
 * query ("/v1/events?limit=5"), a JSON body for POST (NULL for GET). wait_s is how long the
 * bridge may hold the reply (a long-poll); the call may take that long plus a margin.
 * Returns 0 when a reply came (any status), -1 with a message in err when the bridge could
 * not be reached or its reply was too large. */
typedef int (*lh_mcp_call_fn)(void *ctx, const char *method, const char *path, const char *body, size_t len,
                              int wait_s, lh_mcp_reply *out, char *err, size_t errlen);

typedef struct lh_mcp_env {
    lh_mcp_call_fn call;
    void *ctx;
    const char *default_cwd;   /* validate's cwd when a call names none; NULL: the call must name it */
} lh_mcp_env;

/* A session's protocol state. Both transports keep one per client: stdio one for the
 * process, HTTP one per Mcp-Session-Id. */
typedef struct lh_mcp_session {
    char version[16];      /* the negotiated revision; "" until initialize succeeds */
    int initialized;       /* notifications/initialized was received */
} lh_mcp_session;

/* What a parsed message holds (lh_mcp_parse). */
typedef struct lh_mcp_info {
    int batch;             /* a JSON array */
    int requests;          /* elements that want an answer (method and id) */
    int initialize;        /* an initialize request among them */
    int tool_calls;        /* tools/call requests among them: they call the bridge */
} lh_mcp_info;

/* Is v a revision this server speaks? */
int lh_mcp_version_supported(const char *v);

/* Parse one message (text[0..len)). On success returns it (the caller passes it to
 * lh_mcp_answer, or json_decref's it) and describes it in *info. When it is not JSON (or is
 * past LH_MCP_MAX_MESSAGE) returns NULL with the -32700 error reply in *out (malloc'd,
 * *outlen bytes). */
json_t *lh_mcp_parse(const char *text, size_t len, lh_mcp_info *info, char **out, size_t *outlen);

/* Answer a parsed message (it is consumed): initialize, ping, tools/list, tools/call and
 * the notifications; each request's reply, or a batch's array of them. Returns the reply
 * (malloc'd JSON text, *outlen bytes) or NULL when there is nothing to send (notifications
 * and responses only). s is read and updated (initialize, notifications/initialized). */
char *lh_mcp_answer(json_t *msg, lh_mcp_session *s, const lh_mcp_env *env, size_t *outlen);

/* A JSON-RPC error reply with id null (a transport's own refusals): malloc'd. */
char *lh_mcp_error_reply(int code, const char *message, size_t *outlen);

/* ---- the HTTP caller both transports use (mcp_client.c, libcurl) ---- */

typedef struct lh_mcp_client {
    char url[1024];          /* "http://HOST:PORT[/PREFIX]" or "unix:/path.sock" */
    char token[4096];        /* bearer token; "" sends none */
    const _Atomic int *stop; /* non-NULL: a call gives up (within a second) once *stop */
} lh_mcp_client;

/* lh_mcp_call_fn over libcurl; ctx is an lh_mcp_client. The caller has run
 * curl_global_init before starting threads. */
int lh_mcp_client_call(void *ctx, const char *method, const char *path, const char *body, size_t len, int wait_s,
                       lh_mcp_reply *out, char *err, size_t errlen);

#endif

/* mcp_http.h — MCP over Streamable HTTP at the bridge's /mcp (docs/mcp.md): POST carries
 * JSON-RPC, DELETE ends a session, GET is 405 (no server-to-client stream: this server sends
 * no requests or notifications of its own). Sessions (Mcp-Session-Id) are bound to the
 * token that opened them. Origin and Host are checked against DNS rebinding.
 *
 * The tools run in-process as the caller: a tools/call is answered on a thread of this
 * module, which calls the bridge's own listener with the request's bearer token (an internal
 * loopback call). So each tool goes through the same route code, auth, roles, rate limits,
 * audit and metrics as the API it wraps, and a long-poll never holds an HTTP worker thread:
 * the /mcp connection is suspended meanwhile. At most LH_MCP_MAX_CALLS run at once (429
 * past that). */
#ifndef LH_BRIDGE_MCP_HTTP_H
#define LH_BRIDGE_MCP_HTTP_H

#include "bridge/bridge_int.h"

#define LH_MCP_MAX_CALLS 64          /* tools/call requests running at once */
#define LH_MCP_MAX_SESSIONS 1024     /* sessions kept; the least recently used goes first */
#define LH_MCP_SESSIONS_PER_TOKEN 64 /* sessions one token may hold */
#define LH_MCP_SESSION_IDLE_S 3600   /* a session unused this long may be dropped */

typedef struct lh_mcp_http lh_mcp_http;
struct lh_mcp_job;

lh_mcp_http *lh_mcp_http_new(void);
/* Make the running tool calls give up (within a second) and wait until each has resumed
 * its connection; refuse new ones. Call before MHD_stop_daemon. */
void lh_mcp_http_stop(lh_mcp_http *h);
void lh_mcp_http_free(lh_mcp_http *h);

/* From the request's headers (server.c, onHeaders): the method (POST, DELETE; others 405)
 * and the Origin and Host checks (403). MHD_YES with r->status 0 when the request goes on. */
enum MHD_Result lh_mcp_route_headers(lh_bridge *b, struct MHD_Connection *c, lh_req *r, const char *method);
/* The request is complete (authorised, body read). */
enum MHD_Result lh_route_mcp(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
/* Called again after a tool call resumed the connection. */
enum MHD_Result lh_route_mcp_resumed(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
/* Free what the request still holds (its finished job), when it completes. */
void lh_mcp_req_done(lh_req *r);

#endif

/* bridge_int.h — what the bridge's files share: the bridge's handles (struct lh_bridge),
 * a worker thread's state, a request in progress, the replies and the route handlers that
 * server.c dispatches to. Not a public interface: src/cli/serve.c uses bridge.h only.
 *
 * No lock and no atomic is declared here: each belongs to the module whose handle holds it
 * (docs/architecture.md, "The bridge's modules, threads and locks"), and only that module
 * touches it (tests/integration/bridge_ownership.sh checks). */
#ifndef LH_BRIDGE_INT_H
#define LH_BRIDGE_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bridge/appender.h"
#include "bridge/auth.h"
#include "bridge/bridge.h"
#include "bridge/engines.h"
#include "bridge/metrics.h"
#include "bridge/ratelimit.h"
#include "engine/engine.h"
#include "store/store.h"

/* Verified tokens remembered per worker thread: LH_TOKCACHE_SETS sets of
 * LH_TOKCACHE_WAYS slots (see server.c, verifyCached). */
#define LH_TOKCACHE_SETS 32
#define LH_TOKCACHE_WAYS 4

typedef struct lh_tokslot {
    char *tok;             /* malloc'd copy of a token that verified; NULL: empty */
    size_t len;
    lh_token_claims claims;
} lh_tokslot;

/* Per worker thread: its arena, its engine reference and its scratch buffers. */
typedef struct lh_tstate {
    struct lh_bridge *b;
    lh_arena *arena;
    lh_engines_hold eng;   /* its reference to the current engine (engines.h) */
    uint64_t rng;
    char *buf;             /* reply scratch */
    size_t bufcap;
    /* Tokens this thread verified recently (see server.c, verifyCached). */
    lh_tokslot tokcache[LH_TOKCACHE_SETS][LH_TOKCACHE_WAYS];
    unsigned tokvictim;    /* round-robin way to replace in a full set */
    struct lh_req *spare;  /* finished requests, for reuse (server.c, reqNew/reqFree) */
    int nspare;
    struct lh_tstate *next;
} lh_tstate;

typedef struct lh_slamon lh_slamon;
typedef struct lh_streams lh_streams;
typedef struct lh_revisions lh_revisions;
typedef struct lh_sessions lh_sessions;
typedef struct lh_revwatch lh_revwatch;
typedef struct lh_server lh_server;
typedef struct lh_experts lh_experts;
typedef struct lh_escalations lh_escalations;

#define LH_ESC_ID_LEN 20   /* "esc-" + 16 hex */

/* A request's part in an escalation (escalations.c; while it waits, guarded by the
 * escalations' mu). Zeroed with the request. */
typedef struct lh_esc_wait {
    char id[LH_ESC_ID_LEN + 1];   /* the escalation its decision created or joined; "" none */
    uint64_t wait_ns;             /* ?wait= of a decision (0: answer at once) */
    uint64_t until;               /* lh_mono_ns when the wait ends */
    int waited;                   /* a decision's wait is over: render the outcome */
    int waiting;                  /* suspended on an escalation (server.c resumes through it) */
    int list;                     /* a long-poll of GET /v1/escalations */
    uint64_t claim_ns;            /* ... that claims what it is given (?claim=): the lease; 0 none */
    int woken;                    /* its wait ended and the connection was resumed */
    struct lh_esc_wait *next;     /* in a waiter list */
    struct MHD_Connection *conn;
    struct lh_req *req;
    /* An escalation this decision created, not yet durable: its escalation.created event
     * (malloc'd) goes into the store with the decision.made event, in one commit, and
     * lh_escalations_born ends it (escalations.c owns both). */
    char *created;
    void *unborn;
    struct lh_escalations *owner;
    /* A verdict being recorded (its connection suspended until the commit): the
     * escalation, the vote, and its reason and final reason (malloc'd; consumed by
     * lh_escalations_verdict_done). */
    void *changing;
    int v_allow, v_decided;
    char *v_why, *v_fr;
} lh_esc_wait;

unsigned lh_bridge_connections(lh_bridge *b);   /* open on both listeners */

/* The bridge: its configuration and one handle per module. Each handle's state is the
 * module's own; what is here is set at the start and read-only after it. */
struct lh_bridge {
    lh_bridge_config cfg;
    struct MHD_Daemon *d;
    int listen_fd;
    char address[LH_BRIDGE_PATH_MAX + 8];
    char unix_path[LH_BRIDGE_PATH_MAX];
    /* The experts' listener (expert_listen; server.c): its own daemon and threads, which
     * run at the lowest priority, so the experts' requests cannot take the CPU from the
     * fast path's. dx is NULL without one. */
    struct MHD_Daemon *dx;
    int expert_fd;
    char expert_address[LH_BRIDGE_PATH_MAX + 8];
    char expert_unix_path[LH_BRIDGE_PATH_MAX];

    lh_store *store;
    int postgres;
    unsigned char tokkey[LH_AUTH_KEY_LEN];
    lh_revoked *revoked;           /* auth.c */
    lh_ratelimit *rl;              /* ratelimit.c */
    lh_metrics *m;                 /* metrics.c */
    double start_time;             /* unix seconds */
    uint64_t start_ns;             /* monotonic */

    lh_server *srv;                /* server.c: threads, draining, requests in flight */
    lh_engines *engines;           /* engines.c: the current engine and its swap */
    lh_revisions *revisions;       /* revisions.c: policy changes */
    lh_appender *appender;         /* appender.c: the store's writes, readiness */
    lh_streams *streams;           /* sse.c: the event streams */
    lh_sessions *sessions;         /* sessions.c: active sessions */
    lh_slamon *sla;                /* sla_monitor.c: the SLA monitor */
    struct lh_shadows *shadows;    /* shadows.c: project shadows */
    struct lh_annotations *annotations;   /* annotations.c: anchored annotations */
    struct lh_mcp_http *mcp;       /* mcp_http.c: MCP sessions and tool calls at /mcp */
    lh_revwatch *revwatch;         /* revwatch.c: other processes' revocations */
    lh_experts *experts;           /* experts.c: the expert registry */
    lh_escalations *escalations;   /* escalations.c: expert escalations and their waiters */
    struct lh_elicits *elicits;    /* elicitations.c: agent-to-agent questions */
};

/* One request in progress (MHD's per-request pointer). Requests are recycled through their
 * thread's free list (server.c, reqNew/reqFree) with their buffers, so a decision in steady
 * state allocates none of its own memory. */
typedef struct lh_req {
    struct lh_req *next;   /* a thread's free list */
    lh_route route;
    uint64_t t0;
    int status;
    int authed;
    lh_token_claims claims;
    char *body;            /* kept across reuse, like reply and evdata */
    size_t len, cap;
    int overflow;
    int yaml;              /* POST /v1/policy sent YAML */
    int is_post;           /* the method was POST (routes that take GET and POST) */
    char sub[64];          /* a prefix route's rest of the path (/v1/elicitations/{sub}) */
    char method[8];        /* GET, POST, DELETE (routes that take more than one) */
    /* A decision waiting for its append (appender.c). Its reply is written before the
     * append: reply[0, pre_len) + the seq + reply[post_at, reply_len). */
    int waiting;           /* suspended until the append is done */
    char *reply;
    size_t reply_cap, pre_len, post_at, reply_len;
    int with_seq;          /* put the seq between the two parts */
    /* Its decision.made event: the agent is claims.agent. */
    char id[37];          /* the decision's event id: a UUIDv7 */
    char aggregate[300];
    char *evdata;
    size_t evcap;
    lh_append_job job;     /* the append and its result (appender.h) */
    char rid[LH_ESC_ID_LEN + 8]; /* the {id} of /v1/escalations/{id}[/verdict], /v1/annotations/{id} */
    lh_esc_wait esc;       /* its escalation and its wait (escalations.h) */
    int fast;              /* a decision allow or deny, not by experts: timed as the fast path (metrics.h) */
    int cpu_sampled;       /* its handler calls' thread CPU is summed in cpu_ns (server.c, onRequest) */
    uint64_t cpu_ns;
    int mcp_delete;        /* DELETE /mcp (mcp_http.c) */
    struct lh_mcp_job *mcp_job;   /* a tools/call running on its thread; the connection is suspended */
} lh_req;

/* The decision.made event's data for request r and decision d (id: the decision's id) in
 * rq->evdata, NUL-terminated: already the store's canonical form (routes.c, eventData).
 * scratch[0..cap) holds the decision's JSON meanwhile. -1 when it does not fit or out of
 * memory. */
int lh_bridge_event_data(lh_req *rq, const lh_request *r, const lh_decision *d, const char *id, char *scratch,
                         size_t cap);

/* The monotonic clock (CLOCK_MONOTONIC) in ns: durations, deadlines, uptime; never a
 * time of day (that is the store's lh_wall_ns()). */
uint64_t lh_mono_ns(void);
lh_tstate *lh_bridge_tstate(lh_bridge *b);
/* Append one event now (appender.h, lh_appender_append), waiting for its commit. */
int lh_bridge_append(lh_bridge *b, const char *type, const char *agent, const char *aggregate, const char *data,
                     int64_t *seq, char *err, size_t errlen);
/* Is the bridge ready (the store appends and it is not draining)? server.c. */
int lh_bridge_ready(lh_bridge *b);
/* Is it draining (stopping)? server.c. */
int lh_bridge_draining(lh_bridge *b);

/* Queue the reply of a request whose append finished (called on its resumed call). */
enum MHD_Result lh_route_decide_finish(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

/* Replies. */
enum MHD_Result lh_http_reply(struct MHD_Connection *c, lh_req *r, int status, const char *ctype,
                              const char *body, size_t len);
enum MHD_Result lh_http_error(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int status,
                              const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same with a Retry-After header of retry_after seconds (429, 503). */
enum MHD_Result lh_http_error_retry(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int status, const char *code,
                                    int retry_after, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Query argument name as an integer in [lo, hi] into *out: 0 when it is absent or empty
 * (*out keeps its default), -1 when it is not a whole decimal number in range. */
int lh_http_arg_int(struct MHD_Connection *c, const char *name, int64_t lo, int64_t hi, int64_t *out);

/* Route handlers (routes.c; revisions.h, sse.h and tokens.c have theirs): called once the
 * body is complete. */
enum MHD_Result lh_route_decide(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_events(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_status(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_metrics(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_sla(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
/* tokens.c: POST /v1/tokens and /v1/tokens/revoke (admin) */
enum MHD_Result lh_route_tokens_create(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_tokens_revoke(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
/* loadruns.c: POST /v1/load/runs (admin) and GET /v1/load/runs (expert, admin) */
enum MHD_Result lh_route_load_runs(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

/* An event as JSON for the API (data parsed, mac in hex); new reference. */
json_t *lh_bridge_event_json(const lh_event *e);
/* Reply with j (stolen) as compact JSON. */
enum MHD_Result lh_bridge_reply_json(struct MHD_Connection *c, lh_req *r, int status, json_t *j);

/* Nesting depth of JSON text (brackets outside strings); stops counting past limit. */
int lh_json_depth(const char *s, size_t len, int limit);

#endif

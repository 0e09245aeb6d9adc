/* bridge_int.h — what the bridge's files share (server.c, routes.c, appender.c, sse.c,
 * revisions.c).
 * Not a public interface: src/cli/serve.c uses bridge.h only. */
#ifndef LH_BRIDGE_INT_H
#define LH_BRIDGE_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bridge/auth.h"
#include "bridge/bridge.h"
#include "bridge/metrics.h"
#include "bridge/ratelimit.h"
#include "engine/engine.h"
#include "store/store.h"

#define LH_SESSION_SLOTS 4096

/* An engine with the policy text it was built from. Threads hold references (see
 * lh_bridge_engine_get); the last reference frees it. */
typedef struct lh_engref {
    lh_engine *e;
    char *yaml;            /* policy YAML (malloc'd) */
    size_t yaml_len;
    char revision[160];
    int refs;              /* under lh_bridge.eng_mu */
} lh_engref;

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
    lh_engref *eng;
    uint64_t gen;
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

typedef struct lh_sse lh_sse;
typedef struct lh_slamon lh_slamon;

struct lh_bridge {
    lh_bridge_config cfg;
    struct MHD_Daemon *d;
    int listen_fd;
    char address[LH_BRIDGE_PATH_MAX + 8];
    char unix_path[LH_BRIDGE_PATH_MAX];

    lh_store *store;
    int postgres;
    unsigned char tokkey[LH_AUTH_KEY_LEN];
    lh_revoked *revoked;
    lh_ratelimit *rl;
    lh_metrics *m;

    pthread_mutex_t eng_mu;       /* engine swaps and reference counts (rare) */
    _Atomic uint64_t eng_gen;
    lh_engref *eng_cur;
    pthread_mutex_t policy_mu;    /* serialises policy pushes, rollbacks and reloads */

    pthread_mutex_t ts_mu;
    lh_tstate *threads;

    _Atomic int store_ok;
    _Atomic int draining;
    _Atomic long inflight;
    double start_time;
    uint64_t start_ns;
    _Atomic uint32_t sessions[LH_SESSION_SLOTS];  /* last-seen minute of a session hash */

    lh_slamon *sla;                /* the SLA monitor (sla_monitor.c) */
    struct lh_shadows *shadows;    /* project shadows (shadows.c) */

    pthread_t watcher;
    int watcher_started;
    _Atomic int stopping;

    struct lh_appender *appender;
    _Atomic uint64_t last_append_ns;  /* when a decision's append last finished (writer thread) */

    pthread_mutex_t sse_mu;
    lh_sse *streams;
    _Atomic int nstreams;
    _Atomic int nhelpers;          /* SSE helper threads alive */
};
typedef struct lh_bridge lh_bridge_t;

/* One request in progress (MHD's per-request pointer). Requests are recycled through their
 * thread's free list (server.c, reqNew/reqFree) with their buffers, so a decision in steady
 * state allocates none of its own memory. */
typedef struct lh_req {
    struct lh_req *next;   /* a thread's free list */
    struct lh_bridge *b;
    lh_route route;
    uint64_t t0;
    int status;
    int authed;
    lh_token_claims claims;
    char *body;            /* kept across reuse, like reply and evdata */
    size_t len, cap;
    int overflow;
    int yaml;              /* POST /v1/policy sent YAML */
    /* A decision waiting for its append (appender.c). Its reply is written before the
     * append: reply[0, pre_len) + the seq + reply[post_at, reply_len). */
    int waiting;           /* suspended until the append is done */
    _Atomic int done;      /* set by the appender before it resumes the connection */
    char *reply;
    size_t reply_cap, pre_len, post_at, reply_len;
    int with_seq;          /* put the seq between the two parts */
    /* Its decision.made event: the agent is claims.agent; the store's copy of it lives in
     * arena until the append is done. */
    struct MHD_Connection *conn;
    lh_arena *arena;
    char id[37];          /* the decision's event id: a UUIDv7 */
    char aggregate[300];
    char *evdata;
    size_t evcap;
    uint64_t t_enq;
    /* The append's result. */
    int64_t seq;
    int append_rc;
    char append_err[256];
} lh_req;

/* The decision.made event's data for request r and decision d (id: the decision's id) in
 * rq->evdata, NUL-terminated: already the store's canonical form (routes.c, eventData).
 * scratch[0..cap) holds the decision's JSON meanwhile. -1 when it does not fit or out of
 * memory. */
int lh_bridge_event_data(lh_req *rq, const lh_request *r, const lh_decision *d, const char *id, char *scratch,
                         size_t cap);

uint64_t lh_bridge_now_ns(void);
lh_tstate *lh_bridge_tstate(lh_bridge_t *b);
lh_engref *lh_bridge_engine(lh_bridge_t *b, lh_tstate *ts);
/* Build an engine from YAML (NULL: the built-in default) into a new engref. */
lh_engref *lh_bridge_engref_new(lh_bridge_t *b, const char *yaml, size_t len, const char *name,
                                char *err, size_t errlen);
void lh_bridge_engref_install(lh_bridge_t *b, lh_engref *r);
/* Free an engref that was never installed. */
void lh_bridge_engref_free(lh_engref *r);
/* A copy of the current revision string. */
void lh_bridge_revision(lh_bridge_t *b, char *out, size_t cap);
/* Append one event, updating store metrics and readiness. */
int lh_bridge_append(lh_bridge_t *b, const char *type, const char *agent, const char *aggregate,
                     const char *data, int64_t *seq, char *err, size_t errlen);

/* The appender (appender.c): decisions are appended asynchronously (the store's next group
 * commit) while their connections are suspended, so no HTTP worker waits for an fsync. */
struct lh_appender *lh_appender_start(lh_bridge_t *b, char *err, size_t errlen);
/* Append the decision.made event of request r (r->id, r->aggregate, r->evdata, agent
 * r->claims.agent) and suspend c; c is resumed when r->done is set (r->append_rc says
 * how it went), and r is not touched after that. -1, without suspending, once stopped. */
int lh_appender_submit(struct lh_appender *ap, struct MHD_Connection *c, lh_req *r);
/* Refuse new submits (-1) and wait until every submitted append has finished. The
 * appender stays allocated, so requests still in MHD may call submit safely. */
void lh_appender_stop(struct lh_appender *ap);
/* Stop (if needed) and free; call after MHD is stopped. NULL is a no-op. */
void lh_appender_free(struct lh_appender *ap);
/* malloc_trim once decisions have stopped for a second (the revocation watcher's rounds;
 * *trimmed_for is the caller's: last_append_ns at the last trim, 0 at first). */
void lh_appender_trim_when_idle(lh_bridge_t *b, uint64_t *trimmed_for);
/* Queue the reply of a request whose append finished (called on its resumed call). */
enum MHD_Result lh_route_decide_finish(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);

/* Replies. */
enum MHD_Result lh_http_reply(struct MHD_Connection *c, lh_req *r, int status, const char *ctype,
                              const char *body, size_t len);
enum MHD_Result lh_http_error(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r, int status,
                              const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Route handlers (routes.c, revisions.c, sse.c): called once the body is complete. */
enum MHD_Result lh_route_decide(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_events(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_status(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_metrics(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_policy_push(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_policy_history(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_policy_rollback(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_stream(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
/* tokens.c: POST /v1/tokens and /v1/tokens/revoke (admin) */
enum MHD_Result lh_route_tokens_create(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_tokens_revoke(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);
/* Record and install an engine built by lh_bridge_engref_new (which it then owns, also
 * on failure). */
int lh_bridge_policy_install(lh_bridge_t *b, lh_engref *er, const char *source, const char *agent,
                             int64_t *seq, char *err, size_t errlen);
/* Roll the policy back (revisions.c): the route's and the SLA monitor's common core. */
#define LH_ROLLBACK_STEPS 8
typedef struct lh_rollback_step { char name[24]; double ms; } lh_rollback_step;
typedef struct lh_rollback_req {
    const char *target;          /* revision to restore; NULL or "": the newest recorded one that is not active */
    const char *expect_current;  /* fail (409) unless this is still the active revision; NULL: any */
    int trigger;                 /* LH_ROLLBACK_API or LH_ROLLBACK_SLA (metrics.h) */
    const char *agent;           /* who asked ("" for the bridge itself) */
    json_t *extra;               /* merged into the policy.rolled_back data (borrowed), or NULL */
    const lh_rollback_step *pre; /* steps taken before the call (the monitor's "detect") */
    int npre;
} lh_rollback_req;
typedef struct lh_rollback_result {
    char revision[160], previous[160];
    int64_t seq;                 /* the policy.rolled_back event */
    int status;                  /* on failure: 404 no such revision, 409 active changed, 400 does not load, 503 store */
    lh_rollback_step steps[LH_ROLLBACK_STEPS];   /* pre, load_history, build_engine, record, install */
    int nsteps;
    uint64_t duration_ns;        /* from the call to the installed revision */
} lh_rollback_result;
/* Load the target's YAML from the policy events, build its engine, record
 * policy.rolled_back (with the steps so far, the trigger and rq->extra) and install it,
 * under policy_mu; count it in rollbacks_total. 0, or -1 with res->status and err. */
int lh_bridge_rollback(lh_bridge_t *b, const lh_rollback_req *rq, lh_rollback_result *res, char *err, size_t errlen);

/* The SLA monitor (sla_monitor.c). */
lh_slamon *lh_slamon_new(lh_bridge_t *b, char *err, size_t errlen);
int lh_slamon_start(lh_slamon *m, char *err, size_t errlen);   /* the sampling thread (if enabled) */
void lh_slamon_stop(lh_slamon *m);                             /* join it; NULL is a no-op */
void lh_slamon_free(lh_slamon *m);
/* A revision became active (start, push, SIGHUP, rollback). Called under policy_mu. */
void lh_slamon_policy_changed(lh_slamon *m, const char *revision, int rollback);
/* Before the start revision is installed: if the events say it became active less than a
 * canary window ago (the bridge restarted inside its canary), its window resumes from
 * then, with the revision before it as the rollback target (docs/sla.md). */
void lh_slamon_resume(lh_slamon *m, const char *startRev);
/* Exposition text of the SLA and alert metrics (malloc'd), for /metrics. */
char *lh_slamon_metrics(lh_slamon *m);
/* {"state", "enabled", "violated": [...]} for /v1/status; new reference. */
json_t *lh_slamon_status_json(lh_slamon *m);
enum MHD_Result lh_route_sla(lh_bridge_t *b, struct MHD_Connection *c, lh_req *r);

/* SSE: wake every stream so it ends (shutdown). */
void lh_sse_shutdown(lh_bridge_t *b);

/* An event as JSON for the API (data parsed, mac in hex); new reference. */
json_t *lh_bridge_event_json(const lh_event *e);
/* Reply with j (stolen) as compact JSON. */
enum MHD_Result lh_bridge_reply_json(struct MHD_Connection *c, lh_req *r, int status, json_t *j);

/* Nesting depth of JSON text (brackets outside strings); stops counting past limit. */
int lh_json_depth(const char *s, size_t len, int limit);

#endif

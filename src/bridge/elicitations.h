/* elicitations.h — one agent asks another a question, with a JSON schema for the answer
 * (issue 13 part 5; docs/api.md, "Elicitations"; the MCP elicitation schema subset is
 * util/jschema.h).
 *
 *   POST /v1/elicitations                  (any role) {to, message, schema, expires_in_s} → 201 ELI
 *   GET  /v1/elicitations?for=me|from=me&state=pending|all&wait=S&limit=N → {"elicitations": [ELI]}
 *   GET  /v1/elicitations/{id}?wait=S      (asker, addressee, admin) → ELI
 *   POST /v1/elicitations/{id}/response    {action: accept|decline|cancel, content} → ELI
 *
 * State, all owned here and guarded by one mutex (mu): the table of elicitations (pending
 * ones, and the last LH_ELICIT_KEEP_DONE finished ones for GET), the waiters (long-polls),
 * the metrics. Every step is an event (elicitation.created / accepted / declined /
 * cancelled / expired, aggregate = the id), appended while mu is held, so the log's order
 * is the table's order and a step that could not be recorded did not happen (503, the
 * elicitation unchanged). Elicitations are rare beside decisions, and no decision takes mu.
 *
 * Threads: the HTTP workers (requests; a long-poll's connection is suspended, never a
 * blocked worker) and one sweeper thread (lh-elicit) that sleeps on a condition variable
 * (cv, with mu) until the next expiry or long-poll deadline, expires what is due and wakes
 * the waiters whose deadline passed. Pending elicitations are rebuilt from the events at
 * start; one whose expiry passed while the bridge was down expires at the first sweep.
 *
 * The core (create, respond, get, list, sweep, replay) takes the time as an argument and
 * records through a host callback, so tests/unit/test_elicitations.c drives it without
 * HTTP and without a clock. */
#ifndef LH_BRIDGE_ELICITATIONS_H
#define LH_BRIDGE_ELICITATIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/bridge_int.h"

#define LH_ELICIT_KEEP_DONE 4096          /* finished elicitations kept for GET */
#define LH_ELICIT_MAX_EXPIRES_S 3600
#define LH_ELICIT_DEFAULT_EXPIRES_S 300
#define LH_ELICIT_MAX_WAIT_S 60
#define LH_ELICIT_MAX_CONTENT (64u << 10)  /* bytes of an answer's compact JSON */

typedef struct lh_elicits lh_elicits;

typedef struct lh_elicit_limits {
    double rate;           /* creations per second per asking agent (0: no limit) */
    double burst;          /* its bucket */
    int max_pending_to;    /* pending elicitations per addressee */
    int max_pending;       /* pending elicitations in all */
    size_t max_message;    /* bytes of a message */
    size_t max_schema;     /* bytes of a schema (compact JSON) */
    int max_waiters;       /* long-polls at once */
} lh_elicit_limits;

/* How the module records: append one event durably (0, or -1 with err). */
typedef int (*lh_elicit_append_fn)(void *ctx, const char *type, const char *agent, const char *aggregate,
                                   const char *data, char *err, size_t errlen);

/* Who calls: the token's agent, and whether it is an admin. */
typedef struct lh_elicit_caller {
    const char *agent;
    int admin;
} lh_elicit_caller;

/* The answer of a core call: an HTTP status, and either body (a new reference, the
 * caller's) or an error code and message; retry_after (seconds) with a 429. */
typedef struct lh_elicit_result {
    int status;
    json_t *body;
    char code[32];
    char msg[512];
    int retry_after;
} lh_elicit_result;

/* A list query. */
typedef struct lh_elicit_query {
    int from_me;           /* 0: for=me (addressed to the caller); 1: from=me (asked by it) */
    int all;               /* 0: pending only; 1: every state */
    size_t limit;          /* 1..1000 */
} lh_elicit_query;

/* A new, empty module (the sweeper not started). lim is copied. NULL when out of memory. */
lh_elicits *lh_elicits_new(const lh_elicit_limits *lim, lh_elicit_append_fn append, void *ctx);
/* Stop the sweeper (if started), then free. NULL is a no-op. Call after MHD stopped. */
void lh_elicits_free(lh_elicits *e);

/* ---- the core (each takes mu; now_ns is the wall clock, ns since the epoch) ---- */
void lh_elicits_create(lh_elicits *e, const lh_elicit_caller *who, const char *body, size_t len, int64_t now_ns,
                       lh_elicit_result *res);
void lh_elicits_respond(lh_elicits *e, const lh_elicit_caller *who, const char *id, const char *body, size_t len,
                        int64_t now_ns, lh_elicit_result *res);
void lh_elicits_get(lh_elicits *e, const lh_elicit_caller *who, const char *id, lh_elicit_result *res);
void lh_elicits_list(lh_elicits *e, const lh_elicit_caller *who, const lh_elicit_query *q, lh_elicit_result *res);
/* Expire the pending elicitations due at now_ns (recording each), and fire the waiters
 * whose deadline (monotonic ns) passed. Returns how many expired. */
int lh_elicits_sweep(lh_elicits *e, int64_t now_ns, uint64_t mono_ns);
/* Apply one recorded elicitation.* event (the rebuild at start); others are ignored. */
void lh_elicits_replay(lh_elicits *e, const lh_event *ev);
/* Pending elicitations now. */
int lh_elicits_pending(lh_elicits *e);
/* The metrics' exposition text (malloc'd; caller frees), for /metrics. */
char *lh_elicits_metrics(lh_elicits *e);

/* ---- in the bridge ---- */

/* Make the module for bridge b (limits from b->cfg), rebuild it from the store's
 * elicitation.* events, and start the sweeper. NULL with err. */
lh_elicits *lh_elicits_start(lh_bridge *b, char *err, size_t errlen);
/* The stop began: every long-poll answers now (MHD must not stop with suspended
 * connections) and new ones answer at once. */
void lh_elicits_shutdown(lh_elicits *e);

/* Route handlers (server.c dispatches; auth is checked). /v1/elicitations: GET list, POST
 * create. /v1/elicitations/...: r->sub holds the rest of the path ("{id}" or
 * "{id}/response"). */
enum MHD_Result lh_route_elicitations(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_elicitation(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

#endif

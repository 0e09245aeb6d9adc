/* outcome.h — the one classification of a request's outcome (docs/sla.md, "Outcomes").
 *
 * Every answered (or unanswered) request falls in exactly one class, decided here and
 * nowhere else; the metrics (lighthouse_bridge_outcomes_total), the SLA monitor and the
 * docs all use it:
 *   ok            1xx-3xx: the bridge did its job
 *   server_fault  5xx, or no reply for a reason of the bridge's own: the bridge or its
 *                 store failed
 *   client_error  4xx except 429: bad input, no or a bad token, a role that may not, a
 *                 wrong method, route, size or media type
 *   throttled     429: the caller's rate limit
 *   client_gone   no reply because the peer closed or reset the connection first
 * Only ok and server_fault say something about the bridge's health: the error-rate and
 * availability objectives count server faults over (ok + server faults). */
#ifndef LH_UTIL_OUTCOME_H
#define LH_UTIL_OUTCOME_H

typedef enum {
    LH_OUTCOME_OK = 0,
    LH_OUTCOME_SERVER_FAULT,
    LH_OUTCOME_CLIENT_ERROR,
    LH_OUTCOME_THROTTLED,
    LH_OUTCOME_CLIENT_GONE,
    LH_OUTCOME_COUNT
} lh_outcome;

/* The class of an HTTP status. status 0 means no reply was queued: peerGone says whether
 * the peer closed or reset the connection before it (client_gone) or not (server_fault). */
lh_outcome lh_outcome_of(int status, int peerGone);
/* "ok", "server_fault", "client_error", "throttled", "client_gone". */
const char *lh_outcome_name(lh_outcome o);
/* 1 for the classes the bridge answers for (ok, server_fault): the requests the SLA's
 * request objectives are computed over. */
int lh_outcome_counts_for_sla(lh_outcome o);

#endif

/* revisions.h — policy revisions as events: activate (start, SIGHUP, POST /v1/policy),
 * history and rollback.
 *
 * Owns: policy_mu, which serialises every policy change (push, reload, rollback) from
 * recording its event to installing its engine, and the change observer. No other file
 * touches them. Lock order: policy_mu, then the engine registry's eng_mu (engines.c), then
 * what the observer takes (the SLA monitor's mu). */
#ifndef LH_BRIDGE_REVISIONS_H
#define LH_BRIDGE_REVISIONS_H

#include "bridge/bridge_int.h"
#include "bridge/engines.h"
#include "bridge/rollback.h"

typedef struct lh_revisions lh_revisions;

/* Told of every revision that became active (start, push, SIGHUP, rollback), under
 * policy_mu, after its engine is installed. */
typedef void (*lh_revisions_observer)(void *ctx, const char *revision, int rollback);

lh_revisions *lh_revisions_new(void);
void lh_revisions_free(lh_revisions *rv);
/* Set the observer (one; NULL: none). Call before the first install. */
void lh_revisions_observe(lh_revisions *rv, lh_revisions_observer fn, void *ctx);

/* Record and install an engine built by lh_engines_build (which it then owns, also on
 * failure). */
int lh_bridge_policy_install(lh_bridge *b, lh_engref *er, const char *source, const char *agent, int64_t *seq,
                             char *err, size_t errlen);
/* Install the policy of another replica's policy.* event ev (from the store) unless a newer
 * policy event is already in force here; records nothing. 0 (also when skipped), or -1 with
 * err when its policy does not build (the current one stays). */
int lh_revisions_apply_event(lh_bridge *b, const lh_event *ev, char *err, size_t errlen);
/* Load the target's YAML from the policy events, build its engine, record
 * policy.rolled_back (with the steps so far, the trigger and rq->extra) and install it,
 * under policy_mu; count it in rollbacks_total. 0, or -1 with res->status and err. */
int lh_bridge_rollback(lh_bridge *b, const lh_rollback_req *rq, lh_rollback_result *res, char *err, size_t errlen);

enum MHD_Result lh_route_policy_push(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_policy_history(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_policy_rollback(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

#endif

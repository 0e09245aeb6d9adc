/* experts.h — the registry of expert agents (issue 13 part 1): who registered with which
 * capabilities, when each was last seen (register again, or a long-poll on
 * /v1/escalations, is a heartbeat), and who is available (seen within 3 heartbeat
 * intervals). Records expert.registered and expert.left (explicit, or the heartbeat lapsed).
 *
 * Owns: mu (guards the table). No other file touches it. It appends through the bridge
 * (lh_bridge_append) outside mu. docs/api.md, "Experts". */
#ifndef LH_BRIDGE_EXPERTS_H
#define LH_BRIDGE_EXPERTS_H

#include "bridge/bridge_int.h"

#define LH_EXPERTS_MAX 1024          /* registered experts at once */
#define LH_EXPERT_CAP_MAX 64         /* bytes of one capability name */

typedef struct lh_experts lh_experts;

/* heartbeat_s: the interval experts are told to keep. NULL when out of memory. */
lh_experts *lh_experts_new(lh_bridge *b, int heartbeat_s);
void lh_experts_free(lh_experts *x);

/* Rebuild the table from the store's expert.* events (at the start). 0 or -1 with err. */
int lh_experts_load(lh_experts *x, lh_store *st, char *err, size_t errlen);

/* Does name (registered, not left) hold every one of caps? Admins are the caller's check. */
int lh_experts_capable(lh_experts *x, const char *name, const char *const *caps, int ncaps);
/* A long-poll's heartbeat: only for a registered expert. */
void lh_experts_heartbeat(lh_experts *x, const char *name);
/* Experts whose heartbeat lapsed leave (expert.left, reason "lapsed"). The escalations'
 * timer thread calls it now and then. */
void lh_experts_sweep(lh_experts *x);
/* The text of the gauges for /metrics (malloc'd; NULL when out of memory). */
char *lh_experts_metrics(lh_experts *x);

/* POST /v1/experts/register, POST /v1/experts/leave, GET /v1/experts. */
enum MHD_Result lh_route_experts_register(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_experts_leave(lh_bridge *b, struct MHD_Connection *c, lh_req *r);
enum MHD_Result lh_route_experts_list(lh_bridge *b, struct MHD_Connection *c, lh_req *r);

#endif

/* rollback.h — a policy rollback's request and result: the words revisions.c (which does
 * it) and sla_monitor.c (which asks for it through its host operations) share. Types
 * only. */
#ifndef LH_BRIDGE_ROLLBACK_H
#define LH_BRIDGE_ROLLBACK_H

#include <jansson.h>
#include <stdint.h>

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

#endif

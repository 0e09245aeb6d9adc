/* sla_monitor.h — the SLA monitor inside the bridge (docs/sla.md): a thread that samples
 * the bridge's counters, evaluates them (sla.c) and acts on the transitions (events,
 * alerts, automatic rollback).
 *
 * It sees the bridge only through its host operations (lh_slamon_host), as the store's
 * front end sees a backend through lh_backend_ops: server.c fills them in. The monitor
 * learns of policy changes from the revisions' observer, which server.c wires to
 * lh_slamon_policy_changed; it never calls revisions.c itself.
 *
 * Replicas sharing PostgreSQL: each publishes its counters every tick, and the SLA leader
 * decides on all of them merged (sla_merge.h; docs/sla.md, "Replicas").
 *
 * Owns: its thread ("lh-sla-monitor"), mu (the views: evaluators, notes, lineages; the last
 * rollback), the replicas' merge (the thread only), bmu (recording: the backlog and every append of the monitor and of the alert
 * thread), npending and dropped. No other file touches them. */
#ifndef LH_BRIDGE_SLA_MONITOR_H
#define LH_BRIDGE_SLA_MONITOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/alert.h"
#include "bridge/metrics.h"
#include "bridge/rollback.h"
#include "bridge/sla.h"
#include "store/store.h"

typedef struct lh_slamon lh_slamon;

/* What the monitor may ask of the bridge. ctx is passed to each operation. */
typedef struct lh_slamon_host {
    void *ctx;
    /* The cumulative counters (metrics.h, lh_metrics_sla_read). */
    void (*counts)(void *ctx, lh_metrics_sla_counts *total, lh_metrics_sla_counts *agents);
    /* The agents' names by slot (read while the bridge runs; a slot's name is complete
     * before its counters are published). */
    const char (*names)[LH_METRICS_AGENT_NAME];
    /* Append one event now (agent ""). 0, or -1 with err. */
    int (*append)(void *ctx, const char *type, const char *aggregate, const char *data, int64_t *seq, char *err,
                  size_t errlen);
    /* Roll the policy back (revisions.h, lh_bridge_rollback). */
    int (*rollback)(void *ctx, const lh_rollback_req *rq, lh_rollback_result *res, char *err, size_t errlen);
    /* The active revision. */
    void (*revision)(void *ctx, char *out, size_t cap);
    /* Read-only queries of the policy history at the start (lh_slamon_resume). */
    lh_store *store;
} lh_slamon_host;

/* The monitor with its alerts (started now: a bad alert setting fails here). host is
 * copied. NULL with err. */
lh_slamon *lh_slamon_new(const lh_sla_config *cfg, const lh_alerts_config *alerts, const lh_slamon_host *host, char *err,
                         size_t errlen);
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
/* The body of GET /v1/sla; new reference. */
json_t *lh_slamon_sla_json(lh_slamon *m);

#endif

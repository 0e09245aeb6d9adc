/* sla_merge.h — the SLA figures of all replicas on one PostgreSQL, merged (docs/sla.md,
 * "Replicas").
 *
 * Every replica publishes a row each tick: its cumulative SLA counters (the totals and the
 * agents it tracks, by name) and the policy revision it serves. The SLA leader reads the
 * rows back and merges them into one cumulative sample, as if all replicas were one bridge,
 * which it feeds to an evaluator of its own (sla.c): the window, the grace, the evidence
 * and the one-agent rule then hold over the whole fleet's traffic.
 *
 * The merged counters only ever grow, by each replica's increase since its previous row:
 *   - a row older than max_age (two ticks: its replica is dead or stuck) adds nothing; the
 *     increase it misses is added when its next fresh row comes, so a late row loses
 *     nothing, and a replica that never comes back stops counting;
 *   - the first row of a replica is its baseline: it adds nothing (its history is not
 *     this window's), nor does a row whose counters went backwards (a restart);
 *   - an increase counts only when the replica served the revision the leader runs at both
 *     ends of it: requests served under another revision say nothing about this one (a
 *     replica that has not installed a change yet, or the tick a change lands in);
 *   - agents are matched by name: the merge keeps its own LH_SLA_AGENTS slots, the first
 *     names it sees; the others are "other" (the totals less the slots), as in one bridge.
 *
 * Pure: no I/O, no clock, no threads (the monitor thread owns a merge). */
#ifndef LH_BRIDGE_SLA_MERGE_H
#define LH_BRIDGE_SLA_MERGE_H

#include <stddef.h>

#include "bridge/sla.h"

#define LH_SLA_REPLICAS_MAX 16    /* replicas a merge follows; the longest unseen is forgotten past it */
#define LH_SLA_REPLICA_NAME 96
#define LH_SLA_ROW_MAX 65536      /* a row's text is at most this long (32 agents fit in ~40 KB) */

/* One replica's row, decoded. */
typedef struct lh_sla_row {
    char replica[LH_SLA_REPLICA_NAME];
    char revision[160];
    double age_s;                                   /* how old (the database's clock) */
    lh_metrics_sla_counts total;
    int nagents;
    char names[LH_SLA_AGENTS][LH_METRICS_AGENT_NAME];
    lh_metrics_sla_counts agent[LH_SLA_AGENTS];
} lh_sla_row;

/* The row text of one replica: its revision, totals and the agents in slots [0, nslots)
 * with requests (names by slot). malloc'd, NULL when out of memory. */
char *lh_sla_row_encode(const char *revision, const lh_metrics_sla_counts *total, const lh_metrics_sla_counts *agents,
                        const char (*names)[LH_METRICS_AGENT_NAME], int nslots);
/* Decode a row's text into out (replica and age are the caller's). 0, or -1 with err. */
int lh_sla_row_decode(const char *text, lh_sla_row *out, char *err, size_t errlen);

typedef struct lh_sla_merge lh_sla_merge;

lh_sla_merge *lh_sla_merge_new(void);   /* NULL when out of memory */
void lh_sla_merge_free(lh_sla_merge *mg);

/* One round: the rows read now (any order). Adds each fresh replica's increase since its
 * previous row to the merged counters (above) and writes them to out's counters (requests
 * .. ok_dur, agent[]: the rest of out is left as it was). max_age_s: rows older are
 * skipped. active: the revision the leader runs. Returns how many rows added their
 * increase (with their names in used[i], when used is not NULL: room for
 * LH_SLA_REPLICAS_MAX). */
int lh_sla_merge_round(lh_sla_merge *mg, const lh_sla_row *rows, int n, double max_age_s, const char *active,
                       lh_sla_sample *out, char (*used)[LH_SLA_REPLICA_NAME]);
/* Forget every replica's previous row (the merged counters and names stay): the next row
 * of each is a baseline. For a replica that becomes the leader again after a while: what
 * its replicas served meanwhile is not this tick's. */
void lh_sla_merge_forget(lh_sla_merge *mg);
/* The merged agents' names by slot (the evaluator's lineage names). Valid while mg is. */
const char (*lh_sla_merge_names(const lh_sla_merge *mg))[LH_METRICS_AGENT_NAME];

#endif

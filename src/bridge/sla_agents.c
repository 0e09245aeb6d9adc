/* sla_agents.c — per-agent attribution of an SLA metric and the one-agent rule (sla.h,
 * docs/sla.md "Per agent"). Pure: no I/O, no clock, no allocation.
 *
 * Each sample carries the cumulative counters of up to LH_SLA_AGENTS agents; "other" is
 * the totals less those slots. For a request metric, an agent's shortfall is what it adds
 * to the metric's badness (slow, failed or server-fault requests; its duration sum for
 * the average); the top contributors are named with their share of the total shortfall.
 * The trimmed figure leaves out the one tracked agent that pulls the metric hardest (the
 * largest shortfall; for the average, whose removal improves it most), so one agent has
 * a bounded weight: a violation that is inside the threshold
 * without that agent was made by one agent alone. */
#include "bridge/sla.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int isRequestMetric(lh_sla_metric m) {
    return m == LH_SLA_COMPLIANCE || m == LH_SLA_P99 || m == LH_SLA_AVG || m == LH_SLA_AVAILABILITY ||
           m == LH_SLA_ERROR_RATE;
}

/* The agent's figures between two samples (zero for a slot that is empty in both). */
static void delta(const lh_sla_agent_fig *a, const lh_sla_agent_fig *b, lh_sla_agent_fig *d) {
    d->requests = b->requests - a->requests;
    d->ok = b->ok - a->ok;
    d->unavailable = b->unavailable - a->unavailable;
    d->store_faults = b->store_faults - a->store_faults;
    d->dur_sum_ns = b->dur_sum_ns - a->dur_sum_ns;
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) {
        d->dur[i] = b->dur[i] - a->dur[i];
        d->ok_dur[i] = b->ok_dur[i] - a->ok_dur[i];
    }
}

static const uint64_t zeros[LH_HIST_BUCKETS + 1];

/* What figures d add to metric m's badness. */
static double shortfall(const lh_sla_config *c, lh_sla_metric m, const lh_sla_agent_fig *d) {
    switch (m) {
    case LH_SLA_COMPLIANCE:
        return (double)d->requests - lh_sla_count_under(zeros, d->ok_dur, c->latency_target_ms * 1e6);
    case LH_SLA_P99: return (double)d->requests - lh_sla_count_under(zeros, d->dur, c->t[m].threshold * 1e6);
    case LH_SLA_AVG: return (double)d->dur_sum_ns;
    default: return (double)d->unavailable;   /* availability, error rate */
    }
}

static int outside(const lh_sla_config *c, lh_sla_metric m, double v) {
    return lh_sla_higher_is_worse(m) ? v > c->t[m].threshold : v < c->t[m].threshold;
}

/* How much better a is than b for metric m (> 0: a is better). */
static double better(lh_sla_metric m, double a, double b) { return lh_sla_higher_is_worse(m) ? b - a : a - b; }

int lh_sla_blame_compute(const lh_sla_config *c, lh_sla_metric m, const lh_sla_sample *old, const lh_sla_sample *now,
                         uint64_t minRequests, lh_sla_blame *out) {
    memset(out, 0, sizeof(*out));
    out->worst = -1;
    if (!isRequestMetric(m)) return 0;
    lh_sla_config cc = *c;
    cc.min_requests = minRequests;
    /* The totals as one "agent", to get "other" as the totals less the slots. */
    lh_sla_agent_fig tot = {0};
    tot.requests = now->requests - old->requests;
    tot.ok = now->ok - old->ok;
    tot.unavailable = now->unavailable - old->unavailable;
    tot.store_faults = now->store_faults - old->store_faults;
    tot.dur_sum_ns = now->dur_sum_ns - old->dur_sum_ns;
    for (int i = 0; i <= LH_HIST_BUCKETS; i++) {
        tot.dur[i] = now->dur[i] - old->dur[i];
        tot.ok_dur[i] = now->ok_dur[i] - old->ok_dur[i];
    }
    double total = shortfall(c, m, &tot), best = 0;
    double sh[LH_SLA_AGENTS + 1];
    /* Only the fields lh_sla_compute reads: the header, not the agents' slots. */
    lh_sla_sample z;
    memcpy(&z, now, offsetof(lh_sla_sample, agent));
    for (int i = 0; i < LH_SLA_AGENTS; i++) {
        lh_sla_agent_fig d;
        delta(&old->agent[i], &now->agent[i], &d);
        sh[i] = d.requests ? shortfall(c, m, &d) : 0;
        if (!d.requests || d.requests > tot.requests) continue;   /* inconsistent counters: skip */
        /* The figure without agent i. */
        z.requests = now->requests - d.requests;
        z.ok = now->ok - d.ok;
        z.unavailable = now->unavailable - d.unavailable;
        z.store_faults = now->store_faults - d.store_faults;
        z.dur_sum_ns = now->dur_sum_ns - d.dur_sum_ns;
        for (int k = 0; k <= LH_HIST_BUCKETS; k++) {
            z.dur[k] = now->dur[k] - d.dur[k];
            z.ok_dur[k] = now->ok_dur[k] - d.ok_dur[k];
        }
        double v = 0;
        const char *why = NULL;
        int has = lh_sla_compute(&cc, m, old, &z, &v, &why);
        /* The one that pulls hardest: the largest shortfall (its slow or failed requests);
         * for the average, whose removal improves it most (leaving too few requests to
         * say counts as most, the largest duration sum first among those). */
        int take;
        if (out->worst < 0) take = 1;
        else if (m != LH_SLA_AVG) take = sh[i] > sh[out->worst];
        else
            take = (!has && out->trimmed_has) || (!has && !out->trimmed_has && sh[i] > sh[out->worst]) ||
                   (has && out->trimmed_has && better(m, v, best) > 0);
        if (take) {
            out->worst = i;
            out->trimmed_has = has;
            out->trimmed = has ? v : 0;
            out->trimmed_requests = z.requests - old->requests;
            best = v;
        }
    }
    sh[LH_SLA_OTHER] = total;
    for (int i = 0; i < LH_SLA_AGENTS; i++) sh[LH_SLA_OTHER] -= sh[i];
    if (sh[LH_SLA_OTHER] < 0) sh[LH_SLA_OTHER] = 0;
    /* Top contributors: LH_SLA_BLAME_TOP passes over LH_SLA_AGENTS + 1 shares. */
    int used[LH_SLA_AGENTS + 1] = {0};
    for (int n = 0; n < LH_SLA_BLAME_TOP && total > 0; n++) {
        int w = -1;
        for (int i = 0; i <= LH_SLA_AGENTS; i++)
            if (!used[i] && sh[i] > 0 && (w < 0 || sh[i] > sh[w])) w = i;
        if (w < 0) break;
        used[w] = 1;
        out->slot[out->n] = w;
        out->share[out->n] = sh[w] / total;
        out->n++;
    }
    out->alone = out->worst >= 0 && (!out->trimmed_has || !outside(c, m, out->trimmed));
    return 1;
}

const char *lh_sla_agent_name(const char (*names)[LH_METRICS_AGENT_NAME], int slot, char *tmp, size_t cap) {
    if (slot == LH_SLA_OTHER) return "other";
    if (names && slot >= 0 && slot < LH_SLA_AGENTS && names[slot][0]) return names[slot];
    snprintf(tmp, cap, "agent #%d", slot);
    return tmp;
}

void lh_sla_blame_text(const lh_sla_blame *b, const char (*names)[LH_METRICS_AGENT_NAME], char *buf, size_t cap) {
    size_t n = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < b->n && n < cap; i++) {
        char tmp[32];
        int w = snprintf(buf + n, cap - n, "%s%.60s %.0f%%", i ? ", " : "", lh_sla_agent_name(names, b->slot[i], tmp, sizeof(tmp)),
                         100.0 * b->share[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
}

/* sla_merge.c — the replicas' SLA rows: their text, and the merge into one cumulative
 * sample for the SLA leader (sla_merge.h has the rules; docs/sla.md, "Replicas"). */
#include "bridge/sla_merge.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB (LH_HIST_BUCKETS + 1)

/* ------------------------------------------------------------------------------ */
/* The row's text                                                                   */
/* ------------------------------------------------------------------------------ */

/* {"v":1,"rev":R,"t":[requests,ok,unavailable,store_faults,dur_sum_ns],"d":[buckets],
 *  "k":[2xx buckets],"a":[{"n":NAME,"t":[...],"d":[...],"k":[...]}]} */
static int putCounts(json_t *o, const lh_metrics_sla_counts *c) {
    json_t *t = json_pack("[IIIII]", (json_int_t)c->requests, (json_int_t)c->ok, (json_int_t)c->unavailable,
                          (json_int_t)c->store_faults, (json_int_t)c->dur_sum_ns);
    json_t *d = json_array(), *k = json_array();
    for (int i = 0; i < NB && d && k; i++) {
        json_array_append_new(d, json_integer((json_int_t)c->dur[i]));
        json_array_append_new(k, json_integer((json_int_t)c->ok_dur[i]));
    }
    int bad = !t || !d || !k;
    json_object_set_new(o, "t", t ? t : json_null());
    json_object_set_new(o, "d", d ? d : json_null());
    json_object_set_new(o, "k", k ? k : json_null());
    return bad ? -1 : 0;
}

char *lh_sla_row_encode(const char *revision, const lh_metrics_sla_counts *total, const lh_metrics_sla_counts *agents,
                        const char (*names)[LH_METRICS_AGENT_NAME], int nslots) {
    json_t *o = json_pack("{s:i,s:s}", "v", 1, "rev", revision);
    json_t *a = json_array();
    int bad = !o || !a || putCounts(o, total);
    for (int i = 0; i < nslots && i < LH_SLA_AGENTS && !bad; i++) {
        if (!agents[i].requests || !names || !names[i][0]) continue;
        json_t *g = json_pack("{s:s}", "n", names[i]);
        bad = !g || putCounts(g, &agents[i]);
        if (g) json_array_append_new(a, g);
    }
    char *text = NULL;
    if (!bad) {
        json_object_set_new(o, "a", a);
        a = NULL;
        text = json_dumps(o, JSON_COMPACT);
    }
    json_decref(a);
    json_decref(o);
    return text;
}

static int getArray(json_t *arr, size_t want, uint64_t *out) {
    if (!json_is_array(arr) || json_array_size(arr) != want) return -1;
    for (size_t i = 0; i < want; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
        out[i] = (uint64_t)json_integer_value(v);
    }
    return 0;
}

static int getCounts(json_t *o, lh_metrics_sla_counts *c) {
    uint64_t t[5];
    if (getArray(json_object_get(o, "t"), 5, t) || getArray(json_object_get(o, "d"), NB, c->dur) ||
        getArray(json_object_get(o, "k"), NB, c->ok_dur))
        return -1;
    c->requests = t[0];
    c->ok = t[1];
    c->unavailable = t[2];
    c->store_faults = t[3];
    c->dur_sum_ns = t[4];
    return 0;
}

int lh_sla_row_decode(const char *text, lh_sla_row *out, char *err, size_t errlen) {
    memset(out->revision, 0, sizeof(out->revision));
    memset(&out->total, 0, sizeof(out->total));
    out->nagents = 0;
    if (!text || strlen(text) > LH_SLA_ROW_MAX) { snprintf(err, errlen, "a row longer than %d bytes", LH_SLA_ROW_MAX); return -1; }
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    const char *rev = json_string_value(json_object_get(o, "rev"));
    json_t *a = json_object_get(o, "a");
    int rc = -1;
    if (!o || json_integer_value(json_object_get(o, "v")) != 1 || !rev || strlen(rev) >= sizeof(out->revision) ||
        !json_is_array(a) || json_array_size(a) > LH_SLA_AGENTS || getCounts(o, &out->total)) {
        snprintf(err, errlen, "not a replica row of version 1");
        goto done;
    }
    snprintf(out->revision, sizeof(out->revision), "%s", rev);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *g = json_array_get(a, i);
        const char *nm = json_string_value(json_object_get(g, "n"));
        if (!nm || !nm[0] || strlen(nm) >= LH_METRICS_AGENT_NAME || getCounts(g, &out->agent[i])) {
            snprintf(err, errlen, "agent %zu of the row is malformed", i);
            goto done;
        }
        snprintf(out->names[i], LH_METRICS_AGENT_NAME, "%s", nm);
        out->nagents = (int)i + 1;
    }
    rc = 0;
done:
    json_decref(o);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* The merge                                                                        */
/* ------------------------------------------------------------------------------ */

typedef struct seen {
    int used;
    uint64_t round;           /* the last round its row was fresh */
    lh_sla_row prev;          /* its previous fresh row */
} seen;

struct lh_sla_merge {
    uint64_t round;
    seen r[LH_SLA_REPLICAS_MAX];
    lh_metrics_sla_counts total;                       /* the merged cumulative counters */
    lh_metrics_sla_counts agent[LH_SLA_AGENTS];
    char names[LH_SLA_AGENTS][LH_METRICS_AGENT_NAME];  /* merged slots, by name */
    int nnames;
};

lh_sla_merge *lh_sla_merge_new(void) { return calloc(1, sizeof(lh_sla_merge)); }

void lh_sla_merge_free(lh_sla_merge *mg) { free(mg); }

void lh_sla_merge_forget(lh_sla_merge *mg) { memset(mg->r, 0, sizeof(mg->r)); }

const char (*lh_sla_merge_names(const lh_sla_merge *mg))[LH_METRICS_AGENT_NAME] { return mg->names; }

/* b - a, field by field: 0 when any field went backwards (not an increase). */
static int delta(const lh_metrics_sla_counts *a, const lh_metrics_sla_counts *b, lh_metrics_sla_counts *d) {
    if (b->requests < a->requests || b->ok < a->ok || b->unavailable < a->unavailable ||
        b->store_faults < a->store_faults || b->dur_sum_ns < a->dur_sum_ns)
        return 0;
    for (int i = 0; i < NB; i++)
        if (b->dur[i] < a->dur[i] || b->ok_dur[i] < a->ok_dur[i]) return 0;
    d->requests = b->requests - a->requests;
    d->ok = b->ok - a->ok;
    d->unavailable = b->unavailable - a->unavailable;
    d->store_faults = b->store_faults - a->store_faults;
    d->dur_sum_ns = b->dur_sum_ns - a->dur_sum_ns;
    for (int i = 0; i < NB; i++) { d->dur[i] = b->dur[i] - a->dur[i]; d->ok_dur[i] = b->ok_dur[i] - a->ok_dur[i]; }
    return 1;
}

static void addTo(lh_metrics_sla_counts *acc, const lh_metrics_sla_counts *d) {
    acc->requests += d->requests;
    acc->ok += d->ok;
    acc->unavailable += d->unavailable;
    acc->store_faults += d->store_faults;
    acc->dur_sum_ns += d->dur_sum_ns;
    for (int i = 0; i < NB; i++) { acc->dur[i] += d->dur[i]; acc->ok_dur[i] += d->ok_dur[i]; }
}

/* The replica's entry: its own, a free one, or the one unseen longest (forgotten). */
static seen *entryFor(lh_sla_merge *mg, const char *replica, int *isNew) {
    seen *free_ = NULL, *oldest = NULL;
    for (int i = 0; i < LH_SLA_REPLICAS_MAX; i++) {
        seen *s = &mg->r[i];
        if (s->used && !strcmp(s->prev.replica, replica)) { *isNew = 0; return s; }
        if (!s->used && !free_) free_ = s;
        if (s->used && (!oldest || s->round < oldest->round)) oldest = s;
    }
    *isNew = 1;
    return free_ ? free_ : oldest;
}

/* The merged slot of an agent's name, taking a free one; -1: "other". */
static int slotOf(lh_sla_merge *mg, const char *name) {
    for (int i = 0; i < mg->nnames; i++)
        if (!strcmp(mg->names[i], name)) return i;
    if (mg->nnames == LH_SLA_AGENTS) return -1;
    snprintf(mg->names[mg->nnames], LH_METRICS_AGENT_NAME, "%s", name);
    return mg->nnames++;
}

/* The agent's figures in row (all zero when the row does not list it). */
static const lh_metrics_sla_counts *agentIn(const lh_sla_row *row, const char *name) {
    static const lh_metrics_sla_counts zero;
    for (int i = 0; i < row->nagents; i++)
        if (!strcmp(row->names[i], name)) return &row->agent[i];
    return &zero;
}

/* Add one fresh row's increase over prev, in the active revision. 1 when it counted. */
static int addIncrease(lh_sla_merge *mg, const lh_sla_row *prev, const lh_sla_row *row, const char *active) {
    lh_metrics_sla_counts d;
    if (strcmp(prev->revision, active) || strcmp(row->revision, active)) return 0;   /* served under another revision */
    if (!delta(&prev->total, &row->total, &d)) return 0;                              /* went backwards: a restart */
    addTo(&mg->total, &d);
    for (int i = 0; i < row->nagents; i++) {
        lh_metrics_sla_counts ad;
        if (!delta(agentIn(prev, row->names[i]), &row->agent[i], &ad) || !ad.requests) continue;
        int slot = slotOf(mg, row->names[i]);
        if (slot >= 0) addTo(&mg->agent[slot], &ad);
    }
    return 1;
}

int lh_sla_merge_round(lh_sla_merge *mg, const lh_sla_row *rows, int n, double max_age_s, const char *active,
                       lh_sla_sample *out, char (*used)[LH_SLA_REPLICA_NAME]) {
    int merged = 0;
    mg->round++;
    for (int i = 0; i < n; i++) {
        const lh_sla_row *row = &rows[i];
        if (!(row->age_s <= max_age_s)) continue;   /* stale: a dead or stuck replica */
        int isNew;
        seen *s = entryFor(mg, row->replica, &isNew);
        if (!isNew && s->round == mg->round) continue;   /* the same replica twice in one round */
        if (!isNew && addIncrease(mg, &s->prev, row, active) && merged < LH_SLA_REPLICAS_MAX) {
            if (used) snprintf(used[merged], LH_SLA_REPLICA_NAME, "%s", row->replica);
            merged++;
        }
        s->used = 1;
        s->round = mg->round;
        s->prev = *row;
    }
    out->requests = mg->total.requests;
    out->ok = mg->total.ok;
    out->unavailable = mg->total.unavailable;
    out->store_faults = mg->total.store_faults;
    out->dur_sum_ns = mg->total.dur_sum_ns;
    memcpy(out->dur, mg->total.dur, sizeof(out->dur));
    memcpy(out->ok_dur, mg->total.ok_dur, sizeof(out->ok_dur));
    memcpy(out->agent, mg->agent, sizeof(out->agent));
    return merged;
}

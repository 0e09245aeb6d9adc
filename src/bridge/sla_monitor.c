/* sla_monitor.c — the SLA monitor inside the bridge (docs/sla.md).
 *
 * One thread samples the bridge's own cumulative counters every sla_eval_interval_s
 * (decision requests by status, their duration histograms, process CPU and memory),
 * feeds them to the evaluator (sla.c) and acts on its transitions: a violation or a
 * resolution is an event (sla.violated, sla.resolved) and an alert; a rollback-flagged
 * violation of a revision still in its canary window rolls the policy back to the one
 * before it (the host's rollback: revisions.c), at most once per violation and never past a
 * known-good revision.
 *
 * Revisions: the monitor keeps the lineage of the revisions active in this run (a stack:
 * a push or SIGHUP adds one, a rollback to the one below removes the top). The revision
 * the bridge started with is known-good; any other becomes known-good once it has
 * served decisions for a full canary window with no rollback-flagged metric breaching
 * or violated. A known-good revision is never rolled back automatically.
 *
 * Events the store cannot take now (disk error, full disk, PostgreSQL down: exactly when
 * availability violations happen) are not lost: they wait in a bounded backlog, in
 * order, and are retried on every tick and once more at stop. An event recorded late
 * carries "occurred_ns"; references to the seq of a violation still waiting are filled
 * in when it lands (see "Recording" below and docs/sla.md).
 *
 * Replicas on one PostgreSQL: every replica evaluates its own traffic (the LOCAL view) and
 * publishes its cumulative counters each tick; the SLA leader also reads every replica's
 * row back, merges them (sla_merge.c) and evaluates the merge (the CLUSTER view). Only the
 * CLUSTER view rolls back there, so the leader acts on all replicas' traffic, not its own.
 * On SQLite there is only the LOCAL view, which rolls back as it always did.
 *
 * Locking: mu guards the views (each one's evaluator, per-metric notes and lineage) and
 * the last rollback. bmu serialises recording (the backlog and every append of the monitor and
 * of the alert thread), so events land in the order they happened. The thread never
 * holds mu while it appends or rolls back; policy changes call in (the revisions'
 * observer) under policy_mu and then take mu (order: policy_mu, then mu; bmu, then mu;
 * never bmu under mu, nor policy_mu under bmu). It reaches the bridge only through its
 * host operations (sla_monitor.h), so it calls neither revisions.c nor server.c. */
#include "bridge/sla_monitor.h"

#include "bridge/sla_merge.h"
#include "util/cond.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The monotonic clock every time of the monitor is on (the samples', the lineage's). */
static uint64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define BACKLOG_MAX 256       /* events waiting for the store; past it the oldest is dropped */

/* What the monitor knows of a metric beyond the evaluator's state. */
typedef struct note {
    int64_t violated_seq;     /* the sla.violated event of the current violation (0: none or not yet recorded) */
    uint64_t pending;         /* its backlog id while it waits for the store (0: none) */
    char key[128];            /* the alerts' dedup key of the current violation */
    uint64_t violated_unix_ns;
    char action[640];         /* what the violation did about the policy */
    int await;                /* rollback rules met, too few requests (or one agent alone) yet: re-checked every tick while violated */
    lh_sla_blame blame;       /* who made the violation, over the window when it was raised */
    lh_sla_transition awaited;   /* the violation it waits for */
} note;

/* One evaluation of the SLA: of this replica's own traffic (LOCAL, always), or, on the SLA
 * leader of replicas sharing PostgreSQL, of all replicas' traffic merged (CLUSTER:
 * sla_merge.c). Each has its evaluator, notes and lineage in its own counters. Guarded by
 * mu, as the fields they replace were. */
typedef struct view {
    const char *scope;        /* "replica" or "cluster", in the events */
    lh_sla_config cfg;        /* CLUSTER: CPU and memory off (they are each process's own) */
    lh_sla_eval *ev;
    note notes[LH_SLA_COUNT];
    lh_sla_lineage lin;
    lh_sla_sample last;       /* CLUSTER: the newest merged sample (the lineage's counters at a change) */
    int nused;                /* CLUSTER: the replicas whose rows the newest sample merged */
    char used[LH_SLA_REPLICAS_MAX][LH_SLA_REPLICA_NAME];
} view;

enum { LOCAL = 0, CLUSTER = 1 };

/* An event the store could not take yet. */
typedef struct deferred {
    uint64_t id;              /* > 0, increasing */
    char type[32];
    char agg[96];
    json_t *data;             /* owned; has "occurred_ns" */
    uint64_t ref;             /* an earlier deferred event whose seq goes into data[refkey] when it lands */
    const char *refkey;
} deferred;

struct lh_slamon {
    lh_slamon_host host;
    lh_sla_config cfg;
    view v[2];                /* LOCAL, CLUSTER (the second only when the store is shared) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int started, stop;
    json_t *last_rollback;    /* the newest automatic rollback (or attempt), or NULL */
    int64_t unix_off;         /* unix ns = monotonic ns + unix_off */
    double cpus;
    uint64_t last_sample_ns;
    lh_alerts *alerts;        /* delivery of the monitor's alerts (alert.c), or NULL */
    uint64_t lastrb_ref;      /* backlog id of the violation last_rollback names, while it waits */
    char resume_rev[160];     /* a restart inside this revision's canary window (lh_slamon_resume) */
    char resume_prev[160];    /* ... the revision before it, the rollback target */
    uint64_t resume_age_ns;   /* ... how long it had been active */

    pthread_mutex_t bmu;      /* recording: the backlog and the appends */
    deferred backlog[BACKLOG_MAX];   /* a ring: bhead is the oldest */
    unsigned bhead, bcount;
    uint64_t next_id;
    int final_flush;          /* the stop has made its last attempt */
    atomic_uint npending;     /* bcount, for /metrics without bmu */
    atomic_uint_fast64_t dropped;

    lh_store_leader *leader;  /* the monitor thread only: replicas elect who rolls back (NULL: no store) */
    atomic_int is_leader;     /* its last answer, for /v1/status and /metrics */
    int shared;               /* the store is shared by replicas: rows are published, the leader merges them */
    char replica[LH_SLA_REPLICA_NAME];   /* this replica's name in the rows and the events: host:pid */
    lh_sla_merge *merge;      /* the monitor thread only */
    lh_sla_row *rows;         /* the monitor thread only: LH_STORE_PEERS_MAX rows read back */
    int row_err;              /* the monitor thread only: the rows failed last time (said once) */
    int row_bad;              /* the monitor thread only: a row did not decode last time (said once) */
    int merging;              /* the monitor thread only: the last tick merged (this replica was the leader) */
};

#define SLA_LEADER_KEY 0x4c48534c41LL /* "LHSLA": the advisory lock of the replica that acts on violations */

/* ------------------------------------------------------------------------------ */
/* Sampling                                                                         */
/* ------------------------------------------------------------------------------ */

static double readCpuSeconds(void) {
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    unsigned long long ut = 0, st = 0;
    char *p = strrchr(buf, ')');
    /* NOLINTNEXTLINE(cert-err34-c): the kernel's own numbers; the count of fields read is checked */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    long tick = sysconf(_SC_CLK_TCK);
    return (double)(ut + st) / (double)(tick > 0 ? tick : 100);
}

/* CPUs the process may use: its affinity mask, lowered by a cgroup v2 CPU quota. */
static double readCpus(void) {
    cpu_set_t set;
    double n = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (double)sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char line[80] = "", *end = NULL;
        if (fgets(line, sizeof(line), f) && strncmp(line, "max", 3)) {   /* "QUOTA PERIOD" or "max PERIOD" */
            double quota = strtod(line, &end);
            double period = end && end != line ? strtod(end, NULL) : 0;
            if (period > 0 && quota > 0 && quota / period < n) n = quota / period;
        }
        fclose(f);
    }
    return n;
}

static void readMemory(double *rss, double *limit) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vsz = 0, res = 0, lim = 0;
    *rss = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    /* NOLINTNEXTLINE(cert-err34-c): the kernel's own numbers; the count of fields read is checked */
    if (f) { if (fscanf(f, "%llu %llu", &vsz, &res) == 2) *rss = (double)res * (double)page; fclose(f); }
    f = fopen("/sys/fs/cgroup/memory.max", "r");   /* "max" (no limit) does not scan */
    /* NOLINTNEXTLINE(cert-err34-c): "max" does not scan, and means no limit */
    if (f) { if (fscanf(f, "%llu", &lim) != 1) lim = 0; fclose(f); }
    if (!lim) lim = (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)page;
    *limit = (double)lim;
}

static void takeSample(lh_slamon *m, lh_sla_sample *s) {
    memset(s, 0, sizeof(*s));
    s->t_ns = nowNs();
    lh_metrics_sla_counts tot;
    m->host.counts(m->host.ctx, &tot, s->agent);
    s->requests = tot.requests;
    s->ok = tot.ok;
    s->unavailable = tot.unavailable;
    s->store_faults = tot.store_faults;
    memcpy(s->dur, tot.dur, sizeof(s->dur));
    s->dur_sum_ns = tot.dur_sum_ns;
    memcpy(s->ok_dur, tot.ok_dur, sizeof(s->ok_dur));
    s->cpu_s = readCpuSeconds();
    s->cpus = m->cpus;
    readMemory(&s->rss_bytes, &s->mem_limit_bytes);
}

/* ------------------------------------------------------------------------------ */
/* Revisions: the lineage and known-good                                            */
/* ------------------------------------------------------------------------------ */

/* Under mu: the change in one view, whose counters at this moment are s. */
static void changeIn(lh_slamon *m, view *w, const char *revision, int rollback, const lh_sla_sample *s) {
    if (!w->lin.n && m->resume_rev[0] && !strcmp(revision, m->resume_rev) && s->t_ns > m->resume_age_ns) {
        /* The start revision was still in its canary window when the bridge stopped: its
         * window resumes where the events say it began, with the one before it (trusted, the
         * bottom) as its rollback target. Its counters start now. */
        uint64_t at = s->t_ns - m->resume_age_ns;
        lh_sla_lineage_change(&w->lin, m->resume_prev, 0, at, 0);
        lh_sla_lineage_change(&w->lin, revision, 0, at, s->requests);
        lh_sla_lineage_set_sample(&w->lin, s);
        if (w == &m->v[LOCAL])
            fprintf(stderr, "lighthouse serve: SLA: revision %s resumes its canary window (active %.1f s, from the events; "
                    "rollback target %s)\n", revision, (double)m->resume_age_ns / 1e9, m->resume_prev);
        return;
    }
    lh_sla_lineage_change(&w->lin, revision, rollback, s->t_ns, s->requests);
    lh_sla_lineage_set_sample(&w->lin, s);
}

void lh_slamon_policy_changed(lh_slamon *m, const char *revision, int rollback) {
    lh_sla_sample s;
    takeSample(m, &s);   /* the end of the previous revision's figures, the start of this one's */
    pthread_mutex_lock(&m->mu);
    changeIn(m, &m->v[LOCAL], revision, rollback, &s);
    if (m->shared) {   /* the merged counters as of the newest round, at this moment */
        lh_sla_sample c = m->v[CLUSTER].last;
        c.t_ns = s.t_ns;
        changeIn(m, &m->v[CLUSTER], revision, rollback, &c);
    }
    pthread_mutex_unlock(&m->mu);
}

/* Under mu, after an evaluation. */
static void markKnownGood(view *w, const lh_sla_sample *s) {
    int trouble = 0;
    for (int k = 0; k < LH_SLA_COUNT; k++) {
        lh_sla_mstate st;
        lh_sla_eval_state(w->ev, (lh_sla_metric)k, &st);
        /* In trouble, or without enough data to say it is not (a quiet canary proves nothing). */
        if (w->cfg.t[k].rollback && (st.state == LH_SLA_BREACHING || st.state == LH_SLA_VIOLATED || st.state == LH_SLA_NO_DATA))
            trouble = 1;
    }
    lh_sla_lineage_tick(&w->lin, s->t_ns, s->requests, w->cfg.canary_window_s, trouble);
}

/* ------------------------------------------------------------------------------ */
/* Acting on transitions                                                            */
/* ------------------------------------------------------------------------------ */

static json_t *numOrNull(int has, double v) { return has && isfinite(v) ? json_real(v) : json_null(); }

static const char *cmpText(lh_sla_metric k) { return lh_sla_higher_is_worse(k) ? ">" : "<"; }

static uint64_t nowUnixNs(lh_slamon *m) { return (uint64_t)((int64_t)nowNs() + m->unix_off); }

/* ------------------------------------------------------------------------------ */
/* Recording: appends, and the backlog of events the store could not take yet        */
/* ------------------------------------------------------------------------------ */

/* Under bmu: the deferred event id has landed as seq, or was dropped (seq 0). Whatever
 * waited for its seq gets it: later deferred events, the metric's note (violated_seq in
 * /v1/sla and in sla.resolved), the last rollback. */
static void landed(lh_slamon *m, uint64_t id, int64_t seq) {
    for (unsigned i = 0; i < m->bcount; i++) {
        deferred *e = &m->backlog[(m->bhead + i) % BACKLOG_MAX];
        if (e->ref != id) continue;
        if (seq) json_object_set_new(e->data, e->refkey, json_integer(seq));
        e->ref = 0;
    }
    pthread_mutex_lock(&m->mu);
    for (int vi = 0; vi < 2; vi++)
        for (int k = 0; k < LH_SLA_COUNT; k++) {
            note *nt = &m->v[vi].notes[k];
            if (nt->pending == id) { nt->violated_seq = seq; nt->pending = 0; }
        }
    if (m->lastrb_ref == id) {
        /* a copy: /v1/sla may be serialising the old one outside mu */
        json_t *c = m->last_rollback ? json_deep_copy(m->last_rollback) : NULL;
        if (c && seq) json_object_set_new(c, "violation_seq", json_integer(seq));
        if (c) { json_decref(m->last_rollback); m->last_rollback = c; }
        m->lastrb_ref = 0;
    }
    pthread_mutex_unlock(&m->mu);
}

/* Under bmu, between operations: the backlog's invariants that "Recording" argues. It is a
 * ring of at most BACKLOG_MAX events, npending mirrors its size, ids increase from the
 * oldest (events land in the order they happened), and a reference names an earlier
 * event that still waits: landed() clears every reference to an event that lands or is
 * dropped, so a seq is never filled in from an event that is gone. O(backlog). */
static void assertBacklog(lh_slamon *m) {
    assert(m->bcount <= BACKLOG_MAX && m->bhead < BACKLOG_MAX);
    assert(atomic_load(&m->npending) == m->bcount);
    uint64_t prev = 0, oldest = m->bcount ? m->backlog[m->bhead].id : 0;
    for (unsigned i = 0; i < m->bcount; i++) {
        const deferred *e = &m->backlog[(m->bhead + i) % BACKLOG_MAX];
        assert(e->id > prev && e->id <= m->next_id && e->data);
        assert(!e->ref || (e->ref >= oldest && e->ref < e->id));
        prev = e->id;
    }
    (void)prev;
    (void)oldest;
}

/* Under bmu: remove the oldest deferred event; its id. */
static uint64_t popOldest(lh_slamon *m) {
    deferred *e = &m->backlog[m->bhead];
    uint64_t id = e->id;
    json_decref(e->data);
    memset(e, 0, sizeof(*e));
    m->bhead = (m->bhead + 1) % BACKLOG_MAX;
    m->bcount--;
    atomic_store(&m->npending, m->bcount);
    return id;
}

static void dropOldest(lh_slamon *m, const char *why) {
    fprintf(stderr, "lighthouse serve: SLA: dropped the waiting %s event (%s): %s\n", m->backlog[m->bhead].type,
            m->backlog[m->bhead].agg, why);
    atomic_fetch_add(&m->dropped, 1);
    landed(m, popOldest(m), 0);
}

/* Under bmu: record the deferred events, oldest first, until the store refuses one. */
static void flushLocked(lh_slamon *m) {
    unsigned done = 0;
    char err[256];
    while (m->bcount) {
        deferred *e = &m->backlog[m->bhead];
        char *data = json_dumps(e->data, JSON_COMPACT);
        if (!data) { dropOldest(m, "out of memory"); continue; }
        int64_t seq = 0;
        int rc = m->host.append(m->host.ctx, e->type, e->agg, data, &seq, err, sizeof(err));
        free(data);
        if (rc) break;
        landed(m, popOldest(m), seq);
        done++;
    }
    if (done)
        fprintf(stderr, "lighthouse serve: SLA: recorded %u deferred event(s); %u still waiting\n", done, m->bcount);
    assertBacklog(m);
}

/* Under bmu, after flushLocked: record an event now if nothing waits before it and the
 * store takes it (returns its seq), else keep it in the backlog (returns 0, *id its
 * backlog id). d is borrowed. ref (a waiting event's id, or 0) names the event whose seq
 * goes into data[refkey] when it lands. A deferred event gets "occurred_ns" (unix ns,
 * when it happened: the store stamps the time it lands) and, with lateKey, "dedup_key". */
static int64_t recordLocked(lh_slamon *m, const char *type, const char *agg, json_t *d, uint64_t ref,
                            const char *refkey, uint64_t occurredNs, const char *lateKey, uint64_t *id) {
    char err[256] = "out of memory";
    if (id) *id = 0;
    assert(!ref || m->bcount);   /* what it refers to is still waiting, so it waits too */
    if (!d) goto out;
    if (!m->bcount) {
        char *data = json_dumps(d, JSON_COMPACT);
        if (!data) goto out;
        int64_t seq = 0;
        int rc = m->host.append(m->host.ctx, type, agg, data, &seq, err, sizeof(err));
        free(data);
        if (!rc) { assertBacklog(m); return seq; }
    } else {
        snprintf(err, sizeof(err), "%u earlier event(s) wait for the store", m->bcount);
    }
    if (m->bcount == BACKLOG_MAX) dropOldest(m, "the backlog is full");
    deferred *e = &m->backlog[(m->bhead + m->bcount) % BACKLOG_MAX];
    e->data = json_deep_copy(d);
    if (!e->data) goto out;
    json_object_set_new(e->data, "occurred_ns", json_integer((json_int_t)occurredNs));
    if (lateKey) json_object_set_new(e->data, "dedup_key", json_string(lateKey));
    e->id = ++m->next_id;
    snprintf(e->type, sizeof(e->type), "%s", type);
    snprintf(e->agg, sizeof(e->agg), "%s", agg);
    e->ref = ref;
    e->refkey = refkey;
    m->bcount++;
    atomic_store(&m->npending, m->bcount);
    if (id) *id = e->id;
    fprintf(stderr, "lighthouse serve: SLA: could not record %s (%s) now: %s; kept to retry (%u waiting)\n", type, agg, err,
            m->bcount);
    assertBacklog(m);
    return 0;
out:
    fprintf(stderr, "lighthouse serve: SLA: could not record %s (%s): %s\n", type, agg, err);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Alerts                                                                           */
/* ------------------------------------------------------------------------------ */

/* alert.c's record callback, on its delivery thread: each outcome is an alert.sent
 * event. */
static void recordAlert(void *ctx, const lh_alert_result *r) {
    lh_slamon *m = ctx;
    const lh_alert *al = r->alert;
    json_t *d = json_pack("{s:s,s:b,s:i,s:i,s:s,s:s,s:s,s:s,s:I,s:f}", "sink", lh_alert_sink_name(r->sink), "ok", r->ok,
                          "attempts", r->attempts, "http_status", r->http_status, "error", r->error ? r->error : "",
                          "dedup_key", al->dedup_key, "alert", al->event, "metric", al->metric, "alert_seq",
                          (json_int_t)al->seq, "duration_ms", (double)r->duration_ns / 1e6);
    pthread_mutex_lock(&m->bmu);
    flushLocked(m);
    recordLocked(m, "alert.sent", "alert", d, 0, NULL, nowUnixNs(m), NULL, NULL);
    pthread_mutex_unlock(&m->bmu);
    json_decref(d);
}

/* key: the violation's dedup key (note.key). */
/* The severity of metric k's alerts: its own, at most major while its violation was
 * made by one agent alone (docs/sla.md, "Per agent"). Under mu. */
static lh_sla_severity alertSeverity(lh_slamon *m, view *w, lh_sla_metric k) {
    lh_sla_severity s = w->cfg.t[k].severity;
    return w->notes[k].blame.alone && s > LH_SLA_MAJOR ? LH_SLA_MAJOR : s;
}

static void sendAlert(lh_slamon *m, view *w, const char *event, lh_sla_metric k, int has, double value, int64_t seq,
                      const char *key, const char *summary, lh_sla_severity sev) {
    if (!m->alerts) return;
    lh_alert al;
    memset(&al, 0, sizeof(al));
    const lh_sla_threshold *th = &w->cfg.t[k];
    snprintf(al.event, sizeof(al.event), "%s", event);
    snprintf(al.metric, sizeof(al.metric), "%s", lh_sla_metric_name(k));
    snprintf(al.severity, sizeof(al.severity), "%s", lh_sla_severity_name(sev));
    al.value = has ? value : NAN;
    al.threshold = th->threshold;
    snprintf(al.summary, sizeof(al.summary), "%s", summary);
    /* One key for a violation, its rollback and its resolution (onViolated chose it). */
    snprintf(al.dedup_key, sizeof(al.dedup_key), "%s", key);
    al.seq = seq;
    m->host.revision(m->host.ctx, al.revision, sizeof(al.revision));
    if (lh_alerts_send(m->alerts, &al))
        fprintf(stderr, "lighthouse serve: alert queue full or stopped: dropped %s for %s\n", event, al.metric);
}

static void rollBack(lh_slamon *m, view *w, const lh_sla_transition *t, const char *target, const char *from, const char *action,
                     const char *key);

/* What a new violation is and what it will do: who made it, the alert's severity, and
 * whether (and where) it rolls the policy back. */
typedef struct violation {
    lh_sla_blame bl;
    lh_sla_severity sev;
    int plan;                 /* 1: roll back now (target, from) */
    char target[160], from[160];
    char action[600];         /* what it does about the policy, for the event and the alert */
    char who[200];            /* the agents' shares as text */
} violation;

/* Step 1, under mu: attribute violation t (over the window the evaluator used: its newest
 * sample and the one window_s before), choose the alert's severity and decide the
 * rollback: only with evidence against the revision itself, its own canary figures
 * without the store's faults, worse than before the change (docs/sla.md, "Evidence").
 * Without enough yet, the note waits and each tick re-checks (recheck). */
static void planViolation(lh_slamon *m, view *w, const lh_sla_transition *t, const lh_sla_sample *now, violation *v) {
    lh_sla_metric k = t->metric;
    memset(v, 0, sizeof(*v));
    pthread_mutex_lock(&m->mu);
    lh_sla_blame_compute(&w->cfg, k, lh_sla_eval_window_start(w->ev), lh_sla_eval_newest(w->ev), w->cfg.min_requests,
                         &v->bl);
    w->notes[k].blame = v->bl;
    v->sev = alertSeverity(m, w, k);
    lh_sla_blame_text(&v->bl, w->lin.names, v->who, sizeof(v->who));
    if (m->shared && w == &m->v[LOCAL]) {   /* one replica's figures: the leader's merged ones decide */
        snprintf(v->action, sizeof(v->action), "no rollback from this replica's own figures: replicas share the store, "
                 "the SLA leader decides on the merged figures of all replicas (scope cluster)");
        w->notes[k].await = 0;
        w->notes[k].awaited = *t;
        pthread_mutex_unlock(&m->mu);
        return;
    }
    int plan = lh_sla_rollback_plan(&w->lin, &w->cfg, t, v->target, v->from, sizeof(v->target), v->action,
                                    sizeof(v->action));
    int wait = 0;
    if (plan) {
        char ev[440];
        plan = lh_sla_rollback_evidence(&w->lin, &w->cfg, k, now, ev, sizeof(ev));
        if (plan > 0) { size_t n = strlen(v->action); snprintf(v->action + n, sizeof(v->action) - n, " (%s)", ev); }
        else snprintf(v->action, sizeof(v->action), "%s", ev);
        wait = plan < 0;
        plan = plan > 0;
    }
    v->plan = plan;
    w->notes[k].await = wait;
    w->notes[k].awaited = *t;
    pthread_mutex_unlock(&m->mu);
}

/* Replicas sharing the store: which evaluation an event comes from, made by which
 * replica, and (cluster) over which replicas' rows. Under mu or on the monitor thread. */
static void addScope(lh_slamon *m, view *w, json_t *d) {
    if (!m->shared || !d) return;
    json_object_set_new(d, "scope", json_string(w->scope));
    json_object_set_new(d, "replica", json_string(m->replica));
    if (w != &m->v[CLUSTER]) return;
    json_t *used = json_array();
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < w->nused; i++) json_array_append_new(used, json_string(w->used[i]));
    pthread_mutex_unlock(&m->mu);
    json_object_set_new(d, "replicas", used);
}

/* Step 2: the sla.violated event's data (a new reference). */
static json_t *violationData(lh_slamon *m, view *w, const lh_sla_transition *t, const violation *v, const char *rev) {
    lh_sla_metric k = t->metric;
    const lh_sla_threshold *th = &w->cfg.t[k];
    json_t *agents = json_array();
    char tmp[32];
    for (int i = 0; i < v->bl.n; i++)
        json_array_append_new(agents, json_pack("{s:s,s:f}", "agent", lh_sla_agent_name(w->lin.names, v->bl.slot[i], tmp, sizeof(tmp)),
                                                "share", v->bl.share[i]));
    json_t *alone = v->bl.alone ? json_string(lh_sla_agent_name(w->lin.names, v->bl.worst, tmp, sizeof(tmp))) : json_null();
    json_t *d = json_pack("{s:s,s:o,s:f,s:s,s:s,s:f,s:f,s:b,s:I,s:s,s:s}", "metric", lh_sla_metric_name(k), "value",
                          numOrNull(t->has, t->value), "threshold", th->threshold, "comparison", cmpText(k), "severity",
                          lh_sla_severity_name(th->severity), "grace_s", th->grace_s, "window_s", w->cfg.window_s,
                          "rollback", th->rollback, "breach_since_ns", (json_int_t)t->breach_ns + (json_int_t)m->unix_off,
                          "revision", rev, "action", v->action);
    json_object_set_new(d, "agents", agents);
    json_object_set_new(d, "one_agent", alone);
    addScope(m, w, d);
    return d;
}

/* Step 3, under bmu then mu: record sla.violated (or keep it in the backlog) and note it
 * for the metric. The dedup key (into key) is the event's seq; if the store cannot take
 * the event now, the time of the violation instead (the alert goes out now, before any
 * seq). Returns the seq, 0 while it waits. */
static int64_t recordViolation(lh_slamon *m, view *w, lh_sla_metric k, json_t *d, const char *action, uint64_t unixNow, char *key,
                               size_t keylen) {
    const char *name = lh_sla_metric_name(k);
    char agg[96], lateKey[128];
    snprintf(agg, sizeof(agg), "sla:%s", name);
    snprintf(lateKey, sizeof(lateKey), "sla:%s:t%llu", name, (unsigned long long)unixNow);
    uint64_t pend = 0;
    pthread_mutex_lock(&m->bmu);
    flushLocked(m);
    int64_t seq = recordLocked(m, "sla.violated", agg, d, 0, NULL, unixNow, lateKey, &pend);
    if (seq) snprintf(key, keylen, "sla:%s:%lld", name, (long long)seq);
    else snprintf(key, keylen, "%s", lateKey);
    pthread_mutex_lock(&m->mu);
    w->notes[k].violated_seq = seq;
    w->notes[k].pending = pend;
    w->notes[k].violated_unix_ns = unixNow;
    snprintf(w->notes[k].key, sizeof(w->notes[k].key), "%s", key);
    snprintf(w->notes[k].action, sizeof(w->notes[k].action), "%s", action);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_unlock(&m->bmu);
    return seq;
}

/* Step 4: the alert's one-line summary. */
static void violationSummary(lh_slamon *m, view *w, const lh_sla_transition *t, const violation *v, const char *rev, char *out,
                             size_t cap) {
    lh_sla_metric k = t->metric;
    const lh_sla_threshold *th = &w->cfg.t[k];
    char by[260] = "", wn[32];
    if (v->bl.alone)
        snprintf(by, sizeof(by), "one agent alone: %.40s; agents: %.100s; ",
                 lh_sla_agent_name(w->lin.names, v->bl.worst, wn, sizeof(wn)), v->who);
    else if (v->who[0]) snprintf(by, sizeof(by), "agents: %.130s; ", v->who);
    snprintf(out, cap, "%s %.6g %s %g for %.1f s (%s; revision %.80s; %.150s%.200s)", lh_sla_metric_name(k), t->value,
             cmpText(k), th->threshold, (double)(t->now_ns - t->breach_ns) / 1e9, lh_sla_severity_name(v->sev), rev, by,
             v->action);
}

/* Replicas on one PostgreSQL: only the SLA leader (the holder of an advisory lock,
 * lh_store_leader_check) evaluates the merged figures and rolls back, so a bad revision is
 * rolled back once, not once per replica. Checked live just before acting: a replica whose lock
 * connection dropped learns here that it lost the role. */
static int leaderNow(lh_slamon *m) {
    if (!m->leader) return 1;
    char err[256];
    int l = lh_store_leader_check(m->leader, err, sizeof(err)) == 1;
    atomic_store(&m->is_leader, l);
    return l;
}

/* A rollback this replica leaves to the leader: say so in the action. */
static void leaveToLeader(char *action, size_t cap) {
    size_t n = strlen(action);
    snprintf(action + n, cap - n, "; left to the SLA leader: this replica is not it (sla.leader false)");
}

/* A metric became violated: plan, record, alert, and roll back if the plan says so. */
static void onViolated(lh_slamon *m, view *w, const lh_sla_transition *t) {
    lh_sla_metric k = t->metric;
    const lh_sla_threshold *th = &w->cfg.t[k];
    lh_sla_sample now;
    if (w == &m->v[CLUSTER]) { pthread_mutex_lock(&m->mu); now = w->last; pthread_mutex_unlock(&m->mu); }
    else takeSample(m, &now);
    violation v;
    planViolation(m, w, t, &now, &v);
    if (v.plan && !leaderNow(m)) {
        v.plan = 0;
        leaveToLeader(v.action, sizeof(v.action));
        pthread_mutex_lock(&m->mu);
        snprintf(w->notes[t->metric].action, sizeof(w->notes[0].action), "%s", v.action);
        pthread_mutex_unlock(&m->mu);
    }
    char rev[160], key[128], summary[512];
    m->host.revision(m->host.ctx, rev, sizeof(rev));
    uint64_t unixNow = (uint64_t)((int64_t)t->now_ns + m->unix_off);
    json_t *d = violationData(m, w, t, &v, rev);
    int64_t seq = recordViolation(m, w, k, d, v.action, unixNow, key, sizeof(key));
    json_decref(d);
    fprintf(stderr, "lighthouse serve: SLA %s violated: %.3f %s %g for %.1f s (%s; %s)\n", lh_sla_metric_name(k), t->value,
            cmpText(k), th->threshold, (double)(t->now_ns - t->breach_ns) / 1e9, lh_sla_severity_name(th->severity),
            v.action);
    violationSummary(m, w, t, &v, rev, summary, sizeof(summary));
    sendAlert(m, w, "sla.violated", k, t->has, t->value, seq, key, summary, v.sev);
    if (v.plan) rollBack(m, w, t, v.target, v.from, v.action, key);
}

/* A violation still waiting for evidence (note.await): now, with the requests since, is
 * there evidence? Rolls back if so; stops waiting when the figures clear the revision. */
static void recheck(lh_slamon *m, view *w, lh_sla_metric k, const lh_sla_sample *now) {
    char target[160] = "", from[160] = "", action[600], key[128];
    lh_sla_mstate st;
    pthread_mutex_lock(&m->mu);
    note *nt = &w->notes[k];
    lh_sla_eval_state(w->ev, k, &st);
    if (!nt->await || st.state != LH_SLA_VIOLATED) { nt->await = 0; pthread_mutex_unlock(&m->mu); return; }
    lh_sla_transition t = nt->awaited;
    t.now_ns = now->t_ns;
    t.has = st.has;
    t.value = st.has ? st.value : t.value;
    int plan = lh_sla_rollback_plan(&w->lin, &w->cfg, &t, target, from, sizeof(target), action, sizeof(action));
    char ev[440] = "";
    if (plan) plan = lh_sla_rollback_evidence(&w->lin, &w->cfg, k, now, ev, sizeof(ev));
    if (plan < 0) {   /* still too few, or one agent alone: keep waiting, and say why now */
        snprintf(nt->action, sizeof(nt->action), "%s", ev);
        pthread_mutex_unlock(&m->mu);
        return;
    }
    nt->await = 0;
    if (plan > 0) { size_t n = strlen(action); snprintf(action + n, sizeof(action) - n, " (%s)", ev); }
    else if (ev[0]) snprintf(action, sizeof(action), "%s", ev);
    snprintf(key, sizeof(key), "%s", nt->key);
    pthread_mutex_unlock(&m->mu);
    if (plan > 0 && !leaderNow(m)) {   /* not under mu: it is a round trip to PostgreSQL */
        plan = 0;
        leaveToLeader(action, sizeof(action));
    }
    pthread_mutex_lock(&m->mu);
    snprintf(nt->action, sizeof(nt->action), "%s", action);
    pthread_mutex_unlock(&m->mu);
    fprintf(stderr, "lighthouse serve: SLA %s: %s\n", lh_sla_metric_name(k), action);
    if (plan > 0) rollBack(m, w, &t, target, from, action, key);
}

/* The automatic rollback for violation t, at most once for it. */
static void rollBack(lh_slamon *m, view *w, const lh_sla_transition *t, const char *target, const char *from, const char *action,
                     const char *key) {
    lh_sla_metric k = t->metric;
    const lh_sla_threshold *th = &w->cfg.t[k];
    const char *name = lh_sla_metric_name(k);
    char agg[96], summary[512];
    snprintf(agg, sizeof(agg), "sla:%s", name);
    int64_t seq;

    /* Land what waits first, so the rollback's event follows the violation's. If the
     * store is still down the rollback will fail at its record step; if it succeeds, the
     * violation's seq may be 0 in policy.rolled_back (it is recorded after it). */
    pthread_mutex_lock(&m->bmu);
    flushLocked(m);
    pthread_mutex_lock(&m->mu);
    seq = w->notes[k].violated_seq;
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_unlock(&m->bmu);

    /* The rollback: at most once for this violation (this is its only transition). */
    lh_rollback_step detect = {"detect", (double)(t->now_ns - t->breach_ns) / 1e6};
    json_t *extra = json_pack("{s:{s:s,s:o,s:f,s:s,s:I}}", "violation", "metric", name, "value",
                              numOrNull(t->has, t->value), "threshold", th->threshold, "severity",
                              lh_sla_severity_name(th->severity), "seq", (json_int_t)seq);
    addScope(m, w, extra);
    lh_rollback_req rq = {.target = target, .expect_current = from, .trigger = LH_ROLLBACK_SLA, .agent = "",
                          .extra = extra, .pre = &detect, .npre = 1};
    lh_rollback_result res;
    char err[512];
    int rc = m->host.rollback(m->host.ctx, &rq, &res, err, sizeof(err));
    json_decref(extra);
    json_t *steps = json_array();
    for (int i = 0; i < res.nsteps; i++)
        json_array_append_new(steps, json_pack("{s:s,s:f}", "step", res.steps[i].name, "ms", res.steps[i].ms));
    pthread_mutex_lock(&m->bmu);
    flushLocked(m);
    pthread_mutex_lock(&m->mu);
    seq = w->notes[k].violated_seq;
    uint64_t vpend = seq ? 0 : w->notes[k].pending;
    pthread_mutex_unlock(&m->mu);
    json_t *last = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I,s:f,s:o,s:I}", "ok", rc == 0, "metric", name, "from", from,
                                "to", target, "violation_seq", (json_int_t)seq, "seq", (json_int_t)res.seq,
                                "duration_ms", (double)res.duration_ns / 1e6, "steps", steps, "time_ns",
                                (json_int_t)nowNs() + (json_int_t)m->unix_off);
    if (rc) {
        json_object_set_new(last, "error", json_string(err));
        json_t *fd = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:O}", "trigger", "sla", "revision", from, "from", from, "to",
                               target, "violation_seq", (json_int_t)seq, "error", err, "steps", steps);
        int64_t fseq = recordLocked(m, "policy.rollback_failed", agg, fd, vpend, "violation_seq",
                                    nowUnixNs(m), NULL, NULL);
        json_decref(fd);
        fprintf(stderr, "lighthouse serve: SLA %s: automatic rollback from %s to %s failed: %s\n", name, from, target, err);
        snprintf(summary, sizeof(summary), "automatic rollback from %.120s to %.120s after %s violated FAILED: %.200s", from, target,
                 name, err);
        res.seq = fseq;
    } else {
        fprintf(stderr, "lighthouse serve: SLA %s: rolled the policy back from %s to %s in %.2f ms (event %lld)\n", name,
                from, target, (double)res.duration_ns / 1e6, (long long)res.seq);
        snprintf(summary, sizeof(summary), "policy rolled back from %s to %s in %.2f ms after %s violated", from, target,
                 (double)res.duration_ns / 1e6, name);
    }
    pthread_mutex_lock(&m->mu);
    json_decref(m->last_rollback);
    m->last_rollback = last;
    m->lastrb_ref = vpend;
    snprintf(w->notes[k].action, sizeof(w->notes[k].action), "%s %s", rc ? "failed:" : "done:", action);
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_unlock(&m->bmu);
    sendAlert(m, w, rc ? "policy.rollback_failed" : "policy.rolled_back", k, t->has, t->value, res.seq, key, summary,
              th->severity);
}

static void onResolved(lh_slamon *m, view *w, const lh_sla_transition *t) {
    lh_sla_metric k = t->metric;
    const lh_sla_threshold *th = &w->cfg.t[k];
    const char *name = lh_sla_metric_name(k);
    char agg[96];
    snprintf(agg, sizeof(agg), "sla:%s", name);
    pthread_mutex_lock(&m->bmu);   /* held until recorded: the violation's seq may land meanwhile */
    flushLocked(m);
    pthread_mutex_lock(&m->mu);
    note n = w->notes[k];
    lh_sla_severity sev = alertSeverity(m, w, k);
    memset(&w->notes[k], 0, sizeof(w->notes[k]));
    pthread_mutex_unlock(&m->mu);
    if (!n.key[0]) snprintf(n.key, sizeof(n.key), "sla:%s:%lld", name, (long long)n.violated_seq);
    uint64_t unixNow = (uint64_t)((int64_t)t->now_ns + m->unix_off);
    json_t *d = json_pack("{s:s,s:o,s:f,s:s,s:s,s:f,s:f,s:f,s:I,s:f}", "metric", name, "value",
                          numOrNull(t->has, t->value), "threshold", th->threshold, "comparison", cmpText(k), "severity",
                          lh_sla_severity_name(th->severity), "grace_s", th->grace_s, "window_s", w->cfg.window_s,
                          "resolve_hold_s", w->cfg.resolve_hold_s, "violated_seq", (json_int_t)n.violated_seq,
                          "violated_for_s", n.violated_unix_ns ? (double)(unixNow - n.violated_unix_ns) / 1e9 : 0.0);
    if (m->shared && d) {   /* no lock: addScope takes mu, and bmu comes first */
        json_object_set_new(d, "scope", json_string(w->scope));
        json_object_set_new(d, "replica", json_string(m->replica));
    }
    int64_t seq = recordLocked(m, "sla.resolved", agg, d, n.violated_seq ? 0 : n.pending, "violated_seq", unixNow,
                               NULL, NULL);
    pthread_mutex_unlock(&m->bmu);
    json_decref(d);
    fprintf(stderr, "lighthouse serve: SLA %s resolved: %.3f (threshold %g)\n", name, t->value, th->threshold);
    char summary[512];
    snprintf(summary, sizeof(summary), "%s back to %.6g (threshold %g) for %g s; violated for %.1f s", name, t->value,
             th->threshold, w->cfg.resolve_hold_s,
             n.violated_unix_ns ? (double)(unixNow - n.violated_unix_ns) / 1e9 : 0.0);
    sendAlert(m, w, "sla.resolved", k, t->has, t->value, seq, n.key, summary, sev);
}

/* ------------------------------------------------------------------------------ */
/* Replicas: the rows every replica publishes, merged by the leader                  */
/* ------------------------------------------------------------------------------ */

/* A failure of the rows, said on stderr once until they work again (a tick is 1 s or less). */
static void rowTrouble(lh_slamon *m, int bad, const char *what, const char *err) {
    if (bad && !m->row_err) fprintf(stderr, "lighthouse serve: SLA: %s: %s (said once until it works again)\n", what, err);
    if (!bad && m->row_err) fprintf(stderr, "lighthouse serve: SLA: the replicas' figures are shared again\n");
    m->row_err = bad;
}

/* This replica's row: its cumulative counters of sample s, served under rev. */
static int publishRow(lh_slamon *m, const char *rev, const lh_sla_sample *s) {
    lh_metrics_sla_counts tot = {.requests = s->requests, .ok = s->ok, .unavailable = s->unavailable,
                                 .store_faults = s->store_faults, .dur_sum_ns = s->dur_sum_ns};
    memcpy(tot.dur, s->dur, sizeof(tot.dur));
    memcpy(tot.ok_dur, s->ok_dur, sizeof(tot.ok_dur));
    char *row = lh_sla_row_encode(rev, &tot, s->agent, m->host.names, LH_SLA_AGENTS), err[256] = "out of memory";
    int rc = row ? lh_store_leader_publish(m->leader, m->replica, row, err, sizeof(err)) : -1;
    free(row);
    if (rc < 0) rowTrouble(m, 1, "cannot publish this replica's figures", err);
    return rc < 0 ? -1 : 0;
}

/* On the leader: every replica's row, merged into the cluster's next sample (*out, at
 * t_ns). Rows older than two ticks are a dead replica's (sla_merge.h). 1 with *out, 0
 * when the rows cannot be read. */
static int mergeRows(lh_slamon *m, const char *rev, uint64_t t_ns, lh_sla_sample *out) {
    lh_store_peer *p = NULL;
    size_t n = 0;
    char err[256];
    if (lh_store_leader_peers(m->leader, &p, &n, err, sizeof(err))) {
        rowTrouble(m, 1, "cannot read the replicas' figures", err);
        return 0;
    }
    int k = 0, bad = 0;
    for (size_t i = 0; i < n && k < LH_STORE_PEERS_MAX; i++) {
        lh_sla_row *r = &m->rows[k];
        if (lh_sla_row_decode(p[i].data, r, err, sizeof(err))) {
            if (!m->row_bad)   /* e.g. a replica of another version: said once until every row decodes */
                fprintf(stderr, "lighthouse serve: SLA: the row of replica %.80s is ignored: %s\n", p[i].replica, err);
            bad = 1;
            continue;
        }
        snprintf(r->replica, sizeof(r->replica), "%s", p[i].replica);
        r->age_s = p[i].age_s;
        k++;
    }
    lh_store_peers_free(p, n);
    m->row_bad = bad;
    rowTrouble(m, 0, "", "");
    view *w = &m->v[CLUSTER];
    pthread_mutex_lock(&m->mu);
    lh_sla_sample cs = w->last;
    w->nused = lh_sla_merge_round(m->merge, m->rows, k, 2 * m->cfg.interval_s, rev, &cs, w->used);
    cs.t_ns = t_ns;
    cs.cpu_s = -1;   /* CPU and memory are each process's own: off in this view */
    cs.cpus = 0;
    cs.rss_bytes = -1;
    cs.mem_limit_bytes = 0;
    w->last = cs;
    pthread_mutex_unlock(&m->mu);
    *out = cs;
    return 1;
}

/* Push one sample into a view and act on its transitions. */
static void evaluate(lh_slamon *m, view *w, const lh_sla_sample *s) {
    lh_sla_transition tr[LH_SLA_COUNT];
    pthread_mutex_lock(&m->mu);
    int n = lh_sla_eval_push(w->ev, s, tr);
    markKnownGood(w, s);
    pthread_mutex_unlock(&m->mu);
    int fresh[LH_SLA_COUNT] = {0};
    for (int i = 0; i < n; i++) {
        fresh[tr[i].metric] = 1;
        if (tr[i].violated) onViolated(m, w, &tr[i]);
        else onResolved(m, w, &tr[i]);
    }
    for (int k = 0; k < LH_SLA_COUNT; k++)
        if (!fresh[k] && w->notes[k].await) recheck(m, w, (lh_sla_metric)k, s);
}

static void tick(lh_slamon *m) {
    lh_sla_sample s, cs;
    int leader = leaderNow(m);   /* takes the role when it is free, and keeps sla.leader current */
    char rev[160];
    m->host.revision(m->host.ctx, rev, sizeof(rev));   /* before the counters: a change between them drops the increase */
    takeSample(m, &s);
    pthread_mutex_lock(&m->mu);
    m->last_sample_ns = s.t_ns;
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&m->bmu);   /* retry what waits, even on a tick with nothing new */
    flushLocked(m);
    pthread_mutex_unlock(&m->bmu);
    if (m->shared && leader && !m->merging) lh_sla_merge_forget(m->merge);   /* (again) the leader: rows since are baselines */
    int merged = m->shared && !publishRow(m, rev, &s) && leader && mergeRows(m, rev, s.t_ns, &cs);
    m->merging = merged;
    evaluate(m, &m->v[LOCAL], &s);
    if (merged) evaluate(m, &m->v[CLUSTER], &cs);
}

static void *monitorMain(void *arg) {
    lh_slamon *m = arg;
    pthread_setname_np(pthread_self(), "lh-sla-monitor");
    uint64_t step = (uint64_t)(m->cfg.interval_s * 1e9), next = nowNs();
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        tick(m);
        next += step;
        uint64_t now = nowNs();
        if (next < now) next = now + step;   /* a slow tick (a rollback): no burst of catch-up samples */
        struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
        pthread_mutex_lock(&m->mu);
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &ts) == 0) {}
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Life cycle                                                                       */
/* ------------------------------------------------------------------------------ */

lh_slamon *lh_slamon_new(const lh_sla_config *cfg, const lh_alerts_config *alerts, const lh_slamon_host *host, char *err,
                         size_t errlen) {
    if (lh_sla_config_check(cfg, err, errlen)) return NULL;
    lh_slamon *m = calloc(1, sizeof(*m));
    if (!m) { snprintf(err, errlen, "out of memory"); return NULL; }
    m->host = *host;
    m->cfg = *cfg;
    view *lo = &m->v[LOCAL], *cl = &m->v[CLUSTER];
    lo->scope = "replica";
    lo->cfg = *cfg;
    lo->lin.names = host->names;
    lo->ev = lh_sla_eval_new(&lo->cfg);
    if (!lo->ev) { free(m); snprintf(err, errlen, "out of memory"); return NULL; }
    /* Replicas sharing the store: the leader also evaluates all replicas' rows merged. */
    m->shared = cfg->enabled && host->store && lh_store_shared(host->store);
    if (m->shared) {
        char hn[64] = "";
        if (gethostname(hn, sizeof(hn) - 1)) snprintf(hn, sizeof(hn), "localhost");
        snprintf(m->replica, sizeof(m->replica), "%.60s:%d", hn, (int)getpid());
        cl->scope = "cluster";
        cl->cfg = *cfg;
        cl->cfg.t[LH_SLA_CPU].enabled = 0;      /* each process's own: the replica's view only */
        cl->cfg.t[LH_SLA_MEMORY].enabled = 0;
        m->merge = lh_sla_merge_new();
        m->rows = calloc(LH_STORE_PEERS_MAX, sizeof(*m->rows));
        cl->ev = lh_sla_eval_new(&cl->cfg);
        if (!m->merge || !m->rows || !cl->ev) {
            lh_sla_eval_free(lo->ev);
            lh_sla_eval_free(cl->ev);
            lh_sla_merge_free(m->merge);
            free(m->rows);
            free(m);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        cl->lin.names = lh_sla_merge_names(m->merge);
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->bmu, NULL);
    lh_cond_init_monotonic(&m->cv);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    m->unix_off = (int64_t)((uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec) - (int64_t)nowNs();
    m->cpus = readCpus();
    atomic_init(&m->is_leader, host->store ? 0 : 1);
    if (m->cfg.enabled && host->store && !(m->leader = lh_store_leader_new(host->store, SLA_LEADER_KEY))) {
        snprintf(err, errlen, "out of memory");
        lh_slamon_free(m);
        return NULL;
    }
    if (m->cfg.enabled) {   /* a bad alert setting stops the start before anything is recorded */
        char aerr[512];
        m->alerts = lh_alerts_start(alerts, recordAlert, m, aerr, sizeof(aerr));
        if (!m->alerts) { snprintf(err, errlen, "%s", aerr); lh_slamon_free(m); return NULL; }
    }
    return m;
}

void lh_slamon_resume(lh_slamon *m, const char *startRev) {
    if (!m->cfg.enabled || !(m->cfg.canary_window_s > 0)) return;
    /* Newest policy change first: the trailing run of events with startRev says when it
     * became active, and the event before that run names the revision before it. */
    char since_prev[160] = "";
    int64_t since_ns = 0, before = 0;
    int found = 0, done = 0;
    for (int page = 0; page < 100 && !done; page++) {
        lh_store_filter f = {.aggregate = "policy", .type = "policy.*", .descending = 1, .before_seq = before,
                             .limit = 1000};
        lh_event_list l = {0};
        char err[256];
        if (lh_store_query(m->host.store, &f, &l, err, sizeof(err))) {
            fprintf(stderr, "lighthouse serve: SLA: cannot read the policy history to resume a canary window: %s\n", err);
            lh_event_list_free(&l);
            return;
        }
        for (size_t i = 0; i < l.n && !done; i++) {
            json_t *d = json_loads(l.events[i].data, 0, NULL);
            const char *rev = json_string_value(json_object_get(d, "revision"));
            if (rev && !strcmp(l.events[i].type, "policy.rollback_failed")) rev = NULL;
            if (rev) {
                if (!strcmp(rev, startRev)) { found = 1; since_ns = l.events[i].time_ns; }
                else { if (found) snprintf(since_prev, sizeof(since_prev), "%s", rev); done = 1; }
            }
            json_decref(d);
        }
        if (!l.n) done = 1;
        before = l.cursor;
        lh_event_list_free(&l);
    }
    if (!found || !since_prev[0]) return;   /* never active, or active since the log began: trusted */
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t nowUnix = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec, age = nowUnix - since_ns;
    if (age < 0) age = 0;
    if ((double)age / 1e9 >= m->cfg.canary_window_s) return;
    pthread_mutex_lock(&m->mu);
    snprintf(m->resume_rev, sizeof(m->resume_rev), "%s", startRev);
    snprintf(m->resume_prev, sizeof(m->resume_prev), "%s", since_prev);
    m->resume_age_ns = (uint64_t)age;
    pthread_mutex_unlock(&m->mu);
}

int lh_slamon_start(lh_slamon *m, char *err, size_t errlen) {
    if (!m->cfg.enabled) return 0;
    if (pthread_create(&m->th, NULL, monitorMain, m)) { snprintf(err, errlen, "cannot start the SLA monitor thread"); return -1; }
    m->started = 1;
    return 0;
}

/* Stop sampling, then deliver the alerts still queued (for up to 2 s), then try the
 * backlog a last time: all three append, so this comes before the store closes (the
 * first call; later calls find the backlog done). */
void lh_slamon_stop(lh_slamon *m) {
    if (!m) return;
    if (m->started) {
        pthread_mutex_lock(&m->mu);
        m->stop = 1;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->th, NULL);
        m->started = 0;
    }
    lh_store_leader_free(m->leader);   /* before the store closes; another replica takes over */
    m->leader = NULL;
    atomic_store(&m->is_leader, 0);
    if (m->alerts) lh_alerts_stop(m->alerts, 2000);
    pthread_mutex_lock(&m->bmu);
    if (!m->final_flush) {
        m->final_flush = 1;
        flushLocked(m);
        if (m->bcount)
            fprintf(stderr, "lighthouse serve: SLA: %u event(s) could not be recorded before the stop and are lost\n",
                    m->bcount);
    }
    pthread_mutex_unlock(&m->bmu);
}

void lh_slamon_free(lh_slamon *m) {
    if (!m) return;
    lh_slamon_stop(m);
    lh_alerts_free(m->alerts);
    lh_sla_eval_free(m->v[LOCAL].ev);
    lh_sla_eval_free(m->v[CLUSTER].ev);
    lh_sla_merge_free(m->merge);
    free(m->rows);
    json_decref(m->last_rollback);
    while (m->bcount) popOldest(m);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->bmu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

/* ------------------------------------------------------------------------------ */
/* Reading the state: /v1/sla, /v1/status, /metrics                                */
/* ------------------------------------------------------------------------------ */

/* The worst state of the evaluated metrics: violated > breaching > ok > no_data. */
static const char *overall(const view *w, json_t *violated) {
    int worst = -1;
    static const int rank[] = {[LH_SLA_OFF] = -1, [LH_SLA_NO_DATA] = 0, [LH_SLA_OK] = 1, [LH_SLA_BREACHING] = 2,
                               [LH_SLA_VIOLATED] = 3};
    for (int k = 0; k < LH_SLA_COUNT; k++) {
        lh_sla_mstate st;
        lh_sla_eval_state(w->ev, (lh_sla_metric)k, &st);
        if (rank[st.state] > worst) worst = rank[st.state];
        if (st.state == LH_SLA_VIOLATED && violated) json_array_append_new(violated, json_string(lh_sla_metric_name((lh_sla_metric)k)));
    }
    return worst == 3 ? "violated" : worst == 2 ? "breaching" : worst == 1 ? "ok" : "no_data";
}

json_t *lh_slamon_status_json(lh_slamon *m) {
    if (!m->cfg.enabled) return json_pack("{s:b,s:s}", "enabled", 0, "state", "off");
    json_t *v = json_array();
    pthread_mutex_lock(&m->mu);
    const char *st = overall(&m->v[LOCAL], v);
    pthread_mutex_unlock(&m->mu);
    return json_pack("{s:b,s:s,s:o,s:b}", "enabled", 1, "state", st, "violated", v, "leader", atomic_load(&m->is_leader));
}

static json_t *metricJson(lh_slamon *m, const view *w, lh_sla_metric k) {
    lh_sla_mstate st;
    lh_sla_eval_state(w->ev, k, &st);
    const lh_sla_threshold *th = &w->cfg.t[k];
    json_t *o = json_pack("{s:s,s:o,s:f,s:s,s:s,s:I,s:f,s:s,s:b,s:b,s:I}", "metric", lh_sla_metric_name(k), "value",
                          numOrNull(st.has, st.value), "threshold", th->threshold, "comparison", cmpText(k), "state",
                          lh_sla_state_name(st.state), "since_ns",
                          (json_int_t)(st.since_ns ? (int64_t)st.since_ns + m->unix_off : 0), "grace_s", th->grace_s,
                          "severity", lh_sla_severity_name(th->severity), "rollback", th->rollback, "enabled", th->enabled,
                          "violations", (json_int_t)st.violations);
    if (!st.has) json_object_set_new(o, "no_data", json_string(st.no_data ? st.no_data : "no data"));
    if (k == LH_SLA_RPS && !m->cfg.traffic_expected)
        json_object_set_new(o, "not_evaluated", json_string("traffic is not expected (sla_traffic_expected: false)"));
    if (st.state == LH_SLA_BREACHING || st.state == LH_SLA_VIOLATED)
        json_object_set_new(o, "breach_since_ns", json_integer((int64_t)st.breach_ns + m->unix_off));
    if (st.state == LH_SLA_VIOLATED) {
        json_object_set_new(o, "violated_seq", json_integer(w->notes[k].violated_seq));
        json_object_set_new(o, "action", json_string(w->notes[k].action));
        const lh_sla_blame *bl = &w->notes[k].blame;
        json_t *ag = json_array();
        char tmp[32];
        for (int i = 0; i < bl->n; i++)
            json_array_append_new(ag, json_pack("{s:s,s:f}", "agent", lh_sla_agent_name(w->lin.names, bl->slot[i], tmp, sizeof(tmp)),
                                                "share", bl->share[i]));
        json_object_set_new(o, "agents", ag);
        json_object_set_new(o, "one_agent", bl->alone ? json_string(lh_sla_agent_name(w->lin.names, bl->worst, tmp, sizeof(tmp)))
                                                      : json_null());
        if (st.inside_ns) json_object_set_new(o, "inside_since_ns", json_integer((int64_t)st.inside_ns + m->unix_off));
    }
    return o;
}

/* Under mu: /v1/sla's "cluster": on the leader of replicas sharing the store, the figures of
 * all replicas merged (the ones a rollback is decided on); null elsewhere. */
static json_t *clusterJson(lh_slamon *m) {
    const view *w = &m->v[CLUSTER];
    if (!m->shared) return json_null();
    int leader = atomic_load(&m->is_leader);
    json_t *used = json_array(), *metrics = leader ? json_array() : json_null();
    for (int i = 0; leader && i < w->nused; i++) json_array_append_new(used, json_string(w->used[i]));
    for (int k = 0; leader && k < LH_SLA_COUNT; k++) json_array_append_new(metrics, metricJson(m, w, (lh_sla_metric)k));
    return json_pack("{s:s,s:b,s:s,s:o,s:o,s:f}", "replica", m->replica, "leader", leader, "state",
                     leader ? overall(w, NULL) : "not_leader", "replicas", used, "metrics", metrics, "window_covered_s",
                     leader ? lh_sla_eval_covered_s(w->ev) : 0.0);
}

json_t *lh_slamon_sla_json(lh_slamon *m) {
    json_t *metrics = json_array(), *lin = json_array();
    const view *w = &m->v[LOCAL];
    pthread_mutex_lock(&m->mu);
    const char *st = m->cfg.enabled ? overall(w, NULL) : "off";
    for (int k = 0; k < LH_SLA_COUNT; k++) json_array_append_new(metrics, metricJson(m, w, (lh_sla_metric)k));
    json_t *cluster = clusterJson(m);
    uint64_t now = nowNs();
    for (int i = w->lin.n - 1; i >= 0; i--) {
        const lh_sla_rev *l = &w->lin.r[i];
        int top = i == w->lin.n - 1;
        double age = (double)(now - l->activated_ns) / 1e9;
        json_array_append_new(lin, json_pack("{s:s,s:b,s:f,s:b,s:b}", "revision", l->rev, "active", top, "active_for_s",
                                             top ? age : 0.0, "in_canary", top && age <= m->cfg.canary_window_s,
                                             "known_good", l->good));
    }
    json_t *last = m->last_rollback ? json_incref(m->last_rollback) : json_null();
    double covered = lh_sla_eval_covered_s(w->ev);
    pthread_mutex_unlock(&m->mu);
    json_t *out = json_pack("{s:b,s:s,s:f,s:f,s:f,s:f,s:f,s:b,s:f,s:I,s:o,s:o,s:o,s:o}", "enabled", m->cfg.enabled, "state", st,
                            "window_s", m->cfg.window_s, "window_covered_s", covered, "eval_interval_s", m->cfg.interval_s,
                            "resolve_hold_s", m->cfg.resolve_hold_s, "canary_window_s", m->cfg.canary_window_s,
                            "traffic_expected", m->cfg.traffic_expected, "latency_target_ms", m->cfg.latency_target_ms,
                            "min_requests", (json_int_t)m->cfg.min_requests, "metrics", metrics, "revisions", lin,
                            "last_rollback", last, "cluster", cluster);
    return out;
}

typedef struct tbuf { char *p; size_t len, cap; } tbuf;

__attribute__((format(printf, 2, 3))) static void put(tbuf *t, const char *fmt, ...) {
    if (!t->p) return;
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) { free(t->p); t->p = NULL; return; }
        if ((size_t)n < t->cap - t->len) { t->len += (size_t)n; return; }
        char *np = realloc(t->p, t->cap * 2 + (size_t)n);
        if (!np) { free(t->p); t->p = NULL; return; }
        t->p = np;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

char *lh_slamon_metrics(lh_slamon *m) {
    tbuf t = {malloc(4096), 0, 4096};
    if (t.p) t.p[0] = 0;
    lh_sla_mstate st[LH_SLA_COUNT];
    pthread_mutex_lock(&m->mu);
    for (int k = 0; k < LH_SLA_COUNT; k++) lh_sla_eval_state(m->v[LOCAL].ev, (lh_sla_metric)k, &st[k]);
    pthread_mutex_unlock(&m->mu);
    put(&t, "# HELP lighthouse_bridge_sla_violations_total SLA violations raised, by metric and severity.\n"
            "# TYPE lighthouse_bridge_sla_violations_total counter\n");
    for (int k = 0; k < LH_SLA_COUNT; k++)
        put(&t, "lighthouse_bridge_sla_violations_total{metric=\"%s\",severity=\"%s\"} %llu\n",
            lh_sla_metric_name((lh_sla_metric)k), lh_sla_severity_name(m->cfg.t[k].severity),
            (unsigned long long)st[k].violations);
    put(&t, "# HELP lighthouse_bridge_sla_violation_active 1 while the metric is violated (past its grace, not yet resolved).\n"
            "# TYPE lighthouse_bridge_sla_violation_active gauge\n");
    for (int k = 0; k < LH_SLA_COUNT; k++)
        put(&t, "lighthouse_bridge_sla_violation_active{metric=\"%s\",severity=\"%s\"} %d\n",
            lh_sla_metric_name((lh_sla_metric)k), lh_sla_severity_name(m->cfg.t[k].severity),
            st[k].state == LH_SLA_VIOLATED);
    put(&t, "# HELP lighthouse_bridge_sla_value The SLA metric over the window; absent when it has no data.\n"
            "# TYPE lighthouse_bridge_sla_value gauge\n");
    for (int k = 0; k < LH_SLA_COUNT; k++)
        if (st[k].has && isfinite(st[k].value))
            put(&t, "lighthouse_bridge_sla_value{metric=\"%s\"} %.6g\n", lh_sla_metric_name((lh_sla_metric)k), st[k].value);
    put(&t, "# HELP lighthouse_bridge_sla_threshold The configured SLA threshold.\n"
            "# TYPE lighthouse_bridge_sla_threshold gauge\n");
    for (int k = 0; k < LH_SLA_COUNT; k++)
        if (m->cfg.t[k].enabled)
            put(&t, "lighthouse_bridge_sla_threshold{metric=\"%s\"} %.6g\n", lh_sla_metric_name((lh_sla_metric)k),
                m->cfg.t[k].threshold);
    lh_alerts_stats as;
    memset(&as, 0, sizeof(as));
    if (m->alerts) lh_alerts_stats_get(m->alerts, &as);
    put(&t, "# HELP lighthouse_bridge_alerts_total Alert deliveries by sink and result (after retries).\n"
            "# TYPE lighthouse_bridge_alerts_total counter\n");
    for (int k = 0; k < LH_ALERT_SINK_COUNT; k++) {
        put(&t, "lighthouse_bridge_alerts_total{sink=\"%s\",result=\"sent\"} %llu\n", lh_alert_sink_name((lh_alert_sink)k),
            (unsigned long long)as.sent[k]);
        put(&t, "lighthouse_bridge_alerts_total{sink=\"%s\",result=\"failed\"} %llu\n", lh_alert_sink_name((lh_alert_sink)k),
            (unsigned long long)as.failed[k]);
    }
    put(&t, "# HELP lighthouse_bridge_alert_retries_total Alert delivery attempts after the first, by sink.\n"
            "# TYPE lighthouse_bridge_alert_retries_total counter\n");
    for (int k = 0; k < LH_ALERT_SINK_COUNT; k++)
        put(&t, "lighthouse_bridge_alert_retries_total{sink=\"%s\"} %llu\n", lh_alert_sink_name((lh_alert_sink)k),
            (unsigned long long)as.retries[k]);
    put(&t, "# HELP lighthouse_bridge_alerts_dropped_total Alerts dropped because the queue was full.\n"
            "# TYPE lighthouse_bridge_alerts_dropped_total counter\nlighthouse_bridge_alerts_dropped_total %llu\n",
        (unsigned long long)as.dropped);
    put(&t, "# HELP lighthouse_bridge_sla_events_pending Events of the SLA monitor waiting for the event store.\n"
            "# TYPE lighthouse_bridge_sla_events_pending gauge\nlighthouse_bridge_sla_events_pending %u\n",
        atomic_load(&m->npending));
    put(&t, "# HELP lighthouse_bridge_sla_events_dropped_total Events of the SLA monitor dropped unrecorded because the backlog was full.\n"
            "# TYPE lighthouse_bridge_sla_events_dropped_total counter\nlighthouse_bridge_sla_events_dropped_total %llu\n",
        (unsigned long long)atomic_load(&m->dropped));
    put(&t, "# HELP lighthouse_bridge_sla_leader 1 while this replica holds the SLA leader lock (only the leader rolls back).\n"
            "# TYPE lighthouse_bridge_sla_leader gauge\nlighthouse_bridge_sla_leader %d\n", atomic_load(&m->is_leader));
    put(&t, "# HELP lighthouse_bridge_alert_queue_size Alerts waiting for delivery.\n"
            "# TYPE lighthouse_bridge_alert_queue_size gauge\nlighthouse_bridge_alert_queue_size %u\n", as.queued);
    return t.p;
}

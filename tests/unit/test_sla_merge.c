/* test_sla_merge.c — the replicas' SLA rows and their merge (src/bridge/sla_merge.c): the
 * row text, histograms and agents merged across replicas, stale rows, rows of another
 * revision, a restart, and the one-agent rule over the merged figures. The real replicas on
 * PostgreSQL run in tests/integration/replicas.sh. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

#include "bridge/sla_merge.h"

#define MS 1000000ull

static int bucketOf(uint64_t ns) {
    int i = 0;
    while (i < LH_HIST_BUCKETS && ns > lh_hist_bounds_ns[i]) i++;
    return i;
}

static void addCounts(lh_metrics_sla_counts *c, uint64_t n, uint64_t ns) {
    int b = bucketOf(ns);
    c->requests += n;
    c->ok += n;
    c->dur[b] += n;
    c->ok_dur[b] += n;
    c->dur_sum_ns += n * ns;
}

/* A replica's cumulative counters, as its bridge would publish them. */
typedef struct replica {
    char name[32];
    char rev[32];
    lh_metrics_sla_counts total;
    lh_metrics_sla_counts agent[LH_SLA_AGENTS];
    char names[LH_SLA_AGENTS][LH_METRICS_AGENT_NAME];
    int nslots;
} replica;

static void initReplica(replica *r, const char *name, const char *rev) {
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->rev, sizeof(r->rev), "%s", rev);
}

/* n requests of ns each by agent (its slot taken on first use, as the bridge does). */
static void serve(replica *r, const char *agent, uint64_t n, uint64_t ns) {
    int s = 0;
    while (s < r->nslots && strcmp(r->names[s], agent)) s++;
    if (s == r->nslots) snprintf(r->names[r->nslots++], LH_METRICS_AGENT_NAME, "%s", agent);
    addCounts(&r->total, n, ns);
    addCounts(&r->agent[s], n, ns);
}

/* Its row through the text, as the leader reads it back. */
static void rowOf(const replica *r, double age, lh_sla_row *out) {
    char *text = lh_sla_row_encode(r->rev, &r->total, r->agent, (const char (*)[LH_METRICS_AGENT_NAME])r->names,
                                   r->nslots);
    assert_non_null(text);
    char err[128];
    assert_int_equal(lh_sla_row_decode(text, out, err, sizeof(err)), 0);
    free(text);
    snprintf(out->replica, sizeof(out->replica), "%s", r->name);
    out->age_s = age;
}

/* One round over the replicas (ages by index); the merged sample into *s. */
static int round3(lh_sla_merge *mg, replica **rs, const double *ages, int n, const char *active, lh_sla_sample *s) {
    static lh_sla_row rows[4];
    for (int i = 0; i < n; i++) rowOf(rs[i], ages[i], &rows[i]);
    return lh_sla_merge_round(mg, rows, n, 0.5, active, s, NULL);
}

static int slotNamed(const lh_sla_merge *mg, const char *name) {
    const char (*nm)[LH_METRICS_AGENT_NAME] = lh_sla_merge_names(mg);
    for (int i = 0; i < LH_SLA_AGENTS; i++)
        if (!strcmp(nm[i], name)) return i;
    return -1;
}

/* ---- the row's text ------------------------------------------------------------- */

static void row_text_round_trips_and_refuses_junk(void **state) {
    (void)state;
    replica a;
    initReplica(&a, "a", "r1");
    serve(&a, "alice", 7, 3 * MS);
    serve(&a, "bob", 2, 300 * MS);
    lh_sla_row row;
    rowOf(&a, 0.1, &row);
    assert_string_equal(row.revision, "r1");
    assert_int_equal(row.total.requests, 9);
    assert_int_equal(row.total.dur_sum_ns, 7 * 3 * MS + 2 * 300 * MS);
    assert_memory_equal(row.total.dur, a.total.dur, sizeof(a.total.dur));
    assert_int_equal(row.nagents, 2);
    assert_string_equal(row.names[1], "bob");
    assert_int_equal(row.agent[1].dur[bucketOf(300 * MS)], 2);
    char err[128];
    const char *junk[] = {
        "",
        "[]",
        "{\"v\":2,\"rev\":\"r\",\"t\":[0,0,0,0,0],\"d\":[],\"k\":[],\"a\":[]}",
        "{\"v\":1,\"t\":[0,0,0,0,0],\"d\":[],\"k\":[],\"a\":[]}",                      /* no revision */
        "{\"v\":1,\"rev\":\"r\",\"t\":[0,0,0,0],\"d\":[],\"k\":[],\"a\":[]}",            /* short totals */
        "{\"v\":1,\"rev\":\"r\",\"t\":[0,0,0,0,-1],\"d\":[],\"k\":[],\"a\":[]}",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(lh_sla_row_decode(junk[i], &row, err, sizeof(err)), -1);
}

/* ---- the merge -------------------------------------------------------------------- */

static void histograms_and_agents_merge_across_replicas(void **state) {
    (void)state;
    lh_sla_merge *mg = lh_sla_merge_new();
    assert_non_null(mg);
    replica a, b, c;
    initReplica(&a, "a", "r1");
    initReplica(&b, "b", "r1");
    initReplica(&c, "c", "r1");
    serve(&a, "alice", 1000, 2 * MS);   /* history before the leader looked: not this window's */
    replica *rs[] = {&a, &b, &c};
    double fresh[] = {0.1, 0.1, 0.1};
    lh_sla_sample s0, s1;
    memset(&s0, 0, sizeof(s0));
    assert_int_equal(round3(mg, rs, fresh, 3, "r1", &s0), 0);   /* first rows: baselines */
    assert_int_equal(s0.requests, 0);
    s1 = s0;
    serve(&a, "alice", 40, 2 * MS);       /* the leader's own: fast */
    serve(&b, "alice", 30, 400 * MS);     /* a follower's: slow */
    serve(&b, "bob", 30, 400 * MS);
    serve(&c, "bob", 5, 400 * MS);
    assert_int_equal(round3(mg, rs, fresh, 3, "r1", &s1), 3);
    assert_int_equal(s1.requests, 105);
    assert_int_equal(s1.dur[bucketOf(2 * MS)], 40);
    assert_int_equal(s1.dur[bucketOf(400 * MS)], 65);
    assert_int_equal(s1.dur_sum_ns, 40 * 2 * MS + 65 * 400 * MS);
    int al = slotNamed(mg, "alice"), bo = slotNamed(mg, "bob");
    assert_true(al >= 0 && bo >= 0 && al != bo);
    assert_int_equal(s1.agent[al].requests, 70);   /* one agent on two replicas: one slot */
    assert_int_equal(s1.agent[bo].requests, 35);
    assert_int_equal(s1.agent[bo].dur[bucketOf(400 * MS)], 35);
    /* The merged p99 is the slow replica's, though the leader's own traffic is fast. */
    lh_sla_config cfg;
    lh_sla_config_defaults(&cfg);
    cfg.min_requests = 1;
    double v;
    const char *why;
    s0.t_ns = 0;
    s1.t_ns = 1000000000ull;
    assert_int_equal(lh_sla_compute(&cfg, LH_SLA_P99, &s0, &s1, &v, &why), 1);
    assert_true(v > 250 && v <= 500);
    lh_sla_merge_free(mg);
}

static void stale_rows_add_nothing_and_lose_nothing(void **state) {
    (void)state;
    lh_sla_merge *mg = lh_sla_merge_new();
    replica a, b;
    initReplica(&a, "a", "r1");
    initReplica(&b, "b", "r1");
    replica *rs[] = {&a, &b};
    lh_sla_sample s;
    memset(&s, 0, sizeof(s));
    double fresh[] = {0.1, 0.1}, bStale[] = {0.1, 3.0};
    round3(mg, rs, fresh, 2, "r1", &s);
    serve(&a, "alice", 10, 2 * MS);
    serve(&b, "bob", 20, 2 * MS);
    assert_int_equal(round3(mg, rs, bStale, 2, "r1", &s), 1);   /* b's row is older than two ticks */
    assert_int_equal(s.requests, 10);
    serve(&b, "bob", 5, 2 * MS);
    assert_int_equal(round3(mg, rs, fresh, 2, "r1", &s), 2);    /* fresh again: all of its increase */
    assert_int_equal(s.requests, 35);
    serve(&b, "bob", 50, 2 * MS);
    for (int i = 0; i < 3; i++) round3(mg, rs, bStale, 2, "r1", &s);   /* b is dead: it stops counting */
    assert_int_equal(s.requests, 35);
    lh_sla_merge_free(mg);
}

static void rows_of_another_revision_add_nothing(void **state) {
    (void)state;
    lh_sla_merge *mg = lh_sla_merge_new();
    replica a, b;
    initReplica(&a, "a", "r2");
    initReplica(&b, "b", "r1");   /* b has not installed r2 yet */
    replica *rs[] = {&a, &b};
    lh_sla_sample s;
    memset(&s, 0, sizeof(s));
    double fresh[] = {0.1, 0.1};
    round3(mg, rs, fresh, 2, "r2", &s);
    serve(&a, "alice", 10, 2 * MS);
    serve(&b, "bob", 20, 400 * MS);
    assert_int_equal(round3(mg, rs, fresh, 2, "r2", &s), 1);
    assert_int_equal(s.requests, 10);
    assert_int_equal(s.dur[bucketOf(400 * MS)], 0);
    snprintf(b.rev, sizeof(b.rev), "r2");   /* b installs r2: the tick it lands in is mixed */
    serve(&b, "bob", 3, 400 * MS);
    round3(mg, rs, fresh, 2, "r2", &s);
    assert_int_equal(s.requests, 10);
    serve(&b, "bob", 4, 400 * MS);          /* from then on, b's requests are r2's */
    round3(mg, rs, fresh, 2, "r2", &s);
    assert_int_equal(s.requests, 14);
    assert_int_equal(s.dur[bucketOf(400 * MS)], 4);
    lh_sla_merge_free(mg);
}

static void a_restarted_replica_is_a_new_baseline(void **state) {
    (void)state;
    lh_sla_merge *mg = lh_sla_merge_new();
    replica a;
    initReplica(&a, "a", "r1");
    replica *rs[] = {&a};
    lh_sla_sample s;
    memset(&s, 0, sizeof(s));
    double fresh[] = {0.1};
    serve(&a, "alice", 100, 2 * MS);
    round3(mg, rs, fresh, 1, "r1", &s);
    serve(&a, "alice", 10, 2 * MS);
    round3(mg, rs, fresh, 1, "r1", &s);
    assert_int_equal(s.requests, 10);
    initReplica(&a, "a", "r1");             /* counters back to zero */
    serve(&a, "alice", 3, 2 * MS);
    assert_int_equal(round3(mg, rs, fresh, 1, "r1", &s), 0);
    assert_int_equal(s.requests, 10);       /* never backwards */
    serve(&a, "alice", 6, 2 * MS);
    round3(mg, rs, fresh, 1, "r1", &s);
    assert_int_equal(s.requests, 16);
    /* Leader again after a while: what was served meanwhile is not this tick's. */
    lh_sla_merge_forget(mg);
    serve(&a, "alice", 500, 2 * MS);
    assert_int_equal(round3(mg, rs, fresh, 1, "r1", &s), 0);
    assert_int_equal(s.requests, 16);
    serve(&a, "alice", 2, 2 * MS);
    round3(mg, rs, fresh, 1, "r1", &s);
    assert_int_equal(s.requests, 18);
    lh_sla_merge_free(mg);
}

/* One client spread over the replicas is one agent in the merged figures, so the
 * one-agent rule (docs/sla.md, "Per agent") holds across replicas. */
static void one_agent_spread_over_replicas_is_still_one_agent(void **state) {
    (void)state;
    lh_sla_merge *mg = lh_sla_merge_new();
    replica a, b, c;
    initReplica(&a, "a", "r1");
    initReplica(&b, "b", "r1");
    initReplica(&c, "c", "r1");
    replica *rs[] = {&a, &b, &c};
    double fresh[] = {0.1, 0.1, 0.1};
    lh_sla_sample s0, s1;
    memset(&s0, 0, sizeof(s0));
    round3(mg, rs, fresh, 3, "r1", &s0);
    s1 = s0;
    serve(&a, "mallory", 20, 400 * MS);
    serve(&b, "mallory", 20, 400 * MS);
    serve(&c, "mallory", 20, 400 * MS);
    serve(&a, "alice", 30, 2 * MS);
    serve(&c, "bob", 30, 2 * MS);
    round3(mg, rs, fresh, 3, "r1", &s1);
    lh_sla_config cfg;
    lh_sla_config_defaults(&cfg);
    cfg.min_requests = 1;
    s1.t_ns = 1000000000ull;
    lh_sla_blame bl;
    assert_int_equal(lh_sla_blame_compute(&cfg, LH_SLA_P99, &s0, &s1, 1, &bl), 1);
    assert_int_equal(bl.worst, slotNamed(mg, "mallory"));
    assert_true(bl.alone);
    /* A second slow agent: the figure stays outside without mallory. */
    serve(&b, "trent", 20, 400 * MS);
    lh_sla_sample s2 = s1;
    round3(mg, rs, fresh, 3, "r1", &s2);
    s2.t_ns = 2000000000ull;
    assert_int_equal(lh_sla_blame_compute(&cfg, LH_SLA_P99, &s0, &s2, 1, &bl), 1);
    assert_false(bl.alone);
    lh_sla_merge_free(mg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_text_round_trips_and_refuses_junk),
        cmocka_unit_test(histograms_and_agents_merge_across_replicas),
        cmocka_unit_test(stale_rows_add_nothing_and_lose_nothing),
        cmocka_unit_test(rows_of_another_revision_add_nothing),
        cmocka_unit_test(a_restarted_replica_is_a_new_baseline),
        cmocka_unit_test(one_agent_spread_over_replicas_is_still_one_agent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

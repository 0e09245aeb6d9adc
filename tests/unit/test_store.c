/* test_store.c — the event store on a real SQLite file: appends, queries, bad input, keys,
 * rotation, verification, subscriptions, projections, torn WAL tails and I/O faults. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "util/arena.h"

static char tmpRoot[256];
static int dirSeq;

static void newDir(char *out, size_t cap) {
    snprintf(out, cap, "%s/d%d", tmpRoot, ++dirSeq);
}

static lh_store *openAt(const char *dir, const char *secret, unsigned flags, char *err) {
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = secret, .flags = flags};
    return lh_store_open(&o, err, 512);
}

static lh_store *openNew(char *dir, size_t cap) {
    char err[512];
    newDir(dir, cap);
    lh_store *st = openAt(dir, NULL, 0, err);
    if (!st) fail_msg("open: %s", err);
    return st;
}

static int64_t append1(lh_store *st, const char *type, const char *agent, const char *agg, const char *data) {
    lh_event e = {.type = type, .agent = agent, .aggregate = agg, .data = data};
    int64_t seq = -1;
    char err[512];
    if (lh_store_append(st, &e, 1, &seq, err, sizeof(err)) < 0) fail_msg("append: %s", err);
    return seq;
}

static void verifyOk(lh_store *st) {
    lh_store_verify_result r;
    char err[512];
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), 0);
    if (!r.ok) fail_msg("verify failed at %lld: %s", (long long)r.first_bad_seq, r.reason);
}

/* ---------------------------------------------------------------- basics */

static void test_append_query(void **state) {
    (void)state;
    char dir[300], err[512];
    lh_store *st = openNew(dir, sizeof(dir));
    assert_int_equal(append1(st, "decision.made", "a1", "s1", "{\"b\": 2, \"a\": 1}"), 1);
    assert_int_equal(append1(st, "policy.activated", "", "policy", "{\"revision\":\"r1\"}"), 2);
    lh_event batch[3] = {
        {.type = "decision.made", .agent = "a2", .aggregate = "s2", .data = "{}"},
        {.type = "decision.made", .agent = "a1", .aggregate = "s1", .data = "{\"x\":[1,2,{\"y\":null}]}"},
        {.type = "escalation.created", .agent = "a1", .aggregate = "s1", .id = "esc-1"},
    };
    int64_t seqs[3];
    assert_int_equal(lh_store_append(st, batch, 3, seqs, err, sizeof(err)), 0);
    assert_int_equal(seqs[0], 3);
    assert_int_equal(seqs[2], 5);

    lh_event_list l;
    lh_store_filter f = {.agent = "a1"};
    assert_int_equal(lh_store_query(st, &f, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.events[0].seq, 1);
    assert_string_equal(l.events[0].data, "{\"a\":1,\"b\":2}"); /* canonical: sorted, compact */
    assert_string_equal(l.events[2].id, "esc-1");
    assert_int_equal(strlen(l.events[0].id), 36);
    assert_true(l.events[0].time_ns <= l.events[1].time_ns);
    lh_event_list_free(&l);

    lh_store_filter pf = {.type = "decision.*", .descending = 1, .limit = 2};
    assert_int_equal(lh_store_query(st, &pf, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.events[0].seq, 4);
    assert_int_equal(l.events[1].seq, 3);
    assert_int_equal(l.cursor, 3);
    lh_event_list_free(&l);
    pf.before_seq = 3;
    assert_int_equal(lh_store_query(st, &pf, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.events[0].seq, 1);
    lh_event_list_free(&l);

    lh_store_filter rf = {.after_seq = 1, .before_seq = 5, .aggregate = "s1"};
    int64_t n = 0;
    assert_int_equal(lh_store_count(st, &rf, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1); /* seq 4 only */
    lh_store_filter ef = {.type = "escalation.created"};
    assert_int_equal(lh_store_count(st, &ef, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);

    /* time range: everything up to and including seq 2's time, nothing after the last */
    assert_int_equal(lh_store_query(st, &(lh_store_filter){0}, &l, err, sizeof(err)), 0);
    int64_t t2 = l.events[1].time_ns, t5 = l.events[4].time_ns;
    lh_event_list_free(&l);
    lh_store_filter tf = {.until_ns = t2 + 1};
    assert_int_equal(lh_store_count(st, &tf, &n, err, sizeof(err)), 0);
    assert_true(n >= 2 && n <= 5);
    lh_store_filter tf2 = {.since_ns = t5 + 1};
    assert_int_equal(lh_store_count(st, &tf2, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    int64_t at = 0;
    assert_int_equal(lh_store_seq_at_time(st, t5, &at, err, sizeof(err)), 0);
    assert_int_equal(at, 5);
    assert_int_equal(lh_store_seq_at_time(st, 1, &at, err, sizeof(err)), 0);
    assert_int_equal(at, 0);

    lh_store_stats s;
    assert_int_equal(lh_store_stats_get(st, &s, err, sizeof(err)), 0);
    assert_int_equal(s.events, 5);
    assert_int_equal(s.head_seq, 5);
    assert_string_equal(s.backend, "sqlite");
    assert_int_equal(s.types[0].count, 3);
    assert_string_equal(s.types[0].type, "decision.made");
    verifyOk(st);
    lh_store_close(st);

    /* reopen: the chain continues */
    st = openAt(dir, NULL, 0, err);
    assert_non_null(st);
    assert_int_equal(append1(st, "decision.made", "a1", "", "{}"), 6);
    verifyOk(st);
    lh_store_close(st);
    /* the secret file was generated 0600 */
    char p[400];
    struct stat sb;
    snprintf(p, sizeof(p), "%s/secret", dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* ---------------------------------------------------------------- bad input */

static void expectRefused(lh_store *st, lh_event e, const char *needle) {
    char err[512] = "";
    int64_t seq = 0;
    assert_int_equal(lh_store_append(st, &e, 1, &seq, err, sizeof(err)), -1);
    if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_bad_input(void **state) {
    (void)state;
    char dir[300], err[512];
    lh_store *st = openNew(dir, sizeof(dir));
    /* over 1 MiB */
    size_t big = 1024 * 1024 + 16;
    char *data = malloc(big + 16);
    strcpy(data, "{\"k\":\"");
    memset(data + 6, 'x', big);
    strcpy(data + 6 + big, "\"}");
    expectRefused(st, (lh_event){.type = "decision.made", .data = data}, "over the limit of 1048576 bytes");
    /* just under 1 MiB is fine */
    size_t ok = 1024 * 1024 - 100;
    memset(data + 6, 'y', ok);
    strcpy(data + 6 + ok, "\"}");
    lh_event e = {.type = "decision.made", .data = data};
    assert_int_equal(lh_store_append(st, &e, 1, NULL, err, sizeof(err)), 0);
    free(data);
    /* too deep */
    char deep[400] = "";
    for (int i = 0; i < 65; i++) strcat(deep, "[");
    for (int i = 0; i < 65; i++) strcat(deep, "]");
    char deepobj[420];
    snprintf(deepobj, sizeof(deepobj), "{\"d\":%s}", deep);
    expectRefused(st, (lh_event){.type = "decision.made", .data = deepobj}, "nested deeper than 64");
    /* invalid UTF-8: in data, in the agent; an overlong form; a lone surrogate escape */
    expectRefused(st, (lh_event){.type = "decision.made", .data = "{\"k\":\"\xff\"}"}, "not valid UTF-8");
    expectRefused(st, (lh_event){.type = "decision.made", .data = "{\"k\":\"\xc0\xaf\"}"}, "not valid UTF-8");
    expectRefused(st, (lh_event){.type = "decision.made", .agent = "a\xe2\x28\xa1", .data = "{}"}, "agent must be UTF-8");
    expectRefused(st, (lh_event){.type = "decision.made", .data = "{\"k\":\"\\ud800\"}"}, "not valid JSON");
    /* not JSON, not an object, duplicate keys */
    expectRefused(st, (lh_event){.type = "decision.made", .data = "{\"k\":"}, "not valid JSON");
    expectRefused(st, (lh_event){.type = "decision.made", .data = "[1]"}, "must be a JSON object");
    expectRefused(st, (lh_event){.type = "decision.made", .data = "{\"a\":1,\"a\":2}"}, "not valid JSON");
    /* bad types and ids */
    expectRefused(st, (lh_event){.type = "Decision", .data = "{}"}, "dotted lower-case");
    expectRefused(st, (lh_event){.type = "decision.", .data = "{}"}, "dotted lower-case");
    expectRefused(st, (lh_event){.type = "key.rotated", .data = "{}"}, "reserved");
    expectRefused(st, (lh_event){.type = "decision.made", .id = "a b", .data = "{}"}, "id must be");
    expectRefused(st, (lh_event){.type = "decision.made", .agent = "a\nb", .data = "{}"}, "control characters");
    /* a refused event in a batch refuses the batch, and nothing was written */
    lh_event b2[2] = {{.type = "decision.made", .data = "{}"}, {.type = "decision.made", .data = "{"}};
    assert_int_equal(lh_store_append(st, b2, 2, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "event 1"));
    assert_int_equal(lh_store_append(st, b2, 0, NULL, err, sizeof(err)), -1);
    /* a duplicate id fails alone */
    assert_int_equal(append1(st, "decision.made", "", "", "{}"), 2);
    lh_event d = {.type = "decision.made", .id = "dup-1", .data = "{}"};
    assert_int_equal(lh_store_append(st, &d, 1, NULL, err, sizeof(err)), 0);
    assert_int_equal(lh_store_append(st, &d, 1, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already in the store"));
    assert_int_equal(append1(st, "decision.made", "", "", "{}"), 4);
    /* The writer inserts 16 rows per statement: a duplicate id inside one of those (here
     * the 21st of 40 events, and then one within the batch itself) fails the whole batch
     * and names the id, and the next append gets the next seq. */
    lh_event many[40];
    char ids[40][24];
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof(ids[i]), "many-%d", i);
        many[i] = (lh_event){.type = "decision.made", .id = ids[i], .data = "{}"};
    }
    many[20].id = "dup-1";
    assert_int_equal(lh_store_append(st, many, 40, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "event id 'dup-1' is already in the store"));
    many[20].id = ids[20];
    many[35].id = ids[3];
    assert_int_equal(lh_store_append(st, many, 40, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "event id 'many-3' is already in the store"));
    many[35].id = ids[35];
    int64_t seqs[40];
    assert_int_equal(lh_store_append(st, many, 40, seqs, err, sizeof(err)), 0);
    assert_int_equal(seqs[0], 5);
    assert_int_equal(seqs[39], 44);
    assert_int_equal(append1(st, "decision.made", "", "", "{}"), 45);
    verifyOk(st);
    lh_store_close(st);
}

static void test_backend_and_keys(void **state) {
    (void)state;
    char err[512], dir[300];
    lh_store_backend b;
    assert_int_equal(lh_store_backend_parse("mysql", &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown store backend 'mysql'"));
    assert_int_equal(lh_store_backend_parse("postgres", &b, err, sizeof(err)), 0);
    assert_int_equal(b, LH_STORE_POSTGRES);
    lh_store_options o = {.backend = (lh_store_backend)7, .data_dir = "/tmp"};
    assert_null(lh_store_open(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown store backend"));

    /* a key that is too short is refused; there is no default */
    newDir(dir, sizeof(dir));
    assert_null(openAt(dir, "short", 0, err));
    assert_non_null(strstr(err, "at least 32 bytes"));

    const char *k1 = "k1-0123456789abcdef0123456789abcdef";
    const char *k2 = "k2-0123456789abcdef0123456789abcdef";
    lh_store *st = openAt(dir, k1, 0, err);
    assert_non_null(st);
    append1(st, "decision.made", "", "", "{}");
    lh_store_close(st);
    /* wrong key: refused at open (read-write) and at verify (read-only) */
    assert_null(openAt(dir, k2, 0, err));
    assert_non_null(strstr(err, "wrong key"));
    st = openAt(dir, k2, LH_STORE_READONLY, err);
    assert_non_null(st);
    lh_store_verify_result r;
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "wrong key"));
    lh_store_close(st);

    /* a secret file readable by others is refused */
    newDir(dir, sizeof(dir));
    unsetenv("LIGHTHOUSE_SECRET");
    st = openAt(dir, NULL, 0, err);
    assert_non_null(st);
    lh_store_close(st);
    char p[400];
    snprintf(p, sizeof(p), "%s/secret", dir);
    chmod(p, 0644);
    assert_null(openAt(dir, NULL, 0, err));
    assert_non_null(strstr(err, "chmod 600"));
    chmod(p, 0600);
    /* LIGHTHOUSE_SECRET wins over the file: here it is the wrong key */
    setenv("LIGHTHOUSE_SECRET", k2, 1);
    assert_null(openAt(dir, NULL, 0, err));
    assert_non_null(strstr(err, "wrong key"));
    unsetenv("LIGHTHOUSE_SECRET");
    st = openAt(dir, NULL, 0, err);
    assert_non_null(st);
    lh_store_close(st);
    /* read-only on a missing store creates nothing */
    newDir(dir, sizeof(dir));
    assert_null(openAt(dir, NULL, LH_STORE_READONLY, err));
    assert_non_null(strstr(err, "no event store"));
    assert_int_equal(access(dir, F_OK), -1);
}

/* ---------------------------------------------------------------- rotation */

static void test_key_rotation(void **state) {
    (void)state;
    char dir[300], err[512], fp[LH_STORE_FP_LEN + 1];
    lh_store *st = openNew(dir, sizeof(dir));
    for (int i = 0; i < 5; i++) append1(st, "decision.made", "a", "", "{}");
    assert_int_equal(lh_store_add_file_key(st, fp, err, sizeof(err)), 0);
    int64_t rseq = 0;
    assert_int_equal(lh_store_rotate_key(st, fp, &rseq, err, sizeof(err)), 0);
    assert_int_equal(rseq, 6);
    for (int i = 0; i < 5; i++) append1(st, "decision.made", "a", "", "{}");
    lh_store_verify_result r;
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), 0);
    assert_true(r.ok);
    assert_int_equal(r.key_rotations, 1);
    assert_int_equal(r.checked, 11);
    lh_store_stats s;
    assert_int_equal(lh_store_stats_get(st, &s, err, sizeof(err)), 0);
    assert_string_equal(s.key_fp, fp);
    /* an unknown key cannot be rotated to */
    assert_int_equal(lh_store_rotate_key(st, "0000000000000000", NULL, err, sizeof(err)), -1);
    lh_store_close(st);
    /* reopen: both keys come from the file; the chain verifies across the rotation */
    st = openAt(dir, NULL, 0, err);
    assert_non_null(st);
    assert_int_equal(append1(st, "decision.made", "a", "", "{}"), 12);
    verifyOk(st);
    lh_store_close(st);
    /* with the old key only, the rotation's target is missing: a clear error */
    char p[400], line[80];
    snprintf(p, sizeof(p), "%s/secret", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[64] = 0;
    st = openAt(dir, line, LH_STORE_READONLY, err);
    assert_non_null(st);
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "rotated to key"));
    lh_store_close(st);
}

/* ---------------------------------------------------------------- concurrency */

typedef struct worker {
    lh_store *st;
    int n, id;
    int64_t *seqs;
} worker;

static void *appendMany(void *arg) {
    worker *w = arg;
    char data[64], err[512];
    for (int i = 0; i < w->n; i++) {
        snprintf(data, sizeof(data), "{\"w\":%d,\"i\":%d}", w->id, i);
        lh_event e = {.type = "decision.made", .agent = "agent", .data = data};
        if (lh_store_append(w->st, &e, 1, &w->seqs[i], err, sizeof(err)) < 0) w->seqs[i] = -1;
    }
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_concurrent_group_commit(void **state) {
    (void)state;
    char dir[300], err[512];
    lh_store *st = openNew(dir, sizeof(dir));
    enum { T = 16, N = 300 };
    worker w[T];
    pthread_t th[T];
    int64_t *all = calloc(T * N, sizeof(int64_t));
    for (int i = 0; i < T; i++) {
        w[i] = (worker){st, N, i, all + i * N};
        pthread_create(&th[i], NULL, appendMany, &w[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    qsort(all, T * N, sizeof(int64_t), cmp64);
    for (int i = 0; i < T * N; i++) assert_int_equal(all[i], i + 1); /* dense, unique, none failed */
    free(all);
    lh_store_stats s;
    assert_int_equal(lh_store_stats_get(st, &s, err, sizeof(err)), 0);
    assert_int_equal(s.appends_ok, T * N);
    assert_true(s.commits < T * N); /* appends shared commits */
    verifyOk(st);
    lh_store_close(st);
}

/* ---------------------------------------------------------------- asynchronous appends */

typedef struct asyncSlot {
    lh_arena *a;
    int64_t seq;
    _Atomic int calls;    /* done() must be called exactly once */
    int rc;
    char err[256];
    char id[40];
    char data[64];
} asyncSlot;

static void asyncDone(void *arg, int rc, const char *err) {
    asyncSlot *s = arg;
    s->rc = rc;
    if (err) snprintf(s->err, sizeof(s->err), "%s", err);
    atomic_fetch_add(&s->calls, 1);
}

typedef struct asyncWorker {
    lh_store *st;
    asyncSlot *slots;
    int n;
} asyncWorker;

static void *appendAsyncMany(void *arg) {
    asyncWorker *w = arg;
    for (int i = 0; i < w->n; i++) {
        asyncSlot *s = &w->slots[i];
        lh_event e = {.type = "decision.made", .agent = "async", .aggregate = "s", .data = s->data,
                      .id = s->id[0] ? s->id : NULL};
        char err[512];
        if (lh_store_append_async(w->st, &e, 1, &s->seq, s->a, asyncDone, s, err, sizeof(err)) < 0)
            fail_msg("append_async: %s", err);
    }
    return NULL;
}

/* Appends that do not wait: each is called back exactly once, after it is durable, with
 * dense seqs; a duplicate id fails alone; bad input is refused at once with no call back;
 * closing the store finishes every queued one first. */
static void test_append_async(void **state) {
    (void)state;
    char dir[300], err[512];
    lh_store *st = openNew(dir, sizeof(dir));
    enum { T = 4, N = 250 };
    asyncSlot *slots = calloc(T * N, sizeof(*slots));
    for (int i = 0; i < T * N; i++) {
        slots[i].a = lh_arena_new(4096);
        snprintf(slots[i].data, sizeof(slots[i].data), "{\"b\":2,\"a\":%d}", i); /* not canonical */
    }
    snprintf(slots[7].id, sizeof(slots[7].id), "dup-1");
    snprintf(slots[T * N - 1].id, sizeof(slots[T * N - 1].id), "dup-1"); /* the second one fails */
    asyncWorker w[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        w[i] = (asyncWorker){st, slots + i * N, N};
        pthread_create(&th[i], NULL, appendAsyncMany, &w[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);

    /* refused at once: no call back */
    asyncSlot bad = {.a = lh_arena_new(4096)};
    lh_event be = {.type = "decision.made", .agent = "a", .aggregate = "s", .data = "{\"x\":"};
    assert_int_equal(lh_store_append_async(st, &be, 1, &bad.seq, bad.a, asyncDone, &bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "JSON"));

    lh_store_stats s0;
    assert_int_equal(lh_store_stats_get(st, &s0, err, sizeof(err)), 0);
    char keep[300];
    snprintf(keep, sizeof(keep), "%s", dir);
    lh_store_close(st); /* finishes everything queued */
    assert_int_equal(atomic_load(&bad.calls), 0);

    int64_t *seqs = calloc(T * N, sizeof(int64_t));
    int ok = 0, failed = 0;
    for (int i = 0; i < T * N; i++) {
        assert_int_equal(atomic_load(&slots[i].calls), 1);
        if (slots[i].rc == 0) seqs[ok++] = slots[i].seq;
        else {
            failed++;
            assert_non_null(strstr(slots[i].err, "dup-1"));
        }
    }
    assert_int_equal(failed, 1);
    assert_int_equal(ok, T * N - 1);
    qsort(seqs, (size_t)ok, sizeof(int64_t), cmp64);
    for (int i = 0; i < ok; i++) assert_int_equal(seqs[i], i + 1); /* dense and unique */

    /* durable and verifiable after reopening; the data was made canonical */
    st = openAt(keep, NULL, 0, err);
    assert_non_null(st);
    verifyOk(st);
    lh_store_filter f = {.agent = "async"};
    int64_t cnt = 0;
    assert_int_equal(lh_store_count(st, &f, &cnt, err, sizeof(err)), 0);
    assert_int_equal(cnt, T * N - 1);
    lh_event_list l;
    lh_store_filter one = {.after_seq = slots[0].seq - 1, .before_seq = slots[0].seq + 1};
    assert_int_equal(lh_store_query(st, &one, &l, err, sizeof(err)), 0);
    assert_int_equal((int)l.n, 1);
    assert_string_equal(l.events[0].data, "{\"a\":0,\"b\":2}");
    lh_event_list_free(&l);
    lh_store_close(st);
    for (int i = 0; i < T * N; i++) lh_arena_free(slots[i].a);
    lh_arena_free(bad.a);
    free(slots);
    free(seqs);
}

/* ---------------------------------------------------------------- subscribe */

typedef struct subArg {
    lh_store *st;
    int got;
    int64_t last;
} subArg;

static void *subscriber(void *arg) {
    subArg *a = arg;
    lh_store_sub *sub = NULL;
    char err[512];
    if (lh_store_subscribe(a->st, 0, &sub, err, sizeof(err)) < 0) return NULL;
    /* each wait is up to 60 s: only a delivery that never comes ends the loop early */
    while (a->got >= 0 && a->got < 20) {
        lh_event_list l;
        if (lh_store_sub_next(sub, 60000, 100, &l, err, sizeof(err)) < 0) break;
        if (l.n == 0) break;
        for (size_t k = 0; k < l.n; k++) {
            if (l.events[k].seq != a->last + 1) a->got = -1000;
            a->last = l.events[k].seq;
            a->got++;
        }
        lh_event_list_free(&l);
    }
    lh_store_sub_close(sub);
    return NULL;
}

static void test_subscribe(void **state) {
    (void)state;
    char dir[300];
    lh_store *st = openNew(dir, sizeof(dir));
    subArg a = {st, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, subscriber, &a);
    for (int i = 0; i < 20; i++) {
        append1(st, "decision.made", "a", "", "{}");
        if (i % 5 == 0) usleep(10000);
    }
    pthread_join(th, NULL);
    assert_int_equal(a.got, 20);
    assert_int_equal(a.last, 20);
    lh_store_close(st);
}

/* ---------------------------------------------------------------- projections */

static const char *revisionOf(json_t *s) { return json_string_value(json_object_get(s, "revision")); }

static void test_projections(void **state) {
    (void)state;
    char dir[300], err[512];
    lh_store *st = openNew(dir, sizeof(dir));
    int64_t s1 = append1(st, "policy.activated", "", "policy", "{\"revision\":\"r1\"}");
    append1(st, "token.issued", "", "tok-a", "{\"token_id\":\"tok-a\",\"agent\":\"b1\",\"role\":\"builder\"}");
    int64_t s2 = append1(st, "policy.activated", "", "policy", "{\"revision\":\"r2\"}");
    append1(st, "decision.made", "b1", "", "{}");
    append1(st, "token.issued", "", "tok-b", "{\"token_id\":\"tok-b\",\"agent\":\"e1\",\"role\":\"expert\"}");
    int64_t snap = 0;
    assert_int_equal(lh_store_snapshot(st, &lh_projection_policy, &snap, err, sizeof(err)), 0);
    assert_int_equal(snap, 5);
    assert_int_equal(lh_store_snapshot(st, &lh_projection_tokens, NULL, err, sizeof(err)), 0);
    int64_t s3 = append1(st, "policy.rolled_back", "", "policy", "{\"revision\":\"r1\"}");
    append1(st, "token.revoked", "", "tok-a", "{\"token_id\":\"tok-a\"}");

    json_t *s = NULL;
    int64_t at = 0;
    assert_int_equal(lh_store_project(st, &lh_projection_policy, 0, &s, &at, err, sizeof(err)), 0);
    assert_int_equal(at, 7);
    assert_string_equal(revisionOf(s), "r1");
    assert_int_equal(json_integer_value(json_object_get(s, "seq")), s3);
    assert_int_equal(json_array_size(json_object_get(s, "history")), 3);
    json_decref(s);
    /* time travel by seq */
    assert_int_equal(lh_store_project(st, &lh_projection_policy, s2, &s, NULL, err, sizeof(err)), 0);
    assert_string_equal(revisionOf(s), "r2");
    json_decref(s);
    assert_int_equal(lh_store_project(st, &lh_projection_policy, s1, &s, NULL, err, sizeof(err)), 0);
    assert_string_equal(revisionOf(s), "r1");
    assert_int_equal(json_array_size(json_object_get(s, "history")), 1);
    json_decref(s);
    /* time travel by time */
    lh_event_list l;
    lh_store_filter f = {.after_seq = s2 - 1, .limit = 1};
    assert_int_equal(lh_store_query(st, &f, &l, err, sizeof(err)), 0);
    int64_t seq_at = 0;
    assert_int_equal(lh_store_seq_at_time(st, l.events[0].time_ns, &seq_at, err, sizeof(err)), 0);
    lh_event_list_free(&l);
    assert_true(seq_at >= s2 && seq_at < s3);
    assert_int_equal(lh_store_project(st, &lh_projection_policy, seq_at, &s, NULL, err, sizeof(err)), 0);
    assert_string_equal(revisionOf(s), "r2");
    json_decref(s);
    /* tokens */
    assert_int_equal(lh_store_project(st, &lh_projection_tokens, 0, &s, NULL, err, sizeof(err)), 0);
    json_t *toks = json_object_get(s, "tokens");
    assert_int_equal(json_object_size(toks), 2);
    assert_true(json_is_true(json_object_get(json_object_get(toks, "tok-a"), "revoked")));
    assert_true(json_is_false(json_object_get(json_object_get(toks, "tok-b"), "revoked")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(toks, "tok-b"), "role")), "expert");
    json_decref(s);
    lh_store_close(st);

    /* A tampered snapshot is not trusted: the state is replayed from events instead. */
    char p[400];
    snprintf(p, sizeof(p), "%s/events.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE snapshots SET state = replace(state, '\"r2\"', '\"evil\"') "
                                      "WHERE name = 'policy'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    st = openAt(dir, NULL, LH_STORE_READONLY, err);
    assert_non_null(st);
    assert_int_equal(lh_store_project(st, &lh_projection_policy, 5, &s, NULL, err, sizeof(err)), 0);
    assert_string_equal(revisionOf(s), "r2");
    char *txt = json_dumps(s, 0);
    assert_null(strstr(txt, "evil"));
    free(txt);
    json_decref(s);
    lh_store_close(st);
}

/* ---------------------------------------------------------------- tampering (via SQL) */

/* why: a part of the reason verify must give (NULL: any), so that a check another one
 * backs up (the chain head, the checkpoints outside the store) is still tested itself. */
static void tamperCaseWhy(const char *sql, int64_t want_bad, const char *why) {
    char dir[300], err[512], p[400];
    lh_store *st = openNew(dir, sizeof(dir));
    for (int i = 0; i < 30; i++) append1(st, "decision.made", "a", "", "{\"n\":1}");
    lh_store_close(st);
    snprintf(p, sizeof(p), "%s/events.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = openAt(dir, NULL, LH_STORE_READONLY, err);
    assert_non_null(st);
    lh_store_verify_result r;
    assert_int_equal(lh_store_verify(st, &r, err, sizeof(err)), 0);
    assert_false(r.ok);
    assert_int_equal(r.first_bad_seq, want_bad);
    if (why && !strstr(r.reason, why)) fail_msg("reason \"%s\" lacks \"%s\"", r.reason, why);
    lh_store_close(st);
}

static void tamperCase(const char *sql, int64_t want_bad) { tamperCaseWhy(sql, want_bad, NULL); }

/* A store whose tail does not verify is not opened for writing (checkTail in store.c). */
static void tamperOpenRefused(const char *sql, const char *why) {
    char dir[300], err[512], p[400];
    lh_store *st = openNew(dir, sizeof(dir));
    for (int i = 0; i < 30; i++) append1(st, "decision.made", "a", "", "{\"n\":1}");
    lh_store_close(st);
    snprintf(p, sizeof(p), "%s/events.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err[0] = 0;
    st = openAt(dir, NULL, 0, err);
    if (st) { lh_store_close(st); fail_msg("a store with a bad tail opened for writing (%s)", sql); }
    if (!strstr(err, why)) fail_msg("error \"%s\" lacks \"%s\"", err, why);
}

static void test_tamper(void **state) {
    (void)state;
    tamperCase("UPDATE events SET data = '{\"n\":2}' WHERE seq = 17", 17);
    tamperCase("UPDATE events SET agent = 'b' WHERE seq = 3", 3);
    tamperCase("UPDATE events SET time_ns = time_ns + 1 WHERE seq = 9", 9);
    tamperCase("DELETE FROM events WHERE seq = 11", 11);
    tamperCase("DELETE FROM events WHERE seq = 30", 30);
    tamperCase("UPDATE events SET seq = -1 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = 5;"
               "UPDATE events SET seq = 5 WHERE seq = -1", 4);
    tamperCase("UPDATE events SET mac = (SELECT mac FROM events WHERE seq = 2) WHERE seq = 21", 21);
    /* the recorded head itself finds a cut tail and an event past it (mutants chain.verify-head-*) */
    tamperCaseWhy("DELETE FROM events WHERE seq = 30", 30, "the recorded chain head is seq 30");
    tamperCaseWhy("UPDATE chain_head SET seq = 29, mac = (SELECT mac FROM events WHERE seq = 29)", 30,
                  "event after the recorded chain head");
    tamperCaseWhy("UPDATE chain_head SET mac = (SELECT mac FROM events WHERE seq = 29)", 30,
                  "differs from the recorded chain head");
    tamperCaseWhy("UPDATE chain_head SET key_fp = '0123456789abcdef'", 30, "recorded key in force differs");
    tamperOpenRefused("UPDATE chain_head SET mac = (SELECT mac FROM events WHERE seq = 29)",
                      "does not match its recorded head");
    tamperOpenRefused("UPDATE events SET data = '{\"n\":2}' WHERE seq = 30", "(seq 30) does not verify");
}

/* ---------------------------------------------------------------- crash: torn WAL tail */

static void test_torn_wal_tail(void **state) {
    (void)state;
    char dir[300], err[512], wal[400];
    newDir(dir, sizeof(dir));
    pid_t pid = fork();
    if (pid == 0) {
        lh_store *st = openAt(dir, "torn-0123456789abcdef0123456789abcdef", 0, err);
        if (!st) _exit(3);
        for (int i = 0; i < 40; i++) {
            lh_event e = {.type = "decision.made", .data = "{\"pad\":\"0123456789012345678901234567890123456789\"}"};
            if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) _exit(4);
        }
        _exit(0); /* no close: the WAL is left as a crash leaves it */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(wal, sizeof(wal), "%s/events.db-wal", dir);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 4096);
    /* Tear the last frame in half, as a crash in the middle of a write would. */
    assert_int_equal(truncate(wal, sb.st_size - 2000), 0);
    lh_store *st = openAt(dir, "torn-0123456789abcdef0123456789abcdef", 0, err);
    if (!st) fail_msg("open after a torn tail: %s", err);
    lh_store_stats s;
    assert_int_equal(lh_store_stats_get(st, &s, err, sizeof(err)), 0);
    assert_true(s.head_seq >= 38 && s.head_seq < 40); /* the torn transaction is gone, the rest is there */
    assert_int_equal(s.events, s.head_seq);
    verifyOk(st);
    assert_int_equal(append1(st, "decision.made", "", "", "{}"), s.head_seq + 1);
    verifyOk(st);
    lh_store_close(st);
}

/* ---------------------------------------------------------------- faults */

/* I/O error: the kernel refuses writes past RLIMIT_FSIZE (EFBIG). Appends fail with an
 * error; once the limit is lifted, the same open store appends again. Runs in a child so
 * the limit does not leak into the test process. */
static void test_io_error_recovers(void **state) {
    (void)state;
    char dir[300];
    newDir(dir, sizeof(dir));
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        signal(SIGXFSZ, SIG_IGN);
        lh_store *st = openAt(dir, "io-0123456789abcdef0123456789abcdef0", 0, err);
        if (!st) _exit(10);
        lh_event e = {.type = "decision.made", .data = "{\"pad\":\"................................................................................................................................\"}"};
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) _exit(11);
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        struct rlimit small = {256 * 1024, rl.rlim_max};
        setrlimit(RLIMIT_FSIZE, &small);
        int failed = 0, okBefore = 0;
        for (int i = 0; i < 5000 && !failed; i++) {
            if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) failed = 1;
            else okBefore++;
        }
        if (!failed) _exit(12);
        if (!strstr(err, "sqlite")) _exit(13);
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) == 0) _exit(14); /* still failing */
        setrlimit(RLIMIT_FSIZE, &rl);
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) _exit(15);  /* recovered */
        lh_store_verify_result r;
        if (lh_store_verify(st, &r, err, sizeof(err)) < 0 || !r.ok) _exit(16);
        if (r.checked != okBefore + 2) _exit(17);
        lh_store_close(st);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("io-error child failed: status %d (exit %d)", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Disk full: the store lives on a 3 MiB tmpfs mounted in a private mount namespace; a
 * filler file takes the space. Appends fail while the disk is full and work again once
 * the filler is removed, without reopening. Needs root (as CI runs). */
static void test_disk_full_recovers(void **state) {
    (void)state;
    char dir[300];
    newDir(dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char err[512], filler[400];
        if (unshare(CLONE_NEWNS) < 0) _exit(20);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(21);
        if (mount("tmpfs", dir, "tmpfs", 0, "size=3m") < 0) _exit(22);
        lh_store *st = openAt(dir, "full-0123456789abcdef0123456789abcdef", 0, err);
        if (!st) _exit(23);
        lh_event e = {.type = "decision.made", .data = "{\"pad\":\"................................................................................................................................\"}"};
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) _exit(24);
        snprintf(filler, sizeof(filler), "%s/filler", dir);
        int fd = open(filler, O_WRONLY | O_CREAT, 0600);
        char block[65536];
        memset(block, 'f', sizeof(block));
        while (write(fd, block, sizeof(block)) > 0) {}
        fsync(fd);
        close(fd);
        int failed = 0, okBefore = 0;
        for (int i = 0; i < 20000 && !failed; i++) {
            if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) failed = 1;
            else okBefore++;
        }
        if (!failed) _exit(25);
        if (!strstr(err, "full") && !strstr(err, "I/O")) _exit(26);
        unlink(filler);
        if (lh_store_append(st, &e, 1, NULL, err, sizeof(err)) < 0) _exit(27);
        lh_store_verify_result r;
        if (lh_store_verify(st, &r, err, sizeof(err)) < 0 || !r.ok) _exit(28);
        if (r.checked != okBefore + 2) _exit(29);
        lh_store_close(st);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("disk-full child failed: exit %d (20-22: cannot mount a tmpfs; this test needs root)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---------------------------------------------------------------- canonical helpers */

static void test_canonical_and_utf8(void **state) {
    (void)state;
    char *out = NULL, err[256];
    const char *in = "{ \"b\" : [1, 2], \"a\": \"\xc3\xa9\" }";
    assert_int_equal(lh_store_canonical_json(in, strlen(in), 64, &out, err, sizeof(err)), 0);
    assert_string_equal(out, "{\"a\":\"\xc3\xa9\",\"b\":[1,2]}");
    free(out);
    assert_true(lh_store_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(lh_store_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(lh_store_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(lh_store_utf8_valid("\xe2\x82", 2)); /* truncated */
    assert_false(lh_store_utf8_valid("a\0b", 3));
    /* a string holding brackets does not count as depth */
    in = "{\"s\":\"[[[[[[[[[[[[\"}";
    assert_int_equal(lh_store_canonical_json(in, strlen(in), 2, &out, err, sizeof(err)), 0);
    free(out);
}

static int setup(void **state) {
    (void)state;
    return lh_test_store_dir(tmpRoot, sizeof(tmpRoot), "lh-test-store");
}

static int teardown(void **state) {
    (void)state;
    return lh_test_rmtree(tmpRoot);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_and_utf8),
        cmocka_unit_test(test_append_query),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_backend_and_keys),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_concurrent_group_commit),
        cmocka_unit_test(test_append_async),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_projections),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_torn_wal_tail),
        cmocka_unit_test(test_io_error_recovers),
        cmocka_unit_test(test_disk_full_recovers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

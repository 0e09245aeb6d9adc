/* bench_store.c — figures for the event store, SQLite and PostgreSQL. Prints, never judges.
 *
 *   1. durable appends per second with many concurrent appenders (group commit): threads
 *      that each wait for their own append, and, as the bridge appends, two threads that
 *      keep many appends in flight with lh_store_append_async;
 *   2. append latency p50/p99 at a paced 10,000 events/s (open loop: latency counts from
 *      the moment an append was due, so falling behind shows up);
 *   3. "last 100 events of one agent" query latency in a store of LH_BENCH_EVENTS events
 *      (default 10,000,000), built through the same append API in large batches.
 *
 * SQLite runs in a temporary directory on this machine's disk; PostgreSQL on LH_TEST_PG
 * (scripts/test-services.sh starts one on loopback), in a fresh database.
 * Environment: LH_BENCH_EVENTS, LH_BENCH_SECONDS (default 3), LH_BENCH_ONLY=sqlite|postgres,
 * LH_BENCH_PHASES (a list of latency, throughput, query; default all). */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <limits.h>
#include <postgresql/libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/arena.h"

static const char *SECRET = "bench-key-0123456789abcdef0123456789abcdef";

static double nowS(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process (all threads): a figure that other load on the machine
 * disturbs far less than wall-clock throughput. */
static double cpuS(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmpD(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return v[i ? i - 1 : 0];
}

/* ---------------------------------------------------------------- throughput */

/* A throughput run's clock: the store's commit count, wall and CPU time at its start. */
typedef struct runClock {
    lh_store_stats s0;
    double t0, c0;
} runClock;

static runClock runStart(lh_store *st) {
    runClock r;
    char err[256];
    lh_store_stats_get(st, &r.s0, err, sizeof(err));
    r.t0 = nowS();
    r.c0 = cpuS();
    return r;
}

/* One line of figures for the run started at r: `what` says who appended. */
static void runReport(lh_store *st, const runClock *r, const char *label, const char *what, long done, long failed) {
    double el = nowS() - r->t0, cpu = cpuS() - r->c0;
    lh_store_stats s1;
    char err[256];
    lh_store_stats_get(st, &s1, err, sizeof(err));
    long commits = (long)(s1.commits - r->s0.commits);
    printf("%-9s durable appends/s, %s: %9.0f events/s  (%ld events, %ld commits, %.1f events/commit, "
           "%.1f us CPU/event, %ld failed)\n", label, what, done / el, done, commits,
           commits ? (double)done / commits : 0.0, done ? cpu / done * 1e6 : 0.0, failed);
}

typedef struct thr {
    lh_store *st;
    int batch;
    double until;
    long done, failed;
} thr;

static void *appendLoop(void *arg) {
    thr *t = arg;
    lh_event ev[64];
    char data[64][48], err[256];
    for (int i = 0; i < t->batch; i++) {
        ev[i] = (lh_event){.type = "decision.made", .agent = "bench", .aggregate = "s", .data = data[i]};
    }
    long k = 0;
    while (nowS() < t->until) {
        for (int i = 0; i < t->batch; i++) snprintf(data[i], sizeof(data[i]), "{\"decision\":\"allow\",\"i\":%ld}", k++);
        if (lh_store_append(t->st, ev, (size_t)t->batch, NULL, err, sizeof(err)) == 0) t->done += t->batch;
        else t->failed += t->batch;
    }
    return NULL;
}

static void throughput(lh_store *st, const char *label, int threads, int batch, double secs) {
    pthread_t th[512];
    thr t[512];
    runClock rc = runStart(st);
    for (int i = 0; i < threads; i++) {
        t[i] = (thr){st, batch, rc.t0 + secs, 0, 0};
        pthread_create(&th[i], NULL, appendLoop, &t[i]);
    }
    long done = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        done += t[i].done;
        failed += t[i].failed;
    }
    char what[64];
    snprintf(what, sizeof(what), "%3d appenders x batch %-3d", threads, batch);
    runReport(st, &rc, label, what, done, failed);
}

/* The bridge's way: its HTTP workers (a few threads) never wait for an append; each
 * decision is one lh_store_append_async of one event, and up to `window` of them per
 * thread are in flight at once. The slots are reused in order, which is the order in
 * which the store finishes them. */
typedef struct aslot {
    struct athr *t;
    lh_arena *arena;
    int64_t seq;
    int busy; /* under t->mu */
    char data[48];
} aslot;

typedef struct athr {
    lh_store *st;
    int window;
    double until;
    aslot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int waiting;
    long done, failed;
} athr;

static void asyncDone(void *arg, int rc, const char *err) {
    (void)err;
    aslot *s = arg;
    athr *t = s->t;
    pthread_mutex_lock(&t->mu);
    s->busy = 0;
    if (rc == 0) t->done++;
    else t->failed++;
    if (t->waiting) pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void *asyncLoop(void *arg) {
    athr *t = arg;
    char err[256];
    long k = 0;
    for (int i = 0; nowS() < t->until; i = (i + 1) % t->window) {
        aslot *s = &t->slots[i];
        pthread_mutex_lock(&t->mu);
        while (s->busy) {
            t->waiting = 1;
            pthread_cond_wait(&t->cv, &t->mu);
            t->waiting = 0;
        }
        s->busy = 1;
        pthread_mutex_unlock(&t->mu);
        lh_arena_reset(s->arena);
        snprintf(s->data, sizeof(s->data), "{\"decision\":\"allow\",\"i\":%ld}", k++);
        lh_event ev = {.type = "decision.made", .agent = "bench", .aggregate = "s", .data = s->data};
        if (lh_store_append_async(t->st, &ev, 1, &s->seq, s->arena, asyncDone, s, err, sizeof(err)) < 0) {
            pthread_mutex_lock(&t->mu);
            s->busy = 0;
            t->failed++;
            pthread_mutex_unlock(&t->mu);
        }
    }
    pthread_mutex_lock(&t->mu); /* every append of this thread has finished */
    for (int i = 0; i < t->window; i++)
        while (t->slots[i].busy) {
            t->waiting = 1;
            pthread_cond_wait(&t->cv, &t->mu);
            t->waiting = 0;
        }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void throughputAsync(lh_store *st, const char *label, int threads, int window, double secs) {
    enum { MAXT = 8 };
    pthread_t th[MAXT];
    athr t[MAXT];
    if (threads > MAXT) threads = MAXT;
    runClock rc = runStart(st);
    for (int i = 0; i < threads; i++) {
        t[i] = (athr){.st = st, .window = window, .until = rc.t0 + secs, .slots = calloc((size_t)window, sizeof(aslot))};
        pthread_mutex_init(&t[i].mu, NULL);
        pthread_cond_init(&t[i].cv, NULL);
        for (int j = 0; j < window; j++) {
            t[i].slots[j].t = &t[i];
            t[i].slots[j].arena = lh_arena_new(4096);
        }
        pthread_create(&th[i], NULL, asyncLoop, &t[i]);
    }
    long done = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        done += t[i].done;
        failed += t[i].failed;
    }
    char what[96];
    snprintf(what, sizeof(what), "%3d threads x %d appends in flight (async, 1 event each, as the bridge)", threads,
             window);
    runReport(st, &rc, label, what, done, failed);
    for (int i = 0; i < threads; i++) {
        for (int j = 0; j < window; j++) lh_arena_free(t[i].slots[j].arena);
        free(t[i].slots);
        pthread_mutex_destroy(&t[i].mu);
        pthread_cond_destroy(&t[i].cv);
    }
}

/* ---------------------------------------------------------------- the fsync floor */

/* A durable append cannot return sooner than one write + fdatasync on the same disk, so the
 * latency figures are printed next to that floor, measured in the store's own directory
 * just before and after them: 2,000 writes of 32 KiB (about one commit's WAL frames at
 * 10,000 events/s), each followed by fdatasync. "In place" rewrites a file's existing
 * blocks, as the store does with its WAL once the WAL has been through one cycle;
 * "appending" grows the file, so each fdatasync also records the new size.
 * A group commit's append arrives while some fsync is in progress and returns after the
 * next one: so the floor for its latency is also printed as "arrival", what an arrival at a
 * random moment of the loop would wait for (the rest of the fsync in progress, then the
 * next), which weights a slow fsync by how long it lasted, as the open-loop bench does. */
static void fsyncFloor(const char *dir, const char *label, const char *when, int appending) {
    enum { N = 2000, SZ = 32768, SLOTS = 64 };
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/fsync-floor.tmp", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    char *buf = malloc(SZ);
    double *lat = malloc(N * sizeof(double));
    if (fd < 0 || !buf || !lat) { perror("fsync floor"); goto out; }
    memset(buf, 'x', SZ);
    if (!appending) {
        for (int i = 0; i < SLOTS; i++)
            if (pwrite(fd, buf, SZ, (off_t)i * SZ) != SZ) { perror("fsync floor"); goto out; }
        if (fdatasync(fd) < 0) { perror("fsync floor"); goto out; }
    }
    for (int i = 0; i < N; i++) {
        off_t off = (off_t)(appending ? i : i % SLOTS) * SZ;
        double t0 = nowS();
        if (pwrite(fd, buf, SZ, off) != SZ || fdatasync(fd) < 0) { perror("fsync floor"); goto out; }
        lat[i] = (nowS() - t0) * 1e6;
    }
    enum { A = 20000 };
    double *arr = malloc(A * sizeof(double)), total = 0;
    for (int i = 0; i < N - 1; i++) total += lat[i];
    unsigned seed = 7;
    for (int k = 0; arr && k < A; k++) { /* uniform arrivals over the first N-1 fsyncs */
        double t = total * rand_r(&seed) / ((double)RAND_MAX + 1), end = 0;
        int i = 0;
        while (i < N - 2 && end + lat[i] <= t) end += lat[i++];
        arr[k] = end + lat[i] - t + lat[i + 1];
    }
    if (arr) qsort(arr, A, sizeof(double), cmpD);
    qsort(lat, N, sizeof(double), cmpD);
    printf("%-9s fsync floor %s, write 32 KiB + fdatasync %s (%d times): p50 %.0f us  p99 %.0f us  max %.0f us; "
           "arrival p50 %.0f us  p99 %.0f us\n", label, when, appending ? "appending to a file" : "in place", N,
           pct(lat, N, 50), pct(lat, N, 99), lat[N - 1], arr ? pct(arr, A, 50) : 0, arr ? pct(arr, A, 99) : 0);
    free(arr);
out:
    if (fd >= 0) close(fd);
    unlink(path);
    free(buf);
    free(lat);
}

/* ---------------------------------------------------------------- paced latency */

typedef struct paced {
    lh_store *st;
    int idx, nthreads;
    double rate, start, secs;
    double *lat;
    size_t n;
} paced;

static void *pacedLoop(void *arg) {
    paced *p = arg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake when an append is due, not up to 50 us later */
    char data[64], err[256];
    lh_event ev = {.type = "decision.made", .agent = "paced", .aggregate = "s", .data = data};
    for (long k = p->idx;; k += p->nthreads) {
        double due = p->start + (double)k / p->rate;
        if (due > p->start + p->secs) break;
        double now = nowS();
        if (due > now) {
            struct timespec ts = {0, (long)((due - now) * 1e9)};
            nanosleep(&ts, NULL);
        }
        snprintf(data, sizeof(data), "{\"decision\":\"allow\",\"k\":%ld}", k);
        if (lh_store_append(p->st, &ev, 1, NULL, err, sizeof(err)) == 0) p->lat[p->n++] = (nowS() - due) * 1e6;
    }
    return NULL;
}

/* 32 senders share the schedule; an append that falls behind delays its sender's next one,
 * and that delay is counted, since latency runs from the moment an append was due. */
static void latency(lh_store *st, const char *label, double rate, double secs) {
    enum { T = 32 };
    pthread_t th[T];
    paced p[T];
    size_t per = (size_t)(rate * secs / T) + 16;
    double start = nowS() + 0.05;
    for (int i = 0; i < T; i++) {
        p[i] = (paced){st, i, T, rate, start, secs, calloc(per, sizeof(double)), 0};
        pthread_create(&th[i], NULL, pacedLoop, &p[i]);
    }
    size_t n = 0;
    for (int i = 0; i < T; i++) { pthread_join(th[i], NULL); n += p[i].n; }
    double *all = malloc(n * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < T; i++) { memcpy(all + k, p[i].lat, p[i].n * sizeof(double)); k += p[i].n; free(p[i].lat); }
    qsort(all, n, sizeof(double), cmpD);
    printf("%-9s append latency at %.0f events/s (%zu appends, open loop): p50 %.0f us  p99 %.0f us  p99.9 %.0f us  "
           "max %.0f us\n", label, rate, n, pct(all, n, 50), pct(all, n, 99), pct(all, n, 99.9), n ? all[n - 1] : 0);
    free(all);
}

/* ---------------------------------------------------------------- big store + query */

typedef struct filler {
    lh_store *st;
    long from, to;
    long failed;
} filler;

static void *fillLoop(void *arg) {
    filler *f = arg;
    enum { B = 10000 };
    lh_event *ev = calloc(B, sizeof(lh_event));
    char (*agent)[16] = calloc(B, 16), (*data)[32] = calloc(B, 32), err[256];
    for (long i = f->from; i < f->to;) {
        size_t n = 0;
        for (; n < B && i < f->to; n++, i++) {
            snprintf(agent[n], 16, "agent-%ld", i % 1000);
            snprintf(data[n], 32, "{\"i\":%ld}", i);
            ev[n] = (lh_event){.type = "decision.made", .agent = agent[n], .aggregate = "", .data = data[n]};
        }
        if (lh_store_append(f->st, ev, n, NULL, err, sizeof(err)) < 0) {
            f->failed += (long)n;
            fprintf(stderr, "fill: %s\n", err);
        }
    }
    free(ev);
    free(agent);
    free(data);
    return NULL;
}

/* Append events up to `target`, in batches of 10,000 from 2 threads, through the API. */
static void fillTo(lh_store *st, const char *label, long target) {
    char err[256];
    lh_store_stats s;
    lh_store_stats_get(st, &s, err, sizeof(err));
    long have = (long)s.head_seq, need = target - have;
    if (need <= 0) return;
    double t0 = nowS();
    enum { T = 2 };
    pthread_t th[T];
    filler f[T];
    for (int i = 0; i < T; i++) {
        f[i] = (filler){st, have + need * i / T, have + need * (i + 1) / T, 0};
        pthread_create(&th[i], NULL, fillLoop, &f[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    double build = nowS() - t0;
    printf("%-9s appended %ld events in %.0f s (%.0f events/s in batches of 10,000)\n", label, need, build,
           need / build);
}

static void queryLatency(lh_store *st, const char *label) {
    char err[256];
    lh_store_stats s;
    lh_store_stats_get(st, &s, err, sizeof(err));
    printf("%-9s store of %ld events, %.0f MB\n", label, (long)s.head_seq, s.bytes / 1e6);
    enum { Q = 2000 };
    double *lat = malloc(Q * sizeof(double));
    unsigned seed = 42;
    size_t rows = 0;
    /* The first 1,000 queries (one per agent) warm the caches: a cached store may have
     * been read from disk by nobody since it was built. */
    enum { W = 1000 };
    for (int i = 0; i < Q + W; i++) {
        char agent[24];
        snprintf(agent, sizeof(agent), "agent-%d", i < W ? i : (int)(rand_r(&seed) % 1000));
        lh_store_filter f = {.agent = agent, .descending = 1, .limit = 100};
        lh_event_list l;
        double q0 = nowS();
        int rc = lh_store_query(st, &f, &l, err, sizeof(err));
        double us = (nowS() - q0) * 1e6;
        if (rc == 0 && i >= W) { lat[i - W] = us; rows += l.n; }
        else if (rc < 0) fprintf(stderr, "query: %s\n", err);
        lh_event_list_free(&l);
    }
    qsort(lat, Q, sizeof(double), cmpD);
    printf("%-9s \"last 100 events of one agent\" in %ld events (%d queries, %.0f rows each): p50 %.0f us  "
           "p99 %.0f us  max %.0f us\n", label, (long)s.head_seq, Q, (double)rows / Q, pct(lat, Q, 50), pct(lat, Q, 99),
           lat[Q - 1]);
    free(lat);
}

/* The big SQLite store is kept between runs in $LH_BUILD/bench-cache (default build/): it is
 * an ordinary store, built once through the append API and extended if it is short. Opening
 * it checks that its tail verifies. */
static lh_store *bigSqlite(long target, char *dir, size_t dirlen) {
    const char *b = getenv("LH_BUILD");
    char err[512];
    snprintf(dir, dirlen, "%s/bench-cache/sqlite-%ld", b && *b ? b : "build", target);
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return NULL;
    /* No checkpoint file: deleting the directory to rebuild the store must not leave one
     * behind that witnesses the old head (the new store would be refused as a cut log). */
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = SECRET, .checkpoints = "off"};
    lh_store *st = lh_store_open(&o, err, sizeof(err));
    if (!st) { fprintf(stderr, "sqlite (cached store %s): %s\n", dir, err); return NULL; }
    lh_store_stats s;
    lh_store_stats_get(st, &s, err, sizeof(err));
    printf("sqlite    big store in %s: %ld events cached%s\n", dir, (long)s.head_seq,
           s.head_seq >= target ? " (reused; delete the directory to rebuild)" : ", building the rest");
    fillTo(st, "sqlite", target);
    return st;
}

/* PostgreSQL's big store is loaded from the SQLite one: the chain does not depend on the
 * backend (same canonical bytes, same key, same MACs), so its rows are COPYed as they are
 * and chain_head set to the last one. The store is opened afterwards, which checks the tail
 * against the head. Secondary indexes are dropped for the load and re-created from their
 * own definitions (pg_indexes), which is several times faster than maintaining them. */
static int pgBulkLoad(const char *ci, const char *sqlite_dir, long target) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/events.db", sqlite_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "postgres load: cannot open %s\n", path);
        sqlite3_close(db);
        return -1;
    }
    PGconn *c = PQconnectdb(ci);
    PGresult *r = PQexec(c, "SET synchronous_commit = off; SET maintenance_work_mem = '256MB'");
    PQclear(r);
    r = PQexec(c, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname NOT IN "
                  "(SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass)");
    int nidx = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    char defs[16][512];
    if (nidx > 16) nidx = 16;
    for (int i = 0; i < nidx; i++) {
        snprintf(defs[i], sizeof(defs[i]), "%s", PQgetvalue(r, i, 1));
        char drop[256];
        snprintf(drop, sizeof(drop), "DROP INDEX %s", PQgetvalue(r, i, 0));
        PQclear(PQexec(c, drop));
    }
    PQclear(r);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db, "SELECT seq, id, type, time_ns, agent, aggregate, data, mac FROM events WHERE seq <= ? "
                       "ORDER BY seq", -1, &q, NULL);
    sqlite3_bind_int64(q, 1, target);
    r = PQexec(c, "COPY events (seq, id, type, time_ns, agent, aggregate, data, mac) FROM STDIN");
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 4096);
    long rows = 0, last_seq = 0, last_time = 0;
    char last_mac[65] = "";
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        /* The bench's events hold no characters COPY must escape (checked, not assumed). */
        const char *f[6];
        for (int k = 1; k <= 6; k++) f[k - 1] = k == 3 ? NULL : (const char *)sqlite3_column_text(q, k);
        for (int k = 0; k < 6; k++)
            if (f[k] && strpbrk(f[k], "\\\t\n\r")) { fprintf(stderr, "postgres load: row needs escaping\n"); ok = 0; }
        const unsigned char *mac = sqlite3_column_blob(q, 7);
        if (!ok || sqlite3_column_bytes(q, 7) != 32) { ok = 0; break; }
        last_seq = (long)sqlite3_column_int64(q, 0);
        last_time = (long)sqlite3_column_int64(q, 3);
        for (int k = 0; k < 32; k++) sprintf(last_mac + 2 * k, "%02x", mac[k]);
        len += (size_t)snprintf(buf + len, 4096, "%ld\t%s\t%s\t%ld\t%s\t%s\t%s\t\\\\x%s\n", last_seq, f[0], f[1],
                                last_time, f[3], f[4], f[5], last_mac);
        rows++;
        if (len >= cap) {
            if (PQputCopyData(c, buf, (int)len) != 1) ok = 0;
            len = 0;
        }
    }
    if (ok && len && PQputCopyData(c, buf, (int)len) != 1) ok = 0;
    free(buf);
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (PQputCopyEnd(c, ok ? NULL : "bench load failed") != 1) ok = 0;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "postgres load: %s", PQresultErrorMessage(r)); ok = 0; }
        PQclear(r);
    }
    for (int i = 0; ok && i < nidx; i++) {
        r = PQexec(c, defs[i]);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "postgres load: %s", PQresultErrorMessage(r)); ok = 0; }
        PQclear(r);
    }
    if (ok) {
        char sql[256];
        snprintf(sql, sizeof(sql), "UPDATE chain_head SET seq = %ld, time_ns = %ld, mac = decode('%s', 'hex') "
                 "WHERE id = 1; ANALYZE events", last_seq, last_time, last_mac);
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) { fprintf(stderr, "postgres load: %s", PQresultErrorMessage(r)); ok = 0; }
        PQclear(r);
    }
    PQfinish(c);
    return ok && rows == target ? 0 : -1;
}

/* ---------------------------------------------------------------- main */

static int phase(const char *name) {
    const char *p = getenv("LH_BENCH_PHASES"); /* e.g. "latency,query"; default all */
    return !p || strstr(p, name) != NULL;
}

static void runAppends(lh_store *st, const char *label, double secs, const char *dir) {
    if (phase("latency")) {
        if (dir) {
            fsyncFloor(dir, label, "before", 1);
            fsyncFloor(dir, label, "before", 0);
        }
        latency(st, label, 10000, secs);
        if (dir) fsyncFloor(dir, label, "after ", 0);
    }
    if (phase("throughput")) {
        throughput(st, label, 256, 1, secs);
        throughput(st, label, 32, 1, secs);
        throughput(st, label, 64, 16, secs);
        throughputAsync(st, label, 2, 512, secs);
    }
}

static lh_store *pgOpenStore(const char *ci, char *err, size_t errlen) {
    lh_store_options o = {.backend = LH_STORE_POSTGRES, .conninfo = ci, .secret = SECRET};
    return lh_store_open(&o, err, errlen);
}

/* CREATE DATABASE (or DROP it) on the server at conninfo pg. */
static int pgAdmin(const char *pg, const char *verb, const char *db) {
    PGconn *c = PQconnectdb(pg);
    char sql[128];
    snprintf(sql, sizeof(sql), "%s DATABASE %s", verb, db);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "postgres: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures appear as they are measured */
    double secs = getenv("LH_BENCH_SECONDS") ? atof(getenv("LH_BENCH_SECONDS")) : 3.0;
    long events = getenv("LH_BENCH_EVENTS") ? atol(getenv("LH_BENCH_EVENTS")) : 10000000L;
    const char *only = getenv("LH_BENCH_ONLY");
    char err[512], load[64] = "?", bigdir[PATH_MAX];
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) { if (!fgets(load, sizeof(load), lf)) load[0] = 0; fclose(lf); }
    load[strcspn(load, "\n")] = 0;
    /* Other work on the machine skews every figure: say how busy it was. */
    printf("machine   %ld CPUs, load average %s at start\n", sysconf(_SC_NPROCESSORS_ONLN), load);
    int rc = 0;
    if (!only || !strcmp(only, "sqlite")) {
        char dir[] = "/var/tmp/lh-bench-store.XXXXXX";
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
        char cpf[sizeof(dir) + 16]; /* the checkpoint file inside the directory, removed with it */
        snprintf(cpf, sizeof(cpf), "%s/checkpoints", dir);
        lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = SECRET, .checkpoints = cpf};
        lh_store *st = lh_store_open(&o, err, sizeof(err));
        if (!st) { fprintf(stderr, "sqlite: %s\n", err); return 1; }
        printf("sqlite    store in %s (WAL, synchronous=FULL, group commit)\n", dir);
        runAppends(st, "sqlite", secs, dir);
        lh_store_close(st);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) rc = 1;
    }
    int need_big = phase("query");
    lh_store *big = NULL;
    if (need_big) {
        big = bigSqlite(events, bigdir, sizeof(bigdir));
        if (!big) return 1;
        if (!only || !strcmp(only, "sqlite")) queryLatency(big, "sqlite");
        lh_store_close(big);
    }
    if (!only || !strcmp(only, "postgres")) {
        const char *pg = getenv("LH_TEST_PG");
        if (!pg || !*pg) {
            printf("postgres  NOT MEASURED: LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)\n");
            return 1;
        }
        char db[64], ci[600];
        snprintf(db, sizeof(db), "lh_bench_%d", (int)getpid());
        if (pgAdmin(pg, "CREATE", db) < 0) return 1;
        snprintf(ci, sizeof(ci), "%s dbname=%s", pg, db);
        lh_store *st = pgOpenStore(ci, err, sizeof(err));
        if (!st) { fprintf(stderr, "postgres: %s\n", err); return 1; }
        printf("postgres  store in database %s on %s (synchronous_commit=on, group commit)\n", db, pg);
        runAppends(st, "postgres", secs, NULL);
        lh_store_close(st);
        pgAdmin(pg, "DROP", db);
        if (need_big) {
            snprintf(db, sizeof(db), "lh_bench_%d_big", (int)getpid());
            if (pgAdmin(pg, "CREATE", db) < 0) return 1;
            snprintf(ci, sizeof(ci), "%s dbname=%s", pg, db);
            st = pgOpenStore(ci, err, sizeof(err)); /* creates the schema and the chain head */
            lh_store_close(st);
            double t0 = nowS();
            if (!st || pgBulkLoad(ci, bigdir, events) < 0) {
                fprintf(stderr, "postgres: could not load the big store\n");
                return 1;
            }
            printf("postgres  loaded %ld events from the SQLite store in %.0f s (COPY, indexes re-created)\n",
                   events, nowS() - t0);
            st = pgOpenStore(ci, err, sizeof(err)); /* checks the loaded tail against the head */
            if (!st) { fprintf(stderr, "postgres: %s\n", err); return 1; }
            queryLatency(st, "postgres");
            lh_store_close(st);
            pgAdmin(pg, "DROP", db);
        }
    }
    return rc;
}

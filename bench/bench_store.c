/* bench_store.c — figures for the event store, SQLite and PostgreSQL. Prints, never judges.
 *
 *   1. durable appends per second with many concurrent appenders (group commit);
 *   2. append latency p50/p99 at a paced 10,000 events/s (open loop: latency counts from
 *      the moment an append was due, so falling behind shows up);
 *   3. "last 100 events of one agent" query latency in a store of LH_BENCH_EVENTS events
 *      (default 10,000,000), built through the same append API in large batches.
 *
 * SQLite runs in a temporary directory on this machine's disk; PostgreSQL on LH_TEST_PG
 * (scripts/test-services.sh starts one on loopback), in a fresh database.
 * Environment: LH_BENCH_EVENTS, LH_BENCH_SECONDS (default 3), LH_BENCH_ONLY=sqlite|postgres,
 * LH_BENCH_PHASES (a list of latency, throughput, query; default all). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <postgresql/libpq-fe.h>

#include "store/store.h"

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
    lh_store_stats s0, s1;
    char err[256];
    lh_store_stats_get(st, &s0, err, sizeof(err));
    double t0 = nowS(), c0 = cpuS();
    for (int i = 0; i < threads; i++) {
        t[i] = (thr){st, batch, t0 + secs, 0, 0};
        pthread_create(&th[i], NULL, appendLoop, &t[i]);
    }
    long done = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        done += t[i].done;
        failed += t[i].failed;
    }
    double el = nowS() - t0, cpu = cpuS() - c0;
    lh_store_stats_get(st, &s1, err, sizeof(err));
    long commits = (long)(s1.commits - s0.commits);
    printf("%-9s durable appends/s, %3d appenders x batch %-3d: %9.0f events/s  (%ld events, %ld commits, "
           "%.1f events/commit, %.1f us CPU/event, %ld failed)\n", label, threads, batch, done / el, done, commits,
           commits ? (double)done / commits : 0.0, done ? cpu / done * 1e6 : 0.0, failed);
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

static void bigQuery(lh_store *st, const char *label, long target) {
    char err[256];
    lh_store_stats s;
    lh_store_stats_get(st, &s, err, sizeof(err));
    long have = (long)s.head_seq, need = target - have;
    double t0 = nowS();
    if (need > 0) {
        enum { T = 2 };
        pthread_t th[T];
        filler f[T];
        for (int i = 0; i < T; i++) {
            f[i] = (filler){st, have + need * i / T, have + need * (i + 1) / T, 0};
            pthread_create(&th[i], NULL, fillLoop, &f[i]);
        }
        for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    }
    double build = nowS() - t0;
    lh_store_stats_get(st, &s, err, sizeof(err));
    printf("%-9s store of %ld events built in %.0f s (%.0f events/s in batches of 10,000); %.0f MB\n", label,
           (long)s.head_seq, build, need > 0 ? need / build : 0.0, s.bytes / 1e6);
    enum { Q = 2000 };
    double *lat = malloc(Q * sizeof(double));
    unsigned seed = 42;
    size_t rows = 0;
    for (int i = 0; i < Q + 200; i++) {
        char agent[16];
        snprintf(agent, sizeof(agent), "agent-%d", rand_r(&seed) % 1000);
        lh_store_filter f = {.agent = agent, .descending = 1, .limit = 100};
        lh_event_list l;
        double q0 = nowS();
        int rc = lh_store_query(st, &f, &l, err, sizeof(err));
        double us = (nowS() - q0) * 1e6;
        if (rc == 0 && i >= 200) { lat[i - 200] = us; rows += l.n; } /* the first 200 warm the caches */
        else if (rc < 0) fprintf(stderr, "query: %s\n", err);
        lh_event_list_free(&l);
    }
    qsort(lat, Q, sizeof(double), cmpD);
    printf("%-9s \"last 100 events of one agent\" in %ld events (%d queries, %.0f rows each): p50 %.0f us  "
           "p99 %.0f us  max %.0f us\n", label, (long)s.head_seq, Q, (double)rows / Q, pct(lat, Q, 50), pct(lat, Q, 99),
           lat[Q - 1]);
    free(lat);
}

/* ---------------------------------------------------------------- main */

static int phase(const char *name) {
    const char *p = getenv("LH_BENCH_PHASES"); /* e.g. "latency,query"; default all */
    return !p || strstr(p, name) != NULL;
}

static void runAll(lh_store *st, const char *label, double secs, long events) {
    if (phase("latency")) latency(st, label, 10000, secs);
    if (phase("throughput")) {
        throughput(st, label, 256, 1, secs);
        throughput(st, label, 64, 16, secs);
    }
    if (phase("query")) bigQuery(st, label, events);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures appear as they are measured */
    double secs = getenv("LH_BENCH_SECONDS") ? atof(getenv("LH_BENCH_SECONDS")) : 3.0;
    long events = getenv("LH_BENCH_EVENTS") ? atol(getenv("LH_BENCH_EVENTS")) : 10000000L;
    const char *only = getenv("LH_BENCH_ONLY");
    char err[512], load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) { if (!fgets(load, sizeof(load), lf)) load[0] = 0; fclose(lf); }
    load[strcspn(load, "\n")] = 0;
    /* Other work on the machine skews every figure: say how busy it was. */
    printf("machine   %ld CPUs, load average %s at start\n", sysconf(_SC_NPROCESSORS_ONLN), load);
    int rc = 0;
    if (!only || !strcmp(only, "sqlite")) {
        char dir[] = "/var/tmp/lh-bench-store.XXXXXX";
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
        lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir, .secret = SECRET};
        lh_store *st = lh_store_open(&o, err, sizeof(err));
        if (!st) { fprintf(stderr, "sqlite: %s\n", err); return 1; }
        printf("sqlite    store in %s (WAL, synchronous=FULL, group commit)\n", dir);
        runAll(st, "sqlite", secs, events);
        lh_store_close(st);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) rc = 1;
    }
    if (!only || !strcmp(only, "postgres")) {
        const char *pg = getenv("LH_TEST_PG");
        if (!pg || !*pg) {
            printf("postgres  NOT MEASURED: LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)\n");
            return 1;
        }
        PGconn *c = PQconnectdb(pg);
        char db[64], sql[128], ci[600];
        snprintf(db, sizeof(db), "lh_bench_%d", (int)getpid());
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) { fprintf(stderr, "postgres: %s", PQerrorMessage(c)); PQfinish(c); return 1; }
        snprintf(ci, sizeof(ci), "%s dbname=%s", pg, db);
        lh_store_options o = {.backend = LH_STORE_POSTGRES, .conninfo = ci, .secret = SECRET};
        lh_store *st = lh_store_open(&o, err, sizeof(err));
        if (!st) { fprintf(stderr, "postgres: %s\n", err); PQfinish(c); return 1; }
        printf("postgres  store in database %s on %s (synchronous_commit=on, group commit)\n", db, pg);
        runAll(st, "postgres", secs, events);
        lh_store_close(st);
        snprintf(sql, sizeof(sql), "DROP DATABASE %s", db);
        PQclear(PQexec(c, sql));
        PQfinish(c);
    }
    return rc;
}

/* perf_driver.c — fixed amounts of work for scripts/perfgate.sh to count with callgrind.
 *
 *   perf_driver engine MIX N   N uncached decisions, then N cached ones, over the requests
 *                              of MIX (a JSON-lines file of requests, bench/perf-mix.jsonl),
 *                              round-robin, after a warm-up that also fills the cache
 *   perf_driver store DIR N    N durable appends of one decision.made event each to a new
 *                              SQLite store in DIR, after a warm-up of 50
 *
 * Each measured phase is bracketed by callgrind's client requests: the counters are zeroed
 * before it and dumped after it under the phase's name ("engine.uncached",
 * "engine.cached", "store.append"), so one-time costs (start-up, the policy's load, the
 * store's creation, the first allocations) stay out of the figures, and a figure divided
 * by N does not depend on N. Outside valgrind the requests cost a few instructions and
 * nothing happens; the driver then only says what it did. It prints, never judges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "engine/engine.h"
#include "store/store.h"
#include "util/arena.h"

#define MAX_MIX 256
#define WARMUP_APPENDS 50

static int usage(void) {
    fprintf(stderr, "usage: perf_driver engine MIX.jsonl N | perf_driver store DIR N\n");
    return 2;
}

/* ---- the engine ---------------------------------------------------------------------- */

/* Read MIX: one request a line, parsed into arena a. Returns the count, or -1. */
static int loadMix(const char *path, lh_arena *a, lh_request *reqs) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return -1; }
    char line[8192], err[256];
    int n = 0, lineNo = 0;
    while (fgets(line, sizeof(line), f)) {
        lineNo++;
        size_t len = strcspn(line, "\n");
        if (!len) continue;
        if (n == MAX_MIX || lh_request_parse_json(a, line, len, &reqs[n], err, sizeof(err))) {
            fprintf(stderr, "perf_driver: %s:%d: %s\n", path, lineNo, n == MAX_MIX ? "too many requests" : err);
            fclose(f);
            return -1;
        }
        n++;
    }
    fclose(f);
    if (!n) fprintf(stderr, "perf_driver: %s holds no request\n", path);
    return n ? n : -1;
}

/* Decide n requests of the mix round-robin; counts the actions when acts is not NULL. */
static void decideMany(lh_engine *e, const lh_request *reqs, int nreq, long n, unsigned opts, lh_arena *a, long *acts) {
    for (long i = 0; i < n; i++) {
        lh_decision d;
        lh_arena_reset(a);
        lh_engine_decide(e, &reqs[i % nreq], a, &d, opts);
        if (acts) acts[d.action]++;
    }
}

static int runEngine(const char *mixPath, long n) {
    static lh_request reqs[MAX_MIX];
    lh_arena *mixArena = lh_arena_new(1 << 16), *a = lh_arena_new(1 << 16);
    char err[256];
    lh_engine *e = lh_engine_new(NULL, 65536, err, sizeof(err));
    if (!e) { fprintf(stderr, "perf_driver: %s\n", err); return 1; }
    int nreq = loadMix(mixPath, mixArena, reqs);
    if (nreq < 0) return 1;
    long acts[3] = {0};
    decideMany(e, reqs, nreq, 4L * nreq, LH_DECIDE_NOCACHE, a, NULL);  /* warm up */
    decideMany(e, reqs, nreq, nreq, 0, a, NULL);                       /* fill the cache */
    CALLGRIND_ZERO_STATS;
    decideMany(e, reqs, nreq, n, LH_DECIDE_NOCACHE, a, acts);
    CALLGRIND_DUMP_STATS_AT("engine.uncached");
    decideMany(e, reqs, nreq, n, 0, a, NULL);
    CALLGRIND_DUMP_STATS_AT("engine.cached");
    lh_cache_stats cs;
    lh_engine_cache_stats(e, &cs);
    printf("engine: %ld uncached and %ld cached decisions over %d requests (allow %ld, escalate %ld, deny %ld; "
           "cache %llu hits of %llu lookups)\n", n, n, nreq, acts[LH_ALLOW], acts[LH_ESCALATE], acts[LH_DENY],
           (unsigned long long)cs.hits, (unsigned long long)cs.lookups);
    lh_engine_free(e);
    lh_arena_free(a);
    lh_arena_free(mixArena);
    return 0;
}

/* ---- the store ----------------------------------------------------------------------- */

/* A decision.made event's data as the bridge writes it (canonical: keys in byte order). */
static const char kEventData[] =
    "{\"agent\":\"perf-1\",\"cwd\":\"/home/dev/project\",\"decision\":{\"decision\":\"allow\",\"latency_us\":4,"
    "\"policy_revision\":\"builtin-0123456789ab\",\"reason\":\"no rule matched; the command reads or builds inside "
    "the project\",\"risk\":\"low\",\"rule\":\"default.allow\",\"tier\":\"analysis\"},\"session\":\"s-1\","
    "\"tool\":\"Bash\",\"input\":{\"command\":\"git log --oneline -n 20\"}}";

static int appendMany(lh_store *st, long n) {
    lh_event ev = {.type = "decision.made", .agent = "perf-1", .aggregate = "s-1", .data = kEventData};
    char err[256];
    for (long i = 0; i < n; i++)
        if (lh_store_append(st, &ev, 1, NULL, err, sizeof(err))) {
            fprintf(stderr, "perf_driver: append %ld: %s\n", i, err);
            return -1;
        }
    return 0;
}

static int runStore(const char *dir, long n) {
    char err[512];
    lh_store_options o = {.backend = LH_STORE_SQLITE, .data_dir = dir,
                          .secret = "perf-gate-key-0123456789abcdef0123456789abcdef",
                          .checkpoints = "off"};   /* no signing thread on a timer */
    lh_store *st = lh_store_open(&o, err, sizeof(err));
    if (!st) { fprintf(stderr, "perf_driver: %s\n", err); return 1; }
    int rc = appendMany(st, WARMUP_APPENDS);
    CALLGRIND_ZERO_STATS;
    if (!rc) rc = appendMany(st, n);
    CALLGRIND_DUMP_STATS_AT("store.append");
    lh_store_close(st);
    if (!rc) printf("store: %ld appends of one event each (after %d to warm up), SQLite in %s\n", n, WARMUP_APPENDS, dir);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 4) return usage();
    char *end;
    long n = strtol(argv[3], &end, 10);
    if (*end || n < 1 || n > 10000000) return usage();
    if (!strcmp(argv[1], "engine")) return runEngine(argv[2], n);
    if (!strcmp(argv[1], "store")) return runStore(argv[2], n);
    return usage();
}

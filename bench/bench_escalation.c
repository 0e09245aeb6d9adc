/* bench_escalation.c — the bridge's own overhead on an expert escalation round trip
 * (issue 13, "make bench"): a builder's POST /v1/validate?wait=30 creates an escalation,
 * which is delivered to an expert waiting in a long-poll (GET /v1/escalations?wait=30);
 * the expert answers at once (no thinking time) with POST /v1/escalations/{id}/verdict,
 * and the builder's waiting request gets the experts' allow. The time is the builder's,
 * from sending its request to reading the reply: four HTTP exchanges, four appends
 * (escalation.created, decision.made, escalation.verdict + escalation.decided) and two
 * resumes of suspended connections, on loopback with keep-alive connections (libcurl).
 *
 * The bridge runs in this process (lh_bridge_start), with its store on tmpfs (/dev/shm:
 * the bridge's work, not the disk's fsync) and then on the disk of $TMPDIR; a plain
 * decision's round trip is printed beside it for scale. Prints p50 and p99; the target is
 * p99 <= 2 ms on tmpfs. Never passes or fails on time. */
#include <curl/curl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge/auth.h"
#include "bridge/bridge.h"

#define ROUNDS 400
#define WARMUP 40

static double nowMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmpD(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct buf { char *p; size_t n, cap; } buf;

static size_t onData(char *d, size_t sz, size_t nm, void *u) {
    buf *b = u;
    size_t k = sz * nm;
    if (b->n + k + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + k + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, k);
    b->n += k;
    b->p[b->n] = 0;
    return k;
}

typedef struct client {
    CURL *h;
    struct curl_slist *hdr;
    buf out;
} client;

static void clientInit(client *c, const char *token) {
    memset(c, 0, sizeof(*c));
    c->h = curl_easy_init();
    char auth[LH_AUTH_TOKEN_MAX + 32];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    c->hdr = curl_slist_append(c->hdr, auth);
    c->hdr = curl_slist_append(c->hdr, "Content-Type: application/json");
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->out);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
}

static void clientFree(client *c) {
    curl_slist_free_all(c->hdr);
    curl_easy_cleanup(c->h);
    free(c->out.p);
}

/* GET (body NULL) or POST; the reply in c->out. The HTTP status, or -1. */
static long call(client *c, const char *url, const char *body) {
    c->out.n = 0;
    if (c->out.p) c->out.p[0] = 0;
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    if (body) curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
    else curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
    if (curl_easy_perform(c->h) != CURLE_OK) return -1;
    long code = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

typedef struct expertArgs {
    const char *base, *token;
    volatile int stop;
    int errors;
} expertArgs;

/* The expert: long-poll, allow the first escalation at once, again. */
static void *expertMain(void *arg) {
    expertArgs *a = arg;
    client c;
    clientInit(&c, a->token);
    char url[512], vurl[512];
    snprintf(url, sizeof(url), "%s/v1/escalations?state=pending&wait=2", a->base);
    while (!a->stop) {
        if (call(&c, url, NULL) != 200) { a->errors++; continue; }
        const char *p = strstr(c.out.p ? c.out.p : "", "\"id\":\"esc-");
        if (!p) continue;
        char id[32];
        memcpy(id, p + 6, 20);
        id[20] = 0;
        snprintf(vurl, sizeof(vurl), "%s/v1/escalations/%s/verdict", a->base, id);
        if (call(&c, vurl, "{\"decision\":\"allow\",\"reason\":\"bench\"}") != 200) a->errors++;
    }
    clientFree(&c);
    return NULL;
}

static void report(const char *label, double *t, int n) {
    qsort(t, (size_t)n, sizeof(double), cmpD);
    printf("  %-58s p50 %6.3f ms  p99 %6.3f ms  max %6.3f ms  (%d)\n", label, t[n / 2], t[(n * 99) / 100],
           t[n - 1], n);
}

static int removeOne(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int mint(const char *dir, const char *agent, lh_role role, char *out, size_t cap) {
    unsigned char key[LH_AUTH_KEY_LEN];
    char err[256];
    if (lh_auth_load_key(dir, 1, key, err, sizeof(err))) { fprintf(stderr, "%s\n", err); return -1; }
    lh_token_claims cl = {0};
    snprintf(cl.agent, sizeof(cl.agent), "%s", agent);
    cl.role = role;
    cl.iat = (int64_t)time(NULL);
    cl.exp = cl.iat + 3600;
    return lh_auth_mint(key, &cl, out, cap, err, sizeof(err));
}

/* One bridge with its store under root: the plain and the escalation round trips. */
static int runOne(const char *root, const char *label) {
    char dir[512], data[600], pol[600];
    snprintf(dir, sizeof(dir), "%s/lh-bench-esc-XXXXXX", root);
    if (!mkdtemp(dir)) { printf("  %s: cannot make a directory under %s\n", label, root); return 0; }
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(pol, sizeof(pol), "%s/policy.yaml", dir);
    mkdir(data, 0700);
    FILE *f = fopen(pol, "w");
    if (!f) return -1;
    fputs("version: 1\nrules:\n  - id: bench-esc\n    action: escalate\n    reason: an expert decides\n"
          "    match: {program: bench-esc}\n    escalate: {quorum: 1, deadline: 60s}\n", f);
    fclose(f);
    lh_bridge_config cfg;
    lh_bridge_config_defaults(&cfg);
    snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:0");
    snprintf(cfg.data, sizeof(cfg.data), "%s", data);
    snprintf(cfg.policy, sizeof(cfg.policy), "%s", pol);
    cfg.rate_limit = 0;
    cfg.sla.enabled = 0;
    char err[1024];
    lh_bridge *b = lh_bridge_start(&cfg, err, sizeof(err));
    if (!b) { printf("  %s: the bridge did not start: %s\n", label, err); return -1; }
    char base[300], btok[LH_AUTH_TOKEN_MAX + 1], etok[LH_AUTH_TOKEN_MAX + 1];
    snprintf(base, sizeof(base), "http://%s", lh_bridge_address(b));
    int rc = 0;
    if (mint(data, "bench-builder", LH_ROLE_BUILDER, btok, sizeof(btok)) ||
        mint(data, "bench-expert", LH_ROLE_EXPERT, etok, sizeof(etok))) {
        printf("  %s: cannot mint tokens\n", label);
        rc = -1;
        goto stop;
    }
    client reg;
    clientInit(&reg, etok);
    char url[512];
    snprintf(url, sizeof(url), "%s/v1/experts/register", base);
    long code = call(&reg, url, "{\"capabilities\":[]}");
    clientFree(&reg);
    if (code != 200) { printf("  %s: the expert could not register (%ld)\n", label, code); rc = -1; goto stop; }

    client bc;
    clientInit(&bc, btok);
    double *plain = malloc(sizeof(double) * ROUNDS), *esc = malloc(sizeof(double) * ROUNDS);
    char body[256];
    snprintf(url, sizeof(url), "%s/v1/validate", base);
    for (int i = 0; i < WARMUP + ROUNDS; i++) {
        double t0 = nowMs();
        if (call(&bc, url, "{\"tool\":\"Bash\",\"input\":{\"command\":\"ls -la\"},\"cwd\":\"/tmp/p\"}") != 200) {
            printf("  %s: a plain decision failed\n", label);
            rc = -1;
            break;
        }
        if (i >= WARMUP) plain[i - WARMUP] = nowMs() - t0;
    }
    expertArgs ea = {.base = base, .token = etok};
    pthread_t th;
    pthread_create(&th, NULL, expertMain, &ea);
    snprintf(url, sizeof(url), "%s/v1/validate?wait=30", base);
    int n = 0, bad = 0;
    for (int i = 0; rc == 0 && i < WARMUP + ROUNDS; i++) {
        snprintf(body, sizeof(body), "{\"tool\":\"Bash\",\"input\":{\"command\":\"bench-esc --round %d\"},\"cwd\":\"/tmp/p\"}", i);
        double t0 = nowMs();
        long c = call(&bc, url, body);
        double dt = nowMs() - t0;
        if (c != 200 || !strstr(bc.out.p, "\"tier\":\"expert\"") || !strstr(bc.out.p, "\"decision\":\"allow\"")) {
            bad++;
            continue;
        }
        if (i >= WARMUP) esc[n++] = dt;
    }
    ea.stop = 1;
    pthread_join(th, NULL);
    clientFree(&bc);
    if (rc == 0) {
        char l1[128], l2[160];
        snprintf(l1, sizeof(l1), "plain decision round trip, store on %s", label);
        snprintf(l2, sizeof(l2), "escalation round trip (create, expert, verdict, reply), %s", label);
        report(l1, plain, ROUNDS);
        if (n) report(l2, esc, n);
        if (bad || ea.errors) printf("  %s: %d round trips without the experts' allow, %d expert errors\n", label, bad, ea.errors);
    }
    free(plain);
    free(esc);
stop:
    kill(getpid(), SIGTERM);   /* lh_bridge_wait drains and stops on it */
    lh_bridge_wait(b);
    lh_bridge_free(b);
    nftw(dir, removeOne, 16, FTW_DEPTH | FTW_PHYS);   /* our own mkdtemp directory */
    return rc;
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    if (access("/dev/shm", W_OK) == 0) rc |= runOne("/dev/shm", "tmpfs") != 0;
    const char *tmp = getenv("TMPDIR");
    rc |= runOne(tmp && *tmp ? tmp : "/tmp", "disk") != 0;
    curl_global_cleanup();
    return rc;
}

/* sampler.c — a run end to end: check the target answers, read the bridge's /metrics
 * before and after, sample the bridge PROCESS (CPU, resident memory, open fds) once a
 * second from /proc/PID (or from its /metrics when the PID is unknown) on one helper
 * thread, and run the generator. Nothing here measures the generator as the server. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load/load.h"
#include "load/load_int.h"
#include "util/cond.h"

/* ---- a tiny blocking HTTP GET (loopback, Connection: close) ------------------------ */

int lh_load_http_get(const char *host, int port, const char *path, char *body, size_t cap, double timeout_s) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || cap < 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {(time_t)timeout_s, (suseconds_t)((timeout_s - floor(timeout_s)) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) { close(fd); return -1; }
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", path, host, port);
    if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) { close(fd); return -1; }
    size_t len = 0, bufcap = cap + 4096;
    char *buf = malloc(bufcap + 1);
    if (!buf) { close(fd); return -1; }
    for (;;) {
        if (len == bufcap) break;
        ssize_t r = recv(fd, buf + len, bufcap - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = 0;
    int status = -1;
    char *eoh = strstr(buf, "\r\n\r\n");
    if (len > 12 && !strncmp(buf, "HTTP/1.", 7) && eoh) {
        status = atoi(buf + 9); /* NOLINT(cert-err34-c): no digits read 0, not a 200 */
        size_t bl = len - (size_t)(eoh + 4 - buf);
        if (bl >= cap) bl = cap - 1;
        memcpy(body, eoh + 4, bl);
        body[bl] = 0;
    }
    free(buf);
    return status;
}

double lh_load_prom_value(const char *text, const char *prefix) {
    size_t pl = strlen(prefix);
    double sum = 0;
    int found = 0;
    for (const char *p = text; p && *p; ) {
        const char *nl = strchr(p, '\n');
        if (*p != '#' && !strncmp(p, prefix, pl)) {
            const char *sp = p + pl;
            /* the prefix must end the name or open the labels */
            if (*sp == ' ' || *sp == '{' || prefix[pl - 1] == ',' || prefix[pl - 1] == '{') {
                const char *v = nl ? nl : p + strlen(p);
                while (v > p && v[-1] != ' ') v--;
                sum += strtod(v, NULL);
                found = 1;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return found ? sum : NAN;
}

/* ---- the bridge's PID: given, or the process that owns the listening socket ---------- */

static unsigned long listenInode(int port) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return 0;
    char line[512];
    unsigned long inode = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned lport, st;
        unsigned long ino;
        /* NOLINTNEXTLINE(cert-err34-c): the kernel's /proc/net/tcp format, fields counted */
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &lport, &st, &ino) == 3 &&
            (int)lport == port && st == 0x0A) { inode = ino; break; }
    }
    fclose(f);
    return inode;
}

static int findPid(int port) {
    unsigned long inode = listenInode(port);
    if (!inode) return 0;
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *d = opendir("/proc");
    if (!d) return 0;
    int pid = 0;
    struct dirent *e;
    while (!pid && (e = readdir(d))) {
        int p = atoi(e->d_name); /* NOLINT(cert-err34-c): a /proc name that is no PID reads 0, skipped */
        if (p <= 0 || p == getpid()) continue;
        char path[48];
        snprintf(path, sizeof(path), "/proc/%d/fd", p);
        DIR *fd = opendir(path);
        if (!fd) continue;
        struct dirent *f;
        while ((f = readdir(fd))) {
            char link[320], target[128];
            snprintf(link, sizeof(link), "%s/%s", path, f->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n > 0) { target[n] = 0; if (!strcmp(target, want)) { pid = p; break; } }
        }
        closedir(fd);
    }
    closedir(d);
    return pid;
}

/* ---- sampling ---------------------------------------------------------------------- */

typedef struct sampler {
    const lh_load_options *o;
    int pid;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    double t0;                 /* monotonic start of the load (0 before) */
    lh_load_res *s;
    int n, cap;
    char *mbuf;
} sampler;

#define METRICS_CAP (512 * 1024)
#define MAX_SAMPLES 100000

static int readProc(int pid, lh_load_res *x) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    long rss;
    /* NOLINTNEXTLINE(cert-err34-c): the kernel's /proc/PID/stat format, fields counted */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
                     &ut, &st, &rss) != 3)
        return -1;
    long tick = sysconf(_SC_CLK_TCK);
    x->cpu_s = (double)(ut + st) / (double)(tick > 0 ? tick : 100);
    x->rss_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    long fds = 0;
    if (d) { while (readdir(d)) fds++; closedir(d); fds -= 2; }
    x->fds = (double)fds;
    return 0;
}

static int readMetrics(sampler *s, lh_load_res *x) {
    if (lh_load_http_get(s->o->host, s->o->port, "/metrics", s->mbuf, METRICS_CAP, 2) != 200) return -1;
    x->cpu_s = lh_load_prom_value(s->mbuf, "process_cpu_seconds_total");
    x->rss_bytes = lh_load_prom_value(s->mbuf, "process_resident_memory_bytes");
    x->fds = lh_load_prom_value(s->mbuf, "process_open_fds");
    return isnan(x->cpu_s) || isnan(x->rss_bytes) ? -1 : 0;
}

static void takeSample(sampler *s) {
    lh_load_res x = {0};
    if ((s->pid ? readProc(s->pid, &x) : readMetrics(s, &x))) return;
    x.t = lh_load_now();   /* monotonic until lh_load_run makes it relative */
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap && s->cap < MAX_SAMPLES) {
        int nc = s->cap ? s->cap * 2 : 256;
        lh_load_res *ns = realloc(s->s, (size_t)nc * sizeof(*ns));
        if (ns) { s->s = ns; s->cap = nc; }
    }
    if (s->n < s->cap) s->s[s->n++] = x;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *samplerMain(void *arg) {
    sampler *s = arg;
    pthread_setname_np(pthread_self(), "lh-load-sampler");
    double next = lh_load_now();
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        takeSample(s);
        next += 1.0;
        pthread_mutex_lock(&s->mu);
        /* wait until the next second (or stop); this paces the sampler, it stands in for nothing */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double dt = next - lh_load_now();
        if (dt > 0) {
            double abs_ = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + dt;
            ts.tv_sec = (time_t)abs_;
            ts.tv_nsec = (long)((abs_ - floor(abs_)) * 1e9);
            while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT) {}
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- /metrics before and after -------------------------------------------------------- */

static int scrape(const lh_load_options *o, lh_load_result *r, int k, char *buf) {
    if (lh_load_http_get(o->host, o->port, "/metrics", buf, METRICS_CAP, 5) != 200) return -1;
    char pfx[256], route[sizeof(o->path)];
    snprintf(route, sizeof(route), "%s", o->path);
    route[strcspn(route, "?")] = 0;   /* the metrics' route label has no query (?wait=) */
    snprintf(pfx, sizeof(pfx), "lighthouse_bridge_requests_total{route=\"%s\",code=\"200\"}", route);
    r->m_validate_200[k] = lh_load_prom_value(buf, pfx);
    r->m_decisions[k] = lh_load_prom_value(buf, "lighthouse_bridge_decisions_total");
    r->m_store_commit_sum[k] = lh_load_prom_value(buf, "lighthouse_bridge_event_store_commit_duration_seconds_sum");
    r->m_store_commit_n[k] = lh_load_prom_value(buf, "lighthouse_bridge_event_store_commit_duration_seconds_count");
    r->m_engine_sum[k] = lh_load_prom_value(buf, "lighthouse_bridge_speed_layer_validation_duration_seconds_sum");
    r->m_engine_n[k] = lh_load_prom_value(buf, "lighthouse_bridge_speed_layer_validation_duration_seconds_count");
    double lim = lh_load_prom_value(buf, "lighthouse_bridge_memory_limit_bytes");
    if (!isnan(lim)) r->mem_limit_bytes = lim;
    if (isnan(r->m_validate_200[k])) r->m_validate_200[k] = 0;
    if (isnan(r->m_decisions[k])) r->m_decisions[k] = 0;
    r->m_out_native = lh_load_outcomes_scrape(buf, route, r->m_out[k]);
    return 0;
}

int lh_load_run(const lh_load_options *o, lh_load_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof(*r));
    r->slot_s = ceil(o->duration_s / 3600.0);
    if (r->slot_s < 1) r->slot_s = 1;
    r->nslots = (int)ceil((o->duration_s + o->drain_s) / r->slot_s) + 1;
    r->slots = calloc((size_t)r->nslots, sizeof(lh_load_slot));
    if (!r->slots || lh_load_hist_init(&r->all, 8) || lh_load_hist_init(&r->escalated, 8) ||
        lh_load_hist_init(&r->fast, 8) || lh_load_hist_init(&r->fast_sent, 8)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int t = 0; t < LH_LOAD_TIERS; t++)
        if (lh_load_hist_init(&r->tier[t], 8)) { snprintf(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < r->nslots; i++)
        if (lh_load_hist_init(&r->slots[i].h, 5)) { snprintf(err, errlen, "out of memory"); return -1; }
    r->mem_limit_bytes = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);

    char *buf = malloc(METRICS_CAP);
    if (!buf) { snprintf(err, errlen, "out of memory"); return -1; }
    /* The target must answer before anything is timed: an unreachable target is a failed
     * run, never a fast one. */
    int hs = lh_load_http_get(o->host, o->port, "/health", buf, METRICS_CAP, 5);
    if (hs != 200) {
        snprintf(r->fatal, sizeof(r->fatal), hs < 0 ? "target http://%s:%d is unreachable (GET /health: no answer)"
                                                    : "target http://%s:%d is not healthy (GET /health answered %d)",
                 o->host, o->port, hs);
        free(buf);
        return 0;
    }
    r->metrics_ok = scrape(o, r, 0, buf) == 0;

    sampler s = {.o = o, .cap = 0};
    pthread_mutex_init(&s.mu, NULL);
    lh_cond_init_monotonic(&s.cv);
    s.mbuf = buf;
    s.pid = o->bridge_pid ? o->bridge_pid : findPid(o->port);
    lh_load_res probe;
    if (s.pid && readProc(s.pid, &probe)) s.pid = 0;
    r->bridge_pid = s.pid;
    if (s.pid) snprintf(r->res_source, sizeof(r->res_source), "/proc/%d", s.pid);
    else if (r->metrics_ok) snprintf(r->res_source, sizeof(r->res_source), "/metrics (process_* series)");
    else snprintf(r->res_source, sizeof(r->res_source), "none: no PID and no /metrics");
    int haveSampler = (s.pid || r->metrics_ok) && !pthread_create(&s.th, NULL, samplerMain, &s);
    if (haveSampler) {   /* two samples before the load: the idle baseline of CPU and memory */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&s.mu);
        while (s.n < 2 && pthread_cond_timedwait(&s.cv, &s.mu, &until) != ETIMEDOUT) {}
        pthread_mutex_unlock(&s.mu);
    }
    double tStart = lh_load_now();
    int rc = lh_load_generate(o, r, err, errlen);
    if (haveSampler) {
        pthread_mutex_lock(&s.mu);
        s.stop = 1;
        pthread_cond_broadcast(&s.cv);
        pthread_mutex_unlock(&s.mu);
        pthread_join(s.th, NULL);
    }
    /* CPU% of one CPU over each interval, and times relative to the start of the load */
    double t0 = r->t0_mono ? r->t0_mono : tStart;
    for (int i = s.n - 1; i >= 0; i--) {
        s.s[i].cpu_percent = i ? 100.0 * (s.s[i].cpu_s - s.s[i - 1].cpu_s) / (s.s[i].t - s.s[i - 1].t) : 0;
        s.s[i].t -= t0;
    }
    if (s.n > 1) s.s[0].cpu_percent = s.s[1].cpu_percent;
    r->res = s.s;
    r->nres = s.n;
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    if (!r->fatal[0] && r->metrics_ok) r->metrics_ok = scrape(o, r, 1, buf) == 0;
    free(buf);
    return rc;
}

void lh_load_result_free(lh_load_result *r) {
    lh_load_hist_free(&r->all);
    lh_load_hist_free(&r->escalated);
    lh_load_hist_free(&r->fast);
    lh_load_hist_free(&r->fast_sent);
    for (int t = 0; t < LH_LOAD_TIERS; t++) lh_load_hist_free(&r->tier[t]);
    for (int i = 0; i < r->nslots && r->slots; i++) lh_load_hist_free(&r->slots[i].h);
    free(r->slots);
    free(r->res);
    memset(r, 0, sizeof(*r));
}

/* paced.c — an open-loop HTTP/1.1 load client for bench/bridge.sh (wrk2 is not packaged).
 *
 * Sends POST requests at a fixed rate over C keep-alive connections, on one epoll
 * thread. Latency is measured from when each request was SCHEDULED, not when it was
 * sent, so a stalled server is charged for the requests that queued behind it (no
 * coordinated omission). Bodies come from a file (one per line) and bearer tokens from
 * LH_TOKENS (comma-separated), used round-robin.
 *
 *   paced HOST PORT PATH RATE SECONDS CONNS BODIES_FILE
 * prints: offered and achieved rate, p50/p90/p99/max latency, errors. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd, busy;
    double sched;            /* scheduled time of the request in flight */
    char *out; size_t outlen, outoff;
    char in[65536]; size_t inlen;
} conn;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static char **bodies, **toks;
static int nbodies, ntoks;
static long seqNo;

static int build(conn *c, const char *host, const char *path) {
    const char *b = bodies[seqNo % nbodies];
    const char *t = ntoks ? toks[seqNo % ntoks] : "";
    seqNo++;
    free(c->out);
    int n = asprintf(&c->out, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
                     path, host, *t ? "Authorization: Bearer " : "", t, *t ? "\r\n" : "", strlen(b), b);
    if (n < 0) return -1;
    c->outlen = (size_t)n;
    c->outoff = 0;
    return 0;
}

static int flush(conn *c) {
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w > 0) c->outoff += (size_t)w;
        else if (w < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        else return -1;
    }
    return 0;
}

/* 1: a whole reply is in; *status set and the bytes consumed. */
static int reply(conn *c, int *status) {
    char *eoh = memmem(c->in, c->inlen, "\r\n\r\n", 4);
    if (!eoh) return 0;
    long clen = 0;
    char *cl = memmem(c->in, (size_t)(eoh - c->in), "Content-Length:", 15);
    if (!cl) cl = memmem(c->in, (size_t)(eoh - c->in), "content-length:", 15);
    if (cl) clen = strtol(cl + 15, NULL, 10);
    size_t total = (size_t)(eoh + 4 - c->in) + (size_t)clen;
    if (c->inlen < total) return 0;
    *status = atoi(c->in + 9);
    memmove(c->in, c->in + total, c->inlen - total);
    c->inlen -= total;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: paced HOST PORT PATH RATE SECONDS CONNS BODIES_FILE\n"); return 2; }
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]), conns = atoi(argv[6]);
    double rate = atof(argv[4]), secs = atof(argv[5]);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake when a send is due, not up to 50 us later */
    FILE *f = fopen(argv[7], "r");
    if (!f) { perror(argv[7]); return 2; }
    char line[65536];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        bodies = realloc(bodies, sizeof(char *) * (size_t)(nbodies + 1));
        bodies[nbodies++] = strdup(line);
    }
    fclose(f);
    char *tk = getenv("LH_TOKENS") ? strdup(getenv("LH_TOKENS")) : NULL;
    for (char *p = tk ? strtok(tk, ",") : NULL; p; p = strtok(NULL, ",")) {
        toks = realloc(toks, sizeof(char *) * (size_t)(ntoks + 1));
        toks[ntoks++] = p;
    }
    if (!nbodies || conns < 1 || rate <= 0) return 2;
    int ep = epoll_create1(0);
    conn *cs = calloc((size_t)conns, sizeof(conn));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < conns; i++) {
        cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa))) { perror("connect"); return 1; }
        int one = 1;
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    long planned = (long)(rate * secs);
    double *lat = malloc(sizeof(double) * (size_t)planned);
    double *queue = malloc(sizeof(double) * (size_t)planned);   /* scheduled times waiting for a connection */
    long qh = 0, qt = 0, sent = 0, done = 0, errors = 0;
    int *idle = malloc(sizeof(int) * (size_t)conns), nidle = conns;
    for (int i = 0; i < conns; i++) idle[i] = i;
    double t0 = now(), end = t0 + secs, deadline = end + 10;
    while (done + errors < planned && now() < deadline) {
        double t = now();
        while (sent < planned && t0 + (double)sent / rate <= t) queue[qt++] = t0 + (double)(sent++) / rate;
        while (qh < qt && nidle) {
            conn *c = &cs[idle[--nidle]];
            c->busy = 1;
            c->sched = queue[qh++];
            if (build(c, host, path) || flush(c)) { errors++; c->busy = 0; continue; }
        }
        /* Sleep until the next send is due, to the microsecond: an epoll_wait timeout in
         * whole milliseconds rounded every sub-millisecond wait down to 0, so at 1,000 req/s
         * and more this loop spun a whole CPU, which the bridge under test then lacked. */
        double next = sent < planned ? t0 + (double)sent / rate - now() : 0.01;
        if (next < 0) next = 0;
        struct timespec ts = {(time_t)next, (long)((next - (double)(time_t)next) * 1e9)};
        struct epoll_event evs[256];
        int n = epoll_pwait2(ep, evs, 256, &ts, NULL);
        for (int k = 0; k < n; k++) {
            conn *c = &cs[evs[k].data.u32];
            ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
            if (r <= 0) { if (r == 0 || (errno != EAGAIN && errno != EINTR)) { errors++; c->busy = 0; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); } continue; }
            c->inlen += (size_t)r;
            int status;
            while (c->busy && reply(c, &status)) {
                if (status == 200) lat[done++] = now() - c->sched;
                else errors++;
                c->busy = 0;
                idle[nidle++] = (int)(c - cs);
            }
            if (c->busy && c->outoff < c->outlen) flush(c);
        }
    }
    double wall = now() - t0;
    qsort(lat, (size_t)done, sizeof(double), cmp);
    if (!done) { printf("no replies\n"); return 1; }
    printf("offered %.0f req/s, achieved %.0f req/s over %.1f s (%ld ok, %ld errors, %ld not sent)  "
           "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           rate, (double)done / (wall < secs ? secs : wall), wall, done, errors, planned - sent,
           lat[done / 2] * 1e3, lat[done * 9 / 10] * 1e3, lat[done * 99 / 100] * 1e3, lat[done - 1] * 1e3);
    return 0;
}

/* bench_alert.c — the cost of raising an alert and the speed of delivering it, against a
 * real HTTP receiver on 127.0.0.1 (keep-alive, replies 200). Prints figures; never passes
 * or fails on time.
 *
 *   send        ns per lh_alerts_send that queues, and per one refused by a full queue
 *   delivery    alerts per second through the webhook sink, and the latency from
 *               lh_alerts_send to the record callback (p50, p99, max)
 *   stop        how long lh_alerts_stop(100 ms) takes while the receiver hangs */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridge/alert.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- receiver */

typedef struct receiver {
    int lfd, port, stop_pipe[2], hang;
    pthread_t th;
} receiver;

/* Serve one keep-alive connection: reply 200 to each request, or hold it when hanging. */
static void serve(receiver *rx, int fd) {
    char buf[65536];
    size_t n = 0;
    for (;;) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {rx->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 || p[1].revents) return;
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0) return;
        n += (size_t)r;
        buf[n] = 0;
        for (;;) {
            char *end = strstr(buf, "\r\n\r\n");
            if (!end) break;
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t clen = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            size_t need = (size_t)(end + 4 - buf) + clen;
            if (n < need) break;
            static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            if (!rx->hang && write(fd, ok, sizeof(ok) - 1) < 0) return;   /* hanging: answer nothing */
            memmove(buf, buf + need, n - need);
            n -= need;
            buf[n] = 0;
        }
        if (n >= sizeof(buf) - 1) return;
    }
}

static void *rx_loop(void *arg) {
    receiver *rx = arg;
    for (;;) {
        struct pollfd p[2] = {{rx->lfd, POLLIN, 0}, {rx->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        int fd = accept(rx->lfd, NULL, NULL);
        if (fd < 0) continue;
        serve(rx, fd);
        close(fd);
    }
    return NULL;
}

static int rx_start(receiver *rx, int hang) {
    memset(rx, 0, sizeof(*rx));
    rx->hang = hang;
    rx->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (rx->lfd < 0 || bind(rx->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(rx->lfd, 16) ||
        getsockname(rx->lfd, (struct sockaddr *)&sa, &sl) || pipe(rx->stop_pipe))
        return -1;
    rx->port = ntohs(sa.sin_port);
    return pthread_create(&rx->th, NULL, rx_loop, rx) ? -1 : 0;
}

static void rx_stop(receiver *rx) {
    if (write(rx->stop_pipe[1], "x", 1) != 1) return;
    pthread_join(rx->th, NULL);
    close(rx->lfd);
    close(rx->stop_pipe[0]);
    close(rx->stop_pipe[1]);
}

/* ---------------------------------------------------------------- measuring */

#define N_DELIVER 2000

typedef struct lat {
    pthread_mutex_t mu;
    int n, failed;
    uint64_t ns[N_DELIVER];
} lat;

/* The bench puts the monotonic send time in seq, to time each alert end to end. */
static void record(void *ctx, const lh_alert_result *res) {
    lat *l = ctx;
    uint64_t t = now_ns();
    pthread_mutex_lock(&l->mu);
    if (!res->ok) l->failed++;
    if (l->n < N_DELIVER) l->ns[l->n] = t - (uint64_t)res->alert->seq;
    l->n++;
    pthread_mutex_unlock(&l->mu);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static lh_alert sample_alert(void) {
    lh_alert al;
    memset(&al, 0, sizeof(al));
    snprintf(al.event, sizeof(al.event), "sla.violated");
    snprintf(al.metric, sizeof(al.metric), "p99_response_time_ms");
    snprintf(al.severity, sizeof(al.severity), "major");
    al.value = 142.5;
    al.threshold = 100;
    snprintf(al.summary, sizeof(al.summary), "p99 response time 142.5 ms > 100 ms for 30 s");
    snprintf(al.dedup_key, sizeof(al.dedup_key), "sla:p99_response_time_ms:1");
    al.time_ns = 1795772625250000000ull;
    snprintf(al.revision, sizeof(al.revision), "r42-9f1c2ab");
    return al;
}

static lh_alerts *start(const receiver *rx, int queue, lat *l) {
    lh_alerts_config c;
    lh_alerts_config_defaults(&c);
    c.log = 0;
    c.queue_max = queue;
    c.retries = 0;
    c.timeout_ms = 5000;
    snprintf(c.source, sizeof(c.source), "bench");
    snprintf(c.webhook_url, sizeof(c.webhook_url), "http://127.0.0.1:%d/hook", rx->port);
    char err[256];
    lh_alerts *a = lh_alerts_start(&c, record, l, err, sizeof(err));
    if (!a) fprintf(stderr, "bench_alert: %s\n", err);
    return a;
}

static int bench_send(void) {
    receiver rx;
    if (rx_start(&rx, 1)) { fprintf(stderr, "bench_alert: no receiver\n"); return 1; }
    static lat l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    enum { Q = 4096 };
    lh_alerts *a = start(&rx, Q, &l);
    if (!a) return 1;
    lh_alert al = sample_alert();
    uint64_t t0 = now_ns();
    int queued = 0;
    for (int i = 0; i < Q; i++) queued += lh_alerts_send(a, &al) == 0;
    uint64_t t1 = now_ns();
    int refused = 0;
    for (int i = 0; i < 100000; i++) refused += lh_alerts_send(a, &al) != 0;
    uint64_t t2 = now_ns();
    printf("send: %.0f ns per queued alert (%d), %.0f ns per alert refused by a full queue (%d)\n",
           (double)(t1 - t0) / queued, queued, (double)(t2 - t1) / refused, refused);
    lh_alerts_free(a);   /* stop at once: everything queued is reported failed */
    rx_stop(&rx);
    return 0;
}

static int bench_delivery(void) {
    receiver rx;
    if (rx_start(&rx, 0)) { fprintf(stderr, "bench_alert: no receiver\n"); return 1; }
    static lat l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    lh_alerts *a = start(&rx, 4096, &l);
    if (!a) return 1;
    uint64_t t0 = now_ns();
    for (int i = 0; i < N_DELIVER; i++) {
        lh_alert al = sample_alert();
        al.seq = (int64_t)now_ns();
        if (lh_alerts_send(a, &al)) { fprintf(stderr, "bench_alert: queue full\n"); return 1; }
    }
    lh_alerts_stop(a, 30000);
    uint64_t t1 = now_ns();
    int n = l.n < N_DELIVER ? l.n : N_DELIVER;
    qsort(l.ns, (size_t)n, sizeof(l.ns[0]), cmp_u64);
    printf("delivery: %d alerts to the webhook in %.1f ms, %.0f alerts/s, %d failed; "
           "send to record p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           l.n, (double)(t1 - t0) / 1e6, l.n / ((double)(t1 - t0) / 1e9), l.failed, (double)l.ns[n / 2] / 1e6,
           (double)l.ns[n * 99 / 100] / 1e6, (double)l.ns[n - 1] / 1e6);
    lh_alerts_free(a);
    rx_stop(&rx);
    return 0;
}

static int bench_stop(void) {
    receiver rx;
    if (rx_start(&rx, 1)) { fprintf(stderr, "bench_alert: no receiver\n"); return 1; }
    printf("stop(100 ms) while the receiver hangs:");
    for (int r = 0; r < 5; r++) {
        static lat l = {.mu = PTHREAD_MUTEX_INITIALIZER};
        lh_alerts *a = start(&rx, 16, &l);
        if (!a) return 1;
        lh_alert al = sample_alert();
        for (int i = 0; i < 4; i++) lh_alerts_send(a, &al);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);   /* the first attempt is in flight */
        uint64_t t0 = now_ns();
        lh_alerts_stop(a, 100);
        printf(" %.1f", (double)(now_ns() - t0) / 1e6);
        lh_alerts_free(a);
    }
    printf(" ms\n");
    rx_stop(&rx);
    return 0;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int rc = bench_send();
    rc |= bench_delivery();
    rc |= bench_stop();
    return rc;
}

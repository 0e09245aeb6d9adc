/* test_alert.c — alert delivery (src/bridge/alert.c) against a real HTTP receiver on
 * 127.0.0.1: the payload of each sink, retries with backoff, the bounded queue, stop
 * with a deadline while the receiver hangs, config refusals and the structured-log line.
 *
 * The receiver is a small socket server on its own thread. It records every request
 * (path and body) and is told per test to reply 200, to reply 500 for the first N
 * requests, to hang past the client's timeout, or to close without replying. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridge/alert.h"
#include "util/io.h"

/* ---------------------------------------------------------------- the receiver */

enum { RX_REPLY = 0, RX_HANG, RX_CLOSE, RX_REDIRECT };
#define RX_MAX 64

typedef struct receiver {
    int lfd, port, stop_pipe[2];
    pthread_t th;
    pthread_mutex_t mu;
    int mode;          /* RX_* */
    int fail_first;    /* reply 500 to the first N requests */
    int hang_ms;       /* RX_HANG: how long to hold the connection */
    int count;
    char path[RX_MAX][64];
    char *body[RX_MAX];
} receiver;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Read one HTTP request (headers and a Content-Length body) from fd; 0 on success. */
static int read_request(int fd, char *path, size_t pathcap, char **body) {
    char buf[16384];
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 3000) <= 0 || n >= sizeof(buf) - 1) return -1;
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (sscanf(buf, "POST %63s ", path) != 1) snprintf(path, pathcap, "?");
    size_t clen = 0;
    char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl) clen = strtoul(cl + 17, NULL, 10);
    size_t have = n - (size_t)(end + 4 - buf);
    if (clen > sizeof(buf) - 1) return -1;
    char *b = malloc(clen + 1);
    memcpy(b, end + 4, have < clen ? have : clen);
    while (have < clen) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 3000) <= 0) { free(b); return -1; }
        ssize_t r = read(fd, b + have, clen - have);
        if (r <= 0) { free(b); return -1; }
        have += (size_t)r;
    }
    b[clen] = 0;
    *body = b;
    return 0;
}

static void redirect(int fd, int port) {
    char out[256];
    int n = snprintf(out, sizeof(out), "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n", port);
    if (write(fd, out, (size_t)n) < 0) { /* the client may have given up */ }
}

static void reply(int fd, int status) {
    char out[256];
    const char *body = status == 200 ? "ok" : "{\"error\":\"boom\"}";
    int n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, status == 200 ? "OK" : "Internal Server Error", strlen(body), body);
    if (write(fd, out, (size_t)n) < 0) { /* the client may have given up */ }
}

static void *rx_loop(void *arg) {
    receiver *rx = arg;
    for (;;) {
        struct pollfd p[2] = {{rx->lfd, POLLIN, 0}, {rx->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        if (!p[0].revents) continue;
        int fd = accept(rx->lfd, NULL, NULL);
        if (fd < 0) continue;
        char path[64];
        char *body = NULL;
        if (read_request(fd, path, sizeof(path), &body) != 0) { close(fd); continue; }
        pthread_mutex_lock(&rx->mu);
        int i = rx->count++;
        if (i < RX_MAX) {
            snprintf(rx->path[i], sizeof(rx->path[i]), "%s", path);
            rx->body[i] = body;
            body = NULL;
        }
        int mode = rx->mode, fail = i < rx->fail_first, hang = rx->hang_ms;
        pthread_mutex_unlock(&rx->mu);
        free(body);
        if (mode == RX_HANG) {
            struct pollfd s = {rx->stop_pipe[0], POLLIN, 0};
            poll(&s, 1, hang);   /* hold the connection, answer nothing */
        } else if (mode == RX_REPLY) {
            reply(fd, fail ? 500 : 200);
        } else if (mode == RX_REDIRECT) {
            redirect(fd, rx->port);
        }
        close(fd);   /* RX_CLOSE: no reply at all */
    }
    return NULL;
}

static receiver *rx_start(int mode, int fail_first, int hang_ms) {
    receiver *rx = calloc(1, sizeof(*rx));
    assert_non_null(rx);
    rx->mode = mode;
    rx->fail_first = fail_first;
    rx->hang_ms = hang_ms;
    pthread_mutex_init(&rx->mu, NULL);
    rx->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rx->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rx->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(rx->lfd, 16), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(rx->lfd, (struct sockaddr *)&sa, &sl), 0);
    rx->port = ntohs(sa.sin_port);
    assert_int_equal(pipe(rx->stop_pipe), 0);
    assert_int_equal(pthread_create(&rx->th, NULL, rx_loop, rx), 0);
    return rx;
}

static void rx_stop(receiver *rx) {
    if (write(rx->stop_pipe[1], "x", 1) != 1) fail_msg("cannot stop the receiver");
    pthread_join(rx->th, NULL);
    close(rx->lfd);
    close(rx->stop_pipe[0]);
    close(rx->stop_pipe[1]);
    for (int i = 0; i < RX_MAX; i++) free(rx->body[i]);
    pthread_mutex_destroy(&rx->mu);
    free(rx);
}

static int rx_count(receiver *rx) {
    pthread_mutex_lock(&rx->mu);
    int n = rx->count;
    pthread_mutex_unlock(&rx->mu);
    return n;
}

static void rx_url(const receiver *rx, const char *path, char *out, size_t cap) {
    snprintf(out, cap, "http://127.0.0.1:%d%s", rx->port, path);
}

/* ---------------------------------------------------------------- recorded outcomes */

typedef struct outcome {
    lh_alert_sink sink;
    int ok, attempts, http_status;
    char error[512];
    char summary[512];
    uint64_t duration_ns;
} outcome;

typedef struct recorder {
    pthread_mutex_t mu;
    int n;
    outcome r[64];
} recorder;

static void record(void *ctx, const lh_alert_result *res) {
    recorder *rc = ctx;
    pthread_mutex_lock(&rc->mu);
    if (rc->n < 64) {
        outcome *o = &rc->r[rc->n];
        o->sink = res->sink;
        o->ok = res->ok;
        o->attempts = res->attempts;
        o->http_status = res->http_status;
        snprintf(o->error, sizeof(o->error), "%s", res->error ? res->error : "(null)");
        snprintf(o->summary, sizeof(o->summary), "%s", res->alert->summary);
        o->duration_ns = res->duration_ns;
    }
    rc->n++;
    pthread_mutex_unlock(&rc->mu);
}

static void recorder_init(recorder *rc) {
    memset(rc, 0, sizeof(*rc));
    pthread_mutex_init(&rc->mu, NULL);
}

/* Wait until at least n outcomes are recorded (or ms pass: a hang guard, not a bound on
 * speed; callers give 60 s); returns the count. */
static int wait_outcomes(recorder *rc, int n, int ms) {
    uint64_t until = now_ms() + (uint64_t)ms;
    for (;;) {
        pthread_mutex_lock(&rc->mu);
        int have = rc->n;
        pthread_mutex_unlock(&rc->mu);
        if (have >= n || now_ms() >= until) return have;
        sleep_ms(5);
    }
}

/* ---------------------------------------------------------------- helpers */

static lh_alert make_alert(const char *event, const char *severity, const char *summary) {
    lh_alert al;
    memset(&al, 0, sizeof(al));
    snprintf(al.event, sizeof(al.event), "%s", event);
    snprintf(al.metric, sizeof(al.metric), "p99_response_time_ms");
    snprintf(al.severity, sizeof(al.severity), "%s", severity);
    al.value = 142.5;
    al.threshold = 100;
    snprintf(al.summary, sizeof(al.summary), "%s", summary);
    snprintf(al.dedup_key, sizeof(al.dedup_key), "sla:p99_response_time_ms:1234");
    al.seq = 1234;
    al.time_ns = 1700000000123456789ull;   /* 2023-11-14T22:13:20.123Z */
    snprintf(al.revision, sizeof(al.revision), "rev-abc123");
    return al;
}

static lh_alerts_config quick_config(void) {
    lh_alerts_config c;
    lh_alerts_config_defaults(&c);
    c.log = 0;
    c.retries = 0;
    c.backoff_ms = 10;
    c.timeout_ms = 2000;
    snprintf(c.source, sizeof(c.source), "bridge-test");
    return c;
}

static json_t *parse(const char *s) {
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fail_msg("not JSON (%s): %s", e.text, s);
    return j;
}

static const char *jget_str(json_t *o, const char *path) {
    json_t *v = json_object_get(o, path);
    if (!json_is_string(v)) fail_msg("%s is not a string", path);
    return json_string_value(v);
}

/* ---------------------------------------------------------------- payload shapes */

static void payload_webhook(void **state) {
    (void)state;
    lh_alerts_config c = quick_config();
    lh_alert al = make_alert("sla.violated", "major", "p99 \"142.5 ms\"\nover <100> & \xff rising");
    al.threshold = NAN;
    char *s = lh_alert_payload(&c, LH_ALERT_SINK_WEBHOOK, &al);
    assert_non_null(s);
    json_t *j = parse(s);
    assert_string_equal(jget_str(j, "type"), "lighthouse.alert");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(jget_str(j, "event"), "sla.violated");
    assert_string_equal(jget_str(j, "severity"), "major");
    assert_string_equal(jget_str(j, "metric"), "p99_response_time_ms");
    assert_true(json_real_value(json_object_get(j, "value")) == 142.5);
    assert_true(json_is_null(json_object_get(j, "threshold")));
    /* escaped properly: the quote and newline survive, the bad byte becomes '?' */
    assert_string_equal(jget_str(j, "summary"), "p99 \"142.5 ms\"\nover <100> & ? rising");
    assert_string_equal(jget_str(j, "dedup_key"), "sla:p99_response_time_ms:1234");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1234);
    assert_string_equal(jget_str(j, "time"), "2023-11-14T22:13:20.123Z");
    assert_string_equal(jget_str(j, "revision"), "rev-abc123");
    assert_string_equal(jget_str(j, "source"), "bridge-test");
    json_decref(j);
    free(s);

    /* no metric, no value: nulls, not "" or 0 */
    al = make_alert("policy.rolled_back", "major", "rolled back");
    al.metric[0] = 0;
    al.value = NAN;
    al.threshold = INFINITY;
    s = lh_alert_payload(&c, LH_ALERT_SINK_WEBHOOK, &al);
    j = parse(s);
    assert_true(json_is_null(json_object_get(j, "metric")));
    assert_true(json_is_null(json_object_get(j, "value")));
    assert_true(json_is_null(json_object_get(j, "threshold")));
    json_decref(j);
    free(s);

    /* the default source is the host name */
    char host[256] = "";
    gethostname(host, sizeof(host));
    c.source[0] = 0;
    s = lh_alert_payload(&c, LH_ALERT_SINK_WEBHOOK, &al);
    j = parse(s);
    assert_string_equal(jget_str(j, "source"), host[0] ? host : "lighthouse");
    json_decref(j);
    free(s);
}

static void payload_pagerduty(void **state) {
    (void)state;
    lh_alerts_config c = quick_config();
    snprintf(c.pagerduty_routing_key, sizeof(c.pagerduty_routing_key), "R0UT1NGKEY0000000000000000000000");
    static const struct { const char *event, *sev, *action, *pdsev; } cases[] = {
        {"sla.violated", "warning", "trigger", "info"},   {"sla.violated", "minor", "trigger", "warning"},
        {"sla.violated", "major", "trigger", "error"},    {"sla.violated", "critical", "trigger", "critical"},
        {"policy.rolled_back", "major", "trigger", "error"}, {"sla.resolved", "major", "resolve", "error"},
        {"sla.violated", "bogus", "trigger", "error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lh_alert al = make_alert(cases[i].event, cases[i].sev, "p99 142.5 ms > 100 ms");
        char *s = lh_alert_payload(&c, LH_ALERT_SINK_PAGERDUTY, &al);
        json_t *j = parse(s);
        assert_string_equal(jget_str(j, "routing_key"), "R0UT1NGKEY0000000000000000000000");
        assert_string_equal(jget_str(j, "event_action"), cases[i].action);
        assert_string_equal(jget_str(j, "dedup_key"), "sla:p99_response_time_ms:1234");
        json_t *p = json_object_get(j, "payload");
        assert_true(json_is_object(p));
        assert_string_equal(jget_str(p, "summary"), "p99 142.5 ms > 100 ms");
        assert_string_equal(jget_str(p, "source"), "bridge-test");
        if (strcmp(jget_str(p, "severity"), cases[i].pdsev) != 0)
            fail_msg("%s %s: severity %s, want %s", cases[i].event, cases[i].sev, jget_str(p, "severity"), cases[i].pdsev);
        assert_string_equal(jget_str(p, "timestamp"), "2023-11-14T22:13:20.123Z");
        json_t *d = json_object_get(p, "custom_details");
        assert_true(json_is_object(d));
        assert_string_equal(jget_str(d, "metric"), "p99_response_time_ms");
        assert_true(json_real_value(json_object_get(d, "threshold")) == 100.0);
        assert_string_equal(jget_str(d, "severity"), cases[i].sev);
        json_decref(j);
        free(s);
    }
    /* an empty summary still gives PagerDuty a non-empty one */
    lh_alert al = make_alert("sla.violated", "major", "");
    char *s = lh_alert_payload(&c, LH_ALERT_SINK_PAGERDUTY, &al);
    json_t *j = parse(s);
    assert_string_equal(jget_str(json_object_get(j, "payload"), "summary"), "SLA violated: p99_response_time_ms");
    json_decref(j);
    free(s);
}

static void payload_slack(void **state) {
    (void)state;
    lh_alerts_config c = quick_config();
    lh_alert al = make_alert("sla.violated", "critical", "p99 <142.5 ms> & rising");
    char *s = lh_alert_payload(&c, LH_ALERT_SINK_SLACK, &al);
    json_t *j = parse(s);
    assert_string_equal(jget_str(j, "text"), "[critical] SLA violated on bridge-test: p99 &lt;142.5 ms&gt; &amp; rising");
    json_t *b = json_object_get(j, "blocks");
    assert_true(json_is_array(b));
    assert_int_equal(json_array_size(b), 4);
    json_t *h = json_array_get(b, 0);
    assert_string_equal(jget_str(h, "type"), "header");
    assert_string_equal(jget_str(json_object_get(h, "text"), "type"), "plain_text");
    assert_string_equal(jget_str(json_object_get(h, "text"), "text"), "SLA violated (critical)");
    json_t *sec = json_array_get(b, 1);
    assert_string_equal(jget_str(sec, "type"), "section");
    assert_string_equal(jget_str(json_object_get(sec, "text"), "type"), "mrkdwn");
    /* mrkdwn control characters are escaped */
    assert_string_equal(jget_str(json_object_get(sec, "text"), "text"), "p99 &lt;142.5 ms&gt; &amp; rising");
    json_t *f = json_object_get(json_array_get(b, 2), "fields");
    assert_true(json_is_array(f));
    assert_true(json_array_size(f) >= 5 && json_array_size(f) <= 10);
    assert_string_equal(jget_str(json_array_get(f, 0), "text"), "*Metric*\np99_response_time_ms");
    assert_string_equal(jget_str(json_array_get(f, 1), "text"), "*Value*\n142.5");
    assert_string_equal(jget_str(json_array_get(f, 2), "text"), "*Threshold*\n100");
    assert_string_equal(jget_str(json_array_get(b, 3), "type"), "context");
    json_decref(j);
    free(s);
}

/* Fields filled to the brim (no NUL, a character cut at the end, every byte a Slack
 * escape) still give valid, complete JSON for every sink. */
static void payload_full_fields(void **state) {
    (void)state;
    lh_alerts_config c = quick_config();
    snprintf(c.pagerduty_routing_key, sizeof(c.pagerduty_routing_key), "k");
    lh_alert al = make_alert("sla.violated", "major", "");
    al.summary[0] = 'x';   /* then "é" to the end: the last one cut after its first byte */
    for (size_t i = 1; i < sizeof(al.summary); i++) al.summary[i] = "\xc3\xa9"[(i - 1) % 2];
    memset(al.revision, '&', sizeof(al.revision));
    memset(al.dedup_key, '<', sizeof(al.dedup_key));
    memset(al.metric, '>', sizeof(al.metric));
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++) {
        char *p = lh_alert_payload(&c, (lh_alert_sink)s, &al);
        if (!p) fail_msg("no payload for %s", lh_alert_sink_name((lh_alert_sink)s));
        json_t *j = parse(p);
        if (s == LH_ALERT_SINK_WEBHOOK) {
            const char *sum = jget_str(j, "summary");
            assert_int_equal(strlen(sum), sizeof(al.summary));   /* x, 255 x "é", '?' for the cut byte */
            assert_int_equal(sum[sizeof(al.summary) - 1], '?');
            assert_int_equal(strlen(jget_str(j, "revision")), sizeof(al.revision));
        }
        if (s == LH_ALERT_SINK_SLACK) {
            json_t *f = json_object_get(json_array_get(json_object_get(j, "blocks"), 2), "fields");
            const char *rev = jget_str(json_array_get(f, 5), "text");
            /* every '&' of the revision escaped, none lost */
            assert_int_equal(strlen(rev), strlen("*Policy revision*\n") + 5 * sizeof(al.revision));
        }
        json_decref(j);
        free(p);
    }
}

/* ---------------------------------------------------------------- delivery */

enum { RX_NONE = -1 };   /* no receiver: the webhook URL names a port nobody listens on */

/* What a delivery test starts; a field left 0 keeps quick_config()'s value (no retries,
 * 10 ms backoff, 2000 ms timeout, the default queue). */
typedef struct fx_opts {
    int mode, fail_first, hang_ms;   /* the receiver, as rx_start takes them, or RX_NONE */
    int retries, backoff_ms, timeout_ms, queue_max;
    int every_sink;   /* Slack at /slack and PagerDuty at /pd too, besides the webhook at /hook */
} fx_opts;

typedef struct fixture {
    receiver *rx;          /* NULL with RX_NONE */
    recorder rc;           /* every outcome reported */
    lh_alerts_config c;    /* as started */
    lh_alerts *a;
} fixture;

/* A loopback port that was free a moment ago and has no listener now. */
static int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Start the receiver and the alerts (quick_config() with o's changes), reporting to f->rc. */
static void fx_start(fixture *f, fx_opts o) {
    f->rx = o.mode == RX_NONE ? NULL : rx_start(o.mode, o.fail_first, o.hang_ms);
    recorder_init(&f->rc);
    f->c = quick_config();
    if (o.retries) f->c.retries = o.retries;
    if (o.backoff_ms) f->c.backoff_ms = o.backoff_ms;
    if (o.timeout_ms) f->c.timeout_ms = o.timeout_ms;
    if (o.queue_max) f->c.queue_max = o.queue_max;
    if (f->rx)
        rx_url(f->rx, "/hook", f->c.webhook_url, sizeof(f->c.webhook_url));
    else
        snprintf(f->c.webhook_url, sizeof(f->c.webhook_url), "http://127.0.0.1:%d/hook", dead_port());
    if (o.every_sink) {
        rx_url(f->rx, "/slack", f->c.slack_url, sizeof(f->c.slack_url));
        rx_url(f->rx, "/pd", f->c.pagerduty_url, sizeof(f->c.pagerduty_url));
        snprintf(f->c.pagerduty_routing_key, sizeof(f->c.pagerduty_routing_key), "R0UT1NGKEY0000000000000000000000");
    }
    char err[256] = "";
    f->a = lh_alerts_start(&f->c, record, &f->rc, err, sizeof(err));
    if (!f->a) fail_msg("start: %s", err);
}

/* Free the alerts: no outcome is reported after this. */
static void fx_free(fixture *f) {
    lh_alerts_free(f->a);
    f->a = NULL;
}

/* Free the alerts (if not yet) and stop the receiver. */
static void fx_finish(fixture *f) {
    fx_free(f);
    if (f->rx) rx_stop(f->rx);
    f->rx = NULL;
}

/* Queue one "sla.violated" alert of severity major; returns it. */
static lh_alert fx_send(fixture *f, const char *summary) {
    lh_alert al = make_alert("sla.violated", "major", summary);
    assert_int_equal(lh_alerts_send(f->a, &al), 0);
    return al;
}

/* Queue one alert and wait (60 s at most: only a hang fails) for its outcome, the only one
 * so far. */
static const outcome *fx_deliver_one(fixture *f) {
    fx_send(f, "x");
    assert_int_equal(wait_outcomes(&f->rc, 1, 60000), 1);
    return &f->rc.r[0];
}

static lh_alerts_stats fx_stats(fixture *f) {
    lh_alerts_stats st;
    lh_alerts_stats_get(f->a, &st);
    return st;
}

/* Every HTTP sink receives, over real HTTP, exactly the body lh_alert_payload gives. */
static void delivery_to_every_sink(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REPLY, .every_sink = 1});
    lh_alert al = fx_send(&f, "p99 142.5 ms > 100 ms");
    assert_int_equal(wait_outcomes(&f.rc, 3, 60000), 3);
    lh_alerts_stop(f.a, 1000);
    for (int i = 0; i < 3; i++) {
        assert_true(f.rc.r[i].ok);
        assert_int_equal(f.rc.r[i].attempts, 1);
        assert_int_equal(f.rc.r[i].http_status, 200);
        assert_string_equal(f.rc.r[i].error, "");
        assert_string_equal(f.rc.r[i].summary, "p99 142.5 ms > 100 ms");
    }
    assert_int_equal(rx_count(f.rx), 3);
    static const struct { const char *path; lh_alert_sink sink; } want[] = {
        {"/hook", LH_ALERT_SINK_WEBHOOK}, {"/slack", LH_ALERT_SINK_SLACK}, {"/pd", LH_ALERT_SINK_PAGERDUTY}};
    for (int w = 0; w < 3; w++) {
        int found = 0;
        for (int i = 0; i < 3; i++) {
            if (strcmp(f.rx->path[i], want[w].path) != 0) continue;
            found++;
            json_t *got = parse(f.rx->body[i]);
            char *exp_s = lh_alert_payload(&f.c, want[w].sink, &al);
            json_t *exp = parse(exp_s);
            if (!json_equal(got, exp)) fail_msg("%s received %s, want %s", want[w].path, f.rx->body[i], exp_s);
            json_decref(got);
            json_decref(exp);
            free(exp_s);
        }
        assert_int_equal(found, 1);
    }
    lh_alerts_stats st = fx_stats(&f);
    assert_int_equal(st.sent[LH_ALERT_SINK_WEBHOOK], 1);
    assert_int_equal(st.sent[LH_ALERT_SINK_SLACK], 1);
    assert_int_equal(st.sent[LH_ALERT_SINK_PAGERDUTY], 1);
    assert_int_equal(st.sent[LH_ALERT_SINK_LOG], 0);
    assert_int_equal(st.queued, 0);
    fx_finish(&f);
}

static void retries_then_success(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REPLY, .fail_first = 2, .retries = 3, .backoff_ms = 20});
    const outcome *o = fx_deliver_one(&f);
    assert_true(o->ok);
    assert_int_equal(o->attempts, 3);
    assert_int_equal(o->http_status, 200);
    /* two backoffs: 20 ms then 40 ms */
    assert_true(o->duration_ns >= 60000000ull);
    assert_int_equal(rx_count(f.rx), 3);
    lh_alerts_stats st = fx_stats(&f);
    assert_int_equal(st.retries[LH_ALERT_SINK_WEBHOOK], 2);
    assert_int_equal(st.sent[LH_ALERT_SINK_WEBHOOK], 1);
    assert_int_equal(st.failed[LH_ALERT_SINK_WEBHOOK], 0);
    fx_free(&f);
    assert_int_equal(f.rc.n, 1);
    fx_finish(&f);
}

static void retries_exhausted(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REPLY, .fail_first = 1000, .retries = 2, .backoff_ms = 5});
    const outcome *o = fx_deliver_one(&f);
    sleep_ms(50);   /* nothing more may come */
    assert_int_equal(f.rc.n, 1);
    assert_false(o->ok);
    assert_int_equal(o->attempts, 3);
    assert_int_equal(o->http_status, 500);
    assert_string_equal(o->error, "HTTP 500: {\"error\":\"boom\"}");
    assert_int_equal(rx_count(f.rx), 3);
    lh_alerts_stats st = fx_stats(&f);
    assert_int_equal(st.failed[LH_ALERT_SINK_WEBHOOK], 1);
    assert_int_equal(st.retries[LH_ALERT_SINK_WEBHOOK], 2);
    fx_free(&f);
    assert_int_equal(f.rc.n, 1);
    fx_finish(&f);
}

/* A closed connection, a refused connection and a timeout are failures with status 0. */
static void transport_errors(void **state) {
    (void)state;
    fixture f;
    /* closed without a reply */
    fx_start(&f, (fx_opts){.mode = RX_CLOSE, .retries = 1, .backoff_ms = 5});
    const outcome *o = fx_deliver_one(&f);
    assert_false(o->ok);
    assert_int_equal(o->attempts, 2);
    assert_int_equal(o->http_status, 0);
    if (!strstr(o->error, "Empty reply")) fail_msg("error: %s", o->error);
    fx_free(&f);
    assert_int_equal(rx_count(f.rx), 2);
    fx_finish(&f);

    /* refused: a port nobody listens on */
    fx_start(&f, (fx_opts){.mode = RX_NONE, .retries = 0, .backoff_ms = 5});
    o = fx_deliver_one(&f);
    assert_false(o->ok);
    assert_int_equal(o->http_status, 0);
    if (!strstr(o->error, "onnect")) fail_msg("error: %s", o->error);
    fx_finish(&f);

    /* a receiver that hangs past timeout_ms: it holds the connection for 60 s (until it is
     * stopped), so "timed out" can only be the 150 ms timeout; the attempt lasts at least
     * that long, and how much longer depends on the machine, so no upper bound */
    fx_start(&f, (fx_opts){.mode = RX_HANG, .hang_ms = 60000, .retries = 0, .backoff_ms = 5, .timeout_ms = 150});
    o = fx_deliver_one(&f);
    assert_false(o->ok);
    assert_int_equal(o->attempts, 1);
    if (!strstr(o->error, "timed out")) fail_msg("error: %s", o->error);
    uint64_t ms = o->duration_ns / 1000000u;
    if (ms < 140) fail_msg("the attempt took %llu ms with a 150 ms timeout", (unsigned long long)ms);
    fx_finish(&f);
}

/* A redirect is not followed (it could lead anywhere, a non-http scheme included): it is
 * a failed attempt like any non-2xx reply. */
static void redirect_not_followed(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REDIRECT, .retries = 1, .backoff_ms = 5});
    const outcome *o = fx_deliver_one(&f);
    fx_free(&f);
    assert_false(o->ok);
    assert_int_equal(o->http_status, 302);
    assert_int_equal(o->attempts, 2);
    assert_string_equal(o->error, "HTTP 302");
    assert_int_equal(rx_count(f.rx), 2);
    for (int i = 0; i < 2; i++) assert_string_equal(f.rx->path[i], "/hook");
    fx_finish(&f);
}

/* Per sink, alerts go out in the order sent, even when the first needs a retry (a
 * resolve must never overtake its trigger); stop with time to spare delivers them all. */
static void order_kept_and_stop_drains(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REPLY, .fail_first = 1, .retries = 2, .backoff_ms = 10});
    const char *names[] = {"first", "second", "third", "fourth"};
    for (int i = 0; i < 4; i++) {
        lh_alert al = make_alert(i == 3 ? "sla.resolved" : "sla.violated", "major", names[i]);
        assert_int_equal(lh_alerts_send(f.a, &al), 0);
    }
    lh_alerts_stop(f.a, 3000);   /* at once: stop must deliver what is queued */
    assert_int_equal(f.rc.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(f.rc.r[i].ok);
        assert_string_equal(f.rc.r[i].summary, names[i]);
    }
    assert_int_equal(f.rc.r[0].attempts, 2);
    assert_int_equal(rx_count(f.rx), 5);
    const char *order[] = {"first", "first", "second", "third", "fourth"};
    for (int i = 0; i < 5; i++) {
        json_t *j = parse(f.rx->body[i]);
        assert_string_equal(jget_str(j, "summary"), order[i]);
        json_decref(j);
    }
    lh_alert al = make_alert("sla.violated", "major", "late");
    assert_int_equal(lh_alerts_send(f.a, &al), -1);   /* stopped */
    fx_finish(&f);
}

/* A full queue drops and counts without blocking; stop gives up at its deadline while
 * the receiver hangs, and reports every alert it could not deliver. */
static void queue_full_and_stop_deadline(void **state) {
    (void)state;
    fixture f;
    /* The receiver holds each connection for 120 s and the timeout is 60 s: an attempt ends
     * only when stop cuts it. */
    fx_start(&f, (fx_opts){.mode = RX_HANG, .hang_ms = 120000, .queue_max = 2, .timeout_ms = 60000});
    lh_alert al = make_alert("sla.violated", "major", "one");
    assert_int_equal(lh_alerts_send(f.a, &al), 0);
    assert_int_equal(lh_alerts_send(f.a, &al), 0);
    assert_int_equal(lh_alerts_send(f.a, &al), -1);
    assert_int_equal(lh_alerts_send(f.a, &al), -1);
    /* never waits for the network: no attempt can have ended yet, so a send that had
     * waited for one would have seen its outcome reported first */
    assert_int_equal(f.rc.n, 0);
    lh_alerts_stats st = fx_stats(&f);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.queued, 2);
    /* let the first attempt reach the hanging receiver */
    for (int i = 0; i < 12000 && rx_count(f.rx) < 1; i++) sleep_ms(5);
    assert_int_equal(rx_count(f.rx), 1);

    /* stop waits for its 200 ms deadline (at least), then gives up: under 30 s, half the
     * request timeout, a hang guard rather than a bound on speed */
    uint64_t t0 = now_ms();
    lh_alerts_stop(f.a, 200);
    uint64_t took = now_ms() - t0;
    if (took < 150 || took > 30000) fail_msg("stop(200 ms) took %llu ms", (unsigned long long)took);
    assert_int_equal(f.rc.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_false(f.rc.r[i].ok);
        if (!strstr(f.rc.r[i].error, "stopped at the deadline")) fail_msg("error: %s", f.rc.r[i].error);
    }
    assert_int_equal(f.rc.r[0].attempts, 1);
    assert_int_equal(f.rc.r[1].attempts, 0);
    assert_int_equal(lh_alerts_send(f.a, &al), -1);
    st = fx_stats(&f);
    assert_int_equal(st.dropped, 3);
    assert_int_equal(st.failed[LH_ALERT_SINK_WEBHOOK], 2);
    assert_int_equal(st.queued, 0);
    fx_finish(&f);
}

/* Stop does not wait out a long backoff. */
static void stop_cuts_backoff(void **state) {
    (void)state;
    fixture f;
    fx_start(&f, (fx_opts){.mode = RX_REPLY, .fail_first = 1000, .retries = 3, .backoff_ms = 60000});
    fx_send(&f, "x");
    for (int i = 0; i < 12000 && rx_count(f.rx) < 1; i++) sleep_ms(5);
    sleep_ms(20);   /* the reply is read; the thread is in its 60 s backoff */
    /* stop(2000) must not wait out the backoff: it returns long before 60 s (30 s is a hang
     * guard, not a bound on speed), with one attempt made, not a retry */
    uint64_t t0 = now_ms();
    lh_alerts_stop(f.a, 2000);
    uint64_t took = now_ms() - t0;
    if (took > 30000) fail_msg("stop(2000 ms) during a 60 s backoff took %llu ms", (unsigned long long)took);
    assert_int_equal(f.rc.n, 1);
    assert_false(f.rc.r[0].ok);
    assert_int_equal(f.rc.r[0].attempts, 1);
    assert_int_equal(f.rc.r[0].http_status, 500);
    if (!strstr(f.rc.r[0].error, "HTTP 500")) fail_msg("error: %s", f.rc.r[0].error);
    fx_finish(&f);
}

/* ---------------------------------------------------------------- config and log */

static void expect_refusal(const lh_alerts_config *c, const char *want_prefix) {
    char err[512] = "";
    lh_alerts *a = lh_alerts_start(c, NULL, NULL, err, sizeof(err));
    if (a) { lh_alerts_free(a); fail_msg("started; want refusal \"%s\"", want_prefix); }
    if (strncmp(err, want_prefix, strlen(want_prefix)) != 0) fail_msg("error \"%s\", want \"%s\"", err, want_prefix);
}

static void bad_configs(void **state) {
    (void)state;
    lh_alerts_config c;
    lh_alerts_config_defaults(&c);
    assert_int_equal(c.log, 1);
    assert_int_equal(c.queue_max, 256);
    assert_int_equal(c.retries, 3);
    assert_int_equal(c.backoff_ms, 500);
    assert_int_equal(c.timeout_ms, 5000);
    char err[256];
    lh_alerts *a = lh_alerts_start(&c, NULL, NULL, err, sizeof(err));   /* the defaults start */
    assert_non_null(a);
    lh_alerts_free(a);

    lh_alerts_config b = c;
    snprintf(b.webhook_url, sizeof(b.webhook_url), "ftp://x");
    expect_refusal(&b, "alert_webhook_url must start with http:// or https:// (got \"ftp://x\")");
    b = c;
    snprintf(b.slack_url, sizeof(b.slack_url), "hooks.slack.com/services/T/B/X");
    expect_refusal(&b, "alert_slack_url must start with http:// or https:// (got \"hooks.slack.com/services/T/B/X\")");
    b = c;
    snprintf(b.pagerduty_url, sizeof(b.pagerduty_url), "file:///etc/passwd");
    snprintf(b.pagerduty_routing_key, sizeof(b.pagerduty_routing_key), "k");
    expect_refusal(&b, "alert_pagerduty_url must start with http:// or https://");
    b = c;
    snprintf(b.webhook_url, sizeof(b.webhook_url), "http://");
    expect_refusal(&b, "alert_webhook_url is not a valid URL");
    b = c;
    snprintf(b.webhook_url, sizeof(b.webhook_url), "http://example.com/a b");
    expect_refusal(&b, "alert_webhook_url must not contain spaces");
    b = c;
    memset(b.webhook_url, 'a', sizeof(b.webhook_url));
    expect_refusal(&b, "alert_webhook_url is longer than 1023 bytes");
    b = c;
    snprintf(b.pagerduty_url, sizeof(b.pagerduty_url), "https://events.pagerduty.com/v2/enqueue");
    expect_refusal(&b, "alert_pagerduty_routing_key is required when alert_pagerduty_url is set");
    b = c;
    snprintf(b.pagerduty_routing_key, sizeof(b.pagerduty_routing_key), "R0UT1NG");
    expect_refusal(&b, "alert_pagerduty_url is required when alert_pagerduty_routing_key is set");
    b = c;
    b.queue_max = 0;
    expect_refusal(&b, "alert_queue must be between 1 and 65536 (got 0)");
    b = c;
    b.retries = 11;
    expect_refusal(&b, "alert_retries must be between 0 and 10 (got 11)");
    b = c;
    b.backoff_ms = 0;
    expect_refusal(&b, "alert_backoff_ms must be between 1 and 60000 (got 0)");
    b = c;
    b.timeout_ms = 10;
    expect_refusal(&b, "alert_timeout_ms must be between 50 and 120000 (got 10)");
    b = c;
    b.log = 2;
    expect_refusal(&b, "alert_log must be 0 or 1 (got 2)");

    /* https is accepted, with a routing key PagerDuty is accepted */
    b = c;
    snprintf(b.slack_url, sizeof(b.slack_url), "https://hooks.slack.com/services/T/B/X");
    snprintf(b.pagerduty_url, sizeof(b.pagerduty_url), "https://events.pagerduty.com/v2/enqueue");
    snprintf(b.pagerduty_routing_key, sizeof(b.pagerduty_routing_key), "R0UT1NG");
    a = lh_alerts_start(&b, NULL, NULL, err, sizeof(err));
    if (!a) fail_msg("refused: %s", err);
    lh_alerts_free(a);   /* nothing queued: no network */
}

/* The log sink writes one JSON line on stderr and reports it like any sink. */
static void log_sink_line(void **state) {
    (void)state;
    char path[] = "/tmp/lh-alert-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);

    recorder rc;
    recorder_init(&rc);
    lh_alerts_config c = quick_config();
    c.log = 1;
    char err[256];
    lh_alerts *a = lh_alerts_start(&c, record, &rc, err, sizeof(err));
    lh_alert al = make_alert("sla.violated", "critical", "availability 98.1% < 99.9%\n\"now\"");
    al.threshold = NAN;
    al.time_ns = 0;   /* lh_alerts_send stamps it */
    struct timespec before;
    clock_gettime(CLOCK_REALTIME, &before);
    int sent = a ? lh_alerts_send(a, &al) : -2;
    if (a) lh_alerts_stop(a, 1000);

    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_non_null(a);
    assert_int_equal(sent, 0);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    assert_true(n > 0);
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_true(nl == buf + n - 1);   /* exactly one line */
    *nl = 0;
    json_t *j = parse(buf);
    assert_string_equal(jget_str(j, "level"), "error");
    assert_string_equal(jget_str(j, "msg"), "alert");
    assert_string_equal(jget_str(j, "event"), "sla.violated");
    assert_string_equal(jget_str(j, "severity"), "critical");
    assert_string_equal(jget_str(j, "summary"), "availability 98.1% < 99.9%\n\"now\"");
    assert_true(json_is_null(json_object_get(j, "threshold")));
    assert_string_equal(jget_str(j, "source"), "bridge-test");
    assert_int_equal(strlen(jget_str(j, "ts")), 24);   /* 2023-11-14T22:13:20.123Z */
    uint64_t stamped = (uint64_t)json_integer_value(json_object_get(j, "time_ns"));
    uint64_t before_ns = (uint64_t)before.tv_sec * 1000000000ull + (uint64_t)before.tv_nsec;
    assert_true(stamped >= before_ns && stamped < before_ns + 5000000000ull);
    json_decref(j);

    assert_int_equal(rc.n, 1);
    assert_int_equal(rc.r[0].sink, LH_ALERT_SINK_LOG);
    assert_true(rc.r[0].ok);
    assert_int_equal(rc.r[0].attempts, 1);
    assert_int_equal(rc.r[0].http_status, 0);
    assert_string_equal(rc.r[0].error, "");
    lh_alerts_stats st;
    lh_alerts_stats_get(a, &st);
    assert_int_equal(st.sent[LH_ALERT_SINK_LOG], 1);
    lh_alerts_free(a);
    assert_string_equal(lh_alert_sink_name(LH_ALERT_SINK_PAGERDUTY), "pagerduty");
    assert_string_equal(lh_alert_sink_name(LH_ALERT_SINK_LOG), "log");
}

/* ---------------------------------------------------------------- docs */

/* The JSON block after "<!-- lh_alert_payload: NAME -->" in docs/alerts.md, parsed. */
static json_t *doc_example(const char *doc, const char *name) {
    char marker[96];
    snprintf(marker, sizeof(marker), "<!-- lh_alert_payload: %s -->\n```json\n", name);
    const char *p = strstr(doc, marker);
    if (!p) fail_msg("docs/alerts.md has no example \"%s\"", name);
    p += strlen(marker);
    const char *end = strstr(p, "\n```");
    if (!end) fail_msg("example \"%s\" does not end", name);
    json_error_t e;
    json_t *j = json_loadb(p, (size_t)(end - p), 0, &e);
    if (!j) fail_msg("example \"%s\" is not JSON: %s (line %d)", name, e.text, e.line);
    return j;
}

/* The example payloads in docs/alerts.md are what the code sends for the same alert. */
static void docs_examples_are_true(void **state) {
    (void)state;
    const char *root = getenv("LH_ROOT");
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/docs/alerts.md", root && *root ? root : ".");
    size_t len;
    char *doc = lh_read_file(path, 1 << 20, &len, err, sizeof(err));
    if (!doc) fail_msg("%s", err);

    lh_alerts_config c;
    lh_alerts_config_defaults(&c);
    snprintf(c.source, sizeof(c.source), "bridge-1.example.com");
    snprintf(c.pagerduty_routing_key, sizeof(c.pagerduty_routing_key), "0123456789abcdef0123456789abcdef");
    lh_alert al = make_alert("sla.violated", "major", "p99 response time 142.5 ms > 100 ms for 30 s");
    snprintf(al.dedup_key, sizeof(al.dedup_key), "sla:p99_response_time_ms:8812");
    al.seq = 8812;
    al.time_ns = 1795772625250000000ull;
    snprintf(al.revision, sizeof(al.revision), "r42-9f1c2ab");
    lh_alert resolved = al;
    snprintf(resolved.event, sizeof(resolved.event), "sla.resolved");
    resolved.metric[0] = 0;
    resolved.value = resolved.threshold = NAN;

    static const struct { const char *name; lh_alert_sink sink; int resolve; } ex[] = {
        {"log", LH_ALERT_SINK_LOG, 0},           {"webhook", LH_ALERT_SINK_WEBHOOK, 0},
        {"slack", LH_ALERT_SINK_SLACK, 0},       {"pagerduty", LH_ALERT_SINK_PAGERDUTY, 0},
        {"pagerduty-resolve", LH_ALERT_SINK_PAGERDUTY, 1},
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        json_t *want = doc_example(doc, ex[i].name);
        char *s = lh_alert_payload(&c, ex[i].sink, ex[i].resolve ? &resolved : &al);
        json_t *got = parse(s);
        if (ex[i].sink == LH_ALERT_SINK_LOG) {   /* when the line was written */
            assert_true(json_is_string(json_object_get(want, "ts")));
            json_object_del(want, "ts");
            json_object_del(got, "ts");
        }
        if (!json_equal(want, got)) fail_msg("docs/alerts.md example \"%s\" differs from the code's %s", ex[i].name, s);
        json_decref(want);
        json_decref(got);
        free(s);
    }
    free(doc);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);   /* as `lighthouse serve` does; the receiver may write to a closed socket */
    /* the receiver is on loopback: a proxy from the environment must not come between */
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++) unsetenv(proxies[i]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(payload_webhook),
        cmocka_unit_test(payload_pagerduty),
        cmocka_unit_test(payload_slack),
        cmocka_unit_test(payload_full_fields),
        cmocka_unit_test(delivery_to_every_sink),
        cmocka_unit_test(retries_then_success),
        cmocka_unit_test(retries_exhausted),
        cmocka_unit_test(transport_errors),
        cmocka_unit_test(redirect_not_followed),
        cmocka_unit_test(order_kept_and_stop_drains),
        cmocka_unit_test(queue_full_and_stop_deadline),
        cmocka_unit_test(stop_cuts_backoff),
        cmocka_unit_test(bad_configs),
        cmocka_unit_test(log_sink_line),
        cmocka_unit_test(docs_examples_are_true),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* alert.c — alert delivery: payloads for each sink, a bounded queue and one delivery
 * thread (see alert.h and docs/alerts.md).
 *
 * The queue is a ring of alert copies addressed by absolute index: [head, tail). Each
 * sink walks the ring with its own cursor, so a sink that is retrying (backing off) holds
 * back only itself: the others go on delivering. Within one sink the order is kept, so a
 * PagerDuty "resolve" can never overtake the "trigger" it resolves. An alert leaves the
 * queue when every configured sink is past it.
 *
 * The thread drives each HTTP attempt through a curl multi handle, so lh_alerts_stop can
 * wake it (curl_multi_wakeup) in the middle of a transfer or a backoff and it gives up at
 * the deadline instead of waiting out a timeout. Every (alert, sink) pair ends in exactly
 * one call of the record callback: delivered, failed after its retries, or abandoned at
 * the stop deadline. */
#include "bridge/alert.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/utf8.h"
#include "util/cond.h"

/* ---------------------------------------------------------------- bounds */

#define QUEUE_MIN      1
#define QUEUE_MAX      65536
#define RETRIES_MAX    10
#define BACKOFF_MIN_MS 1
#define BACKOFF_MAX_MS 60000
#define DELAY_CAP_MS   60000     /* one backoff delay never exceeds this, however doubled */
#define TIMEOUT_MIN_MS 50
#define TIMEOUT_MAX_MS 120000
#define REPLY_KEEP     160       /* bytes of a non-2xx reply kept for the error message */
#define POLL_SLICE_MS  1000      /* longest curl_multi_poll; stop wakes it sooner */
#define PD_SUMMARY_MAX 1024      /* PagerDuty Events v2: payload.summary */
#define SLACK_HEADER_MAX 150     /* Slack Block Kit: header text */

/* ---------------------------------------------------------------- state */

typedef struct sink_state {
    int on;
    CURL *easy;                  /* NULL for the log sink */
    struct curl_slist *headers;
    uint64_t cursor;             /* absolute index of the next alert for this sink */
    int attempts;                /* made on the alert at cursor */
    uint64_t due_ns;             /* monotonic time of its next attempt */
    uint64_t first_ns;           /* monotonic time of its first attempt */
    long status;                 /* last HTTP status, 0 for none */
    int aborted;                 /* the last attempt was cut short by the stop deadline */
    char err[320];               /* why the last attempt failed */
    char reply[REPLY_KEEP + 1];  /* the start of the last reply body */
    size_t reply_len;
} sink_state;

struct lh_alerts {
    lh_alerts_config cfg;        /* validated; source filled in */
    lh_alert_record_fn rec;
    void *ctx;

    pthread_mutex_t mu;          /* guards everything below except the curl handles */
    pthread_cond_t cv;
    pthread_t thread;
    pthread_mutex_t join_mu;     /* one lh_alerts_stop joins the thread; others wait here */
    int joined;                  /* under join_mu */
    lh_alert *ring;
    uint64_t head, tail;
    unsigned cap;
    int stopping;
    uint64_t deadline_ns;
    lh_alerts_stats st;
    sink_state sink[LH_ALERT_SINK_COUNT];

    CURLM *multi;                /* used by the delivery thread only; wakeup from stop */
};

static const char *const SINK_NAMES[LH_ALERT_SINK_COUNT] = {"log", "webhook", "slack", "pagerduty"};

const char *lh_alert_sink_name(lh_alert_sink s) {
    return (unsigned)s < LH_ALERT_SINK_COUNT ? SINK_NAMES[s] : "unknown";
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- config */

void lh_alerts_config_defaults(lh_alerts_config *c) {
    memset(c, 0, sizeof(*c));
    c->log = 1;
    c->queue_max = 256;
    c->retries = 3;
    c->backoff_ms = 500;
    c->timeout_ms = 5000;
}

/* The source named in payloads: the configured one, else the host name. */
static void effective_source(const lh_alerts_config *c, char *out, size_t cap) {
    if (c && c->source[0]) {
        snprintf(out, cap, "%.*s", (int)strnlen(c->source, sizeof(c->source)), c->source);
        return;
    }
    char host[256];
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = 0;
        if (host[0]) { snprintf(out, cap, "%s", host); return; }
    }
    snprintf(out, cap, "lighthouse");
}

static int check_url(const char *setting, const char *url, size_t cap, char *err, size_t errlen) {
    size_t n = strnlen(url, cap);
    if (n == cap) {
        snprintf(err, errlen, "%s is longer than %zu bytes", setting, cap - 1);
        return -1;
    }
    if (n == 0) return 0;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "%s must start with http:// or https:// (got \"%.80s\")", setting, url);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            snprintf(err, errlen, "%s must not contain spaces or control characters", setting);
            return -1;
        }
    /* curl's own parser decides what curl will accept; a URL it cannot parse fails here,
     * at start, not at the first alert. */
    CURLU *u = curl_url();
    if (!u) { snprintf(err, errlen, "out of memory"); return -1; }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    char *host = NULL;
    if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    int bad = uc != CURLUE_OK || !host || !host[0];
    if (bad)
        snprintf(err, errlen, "%s is not a valid URL (%s)", setting,
                 uc != CURLUE_OK ? curl_url_strerror(uc) : "no host");
    curl_free(host);
    curl_url_cleanup(u);
    return bad ? -1 : 0;
}

static int check_range(const char *setting, int v, int lo, int hi, char *err, size_t errlen) {
    if (v >= lo && v <= hi) return 0;
    snprintf(err, errlen, "%s must be between %d and %d (got %d)", setting, lo, hi, v);
    return -1;
}

static int check_config(const lh_alerts_config *c, char *err, size_t errlen) {
    if (check_url("alert_webhook_url", c->webhook_url, sizeof(c->webhook_url), err, errlen) ||
        check_url("alert_slack_url", c->slack_url, sizeof(c->slack_url), err, errlen) ||
        check_url("alert_pagerduty_url", c->pagerduty_url, sizeof(c->pagerduty_url), err, errlen))
        return -1;
    size_t keylen = strnlen(c->pagerduty_routing_key, sizeof(c->pagerduty_routing_key));
    if (keylen == sizeof(c->pagerduty_routing_key)) {
        snprintf(err, errlen, "alert_pagerduty_routing_key is longer than %zu bytes",
                 sizeof(c->pagerduty_routing_key) - 1);
        return -1;
    }
    for (size_t i = 0; i < keylen; i++)
        if ((unsigned char)c->pagerduty_routing_key[i] <= ' ' || (unsigned char)c->pagerduty_routing_key[i] >= 0x7f) {
            snprintf(err, errlen, "alert_pagerduty_routing_key must be printable ASCII without spaces");
            return -1;
        }
    if (c->pagerduty_url[0] && keylen == 0) {
        snprintf(err, errlen, "alert_pagerduty_routing_key is required when alert_pagerduty_url is set");
        return -1;
    }
    if (!c->pagerduty_url[0] && keylen > 0) {
        snprintf(err, errlen, "alert_pagerduty_url is required when alert_pagerduty_routing_key is set "
                              "(normally https://events.pagerduty.com/v2/enqueue)");
        return -1;
    }
    if (c->log != 0 && c->log != 1) {
        snprintf(err, errlen, "alert_log must be 0 or 1 (got %d)", c->log);
        return -1;
    }
    if (strnlen(c->source, sizeof(c->source)) == sizeof(c->source)) {
        snprintf(err, errlen, "the alert source is longer than %zu bytes", sizeof(c->source) - 1);
        return -1;
    }
    return check_range("alert_queue", c->queue_max, QUEUE_MIN, QUEUE_MAX, err, errlen) ||
           check_range("alert_retries", c->retries, 0, RETRIES_MAX, err, errlen) ||
           check_range("alert_backoff_ms", c->backoff_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS, err, errlen) ||
           check_range("alert_timeout_ms", c->timeout_ms, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, err, errlen)
               ? -1 : 0;
}

/* ---------------------------------------------------------------- payloads */

/* A JSON string from a fixed-size field that may lack its NUL or hold bad UTF-8 (a
 * summary cut mid-character): each invalid byte becomes '?', so jansson never refuses. */
static json_t *jstr_field(const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    char buf[1024 + 1];
    if (n > sizeof(buf) - 1) n = sizeof(buf) - 1;
    memcpy(buf, s, n);
    size_t off = 0;
    while (off < n) {
        off += lh_utf8_prefix(buf + off, n - off);
        if (off < n) buf[off++] = '?';
    }
    return json_stringn(buf, n);
}
#define JSTR(field) jstr_field((field), sizeof(field))

/* A number, or null when it is NaN or infinite (JSON has neither). */
static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* Copy at most max bytes of s (valid UTF-8) without cutting a character in two. */
static void utf8_cut(char *s, size_t max) {
    size_t n = strlen(s);
    if (n <= max) return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    s[max] = 0;
}

static void iso8601(uint64_t time_ns, char *out, size_t cap) {
    if (time_ns == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    time_t sec = (time_t)(time_ns / 1000000000ull);
    unsigned ms = (unsigned)(time_ns / 1000000ull % 1000ull);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03uZ", base, ms);
}

/* A sanitized copy of a field, as a C string (for text we compose ourselves). */
static void field_text(const char *s, size_t cap, char *out, size_t outcap) {
    json_t *j = jstr_field(s, cap);
    snprintf(out, outcap, "%s", j ? json_string_value(j) : "");
    json_decref(j);
}
#define FIELD_TEXT(field, out) field_text((field), sizeof(field), (out), sizeof(out))

static const char *title_of(const char *event) {
    if (strcmp(event, "sla.violated") == 0) return "SLA violated";
    if (strcmp(event, "sla.resolved") == 0) return "SLA resolved";
    if (strcmp(event, "policy.rolled_back") == 0) return "Policy rolled back";
    return event;
}

/* Our four severities onto PagerDuty's four, in order (reference/workloads.md:
 * warning < minor < major < critical; PagerDuty: info < warning < error < critical). An
 * unknown severity is sent as "error" so a page is never lost to a typo. */
static const char *pd_severity(const char *sev) {
    if (strcmp(sev, "warning") == 0) return "info";
    if (strcmp(sev, "minor") == 0) return "warning";
    if (strcmp(sev, "major") == 0) return "error";
    if (strcmp(sev, "critical") == 0) return "critical";
    return "error";
}

/* The log level of an alert line: a resolution is news, a violation a problem. */
static const char *log_level(const char *event, const char *sev) {
    if (strcmp(event, "sla.resolved") == 0) return "info";
    if (strcmp(sev, "major") == 0 || strcmp(sev, "critical") == 0) return "error";
    return "warn";
}

static void fmt_num(double v, char *out, size_t cap) {
    if (isfinite(v)) snprintf(out, cap, "%.6g", v);
    else snprintf(out, cap, "n/a");
}

/* The fields every alert carries, added to obj (the webhook body, the log line, the
 * PagerDuty custom_details). */
static int add_alert_fields(json_t *o, const lh_alert *al, const char *source) {
    char iso[40];
    iso8601(al->time_ns, iso, sizeof(iso));
    int rc = 0;
    rc |= json_object_set_new(o, "event", JSTR(al->event));
    rc |= json_object_set_new(o, "severity", JSTR(al->severity));
    rc |= json_object_set_new(o, "metric", al->metric[0] ? JSTR(al->metric) : json_null());
    rc |= json_object_set_new(o, "value", jnum(al->value));
    rc |= json_object_set_new(o, "threshold", jnum(al->threshold));
    rc |= json_object_set_new(o, "summary", JSTR(al->summary));
    rc |= json_object_set_new(o, "dedup_key", JSTR(al->dedup_key));
    rc |= json_object_set_new(o, "seq", json_integer(al->seq));
    rc |= json_object_set_new(o, "time", json_string(iso));
    rc |= json_object_set_new(o, "time_ns", json_integer((json_int_t)al->time_ns));
    rc |= json_object_set_new(o, "revision", al->revision[0] ? JSTR(al->revision) : json_null());
    rc |= json_object_set_new(o, "source", json_string(source));
    return rc;
}

static json_t *webhook_body(const lh_alert *al, const char *source) {
    json_t *o = json_object();
    if (!o) return NULL;
    int rc = json_object_set_new(o, "type", json_string("lighthouse.alert"));
    rc |= json_object_set_new(o, "version", json_integer(1));
    rc |= add_alert_fields(o, al, source);
    if (rc) { json_decref(o); return NULL; }
    return o;
}

static json_t *log_line(const lh_alert *al, const char *source) {
    char iso[40];
    iso8601(0, iso, sizeof(iso));
    json_t *o = json_object();
    if (!o) return NULL;
    int rc = json_object_set_new(o, "ts", json_string(iso));
    rc |= json_object_set_new(o, "level", json_string(log_level(al->event, al->severity)));
    rc |= json_object_set_new(o, "msg", json_string("alert"));
    rc |= add_alert_fields(o, al, source);
    if (rc) { json_decref(o); return NULL; }
    return o;
}

/* Slack mrkdwn treats &, < and > as control characters; they must be escaped. */
static void slack_escape(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (; *in; in++) {
        /* stop only before a character that may not fit (4 bytes, or a 5-byte escape) */
        if (((unsigned char)*in & 0xC0) != 0x80 && o + 6 > cap) break;
        const char *rep = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" : NULL;
        if (rep) { size_t r = strlen(rep); memcpy(out + o, rep, r); o += r; }
        else out[o++] = *in;
    }
    out[o] = 0;
}

static json_t *mrkdwn(const char *text) { return json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text); }

/* A sanitized field, escaped for mrkdwn. */
static void slack_field(const char *s, size_t cap, char *out, size_t outcap) {
    char plain[600];
    field_text(s, cap, plain, sizeof(plain));
    slack_escape(plain, out, outcap);
}
#define SLACK_FIELD(field, out) slack_field((field), sizeof(field), (out), sizeof(out))

/* Every text in a Slack payload is mrkdwn (the fallback "text" too) and so escaped,
 * except the header, which is plain_text. */
static json_t *slack_body(const lh_alert *al, const char *source) {
    /* room for every byte of a full field to become a 5-byte "&amp;" */
#define ESCAPED(n) (5 * (n) + 8)
    char summary[ESCAPED(sizeof(al->summary))], metric[ESCAPED(sizeof(al->metric))];
    char sev[ESCAPED(sizeof(al->severity))], rev[ESCAPED(sizeof(al->revision))];
    char dedup[ESCAPED(sizeof(al->dedup_key))], src[ESCAPED(256)], ev[ESCAPED(sizeof(al->event))];
    char ev_raw[48], sev_raw[32];
    char value[32], threshold[32], iso[40], buf[8192];
    SLACK_FIELD(al->summary, summary);
    SLACK_FIELD(al->metric, metric);
    SLACK_FIELD(al->severity, sev);
    SLACK_FIELD(al->revision, rev);
    SLACK_FIELD(al->dedup_key, dedup);
    SLACK_FIELD(al->event, ev);
    FIELD_TEXT(al->event, ev_raw);
    FIELD_TEXT(al->severity, sev_raw);
    slack_escape(source, src, sizeof(src));
    fmt_num(al->value, value, sizeof(value));
    fmt_num(al->threshold, threshold, sizeof(threshold));
    iso8601(al->time_ns, iso, sizeof(iso));

    json_t *o = json_object(), *blocks = json_array(), *fields = json_array();
    if (!o || !blocks || !fields) goto oom;
    /* text: the notification fallback, also shown where blocks are not */
    snprintf(buf, sizeof(buf), "[%s] %s on %s: %s", sev, title_of(ev), src, summary);
    if (json_object_set_new(o, "text", json_string(buf))) goto oom;

    char header[SLACK_HEADER_MAX * 4 + 1];
    snprintf(header, sizeof(header), "%s (%s)", title_of(ev_raw), sev_raw);
    utf8_cut(header, SLACK_HEADER_MAX);   /* bytes <= 150, so characters <= 150 */
    json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "header", "text", "type",
                                            "plain_text", "text", header));
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text",
                                            mrkdwn(summary[0] ? summary : "(no summary)")));
    if (metric[0]) {
        snprintf(buf, sizeof(buf), "*Metric*\n%s", metric);
        json_array_append_new(fields, mrkdwn(buf));
        snprintf(buf, sizeof(buf), "*Value*\n%s", value);
        json_array_append_new(fields, mrkdwn(buf));
        snprintf(buf, sizeof(buf), "*Threshold*\n%s", threshold);
        json_array_append_new(fields, mrkdwn(buf));
    }
    snprintf(buf, sizeof(buf), "*Severity*\n%s", sev);
    json_array_append_new(fields, mrkdwn(buf));
    snprintf(buf, sizeof(buf), "*Source*\n%s", src);
    json_array_append_new(fields, mrkdwn(buf));
    if (rev[0]) {
        snprintf(buf, sizeof(buf), "*Policy revision*\n%s", rev);
        json_array_append_new(fields, mrkdwn(buf));
    }
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    fields = NULL;
    snprintf(buf, sizeof(buf), "%s · event %lld · %s · dedup %s", ev, (long long)al->seq, iso, dedup);
    json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements", mrkdwn(buf)));
    if (json_array_size(blocks) != 4) goto oom;
    if (json_object_set_new(o, "blocks", blocks)) { blocks = NULL; goto oom; }
    return o;
oom:
    json_decref(o);
    json_decref(blocks);
    json_decref(fields);
    return NULL;
}

static json_t *pagerduty_body(const lh_alerts_config *c, const lh_alert *al, const char *source) {
    char summary[PD_SUMMARY_MAX + 1], ev[48], metric[64], iso[40], key[160];
    FIELD_TEXT(al->summary, summary);
    FIELD_TEXT(al->event, ev);
    FIELD_TEXT(al->metric, metric);
    if (!summary[0]) snprintf(summary, sizeof(summary), "%s%s%s", title_of(ev), metric[0] ? ": " : "", metric);
    utf8_cut(summary, PD_SUMMARY_MAX);
    iso8601(al->time_ns, iso, sizeof(iso));
    key[0] = 0;
    if (c) snprintf(key, sizeof(key), "%.*s", (int)strnlen(c->pagerduty_routing_key, sizeof(c->pagerduty_routing_key)),
                    c->pagerduty_routing_key);

    json_t *details = json_object();
    if (!details || add_alert_fields(details, al, source)) { json_decref(details); return NULL; }
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "summary", summary, "source", source,
                                "severity", pd_severity(al->severity), "timestamp", iso, "component",
                                "lighthouse", "class", ev, "custom_details", details);
    if (!payload) return NULL;
    json_t *o = json_pack("{s:s, s:s}", "routing_key", key, "event_action",
                          strcmp(ev, "sla.resolved") == 0 ? "resolve" : "trigger");
    if (!o) { json_decref(payload); return NULL; }
    /* Without a dedup_key PagerDuty makes one up; a resolve would then match nothing. */
    int rc = al->dedup_key[0] ? json_object_set_new(o, "dedup_key", JSTR(al->dedup_key)) : 0;
    rc |= json_object_set_new(o, "client", json_string("Lighthouse"));
    rc |= json_object_set_new(o, "payload", payload);
    if (rc) { json_decref(o); return NULL; }
    return o;
}

char *lh_alert_payload(const lh_alerts_config *c, lh_alert_sink s, const lh_alert *al) {
    char source[256];
    effective_source(c, source, sizeof(source));
    json_t *src = jstr_field(source, sizeof(source));   /* the host name may be anything */
    if (!src) return NULL;
    snprintf(source, sizeof(source), "%s", json_string_value(src));
    json_decref(src);

    json_t *o = NULL;
    switch (s) {
    case LH_ALERT_SINK_LOG: o = log_line(al, source); break;
    case LH_ALERT_SINK_WEBHOOK: o = webhook_body(al, source); break;
    case LH_ALERT_SINK_SLACK: o = slack_body(al, source); break;
    case LH_ALERT_SINK_PAGERDUTY: o = pagerduty_body(c, al, source); break;
    default: return NULL;
    }
    if (!o) return NULL;
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

/* ---------------------------------------------------------------- one attempt */

static size_t keep_reply(char *p, size_t size, size_t n, void *ud) {
    sink_state *k = ud;
    size_t len = size * n, room = REPLY_KEEP - k->reply_len;
    size_t take = len < room ? len : room;
    memcpy(k->reply + k->reply_len, p, take);
    k->reply_len += take;
    k->reply[k->reply_len] = 0;
    return len;   /* the rest is read and dropped */
}

/* 1 when the stop deadline has passed; *left_ms gets how long to poll at most: the time
 * left until the deadline, or POLL_SLICE_MS. */
static int past_deadline(lh_alerts *a, int *left_ms) {
    pthread_mutex_lock(&a->mu);
    int stopping = a->stopping;
    uint64_t dl = a->deadline_ns;
    pthread_mutex_unlock(&a->mu);
    *left_ms = POLL_SLICE_MS;
    if (!stopping) return 0;
    uint64_t now = mono_ns();
    if (now >= dl) return 1;
    uint64_t left = (dl - now + 999999) / 1000000;
    if (left < (uint64_t)*left_ms) *left_ms = (int)left;
    return 0;
}

/* Write the whole line to stderr with one write where possible, so lines from other
 * threads do not interleave with it. */
static int log_attempt(sink_state *k, const char *body) {
    size_t n = strlen(body);
    char *line = malloc(n + 2);
    if (!line) { snprintf(k->err, sizeof(k->err), "out of memory"); return 0; }
    memcpy(line, body, n); /* NOLINT(bugprone-not-null-terminated-result): bytes for write(), n + 1 of them */
    line[n] = '\n';
    size_t off = 0;
    int ok = 1;
    while (off < n + 1) {
        ssize_t w = write(STDERR_FILENO, line + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { snprintf(k->err, sizeof(k->err), "write to stderr: %s", strerror(errno)); ok = 0; break; }
        off += (size_t)w;
    }
    free(line);
    return ok;
}

/* POST body to the sink's URL once. 1 on a 2xx reply; else 0 with k->err and k->status. */
static int http_attempt(lh_alerts *a, sink_state *k, const char *body) {
    char curlerr[CURL_ERROR_SIZE] = "";
    k->reply_len = 0;
    k->reply[0] = 0;
    k->status = 0;
    curl_easy_setopt(k->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(k->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(k->easy, CURLOPT_ERRORBUFFER, curlerr);
    if (curl_multi_add_handle(a->multi, k->easy) != CURLM_OK) {
        snprintf(k->err, sizeof(k->err), "curl_multi_add_handle failed");
        return 0;
    }
    CURLcode rc = CURLE_OK;
    int running = 1, done = 0;
    while (!done) {
        CURLMcode mc = curl_multi_perform(a->multi, &running);
        if (mc != CURLM_OK) { snprintf(k->err, sizeof(k->err), "curl: %s", curl_multi_strerror(mc)); break; }
        int q;
        CURLMsg *m;
        while ((m = curl_multi_info_read(a->multi, &q)))
            if (m->msg == CURLMSG_DONE) { rc = m->data.result; done = 1; }
        if (done || !running) { done = 1; break; }
        int left_ms;
        if (past_deadline(a, &left_ms)) {
            k->aborted = 1;
            snprintf(k->err, sizeof(k->err), "stopped at the deadline during the attempt");
            break;
        }
        curl_multi_poll(a->multi, NULL, 0, left_ms, NULL);
    }
    curl_multi_remove_handle(a->multi, k->easy);
    curl_easy_setopt(k->easy, CURLOPT_ERRORBUFFER, NULL);
    if (!done) return 0;
    if (rc != CURLE_OK) {
        snprintf(k->err, sizeof(k->err), "%s", curlerr[0] ? curlerr : curl_easy_strerror(rc));
        return 0;
    }
    curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &k->status);
    if (k->status >= 200 && k->status < 300) { k->err[0] = 0; return 1; }
    /* keep the reply readable in one line: PagerDuty explains a 400 in its body */
    for (size_t i = 0; i < k->reply_len; i++)
        if ((unsigned char)k->reply[i] < ' ' || (unsigned char)k->reply[i] >= 0x7f) k->reply[i] = ' ';
    char msg[sizeof(k->err)];
    snprintf(msg, sizeof(msg), "HTTP %ld%s%s", k->status, k->reply_len ? ": " : "", k->reply);
    memcpy(k->err, msg, sizeof(msg));
    return 0;
}

static int attempt(lh_alerts *a, lh_alert_sink s, const lh_alert *al) {
    sink_state *k = &a->sink[s];
    k->aborted = 0;
    k->status = 0;
    char *body = lh_alert_payload(&a->cfg, s, al);
    if (!body) { snprintf(k->err, sizeof(k->err), "out of memory building the payload"); return 0; }
    int ok = s == LH_ALERT_SINK_LOG ? log_attempt(k, body) : http_attempt(a, k, body);
    free(body);
    return ok;
}

/* ---------------------------------------------------------------- the delivery thread */

/* The configured sink with work whose next attempt is due first; -1 when none has work. */
static int next_sink(lh_alerts *a) {
    int best = -1;
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++) {
        sink_state *k = &a->sink[s];
        if (!k->on || k->cursor >= a->tail) continue;
        if (best < 0 || k->due_ns < a->sink[best].due_ns) best = s;
    }
    return best;
}

static void advance_head(lh_alerts *a) {
    uint64_t h = a->tail;
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++)
        if (a->sink[s].on && a->sink[s].cursor < h) h = a->sink[s].cursor;
    a->head = h;
}

/* Report the outcome of the alert at sink s's cursor and move on. Called with mu held;
 * releases it around the callback, which may take its time or call lh_alerts_stats_get. */
static void finish(lh_alerts *a, lh_alert_sink s, int ok, const char *error) {
    sink_state *k = &a->sink[s];
    lh_alert al = a->ring[k->cursor % a->cap];
    char errcopy[sizeof(k->err) + 96];
    snprintf(errcopy, sizeof(errcopy), "%s", ok ? "" : error);
    lh_alert_result res = {
        .sink = s, .alert = &al, .ok = ok, .attempts = k->attempts, .http_status = (int)k->status,
        .error = errcopy, .duration_ns = k->attempts ? mono_ns() - k->first_ns : 0,
    };
    if (ok) a->st.sent[s]++;
    else a->st.failed[s]++;
    k->cursor++;
    k->attempts = 0;
    k->status = 0;
    k->due_ns = 0;
    k->err[0] = 0;
    advance_head(a);
    if (a->rec) {
        pthread_mutex_unlock(&a->mu);
        a->rec(a->ctx, &res);
        pthread_mutex_lock(&a->mu);
    }
}

/* The stop deadline came: every alert still owed to a sink ends as a failure. */
static void abandon_all(lh_alerts *a) {
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++) {
        sink_state *k = &a->sink[s];
        while (k->on && k->cursor < a->tail) {
            char why[sizeof(k->err) + 80];
            if (k->attempts > 0)
                snprintf(why, sizeof(why), "stopped at the deadline after %d attempt%s; last error: %s",
                         k->attempts, k->attempts == 1 ? "" : "s", k->err);
            else
                snprintf(why, sizeof(why), "stopped at the deadline before delivery");
            finish(a, (lh_alert_sink)s, 0, why);
        }
    }
}

static void wait_until(lh_alerts *a, uint64_t when_ns) {
    struct timespec ts = {.tv_sec = (time_t)(when_ns / 1000000000ull), .tv_nsec = (long)(when_ns % 1000000000ull)};
    pthread_cond_timedwait(&a->cv, &a->mu, &ts);
}

/* The first retry waits backoff_ms, each next one twice as long, each at most DELAY_CAP_MS. */
static uint64_t backoff_ns(const lh_alerts *a, int attempts_made) {
    uint64_t ms = (uint64_t)a->cfg.backoff_ms;
    for (int i = 1; i < attempts_made && ms < DELAY_CAP_MS; i++) ms *= 2;
    if (ms > DELAY_CAP_MS) ms = DELAY_CAP_MS;
    return ms * 1000000ull;
}

static void *deliver_loop(void *arg) {
    lh_alerts *a = arg;
    pthread_setname_np(pthread_self(), "lh-alerts");
    pthread_mutex_lock(&a->mu);
    for (;;) {
        int s = next_sink(a);
        if (s < 0) {
            if (a->stopping) break;
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        sink_state *k = &a->sink[s];
        uint64_t now = mono_ns();
        if (a->stopping && (now >= a->deadline_ns || k->due_ns > a->deadline_ns)) {
            /* the earliest due attempt falls after the deadline: none can be made */
            abandon_all(a);
            break;
        }
        if (k->due_ns > now) { wait_until(a, k->due_ns); continue; }

        lh_alert al = a->ring[k->cursor % a->cap];
        if (k->attempts == 0) k->first_ns = now;
        k->attempts++;
        if (k->attempts > 1) a->st.retries[s]++;
        pthread_mutex_unlock(&a->mu);
        int ok = attempt(a, (lh_alert_sink)s, &al);
        pthread_mutex_lock(&a->mu);

        if (k->aborted) continue;   /* the deadline passed: abandon_all reports it */
        if (ok || k->attempts > a->cfg.retries) finish(a, (lh_alert_sink)s, ok, k->err);
        else k->due_ns = mono_ns() + backoff_ns(a, k->attempts);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

static int setup_http_sink(lh_alerts *a, sink_state *k, const char *url, char *err, size_t errlen) {
    k->easy = curl_easy_init();
    k->headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = k->headers ? curl_slist_append(k->headers, "Expect:") : NULL;
    if (!k->easy || !h2) { snprintf(err, errlen, "out of memory"); return -1; }
    k->headers = h2;
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt(k->easy, CURLOPT_URL, url);
    rc |= curl_easy_setopt(k->easy, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(k->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(k->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(k->easy, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(k->easy, CURLOPT_TIMEOUT_MS, (long)a->cfg.timeout_ms);
    rc |= curl_easy_setopt(k->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)a->cfg.timeout_ms);
    rc |= curl_easy_setopt(k->easy, CURLOPT_HTTPHEADER, k->headers);
    rc |= curl_easy_setopt(k->easy, CURLOPT_USERAGENT, "lighthouse-alert/1");
    rc |= curl_easy_setopt(k->easy, CURLOPT_WRITEFUNCTION, keep_reply);
    rc |= curl_easy_setopt(k->easy, CURLOPT_WRITEDATA, k);
    rc |= curl_easy_setopt(k->easy, CURLOPT_POST, 1L);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl refused an option (it needs 7.85 or later, with http and https)");
        return -1;
    }
    return 0;
}

static void free_sinks(lh_alerts *a) {
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++) {
        if (a->sink[s].easy) curl_easy_cleanup(a->sink[s].easy);
        curl_slist_free_all(a->sink[s].headers);
        a->sink[s].easy = NULL;
        a->sink[s].headers = NULL;
    }
}

lh_alerts *lh_alerts_start(const lh_alerts_config *c, lh_alert_record_fn rec, void *ctx, char *err,
                           size_t errlen) {
    if (!c) { snprintf(err, errlen, "no alert configuration"); return NULL; }
    if (check_config(c, err, errlen)) return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed");
        return NULL;
    }
    lh_alerts *a = calloc(1, sizeof(*a));
    if (!a) { curl_global_cleanup(); snprintf(err, errlen, "out of memory"); return NULL; }
    a->cfg = *c;
    effective_source(c, a->cfg.source, sizeof(a->cfg.source));
    a->rec = rec;
    a->ctx = ctx;
    a->cap = (unsigned)c->queue_max;
    a->ring = calloc(a->cap, sizeof(*a->ring));
    a->multi = curl_multi_init();
    if (!a->ring || !a->multi) { snprintf(err, errlen, "out of memory"); goto fail; }

    const char *urls[LH_ALERT_SINK_COUNT] = {NULL, c->webhook_url, c->slack_url, c->pagerduty_url};
    a->sink[LH_ALERT_SINK_LOG].on = c->log;
    for (int s = LH_ALERT_SINK_WEBHOOK; s < LH_ALERT_SINK_COUNT; s++) {
        if (!urls[s][0]) continue;
        a->sink[s].on = 1;
        if (setup_http_sink(a, &a->sink[s], urls[s], err, errlen)) goto fail;
    }

    lh_cond_init_monotonic(&a->cv);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->join_mu, NULL);
    int e = pthread_create(&a->thread, NULL, deliver_loop, a);
    if (e) {
        snprintf(err, errlen, "cannot start the alert thread: %s", strerror(e));
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        pthread_mutex_destroy(&a->join_mu);
        goto fail;
    }
    return a;
fail:
    free_sinks(a);
    if (a->multi) curl_multi_cleanup(a->multi);
    free(a->ring);
    free(a);
    curl_global_cleanup();
    return NULL;
}

int lh_alerts_send(lh_alerts *a, const lh_alert *al) {
    if (!a || !al) return -1;
    pthread_mutex_lock(&a->mu);
    if (a->stopping || a->tail - a->head >= a->cap) {
        a->st.dropped++;
        pthread_mutex_unlock(&a->mu);
        return -1;
    }
    lh_alert *slot = &a->ring[a->tail % a->cap];
    *slot = *al;
    /* the caller may have filled a field to the brim: make every string end */
    slot->event[sizeof(slot->event) - 1] = 0;
    slot->metric[sizeof(slot->metric) - 1] = 0;
    slot->severity[sizeof(slot->severity) - 1] = 0;
    slot->summary[sizeof(slot->summary) - 1] = 0;
    slot->dedup_key[sizeof(slot->dedup_key) - 1] = 0;
    slot->revision[sizeof(slot->revision) - 1] = 0;
    if (slot->time_ns == 0) {   /* stamp it now, so every attempt and sink shows one time */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        slot->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    a->tail++;
    int any = 0;
    for (int s = 0; s < LH_ALERT_SINK_COUNT; s++) any |= a->sink[s].on;
    if (!any) a->head = a->tail;   /* nothing to deliver to */
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

void lh_alerts_stop(lh_alerts *a, int deadline_ms) {
    if (!a) return;
    if (deadline_ms < 0) deadline_ms = 0;
    pthread_mutex_lock(&a->mu);
    if (!a->stopping) {
        a->stopping = 1;
        a->deadline_ns = mono_ns() + (uint64_t)deadline_ms * 1000000ull;
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    curl_multi_wakeup(a->multi);   /* out of curl_multi_poll, to look at the deadline */
    pthread_mutex_lock(&a->join_mu);
    if (!a->joined) {
        pthread_join(a->thread, NULL);
        a->joined = 1;
    }
    pthread_mutex_unlock(&a->join_mu);
}

void lh_alerts_free(lh_alerts *a) {
    if (!a) return;
    lh_alerts_stop(a, 0);
    free_sinks(a);
    curl_multi_cleanup(a->multi);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->join_mu);
    free(a->ring);
    free(a);
    curl_global_cleanup();
}

void lh_alerts_stats_get(lh_alerts *a, lh_alerts_stats *s) {
    memset(s, 0, sizeof(*s));
    if (!a) return;
    pthread_mutex_lock(&a->mu);
    *s = a->st;
    s->queued = (unsigned)(a->tail - a->head);
    pthread_mutex_unlock(&a->mu);
}

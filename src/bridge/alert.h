/* alert.h — alert delivery for the SLA monitor and automated rollback (issue 5, part 3).
 *
 * Sinks, each configured by URL:
 *   - log:        one JSON line per alert on stderr (the structured log); always on unless
 *                 turned off;
 *   - webhook:    a generic JSON POST of the alert (docs/alerts.md gives the shape);
 *   - slack:      a Slack incoming-webhook payload ({"text": ..., "blocks": [...]});
 *   - pagerduty:  a PagerDuty Events API v2 payload ({"routing_key", "event_action":
 *                 "trigger"|"resolve", "dedup_key", "payload": {...}}).
 *
 * lh_alerts_send copies the alert into a bounded queue and returns at once; one delivery
 * thread POSTs it to every configured sink, retrying failures (a transport error or a
 * non-2xx reply) with exponential backoff. When the queue is full the alert is dropped
 * and counted. Every delivery and every final failure is reported once per sink through
 * the record callback, which the bridge turns into an alert.sent event. */
#ifndef LH_BRIDGE_ALERT_H
#define LH_BRIDGE_ALERT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LH_ALERT_SINK_LOG = 0, LH_ALERT_SINK_WEBHOOK, LH_ALERT_SINK_SLACK, LH_ALERT_SINK_PAGERDUTY,
    LH_ALERT_SINK_COUNT
} lh_alert_sink;

typedef struct lh_alert {
    char event[32];        /* what happened: "sla.violated", "sla.resolved", "policy.rolled_back" */
    char metric[48];       /* the SLA metric ("p99_response_time_ms"), "" when none */
    char severity[16];     /* "warning" | "minor" | "major" | "critical" */
    double value;          /* the measured value; NaN when not applicable */
    double threshold;      /* the threshold it crossed; NaN when not applicable */
    char summary[512];     /* one line for a person */
    char dedup_key[128];   /* the same key for a violation, its rollback and its resolution */
    int64_t seq;           /* the event that caused the alert; 0 when none */
    uint64_t time_ns;      /* when it happened (unix ns) */
    char revision[160];    /* the active policy revision */
} lh_alert;

typedef struct lh_alerts_config {
    char webhook_url[1024];          /* "" = off; http:// or https:// */
    char slack_url[1024];            /* "" = off */
    char pagerduty_url[1024];        /* "" = off; normally https://events.pagerduty.com/v2/enqueue */
    char pagerduty_routing_key[128]; /* required when pagerduty_url is set */
    int log;                         /* 1: the structured-log sink (default 1) */
    int queue_max;                   /* alerts waiting for delivery (default 256) */
    int retries;                     /* attempts after the first (default 3) */
    int backoff_ms;                  /* first retry delay, doubled each retry (default 500) */
    int timeout_ms;                  /* per attempt, connect included (default 5000) */
    char source[128];                /* this bridge, for payloads (default: the host name) */
} lh_alerts_config;

/* The outcome of one alert at one sink, after its last attempt. */
typedef struct lh_alert_result {
    lh_alert_sink sink;
    const lh_alert *alert;
    int ok;                /* 1 delivered, 0 failed after every retry */
    int attempts;
    int http_status;       /* last HTTP status; 0 for none (log sink, transport error) */
    const char *error;     /* why it failed ("" when ok) */
    uint64_t duration_ns;  /* first attempt to outcome */
} lh_alert_result;

/* Called on the delivery thread once per alert and sink. It may append events. */
typedef void (*lh_alert_record_fn)(void *ctx, const lh_alert_result *res);

typedef struct lh_alerts lh_alerts;

typedef struct lh_alerts_stats {
    uint64_t sent[LH_ALERT_SINK_COUNT];
    uint64_t failed[LH_ALERT_SINK_COUNT];
    uint64_t retries[LH_ALERT_SINK_COUNT];
    uint64_t dropped;      /* the queue was full */
    unsigned queued;       /* waiting now */
} lh_alerts_stats;

void lh_alerts_config_defaults(lh_alerts_config *c);
/* Check the config (URL schemes, a routing key for PagerDuty, bounds) and start the
 * delivery thread. NULL with a message in err that says what to fix. rec may be NULL. */
lh_alerts *lh_alerts_start(const lh_alerts_config *c, lh_alert_record_fn rec, void *ctx, char *err,
                           size_t errlen);
/* Queue a copy of al. 0 queued; -1 the queue is full or stopped (the alert is dropped
 * and counted). Never blocks on the network. */
int lh_alerts_send(lh_alerts *a, const lh_alert *al);
/* Deliver what is queued, giving up after deadline_ms, then stop the thread. Later
 * sends fail (-1). */
void lh_alerts_stop(lh_alerts *a, int deadline_ms);
/* Stop (if needed) and free. NULL is a no-op. */
void lh_alerts_free(lh_alerts *a);
void lh_alerts_stats_get(lh_alerts *a, lh_alerts_stats *s);
const char *lh_alert_sink_name(lh_alert_sink s);   /* "log", "webhook", "slack", "pagerduty" */
/* The JSON body that sink s receives for al (malloc'd; the caller frees). For tests and
 * docs; NULL when out of memory. */
char *lh_alert_payload(const lh_alerts_config *c, lh_alert_sink s, const lh_alert *al);

#endif

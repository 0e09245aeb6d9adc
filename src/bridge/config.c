/* config.c — the bridge's settings: defaults < YAML config file < LIGHTHOUSE_* environment
 * < command-line flags (docs/configuration.md). Every setting has one key, used by all
 * three sources, so the precedence is just the order of the calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bridge/bridge.h"
#include "util/io.h"

#define CONFIG_MAX_BYTES (256u << 10)

static int setStr(char *dst, size_t cap, const char *key, const char *v, char *err, size_t errlen);
static int setInt(int *dst, const char *key, const char *v, long lo, long hi, char *err, size_t errlen);

void lh_bridge_config_defaults(lh_bridge_config *c) {
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8765");
    snprintf(c->data, sizeof(c->data), "./lighthouse-data");
    snprintf(c->store, sizeof(c->store), "sqlite");
    c->workers = 0;
    c->max_connections = 16384;
    c->timeout_s = 30;
    c->body_limit = 1u << 20;
    c->json_depth = 32;
    c->rate_limit = 200;
    c->rate_burst = 400;
    c->max_streams = 64;
    c->drain_s = 10;
    c->cache_entries = 65536;
    c->metrics_auth = 0;
    c->esc_max_pending = 10000;
    c->esc_max_waiters = 4096;
    c->expert_heartbeat_s = 15;
    c->elicit_rate = 1;
    c->elicit_burst = 20;
    c->elicit_max_pending_to = 100;
    c->elicit_max_pending = 10000;
    c->elicit_max_message = 8192;
    c->elicit_max_schema = 16384;
    c->elicit_max_waiters = 1024;
    lh_sla_config_defaults(&c->sla);
    lh_alerts_config_defaults(&c->alerts);
}

/* The alert_* settings (docs/alerts.md). lh_alerts_start checks them again as a whole
 * (a routing key with the PagerDuty URL, URL syntax). */
static int setAlert(lh_alerts_config *a, const char *key, const char *v, char *err, size_t errlen) {
    if (!strcmp(key, "alert_webhook_url")) return setStr(a->webhook_url, sizeof(a->webhook_url), key, v, err, errlen);
    if (!strcmp(key, "alert_slack_url")) return setStr(a->slack_url, sizeof(a->slack_url), key, v, err, errlen);
    if (!strcmp(key, "alert_pagerduty_url")) return setStr(a->pagerduty_url, sizeof(a->pagerduty_url), key, v, err, errlen);
    if (!strcmp(key, "alert_pagerduty_routing_key"))
        return setStr(a->pagerduty_routing_key, sizeof(a->pagerduty_routing_key), key, v, err, errlen);
    if (!strcmp(key, "alert_log")) {
        if (!strcmp(v, "true") || !strcmp(v, "1")) { a->log = 1; return 0; }
        if (!strcmp(v, "false") || !strcmp(v, "0")) { a->log = 0; return 0; }
        snprintf(err, errlen, "alert_log must be true or false (got \"%s\")", v);
        return -1;
    }
    if (!strcmp(key, "alert_queue")) return setInt(&a->queue_max, key, v, 1, 65536, err, errlen);
    if (!strcmp(key, "alert_retries")) return setInt(&a->retries, key, v, 0, 10, err, errlen);
    if (!strcmp(key, "alert_backoff_ms")) return setInt(&a->backoff_ms, key, v, 1, 60000, err, errlen);
    if (!strcmp(key, "alert_timeout_ms")) return setInt(&a->timeout_ms, key, v, 50, 120000, err, errlen);
    snprintf(err, errlen, "unknown setting \"%s\" (see docs/configuration.md)", key);
    return -1;
}

static int setStr(char *dst, size_t cap, const char *key, const char *v, char *err, size_t errlen) {
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "%s is longer than %zu bytes", key, cap - 1);
        return -1;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int setInt(int *dst, const char *key, const char *v, long lo, long hi, char *err, size_t errlen) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        snprintf(err, errlen, "%s must be a whole number from %ld to %ld (got \"%s\")", key, lo, hi, v);
        return -1;
    }
    *dst = (int)n;
    return 0;
}

static int setDouble(double *dst, const char *key, const char *v, double lo, double hi, char *err,
                     size_t errlen) {
    char *end;
    errno = 0;
    double n = strtod(v, &end);
    if (errno || end == v || *end || !(n >= lo && n <= hi)) {
        snprintf(err, errlen, "%s must be a number from %g to %g (got \"%s\")", key, lo, hi, v);
        return -1;
    }
    *dst = n;
    return 0;
}

/* A size: bytes, or with a K/M suffix (KiB/MiB). */
static int setSize(size_t *dst, const char *key, const char *v, char *err, size_t errlen) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-') goto bad;
    if (*end == 'k' || *end == 'K') { n <<= 10; end++; }
    else if (*end == 'm' || *end == 'M') { n <<= 20; end++; }
    if (*end == 'i' && end[1] == 'B') end += 2;
    else if (*end == 'B') end++;
    if (*end || n < 1024 || n > (64ull << 20)) goto bad;
    *dst = (size_t)n;
    return 0;
bad:
    snprintf(err, errlen, "%s must be a size from 1K to 64M such as 1M (got \"%s\")", key, v);
    return -1;
}

int lh_bridge_config_set(lh_bridge_config *c, const char *key, const char *v, char *err, size_t errlen) {
    if (!strcmp(key, "listen")) return setStr(c->listen, sizeof(c->listen), key, v, err, errlen);
    if (!strcmp(key, "expert_listen")) return setStr(c->expert_listen, sizeof(c->expert_listen), key, v, err, errlen);
    if (!strcmp(key, "data")) return setStr(c->data, sizeof(c->data), key, v, err, errlen);
    if (!strcmp(key, "policy")) return setStr(c->policy, sizeof(c->policy), key, v, err, errlen);
    if (!strcmp(key, "pg")) return setStr(c->pg, sizeof(c->pg), key, v, err, errlen);
    if (!strcmp(key, "store")) {
        if (strcmp(v, "sqlite") && strcmp(v, "postgres") && strcmp(v, "postgresql") && strcmp(v, "pg")) {
            snprintf(err, errlen, "store must be sqlite or postgres (got \"%s\")", v);
            return -1;
        }
        return setStr(c->store, sizeof(c->store), key, v, err, errlen);
    }
    if (!strcmp(key, "workers")) return setInt(&c->workers, key, v, 0, 1024, err, errlen);
    if (!strcmp(key, "max_connections")) return setInt(&c->max_connections, key, v, 16, 1000000, err, errlen);
    if (!strcmp(key, "timeout")) return setInt(&c->timeout_s, key, v, 1, 3600, err, errlen);
    if (!strcmp(key, "json_depth")) return setInt(&c->json_depth, key, v, 2, 64, err, errlen);
    if (!strcmp(key, "max_streams")) return setInt(&c->max_streams, key, v, 0, 10000, err, errlen);
    if (!strcmp(key, "drain")) return setInt(&c->drain_s, key, v, 0, 3600, err, errlen);
    if (!strcmp(key, "metrics_auth")) {
        if (!strcmp(v, "true") || !strcmp(v, "1")) { c->metrics_auth = 1; return 0; }
        if (!strcmp(v, "false") || !strcmp(v, "0")) { c->metrics_auth = 0; return 0; }
        snprintf(err, errlen, "metrics_auth must be true or false (got \"%s\")", v);
        return -1;
    }
    if (!strcmp(key, "hook_allow")) {
        if (!strcmp(v, "approve")) { c->hook_approve = 1; return 0; }
        if (!strcmp(v, "default")) { c->hook_approve = 0; return 0; }
        snprintf(err, errlen, "hook_allow must be approve or default (got \"%s\")", v);
        return -1;
    }
    if (!strcmp(key, "body_limit")) return setSize(&c->body_limit, key, v, err, errlen);
    if (!strcmp(key, "rate_limit")) return setDouble(&c->rate_limit, key, v, 0, 1e9, err, errlen);
    if (!strcmp(key, "rate_burst")) return setDouble(&c->rate_burst, key, v, 1, 1e9, err, errlen);
    if (!strcmp(key, "cache_entries")) {
        int n;
        if (setInt(&n, key, v, 0, 1 << 24, err, errlen)) return -1;
        c->cache_entries = (size_t)n;
        return 0;
    }
    if (!strcmp(key, "escalations_max_pending")) return setInt(&c->esc_max_pending, key, v, 1, 1000000, err, errlen);
    if (!strcmp(key, "escalations_max_waiters")) return setInt(&c->esc_max_waiters, key, v, 1, 100000, err, errlen);
    if (!strcmp(key, "expert_heartbeat")) return setInt(&c->expert_heartbeat_s, key, v, 1, 3600, err, errlen);
    if (!strcmp(key, "elicit_rate")) return setDouble(&c->elicit_rate, key, v, 0, 1e6, err, errlen);
    if (!strcmp(key, "elicit_burst")) return setDouble(&c->elicit_burst, key, v, 1, 1e6, err, errlen);
    if (!strcmp(key, "elicit_max_pending_to")) return setInt(&c->elicit_max_pending_to, key, v, 1, 1000000, err, errlen);
    if (!strcmp(key, "elicit_max_pending")) return setInt(&c->elicit_max_pending, key, v, 1, 1000000, err, errlen);
    if (!strcmp(key, "elicit_max_waiters")) return setInt(&c->elicit_max_waiters, key, v, 1, 1000000, err, errlen);
    if (!strcmp(key, "elicit_max_message") || !strcmp(key, "elicit_max_schema")) {
        int n;
        if (setInt(&n, key, v, 64, 1 << 20, err, errlen)) return -1;
        if (!strcmp(key, "elicit_max_message")) c->elicit_max_message = (size_t)n;
        else c->elicit_max_schema = (size_t)n;
        return 0;
    }
    if (!strncmp(key, "sla_", 4)) return lh_sla_config_set(&c->sla, key, v, err, errlen);
    if (!strncmp(key, "alert_", 6)) return setAlert(&c->alerts, key, v, err, errlen);
    snprintf(err, errlen, "unknown setting \"%s\" (see docs/configuration.md)", key);
    return -1;
}

int lh_bridge_config_file(lh_bridge_config *c, const char *path, char *err, size_t errlen) {
    size_t len;
    char rerr[256];
    char *text = lh_read_file(path, CONFIG_MAX_BYTES, &len, rerr, sizeof(rerr));
    if (!text) { snprintf(err, errlen, "config %s: %s", path, rerr); return -1; }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = -1;
    if (!yaml_parser_load(&p, &doc)) {
        snprintf(err, errlen, "config %s:%zu: %s", path, p.problem_mark.line + 1,
                 p.problem ? p.problem : "invalid YAML");
        yaml_parser_delete(&p);
        free(text);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) { rc = 0; goto out; }   /* an empty file changes nothing */
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "config %s: expected a mapping of settings", path);
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
            snprintf(err, errlen, "config %s:%zu: each setting must be \"key: value\"", path,
                     k ? k->start_mark.line + 1 : 0);
            goto out;
        }
        char e2[768];
        if (lh_bridge_config_set(c, (const char *)k->data.scalar.value, (const char *)v->data.scalar.value,
                                 e2, sizeof(e2))) {
            snprintf(err, errlen, "config %s:%zu: %s", path, k->start_mark.line + 1, e2);
            goto out;
        }
    }
    rc = 0;
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    free(text);
    return rc;
}

static const struct { const char *env, *key; } envMap[] = {
    {"LIGHTHOUSE_LISTEN", "listen"},       {"LIGHTHOUSE_DATA", "data"},
    {"LIGHTHOUSE_EXPERT_LISTEN", "expert_listen"},
    {"LIGHTHOUSE_POLICY", "policy"},       {"LIGHTHOUSE_STORE", "store"},
    {"LIGHTHOUSE_PG", "pg"},               {"LIGHTHOUSE_WORKERS", "workers"},
    {"LIGHTHOUSE_MAX_CONNECTIONS", "max_connections"},
    {"LIGHTHOUSE_TIMEOUT", "timeout"},     {"LIGHTHOUSE_BODY_LIMIT", "body_limit"},
    {"LIGHTHOUSE_JSON_DEPTH", "json_depth"},
    {"LIGHTHOUSE_RATE_LIMIT", "rate_limit"}, {"LIGHTHOUSE_RATE_BURST", "rate_burst"},
    {"LIGHTHOUSE_MAX_STREAMS", "max_streams"}, {"LIGHTHOUSE_DRAIN", "drain"},
    {"LIGHTHOUSE_CACHE_ENTRIES", "cache_entries"}, {"LIGHTHOUSE_METRICS_AUTH", "metrics_auth"},
    {"LIGHTHOUSE_HOOK_ALLOW", "hook_allow"},
    {"LIGHTHOUSE_ESCALATIONS_MAX_PENDING", "escalations_max_pending"},
    {"LIGHTHOUSE_ESCALATIONS_MAX_WAITERS", "escalations_max_waiters"},
    {"LIGHTHOUSE_EXPERT_HEARTBEAT", "expert_heartbeat"},
    {"LIGHTHOUSE_ELICIT_RATE", "elicit_rate"}, {"LIGHTHOUSE_ELICIT_BURST", "elicit_burst"},
    {"LIGHTHOUSE_ELICIT_MAX_PENDING_TO", "elicit_max_pending_to"},
    {"LIGHTHOUSE_ELICIT_MAX_PENDING", "elicit_max_pending"},
    {"LIGHTHOUSE_ELICIT_MAX_MESSAGE", "elicit_max_message"},
    {"LIGHTHOUSE_ELICIT_MAX_SCHEMA", "elicit_max_schema"},
    {"LIGHTHOUSE_ELICIT_MAX_WAITERS", "elicit_max_waiters"},
    /* Alert destinations hold secrets (webhook URLs, the routing key): keep them out of
     * config files if you like. */
    {"LIGHTHOUSE_ALERT_LOG", "alert_log"},
    {"LIGHTHOUSE_ALERT_WEBHOOK_URL", "alert_webhook_url"},
    {"LIGHTHOUSE_ALERT_SLACK_URL", "alert_slack_url"},
    {"LIGHTHOUSE_ALERT_PAGERDUTY_URL", "alert_pagerduty_url"},
    {"LIGHTHOUSE_ALERT_PAGERDUTY_ROUTING_KEY", "alert_pagerduty_routing_key"},
    {"LIGHTHOUSE_ALERT_QUEUE", "alert_queue"},
    {"LIGHTHOUSE_ALERT_RETRIES", "alert_retries"},
    {"LIGHTHOUSE_ALERT_BACKOFF_MS", "alert_backoff_ms"},
    {"LIGHTHOUSE_ALERT_TIMEOUT_MS", "alert_timeout_ms"},
};

int lh_bridge_config_env(lh_bridge_config *c, char *err, size_t errlen) {
    for (size_t i = 0; i < sizeof(envMap) / sizeof(envMap[0]); i++) {
        const char *v = getenv(envMap[i].env);
        if (!v || !*v) continue;
        char e2[768];
        if (lh_bridge_config_set(c, envMap[i].key, v, e2, sizeof(e2))) {
            snprintf(err, errlen, "%s: %s", envMap[i].env, e2);
            return -1;
        }
    }
    return 0;
}

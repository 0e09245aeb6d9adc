/* bridge.h — the Lighthouse bridge daemon (`lighthouse serve`): HTTP routes over
 * libmicrohttpd, deciding through the engine and recording through the event store.
 *
 * Life of the daemon (src/cli/serve.c drives it):
 *   lh_bridge_config_defaults → lh_bridge_config_file / _env / flags → lh_bridge_start
 *   → lh_bridge_wait (SIGTERM/SIGINT: drain and stop; SIGHUP: reload the policy file)
 *   → lh_bridge_free.
 *
 * Errors are returned (-1 / NULL) with a message in err that says what to fix; the
 * library never exits and writes only diagnostics to stderr. docs/api.md describes the
 * routes, docs/configuration.md every setting. */
#ifndef LH_BRIDGE_H
#define LH_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/alert.h"
#include "bridge/sla.h"

#define LH_BRIDGE_PATH_MAX 1024

typedef struct lh_bridge_config {
    char listen[LH_BRIDGE_PATH_MAX];   /* "HOST:PORT" or "unix:/path" */
    char expert_listen[LH_BRIDGE_PATH_MAX];   /* a second listener served at the lowest
                                                 priority, for experts ("": none) */
    char data[LH_BRIDGE_PATH_MAX];     /* data directory (store, token key) */
    char policy[LH_BRIDGE_PATH_MAX];   /* policy file; "" = built-in default */
    char store[16];                    /* "sqlite" | "postgres" */
    char pg[LH_BRIDGE_PATH_MAX];       /* libpq conninfo for postgres */
    int workers;                       /* HTTP worker threads (0: 2 per CPU, 4 to 64) */
    int max_connections;               /* open connections at once */
    int timeout_s;                     /* idle/read timeout per connection */
    size_t body_limit;                 /* bytes in a request body (413 past it) */
    int json_depth;                    /* nesting bound for request bodies */
    double rate_limit;                 /* per-agent requests per second (0: off) */
    double rate_burst;                 /* bucket size */
    int max_streams;                   /* concurrent SSE streams */
    int drain_s;                       /* SIGTERM: wait this long for requests in flight */
    size_t cache_entries;              /* engine decision cache */
    int metrics_auth;                  /* 1: /metrics needs a token (any role) */
    int hook_approve;                  /* hook_allow: approve: the hook route answers an allow
                                          with "allow"; 0 (default): with {} (no opinion) */
    int esc_max_pending;               /* escalations pending at once (beyond: plain escalate) */
    int esc_max_waiters;               /* requests waiting on escalations at once */
    int expert_heartbeat_s;            /* experts' heartbeat interval (available: 3 of them) */
    /* Elicitations (elicit_* keys, docs/configuration.md) */
    double elicit_rate;                /* creations per second per asking agent (0: off) */
    double elicit_burst;               /* its bucket */
    int elicit_max_pending_to;         /* pending elicitations per addressee */
    int elicit_max_pending;            /* pending elicitations in all */
    size_t elicit_max_message;         /* bytes of a message */
    size_t elicit_max_schema;          /* bytes of a schema */
    int elicit_max_waiters;            /* long-polls at once */
    lh_sla_config sla;                 /* the SLA monitor and automatic rollback (sla_* keys) */
    lh_alerts_config alerts;           /* where its alerts go (alert_* keys, docs/alerts.md) */
} lh_bridge_config;

void lh_bridge_config_defaults(lh_bridge_config *c);
/* Apply a YAML config file (a flat mapping; keys as in docs/configuration.md). */
int lh_bridge_config_file(lh_bridge_config *c, const char *path, char *err, size_t errlen);
/* Apply LIGHTHOUSE_* environment variables. */
int lh_bridge_config_env(lh_bridge_config *c, char *err, size_t errlen);
/* Apply one setting by its config-file key ("listen", "rate_limit", ...). */
int lh_bridge_config_set(lh_bridge_config *c, const char *key, const char *value,
                         char *err, size_t errlen);

typedef struct lh_bridge lh_bridge;

/* Open the store, load the policy, record system.started and start listening.
 * NULL on failure with a message in err. Block SIGTERM/SIGINT/SIGHUP in the calling
 * thread first (lh_bridge_wait waits for them) so worker threads inherit the mask. */
lh_bridge *lh_bridge_start(const lh_bridge_config *c, char *err, size_t errlen);
/* The address actually bound ("127.0.0.1:8765", "unix:/run/x.sock"). */
const char *lh_bridge_address(const lh_bridge *b);
/* The experts' listener's address ("HOST:PORT" or "unix:/path"), or NULL without one. */
const char *lh_bridge_expert_address(const lh_bridge *b);
/* Wait for signals: SIGHUP reloads the policy; SIGTERM/SIGINT drain and stop.
 * Returns 0 after a clean stop (store flushed, system.stopped recorded). */
int lh_bridge_wait(lh_bridge *b);
void lh_bridge_free(lh_bridge *b);

#endif

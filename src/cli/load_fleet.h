/* load_fleet.h — one short-lived builder token per simulated agent (load_fleet.c). */
#ifndef LH_CLI_LOAD_FLEET_H
#define LH_CLI_LOAD_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/auth.h"

typedef struct lh_fleet {
    char **tokens;                         /* n tokens, owned */
    char (*tids)[LH_AUTH_TID_LEN + 1];     /* their ids, owned */
    char (*agents)[32];                    /* their agents, "load-PID-I", owned */
    int n;
    int64_t iat;
    char data[4096];                       /* the bridge's data dir ("" when minted over HTTP) */
    char url[128];                         /* minted over HTTP: the bridge, and the admin token */
    char *admin;                           /* owned */
} lh_fleet;

/* Mint n builder tokens valid for ttl_s with the key in data/token.key (which must exist:
 * the bridge's), and record a token.issued event for each. -1 with err on failure (nothing
 * is handed out then). Free with lh_fleet_free. */
int lh_fleet_mint(const char *data, int n, double ttl_s, lh_fleet *f, char *err, size_t errlen);
/* The same over HTTP: POST /v1/tokens with an admin token, 1,000 agents a request. */
int lh_fleet_mint_http(const char *host, int port, const char *admin, int n, double ttl_s, lh_fleet *f, char *err,
                       size_t errlen);
/* Record a token.revoked event (over HTTP when the fleet was minted so) for each token of f (a running bridge refuses them within a
 * fraction of a second). */
int lh_fleet_revoke(lh_fleet *f, char *err, size_t errlen);
void lh_fleet_free(lh_fleet *f);

#endif

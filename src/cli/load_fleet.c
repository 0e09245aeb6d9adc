/* load_fleet.c — `lighthouse load` as a fleet, not one agent: one short-lived builder
 * token per simulated agent, minted with the token key of a local bridge's data dir
 * (`--data DIR`), recorded as token.issued events like `lighthouse token create`, and
 * revoked (token.revoked) when the run ends. The bridge limits each token's agent
 * separately, so a default run needs no `--rate-limit 0`. See docs/load.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/auth.h"
#include "cli/load_fleet.h"
#include "hook/client.h"
#include "store/store.h"

static lh_store *openStore(const char *data, char *err, size_t errlen) {
    lh_store_options so = {0};
    so.backend = LH_STORE_SQLITE;
    so.data_dir = data;
    return lh_store_open(&so, err, errlen);
}

/* Append n events of one type, one per token, in batches of LH_STORE_MAX_BATCH. */
static int appendAll(lh_store *st, const lh_fleet *f, const char *type, const int64_t *exp, char *err, size_t errlen) {
    lh_event *ev = calloc((size_t)f->n, sizeof(*ev));
    char **text = calloc((size_t)f->n, sizeof(*text));
    char (*agg)[32] = calloc((size_t)f->n, sizeof(*agg));
    int rc = -1;
    if (!ev || !text || !agg) { snprintf(err, errlen, "out of memory"); goto out; }
    for (int i = 0; i < f->n; i++) {
        json_t *d = exp ? json_pack("{s:s,s:s,s:s,s:I,s:I}", "token_id", f->tids[i], "agent", f->agents[i], "role", "builder",
                                    "issued_ns", (json_int_t)f->iat * 1000000000, "expires_ns", (json_int_t)exp[0] * 1000000000)
                        : json_pack("{s:s}", "token_id", f->tids[i]);
        text[i] = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(d);
        if (!text[i]) { snprintf(err, errlen, "out of memory"); goto out; }
        snprintf(agg[i], sizeof(agg[i]), "token:%s", f->tids[i]);
        ev[i].type = type;
        ev[i].agent = exp ? f->agents[i] : "";
        ev[i].aggregate = agg[i];
        ev[i].data = text[i];
    }
    for (int i = 0; i < f->n; i += LH_STORE_MAX_BATCH) {
        int k = f->n - i < LH_STORE_MAX_BATCH ? f->n - i : LH_STORE_MAX_BATCH;
        if (lh_store_append(st, ev + i, (size_t)k, NULL, err, errlen)) goto out;
    }
    rc = 0;
out:
    for (int i = 0; text && i < f->n; i++) free(text[i]);
    free(text);
    free(agg);
    free(ev);
    return rc;
}

int lh_fleet_mint(const char *data, int n, double ttl_s, lh_fleet *f, char *err, size_t errlen) {
    memset(f, 0, sizeof(*f));
    char e2[512];
    unsigned char key[LH_AUTH_KEY_LEN];
    if (lh_auth_load_key(data, 0, key, e2, sizeof(e2))) {
        snprintf(err, errlen, "--data %s: %s (the data dir of the running bridge, where `lighthouse serve` keeps token.key)",
                 data, e2);
        return -1;
    }
    f->tokens = calloc((size_t)n, sizeof(char *));
    f->tids = calloc((size_t)n, sizeof(*f->tids));
    f->agents = calloc((size_t)n, sizeof(*f->agents));
    if (!f->tokens || !f->tids || !f->agents) { snprintf(err, errlen, "out of memory"); lh_fleet_free(f); return -1; }
    snprintf(f->data, sizeof(f->data), "%s", data);
    f->iat = (int64_t)time(NULL);
    int64_t exp = f->iat + (int64_t)ttl_s + 1;
    for (int i = 0; i < n; i++) {
        lh_token_claims c = {0};
        snprintf(c.agent, sizeof(c.agent), "load-%d-%d", (int)getpid(), i + 1);
        c.role = LH_ROLE_BUILDER;
        c.iat = f->iat;
        c.exp = exp;
        char tok[LH_AUTH_TOKEN_MAX + 1];
        if (lh_auth_mint(key, &c, tok, sizeof(tok), err, errlen)) { lh_fleet_free(f); return -1; }
        f->tokens[i] = strdup(tok);
        if (!f->tokens[i]) { snprintf(err, errlen, "out of memory"); lh_fleet_free(f); return -1; }
        snprintf(f->tids[i], sizeof(f->tids[i]), "%s", c.tid);
        snprintf(f->agents[i], sizeof(f->agents[i]), "load-%d-%d", (int)getpid(), i + 1);
        f->n = i + 1;
    }
    lh_store *st = openStore(data, e2, sizeof(e2));
    if (!st) { snprintf(err, errlen, "--data %s: event store: %s", data, e2); lh_fleet_free(f); return -1; }
    /* an unrecorded token is not handed out (as `lighthouse token create`) */
    int rc = appendAll(st, f, "token.issued", &exp, e2, sizeof(e2));
    lh_store_close(st);
    if (rc) { snprintf(err, errlen, "cannot record the fleet's tokens: %s", e2); lh_fleet_free(f); return -1; }
    return 0;
}

/* POST body to the bridge with the admin token; the parsed JSON reply of a 200, else NULL
 * with the bridge's message in err. */
static json_t *adminPost(const lh_fleet *f, const char *path, json_t *body, char *err, size_t errlen) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) { snprintf(err, errlen, "out of memory"); return NULL; }
    lh_http_response rep;
    int rc = lh_http_post(f->url, path, f->admin, NULL, "application/json", text, strlen(text), 2000, 60000, &rep, err, errlen);
    free(text);
    if (rc) return NULL;
    json_t *j = json_loadb(rep.body, rep.len, 0, NULL);
    if (rep.status != 200) {
        const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        snprintf(err, errlen, "POST %s answered %d: %s%s", path, rep.status, msg ? msg : "(no message)",
                 rep.status == 401 || rep.status == 403 ? " (--admin-token must be an admin token of this bridge)" : "");
        json_decref(j);
        j = NULL;
    }
    free(rep.body);
    return j;
}

int lh_fleet_mint_http(const char *host, int port, const char *admin, int n, double ttl_s, lh_fleet *f, char *err,
                       size_t errlen) {
    memset(f, 0, sizeof(*f));
    snprintf(f->url, sizeof(f->url), "http://%s:%d", host, port);
    f->admin = strdup(admin);
    f->tokens = calloc((size_t)n, sizeof(char *));
    f->tids = calloc((size_t)n, sizeof(*f->tids));
    f->agents = calloc((size_t)n, sizeof(*f->agents));
    if (!f->admin || !f->tokens || !f->tids || !f->agents) { snprintf(err, errlen, "out of memory"); lh_fleet_free(f); return -1; }
    f->iat = (int64_t)time(NULL);
    for (int i = 0; i < n; i += 1000) {
        int k = n - i < 1000 ? n - i : 1000;
        json_t *agents = json_array();
        for (int a = 0; a < k; a++) {
            char name[32];
            snprintf(name, sizeof(name), "load-%d-%d", (int)getpid(), i + a + 1);
            json_array_append_new(agents, json_string(name));
        }
        json_t *rep = adminPost(f, "/v1/tokens", json_pack("{s:o,s:s,s:I}", "agents", agents, "role", "builder", "ttl_s",
                                                            (json_int_t)ttl_s + 1), err, errlen);
        json_t *toks = json_object_get(rep, "tokens");
        if ((int)json_array_size(toks) != k) {
            if (rep) snprintf(err, errlen, "POST /v1/tokens: the reply has %zu tokens, not %d", json_array_size(toks), k);
            json_decref(rep);
            char e2[256];
            lh_fleet_revoke(f, e2, sizeof(e2));   /* give back what was minted; err keeps the cause */
            lh_fleet_free(f);
            return -1;
        }
        for (int a = 0; a < k; a++) {
            const json_t *t = json_array_get(toks, (size_t)a);
            const char *tok = json_string_value(json_object_get(t, "token")), *tid = json_string_value(json_object_get(t, "token_id"));
            f->tokens[i + a] = strdup(tok ? tok : "");
            snprintf(f->tids[i + a], sizeof(f->tids[i + a]), "%s", tid ? tid : "");
            snprintf(f->agents[i + a], sizeof(f->agents[i + a]), "load-%d-%d", (int)getpid(), i + a + 1);
            f->n = i + a + 1;
        }
        json_decref(rep);
    }
    return 0;
}

int lh_fleet_revoke(lh_fleet *f, char *err, size_t errlen) {
    if (!f->n) return 0;
    if (f->admin) {
        for (int i = 0; i < f->n; i += 1000) {
            json_t *ids = json_array();
            for (int a = i; a < f->n && a < i + 1000; a++) json_array_append_new(ids, json_string(f->tids[a]));
            json_t *rep = adminPost(f, "/v1/tokens/revoke", json_pack("{s:o}", "token_ids", ids), err, errlen);
            if (!rep) return -1;
            json_decref(rep);
        }
        return 0;
    }
    char e2[512];
    lh_store *st = openStore(f->data, e2, sizeof(e2));
    if (!st) { snprintf(err, errlen, "event store: %s", e2); return -1; }
    int rc = appendAll(st, f, "token.revoked", NULL, e2, sizeof(e2));
    lh_store_close(st);
    if (rc) snprintf(err, errlen, "%s", e2);
    return rc;
}

void lh_fleet_free(lh_fleet *f) {
    for (int i = 0; f->tokens && i < f->n; i++) free(f->tokens[i]);
    free(f->tokens);
    free(f->tids);
    free(f->agents);
    free(f->admin);
    memset(f, 0, sizeof(*f));
}

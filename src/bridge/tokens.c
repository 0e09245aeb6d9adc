/* tokens.c — POST /v1/tokens and POST /v1/tokens/revoke (admin only): bearer tokens over
 * HTTP, for a fleet that cannot reach the bridge's data dir (`lighthouse load
 * --admin-token`). The same tokens and events as `lighthouse token create | revoke`:
 * minted with the bridge's key, a token.issued event per token and a token.revoked per
 * revocation, appended in one batch (all or none). A revocation takes effect in this
 * bridge at once. See docs/api.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge/appender.h"
#include "bridge/bridge_int.h"
#include "util/replysig.h"

#define TOKENS_MAX_BATCH 1000   /* tokens per request: the reply stays under 1 MiB */

/* Parse the body as a JSON object, bounded like every body. NULL with the reply sent. */
static json_t *bodyObject(lh_bridge *b, struct MHD_Connection *c, lh_req *r, enum MHD_Result *rc) {
    if (!lh_store_utf8_valid(r->body, r->len)) { *rc = lh_http_error(b, c, r, 400, "invalid_utf8", "the body is not valid UTF-8"); return NULL; }
    if (lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth) {
        *rc = lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        return NULL;
    }
    json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        *rc = lh_http_error(b, c, r, 400, "bad_request", "expected a JSON object");
        return NULL;
    }
    return j;
}

/* POST /v1/tokens {"agents": ["a", ...] | "agent": "a", "role": "builder", "ttl_s": 3600}
 * → {"tokens": [{"agent", "token", "token_id", "expires_ns", "reply_key"}, ...]}; reply_key is the
 * token's key for the hook to check replies by (util/replysig.h). */
enum MHD_Result lh_route_tokens_create(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    enum MHD_Result rc;
    json_t *j = bodyObject(b, c, r, &rc);
    if (!j) return rc;
    json_t *agents = json_object_get(j, "agents"), *one = json_object_get(j, "agent");
    const json_t *roleJ = json_object_get(j, "role"), *ttlJ = json_object_get(j, "ttl_s");
    lh_role role;
    const char *why = NULL;
    size_t n = json_is_array(agents) ? json_array_size(agents) : json_is_string(one) ? 1 : 0;
    if (!n || (agents && one)) why = "give \"agents\": [NAME, ...] or \"agent\": NAME";
    else if (n > TOKENS_MAX_BATCH) why = "at most 1000 agents per request";
    else if (!json_is_string(roleJ) || lh_role_parse(json_string_value(roleJ), &role))
        why = "\"role\" must be builder, expert or admin";
    else if (ttlJ && (!json_is_integer(ttlJ) || json_integer_value(ttlJ) < 1 || json_integer_value(ttlJ) > 3650LL * 86400))
        why = "\"ttl_s\" must be whole seconds, 1 to 3650 days";
    for (size_t i = 0; !why && i < n; i++) {
        const json_t *a = agents ? json_array_get(agents, i) : one;
        if (!json_is_string(a) || !json_string_length(a) || json_string_length(a) > LH_AUTH_NAME_MAX)
            why = "each agent must be a non-empty string of at most 128 bytes";
    }
    if (why) { json_decref(j); return lh_http_error(b, c, r, 400, "bad_request", "%s", why); }
    int64_t ttl = ttlJ ? (int64_t)json_integer_value(ttlJ) : 30 * 86400;
    lh_event *ev = calloc(n, sizeof(*ev));
    char **data = calloc(n, sizeof(*data));
    char (*agg)[32] = calloc(n, sizeof(*agg));
    json_t *out = json_array();
    char err[512];
    int fail = !ev || !data || !agg;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; !fail && i < n; i++) {
        lh_token_claims cl = {0};
        snprintf(cl.agent, sizeof(cl.agent), "%s", json_string_value(agents ? json_array_get(agents, i) : one));
        cl.role = role;
        cl.iat = now;
        cl.exp = now + ttl;
        char tok[LH_AUTH_TOKEN_MAX + 1];
        if (lh_auth_mint(b->tokkey, &cl, tok, sizeof(tok), err, sizeof(err))) { fail = 1; break; }
        json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "token_id", cl.tid, "agent", cl.agent, "role", lh_role_name(role),
                              "issued_ns", (json_int_t)cl.iat * 1000000000, "expires_ns", (json_int_t)cl.exp * 1000000000,
                              "issued_by", r->claims.agent);
        data[i] = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(d);
        if (!data[i]) { fail = 1; break; }
        snprintf(agg[i], sizeof(agg[i]), "token:%s", cl.tid);
        ev[i].type = "token.issued";
        ev[i].agent = json_string_value(agents ? json_array_get(agents, i) : one);
        ev[i].aggregate = agg[i];
        ev[i].data = data[i];
        unsigned char rk[32];
        char rkhex[65];
        lh_reply_key_of(b->tokkey, cl.tid, rk);
        lh_reply_key_hex(rk, rkhex);
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:I,s:s}", "agent", cl.agent, "token", tok, "token_id", cl.tid,
                                             "expires_ns", (json_int_t)cl.exp * 1000000000, "reply_key", rkhex));
    }
    /* an unrecorded token is never handed out */
    int arc = fail ? -1 : lh_appender_append(b->appender, ev, n, NULL, err, sizeof(err));
    for (size_t i = 0; data && i < n; i++) free(data[i]);
    free(data);
    free(agg);
    free(ev);
    json_decref(j);
    if (fail) { json_decref(out); return lh_http_error(b, c, r, 500, "internal", "could not mint the tokens"); }
    if (arc) { json_decref(out); return lh_http_error(b, c, r, 503, "store_unavailable", "the tokens could not be recorded: %s", err); }
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:o}", "tokens", out));
}

/* Was token id tid issued by this store? 1 yes, 0 no, -1 the store could not say. */
static int issued(lh_bridge *b, const char *tid, char *err, size_t errlen) {
    char aggregate[64];
    snprintf(aggregate, sizeof(aggregate), "token:%s", tid);
    lh_store_filter f = {0};
    f.type = "token.issued";
    f.aggregate = aggregate;
    int64_t cnt = 0;
    if (lh_store_count(b->store, &f, &cnt, err, errlen)) return -1;
    return cnt > 0;
}

/* POST /v1/tokens/revoke {"token_ids": [ID, ...] | "token_id": ID} → {"revoked": N}. An
 * id never issued here is refused (404, nothing revoked). */
enum MHD_Result lh_route_tokens_revoke(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    enum MHD_Result rc;
    json_t *j = bodyObject(b, c, r, &rc);
    if (!j) return rc;
    json_t *ids = json_object_get(j, "token_ids"), *one = json_object_get(j, "token_id");
    size_t n = json_is_array(ids) ? json_array_size(ids) : json_is_string(one) ? 1 : 0;
    const char *why = !n || (ids && one) ? "give \"token_ids\": [ID, ...] or \"token_id\": ID"
                      : n > TOKENS_MAX_BATCH ? "at most 1000 token ids per request" : NULL;
    for (size_t i = 0; !why && i < n; i++) {
        const json_t *t = ids ? json_array_get(ids, i) : one;
        if (!json_is_string(t) || json_string_length(t) != LH_AUTH_TID_LEN) why = "a token id has 16 hex characters";
    }
    if (why) { json_decref(j); return lh_http_error(b, c, r, 400, "bad_request", "%s", why); }
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const char *tid = json_string_value(ids ? json_array_get(ids, i) : one);
        int k = issued(b, tid, err, sizeof(err));
        if (k < 0) { json_decref(j); return lh_http_error(b, c, r, 503, "store_unavailable", "%s", err); }
        if (!k) {
            char id[LH_AUTH_TID_LEN + 1];
            snprintf(id, sizeof(id), "%s", tid);
            json_decref(j);
            return lh_http_error(b, c, r, 404, "not_found", "no token with id %s was issued here; nothing revoked", id);
        }
    }
    lh_event *ev = calloc(n, sizeof(*ev));
    char (*data)[64] = calloc(n, sizeof(*data));
    char (*agg)[32] = calloc(n, sizeof(*agg));
    int arc = -1;
    if (ev && data && agg) {
        for (size_t i = 0; i < n; i++) {
            const char *tid = json_string_value(ids ? json_array_get(ids, i) : one);
            snprintf(data[i], sizeof(data[i]), "{\"token_id\":\"%s\"}", tid);
            snprintf(agg[i], sizeof(agg[i]), "token:%s", tid);
            ev[i].type = "token.revoked";
            ev[i].agent = r->claims.agent;
            ev[i].aggregate = agg[i];
            ev[i].data = data[i];
        }
        arc = lh_appender_append(b->appender, ev, n, NULL, err, sizeof(err));
        if (arc == 0)   /* in force here at once; other bridges learn it from the store */
            for (size_t i = 0; i < n; i++) lh_revoked_add(b->revoked, json_string_value(ids ? json_array_get(ids, i) : one));
    } else snprintf(err, sizeof(err), "out of memory");
    free(ev);
    free(data);
    free(agg);
    json_decref(j);
    if (arc) return lh_http_error(b, c, r, 503, "store_unavailable", "the revocations could not be recorded: %s", err);
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
}

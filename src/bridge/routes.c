/* routes.c — the decision routes (/v1/validate, /v1/hooks/claude-code, the OPA route)
 * and the read routes (/v1/events, /v1/status, /metrics).
 *
 * A decision is appended to the store before its reply and the reply carries its seq.
 * If the append fails the caller gets 503 and no decision: never an unrecorded answer. */
#include "bridge/bridge_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bridge/appender.h"
#include "bridge/elicitations.h"
#include "bridge/engines.h"
#include "bridge/escalations.h"
#include "bridge/experts.h"
#include "bridge/sessions.h"
#include "bridge/sla_monitor.h"
#include "bridge/shadows.h"
#include "util/replysig.h"
#include "util/utf8.h"
#include "version.h"

#define EVENT_INPUT_MAX (16u << 10)   /* bytes of the command/path kept in the event */

int lh_json_depth(const char *s, size_t len, int limit) {
    int d = 0, max = 0, str = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (str) {
            if (ch == '\\') i++;
            else if (ch == '"') str = 0;
            continue;
        }
        if (ch == '"') str = 1;
        else if (ch == '{' || ch == '[') { if (++d > max) { max = d; if (max > limit) return max; } }
        else if (ch == '}' || ch == ']') d--;
    }
    return max;
}

/* Checks every JSON body shares: UTF-8, depth. Returns 0 or queues a 400. */
static int checkBody(lh_bridge *b, struct MHD_Connection *c, lh_req *r, enum MHD_Result *rc) {
    if (r->len == 0) { *rc = lh_http_error(b, c, r, 400, "bad_request", "empty body: expected a JSON object"); return -1; }
    if (!lh_utf8_valid(r->body, r->len)) {
        *rc = lh_http_error(b, c, r, 400, "invalid_utf8", "the body is not valid UTF-8");
        return -1;
    }
    if (lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth) {
        *rc = lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        return -1;
    }
    return 0;
}

/* The session names the event's aggregate ("session:" + session), which the store only
 * takes as UTF-8 without control characters of at most LH_STORE_MAX_NAME bytes. */
#define SESSION_PREFIX "session:"
#define SESSION_MAX (LH_STORE_MAX_NAME - (int)(sizeof(SESSION_PREFIX) - 1))

/* Every field of a parsed request that reaches the decision.made event, checked at the
 * edge against what the store accepts, so that nothing a client sends can make the append
 * fail (a 503 is the store's or the engine's failure, never the caller's; docs/sla.md,
 * "Outcomes"). The parser has already checked UTF-8 (no lone surrogates, no \u0000),
 * the tool's length and the cwd's form; the agent is the token's. 0, or -1 with a message. */
static int edgeCheck(const lh_request *r, char *err, size_t errlen) {
    if (r->session) {
        size_t n = strlen(r->session);
        if (n > SESSION_MAX) {
            snprintf(err, errlen, "\"session\" (or \"session_id\") is %zu bytes; at most %d", n, SESSION_MAX);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)r->session[i] < 0x20 || r->session[i] == 0x7f) {
                snprintf(err, errlen, "\"session\" (or \"session_id\") has a control character at byte %zu", i);
                return -1;
            }
        if (!lh_utf8_valid(r->session, n)) {
            snprintf(err, errlen, "\"session\" (or \"session_id\") is not valid UTF-8");
            return -1;
        }
    }
    static const char *const names[] = {"tool", "cwd", "command", "file_path", "path", "url"};
    const char *vals[] = {r->tool_name, r->cwd, r->command, r->file_path, r->path, r->url};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        if (vals[i] && !lh_utf8_valid(vals[i], strlen(vals[i]))) {
            snprintf(err, errlen, "\"%s\" is not valid UTF-8", names[i]);
            return -1;
        }
    return 0;
}

/* ---- growing output in the thread's scratch buffers ---------------------------- */

typedef struct obuf { char **p; size_t *cap; size_t len; int bad; } obuf;

static void oput(obuf *o, const char *s, size_t n) {
    if (o->bad) return;
    if (o->len + n + 1 > *o->cap) {
        size_t nc = *o->cap ? *o->cap * 2 : 1024;
        while (nc < o->len + n + 1) nc *= 2;
        char *np = realloc(*o->p, nc);
        if (!np) { o->bad = 1; return; }
        *o->p = np;
        *o->cap = nc;
    }
    memcpy(*o->p + o->len, s, n);
    o->len += n;
    (*o->p)[o->len] = 0;
}

static void ostr(obuf *o, const char *s) { oput(o, s, strlen(s)); }

/* A JSON string value (quoted), truncated to max bytes at a UTF-8 boundary. */
static void ojson(obuf *o, const char *s, size_t max) {
    char tmp[1024];
    size_t len = strlen(s), n = lh_utf8_cut(s, len, max);
    int cut = n < len;
    ostr(o, "\"");
    /* escape in pieces so the scratch stays small */
    size_t i = 0;
    while (i < n && !o->bad) {
        size_t k = n - i > 128 ? 128 : n - i;
        while (k > 0 && i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80) k--;
        char piece[132];
        memcpy(piece, s + i, k);
        piece[k] = 0;
        int e = lh_json_escape(piece, tmp, sizeof(tmp));
        if (e < 0) { o->bad = 1; return; }
        oput(o, tmp, (size_t)e);
        i += k;
    }
    ostr(o, cut ? "…\"" : "\"");
}

/* ---- decisions ------------------------------------------------------------------ */

/* One event id format everywhere: a time-ordered UUIDv7, as the store makes for the
 * events it names itself (lh_event_make_id): 48 bits of the wall clock's milliseconds, the
 * version and variant bits, and 74 random bits from the thread's generator (no system
 * call per decision). The store's unique index on id then grows at its right edge; with
 * wholly random ids every event dirtied a page of its own in that index, in every commit
 * (docs/store.md, "Measured figures"). */
static void newId(lh_tstate *ts, char out[37]) {
    static const char h[] = "0123456789abcdef";
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    unsigned char b[16];
    for (int i = 0; i < 6; i++) b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    for (int k = 0; k < 2; k++) {
        /* xorshift64* */
        ts->rng ^= ts->rng >> 12;
        ts->rng ^= ts->rng << 25;
        ts->rng ^= ts->rng >> 27;
        uint64_t v = ts->rng * 2685821657736338717ull;
        for (int i = 0; i < 5; i++) b[6 + k * 5 + i] = (unsigned char)(v >> (8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x70);   /* version 7: time ordered */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = h[b[i] >> 4];
        *p++ = h[b[i] & 15];
    }
    *p = 0;
}

/* The decision.made event: what was asked, by whom (from the token) and the answer. It is
 * written in the store's canonical form (docs/store.md, "Canonical form"): keys in byte
 * order at every level (djson is the sorted rendering) and jansson's escapes
 * (lh_json_escape), so the store's scan keeps it as it is instead of rewriting it. */
static int eventData(lh_req *rq, const lh_request *r, const char *djson, obuf *o) {
    ostr(o, "{");
    if (r->command) { ostr(o, "\"command\":"); ojson(o, r->command, EVENT_INPUT_MAX); ostr(o, ","); }
    ostr(o, "\"cwd\":");
    ojson(o, r->cwd ? r->cwd : "/", 4096);
    ostr(o, ",\"decision\":");
    ostr(o, djson);
    if (rq->esc.id[0]) { ostr(o, ",\"escalation_id\":"); ojson(o, rq->esc.id, 32); }
    if (r->file_path) { ostr(o, ",\"file_path\":"); ojson(o, r->file_path, 4096); }
    if (r->path) { ostr(o, ",\"path\":"); ojson(o, r->path, 4096); }
    ostr(o, ",\"role\":");
    ojson(o, lh_role_name(rq->claims.role), 16);
    ostr(o, ",\"route\":");
    ojson(o, lh_route_name(rq->route), 64);
    if (r->session) { ostr(o, ",\"session\":"); ojson(o, r->session, 256); }
    ostr(o, ",\"tool\":");
    ojson(o, r->tool_name ? r->tool_name : "", 256);
    if (r->url) { ostr(o, ",\"url\":"); ojson(o, r->url, 4096); }
    ostr(o, "}");
    return o->bad ? -1 : 0;
}

int lh_bridge_event_data(lh_req *rq, const lh_request *r, const lh_decision *d, const char *id, char *scratch,
                         size_t cap) {
    if (lh_decision_to_json_sorted(d, id, scratch, cap) < 0) return -1;
    obuf o = {&rq->evdata, &rq->evcap, 0, 0};
    return eventData(rq, r, scratch, &o);
}

static int replyParts(lh_req *rq, const lh_decision *d, const char *djson, int dlen, int approve);

/* ?wait=SECONDS of a decision route (not the OPA route): how long to wait for an
 * escalation's verdict, at most LH_ESC_WAIT_MAX_S. -1 when it is not 0 to 3600. */
static int argWait(struct MHD_Connection *c, lh_route route, long long *out) {
    const char *v = route == LH_ROUTE_OPA ? NULL : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
    *out = 0;
    if (!v || !*v) return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < 0 || n > 3600) return -1;
    *out = n > LH_ESC_WAIT_MAX_S ? LH_ESC_WAIT_MAX_S : n;
    return 0;
}

static enum MHD_Result replyDecision(const lh_bridge *b, struct MHD_Connection *c, lh_req *rq, const char *body,
                                     size_t n, enum MHD_ResponseMemoryMode mode);

enum MHD_Result lh_route_decide(lh_bridge *b, struct MHD_Connection *c, lh_req *rq) {
    enum MHD_Result rc;
    if (checkBody(b, c, rq, &rc)) return rc;
    lh_tstate *ts = lh_bridge_tstate(b);
    if (!ts) return lh_http_error(b, c, rq, 500, "internal", "out of memory");
    lh_arena_reset(ts->arena);
    char err[512];
    const char *json = rq->body;
    size_t jlen = rq->len;
    json_t *opa = NULL;
    char *opaText = NULL;
    if (rq->route == LH_ROUTE_OPA) {
        json_error_t je;
        opa = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &je);
        json_t *input = json_object_get(opa, "input");
        if (!opa || !json_is_object(input)) {
            json_decref(opa);
            return lh_http_error(b, c, rq, 400, "bad_request", "%s", opa ? "expected {\"input\": REQUEST}" : je.text);
        }
        opaText = json_dumps(input, JSON_COMPACT);
        json_decref(opa);
        if (!opaText) return lh_http_error(b, c, rq, 500, "internal", "out of memory");
        json = opaText;
        jlen = strlen(opaText);
    }
    lh_request r;
    int prc = lh_request_parse_json(ts->arena, json, jlen, &r, err, sizeof(err));
    free(opaText);
    if (prc || edgeCheck(&r, err, sizeof(err))) return lh_http_error(b, c, rq, 400, "bad_request", "%s", err);
    if (rq->route == LH_ROUTE_HOOK && r.event && strcmp(r.event, "PreToolUse"))
        return replyDecision(b, c, rq, "{}\n", 3, MHD_RESPMEM_PERSISTENT);   /* nothing to decide */
    /* The agent is the token's, never the body's. */
    /* Relative paths in the call are judged against cwd: without it the answer would rest
     * on a guess (docs/api.md). */
    if (!r.cwd)
        return lh_http_error(b, c, rq, 400, "bad_request", "request needs \"cwd\": the absolute working directory of the call");
    r.agent = rq->claims.agent;
    r.role = lh_role_name(rq->claims.role);
    long long wait = 0;
    if (argWait(c, rq->route, &wait))
        return lh_http_error(b, c, rq, 400, "bad_request", "wait must be 0 to 3600 seconds (at most %d are waited)",
                             LH_ESC_WAIT_MAX_S);
    lh_sessions_note(b->sessions, r.session);

    lh_engref *er = lh_engines_get(b->engines, &ts->eng);
    lh_decision d;
    uint64_t t0 = lh_mono_ns();
    lh_engine_decide(er->e, &r, ts->arena, &d, 0);
    uint64_t dt = lh_mono_ns() - t0;
    d.latency_us = dt / 1000;
    lh_metrics_decision(b->m, d.action, d.tier, d.risk, d.action == LH_ESCALATE, dt);
    /* An escalate decision with a route becomes an escalation (or is answered from the
     * verdict cache); the hook's reason then names it. */
    struct timespec ec0 = {0}, ec1;   /* escalation work's CPU (metrics.h); only when it escalates */
    if (d.action == LH_ESCALATE && d.escalation) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ec0);
    if (d.action == LH_ESCALATE && d.escalation &&
        lh_escalations_on_decision(b->escalations, rq, &r, &d, er->e, ts->arena) == 1) {
        rq->esc.wait_ns = (uint64_t)wait * 1000000000ull;
        if (rq->route == LH_ROUTE_HOOK) {
            const char *why = lh_arena_printf(ts->arena, "%s (escalation %s)", d.reason ? d.reason : "", rq->esc.id);
            if (why) d.reason = why;
        }
    }
    if (ec0.tv_sec || ec0.tv_nsec) {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ec1);
        lh_metrics_escalation_cpu(b->m, (uint64_t)((ec1.tv_sec - ec0.tv_sec) * 1000000000LL + (ec1.tv_nsec - ec0.tv_nsec)));
    }
    rq->fast = d.action != LH_ESCALATE && d.tier != LH_TIER_EXPERT;

    char id[37];
    newId(ts, id);
    /* The event's decision (keys sorted) and then the reply's (the contract's order) are
     * rendered in turn into the thread's buffer. The hook's reply has no decision object,
     * so it is not rendered for it. */
    if (lh_bridge_event_data(rq, &r, &d, id, ts->buf, ts->bufcap)) {
        lh_escalations_abandon(rq);
        return lh_http_error(b, c, rq, 500, "internal", "decision too large, or out of memory");
    }
    int dlen = 0;
    if (rq->route != LH_ROUTE_HOOK && (dlen = lh_decision_to_json(&d, id, ts->buf, ts->bufcap)) < 0) {
        lh_escalations_abandon(rq);
        return lh_http_error(b, c, rq, 500, "internal", "decision too large");
    }
    memcpy(rq->id, id, sizeof(rq->id));
    snprintf(rq->aggregate, sizeof(rq->aggregate), SESSION_PREFIX "%s", r.session ? r.session : "");
    /* The reply is written now (the decision lives in this thread's arena, which the next
     * request reuses) and completed with the seq once the event is durable. */
    if (replyParts(rq, &d, ts->buf, dlen, b->cfg.hook_approve)) {
        lh_escalations_abandon(rq);
        return lh_http_error(b, c, rq, 500, "internal", "out of memory");
    }
    /* A new escalation's event goes first, in the same commit as the decision: one fsync
     * and one hand-off to the store's writer for both (escalations.h). */
    lh_event ev[2];
    size_t nev = 0;
    if (rq->esc.created)
        ev[nev++] = (lh_event){.type = "escalation.created", .agent = rq->claims.agent, .aggregate = rq->esc.id,
                               .data = rq->esc.created};
    ev[nev++] = (lh_event){.type = "decision.made", .id = rq->id, .agent = rq->claims.agent,
                           .aggregate = rq->aggregate, .data = rq->evdata};
    rq->waiting = 1;   /* the next call of this connection's handler is the resumed one */
    int src = lh_appender_submit_n(b->appender, c, &rq->job, ev, nev, rq->esc.unborn ? lh_escalations_born : NULL,
                                   &rq->esc);
    free(rq->esc.created);   /* the store copied it */
    rq->esc.created = NULL;
    if (src) {
        rq->waiting = 0;
        return lh_http_error(b, c, rq, 503, "shutting_down", "the bridge is stopping");
    }
    return MHD_YES;
}

/* The reply in rq->reply, in two parts around the seq: validate → decision JSON; OPA →
 * {"result": …}; hook → PreToolUse output whose reason names the event, or {} for an
 * allow unless approve (hook_allow: approve). djson is the
 * decision without a seq (it ends in "}"; not rendered, and not read, for the hook). Room
 * for the seq is left between the parts. */
static int replyParts(lh_req *rq, const lh_decision *d, const char *djson, int dlen, int approve) {
    obuf o = {&rq->reply, &rq->reply_cap, 0, 0};
    const char *post;
    rq->with_seq = 1;
    switch (rq->route) {
    case LH_ROUTE_HOOK: {
        /* The hook's output (lh_decision_to_hook_json); "" for an allow without approve,
         * which answers {}: no opinion, Claude Code applies the user's own permission
         * settings (hook_allow: approve gives an explicit "allow"; docs/api.md). The reason
         * of a deny or an ask ends with the event's seq. */
        static _Thread_local char hook[LH_HOOK_OUTPUT_MAX], tail[8];
        size_t end;
        int n = lh_decision_to_hook_json(d, NULL, approve, hook, sizeof(hook), &end);
        if (n < 0) return -1;
        rq->with_seq = n > 0 && d->action != LH_ALLOW;
        if (n == 0) { ostr(&o, "{"); post = "}\n"; break; }
        oput(&o, hook, end);
        if (rq->with_seq) ostr(&o, " (event ");
        snprintf(tail, sizeof(tail), "%s%s\n", rq->with_seq ? ")" : "", hook + end);
        post = tail;
        break;
    }
    case LH_ROUTE_OPA:
        ostr(&o, "{\"result\":");
        oput(&o, djson, (size_t)dlen - 1);
        if (rq->esc.id[0]) { ostr(&o, ",\"escalation_id\":"); ojson(&o, rq->esc.id, 32); }
        ostr(&o, ",\"seq\":");
        post = "}}\n";
        break;
    default:
        oput(&o, djson, (size_t)dlen - 1);
        if (rq->esc.id[0]) { ostr(&o, ",\"escalation_id\":"); ojson(&o, rq->esc.id, 32); }
        ostr(&o, ",\"seq\":");
        post = "}\n";
        break;
    }
    rq->pre_len = o.len;
    oput(&o, "                    ", 20); /* the seq's room: 19 digits at most */
    rq->post_at = o.len;
    ostr(&o, post);
    rq->reply_len = o.len;
    return o.bad ? -1 : 0;
}

/* The hook route's proof of origin (util/replysig.h, docs/api.md "Reply signatures"):
 * X-Lighthouse-Signature over the hook's nonce and the body, keyed by the caller's
 * (already verified) bearer token, and X-Lighthouse-Reply-Signature keyed by the token's
 * reply key, which only this bridge's token key derives. Nothing when the hook sent no
 * nonce. */
static void signReply(const lh_bridge *b, struct MHD_Connection *c, const lh_req *rq, struct MHD_Response *resp,
                      const char *body, size_t n) {
    if (rq->route != LH_ROUTE_HOOK || !rq->authed) return;
    const char *nonce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, LH_REPLY_NONCE_HEADER);
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!nonce || !*nonce || strlen(nonce) > LH_REPLY_NONCE_MAX || !h || strncasecmp(h, "Bearer ", 7)) return;
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    unsigned char key[32];
    char hex[65];
    lh_reply_key(tok, strlen(tok), key);
    if (lh_reply_sig(key, nonce, strlen(nonce), body, n, hex) == 0)
        MHD_add_response_header(resp, LH_REPLY_SIG_HEADER, hex);
    lh_reply_key_of(b->tokkey, rq->claims.tid, key);
    if (lh_reply_sig(key, nonce, strlen(nonce), body, n, hex) == 0)
        MHD_add_response_header(resp, LH_REPLY_KEYSIG_HEADER, hex);
}

/* A 200 JSON reply from a buffer that outlives the response (PERSISTENT) or not (COPY),
 * signed for the hook. */
static enum MHD_Result replyDecision(const lh_bridge *b, struct MHD_Connection *c, lh_req *rq, const char *body,
                                     size_t n, enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, (void *)body, mode);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    signReply(b, c, rq, resp, body, n);
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    rq->status = 200;
    return rc;
}

/* The reply of a decision whose escalation ended while it waited: the experts' (or the
 * timeout's) decision, tier expert, with the rule and the seq of the escalate decision
 * that was recorded. 0, or -1 when it is still pending or unknown (the escalate reply
 * stands). */
static int finalReply(lh_bridge *b, lh_req *rq) {
    lh_tstate *ts = lh_bridge_tstate(b);
    if (!ts) return -1;
    lh_arena_reset(ts->arena);
    lh_esc_final f;
    if (lh_escalations_final(b->escalations, rq->esc.id, ts->arena, &f) || f.pending) return -1;
    lh_decision d = {.action = f.action, .risk = f.risk, .tier = LH_TIER_EXPERT, .rule = f.rule,
                     .reason = f.reason, .policy_revision = f.revision};
    if (rq->route == LH_ROUTE_HOOK) {
        const char *why = lh_arena_printf(ts->arena, "%s (escalation %s)", f.reason, rq->esc.id);
        if (why) d.reason = why;
    }
    int dlen = 0;
    if (rq->route != LH_ROUTE_HOOK && (dlen = lh_decision_to_json(&d, rq->id, ts->buf, ts->bufcap)) < 0) return -1;
    return replyParts(rq, &d, ts->buf, dlen, b->cfg.hook_approve);
}

/* The resumed call of a decision request: its append finished (and any wait for its
 * escalation's verdict is over). */
enum MHD_Result lh_route_decide_finish(lh_bridge *b, struct MHD_Connection *c, lh_req *rq) {
    if (rq->route == LH_ROUTE_ESCALATION_VERDICT) return lh_escalations_verdict_finish(b, c, rq);
    if (rq->job.rc)
        return lh_http_error(b, c, rq, 503, "store_unavailable",
                             "the decision could not be recorded, so it is not given: %s", rq->job.err);
    if (rq->esc.id[0] && rq->esc.wait_ns && !rq->esc.waited) {
        /* The escalate decision is durable; now wait for the verdict, suspended. */
        rq->esc.waited = 1;
        rq->esc.until = lh_mono_ns() + rq->esc.wait_ns;
        if (lh_escalations_wait(b->escalations, c, rq) == 0) return MHD_YES;
    }
    if (rq->esc.id[0] && rq->esc.waited) finalReply(b, rq);   /* else the escalate reply stands */
    /* The seq goes into the room left for it and the second part moves up behind it. The
     * buffer lives in rq, which outlives the response (reqFree runs when the request is
     * complete), so MHD sends it without a copy. */
    char *out = rq->reply;
    size_t n = rq->pre_len;
    if (rq->with_seq) n += (size_t)snprintf(out + n, 21, "%lld", (long long)rq->job.seq);
    memmove(out + n, out + rq->post_at, rq->reply_len - rq->post_at);
    n += rq->reply_len - rq->post_at;
    return replyDecision(b, c, rq, out, n, MHD_RESPMEM_PERSISTENT);
}

/* ---- GET /v1/events ------------------------------------------------------------- */

json_t *lh_bridge_event_json(const lh_event *e) {
    static const char h[] = "0123456789abcdef";
    char mac[2 * LH_STORE_MAC_LEN + 1];
    for (int i = 0; i < LH_STORE_MAC_LEN; i++) { mac[2 * i] = h[e->mac[i] >> 4]; mac[2 * i + 1] = h[e->mac[i] & 15]; }
    mac[2 * LH_STORE_MAC_LEN] = 0;
    json_t *data = json_loads(e->data, 0, NULL);
    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:o,s:s}", "seq", (json_int_t)e->seq, "id", e->id, "type", e->type,
                     "time_ns", (json_int_t)e->time_ns, "agent", e->agent, "aggregate", e->aggregate, "data",
                     data ? data : json_null(), "mac", mac);
}

static enum MHD_Result replyJson(struct MHD_Connection *c, lh_req *r, int status, json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(s); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return rc;
}
enum MHD_Result lh_bridge_reply_json(struct MHD_Connection *c, lh_req *r, int status, json_t *j) {
    return replyJson(c, r, status, j);
}

enum MHD_Result lh_route_events(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_store_filter f = {0};
    int64_t after = 0, limit = 100;
    if (lh_http_arg_int(c, "after", 0, INT64_MAX, &after) || lh_http_arg_int(c, "limit", 1, 1000, &limit))
        return lh_http_error(b, c, r, 400, "bad_request", "after must be a seq >= 0 and limit 1 to 1000");
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    const char *agent = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "agent");
    if ((type && (strlen(type) > LH_STORE_MAX_TYPE || !lh_utf8_valid(type, strlen(type)))) ||
        (agent && (strlen(agent) > LH_STORE_MAX_NAME || !lh_utf8_valid(agent, strlen(agent)))))
        return lh_http_error(b, c, r, 400, "bad_request", "type and agent must be UTF-8 of at most %d and %d bytes",
                             LH_STORE_MAX_TYPE, LH_STORE_MAX_NAME);
    f.type = type && *type ? type : NULL;
    f.agent = agent && *agent ? agent : NULL;
    f.after_seq = after;
    f.limit = (size_t)limit;
    lh_event_list l = {0};
    char err[256];
    if (lh_store_query(b->store, &f, &l, err, sizeof(err))) {
        lh_event_list_free(&l);
        return lh_http_error(b, c, r, 503, "store_unavailable", "cannot read events: %s", err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < l.n; i++) json_array_append_new(arr, lh_bridge_event_json(&l.events[i]));
    json_t *out = json_pack("{s:o,s:I}", "events", arr, "next_after", (json_int_t)(l.n ? l.cursor : after));
    lh_event_list_free(&l);
    return replyJson(c, r, 200, out);
}

/* ---- GET /v1/status, /metrics -------------------------------------------------- */

enum MHD_Result lh_route_status(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    char rev[160], err[256];
    lh_engines_revision(b->engines, rev, sizeof(rev));
    lh_store_stats st;
    int sok = lh_store_stats_get(b->store, &st, err, sizeof(err)) == 0;
    json_t *store = sok ? json_pack("{s:s,s:b,s:I,s:I,s:I}", "backend", st.backend, "appending",
                                    lh_appender_store_ok(b->appender), "head_seq", (json_int_t)st.head_seq, "events",
                                    (json_int_t)st.events, "bytes", (json_int_t)st.bytes)
                        : json_pack("{s:b,s:s}", "appending", 0, "error", err);
    json_t *out = json_pack("{s:s,s:I,s:s,s:b,s:o,s:i,s:I,s:o}", "version", LH_VERSION, "uptime_s",
                            (json_int_t)((lh_mono_ns() - b->start_ns) / 1000000000ull), "policy_revision", rev,
                            "ready", lh_bridge_ready(b), "store", store,
                            "connections", (int)lh_bridge_connections(b), "active_sessions",
                            (json_int_t)lh_sessions_active(b->sessions), "sla", lh_slamon_status_json(b->sla));
    return replyJson(c, r, 200, out);
}

enum MHD_Result lh_route_metrics(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_metrics_extra x = {0};
    char rev[160];
    lh_engines_revision(b->engines, rev, sizeof(rev));
    x.policy_revision = rev;
    lh_engines_cache_stats(b->engines, &x.cache_hits, &x.cache_lookups);
    x.active_connections = lh_bridge_connections(b);
    x.active_sessions = lh_sessions_active(b->sessions);
    x.postgres = b->postgres ? lh_appender_store_ok(b->appender) : -1;
    x.start_time = b->start_time;
    char *sla = lh_slamon_metrics(b->sla), *sh = lh_shadows_metrics(b->shadows), *more = NULL;
    char *ex = lh_experts_metrics(b->experts), *es = lh_escalations_metrics(b->escalations);
    char *el = lh_elicits_metrics(b->elicits);
    if (asprintf(&more, "%s%s%s%s%s", sla ? sla : "", sh ? sh : "", ex ? ex : "", es ? es : "",
                 el ? el : "") < 0)
        more = NULL;
    free(sla);
    free(sh);
    free(ex);
    free(es);
    free(el);
    x.more = more;
    size_t len;
    char *text = lh_metrics_render(b->m, &x, &len);
    free(more);
    if (!text) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(text); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

/* GET /v1/sla: the monitor's state (sla_monitor.c renders it). */
enum MHD_Result lh_route_sla(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    json_t *out = lh_slamon_sla_json(b->sla);
    if (!out) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    return replyJson(c, r, 200, out);
}

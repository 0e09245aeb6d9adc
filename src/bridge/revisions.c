/* revisions.c — policy revisions as events: activate (start, SIGHUP, POST /v1/policy),
 * history and rollback.
 *
 * Each activation records policy.activated with the revision and the policy's YAML, so
 * a rollback can rebuild any earlier revision from the log alone; a rollback records
 * policy.rolled_back. The new engine is built first and installed only after its event
 * is durable; requests in flight keep the engine they started with (see server.c). */
#include "bridge/revisions.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/policy.h"

struct lh_revisions {
    pthread_mutex_t policy_mu;    /* serialises policy pushes, rollbacks and reloads */
    int64_t applied_seq;          /* guarded by policy_mu: seq of the newest policy event in force here */
    lh_revisions_observer observer;
    void *observer_ctx;
};

lh_revisions *lh_revisions_new(void) {
    lh_revisions *rv = calloc(1, sizeof(*rv));
    if (rv) pthread_mutex_init(&rv->policy_mu, NULL);
    return rv;
}

void lh_revisions_free(lh_revisions *rv) {
    if (!rv) return;
    pthread_mutex_destroy(&rv->policy_mu);
    free(rv);
}

void lh_revisions_observe(lh_revisions *rv, lh_revisions_observer fn, void *ctx) {
    rv->observer = fn;
    rv->observer_ctx = ctx;
}

/* Record and install. Caller holds policy_mu. extra (borrowed, may be NULL) is merged
 * into the event's data. The observer (the SLA monitor, wired by server.c) is told of
 * every change, so it knows each revision's age and what came before it. */
static int activateLocked(lh_bridge *b, lh_engref *er, const char *type, const char *source,
                          const char *agent, json_t *extra, int64_t *seq, uint64_t *recordedAt, char *err,
                          size_t errlen) {
    char prev[160];
    lh_engines_revision(b->engines, prev, sizeof(prev));
    json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "revision", er->revision, "source", source, "previous", prev,
                          "policy", er->yaml);
    if (!d) { snprintf(err, errlen, "the policy must be valid UTF-8 text"); return -1; }
    if (extra) json_object_update(d, extra);
    char *data = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    if (!data) { snprintf(err, errlen, "out of memory"); return -1; }
    int64_t s = 0;
    char serr[256];
    int rc = lh_bridge_append(b, type, agent, "policy", data, &s, serr, sizeof(serr));
    free(data);
    if (rc) { snprintf(err, errlen, "the event store cannot record the policy change: %s", serr); return -1; }
    if (recordedAt) *recordedAt = lh_mono_ns();
    if (s > b->revisions->applied_seq) b->revisions->applied_seq = s;
    char rev[160];
    snprintf(rev, sizeof(rev), "%s", er->revision);
    lh_engines_install(b->engines, er);
    lh_revisions *rv = b->revisions;
    if (rv->observer) rv->observer(rv->observer_ctx, rev, !strcmp(type, "policy.rolled_back"));
    if (seq) *seq = s;
    return 0;
}

/* Another replica's policy.activated or policy.rolled_back, seen by the watcher (revwatch.c):
 * build its engine from the YAML in the event and install it, without recording anything.
 * Events at or before applied_seq are skipped: this replica's own (already installed when
 * the watcher sees them) and any older than the one in force, so every replica ends on the
 * policy of the newest policy event, whichever replica wrote it. */
int lh_revisions_apply_event(lh_bridge *b, const lh_event *ev, char *err, size_t errlen) {
    lh_revisions *rv = b->revisions;
    pthread_mutex_lock(&rv->policy_mu);
    int rc = 0;
    if (ev->seq <= rv->applied_seq) goto out;
    json_t *d = json_loads(ev->data, 0, NULL);
    json_t *pol = json_object_get(d, "policy");
    if (!json_is_string(pol)) {
        snprintf(err, errlen, "policy event seq %lld has no policy text", (long long)ev->seq);
        rc = -1;
    } else {
        char source[48];
        snprintf(source, sizeof(source), "replica seq %lld", (long long)ev->seq);
        lh_engref *er = lh_engines_build(b->engines, json_string_value(pol), json_string_length(pol), source, err, errlen);
        if (!er) {
            rc = -1;
        } else {
            char rev[160];
            snprintf(rev, sizeof(rev), "%s", er->revision);
            lh_engines_install(b->engines, er);
            if (rv->observer) rv->observer(rv->observer_ctx, rev, !strcmp(ev->type, "policy.rolled_back"));
        }
    }
    json_decref(d);
    rv->applied_seq = ev->seq; /* a policy this build cannot load is reported once, not retried */
out:
    pthread_mutex_unlock(&rv->policy_mu);
    return rc;
}

int lh_bridge_policy_install(lh_bridge *b, lh_engref *er, const char *source, const char *agent,
                             int64_t *seq, char *err, size_t errlen) {
    pthread_mutex_lock(&b->revisions->policy_mu);
    int rc = activateLocked(b, er, "policy.activated", source, agent, NULL, seq, NULL, err, errlen);
    pthread_mutex_unlock(&b->revisions->policy_mu);
    if (rc) lh_engref_discard(er);
    return rc;
}

/* POST /v1/policy: the body is the policy YAML (application/yaml) or {"policy": "YAML"}. */
enum MHD_Result lh_route_policy_push(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    if (r->len == 0) return lh_http_error(b, c, r, 400, "bad_request", "empty body: send the policy YAML");
    if (!lh_store_utf8_valid(r->body, r->len)) return lh_http_error(b, c, r, 400, "invalid_utf8", "the body is not valid UTF-8");
    const char *yaml = r->body;
    size_t len = r->len;
    json_t *j = NULL;
    if (!r->yaml) {
        if (lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth)
            return lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        json_error_t je;
        j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
        json_t *p = json_object_get(j, "policy");
        if (!json_is_string(p)) {
            json_decref(j);
            return lh_http_error(b, c, r, 400, "bad_request", "expected {\"policy\": \"YAML text\"} or a YAML body");
        }
        yaml = json_string_value(p);
        len = json_string_length(p);
    }
    char err[1024], rev[160], prev[160];
    lh_engines_revision(b->engines, prev, sizeof(prev));
    lh_engref *er = lh_engines_build(b->engines, yaml, len, "request", err, sizeof(err));
    json_decref(j);
    if (!er) return lh_http_error(b, c, r, 400, "invalid_policy", "%s", err);
    snprintf(rev, sizeof(rev), "%s", er->revision);
    int64_t seq = 0;
    pthread_mutex_lock(&b->revisions->policy_mu);
    int rc = activateLocked(b, er, "policy.activated", "api", r->claims.agent, NULL, &seq, NULL, err, sizeof(err));
    pthread_mutex_unlock(&b->revisions->policy_mu);
    if (rc) {
        lh_engref_discard(er);
        return lh_http_error(b, c, r, 503, "store_unavailable", "%s", err);
    }
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:s,s:s,s:I}", "revision", rev, "previous", prev, "seq", (json_int_t)seq));
}

/* The policy.* events, newest first (at most limit). */
static int policyEvents(lh_bridge *b, size_t limit, lh_event_list *l, char *err, size_t errlen) {
    lh_store_filter f = {0};
    f.type = "policy.*";
    f.descending = 1;
    f.limit = limit;
    return lh_store_query(b->store, &f, l, err, errlen);
}

enum MHD_Result lh_route_policy_history(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_event_list l = {0};
    char err[256], rev[160];
    if (policyEvents(b, 100, &l, err, sizeof(err))) {
        lh_event_list_free(&l);
        return lh_http_error(b, c, r, 503, "store_unavailable", "cannot read the policy history: %s", err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < l.n; i++) {
        json_t *d = json_loads(l.events[i].data, 0, NULL);
        json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:O,s:O,s:O}", "seq", (json_int_t)l.events[i].seq, "type",
                              l.events[i].type, "time_ns", (json_int_t)l.events[i].time_ns, "agent", l.events[i].agent,
                              "revision", json_object_get(d, "revision") ? json_object_get(d, "revision") : json_null(),
                              "source", json_object_get(d, "source") ? json_object_get(d, "source") : json_null(),
                              "previous", json_object_get(d, "previous") ? json_object_get(d, "previous") : json_null());
        json_decref(d);
        if (o) json_array_append_new(arr, o);
    }
    lh_event_list_free(&l);
    lh_engines_revision(b->engines, rev, sizeof(rev));
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:s,s:o}", "active", rev, "history", arr));
}

static double msSince(uint64_t *t) {
    uint64_t now = lh_mono_ns();
    double ms = (double)(now - *t) / 1e6;
    *t = now;
    return ms;
}

static void addStep(lh_rollback_result *res, const char *name, double ms) {
    if (res->nsteps >= LH_ROLLBACK_STEPS) return;
    snprintf(res->steps[res->nsteps].name, sizeof(res->steps[0].name), "%s", name);
    res->steps[res->nsteps++].ms = ms;
}

static json_t *stepsJson(const lh_rollback_result *res) {
    json_t *a = json_array();
    for (int i = 0; i < res->nsteps; i++)
        json_array_append_new(a, json_pack("{s:s,s:f}", "step", res->steps[i].name, "ms", res->steps[i].ms));
    return a;
}

/* Find the YAML of the revision to restore in the policy.* events, newest first: want,
 * or (want empty) the first revision that is not cur. A new reference, or NULL. */
static json_t *findRevision(lh_bridge *b, const char *want, const char *cur, char *err, size_t errlen, int *status) {
    lh_event_list l = {0};
    char qerr[256];
    if (policyEvents(b, 1000, &l, qerr, sizeof(qerr))) {
        lh_event_list_free(&l);
        snprintf(err, errlen, "cannot read the policy history: %s", qerr);
        *status = 503;
        return NULL;
    }
    json_t *found = NULL;
    for (size_t i = 0; i < l.n && !found; i++) {
        json_t *d = json_loads(l.events[i].data, 0, NULL);
        const char *rv = json_string_value(json_object_get(d, "revision"));
        const char *pol = json_string_value(json_object_get(d, "policy"));
        int match = rv && pol && (want[0] ? !strcmp(rv, want) : strcmp(rv, cur) != 0);
        if (match) found = d;
        else json_decref(d);
    }
    lh_event_list_free(&l);
    if (!found) {
        *status = 404;
        if (want[0]) snprintf(err, errlen, "no recorded policy revision %s", want);
        else snprintf(err, errlen, "no earlier revision to roll back to");
    }
    return found;
}

int lh_bridge_rollback(lh_bridge *b, const lh_rollback_req *rq, lh_rollback_result *res, char *err, size_t errlen) {
    int trig = rq->trigger == LH_ROLLBACK_SLA ? LH_ROLLBACK_SLA : LH_ROLLBACK_API;
    const char *want = rq->target ? rq->target : "";
    memset(res, 0, sizeof(*res));
    for (int i = 0; i < rq->npre; i++) addStep(res, rq->pre[i].name, rq->pre[i].ms);
    lh_metrics_rollback(b->m, trig, LH_ROLLBACK_TRIGGERED, 0);
    uint64_t t0 = lh_mono_ns(), t = t0;
    pthread_mutex_lock(&b->revisions->policy_mu);
    lh_engines_revision(b->engines, res->previous, sizeof(res->previous));
    json_t *found = NULL;
    lh_engref *er = NULL;
    if (rq->expect_current && strcmp(rq->expect_current, res->previous)) {
        snprintf(err, errlen, "the active revision changed to %s", res->previous);
        res->status = 409;
        goto fail;
    }
    found = findRevision(b, want, res->previous, err, errlen, &res->status);
    if (!found) goto fail;
    addStep(res, "load_history", msSince(&t));
    json_t *pol = json_object_get(found, "policy");
    er = lh_engines_build(b->engines, json_string_value(pol), json_string_length(pol), "rollback", err, errlen);
    if (!er) { res->status = 400; goto fail; }
    addStep(res, "build_engine", msSince(&t));
    snprintf(res->revision, sizeof(res->revision), "%s", er->revision);
    /* The event holds the steps before it: it must be durable before the revision is
     * installed, so it cannot hold its own commit time (res has every step). */
    json_t *extra = rq->extra ? json_deep_copy(rq->extra) : json_object();
    json_object_set_new(extra, "from", json_string(res->previous));
    json_object_set_new(extra, "trigger", json_string(trig == LH_ROLLBACK_SLA ? "sla" : "api"));
    json_object_set_new(extra, "steps", stepsJson(res));
    uint64_t recorded = 0;
    int rc = activateLocked(b, er, "policy.rolled_back", trig == LH_ROLLBACK_SLA ? "sla" : "rollback", rq->agent, extra,
                            &res->seq, &recorded, err, errlen);
    json_decref(extra);
    if (rc) { lh_engref_discard(er); res->status = 503; goto fail; }
    addStep(res, "record", (double)(recorded - t) / 1e6);
    t = recorded;
    addStep(res, "install", msSince(&t));
    pthread_mutex_unlock(&b->revisions->policy_mu);
    json_decref(found);
    res->duration_ns = lh_mono_ns() - t0;
    lh_metrics_rollback(b->m, trig, LH_ROLLBACK_SUCCEEDED, res->duration_ns);
    return 0;
fail:
    pthread_mutex_unlock(&b->revisions->policy_mu);
    json_decref(found);
    res->duration_ns = lh_mono_ns() - t0;
    lh_metrics_rollback(b->m, trig, LH_ROLLBACK_FAILED, 0);
    return -1;
}

/* POST /v1/policy/rollback: body {"revision": R} or empty for the revision before the
 * active one. The YAML comes from the newest policy.activated event for R. */
enum MHD_Result lh_route_policy_rollback(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    char want[160] = "", err[1024];
    if (r->len) {
        if (!lh_store_utf8_valid(r->body, r->len)) return lh_http_error(b, c, r, 400, "invalid_utf8", "the body is not valid UTF-8");
        if (lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth)
            return lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
        json_t *v = json_object_get(j, "revision");
        if (!json_is_object(j) || (v && (!json_is_string(v) || json_string_length(v) >= sizeof(want)))) {
            json_decref(j);
            return lh_http_error(b, c, r, 400, "bad_request", "expected {\"revision\": \"REVISION\"} or an empty body");
        }
        if (v) snprintf(want, sizeof(want), "%s", json_string_value(v));
        json_decref(j);
    }
    lh_rollback_req rq = {.target = want, .trigger = LH_ROLLBACK_API, .agent = r->claims.agent};
    lh_rollback_result res;
    if (lh_bridge_rollback(b, &rq, &res, err, sizeof(err))) {
        const char *code = res.status == 404 ? "not_found" : res.status == 400 ? "invalid_policy" : "store_unavailable";
        return lh_http_error(b, c, r, res.status ? res.status : 503, code, "%s", err);
    }
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:s,s:s,s:I}", "revision", res.revision, "previous", res.previous,
                                                     "seq", (json_int_t)res.seq));
}

/* loadruns.c — the central performance history: POST /v1/load/runs records a run's
 * summary from `lighthouse load` as an audited `load.completed` event (admin), and GET
 * /v1/load/runs pages them back (expert, admin). The summary's schema is
 * src/load/summary.c's, the one the poster builds with, so both sides agree. Events go
 * through the normal append path: they are in the chain `events verify` checks, and with
 * PostgreSQL every replica reads the same history. See docs/api.md, docs/load.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge_int.h"
#include "load/load.h"
#include "util/utf8.h"

#define LOAD_RUNS_PAGE_MAX 100   /* runs per GET page: 100 × 64 KiB bounds a reply */

/* ?name=N as a whole number in [lo, hi]; 0 (absent: *out untouched) or -1. */
/* Is a run with this run_id recorded already? 1 yes (its seq in *seq), 0 no, -1 unknown. */
static int recorded(lh_bridge *b, const char *aggregate, int64_t *seq, char *err, size_t errlen) {
    lh_store_filter f = {0};
    f.type = "load.completed";
    f.aggregate = aggregate;
    f.limit = 1;
    lh_event_list l = {0};
    int rc = lh_store_query(b->store, &f, &l, err, errlen);
    int found = !rc && l.n > 0;
    if (found) *seq = l.events[0].seq;
    lh_event_list_free(&l);
    return rc ? -1 : found;
}

static enum MHD_Result postRun(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    if (r->claims.role != LH_ROLE_ADMIN)
        return lh_http_error(b, c, r, 403, "forbidden", "role %s may not post to /v1/load/runs (admin only)",
                             lh_role_name(r->claims.role));
    if (r->len > LH_LOAD_SUMMARY_MAX_BYTES)
        return lh_http_error(b, c, r, 413, "payload_too_large", "a run summary is at most %d bytes", LH_LOAD_SUMMARY_MAX_BYTES);
    if (!r->len) return lh_http_error(b, c, r, 400, "bad_request", "the body must be a run summary (JSON; docs/load.md)");
    if (!lh_utf8_valid(r->body, r->len)) return lh_http_error(b, c, r, 400, "invalid_utf8", "the body is not valid UTF-8");
    if (lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth)
        return lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
    json_error_t je;
    json_t *s = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!s) return lh_http_error(b, c, r, 400, "bad_json", "the body is not JSON: %s (line %d)", je.text, je.line);
    char why[256];
    if (lh_load_summary_check(s, why, sizeof(why))) {
        json_decref(s);
        return lh_http_error(b, c, r, 400, "bad_request", "not a run summary: %s (docs/load.md)", why);
    }
    char aggregate[96], err[256];
    snprintf(aggregate, sizeof(aggregate), "load-run:%s", json_string_value(json_object_get(s, "run_id")));
    int64_t seq = 0;
    int had = recorded(b, aggregate, &seq, err, sizeof(err));
    if (had) {
        json_decref(s);
        if (had < 0) return lh_http_error(b, c, r, 503, "store_unavailable", "cannot read the history: %s", err);
        return lh_http_error(b, c, r, 400, "duplicate_run", "run %s is recorded already (seq %" PRId64 ")", aggregate + 9, seq);
    }
    char *data = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(s);
    if (!data) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    int arc = lh_bridge_append(b, "load.completed", r->claims.agent, aggregate, data, &seq, err, sizeof(err));
    free(data);
    if (arc) return lh_http_error(b, c, r, 503, "store_unavailable", "the run could not be recorded: %s", err);
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:I,s:s}", "seq", (json_int_t)seq, "type", "load.completed"));
}

/* GET /v1/load/runs?after=SEQ&limit=N → {"runs": [{"seq", "time_ns", "agent", "summary"}], "next_after"} */
static enum MHD_Result listRuns(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    int64_t after = 0, limit = 50;
    if (lh_http_arg_int(c, "after", 0, INT64_MAX, &after) || lh_http_arg_int(c, "limit", 1, LOAD_RUNS_PAGE_MAX, &limit))
        return lh_http_error(b, c, r, 400, "bad_request", "after must be a seq >= 0 and limit 1 to %d", LOAD_RUNS_PAGE_MAX);
    lh_store_filter f = {0};
    f.type = "load.completed";
    f.after_seq = after;
    f.limit = (size_t)limit;
    lh_event_list l = {0};
    char err[256];
    if (lh_store_query(b->store, &f, &l, err, sizeof(err))) {
        lh_event_list_free(&l);
        return lh_http_error(b, c, r, 503, "store_unavailable", "cannot read the history: %s", err);
    }
    json_t *runs = json_array();
    for (size_t i = 0; i < l.n; i++) {
        const lh_event *e = &l.events[i];
        json_t *s = json_loads(e->data, 0, NULL);
        json_array_append_new(runs, json_pack("{s:I,s:I,s:s,s:o}", "seq", (json_int_t)e->seq, "time_ns", (json_int_t)e->time_ns,
                                              "agent", e->agent, "summary", s ? s : json_null()));
    }
    json_t *out = json_pack("{s:o,s:I}", "runs", runs, "next_after", (json_int_t)(l.n ? l.cursor : after));
    lh_event_list_free(&l);
    return lh_bridge_reply_json(c, r, 200, out);
}

enum MHD_Result lh_route_load_runs(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    return r->is_post ? postRun(b, c, r) : listRuns(b, c, r);
}

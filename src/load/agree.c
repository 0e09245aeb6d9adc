/* agree.c — the load report and the bridge agree, or the report says why not.
 *
 * The generator counts each request's outcome (answered, server fault, client error,
 * throttled, client gone); the bridge counts the same classes in its /metrics. Both are
 * read before and after the run, and the report prints them side by side. Only requests
 * whose fate the generator does not know (timed out, closed without a reply) may differ:
 * a larger difference fails the `bridge_agreement` objective, never a silent GO.
 *
 * The bridge's own per-class series is lighthouse_bridge_outcomes_total{route,class}.
 * A bridge without it is read by status code from lighthouse_bridge_requests_total
 * (200 → ok, 429 → throttled, other 4xx → client_error, 5xx → server_fault); client_gone
 * then cannot be compared, and the report says so.
 *
 * An injected reset (headers and half a body, then RST) reaches the bridge as a request
 * only when it read the headers before the RST arrived; otherwise the kernel drops the
 * unread bytes and the bridge saw no request at all. So the bridge's client_gone may fall
 * short of the load's by up to the resets, never exceed it. A bridge without the outcomes
 * series counts a request whose client went away as a 500 (no status was set), so in the
 * fallback its server_fault may exceed the load's by up to the resets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

static const char *const outNames[LH_LOAD_OUTCOMES] = {"ok", "server_fault", "client_error", "throttled", "client_gone"};

const char *lh_load_outcome_name(int c) { return c >= 0 && c < LH_LOAD_OUTCOMES ? outNames[c] : "?"; }

/* Does the label set [lb, le) hold key="value" exactly (a whole label, not a suffix)? */
static int hasLabel(const char *lb, const char *le, const char *kv) {
    size_t n = strlen(kv);
    for (const char *p = lb; p + n <= le; p++) {
        if (strncmp(p, kv, n)) continue;
        if ((p == lb || p[-1] == ',' || p[-1] == '{') && (p[n] == ',' || p[n] == '}')) return 1;
    }
    return 0;
}

double lh_load_prom_labeled(const char *text, const char *name, const char *const *labels) {
    size_t nl = strlen(name);
    double sum = 0;
    int found = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        if (*p != '#' && !strncmp(p, name, nl) && p[nl] == '{') {
            const char *le = memchr(p + nl, '}', (size_t)(eol - p - nl));
            int all = le != NULL;
            for (const char *const *l = labels; all && *l; l++) all = hasLabel(p + nl, le + 1, *l);
            if (all) {
                const char *v = eol;
                while (v > le && v[-1] != ' ') v--;
                sum += strtod(v, NULL);
                found = 1;
            }
        }
        p = *eol ? eol + 1 : NULL;
    }
    return found ? sum : NAN;
}

int lh_load_outcomes_scrape(const char *text, const char *route, double out[LH_LOAD_OUTCOMES]) {
    char rl[192];
    snprintf(rl, sizeof(rl), "route=\"%s\"", route);
    int native = 0;
    for (int c = 0; c < LH_LOAD_OUTCOMES; c++) {
        char cl[64];
        snprintf(cl, sizeof(cl), "class=\"%s\"", outNames[c]);
        out[c] = lh_load_prom_labeled(text, "lighthouse_bridge_outcomes_total", (const char *const[]){rl, cl, NULL});
        if (!isnan(out[c])) native = 1;
    }
    if (native) {
        for (int c = 0; c < LH_LOAD_OUTCOMES; c++)
            if (isnan(out[c])) out[c] = 0;   /* a class the bridge has not seen yet */
        return 1;
    }
    /* By status code: the codes the bridge exports (src/bridge/metrics.c). */
    static const struct { const char *code; int cls; } codes[] = {
        {"200", LH_LOAD_OUT_OK}, {"400", LH_LOAD_OUT_CLIENT_ERROR}, {"401", LH_LOAD_OUT_CLIENT_ERROR},
        {"403", LH_LOAD_OUT_CLIENT_ERROR}, {"404", LH_LOAD_OUT_CLIENT_ERROR}, {"405", LH_LOAD_OUT_CLIENT_ERROR},
        {"413", LH_LOAD_OUT_CLIENT_ERROR}, {"415", LH_LOAD_OUT_CLIENT_ERROR}, {"429", LH_LOAD_OUT_THROTTLED},
        {"500", LH_LOAD_OUT_SERVER_FAULT}, {"503", LH_LOAD_OUT_SERVER_FAULT},
    };
    for (int c = 0; c < LH_LOAD_OUTCOMES; c++) out[c] = 0;
    out[LH_LOAD_OUT_CLIENT_GONE] = NAN;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char cl[32];
        snprintf(cl, sizeof(cl), "code=\"%s\"", codes[i].code);
        double v = lh_load_prom_labeled(text, "lighthouse_bridge_requests_total", (const char *const[]){rl, cl, NULL});
        if (!isnan(v)) out[codes[i].cls] += v;
    }
    return 0;
}

uint64_t lh_load_outcome_count(const lh_load_result *r, int c) {
    switch (c) {
    case LH_LOAD_OUT_OK: return r->ok;
    case LH_LOAD_OUT_SERVER_FAULT: return r->status[5];
    case LH_LOAD_OUT_CLIENT_ERROR: return r->status[4] - r->throttled;
    case LH_LOAD_OUT_THROTTLED: return r->throttled;
    case LH_LOAD_OUT_CLIENT_GONE: return r->resets;
    }
    return 0;
}

uint64_t lh_load_outcome_inflight(const lh_load_result *r) {
    /* an upper bound: arrivals never sent are counted among the timeouts too */
    return r->timeouts + r->conn_errors;
}

json_t *lh_load_agreement(const lh_load_result *r, int *status, char *why, size_t whylen) {
    json_t *j = json_object(), *classes = json_object();
    uint64_t inflight = lh_load_outcome_inflight(r);
    json_object_set_new(j, "source", json_string(!r->metrics_ok ? "none"
                                                 : r->m_out_native ? "lighthouse_bridge_outcomes_total"
                                                                   : "lighthouse_bridge_requests_total by status code (fallback)"));
    json_object_set_new(j, "in_flight_tolerance", json_integer((json_int_t)inflight));
    if (!r->metrics_ok) {
        *status = -1;
        snprintf(why, whylen, "the bridge's /metrics could not be read before and after the run");
        json_object_set_new(j, "classes", classes);
        json_object_set_new(j, "error", json_string(why));
        return j;
    }
    *status = 1;
    why[0] = 0;
    size_t used = 0;
    for (int c = 0; c < LH_LOAD_OUTCOMES; c++) {
        uint64_t g = lh_load_outcome_count(r, c);
        double b = r->m_out[1][c] - r->m_out[0][c];
        json_t *row = json_pack("{s:I}", "load", (json_int_t)g);
        if (isnan(b)) {
            json_object_set_new(row, "bridge", json_null());
            json_object_set_new(row, "note", json_string("not compared: the bridge does not export "
                                                         "lighthouse_bridge_outcomes_total, and status codes cannot "
                                                         "say that a client went away"));
        } else {
            /* bridge − load may lie in [lo, hi]: the requests in flight either way, and the
             * injected resets where the bridge may not have seen them (see the top). */
            double d = b - (double)g, lo = -(double)inflight, hi = (double)inflight;
            if (c == LH_LOAD_OUT_CLIENT_GONE) lo -= (double)r->resets;
            if (c == LH_LOAD_OUT_SERVER_FAULT && !r->m_out_native) hi += (double)r->resets;
            int agree = d >= lo && d <= hi;
            json_object_set_new(row, "bridge", json_integer((json_int_t)llround(b)));
            json_object_set_new(row, "difference", json_integer((json_int_t)llround(d)));
            json_object_set_new(row, "allowed", json_pack("[I,I]", (json_int_t)lo, (json_int_t)hi));
            json_object_set_new(row, "agree", json_boolean(agree));
            if (!agree) {
                *status = 0;
                int n = snprintf(why + used, used < whylen ? whylen - used : 0, "%s%s: load %llu, bridge %.0f",
                                 used ? "; " : "", outNames[c], (unsigned long long)g, b);
                if (n > 0) used += (size_t)n;
            }
        }
        json_object_set_new(classes, outNames[c], row);
    }
    if (*status == 0 && used < whylen)
        snprintf(why + used, whylen - used, " (a difference beyond the %llu requests in flight)", (unsigned long long)inflight);
    else if (*status == 1)
        snprintf(why, whylen, "every class agrees within the %llu requests in flight", (unsigned long long)inflight);
    json_object_set_new(j, "classes", classes);
    json_object_set_new(j, "agree", json_boolean(*status == 1));
    json_object_set_new(j, "summary", json_string(why));
    return j;
}

/* summary.c — a run's summary for the central history: what `lighthouse load` posts to
 * the bridge (POST /v1/load/runs) as a `load.completed` event, and the schema the bridge
 * checks it against before it is recorded. Both sides use this file, so the writer and
 * the checker cannot disagree (docs/load.md, "Central history"; docs/api.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "load/load.h"
#include "util/utf8.h"
#include "version.h"

/* ---- building it from a report ------------------------------------------------- */

/* A number of the report, or null: a figure that could not be measured stays null. */
static json_t *numOrNull(const json_t *v) { return json_is_number(v) ? json_real(json_number_value(v)) : json_null(); }

json_t *lh_load_summary(const json_t *report, double start_epoch, const char *run_id, const char *git_commit) {
    const json_t *s = json_object_get(report, "summary"), *d = json_object_get(report, "decisions");
    const json_t *m = json_object_get(report, "metrics");
    const char *host = json_string_value(json_object_get(json_object_get(report, "machine"), "hostname"));
    const char *pattern = json_string_value(json_object_get(json_object_get(report, "pattern"), "name"));
    const char *target = json_string_value(json_object_get(report, "target"));
    json_t *pat = json_pack("{s:s,s:I,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I}}", "pattern", pattern ? pattern : "",
                            "requests", json_integer_value(json_object_get(s, "requests_total")),
                            "failed", json_integer_value(json_object_get(s, "requests_failed")),
                            "rps", numOrNull(json_object_get(s, "rps")), "p50_ms", numOrNull(json_object_get(s, "p50_ms")),
                            "p99_ms", numOrNull(json_object_get(s, "p99_ms")), "decisions",
                            "allow", json_integer_value(json_object_get(d, "allow")),
                            "deny", json_integer_value(json_object_get(d, "deny")),
                            "escalate", json_integer_value(json_object_get(d, "escalate")));
    const json_t *fo = json_object_get(s, "failed_objectives");
    json_t *failed = json_is_array(fo) ? json_incref((json_t *)fo) : json_array();
    json_t *out = json_pack("{s:i,s:s,s:I,s:o,s:I,s:I,s:s,s:s,s:o,s:s,s:{s:s,s:o,s:o},s:[o]}",
                            "lighthouse_load_summary", 1, "run_id", run_id,
                            "start_ns", (json_int_t)llround(start_epoch * 1e9),
                            "duration_s", numOrNull(json_object_get(json_object_get(report, "parameters"), "duration_s")),
                            "agents", json_integer_value(json_object_get(m, "peak_concurrent_agents")),
                            "seed", json_integer_value(json_object_get(report, "seed")),
                            "target", target ? target : "", "host", host && *host ? host : "unknown",
                            "git_commit", git_commit && *git_commit ? json_string(git_commit) : json_null(),
                            "version", LH_VERSION,
                            "sla", "verdict", json_is_string(json_object_get(s, "verdict")) ? json_string_value(json_object_get(s, "verdict")) : "NO-GO",
                            "compliance_percent", numOrNull(json_object_get(s, "sla_compliance_percent")),
                            "failed_objectives", failed, "patterns", pat);
    return out;
}

/* ---- the schema ---------------------------------------------------------------- */

typedef struct field {
    const char *name;
    int kind;          /* K_* */
    int nullable;
    double lo, hi;     /* numbers: the range; strings: the length in bytes */
} field;

enum { K_INT, K_NUM, K_STR, K_ID, K_HEX, K_VERDICT, K_OBJ, K_ARR };

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const field topFields[] = {
    {"lighthouse_load_summary", K_INT, 0, 1, 1},
    {"run_id", K_ID, 0, 1, 64},
    {"start_ns", K_INT, 0, 1, 9.2e18},
    {"duration_s", K_NUM, 0, 1e-3, 8 * 86400},
    {"agents", K_INT, 0, 0, 1e7},
    {"seed", K_INT, 0, -9.3e18, 9.3e18},
    {"target", K_STR, 0, 0, 256},
    {"host", K_STR, 0, 1, 255},
    {"git_commit", K_HEX, 1, 7, 64},
    {"version", K_STR, 0, 1, 64},
    {"sla", K_OBJ, 0, 0, 0},
    {"patterns", K_ARR, 0, 1, LH_LOAD_SUMMARY_MAX_PATTERNS},
};
static const field slaFields[] = {
    {"verdict", K_VERDICT, 0, 0, 0},
    {"compliance_percent", K_NUM, 1, 0, 100},
    {"failed_objectives", K_ARR, 0, 0, 32},
};
static const field patternFields[] = {
    {"pattern", K_STR, 0, 1, 63},
    {"requests", K_INT, 0, 0, 1e15},
    {"failed", K_INT, 0, 0, 1e15},
    {"rps", K_NUM, 1, 0, 1e9},
    {"p50_ms", K_NUM, 1, 0, 1e9},
    {"p99_ms", K_NUM, 1, 0, 1e9},
    {"decisions", K_OBJ, 0, 0, 0},
};
static const field decisionFields[] = {
    {"allow", K_INT, 0, 0, 1e15},
    {"deny", K_INT, 0, 0, 1e15},
    {"escalate", K_INT, 0, 0, 1e15},
};

static const char *kindName(int k) {
    switch (k) {
    case K_INT: return "a whole number";
    case K_NUM: return "a number";
    case K_STR: case K_ID: case K_HEX: case K_VERDICT: return "a string";
    case K_OBJ: return "an object";
    default: return "an array";
    }
}

/* One value against its field. 0, or -1 with "PATH: why" in err. */
static int checkValue(const char *path, const field *f, const json_t *v, char *err, size_t errlen) {
    if (json_is_null(v)) {
        if (f->nullable) return 0;
        snprintf(err, errlen, "%s: must be %s, not null", path, kindName(f->kind));
        return -1;
    }
    switch (f->kind) {
    case K_INT:
        if (!json_is_integer(v)) break;
        if ((double)json_integer_value(v) < f->lo || (double)json_integer_value(v) > f->hi) {
            snprintf(err, errlen, "%s: %" JSON_INTEGER_FORMAT " is out of range (%.0f to %.0f)", path, json_integer_value(v), f->lo, f->hi);
            return -1;
        }
        return 0;
    case K_NUM:
        if (!json_is_number(v)) break;
        if (!isfinite(json_number_value(v)) || json_number_value(v) < f->lo || json_number_value(v) > f->hi) {
            snprintf(err, errlen, "%s: %g is out of range (%g to %g)", path, json_number_value(v), f->lo, f->hi);
            return -1;
        }
        return 0;
    case K_STR: case K_ID: case K_HEX: case K_VERDICT: {
        if (!json_is_string(v)) break;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (f->kind == K_VERDICT) {
            if (strcmp(s, "GO") && strcmp(s, "NO-GO")) { snprintf(err, errlen, "%s: must be \"GO\" or \"NO-GO\"", path); return -1; }
            return 0;
        }
        if ((double)n < f->lo || (double)n > f->hi) {
            snprintf(err, errlen, "%s: must be %.0f to %.0f bytes long, not %zu", path, f->lo, f->hi, n);
            return -1;
        }
        if (strlen(s) != n || !lh_utf8_valid(s, n)) { snprintf(err, errlen, "%s: must be UTF-8 text without NUL", path); return -1; }
        const char *allowed = f->kind == K_ID ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-"
                            : f->kind == K_HEX ? "0123456789abcdef" : NULL;
        if (allowed && strspn(s, allowed) != n) {
            snprintf(err, errlen, "%s: %s", path, f->kind == K_ID ? "only letters, digits and . _ : - are allowed"
                                                                 : "must be a git commit in lower-case hex");
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20) { snprintf(err, errlen, "%s: control characters are not allowed", path); return -1; }
        return 0;
    }
    case K_OBJ:
        if (!json_is_object(v)) break;
        return 0;
    default:
        if (!json_is_array(v)) break;
        if ((double)json_array_size(v) < f->lo || (double)json_array_size(v) > f->hi) {
            snprintf(err, errlen, "%s: must hold %.0f to %.0f items, not %zu", path, f->lo, f->hi, json_array_size(v));
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "%s: must be %s%s", path, kindName(f->kind), f->nullable ? " or null" : "");
    return -1;
}

/* An object against its fields: every field present and valid, no other key. */
static int checkObject(const char *path, const json_t *o, const field *fs, size_t n, char *err, size_t errlen) {
    char p[160];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", fs[i].name);
        const json_t *v = json_object_get(o, fs[i].name);
        if (!v) { snprintf(err, errlen, "%s: missing", p); return -1; }
        if (checkValue(p, &fs[i], v, err, errlen)) return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (i < n && strcmp(k, fs[i].name)) i++;
        if (i == n) {
            snprintf(err, errlen, "%s%s%.60s: unknown field", path, *path ? "." : "", k);
            return -1;
        }
    }
    return 0;
}

int lh_load_summary_check(const json_t *s, char *err, size_t errlen) {
    if (!json_is_object(s)) { snprintf(err, errlen, "the summary must be a JSON object"); return -1; }
    if (checkObject("", s, topFields, NFIELDS(topFields), err, errlen)) return -1;
    const json_t *sla = json_object_get(s, "sla");
    if (checkObject("sla", sla, slaFields, NFIELDS(slaFields), err, errlen)) return -1;
    const field objName = {"", K_STR, 0, 1, 128};
    char p[160];
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(sla, "failed_objectives"), i, v) {
        snprintf(p, sizeof(p), "sla.failed_objectives[%zu]", i);
        if (checkValue(p, &objName, v, err, errlen)) return -1;
    }
    json_array_foreach(json_object_get(s, "patterns"), i, v) {
        snprintf(p, sizeof(p), "patterns[%zu]", i);
        if (!json_is_object(v)) { snprintf(err, errlen, "%s: must be an object", p); return -1; }
        if (checkObject(p, v, patternFields, NFIELDS(patternFields), err, errlen)) return -1;
        char dp[176];
        snprintf(dp, sizeof(dp), "%s.decisions", p);
        if (checkObject(dp, json_object_get(v, "decisions"), decisionFields, NFIELDS(decisionFields), err, errlen)) return -1;
        if (json_integer_value(json_object_get(v, "failed")) > json_integer_value(json_object_get(v, "requests"))) {
            snprintf(err, errlen, "%s.failed: more than %s.requests", p, p);
            return -1;
        }
        const json_t *p50 = json_object_get(v, "p50_ms"), *p99 = json_object_get(v, "p99_ms");
        if (json_is_number(p50) && json_is_number(p99) && json_number_value(p50) > json_number_value(p99)) {
            snprintf(err, errlen, "%s.p50_ms: greater than %s.p99_ms", p, p);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(s, "patterns"), j), "pattern")),
                        json_string_value(json_object_get(v, "pattern")))) {
                snprintf(err, errlen, "%s.pattern: \"%s\" appears twice", p, json_string_value(json_object_get(v, "pattern")));
                return -1;
            }
    }
    return 0;
}

/* ---- trend rows ------------------------------------------------------------------ */

static void isoTime(char *out, size_t cap, int64_t ns) {
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, cap, "?");
}

void lh_load_summary_rows(json_t *rows, const json_t *s, json_int_t run, int64_t time_ns) {
    char when[32];
    isoTime(when, sizeof(when), time_ns ? time_ns : (int64_t)json_integer_value(json_object_get(s, "start_ns")));
    const json_t *sla = json_object_get(s, "sla");
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(s, "patterns"), i, p) {
        json_t *row = json_pack("{s:I,s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "run", run, "time", when,
                                "run_id", json_object_get(s, "run_id"), "pattern", json_object_get(p, "pattern"),
                                "agents", json_object_get(s, "agents"), "requests", json_object_get(p, "requests"),
                                "failed", json_object_get(p, "failed"), "rps", json_object_get(p, "rps"),
                                "p50_ms", json_object_get(p, "p50_ms"), "p99_ms", json_object_get(p, "p99_ms"),
                                "verdict", json_object_get(sla, "verdict"), "decisions", json_object_get(p, "decisions"),
                                "sla_compliance_percent", json_object_get(sla, "compliance_percent"),
                                "git_commit", json_object_get(s, "git_commit"), "host", json_object_get(s, "host"));
        if (row) json_array_append_new(rows, row);
    }
}

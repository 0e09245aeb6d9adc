/* pattern.c — workload patterns: the four of ../shared/reference/workloads.md, loading one
 * from YAML, overriding fields, checking them, and the load curve over a run. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "load/load.h"

/* ---- the built-in patterns ------------------------------------------------------ */

typedef struct builtin {
    const char *name;
    double safe, risky, complex_, rate, peak, burst;
    int agents_base, agents_peak;
} builtin;

static const builtin builtins[] = {
    {"business_hours", .70, .20, .10, 150, 2.5, .05, 80, 250},
    {"maintenance_window", .40, .30, .30, 50, 2.0, .05, 20, 60},
    {"incident_response", .20, .50, .30, 200, 4.0, .15, 100, 500},
    {"scale_test", .80, .15, .05, 500, 2.0, .05, 500, 1200},
};
#define NBUILTIN (int)(sizeof(builtins) / sizeof(builtins[0]))

static const char *const names[] = {"business_hours", "maintenance_window", "incident_response", "scale_test", NULL};
static const char *const tzNames[LH_LOAD_TZ_COUNT] = {"us_east", "us_west", "europe", "asia"};
/* UTC offsets (hours) of each zone's working day, for the daily curve. */
static const double tzOffset[LH_LOAD_TZ_COUNT] = {-5, -8, 1, 8};

const char *const *lh_load_pattern_names(void) { return names; }

int lh_load_pattern_builtin(const char *name, lh_load_pattern *p, char *err, size_t errlen) {
    for (int i = 0; i < NBUILTIN; i++) {
        if (strcmp(name, builtins[i].name)) continue;
        const builtin *b = &builtins[i];
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "%s", b->name);
        p->mix[LH_LOAD_SAFE] = b->safe;
        p->mix[LH_LOAD_RISKY] = b->risky;
        p->mix[LH_LOAD_COMPLEX] = b->complex_;
        p->base_rate = b->rate;
        p->peak_multiplier = b->peak;
        p->burst_probability = b->burst;
        p->burst_multiplier = 5;
        p->burst_duration_s = 2;
        p->agents_base = b->agents_base;
        p->agents_peak = b->agents_peak;
        p->session_mean_s = 300;
        p->think_time_s = 2;
        p->network_error_rate = .02;
        p->reset_fraction = .5;
        p->retry_fraction = .8;
        p->retry_delay_mean_s = 1;
        p->tz_weight[LH_LOAD_TZ_US_EAST] = .35;
        p->tz_weight[LH_LOAD_TZ_US_WEST] = .25;
        p->tz_weight[LH_LOAD_TZ_EUROPE] = .25;
        p->tz_weight[LH_LOAD_TZ_ASIA] = .15;
        p->day_s = 86400;
        p->tz_min_duration_s = 3600;
        return 0;
    }
    snprintf(err, errlen, "unknown pattern '%s' (business_hours, maintenance_window, incident_response, scale_test)", name);
    return -1;
}

/* ---- setting fields by name ----------------------------------------------------- */

static int parseNum(const char *key, const char *v, double *out, char *err, size_t errlen) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d)) {
        snprintf(err, errlen, "%s: '%s' is not a number", key, v);
        return -1;
    }
    *out = d;
    return 0;
}

typedef struct field { const char *key; size_t off; int isInt; } field;
#define F(k, m) {k, offsetof(lh_load_pattern, m), 0}
static const field fields[] = {
    F("base_rate", base_rate), F("peak_multiplier", peak_multiplier),
    F("burst_probability", burst_probability), F("burst_multiplier", burst_multiplier),
    F("burst_duration_s", burst_duration_s), {"agents_base", offsetof(lh_load_pattern, agents_base), 1},
    {"agents_peak", offsetof(lh_load_pattern, agents_peak), 1}, F("session_mean_s", session_mean_s),
    F("think_time_s", think_time_s), F("network_error_rate", network_error_rate),
    F("reset_fraction", reset_fraction), F("retry_fraction", retry_fraction),
    F("retry_delay_mean_s", retry_delay_mean_s), F("day_s", day_s), F("tz_min_duration_s", tz_min_duration_s),
};
#undef F

/* "a/b/c" into n numbers */
static int parseList(const char *key, const char *v, double *out, int n, char *err, size_t errlen) {
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    char *save = NULL, *tok = strtok_r(buf, "/,", &save);
    for (int i = 0; i < n; i++, tok = strtok_r(NULL, "/,", &save)) {
        if (!tok || parseNum(key, tok, &out[i], err, errlen)) {
            if (!tok) snprintf(err, errlen, "%s: '%s' needs %d numbers separated by '/'", key, v, n);
            return -1;
        }
    }
    if (tok) { snprintf(err, errlen, "%s: '%s' has more than %d numbers", key, v, n); return -1; }
    return 0;
}

int lh_load_pattern_set(lh_load_pattern *p, const char *key, const char *val, char *err, size_t errlen) {
    if (!strcmp(key, "name")) {
        if (strlen(val) >= sizeof(p->name) || !*val) { snprintf(err, errlen, "name: 1 to %zu characters", sizeof(p->name) - 1); return -1; }
        snprintf(p->name, sizeof(p->name), "%s", val);
        return 0;
    }
    if (!strcmp(key, "mix")) return parseList(key, val, p->mix, LH_LOAD_CLASSES, err, errlen);
    if (!strcmp(key, "time_zones")) return parseList(key, val, p->tz_weight, LH_LOAD_TZ_COUNT, err, errlen);
    if (!strcmp(key, "safe") || !strcmp(key, "risky") || !strcmp(key, "complex")) {
        int c = key[0] == 's' ? LH_LOAD_SAFE : key[0] == 'r' ? LH_LOAD_RISKY : LH_LOAD_COMPLEX;
        return parseNum(key, val, &p->mix[c], err, errlen);
    }
    for (int i = 0; i < LH_LOAD_TZ_COUNT; i++)
        if (!strcmp(key, tzNames[i])) return parseNum(key, val, &p->tz_weight[i], err, errlen);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(key, fields[i].key)) continue;
        double d;
        if (parseNum(key, val, &d, err, errlen)) return -1;
        if (fields[i].isInt) {
            if (d != floor(d) || fabs(d) > 1e7) { snprintf(err, errlen, "%s: '%s' must be a whole number", key, val); return -1; }
            *(int *)((char *)p + fields[i].off) = (int)d;
        } else {
            *(double *)((char *)p + fields[i].off) = d;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown key '%s'", key);
    return -1;
}

static int frac(const char *k, double v, char *err, size_t errlen) {
    if (v < 0 || v > 1) { snprintf(err, errlen, "%s must be between 0 and 1 (got %g)", k, v); return -1; }
    return 0;
}

/* The limits come from what one generator process can hold (fds) and from sense. */
int lh_load_pattern_check(const lh_load_pattern *p, char *err, size_t errlen) {
    double s = 0;
    for (int i = 0; i < LH_LOAD_CLASSES; i++) {
        if (frac(i == 0 ? "mix.safe" : i == 1 ? "mix.risky" : "mix.complex", p->mix[i], err, errlen)) return -1;
        s += p->mix[i];
    }
    if (fabs(s - 1) > 1e-6) { snprintf(err, errlen, "the mix (safe/risky/complex) must sum to 1 (got %g)", s); return -1; }
    if (!(p->base_rate > 0) || p->base_rate > 1e6) { snprintf(err, errlen, "base_rate must be > 0 and <= 1000000 requests/s (got %g)", p->base_rate); return -1; }
    if (p->peak_multiplier < 1 || p->peak_multiplier > 100) { snprintf(err, errlen, "peak_multiplier must be between 1 and 100 (got %g)", p->peak_multiplier); return -1; }
    if (frac("burst_probability", p->burst_probability, err, errlen)) return -1;
    if (p->burst_multiplier < 1 || p->burst_multiplier > 100) { snprintf(err, errlen, "burst_multiplier must be between 1 and 100 (got %g)", p->burst_multiplier); return -1; }
    if (!(p->burst_duration_s > 0) || p->burst_duration_s > 3600) { snprintf(err, errlen, "burst_duration_s must be > 0 and <= 3600 (got %g)", p->burst_duration_s); return -1; }
    if (p->agents_base < 1 || p->agents_base > 100000) { snprintf(err, errlen, "agents_base must be between 1 and 100000 (got %d)", p->agents_base); return -1; }
    if (p->agents_peak < p->agents_base || p->agents_peak > 100000) { snprintf(err, errlen, "agents_peak must be between agents_base (%d) and 100000 (got %d)", p->agents_base, p->agents_peak); return -1; }
    if (!(p->session_mean_s > 0)) { snprintf(err, errlen, "session_mean_s must be > 0 (got %g)", p->session_mean_s); return -1; }
    if (!(p->think_time_s > 0) || p->think_time_s > 3600) { snprintf(err, errlen, "think_time_s must be > 0 and <= 3600 (got %g)", p->think_time_s); return -1; }
    if (frac("network_error_rate", p->network_error_rate, err, errlen) || frac("reset_fraction", p->reset_fraction, err, errlen) ||
        frac("retry_fraction", p->retry_fraction, err, errlen)) return -1;
    if (p->network_error_rate > .5) { snprintf(err, errlen, "network_error_rate must be at most 0.5 (got %g)", p->network_error_rate); return -1; }
    if (!(p->retry_delay_mean_s > 0) || p->retry_delay_mean_s > 600) { snprintf(err, errlen, "retry_delay_mean_s must be > 0 and <= 600 (got %g)", p->retry_delay_mean_s); return -1; }
    s = 0;
    for (int i = 0; i < LH_LOAD_TZ_COUNT; i++) {
        if (frac(tzNames[i], p->tz_weight[i], err, errlen)) return -1;
        s += p->tz_weight[i];
    }
    if (fabs(s - 1) > 1e-6) { snprintf(err, errlen, "the time-zone weights must sum to 1 (got %g)", s); return -1; }
    if (!(p->day_s >= 60) || p->day_s > 86400) { snprintf(err, errlen, "day_s must be between 60 and 86400 (got %g)", p->day_s); return -1; }
    if (!(p->tz_min_duration_s > 0)) { snprintf(err, errlen, "tz_min_duration_s must be > 0 (got %g)", p->tz_min_duration_s); return -1; }
    return 0;
}

json_t *lh_load_pattern_json(const lh_load_pattern *p) {
    json_t *j = json_pack("{s:s,s:{s:f,s:f,s:f},s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
                          "name", p->name, "mix", "safe", p->mix[0], "risky", p->mix[1], "complex", p->mix[2],
                          "base_rate", p->base_rate, "peak_multiplier", p->peak_multiplier, "burst_probability",
                          p->burst_probability, "burst_multiplier", p->burst_multiplier, "burst_duration_s",
                          p->burst_duration_s, "agents_base", p->agents_base, "agents_peak", p->agents_peak,
                          "session_mean_s", p->session_mean_s, "think_time_s", p->think_time_s,
                          "network_error_rate", p->network_error_rate, "reset_fraction", p->reset_fraction,
                          "retry_fraction", p->retry_fraction, "retry_delay_mean_s", p->retry_delay_mean_s,
                          "day_s", p->day_s, "tz_min_duration_s", p->tz_min_duration_s);
    if (!j) return NULL;
    json_t *tz = json_object();
    for (int i = 0; i < LH_LOAD_TZ_COUNT; i++) json_object_set_new(tz, tzNames[i], json_real(p->tz_weight[i]));
    json_object_set_new(j, "time_zones", tz);
    return j;
}

/* ---- the load curve ------------------------------------------------------------- */

/* A zone's activity over its local day: a working-day hump from 08:00 to 20:00 peaking at
 * 14:00, and a floor of 10% at night (agents run unattended too). */
static double zoneActivity(double localHour) {
    double h = fmod(localHour + 48, 24);
    if (h < 8 || h > 20) return .1;
    double x = sin(M_PI * (h - 8) / 12);
    return .1 + .9 * x * x;
}

/* Runs shorter than tz_min_duration_s get one hump (sin²) from base to peak and back, so a
 * short run sees the peak in its middle. Longer runs follow the time zones' weighted
 * activity through a simulated day of day_s seconds, starting at the real UTC hour,
 * normalised to [0, 1] over that day. */
double lh_load_pattern_curve(const lh_load_pattern *p, double t, double duration_s, double start_utc_hour) {
    if (duration_s < p->tz_min_duration_s) {
        double x = sin(M_PI * t / (duration_s > 0 ? duration_s : 1));
        return x * x;
    }
    double lo = 1e9, hi = -1e9, now = 0;
    for (int k = 0; k <= 96; k++) {   /* min and max of the day, every 15 minutes */
        double a = 0;
        for (int z = 0; z < LH_LOAD_TZ_COUNT; z++) a += p->tz_weight[z] * zoneActivity(k * .25 + tzOffset[z]);
        if (a < lo) lo = a;
        if (a > hi) hi = a;
    }
    double hour = start_utc_hour + 24 * t / p->day_s;
    for (int z = 0; z < LH_LOAD_TZ_COUNT; z++) now += p->tz_weight[z] * zoneActivity(hour + tzOffset[z]);
    return hi > lo ? (now - lo) / (hi - lo) : 0;
}

/* ---- YAML ----------------------------------------------------------------------- */

#define MAX_YAML_BYTES (64 * 1024)

static int yamlScalarMap(yaml_document_t *d, yaml_node_t *map, const char *prefixKey, lh_load_pattern *p,
                         char *err, size_t errlen) {
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(d, pr->key), *v = yaml_document_get_node(d, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE) { snprintf(err, errlen, "keys must be plain words"); return -1; }
        const char *key = (const char *)k->data.scalar.value;
        if (prefixKey) {   /* inside mix: or time_zones: */
            int okKey = 0;
            if (!strcmp(prefixKey, "mix")) okKey = !strcmp(key, "safe") || !strcmp(key, "risky") || !strcmp(key, "complex");
            else for (int i = 0; i < LH_LOAD_TZ_COUNT; i++) okKey |= !strcmp(key, tzNames[i]);
            if (!okKey) { snprintf(err, errlen, "unknown key '%s' in %s", key, prefixKey); return -1; }
        } else if (!strcmp(key, "pattern")) {
            continue;   /* handled first */
        } else if ((!strcmp(key, "mix") || !strcmp(key, "time_zones"))) {
            if (v->type != YAML_MAPPING_NODE) { snprintf(err, errlen, "%s must be a mapping", key); return -1; }
            if (yamlScalarMap(d, v, key, p, err, errlen)) return -1;
            continue;
        }
        if (v->type != YAML_SCALAR_NODE) { snprintf(err, errlen, "%s must be a single value", key); return -1; }
        char e2[200];
        if (lh_load_pattern_set(p, key, (const char *)v->data.scalar.value, e2, sizeof(e2))) {
            snprintf(err, errlen, "%s", e2);
            return -1;
        }
    }
    return 0;
}

int lh_load_pattern_file(const char *path, lh_load_pattern *p, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    char *buf = malloc(MAX_YAML_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_YAML_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) { snprintf(err, errlen, "out of memory"); return -1; }
    if (n > MAX_YAML_BYTES) { free(buf); snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_YAML_BYTES); return -1; }
    yaml_parser_t ps;
    yaml_document_t d;
    yaml_parser_initialize(&ps);
    yaml_parser_set_input_string(&ps, (const unsigned char *)buf, n);
    int rc = -1;
    if (!yaml_parser_load(&ps, &d)) {
        snprintf(err, errlen, "%s: line %zu: %s", path, ps.problem_mark.line + 1, ps.problem ? ps.problem : "bad YAML");
        yaml_parser_delete(&ps);
        free(buf);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    if (!root || root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: a pattern file is a mapping of keys (see docs/load.md)", path);
        goto done;
    }
    /* Start from `pattern: NAME` when given, else from scale_test's common parameters with
     * every pattern-specific field required. */
    const char *base = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&d, pr->key), *v = yaml_document_get_node(&d, pr->value);
        if (k && v && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "pattern") &&
            v->type == YAML_SCALAR_NODE)
            base = (const char *)v->data.scalar.value;
    }
    char e2[200];
    if (lh_load_pattern_builtin(base ? base : "scale_test", p, e2, sizeof(e2))) {
        snprintf(err, errlen, "%s: %s", path, e2);
        goto done;
    }
    if (!base) {   /* these have no default */
        p->base_rate = -1;
        p->mix[0] = p->mix[1] = p->mix[2] = -1;
        snprintf(p->name, sizeof(p->name), "custom");
    }
    if (yamlScalarMap(&d, root, NULL, p, e2, sizeof(e2))) { snprintf(err, errlen, "%s: %s", path, e2); goto done; }
    if (!base && (p->base_rate < 0 || p->mix[0] < 0 || p->mix[1] < 0 || p->mix[2] < 0)) {
        snprintf(err, errlen, "%s: base_rate and mix (safe, risky, complex) are required without 'pattern: NAME'", path);
        goto done;
    }
    if (lh_load_pattern_check(p, e2, sizeof(e2))) { snprintf(err, errlen, "%s: %s", path, e2); goto done; }
    rc = 0;
done:
    yaml_document_delete(&d);
    yaml_parser_delete(&ps);
    free(buf);
    return rc;
}

/* baseline.c — saving a run as a baseline and testing a later run against it.
 *
 * A baseline keeps the run's summary and its per-second samples (p95, p99 and mean
 * latency, throughput, and the bridge's CPU% and RSS). A metric regresses when BOTH
 *   1. its run-level figure is worse than the baseline's by more than the threshold of
 *      workloads.md (p99 × 1.20, p95 × 1.15, avg × 1.10, throughput × 0.80, peak memory
 *      × 1.30, peak CPU × 1.20), and
 *   2. a one-sided Mann–Whitney U test on the per-second samples says the shift is real
 *      (p < 0.01, normal approximation with tie correction; at least 5 samples a side),
 *   and, for latencies, the run is slower by at least a practical margin (5 ms by default,
 *   --min-latency-delta): on a shared machine a 2 ms service swings 2x between two runs of
 *   the same build, for whole runs at a time, and such a swing is far from any SLA.
 * So a noisy second on an idle machine cannot make a regression on its own, and a real
 * slowdown of every second is caught in two 8-second runs (the CLI repeats a regressed run,
 * --confirm). A baseline file is checked whole before the run (lh_load_baseline_check).
 * docs/load.md has the details. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

#define ALPHA 0.01
#define MIN_SAMPLES 5

typedef struct metricDef {
    const char *name;
    double threshold;      /* ratio */
    int higherIsWorse;
} metricDef;

static const metricDef defs[] = {
    {"p99_ms", 1.20, 1}, {"p95_ms", 1.15, 1}, {"avg_ms", 1.10, 1},
    {"rps", 0.80, 0}, {"memory_peak_bytes", 1.30, 1}, {"cpu_peak_percent", 1.20, 1},
};
#define NDEFS (int)(sizeof(defs) / sizeof(defs[0]))

struct lh_load_compare {
    json_t *metrics;     /* name → {baseline, current, ratio, threshold, p_value, exceeded, significant, regressed} */
    json_t *exceeded;    /* names that regressed */
    int regressed;
    double minDeltaMs;
};

/* ---- samples of one run ------------------------------------------------------------ */

typedef struct samples { double *v[NDEFS]; int n[NDEFS]; double run[NDEFS]; } samples;

static void samplesFree(samples *s) { for (int i = 0; i < NDEFS; i++) free(s->v[i]); }

/* Per-second samples from a result: only full seconds inside the run with answers. */
static int samplesOf(const lh_load_result *r, const json_t *report, samples *s) {
    memset(s, 0, sizeof(*s));
    int cap = r->nslots + r->nres + 1;
    for (int i = 0; i < NDEFS; i++) if (!(s->v[i] = calloc((size_t)cap, sizeof(double)))) return -1;
    for (int i = 0; i < r->nslots; i++) {
        const lh_load_slot *sl = &r->slots[i];
        if ((i + 1) * r->slot_s > r->wall_s || !sl->h.count) continue;
        s->v[0][s->n[0]++] = (double)lh_load_hist_quantile(&sl->h, .99) / 1e6;
        s->v[1][s->n[1]++] = (double)lh_load_hist_quantile(&sl->h, .95) / 1e6;
        s->v[2][s->n[2]++] = lh_load_hist_mean(&sl->h) / 1e6;
        s->v[3][s->n[3]++] = (double)sl->ok / r->slot_s;
    }
    for (int i = 0; i < r->nres; i++) {
        if (r->res[i].t <= 0) continue;
        s->v[4][s->n[4]++] = r->res[i].rss_bytes;
        s->v[5][s->n[5]++] = r->res[i].cpu_percent;
    }
    const json_t *sum = json_object_get(report, "summary"), *m = json_object_get(report, "metrics");
    s->run[0] = json_number_value(json_object_get(sum, "p99_ms"));
    s->run[1] = json_number_value(json_object_get(sum, "p95_ms"));
    s->run[2] = json_number_value(json_object_get(m, "avg_response_time_ms"));
    s->run[3] = json_number_value(json_object_get(sum, "rps"));
    s->run[4] = json_number_value(json_object_get(m, "memory_peak_mb")) * 1048576;
    s->run[5] = json_number_value(json_object_get(m, "cpu_peak_percent"));
    return 0;
}

json_t *lh_load_baseline_json(const json_t *report, const lh_load_result *r) {
    samples s;
    if (samplesOf(r, report, &s)) { samplesFree(&s); return NULL; }
    json_t *ms = json_object();
    for (int i = 0; i < NDEFS; i++) {
        json_t *arr = json_array();
        for (int k = 0; k < s.n[i]; k++) json_array_append_new(arr, json_real(s.v[i][k]));
        json_object_set_new(ms, defs[i].name, json_pack("{s:f,s:o}", "run", s.run[i], "per_second", arr));
    }
    samplesFree(&s);
    return json_pack("{s:i,s:O,s:O,s:O,s:o}", "lighthouse_load_baseline", 1, "summary", json_object_get(report, "summary"),
                     "pattern", json_object_get(report, "pattern"), "seed", json_object_get(report, "seed"), "metrics", ms);
}

/* ---- Mann–Whitney U ---------------------------------------------------------------- */

typedef struct ranked { double v; int fromY; } ranked;
static int cmpRanked(const void *a, const void *b) {
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x < y ? -1 : x > y;
}

/* One-sided p-value of "y tends to be greater than x": U_y = R_y − n_y(n_y+1)/2 against
 * its normal approximation (mean n_x·n_y/2, variance with the tie correction), with a
 * continuity correction of 0.5. */
double lh_load_mwu_greater(const double *x, int nx, const double *y, int ny) {
    if (nx < 1 || ny < 1) return 1;
    int n = nx + ny;
    ranked *a = malloc((size_t)n * sizeof(ranked));
    if (!a) return 1;
    for (int i = 0; i < nx; i++) a[i] = (ranked){x[i], 0};
    for (int i = 0; i < ny; i++) a[nx + i] = (ranked){y[i], 1};
    qsort(a, (size_t)n, sizeof(ranked), cmpRanked);
    double ry = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && a[j].v == a[i].v) j++;
        double rank = (i + 1 + j) / 2.0, t = j - i;
        for (int k = i; k < j; k++) if (a[k].fromY) ry += rank;
        ties += t * t * t - t;
        i = j;
    }
    free(a);
    double u = ry - (double)ny * (ny + 1) / 2.0, mu = (double)nx * ny / 2.0;
    double var = (double)nx * ny / 12.0 * ((n + 1) - ties / ((double)n * (n - 1)));
    if (var <= 0) return u > mu ? 0 : 1;
    double z = (u - mu - 0.5) / sqrt(var);
    return 0.5 * erfc(z / sqrt(2));
}

/* ---- comparing ---------------------------------------------------------------------- */

static int readArray(const json_t *a, double **out, int *n) {
    if (!json_is_array(a) || json_array_size(a) > 1000000) return -1;
    *n = (int)json_array_size(a);
    *out = calloc((size_t)*n + 1, sizeof(double));
    if (!*out) return -1;
    for (int i = 0; i < *n; i++) {
        const json_t *v = json_array_get(a, (size_t)i);
        if (!json_is_number(v)) return -1;
        (*out)[i] = json_number_value(v);
    }
    return 0;
}

/* Load a baseline file and check all of it: JSON without duplicate keys, the marker, and
 * every metric with a numeric "run" and an array of numbers "per_second". A new reference,
 * or NULL with err naming the file and what is wrong. */
static json_t *loadBaseline(const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *b = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!b) {
        snprintf(err, errlen, "baseline %s: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    if (json_integer_value(json_object_get(b, "lighthouse_load_baseline")) != 1 || !json_is_object(json_object_get(b, "metrics"))) {
        snprintf(err, errlen, "baseline %s: not a lighthouse load baseline (make one with --save-baseline)", path);
        json_decref(b);
        return NULL;
    }
    for (int i = 0; i < NDEFS; i++) {
        const json_t *bm = json_object_get(json_object_get(b, "metrics"), defs[i].name);
        double *bv = NULL;
        int bn = 0;
        int bad = !json_is_object(bm) || !json_is_number(json_object_get(bm, "run")) ||
                  readArray(json_object_get(bm, "per_second"), &bv, &bn);
        free(bv);
        if (bad) {
            snprintf(err, errlen, "baseline %s: metrics.%s is missing or malformed (it needs \"run\": a number and "
                                  "\"per_second\": an array of numbers)", path, defs[i].name);
            json_decref(b);
            return NULL;
        }
    }
    return b;
}

int lh_load_baseline_check(const char *path, char *err, size_t errlen) {
    json_t *b = loadBaseline(path, err, errlen);
    json_decref(b);
    return b ? 0 : -1;
}

lh_load_compare *lh_load_compare_baseline(const char *path, const json_t *report, const lh_load_result *r,
                                          double minDeltaMs, char *err, size_t errlen) {
    json_t *b = loadBaseline(path, err, errlen);
    if (!b) return NULL;
    lh_load_compare *c = calloc(1, sizeof(*c));
    samples s = {0}; /* freed below even when calloc failed and samplesOf never ran */
    if (!c || samplesOf(r, report, &s)) { free(c); samplesFree(&s); json_decref(b); snprintf(err, errlen, "out of memory"); return NULL; }
    c->metrics = json_object();
    c->exceeded = json_array();
    c->minDeltaMs = minDeltaMs;
    for (int i = 0; i < NDEFS; i++) {
        const json_t *bm = json_object_get(json_object_get(b, "metrics"), defs[i].name);
        double *bv = NULL;
        int bn = 0;
        const json_t *brun = json_object_get(bm, "run");
        if (readArray(json_object_get(bm, "per_second"), &bv, &bn)) {   /* checked by loadBaseline: out of memory */
            free(bv);
            snprintf(err, errlen, "out of memory");
            samplesFree(&s);
            lh_load_compare_free(c);
            json_decref(b);
            return NULL;
        }
        double base = json_number_value(brun), cur = s.run[i];
        double ratio = base > 0 ? cur / base : NAN;
        int exceeded = !isnan(ratio) && (defs[i].higherIsWorse ? ratio > defs[i].threshold : ratio < defs[i].threshold);
        /* practical significance: latencies by min_latency_delta_ms, memory by 8 MiB, CPU by
         * 5 points of one CPU (at 150 req/s the bridge uses ~10% of a CPU, and two runs of the
         * same build on a shared machine differ by more than 20% of that) */
        if (i < 3 && cur - base < minDeltaMs) exceeded = 0;
        if (i == 4 && cur - base < 8.0 * 1048576) exceeded = 0;
        if (i == 5 && cur - base < 5.0) exceeded = 0;
        int enough = bn >= MIN_SAMPLES && s.n[i] >= MIN_SAMPLES;
        double p = !enough ? NAN : defs[i].higherIsWorse ? lh_load_mwu_greater(bv, bn, s.v[i], s.n[i])
                                                         : lh_load_mwu_greater(s.v[i], s.n[i], bv, bn);
        int significant = enough && p < ALPHA;
        int regressed = exceeded && significant;
        json_object_set_new(c->metrics, defs[i].name,
                            json_pack("{s:f,s:f,s:o,s:f,s:s,s:o,s:i,s:i,s:b,s:b,s:b}", "baseline", base, "current", cur,
                                      "ratio", isnan(ratio) ? json_null() : json_real(ratio), "threshold", defs[i].threshold,
                                      "worse_when", defs[i].higherIsWorse ? "ratio above threshold" : "ratio below threshold",
                                      "p_value", isnan(p) ? json_null() : json_real(p), "baseline_samples", bn,
                                      "current_samples", s.n[i], "exceeded", exceeded, "significant", significant,
                                      "regressed", regressed));
        if (regressed) { json_array_append_new(c->exceeded, json_string(defs[i].name)); c->regressed = 1; }
        free(bv);
    }
    samplesFree(&s);
    json_decref(b);
    return c;
}

json_t *lh_load_compare_json(const lh_load_compare *c) {
    return json_pack("{s:O,s:O,s:b,s:f,s:s}", "metrics", c->metrics, "exceeded", c->exceeded, "regression_detected", c->regressed,
                     "min_latency_delta_ms", c->minDeltaMs,
                     "method", "threshold of workloads.md exceeded (latencies also by at least min_latency_delta_ms) AND one-sided Mann-Whitney U on per-second samples, p < 0.01");
}

int lh_load_compare_regressed(const lh_load_compare *c) { return c && c->regressed; }

void lh_load_compare_free(lh_load_compare *c) {
    if (!c) return;
    json_decref(c->metrics);
    json_decref(c->exceeded);
    free(c);
}

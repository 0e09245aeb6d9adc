/* html.c — the HTML report: one self-contained file (no scripts, no external files) with
 * inline SVG charts of latency over time, the latency histogram, outcomes by class over
 * time, throughput over time, the load's counts beside the bridge's, the tier breakdown
 * and the bridge's resources, under a GO / NO-GO banner whose failed objectives link to
 * the chart that shows each. Axes have ticks and units; numbers are rounded for people;
 * a baseline's per-second p99 and throughput are overlaid (dashed). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

#define W 760
#define H 250
#define PADL 78    /* room for the y tick labels and the axis title, never clipped */
#define PADR 16
#define PADB 44    /* x tick labels and the axis title */
#define PADT 30    /* the legend */
/* Ticks are counted by an integer (tick k at k * step): a float counter (v += step) can
 * stop advancing or drift (cert-flp30-c). tickStep gives about 4 to 20; this bounds them. */
#define MAX_TICKS 100

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* A number as a person reads it: whole numbers whole, else about 3 to 4 significant
 * digits (13.991936000000001 → 13.99, 0.012345 → 0.0123, 1234.56 → 1234.6). */
static void fmtNum(char *out, size_t cap, double v) {
    if (!isfinite(v)) { snprintf(out, cap, "n/a"); return; }
    double a = fabs(v);
    if (a >= 1e15 || v == floor(v)) snprintf(out, cap, "%.0f", v);
    else if (a >= 100) snprintf(out, cap, "%.1f", v);
    else if (a >= 1) snprintf(out, cap, "%.2f", v);
    else snprintf(out, cap, "%.3g", v);
}

typedef struct series {
    const char *label, *color;
    const double *x, *y;
    int n;
    int dashed;            /* the baseline's overlay */
    const char *const *dot;   /* a dot's colour per point (the trend: red for a NO-GO run); NULL: no dots */
} series;

/* A tick step of 1, 2 or 5 × 10^k giving about `want` ticks over [0, span]. */
static double tickStep(double span, int want) {
    if (!(span > 0)) return 1;
    double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* The plot frame: y ticks (with units) and x ticks, with the axis titles (xtitle NULL: seconds
 * since the start; runs: whole x ticks only). Returns the y maximum, a whole number of ticks. */
static double axes(FILE *f, double xmin, double xmax, double ymax, const char *ytitle, const char *xtitle) {
    int pw = W - PADL - PADR, ph = H - PADB - PADT;
    double ys = tickStep(ymax, 4);
    double ytop = ys * ceil(ymax / ys);
    if (!(ytop > 0)) ytop = ys;
    char num[32];
    for (int k = 0; k < MAX_TICKS && k * ys <= ytop + ys / 2; k++) {
        double yv = k * ys, yy = PADT + ph - ph * yv / ytop;
        fmtNum(num, sizeof(num), yv);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
                PADL, yy, PADL + pw, yy, PADL - 5, yy + 3, num);
    }
    double xs = tickStep(xmax - xmin, 8);
    if (xtitle && xs < 1) xs = 1;   /* runs are counted, not measured */
    double x0 = ceil(xmin / xs) * xs;
    for (int k = 0; k < MAX_TICKS && x0 + k * xs <= xmax + xs / 1000; k++) {
        double xv = x0 + k * xs;
        double xx = PADL + pw * (xv - xmin) / (xmax - xmin);
        fmtNum(num, sizeof(num), xv);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n",
                xx, PADT + ph, xx, PADT + ph + 4, xx, PADT + ph + 15, num);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n",
            PADL, PADT, PADL, PADT + ph, PADL, PADT + ph, PADL + pw, PADT + ph);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", PADL + pw / 2, H - 6);
    esc(f, xtitle ? xtitle : "time since the start of the load (s)");
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"14\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">", PADT + ph / 2,
            PADT + ph / 2);
    esc(f, ytitle);
    fputs("</text>\n", f);
    return ytop;
}

/* The legend along the top, each entry as wide as its label (about 7 px a character at
 * 11 px, a generous guess so that none overlaps or leaves the chart). */
static void legend(FILE *f, const char *const *labels, const char *const *colors, int n) {
    double x = PADL;
    for (int k = 0; k < n; k++) {
        double w = 16 + 7 * (double)strlen(labels[k]) + 12;
        if (x + w > W - PADR) break;   /* never drawn outside the chart */
        fprintf(f, "<rect x=\"%.0f\" y=\"8\" width=\"12\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"17\" font-size=\"11\">",
                x, colors[k], x + 16);
        esc(f, labels[k]);
        fputs("</text>\n", f);
        x += w;
    }
}

static void chartOpen(FILE *f, const char *id, const char *title, int h) {
    fprintf(f, "<h2 id=\"h-%s\">", id);
    esc(f, title);
    fprintf(f, "</h2>\n<svg id=\"%s\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", id, W, h, W, h);
}

/* A line chart of one or more series over time (xtitle NULL) or over runs. */
static void lineChart(FILE *f, const char *id, const char *title, const char *ytitle, const char *xtitle, const series *s,
                      int ns) {
    double xmax = 1, ymax = 0, xmin = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (s[k].x[i] > xmax) xmax = s[k].x[i];
            if (s[k].x[i] < xmin) xmin = s[k].x[i];
            if (isfinite(s[k].y[i]) && s[k].y[i] > ymax) ymax = s[k].y[i];
        }
    chartOpen(f, id, title, H);
    double ytop = axes(f, xmin, xmax, ymax, ytitle, xtitle);
    int pw = W - PADL - PADR, ph = H - PADB - PADT;
    const char *labels[8], *colors[8];
    for (int k = 0; k < ns && k < 8; k++) {
        fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"", s[k].color,
                s[k].dashed ? " stroke-dasharray=\"5 3\"" : "");
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].y[i])) continue;
            fprintf(f, "%.1f,%.1f ", PADL + pw * (s[k].x[i] - xmin) / (xmax - xmin), PADT + ph - ph * s[k].y[i] / ytop);
        }
        fputs("\"/>\n", f);
        for (int i = 0; s[k].dot && i < s[k].n; i++)
            if (isfinite(s[k].y[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PADL + pw * (s[k].x[i] - xmin) / (xmax - xmin),
                        PADT + ph - ph * s[k].y[i] / ytop, s[k].dot[i]);
        labels[k] = s[k].label;
        colors[k] = s[k].color;
    }
    legend(f, labels, colors, ns < 8 ? ns : 8);
    fputs("</svg>\n", f);
}

static void bar(FILE *f, double x, double y, double w, double h, const char *color, const char *tip) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x, y, w, h, color);
    esc(f, tip);
    fputs("</title></rect>\n", f);
}

/* The latency histogram: the log-linear buckets regrouped into 4 bins per power of two. */
static void histChart(FILE *f, const lh_load_hist *h) {
    chartOpen(f, "histogram", "Latency histogram", H);
    if (!h->count) { fputs("<text x=\"20\" y=\"40\">no answered request</text></svg>\n", f); return; }
    /* bins: [2^(k/4), 2^((k+1)/4)) µs from 1 µs */
    enum { NB = 4 * 26 };
    double bins[NB] = {0};
    int lo = NB, hi = 0;
    for (int i = 0; i < h->nbuckets; i++) {
        if (!h->b[i]) continue;
        uint64_t a, b;
        lh_load_hist_bounds(h, i, &a, &b);
        double us = (double)(a + b) / 2 / 1000;
        int k = us < 1 ? 0 : (int)floor(4 * log2(us));
        if (k >= NB) k = NB - 1;
        bins[k] += h->b[i];
        if (k < lo) lo = k;
        if (k > hi) hi = k;
    }
    double ymax = 0;
    for (int k = lo; k <= hi; k++) if (bins[k] > ymax) ymax = bins[k];
    int pw = W - PADL - PADR, ph = H - PADB - PADT, n = hi - lo + 1;
    double ys = tickStep(ymax, 4), ytop = ys * ceil(ymax / ys);
    char num[32], a1[32], a2[32];
    for (int k = 0; k < MAX_TICKS && k * ys <= ytop + ys / 2; k++) {
        double yv = k * ys, yy = PADT + ph - ph * yv / ytop;
        fmtNum(num, sizeof(num), yv);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
                PADL, yy, PADL + pw, yy, PADL - 5, yy + 3, num);
    }
    double bw = (double)pw / n;
    for (int k = lo; k <= hi; k++) {
        double bh = ph * bins[k] / ytop;
        char tip[128];
        fmtNum(a1, sizeof(a1), pow(2, k / 4.0) / 1000);
        fmtNum(a2, sizeof(a2), pow(2, (k + 1) / 4.0) / 1000);
        snprintf(tip, sizeof(tip), "%s to %s ms: %.0f requests", a1, a2, bins[k]);
        bar(f, PADL + bw * (k - lo), PADT + ph - bh, bw > 2 ? bw - 1 : bw, bh, "#4a7bd0", tip);
    }
    /* a tick at each power of two, labelled in ms */
    for (int k = (lo + 3) / 4 * 4; k <= hi + 1; k += 4 * (n > 48 ? 2 : 1)) {
        double xx = PADL + bw * (k - lo);
        fmtNum(num, sizeof(num), pow(2, k / 4.0) / 1000);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n",
                xx, PADT + ph, xx, PADT + ph + 4, xx, PADT + ph + 15, num);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">latency (ms, log scale, 4 bins per doubling)</text>\n",
            PADL + pw / 2, H - 6);
    fprintf(f, "<text x=\"14\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">requests</text>\n",
            PADT + ph / 2, PADT + ph / 2);
    fputs("</svg>\n", f);
}

/* Outcomes by class over time, stacked per slot: what the load saw each second. */
static void outcomeChart(FILE *f, const lh_load_result *r, int n) {
    static const char *const names[] = {"ok 2xx", "server_fault 5xx", "client_error 4xx", "throttled 429",
                                        "client_gone", "no reply"};
    static const char *const colors[] = {"#6bb36b", "#c62828", "#ef6c00", "#8e24aa", "#607d8b", "#212121"};
    chartOpen(f, "outcomes", "Outcomes by class and status over time", H);
    double ymax = 0;
    for (int i = 0; i < n; i++) {
        const lh_load_slot *sl = &r->slots[i];
        double t = (double)sl->ok + sl->server_fault + sl->client_error + sl->throttled + sl->gone + sl->no_reply;
        if (t / r->slot_s > ymax) ymax = t / r->slot_s;
    }
    double ytop = axes(f, 0, n > 1 ? n * r->slot_s : 1, ymax, "requests per second", NULL);
    int pw = W - PADL - PADR, ph = H - PADB - PADT;
    double bw = (double)pw / (n > 1 ? n : 1);
    for (int i = 0; i < n; i++) {
        const lh_load_slot *sl = &r->slots[i];
        double v[6] = {sl->ok, sl->server_fault, sl->client_error, sl->throttled, sl->gone, sl->no_reply};
        double y = PADT + ph;
        for (int c = 0; c < 6; c++) {
            if (!v[c]) continue;
            double bh = ph * v[c] / r->slot_s / ytop;
            char tip[128];
            snprintf(tip, sizeof(tip), "%.0f-%.0f s: %.0f %s", i * r->slot_s, (i + 1) * r->slot_s, v[c], names[c]);
            y -= bh;
            bar(f, PADL + bw * i, y, bw > 2 ? bw - 1 : bw, bh, colors[c], tip);
        }
    }
    legend(f, names, colors, 6);
    fputs("</svg>\n", f);
}

static void tierChart(FILE *f, const lh_load_result *r) {
    chartOpen(f, "tiers", "Decision tiers", 40 + 30 * LH_LOAD_TIERS);
    uint64_t max = 1;
    for (int t = 0; t < LH_LOAD_TIERS; t++) if (r->tier[t].count > max) max = r->tier[t].count;
    static const char *const colors[] = {"#6bb36b", "#4a7bd0", "#d09a4a", "#c05050", "#999"};
    for (int t = 0; t < LH_LOAD_TIERS; t++) {
        const lh_load_hist *h = &r->tier[t];
        double w = 400.0 * (double)h->count / (double)max, y = 20 + 30 * t;
        char tip[160];
        char p50[32], p99[32];
        fmtNum(p50, sizeof(p50), (double)lh_load_hist_quantile(h, .5) / 1e6);
        fmtNum(p99, sizeof(p99), (double)lh_load_hist_quantile(h, .99) / 1e6);
        if (h->count)
            snprintf(tip, sizeof(tip), "%s: %llu requests, p50 %s ms, p99 %s ms", lh_load_tier_name(t), (unsigned long long)h->count,
                     p50, p99);
        else snprintf(tip, sizeof(tip), "%s: no requests", lh_load_tier_name(t));
        fprintf(f, "<text x=\"%d\" y=\"%.0f\" font-size=\"12\" text-anchor=\"end\">%s</text>\n", 90, y + 14, lh_load_tier_name(t));
        bar(f, 100, y, w > 0 ? w : 0, 20, colors[t], tip);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", 106 + w, y + 14);
        esc(f, tip + strlen(lh_load_tier_name(t)) + 2);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

/* The chart that shows an objective, for the link from a failed one. */
static const char *chartOf(const char *objective) {
    static const struct { const char *name, *chart; } map[] = {
        {"target_reachable", "summary"},          {"requests_answered", "outcomes"},
        {"sla_compliance_rate", "latency"},       {"p99_response_time_ms", "latency"},
        {"avg_response_time_ms", "latency"},      {"availability_percent", "outcomes"},
        {"error_rate_percent", "outcomes"},       {"requests_per_second", "throughput"},
        {"cpu_utilization_percent", "resources-cpu"}, {"memory_utilization_percent", "resources-memory"},
        {"bridge_agreement", "agreement"},        {"no_regression", "latency"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (objective && !strcmp(objective, map[i].name)) return map[i].chart;
    return "objectives";
}

/* A JSON value for people: numbers rounded, strings bare, true/false as yes/no. */
static void value(FILE *f, const json_t *v) {
    char num[32];
    if (json_is_number(v)) { fmtNum(num, sizeof(num), json_number_value(v)); fputs(num, f); }
    else if (json_is_string(v)) esc(f, json_string_value(v));
    else if (json_is_true(v)) fputs("yes", f);
    else if (json_is_false(v)) fputs("no", f);
    else fputs("no data", f);
}

static void objectiveLink(FILE *f, const char *name) {
    fprintf(f, "<a href=\"#%s\">", chartOf(name));
    esc(f, name);
    fputs("</a>", f);
}

/* The per-second series of one metric in a baseline file (metrics.NAME.per_second), or 0. */
static int baselineSeries(const json_t *b, const char *name, double **x, double **y, double slot_s) {
    const json_t *a = json_object_get(json_object_get(json_object_get(b, "metrics"), name), "per_second");
    int n = (int)json_array_size(a);
    if (!n) return 0;
    *x = malloc(sizeof(double) * (size_t)n);
    *y = malloc(sizeof(double) * (size_t)n);
    if (!*x || !*y) { free(*x); free(*y); *x = *y = NULL; return 0; }
    for (int i = 0; i < n; i++) {
        (*x)[i] = i * slot_s;
        (*y)[i] = json_number_value(json_array_get(a, (size_t)i));
    }
    return n;
}

/* The load's counts beside the bridge's, class by class (agree.c). */
static void agreementTable(FILE *f, const json_t *ag) {
    fputs("<h2 id=\"agreement\">The load and the bridge, class by class</h2>\n<p>Source: ", f);
    esc(f, json_string_value(json_object_get(ag, "source")));
    fprintf(f, "; requests in flight: %" JSON_INTEGER_FORMAT ". ", json_integer_value(json_object_get(ag, "in_flight_tolerance")));
    value(f, json_object_get(ag, json_is_string(json_object_get(ag, "summary")) ? "summary" : "error"));
    fputs("</p>\n<table><tr><th>class</th><th>load</th><th>bridge</th><th>difference</th><th>agrees</th></tr>\n", f);
    const char *k;
    json_t *row;
    json_object_foreach((json_t *)json_object_get(ag, "classes"), k, row) {
        fputs("<tr><td>", f);
        esc(f, k);
        fputs("</td><td>", f);
        value(f, json_object_get(row, "load"));
        fputs("</td><td>", f);
        value(f, json_object_get(row, "bridge"));
        fputs("</td><td>", f);
        value(f, json_object_get(row, "difference"));
        fputs("</td><td>", f);
        if (json_object_get(row, "agree")) value(f, json_object_get(row, "agree"));
        else esc(f, json_string_value(json_object_get(row, "note")));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The trend over past runs of this pattern (the report's "trend": the bridge's history or
 * the local one): p50 and p99, and throughput, per run, a dot per run (red: NO-GO), and a
 * table of the figures. Nothing without a trend. */
static void trendCharts(FILE *f, const json_t *trend) {
    const json_t *runs = json_object_get(trend, "runs");
    int n = (int)json_array_size(runs);
    if (n <= 0) return;
    double *mem = malloc(sizeof(double) * (size_t)(4 * n));
    const char **dots = malloc(sizeof(char *) * (size_t)n);
    if (!mem || !dots) { free(mem); free(dots); return; }
    double *x = mem, *p50 = x + n, *p99 = p50 + n, *rps = p99 + n;
    for (int i = 0; i < n; i++) {
        const json_t *r = json_array_get(runs, (size_t)i);
        const json_t *a = json_object_get(r, "p50_ms"), *b = json_object_get(r, "p99_ms"), *c = json_object_get(r, "rps");
        const char *v = json_string_value(json_object_get(r, "verdict"));
        x[i] = i + 1;
        p50[i] = json_is_number(a) ? json_number_value(a) : NAN;
        p99[i] = json_is_number(b) ? json_number_value(b) : NAN;
        rps[i] = json_is_number(c) ? json_number_value(c) : NAN;
        dots[i] = v && !strcmp(v, "GO") ? "#2e7d32" : "#c62828";
    }
    fprintf(f, "<h2 id=\"trend\">Trend over past runs</h2>\n<p>The last %d run%s of ", n, n == 1 ? "" : "s");
    esc(f, json_string_value(json_object_get(trend, "pattern")));
    fputs(", oldest first (the newest is this one), from ", f);
    esc(f, json_string_value(json_object_get(trend, "source")));
    fputs(". A dot per run: green GO, red NO-GO.</p>\n", f);
    series lat[] = {{"p50", "#2e7d32", x, p50, n, 0, dots}, {"p99", "#d09a4a", x, p99, n, 0, dots}};
    series thr[] = {{"answered per second", "#4a7bd0", x, rps, n, 0, dots}};
    lineChart(f, "trend-latency", "Trend: latency per run", "latency (ms)", "run (oldest to newest)", lat, 2);
    lineChart(f, "trend-throughput", "Trend: throughput per run", "requests per second", "run (oldest to newest)", thr, 1);
    fputs("<table id=\"trend-table\"><tr><th>run</th><th>time (UTC)</th><th>p50 (ms)</th><th>p99 (ms)</th><th>req/s</th>"
          "<th>verdict</th><th>commit</th></tr>\n", f);
    for (int i = 0; i < n; i++) {
        const json_t *r = json_array_get(runs, (size_t)i);
        fputs("<tr><td class=\"num\">", f);
        value(f, json_object_get(r, "run"));
        fputs("</td><td>", f);
        esc(f, json_string_value(json_object_get(r, "time")));
        fputs("</td><td class=\"num\">", f);
        value(f, json_object_get(r, "p50_ms"));
        fputs("</td><td class=\"num\">", f);
        value(f, json_object_get(r, "p99_ms"));
        fputs("</td><td class=\"num\">", f);
        value(f, json_object_get(r, "rps"));
        fputs("</td><td>", f);
        esc(f, json_string_value(json_object_get(r, "verdict")));
        fputs("</td><td>", f);
        const char *c = json_string_value(json_object_get(r, "git_commit"));
        fprintf(f, "%.12s</td></tr>\n", c && strspn(c, "0123456789abcdef") == strlen(c) ? c : "");
    }
    fputs("</table>\n", f);
    free(mem);
    free(dots);
}

int lh_load_html(const char *path, const json_t *rep, const lh_load_result *r, const char *baselinePath, char *err,
                 size_t errlen) {
    json_t *base = NULL;
    if (baselinePath) {
        json_error_t je;
        base = json_load_file(baselinePath, 0, &je);
        if (!base) { snprintf(err, errlen, "%s: %s", baselinePath, je.text); return -1; }
    }
    FILE *f = fopen(path, "w");
    if (!f) { json_decref(base); snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    const json_t *s = json_object_get(rep, "summary");
    const char *verdict = json_string_value(json_object_get(s, "verdict"));
    int go = verdict && !strcmp(verdict, "GO");
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lighthouse load report</title>\n"
          "<style>body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#222}"
          ".verdict{padding:.6em 1em;font-size:1.4em;color:#fff}.go{background:#2e7d32}.nogo{background:#c62828}"
          ".verdict a{color:#fff}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}"
          "td.num{text-align:right}svg.chart{background:#fafafa;border:1px solid #eee;overflow:visible}"
          ".failed{color:#c62828;font-weight:bold}</style></head><body>\n", f);
    fputs("<h1>lighthouse load: ", f);
    esc(f, json_string_value(json_object_get(json_object_get(rep, "pattern"), "name")));
    fputs("</h1>\n", f);
    fprintf(f, "<div class=\"verdict %s\">%s", go ? "go" : "nogo", go ? "GO" : "NO-GO");
    const json_t *fo = json_object_get(s, "failed_objectives");
    if (json_array_size(fo)) {
        fputs(" &mdash; failed: ", f);
        for (size_t i = 0; i < json_array_size(fo); i++) {
            if (i) fputs(", ", f);
            objectiveLink(f, json_string_value(json_array_get(fo, i)));
        }
    }
    fputs("</div>\n", f);
    if (json_is_string(json_object_get(s, "error"))) { fputs("<p><b>", f); esc(f, json_string_value(json_object_get(s, "error"))); fputs("</b></p>\n", f); }
    fputs("<table id=\"summary\">\n", f);
    static const struct { const char *key, *label; } keys[] = {
        {"requests_total", "requests"}, {"requests_failed", "failed"}, {"rps", "answered per second"},
        {"p50_ms", "p50 (ms)"}, {"p95_ms", "p95 (ms)"}, {"p99_ms", "p99 (ms)"}, {"p999_ms", "p99.9 (ms)"},
        {"max_ms", "max (ms)"}, {"sla_compliance_percent", "answered under 100 ms (%)"}};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        fprintf(f, "<tr><th>%s</th><td class=\"num\">", keys[i].label);
        value(f, json_object_get(s, keys[i].key));
        fputs("</td></tr>\n", f);
    }
    fprintf(f, "<tr><th>target</th><td>");
    esc(f, json_string_value(json_object_get(rep, "target")));
    fprintf(f, "</td></tr><tr><th>seed</th><td class=\"num\">%" JSON_INTEGER_FORMAT "</td></tr>", json_integer_value(json_object_get(rep, "seed")));
    if (baselinePath) { fputs("<tr><th>baseline</th><td>", f); esc(f, baselinePath); fputs(" (dashed lines)</td></tr>", f); }
    fputs("</table>\n", f);

    int n = 0;
    for (int i = 0; i < r->nslots; i++) if (i * r->slot_s <= r->wall_s) n = i + 1;
    int m = r->nres;
    /* one allocation for every series: 6 per timeline slot, 3 per resource sample */
    double *mem = malloc(sizeof(double) * (size_t)(6 * n + 3 * m + 1));
    if (!mem) { fclose(f); json_decref(base); snprintf(err, errlen, "out of memory"); return -1; }
    double *x = mem, *p50 = x + n, *p99 = p50 + n, *mx = p99 + n, *ok = mx + n, *bad_ = ok + n;
    double *rx = bad_ + n, *cpu = rx + m, *rss = cpu + m;
    for (int i = 0; i < n; i++) {
        const lh_load_slot *sl = &r->slots[i];
        x[i] = i * r->slot_s;
        p50[i] = sl->h.count ? (double)lh_load_hist_quantile(&sl->h, .5) / 1e6 : NAN;
        p99[i] = sl->h.count ? (double)lh_load_hist_quantile(&sl->h, .99) / 1e6 : NAN;
        mx[i] = sl->h.count ? (double)sl->h.max_ns / 1e6 : NAN;
        ok[i] = sl->ok / r->slot_s;
        bad_[i] = sl->failed / r->slot_s;
    }
    double *bx = NULL, *by = NULL, *tx = NULL, *ty = NULL;
    int bn = base ? baselineSeries(base, "p99_ms", &bx, &by, r->slot_s) : 0;
    int tn = base ? baselineSeries(base, "rps", &tx, &ty, r->slot_s) : 0;
    series lat[] = {{"p50", "#2e7d32", x, p50, n, 0, NULL}, {"p99", "#d09a4a", x, p99, n, 0, NULL},
                    {"max", "#c62828", x, mx, n, 0, NULL}, {"baseline p99", "#555", bx, by, bn, 1, NULL}};
    lineChart(f, "latency", "Latency over time", "latency (ms)", NULL, lat, bn ? 4 : 3);
    histChart(f, &r->all);
    outcomeChart(f, r, n);
    series thr[] = {{"answered", "#4a7bd0", x, ok, n, 0, NULL}, {"failed", "#c62828", x, bad_, n, 0, NULL},
                    {"baseline answered", "#555", tx, ty, tn, 1, NULL}};
    lineChart(f, "throughput", "Throughput over time", "requests per second", NULL, thr, tn ? 3 : 2);
    agreementTable(f, json_object_get(rep, "agreement"));
    tierChart(f, r);
    for (int i = 0; i < m; i++) { rx[i] = r->res[i].t; cpu[i] = r->res[i].cpu_percent; rss[i] = r->res[i].rss_bytes / 1048576; }
    series cs[] = {{"bridge CPU", "#c05050", rx, cpu, m, 0, NULL}};
    series ms[] = {{"bridge resident memory", "#4a7bd0", rx, rss, m, 0, NULL}};
    fputs("<p>Server resources, sampled from the bridge process: ", f);
    esc(f, r->res_source);
    fputs("</p>\n", f);
    lineChart(f, "resources-cpu", "Server resources: CPU", "CPU (% of one CPU)", NULL, cs, 1);
    lineChart(f, "resources-memory", "Server resources: memory", "resident memory (MB)", NULL, ms, 1);
    trendCharts(f, json_object_get(rep, "trend"));
    free(mem);
    free(bx); free(by); free(tx); free(ty);
    json_decref(base);
    fputs("<h2 id=\"objectives\">Objectives</h2>\n<table><tr><th>objective</th><th>rule</th><th>measured</th><th>status</th></tr>\n", f);
    const json_t *obj = json_object_get(rep, "objectives");
    for (size_t i = 0; i < json_array_size(obj); i++) {
        const json_t *o = json_array_get(obj, i);
        const char *st = json_string_value(json_object_get(o, "status"));
        int failed = st && !strcmp(st, "failed");
        fputs(failed ? "<tr class=\"failed\"><td>" : "<tr><td>", f);
        if (failed) objectiveLink(f, json_string_value(json_object_get(o, "name")));
        else esc(f, json_string_value(json_object_get(o, "name")));
        fputs("</td><td>", f); esc(f, json_string_value(json_object_get(o, "rule")));
        fputs("</td><td>", f); value(f, json_object_get(o, "value"));
        fputs("</td><td>", f); esc(f, st);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</body></html>\n", f);
    if (fclose(f)) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    return 0;
}

/* html.c — the HTML report: one self-contained file (no scripts, no external files) with
 * inline SVG charts of latency over time, the latency histogram, throughput over time,
 * the tier breakdown and the bridge's resources, under a GO / NO-GO banner. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

#define W 720
#define H 220
#define PADL 60
#define PADB 30
#define PADT 20

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

typedef struct series { const char *label, *color; const double *x, *y; int n; } series;

static double niceMax(double v) {
    if (!(v > 0)) return 1;
    double p = pow(10, floor(log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* A line chart of one or more series over a shared x axis. */
static void lineChart(FILE *f, const char *id, const char *title, const char *yunit, const series *s, int ns) {
    double xmax = 1, ymax = 0, xmin = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (s[k].x[i] > xmax) xmax = s[k].x[i];
            if (s[k].x[i] < xmin) xmin = s[k].x[i];
            if (isfinite(s[k].y[i]) && s[k].y[i] > ymax) ymax = s[k].y[i];
        }
    ymax = niceMax(ymax);
    fprintf(f, "<h2>%s</h2>\n<svg id=\"%s\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", title, id, W, H, W, H);
    int pw = W - PADL - 10, ph = H - PADB - PADT;
    for (int g = 0; g <= 4; g++) {
        double yv = ymax * g / 4, yy = PADT + ph - ph * g / 4.0;
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%g %s</text>\n",
                PADL, yy, PADL + pw, yy, PADL - 4, yy + 3, yv, yunit);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%.0f s</text><text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%.0f s</text>\n",
            PADL, H - 8, xmin, PADL + pw, H - 8, xmax);
    for (int k = 0; k < ns; k++) {
        fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", s[k].color);
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].y[i])) continue;
            fprintf(f, "%.1f,%.1f ", PADL + pw * (s[k].x[i] - xmin) / (xmax - xmin), PADT + ph - ph * s[k].y[i] / ymax);
        }
        fprintf(f, "\"/>\n<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>\n", PADL + 10 + 150 * k, PADT - 6, s[k].color, s[k].label);
    }
    fputs("</svg>\n", f);
}

static void bar(FILE *f, double x, double y, double w, double h, const char *color, const char *tip) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x, y, w, h, color);
    esc(f, tip);
    fputs("</title></rect>\n", f);
}

/* The latency histogram: the log-linear buckets regrouped into 4 bins per power of two. */
static void histChart(FILE *f, const lh_load_hist *h) {
    fprintf(f, "<h2>Latency histogram</h2>\n<svg id=\"histogram\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", W, H, W, H);
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
    int pw = W - PADL - 10, ph = H - PADB - PADT, n = hi - lo + 1;
    double bw = (double)pw / n;
    for (int k = lo; k <= hi; k++) {
        double bh = ph * bins[k] / ymax;
        char tip[128];
        snprintf(tip, sizeof(tip), "%.3g-%.3g ms: %.0f requests", pow(2, k / 4.0) / 1000, pow(2, (k + 1) / 4.0) / 1000, bins[k]);
        bar(f, PADL + bw * (k - lo), PADT + ph - bh, bw > 2 ? bw - 1 : bw, bh, "#4a7bd0", tip);
    }
    for (int k = lo; k <= hi; k += 4)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%.3g ms</text>\n", PADL + bw * (k - lo), H - 8, pow(2, k / 4.0) / 1000);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%.0f</text>", PADL - 4, PADT + 3, ymax);
    fputs("</svg>\n", f);
}

static void tierChart(FILE *f, const lh_load_result *r) {
    fprintf(f, "<h2>Decision tiers</h2>\n<svg id=\"tiers\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", W, 40 + 30 * LH_LOAD_TIERS, W, 40 + 30 * LH_LOAD_TIERS);
    uint64_t max = 1;
    for (int t = 0; t < LH_LOAD_TIERS; t++) if (r->tier[t].count > max) max = r->tier[t].count;
    static const char *const colors[] = {"#6bb36b", "#4a7bd0", "#d09a4a", "#c05050", "#999"};
    for (int t = 0; t < LH_LOAD_TIERS; t++) {
        const lh_load_hist *h = &r->tier[t];
        double w = 400.0 * (double)h->count / (double)max, y = 20 + 30 * t;
        char tip[160];
        snprintf(tip, sizeof(tip), "%s: %llu requests, p50 %.3f ms, p99 %.3f ms", lh_load_tier_name(t), (unsigned long long)h->count,
                 (double)lh_load_hist_quantile(h, .5) / 1e6, (double)lh_load_hist_quantile(h, .99) / 1e6);
        fprintf(f, "<text x=\"%d\" y=\"%.0f\" font-size=\"12\" text-anchor=\"end\">%s</text>\n", 90, y + 14, lh_load_tier_name(t));
        bar(f, 100, y, w > 0 ? w : 0, 20, colors[t], tip);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", 106 + w, y + 14);
        esc(f, tip + strlen(lh_load_tier_name(t)) + 2);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

int lh_load_html(const char *path, const json_t *rep, const lh_load_result *r, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    const json_t *s = json_object_get(rep, "summary");
    const char *verdict = json_string_value(json_object_get(s, "verdict"));
    int go = verdict && !strcmp(verdict, "GO");
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lighthouse load report</title>\n"
          "<style>body{font-family:sans-serif;max-width:780px;margin:2em auto;color:#222}"
          ".verdict{padding:.6em 1em;font-size:1.4em;color:#fff}.go{background:#2e7d32}.nogo{background:#c62828}"
          "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}"
          "svg.chart{background:#fafafa;border:1px solid #eee}</style></head><body>\n", f);
    fputs("<h1>lighthouse load: ", f);
    esc(f, json_string_value(json_object_get(json_object_get(rep, "pattern"), "name")));
    fputs("</h1>\n", f);
    fprintf(f, "<div class=\"verdict %s\">%s", go ? "go" : "nogo", go ? "GO" : "NO-GO");
    const json_t *fo = json_object_get(s, "failed_objectives");
    if (json_array_size(fo)) {
        fputs(" &mdash; failed: ", f);
        for (size_t i = 0; i < json_array_size(fo); i++) { if (i) fputs(", ", f); esc(f, json_string_value(json_array_get(fo, i))); }
    }
    fputs("</div>\n", f);
    if (json_is_string(json_object_get(s, "error"))) { fputs("<p><b>", f); esc(f, json_string_value(json_object_get(s, "error"))); fputs("</b></p>\n", f); }
    fputs("<table>\n", f);
    const char *keys[] = {"requests_total", "requests_failed", "rps", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "sla_compliance_percent"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(s, keys[i]);
        fprintf(f, "<tr><th>%s</th><td>", keys[i]);
        if (json_is_integer(v)) fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_number(v)) fprintf(f, "%.3f", json_number_value(v));
        else fputs("no data", f);
        fputs("</td></tr>\n", f);
    }
    fprintf(f, "<tr><th>target</th><td>");
    esc(f, json_string_value(json_object_get(rep, "target")));
    fprintf(f, "</td></tr><tr><th>seed</th><td>%" JSON_INTEGER_FORMAT "</td></tr></table>\n", json_integer_value(json_object_get(rep, "seed")));

    int n = 0;
    for (int i = 0; i < r->nslots; i++) if (i * r->slot_s <= r->wall_s) n = i + 1;
    int m = r->nres;
    /* one allocation for every series: 6 per timeline slot, 3 per resource sample */
    double *mem = malloc(sizeof(double) * (size_t)(6 * n + 3 * m + 1));
    if (!mem) { fclose(f); snprintf(err, errlen, "out of memory"); return -1; }
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
    series lat[] = {{"p50", "#2e7d32", x, p50, n}, {"p99", "#d09a4a", x, p99, n}, {"max", "#c62828", x, mx, n}};
    lineChart(f, "latency", "Latency over time", "ms", lat, 3);
    histChart(f, &r->all);
    series thr[] = {{"answered req/s", "#4a7bd0", x, ok, n}, {"failed req/s", "#c62828", x, bad_, n}};
    lineChart(f, "throughput", "Throughput over time", "", thr, 2);
    tierChart(f, r);
    for (int i = 0; i < m; i++) { rx[i] = r->res[i].t; cpu[i] = r->res[i].cpu_percent; rss[i] = r->res[i].rss_bytes / 1048576; }
    series cs[] = {{"bridge CPU % (of one CPU)", "#c05050", rx, cpu, m}};
    series ms[] = {{"bridge RSS MB", "#4a7bd0", rx, rss, m}};
    fputs("<p>Server resources, sampled from the bridge process: ", f);
    esc(f, r->res_source);
    fputs("</p>\n", f);
    lineChart(f, "resources-cpu", "Server resources: CPU", "%", cs, 1);
    lineChart(f, "resources-memory", "Server resources: memory", "MB", ms, 1);
    free(mem);
    fputs("<h2>Objectives</h2>\n<table>\n", f);
    const json_t *obj = json_object_get(rep, "objectives");
    for (size_t i = 0; i < json_array_size(obj); i++) {
        const json_t *o = json_array_get(obj, i);
        char *v = json_dumps(json_object_get(o, "value"), JSON_ENCODE_ANY);
        fputs("<tr><td>", f); esc(f, json_string_value(json_object_get(o, "name")));
        fputs("</td><td>", f); esc(f, json_string_value(json_object_get(o, "rule")));
        fputs("</td><td>", f); esc(f, v);
        fputs("</td><td>", f); esc(f, json_string_value(json_object_get(o, "status")));
        fputs("</td></tr>\n", f);
        free(v);
    }
    fputs("</table>\n</body></html>\n", f);
    if (fclose(f)) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    return 0;
}

/* load_central.c — the central performance history, on the client's side: `lighthouse
 * load` posts each run's summary to the bridge (POST /v1/load/runs, a load.completed
 * event), and `lighthouse load history --target URL` reads the runs back (GET
 * /v1/load/runs, every page) and prints the trend per pattern. HTTP with libcurl (the
 * CLI links it already). docs/load.md, "Central history". */
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/load_central.h"
#include "load/load.h"

#define REPLY_MAX (16u << 20)      /* a page of 100 runs of at most 64 KiB each, and room */
#define RUNS_MAX 1000000           /* runs read from one bridge, at most */

/* A string of a row, "" when absent. */
static const char *str(const json_t *row, const char *k) {
    const char *v = json_string_value(json_object_get(row, k));
    return v ? v : "";
}

typedef struct reply {
    char *body;
    size_t len;
    int over;
} reply;

static size_t onData(char *p, size_t sz, size_t n, void *arg) {
    reply *r = arg;
    size_t k = sz * n;
    if (r->len + k > REPLY_MAX) { r->over = 1; return 0; }
    char *nb = realloc(r->body, r->len + k + 1);
    if (!nb) return 0;
    memcpy(nb + r->len, p, k);
    r->body = nb;
    r->len += k;
    r->body[r->len] = 0;
    return k;
}

/* One request: the parsed JSON reply (NULL when not JSON) and its status, or -1 with err
 * when the bridge could not be reached. */
static int call(const char *base, const char *path, const char *token, const char *body, long *status, json_t **out,
                char *err, size_t errlen) {
    *out = NULL;
    *status = 0;
    if (strlen(token) > 4096 || strpbrk(token, "\r\n")) { snprintf(err, errlen, "the token is not a token"); return -1; }
    CURL *h = curl_easy_init();
    if (!h) { snprintf(err, errlen, "out of memory"); return -1; }
    char url[600], auth[4200];
    snprintf(url, sizeof(url), "%s%s", base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    if (body) hd = curl_slist_append(hd, "Content-Type: application/json");
    reply rep = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rep);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach the bridge at %s: %s", base, rep.over ? "reply too large" : curl_easy_strerror(rc));
        free(rep.body);
        return -1;
    }
    *out = rep.body ? json_loadb(rep.body, rep.len, 0, NULL) : NULL;
    free(rep.body);
    return 0;
}

/* "STATUS: the bridge's message" of a refused request, with a hint for the token. */
static void refusal(char *err, size_t errlen, const char *what, long status, const json_t *j, const char *role) {
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(err, errlen, "%s answered %ld: %s%s%s", what, status, msg ? msg : "(no message)",
             status == 401 || status == 403 ? "; give " : "", status == 401 || status == 403 ? role : "");
}

int lh_load_central_base(const char *target, char *base, size_t cap, char *err, size_t errlen) {
    if (strncmp(target, "http://", 7) || !target[7] || target[7] == '/') {
        snprintf(err, errlen, "--target must be http://HOST:PORT (got '%.200s')", target);
        return -1;
    }
    const char *slash = strchr(target + 7, '/');
    size_t n = slash ? (size_t)(slash - target) : strlen(target);
    if (n >= cap || n > 300) { snprintf(err, errlen, "--target is too long"); return -1; }
    memcpy(base, target, n);
    base[n] = 0;
    return 0;
}

int lh_load_central_post(const char *base, const char *token, const json_t *summary, int64_t *seq, char *err,
                         size_t errlen) {
    char *text = json_dumps(summary, JSON_COMPACT);
    if (!text) { snprintf(err, errlen, "out of memory"); return -1; }
    long status;
    json_t *j;
    int rc = call(base, "/v1/load/runs", token, text, &status, &j, err, errlen);
    free(text);
    if (rc) return -1;
    if (status != 200 || !json_is_integer(json_object_get(j, "seq"))) {
        refusal(err, errlen, "POST /v1/load/runs", status, j, "an admin token of this bridge (--admin-token)");
        json_decref(j);
        return -1;
    }
    *seq = (int64_t)json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    return 0;
}

json_t *lh_load_central_rows(const char *base, const char *token, const char *pattern, int limit, char *err,
                             size_t errlen) {
    json_t *rows = json_array();
    json_int_t after = 0;
    size_t seen = 0;
    for (;;) {
        char path[96];
        snprintf(path, sizeof(path), "/v1/load/runs?after=%" JSON_INTEGER_FORMAT "&limit=100", after);
        long status;
        json_t *j;
        if (call(base, path, token, NULL, &status, &j, err, errlen)) { json_decref(rows); return NULL; }
        const json_t *runs = json_object_get(j, "runs");
        if (status != 200 || !json_is_array(runs)) {
            refusal(err, errlen, "GET /v1/load/runs", status, j, "an expert or admin token of this bridge (--token)");
            json_decref(j);
            json_decref(rows);
            return NULL;
        }
        size_t i;
        const json_t *run;
        json_array_foreach(runs, i, run) {
            const json_t *s = json_object_get(run, "summary");
            json_t *mine = json_array();
            lh_load_summary_rows(mine, s, json_integer_value(json_object_get(run, "seq")),
                                 (int64_t)json_integer_value(json_object_get(run, "time_ns")));
            size_t k;
            json_t *row;
            json_array_foreach(mine, k, row)
                if (!pattern || !strcmp(pattern, str(row, "pattern")))
                    json_array_append(rows, row);
            json_decref(mine);
            /* keep the last `limit` */
            while (json_array_size(rows) > (size_t)limit) json_array_remove(rows, 0);
        }
        size_t n = json_array_size(runs);
        json_int_t next = json_integer_value(json_object_get(j, "next_after"));
        json_decref(j);
        seen += n;
        if (n < 100 || next <= after || seen >= RUNS_MAX) break;
        after = next;
    }
    return rows;
}

/* ---- the trend ------------------------------------------------------------------- */

static double num(const json_t *row, const char *k) {
    const json_t *v = json_object_get(row, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isnan(v)) snprintf(b, n, "-");
    else snprintf(b, n, f, v);
}

static double pct(double now, double before) { return 100 * (now / before - 1); }

void lh_load_trend_print(FILE *out, const json_t *rows, const char *source) {
    fprintf(out, "%-6s %-20s %-18s %6s %9s %7s %10s %9s %9s %-7s %-20s %-12s %s\n", "run", "time (UTC)", "pattern", "agents",
            "requests", "failed", "req/s", "p50 ms", "p99 ms", "verdict", "allow/deny/escalate", "commit",
            "p99 / req/s vs previous");
    size_t n = json_array_size(rows);
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(rows, i);
        const char *pat = json_string_value(json_object_get(r, "pattern"));
        char rps[32], p50[32], p99[32], dec[48] = "-", vs[64] = "", commit[16] = "-";
        fmt(rps, sizeof(rps), num(r, "rps"), "%.1f");
        fmt(p50, sizeof(p50), num(r, "p50_ms"), "%.3f");
        fmt(p99, sizeof(p99), num(r, "p99_ms"), "%.3f");
        const json_t *d = json_object_get(r, "decisions");
        if (json_is_object(d))
            snprintf(dec, sizeof(dec), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(d, "allow")), json_integer_value(json_object_get(d, "deny")),
                     json_integer_value(json_object_get(d, "escalate")));
        const char *c = json_string_value(json_object_get(r, "git_commit"));
        if (c) snprintf(commit, sizeof(commit), "%.12s", c);
        for (size_t k = i; k-- > 0;) {   /* the same pattern's run before */
            const json_t *p = json_array_get(rows, k);
            const char *pp = json_string_value(json_object_get(p, "pattern"));
            if (!pat || !pp || strcmp(pat, pp)) continue;
            if (num(p, "p99_ms") > 0 && num(p, "rps") > 0 && !isnan(num(r, "p99_ms")) && !isnan(num(r, "rps")))
                snprintf(vs, sizeof(vs), "%+.1f%% / %+.1f%%", pct(num(r, "p99_ms"), num(p, "p99_ms")), pct(num(r, "rps"), num(p, "rps")));
            break;
        }
        fprintf(out, "%-6" JSON_INTEGER_FORMAT " %-20s %-18s %6" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %7" JSON_INTEGER_FORMAT
                     " %10s %9s %9s %-7s %-20s %-12s %s\n",
                json_integer_value(json_object_get(r, "run")), str(r, "time"),
                pat ? pat : "", json_integer_value(json_object_get(r, "agents")), json_integer_value(json_object_get(r, "requests")),
                json_integer_value(json_object_get(r, "failed")), rps, p50, p99,
                str(r, "verdict"), dec, commit, vs);
    }
    if (!n) { fprintf(out, "(no runs recorded in %s)\n", source); return; }
    /* one closing line per pattern, in order of first appearance */
    for (size_t i = 0; i < n; i++) {
        const char *pat = json_string_value(json_object_get(json_array_get(rows, i), "pattern"));
        if (!pat) continue;
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            if (!strcmp(pat, str(json_array_get(rows, k), "pattern"))) first = 0;
        if (!first) continue;
        const json_t *a = NULL, *b = NULL;
        int runs = 0, go = 0;
        for (size_t k = i; k < n; k++) {
            const json_t *r = json_array_get(rows, k);
            if (strcmp(pat, str(r, "pattern"))) continue;
            if (!a) a = r;
            b = r;
            runs++;
            const char *v = json_string_value(json_object_get(r, "verdict"));
            go += v && !strcmp(v, "GO");
        }
        char p50a[32], p50b[32], p99a[32], p99b[32], ra[32], rb[32], d99[32] = "", drps[32] = "";
        fmt(p50a, sizeof(p50a), num(a, "p50_ms"), "%.3f");
        fmt(p50b, sizeof(p50b), num(b, "p50_ms"), "%.3f");
        fmt(p99a, sizeof(p99a), num(a, "p99_ms"), "%.3f");
        fmt(p99b, sizeof(p99b), num(b, "p99_ms"), "%.3f");
        fmt(ra, sizeof(ra), num(a, "rps"), "%.1f");
        fmt(rb, sizeof(rb), num(b, "rps"), "%.1f");
        if (num(a, "p99_ms") > 0 && !isnan(num(b, "p99_ms"))) snprintf(d99, sizeof(d99), " (%+.1f%%)", pct(num(b, "p99_ms"), num(a, "p99_ms")));
        if (num(a, "rps") > 0 && !isnan(num(b, "rps"))) snprintf(drps, sizeof(drps), " (%+.1f%%)", pct(num(b, "rps"), num(a, "rps")));
        fprintf(out, "trend of %s over %d run%s: p50 %s -> %s ms, p99 %s -> %s ms%s, throughput %s -> %s req/s%s; %d GO, %d NO-GO\n",
                pat, runs, runs == 1 ? "" : "s", p50a, p50b, p99a, p99b, d99, ra, rb, drps, go, runs - go);
    }
}

/* load.c — `lighthouse load`: drive the real bridge with a simulated fleet of agents and
 * report what it measured (src/load/, docs/load.md). Exit codes: 0 GO, 1 NO-GO (an
 * objective failed, a regression, an unreachable target), 2 bad usage or input. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/load_central.h"
#include "cli/load_fleet.h"
#include "load/load.h"

static const char *usageText =
    "usage: lighthouse load [--pattern NAME | --pattern-file FILE.yaml] [--duration D] [--agents N]\n"
    "                       [--agents-peak N] [--rate R] [--peak X] [--burst-probability P]\n"
    "                       [--network-errors P] [--mix S/R/C] [--think S] [--session S] [--set KEY=VALUE]\n"
    "                       [--target URL] [--data DIR | --admin-token T | --token T[,T...]] [--bridge-pid PID] [--seed N]\n"
    "                       [--report FILE] [--html FILE] [--baseline FILE [--confirm N] [--min-latency-delta MS]] [--save-baseline FILE]\n"
    "                       [--history FILE | --no-history] [--corpus FILE] [--timeout S] [--quiet]\n"
    "                       [--expert-token T[,T...] [--expert-wait S] [--expert-availability P] [--expert-speed X]\n"
    "                        [--expert-capabilities C[,C...]] [--expert-target URL]]\n"
    "                       [--post-summary | --no-post-summary] [--git-commit SHA]\n"
    "       lighthouse load history [--data DIR | --history FILE | --target URL [--token T]] [--pattern NAME]\n"
    "                       [--limit N] [--json]\n"
    "       lighthouse load patterns\n"
    "NAME: business_hours, maintenance_window, incident_response, scale_test (default).\n"
    "D: seconds, or a number with s, m or h. Tokens: --token, else with --data DIR (the bridge's data\n"
    "dir) or --admin-token T (LIGHTHOUSE_ADMIN_TOKEN; POST /v1/tokens) one builder token per agent is\n"
    "minted and revoked at the end; else LIGHTHOUSE_TOKEN; else the\n"
    "fleet from $LIGHTHOUSE_DATA or ./lighthouse-data. The history is DIR/load-history.db. The target\n"
    "comes from LIGHTHOUSE_URL (default http://127.0.0.1:8765). --expert-token: simulated experts (one per\n"
    "expert token) answer the escalations, and the agents wait for them (?wait=S, default 10); they talk to\n"
    "--expert-target (the bridge's experts' listener, serve --expert-listen), else to --target. With an admin\n"
    "token (--admin-token, LIGHTHOUSE_ADMIN_TOKEN) the run's summary is posted to the bridge (a load.completed\n"
    "event; --no-post-summary: not); `load history --target URL` reads them back. See docs/load.md.\n";

/* A whole number in [lo, hi] and nothing after it. atoi read "12x" as 12 and wrapped
 * 4294967297 to 1 (cert-err34-c). 0, or -1. */
static int wholeNumber(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return -1;
    *out = (int)n;
    return 0;
}

static int bad(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "lighthouse load: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    return 2;
}

static int parseDuration(const char *s, double *out) {
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || !isfinite(d)) return -1;
    if (*end == 's') end++;
    else if (*end == 'm') { d *= 60; end++; }
    else if (*end == 'h') { d *= 3600; end++; }
    if (*end || d <= 0 || d > 7 * 86400) return -1;
    *out = d;
    return 0;
}

/* http://HOST:PORT[/PATH] with HOST a loopback address: the generator sends traffic to
 * this machine only. */
static int parseTarget(const char *url, lh_load_options *o, char *err, size_t errlen) {
    if (strncmp(url, "http://", 7)) { snprintf(err, errlen, "--target must be http://HOST:PORT (got '%s')", url); return -1; }
    const char *h = url + 7, *colon = strchr(h, ':'), *slash = strchr(h, '/');
    if (!colon || (slash && slash < colon)) { snprintf(err, errlen, "--target needs a port: http://127.0.0.1:PORT"); return -1; }
    char host[64];
    size_t hl = (size_t)(colon - h);
    if (!hl || hl >= sizeof(host)) { snprintf(err, errlen, "--target: bad host"); return -1; }
    memcpy(host, h, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) { snprintf(err, errlen, "--target: bad port"); return -1; }
    if (!strcmp(host, "localhost")) snprintf(host, sizeof(host), "127.0.0.1");
    if (strncmp(host, "127.", 4)) {
        snprintf(err, errlen, "--target: %s is not a loopback IPv4 address; lighthouse load only drives a bridge on this machine", host);
        return -1;
    }
    snprintf(o->host, sizeof(o->host), "%s", host);
    o->port = (int)port;
    if (*end == '/' && end[1]) {
        if (strlen(end) >= sizeof(o->path)) { snprintf(err, errlen, "--target: path too long"); return -1; }
        snprintf(o->path, sizeof(o->path), "%s", end);
    }
    return 0;
}

static int writeJson(const char *path, const json_t *j) {
    if (!strcmp(path, "-")) { json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12)); fputc('\n', stdout); return 0; }
    return json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
}

/* The data dir: --data, else $LIGHTHOUSE_DATA, else ./lighthouse-data (said on stderr,
 * with its absolute path, unless quiet). */
static const char *dataDir(const char *flag, int quiet) {
    if (flag) return flag;
    const char *env = getenv("LIGHTHOUSE_DATA");
    if (env && *env) return env;
    char cwd[4096];
    if (!quiet)
        fprintf(stderr, "lighthouse load: no --data or LIGHTHOUSE_DATA; using the default data dir %s/lighthouse-data\n",
                getcwd(cwd, sizeof(cwd)) ? cwd : ".");
    return "lighthouse-data";
}

/* --history, else $LIGHTHOUSE_LOAD_HISTORY, else DATA/load-history.db. */
static const char *historyPath(const char *flag, const char *data, char *buf, size_t cap) {
    if (flag) return flag;
    const char *env = getenv("LIGHTHOUSE_LOAD_HISTORY");
    if (env && *env) return env;
    snprintf(buf, cap, "%s/load-history.db", data);
    return buf;
}

/* The trend rows as JSON (--json) or as the table (load_central.c). */
static int printRows(json_t *rows, int asJson, const char *source) {
    if (!rows) return 1;
    if (asJson) {
        json_t *out = json_pack("{s:s,s:o}", "source", source, "runs", rows);
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        fputc('\n', stdout);
        json_decref(out);
    } else {
        lh_load_trend_print(stdout, rows, source);
        json_decref(rows);
    }
    return 0;
}

/* `load history`: the local SQLite history (the default), or with --target the runs the
 * bridge recorded (GET /v1/load/runs). */
static int historyMain(int argc, char **argv) {
    const char *path = NULL, *data = NULL, *target = NULL, *token = NULL, *pattern = NULL;
    char buf[4200];
    int limit = 20, asJson = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--history") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--target") && i + 1 < argc) target = argv[++i];
        else if ((!strcmp(argv[i], "--token") || !strcmp(argv[i], "--admin-token")) && i + 1 < argc) token = argv[++i];
        else if (!strcmp(argv[i], "--pattern") && i + 1 < argc) pattern = argv[++i];
        else if (!strcmp(argv[i], "--json")) asJson = 1;
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
            if (wholeNumber(argv[++i], 1, 100000, &limit)) return bad("--limit must be between 1 and 100000%s%s", "", "");
        } else return bad("history: unexpected argument '%s'%s", argv[i], "");
    }
    char err[512];
    if (target) {
        if (path || data) return bad("history: give --target (the bridge's history) or --data / --history (a local one)%s%s", "", "");
        char base[320];
        if (lh_load_central_base(target, base, sizeof(base), err, sizeof(err))) return bad("%s%s", err, "");
        const char *env[] = {"LIGHTHOUSE_TOKEN", "LIGHTHOUSE_ADMIN_TOKEN"};
        for (int k = 0; k < 2 && !token; k++) {
            const char *v = getenv(env[k]);
            if (v && *v) token = v;
        }
        if (!token) return bad("history --target: give --token T (an expert or admin token of the bridge; or LIGHTHOUSE_TOKEN)%s%s", "", "");
        json_t *rows = lh_load_central_rows(base, token, pattern, limit, err, sizeof(err));
        if (!rows) { fprintf(stderr, "lighthouse load history: %s\n", err); return 1; }
        char source[400];
        snprintf(source, sizeof(source), "%s (GET /v1/load/runs)", base);
        return printRows(rows, asJson, source);
    }
    const char *env = getenv("LIGHTHOUSE_LOAD_HISTORY");
    if (!path && !(env && *env)) data = dataDir(data, 0);
    path = historyPath(path, data, buf, sizeof(buf));
    if (asJson || pattern) {
        json_t *rows = lh_load_history_rows(path, limit, pattern, err, sizeof(err));
        if (!rows) return bad("%s%s", err, "");
        return printRows(rows, asJson, path);
    }
    if (lh_load_history_print(stdout, path, limit, err, sizeof(err))) return bad("%s%s", err, "");
    return 0;
}

/* The load's counts beside the bridge's, one line per outcome class. */
static void printAgreement(FILE *f, const json_t *ag) {
    if (!ag) return;
    fprintf(f, "outcomes (load vs bridge /metrics, source %s):", json_string_value(json_object_get(ag, "source")));
    const char *k;
    json_t *row;
    json_object_foreach((json_t *)json_object_get(ag, "classes"), k, row) {
        const json_t *b = json_object_get(row, "bridge");
        if (json_is_integer(b))
            fprintf(f, " %s %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "%s", k, json_integer_value(json_object_get(row, "load")),
                    json_integer_value(b), json_is_true(json_object_get(row, "agree")) ? "" : " (DIFFERS)");
        else
            fprintf(f, " %s %" JSON_INTEGER_FORMAT "/n.a.", k, json_integer_value(json_object_get(row, "load")));
    }
    fprintf(f, "; in flight %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(ag, "in_flight_tolerance")));
    if (!json_is_true(json_object_get(ag, "agree")) || !json_is_string(json_object_get(ag, "summary")))
        fprintf(f, "agreement: %s\n", json_is_string(json_object_get(ag, "summary")) ? json_string_value(json_object_get(ag, "summary"))
                                                                                   : json_string_value(json_object_get(ag, "error")));
    if (strstr(json_string_value(json_object_get(ag, "source")), "fallback"))
        fprintf(f, "note: the bridge does not export lighthouse_bridge_outcomes_total; compared by status code (there a client that went away is a 500, so server_fault may exceed the load's by up to the resets); client_gone not compared\n");
}

/* Each failed objective with what was measured and the rule it broke. */
static void printCauses(FILE *f, const json_t *rep) {
    size_t i;
    json_t *ob;
    json_array_foreach((json_t *)json_object_get(rep, "objectives"), i, ob) {
        if (strcmp(json_string_value(json_object_get(ob, "status")), "failed")) continue;
        const json_t *v = json_object_get(ob, "value");
        char val[600];
        if (json_is_string(v)) snprintf(val, sizeof(val), "%s", json_string_value(v));
        else if (json_is_number(v)) snprintf(val, sizeof(val), "%.4g", json_number_value(v));
        else snprintf(val, sizeof(val), "%s", json_is_false(v) ? "no" : "yes");
        fprintf(f, "  failed %s: %s (want %s)\n", json_string_value(json_object_get(ob, "name")), val,
                json_string_value(json_object_get(ob, "rule")));
    }
}

static void printSummary(FILE *f, const json_t *rep) {
    const json_t *s = json_object_get(rep, "summary"), *g = json_object_get(rep, "generator"), *m = json_object_get(rep, "metrics");
    char *failed = json_dumps(json_object_get(s, "failed_objectives"), JSON_COMPACT);
    if (json_is_string(json_object_get(s, "error"))) {
        fprintf(f, "FAILED RUN: %s\nverdict: NO-GO; failed: %s\n", json_string_value(json_object_get(s, "error")), failed);
        free(failed);
        return;
    }
    char v[7][32];
    const char *keys[7] = {"p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "sla_compliance_percent", NULL};
    for (int i = 0; keys[i]; i++) {
        const json_t *x = json_object_get(s, keys[i]);
        if (json_is_number(x)) snprintf(v[i], sizeof(v[i]), "%.3f", json_number_value(x));
        else snprintf(v[i], sizeof(v[i]), "n/a");
    }
    fprintf(f, "%s: %" JSON_INTEGER_FORMAT " requests, %" JSON_INTEGER_FORMAT " failed, %.1f req/s; p50 %s ms, p95 %s ms, "
               "p99 %s ms, p99.9 %s ms, max %s ms; SLA %s%%; bridge CPU peak %.0f%%, RSS peak %.1f MB; generator CPU %.0f%% of one core\n",
            json_string_value(json_object_get(json_object_get(rep, "pattern"), "name")),
            json_integer_value(json_object_get(s, "requests_total")), json_integer_value(json_object_get(s, "requests_failed")),
            json_number_value(json_object_get(s, "rps")), v[0], v[1], v[2], v[3], v[4], v[5],
            json_number_value(json_object_get(m, "cpu_peak_percent")), json_number_value(json_object_get(m, "memory_peak_mb")),
            json_number_value(json_object_get(g, "cpu_percent_of_one_core")));
    printAgreement(f, json_object_get(rep, "agreement"));
    const char *e = json_string_value(json_object_get(s, "error"));
    fprintf(f, "verdict: %s%s%s%s%s\n", json_string_value(json_object_get(s, "verdict")),
            json_array_size(json_object_get(s, "failed_objectives")) ? "; failed: " : "",
            json_array_size(json_object_get(s, "failed_objectives")) ? failed : "", e ? "; " : "", e ? e : "");
    free(failed);
    printCauses(f, rep);
    const json_t *c = json_object_get(rep, "counts");
    json_int_t thr = json_integer_value(json_object_get(c, "throttled_429"));
    json_int_t tot = json_integer_value(json_object_get(s, "requests_total"));
    if (tot > 0 && thr * 2 > tot)
        fprintf(f, "mostly throttled: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " requests were answered 429 by the "
                   "bridge's per-agent rate limit; fix: let lighthouse load mint one token per agent (--data DIR of the "
                   "bridge, or an admin token), or give --token T1,T2,..., or run the bridge with --rate-limit 0\n", thr, tot);
    if (json_integer_value(json_object_get(c, "ok")) == 0 && json_integer_value(json_object_get(c, "http_4xx")) > 0)
        fprintf(f, "hint: the bridge refused every request with a 4xx: check --token / LIGHTHOUSE_TOKEN (a builder token "
                   "of this bridge's data dir) and its rate_limit (docs/load.md, \"Tokens and rate limits\")\n");
}

/* Post the run's summary to the bridge (POST /v1/load/runs, a load.completed event). 0, or
 * -1 after saying why on stderr. */
static int postSummary(const char *base, const char *token, const json_t *rep, const lh_load_result *r,
                       const char *gitCommit, int quiet) {
    unsigned char rnd[8];
    char runId[24], err[512];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        fprintf(stderr, "lighthouse load: could not post the run's summary: no random bytes for its id\n");
        return -1;
    }
    snprintf(runId, sizeof(runId), "lr-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
             rnd[6], rnd[7]);
    json_t *s = lh_load_summary(rep, r->start_epoch, runId, gitCommit);
    int64_t seq = 0;
    int rc = !s ? -1 : lh_load_summary_check(s, err, sizeof(err)) ? -1 : lh_load_central_post(base, token, s, &seq, err, sizeof(err));
    json_decref(s);
    if (rc) fprintf(stderr, "lighthouse load: could not post the run's summary to %s: %s\n", base, s ? err : "out of memory");
    else if (!quiet) fprintf(stderr, "lighthouse load: posted the run's summary to %s: load.completed, seq %lld, run %s\n", base,
                             (long long)seq, runId);
    return rc;
}

/* The report's "trend": this pattern's last 20 runs, from the bridge (when the run was
 * posted there) or from the local history, for the HTML report's trend charts. */
static void attachTrend(json_t *rep, const char *base, const char *token, const char *history) {
    const char *pattern = json_string_value(json_object_get(json_object_get(rep, "pattern"), "name"));
    char err[512], source[4200];
    json_t *rows = NULL;
    if (base) {
        rows = lh_load_central_rows(base, token, pattern, 20, err, sizeof(err));
        snprintf(source, sizeof(source), "%s (GET /v1/load/runs)", base);
    } else if (history) {
        rows = lh_load_history_rows(history, 20, pattern, err, sizeof(err));
        snprintf(source, sizeof(source), "%s", history);
    } else return;
    if (!rows) { fprintf(stderr, "lighthouse load: no trend in the report: %s\n", err); return; }
    json_object_set_new(rep, "trend", json_pack("{s:s,s:s,s:o}", "source", source, "pattern", pattern ? pattern : "", "runs", rows));
}

int lh_cli_load(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "history")) return historyMain(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "patterns")) {
        for (const char *const *n = lh_load_pattern_names(); *n; n++) {
            lh_load_pattern p;
            char e[128];
            lh_load_pattern_builtin(*n, &p, e, sizeof(e));
            json_t *j = lh_load_pattern_json(&p);
            json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
            fputc('\n', stdout);
            json_decref(j);
        }
        return 0;
    }
    lh_load_options o;
    memset(&o, 0, sizeof(o));
    char err[1024];
    const char *pattern = "scale_test", *patternFile = NULL, *report = NULL, *html = NULL, *baseline = NULL,
               *saveBaseline = NULL, *corpusPath = NULL, *tokenArg = NULL, *dataArg = NULL, *adminArg = NULL,
               *target = getenv("LIGHTHOUSE_URL"), *history = NULL, *expertTarget = NULL;
    char historyBuf[4200];
    if (!target || !*target) target = "http://127.0.0.1:8765";
    o.duration_s = 60;
    o.seed = (uint64_t)time(NULL);
    o.timeout_s = 10;
    o.drain_s = 5;
    snprintf(o.path, sizeof(o.path), "/v1/validate");
    /* overrides are applied after the pattern is chosen, in order */
    const char *sets[64][2];
    int nsets = 0, noHistory = 0, postMode = -1;   /* post the summary: -1 when an admin token is given, 1, 0 */
    const char *gitCommit = getenv("LIGHTHOUSE_GIT_COMMIT");
    if (gitCommit && !*gitCommit) gitCommit = NULL;
    double minDelta = 5;
    int confirm = 1;
    /* simulated experts (src/load/experts.c) */
    const char *expertArg = NULL, *expertCaps = NULL;
    int expertWait = 10;
    double expertAvail = 0.9, expertSpeed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usageText, stdout); return 0; }
        if (!strcmp(a, "--quiet")) { o.quiet = 1; continue; }
        if (!strcmp(a, "--no-history")) { noHistory = 1; continue; }
        if (!strcmp(a, "--post-summary")) { postMode = 1; continue; }
        if (!strcmp(a, "--no-post-summary")) { postMode = 0; continue; }
        if (!v || strncmp(a, "--", 2)) { fputs(usageText, stderr); return bad("unexpected argument '%s'%s", a, ""); }
        i++;
        const char *key = NULL;
        if (!strcmp(a, "--pattern")) pattern = v;
        else if (!strcmp(a, "--pattern-file")) patternFile = v;
        else if (!strcmp(a, "--duration")) { if (parseDuration(v, &o.duration_s)) return bad("--duration: '%s' is not a duration (e.g. 20s, 5m, 1h; > 0, <= 7 days)%s", v, ""); }
        else if (!strcmp(a, "--timeout")) { if (parseDuration(v, &o.timeout_s) || o.timeout_s > 60) return bad("--timeout: '%s' must be > 0 and <= 60 s%s", v, ""); }
        else if (!strcmp(a, "--target")) target = v;
        else if (!strcmp(a, "--token")) tokenArg = v;
        else if (!strcmp(a, "--data")) dataArg = v;
        else if (!strcmp(a, "--admin-token")) adminArg = v;
        else if (!strcmp(a, "--report")) report = v;
        else if (!strcmp(a, "--html")) html = v;
        else if (!strcmp(a, "--baseline")) baseline = v;
        else if (!strcmp(a, "--save-baseline")) saveBaseline = v;
        else if (!strcmp(a, "--history")) history = v;
        else if (!strcmp(a, "--corpus")) corpusPath = v;
        else if (!strcmp(a, "--git-commit")) gitCommit = v;
        else if (!strcmp(a, "--confirm")) {
            if (strspn(v, "0123456789") != strlen(v) || wholeNumber(v, 0, 10, &confirm)) return bad("--confirm: '%s' must be 0 to 10 repeats%s", v, "");
        } else if (!strcmp(a, "--min-latency-delta")) {
            char *end;
            minDelta = strtod(v, &end);
            if (*end || end == v || !(minDelta >= 0) || minDelta > 60000) return bad("--min-latency-delta: '%s' must be milliseconds, 0 to 60000%s", v, "");
        }
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *end || end == v) return bad("--seed: '%s' is not a whole number%s", v, "");
            o.seed = s;
        } else if (!strcmp(a, "--bridge-pid")) {
            if (wholeNumber(v, 1, INT_MAX, &o.bridge_pid)) return bad("--bridge-pid: '%s' is not a process id%s", v, "");
        }
        else if (!strcmp(a, "--expert-token")) expertArg = v;
        else if (!strcmp(a, "--expert-capabilities")) expertCaps = v;
        else if (!strcmp(a, "--expert-target")) expertTarget = v;
        else if (!strcmp(a, "--expert-wait")) { if (wholeNumber(v, 1, 300, &expertWait)) return bad("--expert-wait: '%s' must be 1 to 300 seconds%s", v, ""); }
        else if (!strcmp(a, "--expert-availability") || !strcmp(a, "--expert-speed")) {
            char *end;
            double d = strtod(v, &end);
            int avail = !strcmp(a, "--expert-availability");
            if (*end || end == v || !(d >= 0) || d > (avail ? 1 : 100)) return bad("%s: '%s' is out of range", a, v);
            if (avail) expertAvail = d; else expertSpeed = d;
        }
        else if (!strcmp(a, "--agents")) key = "agents";
        else if (!strcmp(a, "--agents-peak")) key = "agents_peak";
        else if (!strcmp(a, "--rate")) key = "base_rate";
        else if (!strcmp(a, "--peak")) key = "peak_multiplier";
        else if (!strcmp(a, "--burst-probability")) key = "burst_probability";
        else if (!strcmp(a, "--network-errors")) key = "network_error_rate";
        else if (!strcmp(a, "--mix")) key = "mix";
        else if (!strcmp(a, "--think")) key = "think_time_s";
        else if (!strcmp(a, "--session")) key = "session_mean_s";
        else if (!strcmp(a, "--set")) key = "";
        else { fputs(usageText, stderr); return bad("unknown option '%s'%s", a, ""); }
        if (key) {
            if (nsets == 64) return bad("too many overrides%s%s", "", "");
            sets[nsets][0] = key;
            sets[nsets++][1] = v;
        }
    }
    if (patternFile) {
        if (lh_load_pattern_file(patternFile, &o.pat, err, sizeof(err))) return bad("%s%s", err, "");
    } else if (lh_load_pattern_builtin(pattern, &o.pat, err, sizeof(err))) return bad("%s%s", err, "");
    for (int i = 0; i < nsets; i++) {
        const char *k = sets[i][0], *v = sets[i][1];
        char kbuf[64];
        if (!*k) {   /* --set KEY=VALUE */
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || (size_t)(eq - v) >= sizeof(kbuf)) return bad("--set: '%s' is not KEY=VALUE%s", v, "");
            memcpy(kbuf, v, (size_t)(eq - v));
            kbuf[eq - v] = 0;
            k = kbuf;
            v = eq + 1;
        }
        if (!strcmp(k, "agents")) {   /* a fixed fleet: base and peak */
            if (lh_load_pattern_set(&o.pat, "agents_base", v, err, sizeof(err)) ||
                lh_load_pattern_set(&o.pat, "agents_peak", v, err, sizeof(err)))
                return bad("--agents: %s%s", err, "");
        } else if (lh_load_pattern_set(&o.pat, k, v, err, sizeof(err))) return bad("%s%s", err, "");
    }
    if (lh_load_pattern_check(&o.pat, err, sizeof(err))) return bad("%s%s", err, "");
    if (parseTarget(target, &o, err, sizeof(err))) return bad("%s%s", err, "");
    /* the simulated experts' bridge address: the experts' listener, or the target */
    lh_load_options xt;
    memset(&xt, 0, sizeof(xt));
    if (expertTarget && parseTarget(expertTarget, &xt, err, sizeof(err))) return bad("--expert-target: %s%s", err, "");
    if (!expertTarget) { snprintf(xt.host, sizeof(xt.host), "%s", o.host); xt.port = o.port; }
    const char *envAdmin = getenv("LIGHTHOUSE_ADMIN_TOKEN");
    /* The admin token posts the run's summary (docs/load.md, "Central history"); it mints
     * the fleet too when neither --token nor --data gives the agents their tokens. */
    const char *postToken = adminArg ? adminArg : envAdmin && *envAdmin ? envAdmin : NULL;
    if (!adminArg && envAdmin && *envAdmin && !tokenArg && !dataArg) adminArg = envAdmin;
    if (tokenArg && dataArg) return bad("give one of --token and --data%s%s", "", "");
    const char *fleetAdmin = !tokenArg && !dataArg ? adminArg : NULL;
    if (postMode == 1 && !postToken)
        return bad("--post-summary needs an admin token of the bridge: --admin-token T or LIGHTHOUSE_ADMIN_TOKEN%s%s", "", "");
    int post = postMode == 1 || (postMode == -1 && postToken);
    if (gitCommit && (strlen(gitCommit) < 7 || strlen(gitCommit) > 64 || strspn(gitCommit, "0123456789abcdef") != strlen(gitCommit)))
        return bad("--git-commit / LIGHTHOUSE_GIT_COMMIT: '%s' is not a git commit (7 to 64 lower-case hex digits)%s", gitCommit, "");
    /* Tokens: --token; else a fleet minted from --data; else LIGHTHOUSE_TOKEN; else a fleet
     * from $LIGHTHOUSE_DATA or the default data dir. */
    const char *envTok = getenv("LIGHTHOUSE_TOKEN");
    const char *data = NULL, *envHist;
    if (!tokenArg && !dataArg && !fleetAdmin && envTok && *envTok) tokenArg = envTok;
    if (!tokenArg && !fleetAdmin) data = dataDir(dataArg, o.quiet);
    else if (!history && !((envHist = getenv("LIGHTHOUSE_LOAD_HISTORY")) && *envHist))
        data = dataDir(NULL, o.quiet);
    history = historyPath(history, data, historyBuf, sizeof(historyBuf));
    lh_fleet fleet;
    memset(&fleet, 0, sizeof(fleet));
    if (!tokenArg && !fleetAdmin) {
        char keyPath[4200];
        snprintf(keyPath, sizeof(keyPath), "%s/token.key", data);
        if (access(keyPath, F_OK)) {
            fprintf(stderr, "lighthouse load: no token: %s has no token.key. Give --data DIR, the data dir of the bridge "
                            "(lighthouse serve --data DIR), to run a fleet with one token per agent, or --token T\n", data);
            return 2;
        }
    }
    /* tokens: comma-separated, one per agent in turn (each token's agent has its own rate limit) */
    char *tokCopy = tokenArg && *tokenArg ? strdup(tokenArg) : NULL;
    char *toks[1024];
    if (tokCopy) {
        char *save = NULL;
        for (char *t = strtok_r(tokCopy, ",", &save); t && o.ntokens < 1024; t = strtok_r(NULL, ",", &save))
            if (strlen(t) < 4096) toks[o.ntokens++] = t;
    }
    o.tokens = toks;
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {   /* one fd per agent, plus room */
        rlim_t want = (rlim_t)o.pat.agents_peak + 256;
        if (rl.rlim_cur < want && rl.rlim_max >= want) { rl.rlim_cur = want; setrlimit(RLIMIT_NOFILE, &rl); }
        if (rl.rlim_cur < want) {
            free(tokCopy);
            fprintf(stderr, "lighthouse load: %d agents need %llu open files; the limit is %llu (ulimit -n)\n",
                    o.pat.agents_peak, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
            return 2;
        }
    }
    lh_load_corpus corpus;
    char used[4096];
    if (lh_load_corpus_load(&corpus, corpusPath, used, sizeof(used), err, sizeof(err))) { free(tokCopy); return bad("%s%s", err, ""); }
    o.corpus = &corpus;
    /* a corrupt baseline is refused before the run, not after it */
    if (baseline && lh_load_baseline_check(baseline, err, sizeof(err))) {
        lh_load_corpus_free(&corpus);
        free(tokCopy);
        fprintf(stderr, "lighthouse load: %s\n", err);
        return 2;
    }
    if (!tokenArg) {   /* the fleet: one builder token per agent, valid for the run and its repeats */
        double ttl = (o.duration_s + o.drain_s + o.timeout_s + 10) * (baseline ? confirm + 1 : 1) + 300;
        if (fleetAdmin ? lh_fleet_mint_http(o.host, o.port, fleetAdmin, o.pat.agents_peak, ttl, &fleet, err, sizeof(err))
                     : lh_fleet_mint(data, o.pat.agents_peak, ttl, &fleet, err, sizeof(err))) {
            lh_load_corpus_free(&corpus);
            fprintf(stderr, "lighthouse load: %s\n", err);
            return 2;
        }
        o.tokens = fleet.tokens;
        o.ntokens = fleet.n;
        if (!o.quiet)
            fprintf(stderr, "lighthouse load: minted %d builder tokens %s %s, one per agent (load-%d-1...), "
                            "revoked at the end\n", fleet.n, fleetAdmin ? "over" : "from", fleetAdmin ? "POST /v1/tokens" : data,
                    (int)getpid());
    }
    signal(SIGPIPE, SIG_IGN);
    if (!o.quiet)
        fprintf(stderr, "lighthouse load: %s for %.0f s against http://%s:%d%s, %d-%d agents, %.0f req/s base (seed %llu, corpus %s)\n",
                o.pat.name, o.duration_s, o.host, o.port, o.path, o.pat.agents_base, o.pat.agents_peak, o.pat.base_rate,
                (unsigned long long)o.seed, used);
    /* Simulated experts: the agents wait for their verdicts (?wait=), and the report shows
     * the escalations apart (experts.expert_decided_latency). */
    char *expTokCopy = expertArg ? strdup(expertArg) : NULL, *expToks[LH_LOAD_EXPERTS_MAX];
    int nexp = 0;
    char capsJson[1200] = "";
    if (expTokCopy) {
        char *save = NULL;
        for (char *t = strtok_r(expTokCopy, ",", &save); t && nexp < LH_LOAD_EXPERTS_MAX; t = strtok_r(NULL, ",", &save))
            expToks[nexp++] = t;
        if (!strchr(o.path, '?')) {
            size_t pl = strlen(o.path);
            snprintf(o.path + pl, sizeof(o.path) - pl, "?wait=%d", expertWait);
        }
        if (o.timeout_s < expertWait + 5) o.timeout_s = expertWait + 5 > 60 ? 60 : expertWait + 5;
        json_t *caps = json_array();
        char *cc = expertCaps ? strdup(expertCaps) : NULL, *csave = NULL;
        for (char *c = cc ? strtok_r(cc, ",", &csave) : NULL; c; c = strtok_r(NULL, ",", &csave))
            json_array_append_new(caps, json_string(c));
        free(cc);
        json_t *body = json_pack("{s:o}", "capabilities", caps);
        char *bt = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (bt && strlen(bt) < sizeof(capsJson)) snprintf(capsJson, sizeof(capsJson), "%s", bt);
        free(bt);
    }
    json_t *expRep_ = NULL;   /* the last run's experts object */
    lh_load_result r;
    int exitCode = 1, rc, attempt = 0;
    json_t *attempts = json_array();
    json_t *rep = NULL;
    lh_load_compare *cmp = NULL;
    int ok = 1;
    /* With a baseline, a regression is confirmed by repeating the run (--confirm N more
     * times, 1 by default): it is called only when every run regresses, so a machine that
     * was busy during one run does not make a regression of the build. */
    for (;;) {
        lh_load_experts *sim = NULL;
        if (nexp) {
            lh_load_experts_opts eo = {.host = xt.host, .port = xt.port, .tokens = expToks, .n = nexp,
                                       .availability = expertAvail, .speed = expertSpeed, .seed = o.seed,
                                       .capabilities_json = capsJson[0] ? capsJson : NULL};
            sim = lh_load_experts_start(&eo, err, sizeof(err));
            if (!sim) { rc = -1; break; }
        }
        rc = lh_load_run(&o, &r, err, sizeof(err));
        json_decref(expRep_);
        expRep_ = lh_load_experts_stop(sim, rc ? NULL : &r);
        if (rc) break;
        rep = lh_load_report(&o, &r, NULL);
        if (!baseline || r.fatal[0]) break;
        cmp = lh_load_compare_baseline(baseline, rep, &r, minDelta, err, sizeof(err));
        if (!cmp) { fprintf(stderr, "lighthouse load: %s\n", err); ok = 0; exitCode = 2; break; }
        json_t *cj = lh_load_compare_json(cmp);
        json_array_append_new(attempts, json_pack("{s:i,s:O,s:O}", "run", attempt + 1, "exceeded",
                                                  json_object_get(cj, "exceeded"), "p99_ms",
                                                  json_object_get(json_object_get(rep, "summary"), "p99_ms")));
        json_decref(cj);
        if (!lh_load_compare_regressed(cmp) || attempt >= confirm) break;
        if (!o.quiet) fprintf(stderr, "lighthouse load: a regression on run %d; repeating the run to confirm it\n", attempt + 1);
        attempt++;
        lh_load_compare_free(cmp);
        cmp = NULL;
        json_decref(rep);
        rep = NULL;
        lh_load_result_free(&r);
        o.seed++;
    }
    if (rc) {
        fprintf(stderr, "lighthouse load: %s\n", err);
    } else {
        if (cmp) {
            json_decref(rep);
            rep = lh_load_report(&o, &r, cmp);
            json_object_set(json_object_get(rep, "baseline"), "runs", attempts);
        }
        if (expRep_) json_object_set(rep, "experts", expRep_);
        if (ok) {
            const char *verdict = json_string_value(json_object_get(json_object_get(rep, "summary"), "verdict"));
            exitCode = verdict && !strcmp(verdict, "GO") ? 0 : 1;
            int kept = 0;
            if (!noHistory && !r.fatal[0]) {
                if (lh_load_history_append(history, rep, err, sizeof(err)))
                    fprintf(stderr, "lighthouse load: %s (the run is not in the history)\n", err);
                else kept = 1;
            }
            char base[96];
            snprintf(base, sizeof(base), "http://%s:%d", o.host, o.port);
            int posted = 0;
            if (post && !r.fatal[0]) {
                if (postSummary(base, postToken, rep, &r, gitCommit, o.quiet)) { if (exitCode == 0) exitCode = 1; }
                else posted = 1;
            }
            if ((html || report) && !r.fatal[0]) attachTrend(rep, posted ? base : NULL, postToken, kept ? history : NULL);
            if (report && writeJson(report, rep)) { fprintf(stderr, "lighthouse load: cannot write %s\n", report); exitCode = 2; }
            if (html && lh_load_html(html, rep, &r, baseline, err, sizeof(err))) { fprintf(stderr, "lighthouse load: %s\n", err); exitCode = 2; }
            if (saveBaseline && !r.fatal[0]) {
                json_t *b = lh_load_baseline_json(rep, &r);
                if (!b || json_dump_file(b, saveBaseline, JSON_INDENT(1))) { fprintf(stderr, "lighthouse load: cannot write %s\n", saveBaseline); exitCode = 2; }
                json_decref(b);
            }
            if (!report || strcmp(report, "-")) printSummary(report ? stderr : stdout, rep);
        }
    }
    if (fleet.n) {
        if (lh_fleet_revoke(&fleet, err, sizeof(err))) {
            fprintf(stderr, "lighthouse load: could not revoke the fleet's tokens (they expire on their own): %s\n", err);
            if (exitCode == 0) exitCode = 1;
        } else if (!o.quiet) fprintf(stderr, "lighthouse load: revoked the %d fleet tokens\n", fleet.n);
        lh_fleet_free(&fleet);
    }
    lh_load_compare_free(cmp);
    json_decref(rep);
    json_decref(attempts);
    lh_load_result_free(&r);
    lh_load_corpus_free(&corpus);
    free(tokCopy);
    free(expTokCopy);
    json_decref(expRep_);
    return exitCode;
}

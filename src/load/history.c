/* history.c — each run's summary appended to a local SQLite file, and the trend of p99 and
 * throughput over past runs (`lighthouse load history`). */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "load/load.h"

static const char *schema =
    "CREATE TABLE IF NOT EXISTS load_runs (id INTEGER PRIMARY KEY, time TEXT NOT NULL, pattern TEXT, seed INTEGER,"
    " duration_s REAL, agents INTEGER, requests_total INTEGER, requests_failed INTEGER, rps REAL, p50_ms REAL,"
    " p99_ms REAL, p999_ms REAL, sla_compliance_percent REAL, verdict TEXT, summary TEXT)";

static int openDb(const char *path, sqlite3 **db, int create, char *err, size_t errlen) {
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "history %s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        sqlite3_close(*db);
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(*db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "history %s: %s", path, msg ? msg : "bad file");
        sqlite3_free(msg);
        sqlite3_close(*db);
        return -1;
    }
    return 0;
}

static void bindNum(sqlite3_stmt *st, int i, const json_t *v) {
    if (json_is_number(v)) sqlite3_bind_double(st, i, json_number_value(v));
    else sqlite3_bind_null(st, i);
}

int lh_load_history_append(const char *path, const json_t *report, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    /* the default lives in ./lighthouse-data/, which may not exist yet */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash && slash > path && (size_t)(slash - path) < sizeof(dir)) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
        mkdir(dir, 0700);   /* an existing directory is fine; a real failure shows at open */
    }
    if (openDb(path, &db, 1, err, errlen)) return -1;
    const json_t *s = json_object_get(report, "summary"), *p = json_object_get(report, "pattern"),
                 *par = json_object_get(report, "parameters"), *m = json_object_get(report, "metrics");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO load_runs (time, pattern, seed, duration_s, agents, requests_total, requests_failed,"
                                " rps, p50_ms, p99_ms, p999_ms, sla_compliance_percent, verdict, summary)"
                                " VALUES (strftime('%Y-%m-%dT%H:%M:%SZ','now'),?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        char *sj = json_dumps(s, JSON_COMPACT);
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(p, "name")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)json_integer_value(json_object_get(report, "seed")));
        bindNum(st, 3, json_object_get(par, "duration_s"));
        bindNum(st, 4, json_object_get(m, "peak_concurrent_agents"));
        bindNum(st, 5, json_object_get(s, "requests_total"));
        bindNum(st, 6, json_object_get(s, "requests_failed"));
        bindNum(st, 7, json_object_get(s, "rps"));
        bindNum(st, 8, json_object_get(s, "p50_ms"));
        bindNum(st, 9, json_object_get(s, "p99_ms"));
        bindNum(st, 10, json_object_get(s, "p999_ms"));
        bindNum(st, 11, json_object_get(s, "sla_compliance_percent"));
        sqlite3_bind_text(st, 12, json_string_value(json_object_get(s, "verdict")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 13, sj ? sj : "{}", -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        free(sj);
    }
    if (rc != SQLITE_OK) snprintf(err, errlen, "history %s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void fmtNum(char *b, size_t n, sqlite3_stmt *st, int col, const char *fmt) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) snprintf(b, n, "-");
    else snprintf(b, n, fmt, sqlite3_column_double(st, col));
}

/* The last `limit` runs, oldest first, with the change of p99 and throughput against the
 * run before, and a closing line with the trend over the runs shown. */
int lh_load_history_print(FILE *out, const char *path, int limit, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    if (openDb(path, &db, 0, err, errlen)) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT * FROM (SELECT id, time, pattern, agents, requests_total, requests_failed, rps, p50_ms,"
                               " p99_ms, p999_ms, sla_compliance_percent, verdict FROM load_runs ORDER BY id DESC LIMIT ?)"
                               " ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "history %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_bind_int(st, 1, limit);
    fprintf(out, "%-4s %-20s %-18s %7s %9s %7s %10s %9s %9s %9s %8s %-6s %s\n", "run", "time (UTC)", "pattern", "agents",
            "requests", "failed", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "SLA %", "verdict", "p99 / req/s vs previous");
    double firstP99 = NAN, lastP99 = NAN, firstRps = NAN, lastRps = NAN, prevP99 = NAN, prevRps = NAN;
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char rps[32], p50[32], p99[32], p999[32], sla[32], trend[96] = "";
        fmtNum(rps, sizeof(rps), st, 6, "%.1f");
        fmtNum(p50, sizeof(p50), st, 7, "%.3f");
        fmtNum(p99, sizeof(p99), st, 8, "%.3f");
        fmtNum(p999, sizeof(p999), st, 9, "%.3f");
        fmtNum(sla, sizeof(sla), st, 10, "%.2f");
        double cp99 = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
        double crps = sqlite3_column_double(st, 6);
        if (!isnan(prevP99) && !isnan(cp99) && prevP99 > 0 && prevRps > 0)
            snprintf(trend, sizeof(trend), "%+.1f%% / %+.1f%%", 100 * (cp99 / prevP99 - 1), 100 * (crps / prevRps - 1));
        const char *pat = (const char *)sqlite3_column_text(st, 2), *v = (const char *)sqlite3_column_text(st, 11);
        const char *tm = (const char *)sqlite3_column_text(st, 1);
        fprintf(out, "%-4lld %-20s %-18s %7lld %9lld %7lld %10s %9s %9s %9s %8s %-7s %s\n", sqlite3_column_int64(st, 0),
                tm ? tm : "", pat ? pat : "", sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
                sqlite3_column_int64(st, 5), rps, p50, p99, p999, sla, v ? v : "", trend);
        if (!rows) { firstP99 = cp99; firstRps = crps; }
        lastP99 = cp99;
        lastRps = crps;
        prevP99 = cp99;
        prevRps = crps;
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!rows) fprintf(out, "(no runs recorded in %s)\n", path);
    else if (rows > 1 && firstP99 > 0 && firstRps > 0)
        fprintf(out, "trend over %d runs: p99 %.3f -> %.3f ms (%+.1f%%), throughput %.1f -> %.1f req/s (%+.1f%%)\n", rows,
                firstP99, lastP99, 100 * (lastP99 / firstP99 - 1), firstRps, lastRps, 100 * (lastRps / firstRps - 1));
    return 0;
}

static json_t *colNum(sqlite3_stmt *st, int col) {
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null() : json_real(sqlite3_column_double(st, col));
}

static json_t *colText(sqlite3_stmt *st, int col) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? json_string(t) : json_null();
}

/* The same runs as lh_load_history_print, as trend rows (load.h). */
json_t *lh_load_history_rows(const char *path, int limit, const char *pattern, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    if (openDb(path, &db, 0, err, errlen)) return NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT * FROM (SELECT id, time, pattern, agents, requests_total, requests_failed, rps, p50_ms,"
                               " p99_ms, verdict, sla_compliance_percent FROM load_runs WHERE ?1 IS NULL OR pattern = ?1"
                               " ORDER BY id DESC LIMIT ?2) ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "history %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    if (pattern) sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int(st, 2, limit);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = json_pack("{s:I,s:o,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "run", (json_int_t)sqlite3_column_int64(st, 0),
                                "time", colText(st, 1), "pattern", colText(st, 2), "agents", (json_int_t)sqlite3_column_int64(st, 3),
                                "requests", (json_int_t)sqlite3_column_int64(st, 4), "failed", (json_int_t)sqlite3_column_int64(st, 5),
                                "rps", colNum(st, 6), "p50_ms", colNum(st, 7), "p99_ms", colNum(st, 8), "verdict", colText(st, 9),
                                "sla_compliance_percent", colNum(st, 10));
        if (row) json_array_append_new(rows, row);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

/* events.c — `lighthouse events`: read, follow, verify and export the audit log.
 *
 *   lighthouse events query   [STORE] [FILTERS] [--json] [--count]
 *   lighthouse events tail    [STORE] [FILTERS] [-n N] [--no-follow] [--max-events N] [--timeout SECS]
 *   lighthouse events verify  [STORE] [--json]
 *   lighthouse events stats   [STORE] [--json]
 *   lighthouse events export  [STORE] [FILTERS]                 all matching events as JSON lines
 *   lighthouse events project policy|tokens [STORE] [--as-of SEQ | --at TIME]
 *   lighthouse events snapshot policy|tokens [STORE]
 *   lighthouse events rotate-key [STORE]
 *   lighthouse events append  [STORE] [--threads N] [--batch N] [--keep-going]
 *
 * STORE is --data DIR (SQLite; else $LIGHTHOUSE_DATA, else ./lighthouse-data, named on stderr)
 * or --pg CONNINFO (PostgreSQL).
 * `append` reads JSON lines {"type", "agent", "aggregate", "data", "id"} on stdin and prints
 * "SEQ<TAB>ID" for each event once it is durable. It exists for tests, the crash test and
 * imports; it is documented in docs/store.md but not in the main usage text.
 * Exit codes: 0 ok, 1 the chain does not verify, 2 bad usage or input, or a store error. */
#include "cli/cli.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "store/store.h"

#define LINE_MAX_BYTES (LH_STORE_MAX_EVENT_BYTES_DEFAULT + 64 * 1024)

/* ============================== Options ============================== */

typedef struct opts {
    const char *cmd;
    const char *data_dir, *pg, *store;
    const char *name;                 /* project / snapshot argument */
    lh_store_filter f;
    int json, count, follow, keep_going, desc_set;
    long tail_n, max_events, timeout_s, threads, batch;
    int64_t as_of, at_ns;
} opts;

static const char *usageText =
    "usage: lighthouse events query|tail|verify|stats|export|project|snapshot|rotate-key|append\n"
    "         [--data DIR | --pg CONNINFO] [--type T] [--agent A] [--aggregate G]\n"
    "         [--after SEQ] [--before SEQ] [--since TIME] [--until TIME] [--limit N] [--desc]\n"
    "         [--json] [--count]\n"
    "TIME is nanoseconds since the epoch or UTC like 2025-01-31T12:00:00Z. See docs/store.md.\n";

static int usageErr(const char *fmt, const char *arg) {
    fprintf(stderr, "lighthouse events: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n%s", usageText);
    return 2;
}

static int parseInt(const char *s, int64_t min, int64_t *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min) return -1;
    *out = v;
    return 0;
}

/* Nanoseconds since the epoch, or an ISO-8601 UTC time with optional fraction. */
static int parseTime(const char *s, int64_t *out) {
    if (parseInt(s, 0, out) == 0) return 0;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -1;
    int64_t frac = 0, scale = 1000000000;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (scale > 1) { scale /= 10; frac += (*p - '0') * scale; }
            p++;
        }
    }
    if (strcmp(p, "Z") && strcmp(p, "+00:00")) return -1;
    time_t t = timegm(&tm);
    if (t < 0 || t >= INT64_MAX / 1000000000 - 1) return -1; /* ns since 1970 end in 2262 */
    *out = (int64_t)t * 1000000000 + frac;
    return 0;
}

static int parseArgs(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof(*o));
    o->follow = 1;
    o->tail_n = 10;
    o->threads = 1;
    o->batch = 1;
    if (argc < 2) return usageErr("missing subcommand", NULL);
    o->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
#define NEED() do { if (!v) return usageErr("%s needs a value", a); i++; } while (0)
        if (!strcmp(a, "--data")) { NEED(); o->data_dir = v; }
        else if (!strcmp(a, "--pg")) { NEED(); o->pg = v; }
        else if (!strcmp(a, "--store")) { NEED(); o->store = v; }
        else if (!strcmp(a, "--type")) { NEED(); o->f.type = v; }
        else if (!strcmp(a, "--agent")) { NEED(); o->f.agent = v; }
        else if (!strcmp(a, "--aggregate")) { NEED(); o->f.aggregate = v; }
        else if (!strcmp(a, "--after") || !strcmp(a, "--before") || !strcmp(a, "--as-of")) {
            NEED();
            if (parseInt(v, 0, &n) < 0) return usageErr("%s needs a seq (a whole number >= 0)", a);
            if (!strcmp(a, "--after")) o->f.after_seq = n;
            else if (!strcmp(a, "--before")) o->f.before_seq = n;
            else o->as_of = n;
        } else if (!strcmp(a, "--since") || !strcmp(a, "--until") || !strcmp(a, "--at")) {
            NEED();
            if (parseTime(v, &n) < 0)
                return usageErr("%s needs a time: nanoseconds, or UTC like 2025-01-31T12:00:00Z", a);
            if (!strcmp(a, "--since")) o->f.since_ns = n;
            else if (!strcmp(a, "--until")) o->f.until_ns = n;
            else o->at_ns = n;
        } else if (!strcmp(a, "--limit") || !strcmp(a, "-n") || !strcmp(a, "--max-events") ||
                   !strcmp(a, "--timeout") || !strcmp(a, "--threads") || !strcmp(a, "--batch")) {
            NEED();
            if (parseInt(v, 1, &n) < 0 || n > 1000000000) return usageErr("%s needs a whole number >= 1", a);
            if (!strcmp(a, "--limit")) { o->f.limit = (size_t)n; o->tail_n = (long)n; }
            else if (!strcmp(a, "-n")) o->tail_n = (long)n;
            else if (!strcmp(a, "--max-events")) o->max_events = (long)n;
            else if (!strcmp(a, "--timeout")) o->timeout_s = (long)n;
            else if (!strcmp(a, "--threads")) {
                if (n > 256) return usageErr("--threads is at most 256", NULL);
                o->threads = (long)n;
            } else {
                if (n > LH_STORE_MAX_BATCH) return usageErr("--batch is at most 10000", NULL);
                o->batch = (long)n;
            }
        } else if (!strcmp(a, "--desc")) o->f.descending = 1;
        else if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--count")) o->count = 1;
        else if (!strcmp(a, "--no-follow")) o->follow = 0;
        else if (!strcmp(a, "--keep-going")) o->keep_going = 1;
        else if (a[0] != '-' && !o->name && (!strcmp(o->cmd, "project") || !strcmp(o->cmd, "snapshot"))) o->name = a;
        else return usageErr("unknown option '%s'", a);
#undef NEED
    }
    if (o->f.limit > LH_STORE_MAX_LIMIT && strcmp(o->cmd, "tail"))
        return usageErr("--limit is at most 10000 per page; use `export` for everything", NULL);
    if (o->tail_n > LH_STORE_MAX_LIMIT) return usageErr("-n is at most 10000", NULL);
    return 0;
}

static lh_store *openStore(const opts *o, int readonly) {
    char err[512];
    lh_store_options so;
    memset(&so, 0, sizeof(so));
    so.backend = o->pg ? LH_STORE_POSTGRES : LH_STORE_SQLITE;
    if (o->store && lh_store_backend_parse(o->store, &so.backend, err, sizeof(err)) < 0) {
        usageErr("%s", err);
        return NULL;
    }
    if (so.backend == LH_STORE_POSTGRES && !o->pg) {
        usageErr("%s", "--store postgres needs --pg CONNINFO");
        return NULL;
    }
    if (so.backend == LH_STORE_SQLITE && o->pg) {
        usageErr("%s", "--pg is for the postgres store; drop --store sqlite");
        return NULL;
    }
    so.conninfo = o->pg;
    /* The secret file lives in the data dir for both backends; with --pg it is used only
     * when --data is given (replicas normally share LIGHTHOUSE_SECRET). */
    so.data_dir = o->data_dir;
    const char *envData = getenv("LIGHTHOUSE_DATA");
    if (!so.data_dir && envData && *envData) so.data_dir = envData;
    if (!so.data_dir && !o->pg) {
        char cwd[4096];
        so.data_dir = "lighthouse-data";
        fprintf(stderr, "lighthouse events: no --data or LIGHTHOUSE_DATA; using the default data dir %s/lighthouse-data\n",
                getcwd(cwd, sizeof(cwd)) ? cwd : ".");
    }
    so.flags = readonly ? LH_STORE_READONLY : 0;
    lh_store *st = lh_store_open(&so, err, sizeof(err));
    if (!st) fprintf(stderr, "lighthouse events: %s\n", err);
    return st;
}

/* ============================== Printing ============================== */

static void fmtTime(int64_t ns, char *buf, size_t cap) {
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%06lldZ", (long long)((ns % 1000000000) / 1000));
}

static void printEvent(const lh_event *e, int json) {
    if (json) {
        char mac[2 * LH_STORE_MAC_LEN + 1];
        for (int i = 0; i < LH_STORE_MAC_LEN; i++) sprintf(mac + 2 * i, "%02x", e->mac[i]);
        json_t *d = json_loads(e->data, JSON_DECODE_ANY, NULL);
        json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:o,s:s}", "seq", (json_int_t)e->seq, "id", e->id, "type",
                              e->type, "time_ns", (json_int_t)e->time_ns, "agent", e->agent, "aggregate",
                              e->aggregate, "data", d ? d : json_string(e->data), "mac", mac);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s) { fputs(s, stdout); fputc('\n', stdout); }
        free(s);
        json_decref(o);
        return;
    }
    char t[40];
    fmtTime(e->time_ns, t, sizeof(t));
    printf("%lld  %s  %s  %s  %s  %s\n", (long long)e->seq, t, e->type, e->agent[0] ? e->agent : "-",
           e->aggregate[0] ? e->aggregate : "-", e->data);
}

static int storeFail(const char *what, const char *err) {
    fprintf(stderr, "lighthouse events %s: %s\n", what, err);
    return 2;
}

/* ============================== query / export ============================== */

static int cmdQuery(const opts *o, int export_all) {
    lh_store *st = openStore(o, 1);
    if (!st) return 2;
    char err[512];
    int rc = 0;
    if (o->count) {
        int64_t n = 0;
        if (lh_store_count(st, &o->f, &n, err, sizeof(err)) < 0) rc = storeFail("query", err);
        else printf(o->json ? "{\"count\":%lld}\n" : "%lld\n", (long long)n);
        lh_store_close(st);
        return rc;
    }
    lh_store_filter f = o->f;
    if (export_all) f.limit = LH_STORE_MAX_LIMIT;
    for (;;) {
        lh_event_list l;
        if (lh_store_query(st, &f, &l, err, sizeof(err)) < 0) {
            lh_event_list_free(&l);
            rc = storeFail(o->cmd, err);
            break;
        }
        for (size_t i = 0; i < l.n; i++) printEvent(&l.events[i], o->json || export_all);
        size_t n = l.n;
        if (f.descending) f.before_seq = l.cursor;
        else f.after_seq = l.cursor;
        lh_event_list_free(&l);
        if (!export_all || n < f.limit) break;
    }
    if (fflush(stdout) != 0) rc = storeFail(o->cmd, "cannot write the output");
    lh_store_close(st);
    return rc;
}

/* ============================== tail ============================== */

static volatile sig_atomic_t stopFlag;
static void onSignal(int sig) { (void)sig; stopFlag = 1; }

static int cmdTail(const opts *o) {
    lh_store *st = openStore(o, 1);
    if (!st) return 2;
    char err[512];
    lh_store_filter f = o->f;
    f.descending = 1;
    f.limit = (size_t)o->tail_n;
    lh_event_list l;
    if (lh_store_query(st, &f, &l, err, sizeof(err)) < 0) {
        lh_event_list_free(&l);
        lh_store_close(st);
        return storeFail("tail", err);
    }
    lh_store_stats s;
    int64_t cursor = 0;
    if (lh_store_stats_get(st, &s, err, sizeof(err)) == 0) cursor = s.head_seq;
    for (size_t i = l.n; i > 0; i--) printEvent(&l.events[i - 1], o->json);
    lh_event_list_free(&l);
    fflush(stdout);
    int rc = 0;
    if (o->follow) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = onSignal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        lh_store_sub *sub = NULL;
        if (lh_store_subscribe(st, cursor, &sub, err, sizeof(err)) < 0) {
            lh_store_close(st);
            return storeFail("tail", err);
        }
        long printed = 0;
        time_t end = o->timeout_s ? time(NULL) + o->timeout_s : 0;
        while (!stopFlag && (!end || time(NULL) < end) && (!o->max_events || printed < o->max_events)) {
            if (lh_store_sub_next(sub, 200, 1000, &l, err, sizeof(err)) < 0) {
                fprintf(stderr, "lighthouse events tail: %s (retrying)\n", err);
                continue;
            }
            for (size_t i = 0; i < l.n; i++) {
                const lh_event *e = &l.events[i];
                if ((f.type && strcmp(f.type, e->type) &&
                     !(strlen(f.type) > 2 && !strcmp(f.type + strlen(f.type) - 2, ".*") &&
                       !strncmp(f.type, e->type, strlen(f.type) - 1))) ||
                    (f.agent && strcmp(f.agent, e->agent)) || (f.aggregate && strcmp(f.aggregate, e->aggregate)))
                    continue;
                printEvent(e, o->json);
                if (o->max_events && ++printed >= o->max_events) break;
            }
            lh_event_list_free(&l);
            fflush(stdout);
        }
        lh_store_sub_close(sub);
    }
    lh_store_close(st);
    return rc;
}

/* ============================== verify / stats ============================== */

/* What the checkpoint file outside the store witnesses (docs/store.md, "Cutting the tail"). */
static void printCheckpoint(const lh_store_verify_result *r) {
    char t[40];
    if (!r->checkpoint_path[0]) {
        printf("checkpoints: off; nothing outside the store witnesses its head\n");
    } else if (!r->checkpoint_found) {
        printf("checkpoints: none in %s; only the store vouches for its head\n", r->checkpoint_path);
    } else {
        fmtTime(r->checkpoint_wall_ns, t, sizeof(t));
        printf("checkpoint: seq %lld witnessed at %s in %s", (long long)r->checkpoint_seq, t, r->checkpoint_path);
        if (r->ok)
            printf("; %lld event%s after it only the store vouches for", (long long)r->unwitnessed,
                   r->unwitnessed == 1 ? "" : "s");
        printf("\n");
    }
    if (r->checkpoint_cuts)
        printf("note: %s records %lld accepted cut%s of the log (LIGHTHOUSE_ACCEPT_CUT_LOG); events witnessed before "
               "a cut are not checked\n", r->checkpoint_path, (long long)r->checkpoint_cuts,
               r->checkpoint_cuts == 1 ? "" : "s");
    if (r->checkpoint_bad)
        printf("warning: %lld line%s of %s are not valid signed checkpoints (ignored)\n", (long long)r->checkpoint_bad,
               r->checkpoint_bad == 1 ? "" : "s", r->checkpoint_path);
    if (r->checkpoint_torn)
        printf("note: the last line of %s is torn (%lld bytes without a newline: a checkpoint's write cut by a crash; "
               "ignored, and cut away by the next writer)\n", r->checkpoint_path, (long long)r->checkpoint_torn);
}

static int cmdVerify(const opts *o) {
    lh_store *st = openStore(o, 1);
    if (!st) return 2;
    char err[512];
    lh_store_verify_result r;
    int rc;
    if (lh_store_verify(st, &r, err, sizeof(err)) < 0) {
        rc = storeFail("verify", err);
    } else if (r.ok) {
        if (o->json) {
            printf("{\"ok\":true,\"checked\":%lld,\"head_seq\":%lld,\"key_rotations\":%d", (long long)r.checked,
                   (long long)r.head_seq, r.key_rotations);
            if (r.checkpoint_found)
                printf(",\"checkpoint_seq\":%lld,\"checkpoint_time_ns\":%lld,\"unwitnessed\":%lld",
                       (long long)r.checkpoint_seq, (long long)r.checkpoint_wall_ns, (long long)r.unwitnessed);
            printf("}\n");
        } else {
            printf("ok: %lld events verified, chain head seq %lld, %d key rotation%s\n", (long long)r.checked,
                   (long long)r.head_seq, r.key_rotations, r.key_rotations == 1 ? "" : "s");
            printCheckpoint(&r);
        }
        rc = 0;
    } else {
        if (o->json) {
            json_t *j = json_pack("{s:b,s:I,s:I,s:s}", "ok", 0, "first_bad_seq", (json_int_t)r.first_bad_seq,
                                  "checked", (json_int_t)r.checked, "reason", r.reason);
            char *s = json_dumps(j, JSON_COMPACT);
            printf("%s\n", s ? s : "");
            free(s);
            json_decref(j);
        } else {
            printf("FAILED at seq %lld: %s (%lld events before it verified)\n", (long long)r.first_bad_seq, r.reason,
                   (long long)r.checked);
            printCheckpoint(&r);
        }
        fprintf(stderr, "lighthouse events verify: the chain is broken at seq %lld\n", (long long)r.first_bad_seq);
        rc = 1;
    }
    lh_store_close(st);
    return rc;
}

static int cmdStats(const opts *o) {
    lh_store *st = openStore(o, 1);
    if (!st) return 2;
    char err[512], t1[40], t2[40];
    lh_store_stats s;
    if (lh_store_stats_get(st, &s, err, sizeof(err)) < 0) {
        lh_store_close(st);
        return storeFail("stats", err);
    }
    fmtTime(s.first_time_ns, t1, sizeof(t1));
    fmtTime(s.last_time_ns, t2, sizeof(t2));
    if (o->json) {
        json_t *types = json_object();
        for (size_t i = 0; i < s.ntypes; i++) json_object_set_new(types, s.types[i].type, json_integer(s.types[i].count));
        json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "backend", s.backend, "events", (json_int_t)s.events,
                              "head_seq", (json_int_t)s.head_seq, "first_time_ns", (json_int_t)s.first_time_ns,
                              "last_time_ns", (json_int_t)s.last_time_ns, "bytes", (json_int_t)s.bytes, "key",
                              s.key_fp, "types", types);
        char *txt = json_dumps(j, JSON_COMPACT);
        printf("%s\n", txt ? txt : "");
        free(txt);
        json_decref(j);
    } else {
        printf("backend   %s\nevents    %lld\nhead seq  %lld\nfirst     %s\nlast      %s\nbytes     %lld\nkey       %s\n",
               s.backend, (long long)s.events, (long long)s.head_seq, s.events ? t1 : "-", s.events ? t2 : "-",
               (long long)s.bytes, s.key_fp);
        for (size_t i = 0; i < s.ntypes; i++) printf("  %-28s %lld\n", s.types[i].type, (long long)s.types[i].count);
    }
    lh_store_close(st);
    return 0;
}

/* ============================== project / snapshot / rotate-key ============================== */

static const lh_projection *projectionNamed(const char *name) {
    if (name && !strcmp(name, "policy")) return &lh_projection_policy;
    if (name && !strcmp(name, "tokens")) return &lh_projection_tokens;
    return NULL;
}

static int cmdProject(const opts *o, int snapshot) {
    const lh_projection *p = projectionNamed(o->name);
    if (!p) return usageErr("unknown projection '%s'; use policy or tokens", o->name);
    if (o->as_of && o->at_ns) return usageErr("give --as-of SEQ or --at TIME, not both", NULL);
    lh_store *st = openStore(o, !snapshot);
    if (!st) return 2;
    char err[512];
    int rc = 0;
    if (snapshot) {
        int64_t seq = 0;
        if (lh_store_snapshot(st, p, &seq, err, sizeof(err)) < 0) rc = storeFail("snapshot", err);
        else printf("snapshot %s at seq %lld\n", p->name, (long long)seq);
    } else {
        int64_t as_of = o->as_of;
        if (o->at_ns && lh_store_seq_at_time(st, o->at_ns, &as_of, err, sizeof(err)) < 0) {
            lh_store_close(st);
            return storeFail("project", err);
        }
        json_t *s = NULL;
        int64_t at = 0;
        if (o->at_ns && as_of == 0) s = json_object(); /* before the first event: the empty state */
        else if (lh_store_project(st, p, as_of, &s, &at, err, sizeof(err)) < 0) rc = storeFail("project", err);
        if (s) {
            json_t *j = json_pack("{s:s,s:I,s:O}", "projection", p->name, "seq", (json_int_t)at, "state", s);
            char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%s\n", txt ? txt : "");
            free(txt);
            json_decref(j);
            json_decref(s);
        }
    }
    lh_store_close(st);
    return rc;
}

static int cmdRotate(const opts *o) {
    lh_store *st = openStore(o, 0);
    if (!st) return 2;
    char err[512], fp[LH_STORE_FP_LEN + 1];
    int64_t seq = 0;
    int rc = 0;
    if (lh_store_add_file_key(st, fp, err, sizeof(err)) < 0 || lh_store_rotate_key(st, fp, &seq, err, sizeof(err)) < 0)
        rc = storeFail("rotate-key", err);
    else
        printf("rotated to key %s at seq %lld\n", fp, (long long)seq);
    lh_store_close(st);
    return rc;
}

/* ============================== append ============================== */

typedef struct appendCtx {
    const opts *o;
    lh_store *st;
    pthread_mutex_t in_mu, out_mu;
    long line_no;
    int eof, stop, failed, bad_input;
} appendCtx;

/* Read one line of at most LINE_MAX_BYTES; returns its length, -1 at EOF, -2 when too long
 * (the rest of the line is skipped). *buf is reused. */
static long readLine(char **buf, size_t *cap) {
    size_t n = 0;
    int c, too_long = 0;
    while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
        if (n >= LINE_MAX_BYTES) { too_long = 1; continue; }
        if (n + 1 >= *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            char *p = realloc(*buf, nc);
            if (!p) return -2;
            *buf = p;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !too_long) return -1;
    if (too_long) return -2;
    if (!*buf) { *buf = malloc(1); *cap = 1; if (!*buf) return -2; }
    (*buf)[n] = 0;
    return (long)n;
}

typedef struct parsed {
    json_t *root;
    char *data;
} parsed;

static int parseEventLine(const char *line, size_t len, lh_event *ev, parsed *p, char *err, size_t errlen) {
    memset(p, 0, sizeof(*p));
    memset(ev, 0, sizeof(*ev));
    if (!lh_store_utf8_valid(line, len)) return snprintf(err, errlen, "not valid UTF-8"), -1;
    json_error_t je;
    p->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(p->root))
        return snprintf(err, errlen, "not a JSON object: %s", p->root ? "" : je.text), -1;
    json_t *t = json_object_get(p->root, "type"), *d = json_object_get(p->root, "data");
    if (!json_is_string(t)) return snprintf(err, errlen, "\"type\" (a string) is required"), -1;
    ev->type = json_string_value(t);
    ev->agent = json_string_value(json_object_get(p->root, "agent"));
    ev->aggregate = json_string_value(json_object_get(p->root, "aggregate"));
    ev->id = json_string_value(json_object_get(p->root, "id"));
    if (d && !json_is_object(d)) return snprintf(err, errlen, "\"data\" must be a JSON object"), -1;
    if (d) {
        p->data = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        if (!p->data) return snprintf(err, errlen, "out of memory"), -1;
        ev->data = p->data;
    }
    return 0;
}

static void freeParsed(parsed *p) {
    json_decref(p->root);
    free(p->data);
}

static void *appendWorker(void *arg) {
    appendCtx *c = arg;
    size_t batch = (size_t)c->o->batch;
    char **lines = calloc(batch, sizeof(char *));
    size_t *caps = calloc(batch, sizeof(size_t));
    long *lens = calloc(batch, sizeof(long)), *nos = calloc(batch, sizeof(long));
    lh_event *evs = calloc(batch, sizeof(lh_event));
    parsed *ps = calloc(batch, sizeof(parsed));
    int64_t *seqs = calloc(batch, sizeof(int64_t));
    if (!lines || !caps || !lens || !nos || !evs || !ps || !seqs) {
        pthread_mutex_lock(&c->out_mu);
        c->failed = c->stop = 1;
        pthread_mutex_unlock(&c->out_mu);
        goto out;
    }
    char err[512];
    for (;;) {
        size_t n = 0;
        long bad_line = 0;
        pthread_mutex_lock(&c->in_mu);
        while (n < batch && !c->eof && !c->stop) {
            long l = readLine(&lines[n], &caps[n]);
            if (l == -1) { c->eof = 1; break; }
            c->line_no++;
            if (l == -2) { bad_line = c->line_no; break; }
            if (l == 0) continue;
            lens[n] = l;
            nos[n++] = c->line_no;
        }
        int stop = c->stop;
        pthread_mutex_unlock(&c->in_mu);
        if (bad_line) {
            fprintf(stderr, "lighthouse events append: line %ld: longer than %d bytes; events are limited to %d bytes\n",
                    bad_line, LINE_MAX_BYTES, LH_STORE_MAX_EVENT_BYTES_DEFAULT);
            pthread_mutex_lock(&c->out_mu);
            c->failed = c->bad_input = 1;
            if (!c->o->keep_going) c->stop = 1;
            pthread_mutex_unlock(&c->out_mu);
        }
        if (n == 0 && (stop || c->eof)) break;
        if (n == 0) continue;
        size_t ok = 0;
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            if (parseEventLine(lines[i], (size_t)lens[i], &evs[ok], &ps[ok], err, sizeof(err)) < 0) {
                fprintf(stderr, "lighthouse events append: line %ld: %s\n", nos[i], err);
                freeParsed(&ps[ok]);
                bad = 1;
                continue;
            }
            nos[ok] = nos[i];
            ok++;
        }
        int rc = 0;
        if (ok > 0) rc = lh_store_append(c->st, evs, ok, seqs, err, sizeof(err));
        pthread_mutex_lock(&c->out_mu);
        if (ok > 0 && rc == 0) {
            /* Printed only after the append returned: every line here is durable. */
            for (size_t i = 0; i < ok; i++) printf("%lld\t%s\n", (long long)seqs[i], evs[i].id ? evs[i].id : "");
            fflush(stdout);
        } else if (ok > 0) {
            fprintf(stderr, "lighthouse events append: line %ld%s: %s\n", nos[0], ok > 1 ? " (batch)" : "", err);
            bad = 1;
        }
        if (bad) {
            c->failed = 1;
            if (!c->o->keep_going) c->stop = 1;
        }
        pthread_mutex_unlock(&c->out_mu);
        for (size_t i = 0; i < ok; i++) freeParsed(&ps[i]);
    }
out:
    for (size_t i = 0; lines && i < batch; i++) free(lines[i]);
    free(lines); free(caps); free(lens); free(nos); free(evs); free(ps); free(seqs);
    return NULL;
}

static int cmdAppend(const opts *o) {
    lh_store *st = openStore(o, 0);
    if (!st) return 2;
    appendCtx c;
    memset(&c, 0, sizeof(c));
    c.o = o;
    c.st = st;
    pthread_mutex_init(&c.in_mu, NULL);
    pthread_mutex_init(&c.out_mu, NULL);
    pthread_t th[256];
    long started = 0;
    for (long i = 0; i < o->threads; i++)
        if (pthread_create(&th[i], NULL, appendWorker, &c) == 0) started++;
    for (long i = 0; i < started; i++) pthread_join(th[i], NULL);
    lh_store_close(st);
    pthread_mutex_destroy(&c.in_mu);
    pthread_mutex_destroy(&c.out_mu);
    return started == 0 || c.failed ? 2 : 0;
}

/* ============================== Entry ============================== */

int lh_cli_events(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usageText, stdout);
        return 0;
    }
    opts o;
    int rc = parseArgs(argc, argv, &o);
    if (rc) return rc;
    if (!strcmp(o.cmd, "query")) return cmdQuery(&o, 0);
    if (!strcmp(o.cmd, "export")) return cmdQuery(&o, 1);
    if (!strcmp(o.cmd, "tail")) return cmdTail(&o);
    if (!strcmp(o.cmd, "verify")) return cmdVerify(&o);
    if (!strcmp(o.cmd, "stats")) return cmdStats(&o);
    if (!strcmp(o.cmd, "project")) return cmdProject(&o, 0);
    if (!strcmp(o.cmd, "snapshot")) return cmdProject(&o, 1);
    if (!strcmp(o.cmd, "rotate-key")) return cmdRotate(&o);
    if (!strcmp(o.cmd, "append")) return cmdAppend(&o);
    return usageErr("unknown subcommand '%s'", o.cmd);
}

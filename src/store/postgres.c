/* postgres.c — the shared backend: one event log in PostgreSQL for several bridge replicas.
 *
 * The chain stays linear across replicas because every append transaction first locks the
 * single row of chain_head (SELECT ... FOR UPDATE), seals its events after the seq and mac
 * it finds there, inserts them (COPY), moves the head and commits. A second replica's
 * transaction waits on that row lock, then sees the new head. Within one process, appends
 * are grouped (groupq.c) so one transaction and one WAL flush serve many appenders.
 *
 * Each commit also sends NOTIFY lighthouse_events; subscribers LISTEN on their own
 * connection, so every replica sees every replica's events as they commit.
 *
 * The schema is created and migrated by the program: lh_schema_migrations records the
 * versions applied, under an advisory lock so replicas starting together do not race. */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Debian puts libpq under postgresql/; its own includes are quoted, so they resolve there too. */
#include <postgresql/libpq-fe.h>

#define POOL_MAX    16
#define SHAPES      512
#define MIGRATE_LOCK 0x4c48455654LL /* "LHEVT": the advisory lock for migrations */
#define CHANNEL     "lighthouse_events"

/* ============================== Types ============================== */

typedef struct pgReader {
    PGconn *c;
    unsigned char prepared_q[SHAPES], prepared_c[SHAPES];
} pgReader;

typedef struct pgBe {
    lh_store *st;
    char *conninfo;
    int readonly;
    lh_groupq q;
    PGconn *w;                   /* writer thread only */
    lh_mac *wmac;
    char *copybuf;               /* writer thread only: COPY data */
    size_t copycap;
    pthread_mutex_t pool_mu;
    pgReader *pool[POOL_MAX];
    int npool;
} pgBe;

static pgBe *be(lh_store *st) { return st->be; }

static int pgErr(PGconn *c, const PGresult *r, char *err, size_t errlen, const char *what) {
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m) m = c ? PQerrorMessage(c) : "no connection";
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) n--;
    return lh_store_err(err, errlen, "%s: %.*s", what, (int)n, m);
}

static PGconn *pgConnect(pgBe *b, char *err, size_t errlen) {
    /* Defaults first: keywords in the caller's conninfo (expanded from dbname) override. */
    const char *keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "application_name", "dbname", NULL};
    const char *vals[] = {"5", "10", "5", "3", "lighthouse", b->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        pgErr(c, NULL, err, errlen, "cannot connect to PostgreSQL");
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "SET client_min_messages = warning; SET synchronous_commit = on");
    PQclear(r);
    return c;
}

/* Run SQL that returns no rows (or whose rows we ignore). */
static int execOk(PGconn *c, const char *sql, char *err, size_t errlen) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok) pgErr(c, r, err, errlen, "PostgreSQL");
    PQclear(r);
    return ok ? 0 : -1;
}

/* ============================== Schema ============================== */

/* Versioned migrations: append, never edit. Text columns that are compared by range use
 * the "C" collation, so "policy." .. "policy/" is the byte range of a type prefix. */
static const char *const migrations[] = {
    /* 1: the event log, its chain head, snapshots */
    "CREATE TABLE events ("
    "  seq bigint PRIMARY KEY, id text NOT NULL UNIQUE, type text COLLATE \"C\" NOT NULL,"
    "  time_ns bigint NOT NULL, agent text COLLATE \"C\" NOT NULL, aggregate text COLLATE \"C\" NOT NULL,"
    "  data text NOT NULL, mac bytea NOT NULL);"
    "CREATE INDEX events_type ON events (type, seq);"
    "CREATE INDEX events_agent ON events (agent, seq);"
    "CREATE INDEX events_aggregate ON events (aggregate, seq);"
    "CREATE INDEX events_time ON events (time_ns, seq);"
    "CREATE TABLE chain_head (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, time_ns bigint NOT NULL,"
    "  mac bytea NOT NULL, key_fp text NOT NULL, genesis_fp text NOT NULL);"
    "CREATE TABLE snapshots (name text NOT NULL, seq bigint NOT NULL, state text NOT NULL, key_fp text NOT NULL,"
    "  mac bytea NOT NULL, PRIMARY KEY (name, seq));",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int migrate(PGconn *c, char *err, size_t errlen) {
    char sql[256];
    snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)", (long long)MIGRATE_LOCK);
    if (execOk(c, sql, err, errlen) < 0) return -1;
    if (execOk(c, "CREATE TABLE IF NOT EXISTS lh_schema_migrations (version int PRIMARY KEY,"
                  " applied_at timestamptz NOT NULL DEFAULT now())", err, errlen) < 0)
        goto fail;
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM lh_schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pgErr(c, r, err, errlen, "cannot read the schema version");
        PQclear(r);
        goto fail;
    }
    int v = atoi(PQgetvalue(r, 0, 0)); /* NOLINT(cert-err34-c): an integer column in PostgreSQL's own text form */
    PQclear(r);
    if (v > NMIGRATIONS) {
        lh_store_err(err, errlen, "the database has event schema version %d, newer than this program's %d; "
                     "upgrade lighthouse", v, NMIGRATIONS);
        goto fail;
    }
    for (; v < NMIGRATIONS; v++) {
        if (execOk(c, migrations[v], err, errlen) < 0) goto fail;
        snprintf(sql, sizeof(sql), "INSERT INTO lh_schema_migrations (version) VALUES (%d)", v + 1);
        if (execOk(c, sql, err, errlen) < 0) goto fail;
    }
    return execOk(c, "COMMIT", err, errlen);
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

/* ============================== Readers ============================== */

/* A reader pinned to this thread by read_begin (see pgReadBegin): readerGet hands it out,
 * readerPut keeps it, so every read of the thread sees the pinned transaction's snapshot. */
static _Thread_local pgBe *tl_pin_be;
static _Thread_local pgReader *tl_pin;
static _Thread_local int tl_pin_depth;

static pgReader *readerGet(pgBe *b, char *err, size_t errlen) {
    if (tl_pin && tl_pin_be == b) return tl_pin;
    pthread_mutex_lock(&b->pool_mu);
    pgReader *r = b->npool ? b->pool[--b->npool] : NULL;
    pthread_mutex_unlock(&b->pool_mu);
    if (r) return r;
    r = calloc(1, sizeof(*r));
    if (!r) { lh_store_err(err, errlen, "out of memory"); return NULL; }
    r->c = pgConnect(b, err, errlen);
    if (!r->c) { free(r); return NULL; }
    return r;
}

static void readerPut(pgBe *b, pgReader *r) {
    if (!r || r == tl_pin) return;
    int broken = PQstatus(r->c) != CONNECTION_OK || PQtransactionStatus(r->c) != PQTRANS_IDLE;
    pthread_mutex_lock(&b->pool_mu);
    if (!broken && b->npool < POOL_MAX) { b->pool[b->npool++] = r; r = NULL; }
    pthread_mutex_unlock(&b->pool_mu);
    if (r) { PQfinish(r->c); free(r); }
}

static int64_t be64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (unsigned char)p[i];
    return (int64_t)v;
}

/* ============================== Head ============================== */

static int parseHead(const PGresult *r, lh_chain_head *h) {
    /* text format: seq, time_ns, encode(mac,'hex'), key_fp, genesis_fp */
    memset(h, 0, sizeof(*h));
    h->seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    h->time_ns = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    const char *hex = PQgetvalue(r, 0, 2);
    if (strlen(hex) != 2 * LH_STORE_MAC_LEN) return -1;
    for (int i = 0; i < LH_STORE_MAC_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1; /* NOLINT(cert-err34-c): two hex digits, counted */
        h->mac[i] = (unsigned char)v;
    }
    snprintf(h->key_fp, sizeof(h->key_fp), "%s", PQgetvalue(r, 0, 3));
    snprintf(h->genesis_fp, sizeof(h->genesis_fp), "%s", PQgetvalue(r, 0, 4));
    return 0;
}

#define HEAD_COLS "seq, time_ns, encode(mac, 'hex'), key_fp, genesis_fp"

static int headOnce(lh_store *st, lh_chain_head *h, int *exists, int *dead, char *err, size_t errlen);

static int pgHead(lh_store *st, lh_chain_head *h, int *exists, char *err, size_t errlen) {
    int dead = 0;
    if (headOnce(st, h, exists, &dead, err, errlen) == 0) return 0;
    return dead ? headOnce(st, h, exists, &dead, err, errlen) : -1;
}

static int headOnce(lh_store *st, lh_chain_head *h, int *exists, int *dead, char *err, size_t errlen) {
    pgBe *b = be(st);
    *exists = 0;
    memset(h, 0, sizeof(*h));
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexec(rd->c, "SELECT to_regclass('chain_head') IS NOT NULL");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    int have = ok && PQgetvalue(r, 0, 0)[0] == 't';
    if (!ok) pgErr(rd->c, r, err, errlen, "cannot read the chain head");
    PQclear(r);
    if (ok && !have && b->readonly) {
        readerPut(b, rd);
        return lh_store_err(err, errlen, "no Lighthouse event store in this database (no chain_head table)");
    }
    if (ok && have) {
        r = PQexec(rd->c, "SELECT " HEAD_COLS " FROM chain_head WHERE id = 1");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) pgErr(rd->c, r, err, errlen, "cannot read the chain head");
        else if (PQntuples(r) == 1) {
            if (parseHead(r, h) < 0) ok = 0, lh_store_err(err, errlen, "the chain head row is malformed");
            else *exists = 1;
        }
        PQclear(r);
    }
    *dead = PQstatus(rd->c) != CONNECTION_OK;
    readerPut(b, rd);
    return ok ? 0 : -1;
}

static int pgInitHead(lh_store *st, const char *fp, char *err, size_t errlen) {
    pgBe *b = be(st);
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    const char *p[1] = {fp};
    PGresult *r = PQexecParams(rd->c, "INSERT INTO chain_head (id, seq, time_ns, mac, key_fp, genesis_fp) "
                               "VALUES (1, 0, 0, decode(repeat('00', 32), 'hex'), $1, $1) ON CONFLICT (id) DO NOTHING",
                               1, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pgErr(rd->c, r, err, errlen, "cannot initialise the chain head");
    PQclear(r);
    readerPut(b, rd);
    return ok ? 0 : -1;
}

/* ============================== Pinned snapshots ============================== */

/* One REPEATABLE READ READ ONLY transaction on one reader, pinned to the calling thread. Its
 * snapshot is taken at its first statement (the head read), so the tail and every page of a
 * verify that follow see the chain exactly as of that head, whatever other replicas commit
 * meanwhile. An idle pooled connection may have died: one fresh connection is tried. */
static int pgReadBegin(lh_store *st, char *err, size_t errlen) {
    pgBe *b = be(st);
    if (tl_pin) {
        if (tl_pin_be != b) return lh_store_err(err, errlen, "a snapshot of another store is open on this thread");
        tl_pin_depth++;
        return 0;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        pgReader *rd = readerGet(b, err, errlen);
        if (!rd) return -1;
        if (execOk(rd->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) == 0) {
            tl_pin = rd;
            tl_pin_be = b;
            tl_pin_depth = 1;
            return 0;
        }
        int dead = PQstatus(rd->c) != CONNECTION_OK;
        readerPut(b, rd);
        if (!dead) return -1;
    }
    return -1;
}

static void pgReadEnd(lh_store *st) {
    pgBe *b = be(st);
    if (!tl_pin || tl_pin_be != b) return;
    assert(tl_pin_depth > 0);
    if (--tl_pin_depth) return;
    pgReader *rd = tl_pin;
    tl_pin = NULL;
    tl_pin_be = NULL;
    PQclear(PQexec(rd->c, "COMMIT")); /* read only: nothing to make durable */
    readerPut(b, rd);
}

/* ============================== The writer ============================== */

static int bufGrow(pgBe *b, size_t need) {
    if (need <= b->copycap) return 0;
    size_t nc = b->copycap ? b->copycap : 65536;
    while (nc < need) nc *= 2;
    char *p = realloc(b->copybuf, nc);
    if (!p) return -1;
    b->copybuf = p;
    b->copycap = nc;
    return 0;
}

/* COPY text format: escape backslash, tab, newline, carriage return. */
static size_t copyField(char *out, const char *s) {
    size_t n = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '\\') { out[n++] = '\\'; out[n++] = '\\'; }
        else if (c == '\t') { out[n++] = '\\'; out[n++] = 't'; }
        else if (c == '\n') { out[n++] = '\\'; out[n++] = 'n'; }
        else if (c == '\r') { out[n++] = '\\'; out[n++] = 'r'; }
        else out[n++] = c;
    }
    return n;
}

static int copyRow(pgBe *b, size_t *len, const lh_event *e) {
    size_t worst = 2 * (strlen(e->id) + strlen(e->type) + strlen(e->agent) + strlen(e->aggregate) + strlen(e->data)) +
                   2 * LH_STORE_MAC_LEN + 128;
    if (bufGrow(b, *len + worst) < 0) return -1;
    char *p = b->copybuf + *len;
    p += sprintf(p, "%lld\t", (long long)e->seq);
    p += copyField(p, e->id);
    *p++ = '\t';
    p += copyField(p, e->type);
    p += sprintf(p, "\t%lld\t", (long long)e->time_ns);
    p += copyField(p, e->agent);
    *p++ = '\t';
    p += copyField(p, e->aggregate);
    *p++ = '\t';
    p += copyField(p, e->data);
    p += sprintf(p, "\t\\\\x");
    for (int i = 0; i < LH_STORE_MAC_LEN; i++) p += sprintf(p, "%02x", e->mac[i]);
    *p++ = '\n';
    *len = (size_t)(p - b->copybuf);
    return 0;
}

static void writerDrop(pgBe *b) {
    PQfinish(b->w);
    b->w = NULL;
}

/* The group commit (lh_group_commit_fn): three round trips for any number of events. */
static int commitGroup(void *ctx, lh_greq **reqs, size_t n, int *constraint, char *err, size_t errlen) {
    pgBe *b = ctx;
    lh_store *st = b->st;
    *constraint = 0;
    if (!b->w && !(b->w = pgConnect(b, err, errlen))) return -1;
    const char *lock = "BEGIN; SELECT " HEAD_COLS " FROM chain_head WHERE id = 1 FOR UPDATE";
    PGresult *r = PQexec(b->w, lock);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQstatus(b->w) != CONNECTION_OK) {
        /* The connection died while idle (server restart, failover, terminated backend).
         * Nothing of this group was sent yet, so one reconnect-and-retry is safe. */
        PQclear(r);
        writerDrop(b);
        if (!(b->w = pgConnect(b, err, errlen))) return -1;
        r = PQexec(b->w, lock);
    }
    lh_chain_head h;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || parseHead(r, &h) < 0) {
        pgErr(b->w, r, err, errlen, "cannot lock the chain head");
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (lh_chain_seal(st, b->wmac, &h, reqs[i]->evs, reqs[i]->n, err, errlen) < 0) goto fail;
        for (size_t k = 0; k < reqs[i]->n; k++)
            if (copyRow(b, &len, &reqs[i]->evs[k].ev) < 0) {
                lh_store_err(err, errlen, "out of memory");
                goto fail;
            }
    }
    r = PQexec(b->w, "COPY events (seq, id, type, time_ns, agent, aggregate, data, mac) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        pgErr(b->w, r, err, errlen, "cannot write events");
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    if (PQputCopyData(b->w, b->copybuf, (int)len) != 1 || PQputCopyEnd(b->w, NULL) != 1) {
        pgErr(b->w, NULL, err, errlen, "cannot write events");
        goto fail;
    }
    r = PQgetResult(b->w);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        *constraint = state && !strcmp(state, "23505");
        if (*constraint) lh_store_err(err, errlen, "an event id is already in the store; ids must be unique");
        else pgErr(b->w, r, err, errlen, "cannot write events");
    }
    PQclear(r);
    while ((r = PQgetResult(b->w))) PQclear(r);
    if (!ok) goto fail;
    /* Move the head, announce, commit. Every value here is a number or hex we made. */
    char sql[512], mac[2 * LH_STORE_MAC_LEN + 1];
    for (int i = 0; i < LH_STORE_MAC_LEN; i++) sprintf(mac + 2 * i, "%02x", h.mac[i]);
    snprintf(sql, sizeof(sql), "UPDATE chain_head SET seq = %lld, time_ns = %lld, mac = decode('%s', 'hex'), "
             "key_fp = '%s' WHERE id = 1; NOTIFY " CHANNEL ", '%lld'; COMMIT",
             (long long)h.seq, (long long)h.time_ns, mac, h.key_fp, (long long)h.seq);
    /* Durability point: COMMIT returns once the WAL record is flushed (synchronous_commit
     * = on). If the connection drops before the reply, the append reports an error even
     * though it may have committed: the caller never hears "ok" for something not durable. */
    r = PQexec(b->w, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pgErr(b->w, r, err, errlen, "the event store could not commit; nothing was acknowledged");
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    atomic_fetch_add(&st->commits, 1);
    return 0;
fail:
    if (b->w && PQstatus(b->w) != CONNECTION_OK) writerDrop(b); /* reconnect at the next append */
    else if (b->w) {
        PQclear(PQexec(b->w, "ROLLBACK"));
        if (PQstatus(b->w) != CONNECTION_OK) writerDrop(b);
    }
    return -1;
}

static int pgAppend(lh_store *st, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen) {
    return lh_groupq_submit(&be(st)->q, evs, n, seqs, err, errlen);
}

static int pgAppendAsync(lh_store *st, lh_greq *r, char *err, size_t errlen) {
    return lh_groupq_submit_async(&be(st)->q, r, err, errlen);
}

/* ============================== Open / close ============================== */

static int pgOpen(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    pgBe *b = calloc(1, sizeof(*b));
    if (!b) return lh_store_err(err, errlen, "out of memory");
    st->be = b;
    b->st = st;
    pthread_mutex_init(&b->pool_mu, NULL);
    b->readonly = (o->flags & LH_STORE_READONLY) != 0;
    b->conninfo = strdup(o->conninfo);
    if (!b->conninfo) return lh_store_err(err, errlen, "out of memory");
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    int rc = b->readonly ? 0 : migrate(rd->c, err, errlen);
    readerPut(b, rd);
    if (rc < 0 || b->readonly) return rc;
    b->wmac = lh_mac_new();
    if (!b->wmac) return lh_store_err(err, errlen, "out of memory");
    return lh_groupq_start(&b->q, commitGroup, NULL, NULL, b, err, errlen);
}

static void pgClose(lh_store *st) {
    pgBe *b = be(st);
    lh_groupq_stop(&b->q);
    writerDrop(b);
    lh_mac_free(b->wmac);
    free(b->copybuf);
    for (int i = 0; i < b->npool; i++) {
        PQfinish(b->pool[i]->c);
        free(b->pool[i]);
    }
    pthread_mutex_destroy(&b->pool_mu);
    free(b->conninfo);
    free(b);
    st->be = NULL;
}

/* ============================== Queries ============================== */

enum { SH_TYPE = 1, SH_PREFIX = 2, SH_AGENT = 4, SH_AGG = 8, SH_AFTER = 16, SH_BEFORE = 32, SH_SINCE = 64,
       SH_UNTIL = 128, SH_DESC = 256 };

typedef struct params {
    const char *v[10];
    char nums[6][24];
    int n, nn;
} params;

static void addNum(params *p, int64_t v) {
    snprintf(p->nums[p->nn], sizeof(p->nums[0]), "%lld", (long long)v);
    p->v[p->n++] = p->nums[p->nn++];
}

/* WHERE clause and its parameters, in the same order for every shape. */
static unsigned buildQuery(const lh_store_filter *f, char *lo, char *hi, char *where, size_t cap, params *p) {
    unsigned sh = 0;
    size_t n = 0;
    const char *sep = " WHERE ";
    memset(p, 0, sizeof(*p));
#define COND(fmt) (n += (size_t)snprintf(where + n, n < cap ? cap - n : 0, "%s" fmt, sep, p->n), sep = " AND ")
    if (f->type && *f->type) {
        if (lh_type_prefix_range(f->type, lo, hi, LH_STORE_MAX_TYPE + 2)) {
            sh |= SH_PREFIX;
            p->v[p->n++] = lo;
            COND("type >= $%d");
            p->v[p->n++] = hi;
            COND("type < $%d");
        } else {
            sh |= SH_TYPE;
            p->v[p->n++] = f->type;
            COND("type = $%d");
        }
    }
    if (f->agent) { sh |= SH_AGENT; p->v[p->n++] = f->agent; COND("agent = $%d"); }
    if (f->aggregate) { sh |= SH_AGG; p->v[p->n++] = f->aggregate; COND("aggregate = $%d"); }
    if (f->after_seq > 0) { sh |= SH_AFTER; addNum(p, f->after_seq); COND("seq > $%d"); }
    if (f->before_seq > 0) { sh |= SH_BEFORE; addNum(p, f->before_seq); COND("seq < $%d"); }
    if (f->since_ns) { sh |= SH_SINCE; addNum(p, f->since_ns); COND("time_ns >= $%d"); }
    if (f->until_ns) { sh |= SH_UNTIL; addNum(p, f->until_ns); COND("time_ns < $%d"); }
#undef COND
    if (f->descending) sh |= SH_DESC;
    return sh;
}

static int queryOnce(lh_store *st, const lh_store_filter *f, lh_event_list *out, int *dead, char *err, size_t errlen);

/* A pooled connection may have died while idle; a read is retried once on a fresh one. */
static int pgQuery(lh_store *st, const lh_store_filter *f, lh_event_list *out, char *err, size_t errlen) {
    int dead = 0;
    if (queryOnce(st, f, out, &dead, err, errlen) == 0) return 0;
    if (!dead) return -1;
    lh_event_list_free(out);
    return queryOnce(st, f, out, &dead, err, errlen);
}

static int queryOnce(lh_store *st, const lh_store_filter *f, lh_event_list *out, int *dead, char *err, size_t errlen) {
    pgBe *b = be(st);
    size_t limit = lh_filter_limit(f);
    if (lh_event_list_init(out, limit < 256 ? limit : 256) < 0) return lh_store_err(err, errlen, "out of memory");
    char lo[LH_STORE_MAX_TYPE + 2], hi[LH_STORE_MAX_TYPE + 2], where[512] = "", name[16];
    params p;
    unsigned sh = buildQuery(f, lo, hi, where, sizeof(where), &p);
    addNum(&p, (int64_t)limit);
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    snprintf(name, sizeof(name), "q%u", sh);
    if (!rd->prepared_q[sh]) {
        char sql[768];
        snprintf(sql, sizeof(sql), "SELECT seq, time_ns, id, type, agent, aggregate, data, mac FROM events%s "
                 "ORDER BY seq %s LIMIT $%d", where, (sh & SH_DESC) ? "DESC" : "ASC", p.n);
        PGresult *r = PQprepare(rd->c, name, sql, p.n, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) pgErr(rd->c, r, err, errlen, "cannot query events");
        PQclear(r);
        if (!ok) {
            *dead = PQstatus(rd->c) != CONNECTION_OK;
            readerPut(b, rd);
            return -1;
        }
        rd->prepared_q[sh] = 1;
    }
    /* Binary results: integers big-endian, text and bytea as raw bytes. */
    PGresult *r = PQexecPrepared(rd->c, name, p.n, p.v, NULL, NULL, 1);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) pgErr(rd->c, r, err, errlen, "cannot query events");
    for (int i = 0; ok && i < PQntuples(r); i++) {
        if (lh_event_list_push(out, be64(PQgetvalue(r, i, 0)), be64(PQgetvalue(r, i, 1)), PQgetvalue(r, i, 2),
                               PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
                               (size_t)PQgetlength(r, i, 6), (const unsigned char *)PQgetvalue(r, i, 7),
                               (size_t)PQgetlength(r, i, 7)) < 0) {
            ok = 0;
            lh_store_err(err, errlen, "out of memory");
        }
    }
    PQclear(r);
    *dead = PQstatus(rd->c) != CONNECTION_OK;
    readerPut(b, rd);
    return ok ? 0 : -1;
}

static int pgCount(lh_store *st, const lh_store_filter *f, int64_t *count, char *err, size_t errlen) {
    pgBe *b = be(st);
    char lo[LH_STORE_MAX_TYPE + 2], hi[LH_STORE_MAX_TYPE + 2], where[512] = "", sql[640];
    params p;
    buildQuery(f, lo, hi, where, sizeof(where), &p);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events%s", where);
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexecParams(rd->c, sql, p.n, NULL, p.v, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) *count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else pgErr(rd->c, r, err, errlen, "cannot count events");
    PQclear(r);
    readerPut(b, rd);
    return ok ? 0 : -1;
}

static int pgSeqAtTime(lh_store *st, int64_t t, int64_t *seq, char *err, size_t errlen) {
    pgBe *b = be(st);
    char v[24];
    snprintf(v, sizeof(v), "%lld", (long long)t);
    const char *p[1] = {v};
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexecParams(rd->c, "SELECT coalesce(max(seq), 0) FROM (SELECT seq FROM events WHERE time_ns <= $1 "
                               "ORDER BY time_ns DESC, seq DESC LIMIT 1) s", 1, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else pgErr(rd->c, r, err, errlen, "cannot query by time");
    PQclear(r);
    readerPut(b, rd);
    return ok ? 0 : -1;
}

static int pgStats(lh_store *st, lh_store_stats *s, char *err, size_t errlen) {
    pgBe *b = be(st);
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexec(rd->c, "SELECT count(*), coalesce((SELECT time_ns FROM events ORDER BY seq LIMIT 1), 0),"
                         " coalesce((SELECT time_ns FROM events ORDER BY seq DESC LIMIT 1), 0),"
                         " pg_total_relation_size('events') FROM events");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) {
        s->events = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        s->first_time_ns = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        s->last_time_ns = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        s->bytes = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    } else {
        pgErr(rd->c, r, err, errlen, "cannot read stats");
    }
    PQclear(r);
    if (ok) {
        r = PQexec(rd->c, "SELECT type, count(*) FROM events GROUP BY type ORDER BY 2 DESC, 1 LIMIT 32");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        for (int i = 0; ok && i < PQntuples(r) && s->ntypes < 32; i++) {
            snprintf(s->types[s->ntypes].type, sizeof(s->types[0].type), "%s", PQgetvalue(r, i, 0));
            s->types[s->ntypes++].count = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        }
        if (!ok) pgErr(rd->c, r, err, errlen, "cannot read stats");
        PQclear(r);
    }
    readerPut(b, rd);
    return ok ? 0 : -1;
}

/* ============================== Snapshots ============================== */

static int pgSnapPut(lh_store *st, const char *name, int64_t seq, const char *state, const char *fp,
                     const unsigned char mac[LH_STORE_MAC_LEN], char *err, size_t errlen) {
    pgBe *b = be(st);
    char sq[24], hex[2 * LH_STORE_MAC_LEN + 1];
    snprintf(sq, sizeof(sq), "%lld", (long long)seq);
    for (int i = 0; i < LH_STORE_MAC_LEN; i++) sprintf(hex + 2 * i, "%02x", mac[i]);
    const char *p[5] = {name, sq, state, fp, hex};
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexecParams(rd->c, "INSERT INTO snapshots (name, seq, state, key_fp, mac) VALUES "
                               "($1, $2, $3, $4, decode($5, 'hex')) ON CONFLICT (name, seq) DO UPDATE SET "
                               "state = EXCLUDED.state, key_fp = EXCLUDED.key_fp, mac = EXCLUDED.mac",
                               5, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pgErr(rd->c, r, err, errlen, "cannot save the snapshot");
    PQclear(r);
    readerPut(b, rd);
    return ok ? 0 : -1;
}

static int pgSnapGet(lh_store *st, const char *name, int64_t max_seq, int64_t *seq, char **state,
                     char fp[LH_STORE_FP_LEN + 1], unsigned char mac[LH_STORE_MAC_LEN], int *found,
                     char *err, size_t errlen) {
    pgBe *b = be(st);
    *found = 0;
    *state = NULL;
    char sq[24];
    snprintf(sq, sizeof(sq), "%lld", (long long)max_seq);
    const char *p[2] = {name, sq};
    pgReader *rd = readerGet(b, err, errlen);
    if (!rd) return -1;
    PGresult *r = PQexecParams(rd->c, "SELECT seq, state, key_fp, mac FROM snapshots WHERE name = $1 AND seq <= $2 "
                               "ORDER BY seq DESC LIMIT 1", 2, NULL, p, NULL, NULL, 1);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) pgErr(rd->c, r, err, errlen, "cannot read snapshots");
    else if (PQntuples(r) == 1 && PQgetlength(r, 0, 3) == LH_STORE_MAC_LEN) {
        *seq = be64(PQgetvalue(r, 0, 0));
        *state = strndup(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
        snprintf(fp, LH_STORE_FP_LEN + 1, "%.*s", PQgetlength(r, 0, 2), PQgetvalue(r, 0, 2));
        memcpy(mac, PQgetvalue(r, 0, 3), LH_STORE_MAC_LEN);
        *found = *state != NULL;
    }
    PQclear(r);
    readerPut(b, rd);
    return ok ? 0 : -1;
}

/* ============================== Subscriptions ============================== */

struct lh_sub_be { PGconn *c; };

static int pgListen(pgBe *b, lh_sub_be *s, char *err, size_t errlen) {
    s->c = pgConnect(b, err, errlen);
    if (!s->c) return -1;
    if (execOk(s->c, "LISTEN " CHANNEL, err, errlen) < 0) {
        PQfinish(s->c);
        s->c = NULL;
        return -1;
    }
    return 0;
}

static int pgSubOpen(lh_store *st, lh_sub_be **out, char *err, size_t errlen) {
    lh_sub_be *s = calloc(1, sizeof(*s));
    if (!s) return lh_store_err(err, errlen, "out of memory");
    if (pgListen(be(st), s, err, errlen) < 0) { free(s); return -1; }
    *out = s;
    return 0;
}

static int drainNotifies(PGconn *c) {
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(c))) { got = 1; PQfreemem(n); }
    return got;
}

/* Wait for a NOTIFY on our LISTEN connection. A lost connection is re-established (and the
 * caller re-queries, so nothing announced meanwhile is missed). */
static int pgSubWait(lh_store *st, lh_sub_be *s, int timeout_ms, char *err, size_t errlen) {
    if (!s->c || PQstatus(s->c) != CONNECTION_OK) {
        PQfinish(s->c);
        s->c = NULL;
        if (pgListen(be(st), s, err, errlen) < 0) {
            poll(NULL, 0, timeout_ms > 200 ? 200 : timeout_ms);
            return -1;
        }
        return 0;
    }
    PQconsumeInput(s->c);
    if (drainNotifies(s->c)) return 0;
    struct pollfd pfd = {.fd = PQsocket(s->c), .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc > 0) {
        if (!PQconsumeInput(s->c)) return 0; /* reconnect on the next wait */
        drainNotifies(s->c);
    }
    return 0;
}

static void pgSubClose(lh_store *st, lh_sub_be *s) {
    PQfinish(s->c);
    free(s);
}

/* ============================== Leadership ============================== */

/* A session advisory lock on a connection used for nothing else. PostgreSQL releases it
 * when the session ends, so a killed or cut-off holder loses it and another replica's next
 * check takes it. Holding it is re-checked with a round trip on every call: a holder whose
 * connection died learns it there, before it acts. */
typedef struct pgLeader { PGconn *c; int held, table; } pgLeader;

static int pgLeaderCheck(lh_store *st, void **state, int64_t key, char *err, size_t errlen) {
    pgLeader *l = *state;
    if (!l && !(l = *state = calloc(1, sizeof(*l)))) return lh_store_err(err, errlen, "out of memory"), 0;
    if (l->c && PQstatus(l->c) != CONNECTION_OK) { PQfinish(l->c); l->c = NULL; l->held = 0; l->table = 0; }
    if (!l->c && !(l->c = pgConnect(be(st), err, errlen))) return 0;
    char sql[96];
    if (l->held) snprintf(sql, sizeof(sql), "SELECT true");
    else snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", (long long)key);
    PGresult *r = PQexec(l->c, sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (!ok) {
        pgErr(l->c, r, err, errlen, "the leader lock");
        PQclear(r);
        PQfinish(l->c); /* whatever it held is gone with the session */
        l->c = NULL;
        l->held = 0;
        l->table = 0;
        return 0;
    }
    l->held = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return l->held;
}

/* The replicas' shared figures (lh_store_leader_publish): one row per role and replica,
 * upserted each tick on the role's own connection, so the decision path's connections never
 * carry it. The table is created on first use (under the migrations' lock: two replicas
 * starting at once must not race on CREATE), not as a migration: it holds no history, only
 * the newest row of each replica, and losing it loses nothing that the next tick does not
 * write again. updated_at is the database's clock, so every replica's age is measured on
 * one clock. */
static pgLeader *pgLeaderConn(lh_store *st, void **state, char *err, size_t errlen) {
    pgLeader *l = *state;
    if (!l && !(l = *state = calloc(1, sizeof(*l)))) { lh_store_err(err, errlen, "out of memory"); return NULL; }
    if (l->c && PQstatus(l->c) != CONNECTION_OK) { PQfinish(l->c); l->c = NULL; l->held = 0; l->table = 0; }
    if (!l->c && !(l->c = pgConnect(be(st), err, errlen))) return NULL;
    if (l->table) return l;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
             "CREATE TABLE IF NOT EXISTS lh_replica_state (role bigint NOT NULL, replica text NOT NULL,"
             " data text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (role, replica)); COMMIT",
             (long long)MIGRATE_LOCK);
    if (execOk(l->c, sql, err, errlen) < 0) { PQclear(PQexec(l->c, "ROLLBACK")); return NULL; }
    l->table = 1;
    return l;
}

static int pgLeaderPublish(lh_store *st, void **state, int64_t key, const char *replica, const char *data, char *err,
                           size_t errlen) {
    pgLeader *l = pgLeaderConn(st, state, err, errlen);
    if (!l) return -1;
    char role[24];
    snprintf(role, sizeof(role), "%lld", (long long)key);
    const char *vals[3] = {role, replica, data};
    PGresult *r = PQexecParams(l->c,
                               "INSERT INTO lh_replica_state (role, replica, data, updated_at)"
                               " VALUES ($1::bigint, $2, $3, clock_timestamp()) ON CONFLICT (role, replica)"
                               " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                               3, NULL, vals, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pgErr(l->c, r, err, errlen, "cannot publish this replica's figures");
    PQclear(r);
    return ok ? 0 : -1;
}

/* The newest rows of the role (at most LH_STORE_PEERS_MAX, the freshest first), each with
 * its age on the database's clock. Rows a day old (replicas long gone) are deleted. */
static int pgLeaderPeers(lh_store *st, void **state, int64_t key, lh_store_peer **out, size_t *n, char *err,
                         size_t errlen) {
    *out = NULL;
    *n = 0;
    pgLeader *l = pgLeaderConn(st, state, err, errlen);
    if (!l) return -1;
    char sql[400];
    snprintf(sql, sizeof(sql),
             "DELETE FROM lh_replica_state WHERE role = %lld AND updated_at < clock_timestamp() - interval '1 day'",
             (long long)key);
    if (execOk(l->c, sql, err, errlen) < 0) return -1;
    snprintf(sql, sizeof(sql),
             "SELECT replica, data, extract(epoch FROM clock_timestamp() - updated_at)::float8"
             " FROM lh_replica_state WHERE role = %lld ORDER BY updated_at DESC LIMIT %d",
             (long long)key, LH_STORE_PEERS_MAX);
    PGresult *r = PQexec(l->c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pgErr(l->c, r, err, errlen, "cannot read the replicas' figures");
        PQclear(r);
        return -1;
    }
    int rows = PQntuples(r);
    lh_store_peer *p = rows ? calloc((size_t)rows, sizeof(*p)) : NULL;
    if (rows && !p) { PQclear(r); return lh_store_err(err, errlen, "out of memory"); }
    for (int i = 0; i < rows; i++) {
        p[i].replica = strdup(PQgetvalue(r, i, 0));
        p[i].data = strdup(PQgetvalue(r, i, 1));
        p[i].age_s = strtod(PQgetvalue(r, i, 2), NULL);
        *n = (size_t)i + 1;
        if (!p[i].replica || !p[i].data) {
            PQclear(r);
            lh_store_peers_free(p, *n);
            *out = NULL;
            *n = 0;
            return lh_store_err(err, errlen, "out of memory");
        }
    }
    PQclear(r);
    *out = p;
    return 0;
}

static void pgLeaderFree(lh_store *st, void *state) {
    pgLeader *l = state;
    PQfinish(l->c); /* ends the session: the lock is released */
    free(l);
}

const lh_backend_ops lh_store_postgres_ops = {
    .name = "postgres",
    .open = pgOpen,
    .head = pgHead,
    .init_head = pgInitHead,
    .append = pgAppend,
    .append_async = pgAppendAsync,
    .query = pgQuery,
    .count = pgCount,
    .seq_at_time = pgSeqAtTime,
    .stats = pgStats,
    .snap_put = pgSnapPut,
    .snap_get = pgSnapGet,
    .sub_open = pgSubOpen,
    .sub_wait = pgSubWait,
    .sub_close = pgSubClose,
    .close = pgClose,
    .read_begin = pgReadBegin,
    .read_end = pgReadEnd,
    .leader_check = pgLeaderCheck,
    .leader_free = pgLeaderFree,
    .leader_publish = pgLeaderPublish,
    .leader_peers = pgLeaderPeers,
};

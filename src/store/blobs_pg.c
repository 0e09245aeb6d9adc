/* blobs_pg.c — shadow blobs in PostgreSQL, shared by every bridge replica of one store
 * (see blobs.h; docs/shadows.md).
 *
 * One table, keyed by the content's SHA-256:
 *
 *   shadow_blobs (hash text PRIMARY KEY, data bytea NOT NULL)
 *
 * A put is one statement, INSERT … ON CONFLICT (hash) DO UPDATE … WHERE the stored bytes
 * do not hash to the key: idempotent (two replicas putting the same content at once both
 * succeed, one row), and a corrupt row is rewritten by the next put of its content. It
 * runs in autocommit with synchronous_commit on, so the row is durable on the server
 * before the put returns, and so before the event that names it is appended.
 *
 * A get fetches the row and hashes it here, as the directory does: a row whose bytes do
 * not match its key is refused (LH_BLOBS_CORRUPT), never served.
 *
 * The table is created at open under an advisory lock (replicas starting together do not
 * race on CREATE TABLE IF NOT EXISTS). It is outside the event store's numbered
 * migrations: the event store's schema is the chain; this table only holds bytes the
 * chain names by hash.
 *
 * Threads: connections come from a small pool guarded by mu; a connection is used by one
 * thread at a time. A broken connection is dropped; a statement that met one (PostgreSQL
 * restarted since) runs again on another or a new one. */
#include "store/blobs_pg.h"
#include "store/blobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include <postgresql/libpq-fe.h>

#define POOL 8
#define CREATE_LOCK 0x4c48424c4f42LL   /* "LHBLOB": the advisory lock for creating the table */

struct lh_blobs_pg {
    char *conninfo;
    pthread_mutex_t mu;    /* guards idle and nidle */
    PGconn *idle[POOL];
    int nidle;
};

static void pgMsg(PGconn *c, const PGresult *r, char *err, size_t errlen, const char *what) {
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m) m = c ? PQerrorMessage(c) : "no connection";
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) n--;
    snprintf(err, errlen, "%s: %.*s", what, (int)n, m);
}

static PGconn *connectPg(lh_blobs_pg *p, char *err, size_t errlen) {
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "lighthouse-blobs", p->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        pgMsg(c, NULL, err, errlen, "cannot connect to PostgreSQL for shadow blobs");
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning; SET synchronous_commit = on"));
    return c;
}

/* A connection for one statement: an idle one, or a new one. NULL with err. */
static PGconn *take(lh_blobs_pg *p, char *err, size_t errlen) {
    PGconn *c = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nidle) c = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    return c ? c : connectPg(p, err, errlen);
}

/* Give c back to the pool; a broken one (or one past the pool's size) is closed. */
static void give(lh_blobs_pg *p, PGconn *c) {
    if (PQstatus(c) != CONNECTION_OK) { PQfinish(c); return; }
    pthread_mutex_lock(&p->mu);
    if (p->nidle < POOL) { p->idle[p->nidle++] = c; c = NULL; }
    pthread_mutex_unlock(&p->mu);
    PQfinish(c);
}

/* Run one statement (idempotent: both of ours are) on a pooled connection, into *out, the
 * connection it ran on in *used (give it back). A pooled connection the server dropped
 * meanwhile (a PostgreSQL restart) fails as broken: it is closed and the statement runs
 * again on the next one, or a new one. NULL result only when no connection could be made
 * (err says why). */
static PGresult *run(lh_blobs_pg *p, const char *sql, int n, const char *const *vals, const int *lens,
                     const int *fmts, int binary, PGconn **used, char *err, size_t errlen) {
    for (int attempt = 0; attempt <= POOL + 1; attempt++) {
        PGconn *c = take(p, err, errlen);
        if (!c) return NULL;
        PGresult *r = PQexecParams(c, sql, n, NULL, vals, lens, fmts, binary);
        ExecStatusType st = PQresultStatus(r);
        if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) || PQstatus(c) == CONNECTION_OK || attempt == POOL + 1) {
            *used = c;
            return r;
        }
        PQclear(r);
        PQfinish(c);
    }
    return NULL;   /* not reached */
}

static int createTable(PGconn *c, char *err, size_t errlen) {
    char sql[512];
    snprintf(sql, sizeof(sql),
             "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
             " CREATE TABLE IF NOT EXISTS shadow_blobs (hash text COLLATE \"C\" PRIMARY KEY, data bytea NOT NULL);"
             " COMMIT",
             (long long)CREATE_LOCK);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pgMsg(c, r, err, errlen, "cannot create the shadow_blobs table");
    PQclear(r);
    if (!ok) PQclear(PQexec(c, "ROLLBACK"));
    return ok ? 0 : -1;
}

lh_blobs_pg *lh_blobs_pg_open(const char *conninfo, char *err, size_t errlen) {
    lh_blobs_pg *p = calloc(1, sizeof(*p));
    if (!p || !(p->conninfo = strdup(conninfo))) { free(p); snprintf(err, errlen, "out of memory"); return NULL; }
    pthread_mutex_init(&p->mu, NULL);
    PGconn *c = connectPg(p, err, errlen);
    if (!c || createTable(c, err, errlen)) { PQfinish(c); lh_blobs_pg_close(p); return NULL; }
    give(p, c);
    return p;
}

void lh_blobs_pg_close(lh_blobs_pg *p) {
    if (!p) return;
    for (int i = 0; i < p->nidle; i++) PQfinish(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    free(p->conninfo);
    free(p);
}

int lh_blobs_pg_put(lh_blobs_pg *p, const char hex[65], const void *data, size_t len, int *created, char *err,
                    size_t errlen) {
    if (len > 0x7fffffff) { snprintf(err, errlen, "blob too large for PostgreSQL"); return -1; }
    /* Inserted, or rewritten because the stored bytes do not hash to the key: one row
     * back. Already there and intact: none. */
    const char *sql = "INSERT INTO shadow_blobs (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO UPDATE"
                      " SET data = EXCLUDED.data WHERE sha256(shadow_blobs.data) <> decode(EXCLUDED.hash, 'hex')"
                      " RETURNING 1";
    const char *vals[2] = {hex, len ? data : ""};
    int lens[2] = {64, (int)len}, fmts[2] = {0, 1};
    PGconn *c;
    PGresult *r = run(p, sql, 2, vals, lens, fmts, 0, &c, err, errlen);
    if (!r) return -1;
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { pgMsg(c, r, err, errlen, "cannot store a shadow blob"); rc = -1; }
    else if (created) *created = PQntuples(r) > 0;
    PQclear(r);
    give(p, c);
    return rc;
}

int lh_blobs_pg_get(lh_blobs_pg *p, const char hex[65], size_t max, char **data, size_t *len, char *err,
                    size_t errlen) {
    char maxs[32];
    snprintf(maxs, sizeof(maxs), "%llu", (unsigned long long)(max > 0x7fffffff ? 0x7fffffff : max));
    /* The bytes only when within max: a row larger than any blob we store is refused
     * without being transferred. */
    const char *sql = "SELECT CASE WHEN octet_length(data) <= $2::bigint THEN data END, octet_length(data)"
                      " FROM shadow_blobs WHERE hash = $1";
    const char *vals[2] = {hex, maxs};
    PGconn *c;
    PGresult *r = run(p, sql, 2, vals, NULL, NULL, 1, &c, err, errlen);
    if (!r) return -1;
    int rc;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { pgMsg(c, r, err, errlen, "cannot read a shadow blob"); rc = -1; }
    else if (PQntuples(r) == 0) rc = LH_BLOBS_NOTFOUND;
    else if (PQgetisnull(r, 0, 0)) rc = LH_BLOBS_CORRUPT;   /* larger than max */
    else {
        size_t n = (size_t)PQgetlength(r, 0, 0);
        char *buf = malloc(n + 1);
        if (!buf) { snprintf(err, errlen, "out of memory"); rc = -1; }
        else {
            memcpy(buf, PQgetvalue(r, 0, 0), n);
            buf[n] = 0;
            unsigned char d[SHA256_DIGEST_LENGTH];
            SHA256((const unsigned char *)buf, n, d);
            static const char hx[] = "0123456789abcdef";
            int same = 1;
            for (int i = 0; i < 32 && same; i++) same = hex[2 * i] == hx[d[i] >> 4] && hex[2 * i + 1] == hx[d[i] & 15];
            if (same) { *data = buf; *len = n; rc = 0; }
            else { free(buf); rc = LH_BLOBS_CORRUPT; }
        }
    }
    PQclear(r);
    give(p, c);
    return rc;
}

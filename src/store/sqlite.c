/* sqlite.c — the embedded backend: <data>/events.db in WAL mode with one group-commit writer.
 *
 * Appending threads queue their (already validated) batches and sleep. One writer thread
 * takes everything queued, seals it onto the chain and commits it in ONE transaction with
 * synchronous=FULL, then wakes them. So a thousand concurrent appenders cost one fsync, not
 * a thousand, and an append returns only once its transaction is on disk.
 *
 * Readers use a pool of their own connections; in WAL mode they read a snapshot and never
 * block the writer. A background thread checkpoints the WAL; see committed(). Several processes may append to one file: each transaction
 * reads the chain head under SQLite's write lock (BEGIN IMMEDIATE), never from a cache. */
#include "store/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define SCHEMA_VERSION   1
#define POOL_MAX         16     /* idle reader connections kept */
#define CKPT_FRAMES      1000   /* new WAL frames (pages) that wake the background checkpointer */
#define INSERT_SIZES     5      /* INSERT statements of 1, 2, 4, 8 and 16 rows */
#define INSERT_ROWS      (1 << (INSERT_SIZES - 1))
#define CKPT_HARD_FRAMES 4000   /* WAL frames past which the writer checkpoints itself (~16 MiB) */
#define BUSY_MS          10000
/* Page caches, in KiB (SQLite's negative cache_size). They are the store's main memory:
 * each fills up to its size as the database grows (and is given back when appends stop:
 * see idle()), and the bridge's resident memory is bounded by DESIGN.md. The writer needs
 * the right edges of its five b-trees (with 1,000 agents, ~2,000 index leaves); a miss is a
 * pread from the kernel's page cache, not the disk. "Last 100 events of one agent" in 10 M
 * events, p50/p99: 131-228/252-351 us with 16 MiB per reader, 235-268/452-471 us with 8,
 * 320-350/479-886 us with 4, 324-328/445-552 us with 2 (it was 64 MiB for the writer and
 * 16 per reader, up to 16 readers). */
#define WRITER_CACHE_KIB 16384
#define READER_CACHE_KIB 8192
#define SHAPES           512    /* query shapes (see shapeOf) */

/* ============================== Types ============================== */

typedef struct reader {
    sqlite3 *db;
    sqlite3_stmt *q[SHAPES];     /* query statements by shape */
    sqlite3_stmt *c[SHAPES];     /* count statements by shape */
    sqlite3_stmt *head, *at_time, *probe, *last;
} reader;

typedef struct sqliteBe {
    char path[PATH_MAX];
    int readonly;

    lh_store *st;
    lh_groupq q;                 /* group commit; its thread is the only writer */
    sqlite3 *wdb;                /* writer thread only */
    sqlite3_stmt *w_ins, *w_insn[INSERT_SIZES], *w_head, *w_set, *w_begin, *w_commit; /* w_insn[k]: 2^k rows */
    lh_mac *wmac;

    pthread_mutex_t sub_mu;      /* commit generation, for subscribers in this process */
    pthread_cond_t sub_cv;
    uint64_t commit_gen;

    int wal_frames;              /* writer thread only: WAL size after the last commit */

    pthread_mutex_t ck_mu;       /* the background checkpointer */
    pthread_cond_t ck_cv;
    int ck_wanted, ck_stop, ck_started;
    int after_full;              /* writer thread only: a group failed on a full disk */
    int ck_mark;                 /* writer thread only: wal_frames when the checkpointer was last woken */
    pthread_t ckpt;

    pthread_mutex_t pool_mu;
    reader *pool[POOL_MAX];
    int npool;
} sqliteBe;

static sqliteBe *be(lh_store *st) { return st->be; }

static int dbErr(sqlite3 *db, char *err, size_t errlen, const char *what) {
    return lh_store_err(err, errlen, "%s: %s (sqlite code %d)", what, db ? sqlite3_errmsg(db) : "no connection",
                        db ? sqlite3_extended_errcode(db) : 0);
}

static int execSql(sqlite3 *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lh_store_err(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* ============================== Schema ============================== */

/* Versioned migrations: PRAGMA user_version is the last one applied. Append, never edit. */
static const char *const migrations[] = {
    /* 1: the event log, its chain head, snapshots */
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, time_ns INTEGER NOT NULL,"
    "  agent TEXT NOT NULL, aggregate TEXT NOT NULL, data TEXT NOT NULL, mac BLOB NOT NULL);"
    "CREATE INDEX events_type ON events(type, seq);"
    "CREATE INDEX events_agent ON events(agent, seq);"
    "CREATE INDEX events_aggregate ON events(aggregate, seq);"
    "CREATE INDEX events_time ON events(time_ns);"
    "CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL,"
    "  time_ns INTEGER NOT NULL, mac BLOB NOT NULL, key_fp TEXT NOT NULL, genesis_fp TEXT NOT NULL);"
    "CREATE TABLE snapshots (name TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,"
    "  key_fp TEXT NOT NULL, mac BLOB NOT NULL, PRIMARY KEY (name, seq));",
    /* 2: time ranges are served by the seq primary key (see seqBoundForTime): time_ns never
     * decreases with seq, so an index of its own only cost the writer a sixth b-tree. */
    "DROP INDEX IF EXISTS events_time;",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int migrate(sqlite3 *db, char *err, size_t errlen) {
    if (execSql(db, "BEGIN IMMEDIATE", err, errlen) < 0) return -1;
    sqlite3_stmt *s = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (v > NMIGRATIONS) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return lh_store_err(err, errlen, "events.db has schema version %d, newer than this program's %d; "
                            "upgrade lighthouse", v, NMIGRATIONS);
    }
    for (; v < NMIGRATIONS; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (execSql(db, migrations[v], err, errlen) < 0 || execSql(db, pragma, err, errlen) < 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return execSql(db, "COMMIT", err, errlen);
}

/* ============================== Connections ============================== */

/* PRAGMA journal_mode = WAL, tried again while another connection holds the lock the switch
 * needs. Several processes opening a new file at once (two writers started together) got
 * SQLITE_BUSY at once from it, without the busy handler, and the open failed with
 * "database is locked". A bounded number of tries, BUSY_MS in all, as the busy timeout. */
static int setWal(sqlite3 *db, char *err, size_t errlen) {
    for (int attempt = 0;; attempt++) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
        int wal = 0;
        if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(s, 0);
            wal = mode && !strcmp(mode, "wal");
            rc = SQLITE_OK;
        }
        sqlite3_finalize(s);
        if (wal) return 0;
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if ((rc != SQLITE_OK && !busy) || attempt >= BUSY_MS / 5) {
            if (rc == SQLITE_OK) return lh_store_err(err, errlen, "the event store cannot use WAL mode");
            return dbErr(db, err, errlen, "cannot switch the event store to WAL mode");
        }
        usleep(5000);
    }
}

/* Every connection's busy handler: while another process holds a lock we need (the write
 * lock, at BEGIN IMMEDIATE: the writer's, the migration's), try again every BUSY_POLL_US,
 * up to BUSY_MS in all. SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5
 * ... then 100 ms between tries; a process that commits back to back frees the lock only
 * for the microseconds between its COMMIT and its next BEGIN, so a second writer process
 * polling every 100 ms was starved: in store_crash.sh one writer acknowledged 1 append
 * while the other acknowledged 5,704 (or had not finished opening), and a wait past
 * BUSY_MS fails the append. */
#define BUSY_POLL_US 250
static int busyPoll(void *arg, int tries) {
    (void)arg;
    if ((long)tries * BUSY_POLL_US >= BUSY_MS * 1000L) return 0;
    usleep(BUSY_POLL_US);
    return 1;
}

static int openConn(sqliteBe *b, int create, sqlite3 **out, char *err, size_t errlen) {
    *out = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(b->path, &db, flags, NULL) != SQLITE_OK) {
        int rc = dbErr(db, err, errlen, "cannot open the event store");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_handler(db, busyPoll, NULL);
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return 0;
}

static void readerFree(reader *r) {
    if (!r) return;
    for (int i = 0; i < SHAPES; i++) {
        sqlite3_finalize(r->q[i]);
        sqlite3_finalize(r->c[i]);
    }
    sqlite3_finalize(r->head);
    sqlite3_finalize(r->at_time);
    sqlite3_finalize(r->probe);
    sqlite3_finalize(r->last);
    sqlite3_close(r->db);
    free(r);
}

/* Readers pinned to this thread by read_begin (sqlReadBegin), one per store: readerGet hands
 * the pinned one out and readerPut keeps it, so every read of the thread between read_begin
 * and read_end sees one snapshot. A few slots, because a thread may pin one store while it
 * opens another (a test's hook does). */
#define PINS_MAX 4
typedef struct pin {
    sqliteBe *b;                 /* NULL: a free slot */
    reader *r;
    int depth, broken;
} pin;
static _Thread_local pin tl_pins[PINS_MAX];

static pin *pinOf(const sqliteBe *b) {
    for (int i = 0; i < PINS_MAX; i++)
        if (tl_pins[i].b == b) return &tl_pins[i];
    return NULL;
}

static reader *readerGet(sqliteBe *b, char *err, size_t errlen) {
    pin *p = pinOf(b);
    if (p) return p->r;
    pthread_mutex_lock(&b->pool_mu);
    reader *r = b->npool ? b->pool[--b->npool] : NULL;
    pthread_mutex_unlock(&b->pool_mu);
    if (r) return r;
    r = calloc(1, sizeof(*r));
    if (!r) { lh_store_err(err, errlen, "out of memory"); return NULL; }
    if (openConn(b, 0, &r->db, err, errlen) < 0) { free(r); return NULL; }
    char pragma[80];
    snprintf(pragma, sizeof(pragma), "PRAGMA query_only = 1; PRAGMA cache_size = -%d", READER_CACHE_KIB);
    sqlite3_exec(r->db, pragma, NULL, NULL, NULL);
    return r;
}

static void readerPut(sqliteBe *b, reader *r, int broken) {
    if (!r) return;
    pin *p = pinOf(b);
    if (p && p->r == r) { /* read_end gives it back (or frees it, when broken) */
        p->broken |= broken;
        return;
    }
    pthread_mutex_lock(&b->pool_mu);
    if (!broken && b->npool < POOL_MAX) { b->pool[b->npool++] = r; r = NULL; }
    pthread_mutex_unlock(&b->pool_mu);
    readerFree(r);
}

/* ============================== The writer ============================== */

static void writerClose(sqliteBe *b) {
    sqlite3_finalize(b->w_ins);
    for (int k = 0; k < INSERT_SIZES; k++) {
        sqlite3_finalize(b->w_insn[k]);
        b->w_insn[k] = NULL;
    }
    sqlite3_finalize(b->w_head);
    sqlite3_finalize(b->w_set);
    sqlite3_finalize(b->w_begin);
    sqlite3_finalize(b->w_commit);
    sqlite3_close(b->wdb);
    b->w_ins = b->w_head = b->w_set = b->w_begin = b->w_commit = NULL;
    b->wdb = NULL;
}

/* The WAL hook (runs in the writer inside each COMMIT): note the WAL's size. */
static int walHook(void *arg, sqlite3 *db, const char *name, int frames) {
    ((sqliteBe *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

/* (Re)open the writer's connection; after an I/O error the old one is closed and this
 * runs again at the next append, which is how the store recovers without a restart. */
static int writerOpen(sqliteBe *b, char *err, size_t errlen) {
    if (b->wdb) return 0;
    if (openConn(b, 0, &b->wdb, err, errlen) < 0) return -1;
    /* synchronous=FULL: COMMIT fsyncs the WAL before it returns, so an acknowledged append
     * survives a crash or power loss. wal_autocheckpoint=0: checkpoints never delay
     * an acknowledgement (see committed()). */
    char pragma[96];
    snprintf(pragma, sizeof(pragma), "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; "
             "PRAGMA cache_size = -%d", WRITER_CACHE_KIB);
    if (setWal(b->wdb, err, errlen) < 0 || execSql(b->wdb, pragma, err, errlen) < 0)
        goto fail;
    sqlite3_wal_hook(b->wdb, walHook, b);
    for (int k = 1; k < INSERT_SIZES; k++) {
        char sql[128 + INSERT_ROWS * 18] = "INSERT OR ROLLBACK INTO events (seq, id, type, time_ns, agent, aggregate, data, mac) VALUES ";
        for (int i = 0; i < 1 << k; i++) strcat(sql, i ? ",(?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?)");
        if (sqlite3_prepare_v3(b->wdb, sql, -1, SQLITE_PREPARE_PERSISTENT, &b->w_insn[k], NULL)) {
            dbErr(b->wdb, err, errlen, "cannot prepare the writer's statements");
            goto fail;
        }
    }
    if (sqlite3_prepare_v3(b->wdb, "INSERT INTO events (seq, id, type, time_ns, agent, aggregate, data, mac) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT, &b->w_ins, NULL) ||
        sqlite3_prepare_v3(b->wdb, "SELECT seq, time_ns, mac, key_fp, genesis_fp FROM chain_head WHERE id = 1",
                           -1, SQLITE_PREPARE_PERSISTENT, &b->w_head, NULL) ||
        sqlite3_prepare_v3(b->wdb, "UPDATE chain_head SET seq = ?, time_ns = ?, mac = ?, key_fp = ? WHERE id = 1",
                           -1, SQLITE_PREPARE_PERSISTENT, &b->w_set, NULL) ||
        /* BEGIN and COMMIT prepared once: sqlite3_exec would compile them for every group,
         * a cost each small group at moderate load pays in full. */
        sqlite3_prepare_v3(b->wdb, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &b->w_begin, NULL) ||
        sqlite3_prepare_v3(b->wdb, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &b->w_commit, NULL)) {
        dbErr(b->wdb, err, errlen, "cannot prepare the writer's statements");
        goto fail;
    }
    return 0;
fail:
    writerClose(b);
    return -1;
}

/* Run a prepared statement that returns no rows; SQLITE_DONE on success. */
static int stepOnce(sqlite3_stmt *s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc;
}

static int readHead(sqlite3_stmt *s, lh_chain_head *h, int *exists) {
    memset(h, 0, sizeof(*h));
    *exists = 0;
    sqlite3_reset(s);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *exists = 1;
        h->seq = sqlite3_column_int64(s, 0);
        h->time_ns = sqlite3_column_int64(s, 1);
        if (sqlite3_column_bytes(s, 2) == LH_STORE_MAC_LEN) memcpy(h->mac, sqlite3_column_blob(s, 2), LH_STORE_MAC_LEN);
        snprintf(h->key_fp, sizeof(h->key_fp), "%s", (const char *)sqlite3_column_text(s, 3));
        snprintf(h->genesis_fp, sizeof(h->genesis_fp), "%s", (const char *)sqlite3_column_text(s, 4));
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bindEvent(sqlite3_stmt *s, int at, const lh_event *e) {
    sqlite3_bind_int64(s, at + 1, e->seq);
    sqlite3_bind_text(s, at + 2, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, at + 3, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, at + 4, e->time_ns);
    sqlite3_bind_text(s, at + 5, e->agent, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, at + 6, e->aggregate, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, at + 7, e->data, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, at + 8, e->mac, LH_STORE_MAC_LEN, SQLITE_STATIC);
}

static int insertEvent(sqliteBe *b, const lh_event *e) {
    sqlite3_stmt *s = b->w_ins;
    sqlite3_reset(s);
    bindEvent(s, 0, e);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Insert rows[0..n) with as few statements as the sizes allow (16, 8, 4, 2, 1 rows):
 * SQLite's cost per statement (a cursor opened on each of the five b-trees, the halt) is
 * then shared by its rows. OR ROLLBACK: a duplicate id ends the whole transaction, which
 * the group commit would roll back anyway, so SQLite keeps no statement journal to undo
 * part of a statement (with the default ABORT it did, and many rows per statement saved
 * nothing: 9.4 vs 6.3 us of CPU per event in bench_store). Returns 0, or the SQLite error
 * code; on SQLITE_CONSTRAINT the caller commits again one row at a time to name the id. */
static int insertRows(sqliteBe *b, const lh_event *const *rows, int n) {
    while (n > 0) {
        int k = INSERT_SIZES - 1;
        while (1 << k > n) k--;
        int rc;
        if (k == 0) {
            rc = insertEvent(b, rows[0]) == 0 ? SQLITE_DONE : SQLITE_ERROR;
        } else {
            sqlite3_stmt *s = b->w_insn[k];
            sqlite3_reset(s);
            for (int i = 0; i < 1 << k; i++) bindEvent(s, 8 * i, rows[i]);
            rc = sqlite3_step(s);
            sqlite3_reset(s);
        }
        if (rc != SQLITE_DONE) return sqlite3_extended_errcode(b->wdb) & 0xff;
        rows += 1 << k;
        n -= 1 << k;
    }
    return 0;
}

/* The group commit (lh_group_commit_fn): reqs[0..n) in one transaction. */
static int commitGroup(void *ctx, lh_greq **reqs, size_t n, int *constraint, char *err, size_t errlen) {
    sqliteBe *b = ctx;
    lh_store *st = b->st;
    int oneByOne = 0;
    *constraint = 0;
    if (writerOpen(b, err, errlen) < 0) return -1;
restart:
    if (stepOnce(b->w_begin) != SQLITE_DONE) return dbErr(b->wdb, err, errlen, "cannot start a write transaction");
    lh_chain_head h;
    int exists = 0;
    if (readHead(b->w_head, &h, &exists) < 0 || !exists) {
        dbErr(b->wdb, err, errlen, "cannot read the chain head");
        goto fail;
    }
    for (size_t r = 0; r < n; r++)
        if (lh_chain_seal(st, b->wmac, &h, reqs[r]->evs, reqs[r]->n, err, errlen) < 0) goto fail;
    /* The events in statements of up to INSERT_ROWS rows; one row each when naming a
     * duplicate id (then rows[0] is the event that failed). */
    const lh_event *rows[INSERT_ROWS];
    int nrows = 0, per = oneByOne ? 1 : INSERT_ROWS, rc = 0;
    for (size_t r = 0; r < n && !rc; r++)
        for (size_t i = 0; i < reqs[r]->n && !rc; i++) {
            rows[nrows++] = &reqs[r]->evs[i].ev;
            if (nrows == per) {
                rc = insertRows(b, rows, nrows);
                nrows = 0;
            }
        }
    if (!rc && nrows) rc = insertRows(b, rows, nrows);
    if (rc == SQLITE_CONSTRAINT && !oneByOne) goto again;
    if (rc) {
        *constraint = rc == SQLITE_CONSTRAINT;
        if (*constraint)
            lh_store_err(err, errlen, "event id '%s' is already in the store; ids must be unique", rows[0]->id);
        else
            dbErr(b->wdb, err, errlen, "cannot write the event");
        goto fail;
    }
    sqlite3_stmt *s = b->w_set;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, h.seq);
    sqlite3_bind_int64(s, 2, h.time_ns);
    sqlite3_bind_blob(s, 3, h.mac, LH_STORE_MAC_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, h.key_fp, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        dbErr(b->wdb, err, errlen, "cannot update the chain head");
        goto fail;
    }
    /* Durability point: with synchronous=FULL in WAL mode, COMMIT returns only after the
     * WAL frames holding this transaction (and its commit frame) are fsynced. */
    if (stepOnce(b->w_commit) != SQLITE_DONE) {
        dbErr(b->wdb, err, errlen, "the event store could not commit; nothing was recorded");
        goto fail;
    }
    atomic_fetch_add(&st->commits, 1);
    return 0;
again: /* a duplicate id in a statement of many rows: again, one row at a time, to name it */
    if (!sqlite3_get_autocommit(b->wdb)) sqlite3_exec(b->wdb, "ROLLBACK", NULL, NULL, NULL);
    oneByOne = 1;
    goto restart;
fail:
    if ((sqlite3_extended_errcode(b->wdb) & 0xff) == SQLITE_FULL) b->after_full = 1;
    if (!sqlite3_get_autocommit(b->wdb)) sqlite3_exec(b->wdb, "ROLLBACK", NULL, NULL, NULL);
    if (!*constraint) writerClose(b); /* a fresh connection at the next append */
    return -1;
}

/* After each group, once its appenders are woken: wake this process's subscribers and look
 * after the WAL. Every CKPT_FRAMES new frames wake the background checkpointer (PASSIVE: it
 * never blocks the writer), which copies them into the database file off the append path.
 * It cannot restart the WAL, though: SQLite restarts it only when a write transaction
 * begins with every frame copied, and at 10,000 events/s the writer commits again before a
 * concurrent checkpoint ends. So at CKPT_HARD_FRAMES the writer checkpoints itself, here,
 * between groups: only the frames since the last background run are left to copy, and
 * the next transaction starts the WAL again from its beginning. The WAL thus stays under
 * ~16 MiB and, after its first cycle, is rewritten in place: an fdatasync that has to
 * record a grown file size costs about twice one that does not (measured on this disk:
 * p50 0.4 vs 0.2 ms for a 16 KiB write). */
static void committed(void *ctx) {
    sqliteBe *b = ctx;
    pthread_mutex_lock(&b->sub_mu);
    b->commit_gen++;
    pthread_cond_broadcast(&b->sub_cv);
    pthread_mutex_unlock(&b->sub_mu);
    if (!b->wdb) return;
    if (b->after_full) {
        /* The first commit after a full disk: space is back. Checkpoint the whole WAL and
         * truncate it to zero bytes, so the space it took before and during the episode is
         * given back at once rather than after its next cycle (the disk filled again).
         * SQLITE_BUSY (a reader holds an old snapshot): again after the next group. */
        if (sqlite3_wal_checkpoint_v2(b->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK) {
            b->after_full = 0;
            b->ck_mark = 0;
            b->wal_frames = 0;
        }
        return;
    }
    if (b->wal_frames < b->ck_mark) b->ck_mark = 0; /* the WAL restarted */
    if (b->wal_frames >= CKPT_HARD_FRAMES || (!b->ck_started && b->wal_frames >= CKPT_FRAMES)) {
        /* SQLITE_BUSY while the background checkpointer runs: then after the next group */
        sqlite3_wal_checkpoint_v2(b->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        b->ck_mark = 0;
        b->wal_frames = 0;
        return;
    }
    if (b->wal_frames - b->ck_mark < CKPT_FRAMES) return;
    b->ck_mark = b->wal_frames;
    pthread_mutex_lock(&b->ck_mu);
    b->ck_wanted = 1;
    pthread_cond_signal(&b->ck_cv);
    pthread_mutex_unlock(&b->ck_mu);
}

/* When appends have stopped for a while (groupq's IDLE_MS), give back the page caches'
 * memory: the writer's (on the writer thread, its only user) and the pooled readers' (idle,
 * and held under pool_mu so none is taken meanwhile). A cache fills up to its size again
 * from the kernel's page cache when work resumes. So an idle bridge's memory does not stay
 * at its busiest. */
static void idle(void *ctx) {
    sqliteBe *b = ctx;
    if (b->wdb) sqlite3_db_release_memory(b->wdb);
    pthread_mutex_lock(&b->pool_mu);
    for (int i = 0; i < b->npool; i++) sqlite3_db_release_memory(b->pool[i]->db);
    pthread_mutex_unlock(&b->pool_mu);
}

/* The checkpointer's connection. A checkpoint on a connection that has not read the
 * database yet does nothing at all (SQLite opens the WAL at the first read; it returned
 * SQLITE_OK with a log of -1 frames), so the connection reads the schema first. */
static int ckptConn(sqliteBe *b, sqlite3 **db) {
    if (*db) return 0;
    if (openConn(b, 0, db, NULL, 0) < 0) return -1;
    if (sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

static void *checkpointMain(void *arg) {
    sqliteBe *b = arg;
    pthread_setname_np(pthread_self(), "lh-checkpoint"); /* for top -H, perf and gdb */
    sqlite3 *db = NULL;
    for (;;) {
        pthread_mutex_lock(&b->ck_mu);
        while (!b->ck_wanted && !b->ck_stop) pthread_cond_wait(&b->ck_cv, &b->ck_mu);
        int stop = b->ck_stop;
        b->ck_wanted = 0;
        pthread_mutex_unlock(&b->ck_mu);
        if (stop) break;
        if (ckptConn(b, &db) < 0) continue;
        int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            sqlite3_close(db);
            db = NULL;
        }
    }
    sqlite3_close(db);
    return NULL;
}

static int sqlAppend(lh_store *st, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen) {
    return lh_groupq_submit(&be(st)->q, evs, n, seqs, err, errlen);
}

static int sqlAppendAsync(lh_store *st, lh_greq *r, char *err, size_t errlen) {
    return lh_groupq_submit_async(&be(st)->q, r, err, errlen);
}

/* ============================== Open / head / close ============================== */

/* SQLite keeps memory statistics by default, which costs a process-wide mutex on every one
 * of its allocations: about 9% of an append's instructions in the writer (callgrind), and a
 * lock shared with every reader. Nothing here reads those statistics. sqlite3_config() only
 * works before SQLite initialises; if another part of the process got there first, it
 * fails harmlessly and the statistics stay on. */
static pthread_once_t configOnce = PTHREAD_ONCE_INIT;
static void configSqlite(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static int sqlOpen(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    pthread_once(&configOnce, configSqlite);
    sqliteBe *b = calloc(1, sizeof(*b));
    if (!b) return lh_store_err(err, errlen, "out of memory");
    st->be = b;
    b->st = st;
    pthread_mutex_init(&b->sub_mu, NULL);
    pthread_mutex_init(&b->ck_mu, NULL);
    pthread_cond_init(&b->ck_cv, NULL);
    lh_cond_init_monotonic(&b->sub_cv);
    pthread_mutex_init(&b->pool_mu, NULL);
    b->readonly = (o->flags & LH_STORE_READONLY) != 0;
    snprintf(b->path, sizeof(b->path), "%s/events.db", o->data_dir);
    if (b->readonly) {
        if (access(b->path, F_OK) < 0)
            return lh_store_err(err, errlen, "no event store at %s (check --data)", b->path);
        return 0;
    }
    sqlite3 *db = NULL;
    if (openConn(b, 1, &db, err, errlen) < 0) return -1;
    /* Opening runs SQLite's crash recovery: a WAL whose last transaction was half-written
     * (no valid commit frame, bad checksum) is ignored from that frame on; such a
     * transaction was never acknowledged, because acknowledgement follows the fsync. */
    int rc = setWal(db, err, errlen);
    if (rc == 0) rc = migrate(db, err, errlen);
    sqlite3_close(db);
    if (rc < 0) return -1;
    b->wmac = lh_mac_new();
    if (!b->wmac) return lh_store_err(err, errlen, "out of memory");
    if (pthread_create(&b->ckpt, NULL, checkpointMain, b) == 0) b->ck_started = 1;
    if (lh_groupq_start(&b->q, commitGroup, committed, idle, b, err, errlen) < 0) return -1;
    return 0;
}

static int sqlHead(lh_store *st, lh_chain_head *h, int *exists, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    if (!r->head && sqlite3_prepare_v3(r->db, "SELECT seq, time_ns, mac, key_fp, genesis_fp FROM chain_head "
                                       "WHERE id = 1", -1, SQLITE_PREPARE_PERSISTENT, &r->head, NULL) != SQLITE_OK) {
        dbErr(r->db, err, errlen, "cannot read the chain head (is this a Lighthouse events.db?)");
        readerPut(b, r, 1);
        return -1;
    }
    if (readHead(r->head, h, exists) < 0) {
        dbErr(r->db, err, errlen, "cannot read the chain head");
        readerPut(b, r, 1);
        return -1;
    }
    readerPut(b, r, 0);
    return 0;
}

/* One read transaction on one reader, pinned to the calling thread until read_end. In WAL
 * mode a deferred BEGIN takes its snapshot at the first read (the head), and every read
 * after it sees the database as of that moment, whatever this or another process commits
 * meanwhile: read as separate statements, a commit between the head and the tail made the
 * tail run past the head, and open or verify reported a damaged chain. The snapshot holds
 * back the WAL's restart while it lasts (a long verify lets the WAL grow), as any reader's
 * does. Nests by counting. */
static int sqlReadBegin(lh_store *st, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    pin *p = pinOf(b);
    if (p) {
        p->depth++;
        return 0;
    }
    p = pinOf(NULL);
    if (!p) return lh_store_err(err, errlen, "more than %d stores pinned to one snapshot on this thread", PINS_MAX);
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    if (execSql(r->db, "BEGIN", err, errlen) < 0) {
        readerPut(b, r, 1);
        return -1;
    }
    *p = (pin){.b = b, .r = r, .depth = 1};
    return 0;
}

static void sqlReadEnd(lh_store *st) {
    sqliteBe *b = be(st);
    pin *p = pinOf(b);
    if (!p || --p->depth > 0) return;
    reader *r = p->r;
    int broken = p->broken;
    *p = (pin){0};
    /* read only: nothing to make durable; a read that failed may have ended it already */
    if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) broken = 1;
    readerPut(b, r, broken);
}

static int sqlInitHead(lh_store *st, const char *fp, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    sqlite3 *db = NULL;
    if (openConn(b, 0, &db, err, errlen) < 0) return -1;
    sqlite3_stmt *s = NULL;
    int rc = -1;
    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO chain_head (id, seq, time_ns, mac, key_fp, genesis_fp) "
                           "VALUES (1, 0, 0, zeroblob(32), ?1, ?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE) rc = 0;
    }
    if (rc < 0) dbErr(db, err, errlen, "cannot initialise the chain head");
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

static void sqlClose(lh_store *st) {
    sqliteBe *b = be(st);
    lh_groupq_stop(&b->q);
    if (b->ck_started) {
        pthread_mutex_lock(&b->ck_mu);
        b->ck_stop = 1;
        pthread_cond_signal(&b->ck_cv);
        pthread_mutex_unlock(&b->ck_mu);
        pthread_join(b->ckpt, NULL);
    }
    writerClose(b);
    lh_mac_free(b->wmac);
    for (int i = 0; i < b->npool; i++) readerFree(b->pool[i]);
    pthread_mutex_destroy(&b->sub_mu);
    pthread_mutex_destroy(&b->ck_mu);
    pthread_cond_destroy(&b->ck_cv);
    pthread_cond_destroy(&b->sub_cv);
    pthread_mutex_destroy(&b->pool_mu);
    free(b);
    st->be = NULL;
}

/* ============================== Queries ============================== */

enum { SH_TYPE = 1, SH_PREFIX = 2, SH_AGENT = 4, SH_AGG = 8, SH_AFTER = 16, SH_BEFORE = 32, SH_SINCE = 64,
       SH_UNTIL = 128, SH_DESC = 256 };

static unsigned shapeOf(const lh_store_filter *f, char *lo, char *hi) {
    unsigned sh = 0;
    if (f->type && *f->type) sh |= lh_type_prefix_range(f->type, lo, hi, LH_STORE_MAX_TYPE + 2) ? SH_PREFIX : SH_TYPE;
    if (f->agent) sh |= SH_AGENT;
    if (f->aggregate) sh |= SH_AGG;
    if (f->after_seq > 0) sh |= SH_AFTER;
    if (f->before_seq > 0) sh |= SH_BEFORE;
    if (f->since_ns) sh |= SH_SINCE;
    if (f->until_ns) sh |= SH_UNTIL;
    if (f->descending) sh |= SH_DESC;
    return sh;
}

/* Named parameters, so one binding routine serves every shape. */
static void buildWhere(unsigned sh, char *sql, size_t cap) {
    size_t n = strlen(sql);
    const char *sep = " WHERE ";
    static const struct { unsigned bit; const char *cond; } conds[] = {
        {SH_TYPE, "type = :type"}, {SH_PREFIX, "type >= :lo AND type < :hi"}, {SH_AGENT, "agent = :agent"},
        {SH_AGG, "aggregate = :agg"}, {SH_AFTER, "seq > :after"}, {SH_BEFORE, "seq < :before"},
        {SH_SINCE, "seq >= :tlo AND time_ns >= :since"}, {SH_UNTIL, "seq < :thi AND time_ns < :until"},
    };
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        if (!(sh & conds[i].bit)) continue;
        n += (size_t)snprintf(sql + n, n < cap ? cap - n : 0, "%s%s", sep, conds[i].cond);
        sep = " AND ";
    }
}

static void bindFilter(sqlite3_stmt *s, const lh_store_filter *f, const char *lo, const char *hi,
                       const int64_t tb[2]) {
    int i;
    if ((i = sqlite3_bind_parameter_index(s, ":tlo"))) sqlite3_bind_int64(s, i, tb[0]);
    if ((i = sqlite3_bind_parameter_index(s, ":thi"))) sqlite3_bind_int64(s, i, tb[1]);
    if ((i = sqlite3_bind_parameter_index(s, ":type"))) sqlite3_bind_text(s, i, f->type, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(s, ":lo"))) sqlite3_bind_text(s, i, lo, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(s, ":hi"))) sqlite3_bind_text(s, i, hi, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(s, ":agent"))) sqlite3_bind_text(s, i, f->agent, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(s, ":agg"))) sqlite3_bind_text(s, i, f->aggregate, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(s, ":after"))) sqlite3_bind_int64(s, i, f->after_seq);
    if ((i = sqlite3_bind_parameter_index(s, ":before"))) sqlite3_bind_int64(s, i, f->before_seq);
    if ((i = sqlite3_bind_parameter_index(s, ":since"))) sqlite3_bind_int64(s, i, f->since_ns);
    if ((i = sqlite3_bind_parameter_index(s, ":until"))) sqlite3_bind_int64(s, i, f->until_ns);
    if ((i = sqlite3_bind_parameter_index(s, ":limit"))) sqlite3_bind_int64(s, i, (sqlite3_int64)lh_filter_limit(f));
}

/* Time ranges without a time index. time_ns never decreases with seq (lh_chain_seal makes
 * it so under the write lock, across processes), so "time_ns >= t" holds exactly for the
 * events with seq >= B(t), the first seq whose time_ns >= t. B is found by binary search on
 * the seq primary key: about log2(events) look-ups, ~25 for 10 million. The queries keep
 * their time_ns conditions too, so a store whose times were tampered with still returns
 * only matching events. *out is one past the last seq when no event is that late. */
static int seqBoundForTime(reader *r, int64_t t, int64_t *out, char *err, size_t errlen) {
    if ((!r->probe && sqlite3_prepare_v3(r->db, "SELECT seq, time_ns FROM events WHERE seq >= ? ORDER BY seq LIMIT 1",
                                         -1, SQLITE_PREPARE_PERSISTENT, &r->probe, NULL) != SQLITE_OK) ||
        (!r->last && sqlite3_prepare_v3(r->db, "SELECT max(seq) FROM events", -1, SQLITE_PREPARE_PERSISTENT,
                                        &r->last, NULL) != SQLITE_OK))
        return dbErr(r->db, err, errlen, "cannot query by time");
    int rc = sqlite3_step(r->last);
    int64_t lo = 0, hi = rc == SQLITE_ROW ? sqlite3_column_int64(r->last, 0) + 1 : 1;
    sqlite3_reset(r->last);
    if (rc != SQLITE_ROW) return dbErr(r->db, err, errlen, "cannot query by time");
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        sqlite3_bind_int64(r->probe, 1, mid);
        rc = sqlite3_step(r->probe);
        int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(r->probe, 0) : 0;
        int64_t time_ns = rc == SQLITE_ROW ? sqlite3_column_int64(r->probe, 1) : 0;
        sqlite3_reset(r->probe);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return dbErr(r->db, err, errlen, "cannot query by time");
        if (rc == SQLITE_DONE || time_ns >= t) hi = mid;   /* no seq in [mid, seq) exists */
        else lo = seq + 1;                                  /* every event up to seq is earlier */
    }
    *out = lo;
    return 0;
}

/* The seq bounds [tb[0], tb[1]) that f's time range maps to. */
static int timeBounds(reader *r, const lh_store_filter *f, unsigned sh, int64_t tb[2], char *err, size_t errlen) {
    tb[0] = 0;
    tb[1] = INT64_MAX;
    if ((sh & SH_SINCE) && seqBoundForTime(r, f->since_ns, &tb[0], err, errlen) < 0) return -1;
    if ((sh & SH_UNTIL) && seqBoundForTime(r, f->until_ns, &tb[1], err, errlen) < 0) return -1;
    return 0;
}

/* The reader's statement for filter shape sh (prepared from sql on first use, then kept)
 * with f's values bound. NULL on error, with the reader given back as broken. */
static sqlite3_stmt *boundStatement(sqliteBe *b, reader *r, sqlite3_stmt **slot, const char *sql,
                                    const lh_store_filter *f, unsigned sh, const char *lo,
                                    const char *hi, const char *what, char *err, size_t errlen) {
    if (!*slot && sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        dbErr(r->db, err, errlen, what);
        readerPut(b, r, 1);
        return NULL;
    }
    int64_t tb[2];
    if (timeBounds(r, f, sh, tb, err, errlen) < 0) {
        readerPut(b, r, 1);
        return NULL;
    }
    bindFilter(*slot, f, lo, hi, tb);
    return *slot;
}

static int sqlQuery(lh_store *st, const lh_store_filter *f, lh_event_list *out, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    size_t limit = lh_filter_limit(f);
    if (lh_event_list_init(out, limit < 256 ? limit : 256) < 0) return lh_store_err(err, errlen, "out of memory");
    char lo[LH_STORE_MAX_TYPE + 2], hi[LH_STORE_MAX_TYPE + 2];
    unsigned sh = shapeOf(f, lo, hi);
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    char sql[640] = "SELECT seq, time_ns, id, type, agent, aggregate, data, mac FROM events";
    if (!r->q[sh]) {
        buildWhere(sh, sql, sizeof(sql));
        size_t n = strlen(sql);
        snprintf(sql + n, sizeof(sql) - n, " ORDER BY seq %s LIMIT :limit", (sh & SH_DESC) ? "DESC" : "ASC");
    }
    sqlite3_stmt *s = boundStatement(b, r, &r->q[sh], sql, f, sh, lo, hi, "cannot query the event store",
                                     err, errlen);
    if (!s) return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (lh_event_list_push(out, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                               (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
                               (const char *)sqlite3_column_text(s, 4), (const char *)sqlite3_column_text(s, 5),
                               (const char *)sqlite3_column_text(s, 6), (size_t)sqlite3_column_bytes(s, 6),
                               sqlite3_column_blob(s, 7), (size_t)sqlite3_column_bytes(s, 7)) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    int ok = rc == SQLITE_DONE;
    if (!ok) dbErr(r->db, err, errlen, "cannot read events");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    readerPut(b, r, !ok);
    return ok ? 0 : -1;
}

static int sqlCount(lh_store *st, const lh_store_filter *f, int64_t *count, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    char lo[LH_STORE_MAX_TYPE + 2], hi[LH_STORE_MAX_TYPE + 2];
    unsigned sh = shapeOf(f, lo, hi) & ~(unsigned)SH_DESC;
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    char sql[640] = "SELECT count(*) FROM events";
    if (!r->c[sh]) buildWhere(sh, sql, sizeof(sql));
    sqlite3_stmt *s = boundStatement(b, r, &r->c[sh], sql, f, sh, lo, hi, "cannot count events", err, errlen);
    if (!s) return -1;
    int ok = sqlite3_step(s) == SQLITE_ROW;
    if (ok) *count = sqlite3_column_int64(s, 0);
    else dbErr(r->db, err, errlen, "cannot count events");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    readerPut(b, r, !ok);
    return ok ? 0 : -1;
}

/* The greatest seq whose time_ns <= t: the last event before B(t + 1) (see seqBoundForTime). */
static int sqlSeqAtTime(lh_store *st, int64_t t, int64_t *seq, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    int64_t bound = INT64_MAX;
    if (t < INT64_MAX && seqBoundForTime(r, t + 1, &bound, err, errlen) < 0) {
        readerPut(b, r, 1);
        return -1;
    }
    if (!r->at_time && sqlite3_prepare_v3(r->db, "SELECT seq FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                                          -1, SQLITE_PREPARE_PERSISTENT, &r->at_time, NULL)) {
        dbErr(r->db, err, errlen, "cannot query by time");
        readerPut(b, r, 1);
        return -1;
    }
    sqlite3_stmt *s = r->at_time;
    sqlite3_bind_int64(s, 1, bound);
    int rc = sqlite3_step(s);
    *seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok) dbErr(r->db, err, errlen, "cannot query by time");
    sqlite3_reset(s);
    readerPut(b, r, !ok);
    return ok ? 0 : -1;
}

static int64_t fileSize(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int sqlStats(lh_store *st, lh_store_stats *s, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    sqlite3_stmt *q = NULL;
    int ok = 1;
    static const char *const sqls[] = {
        "SELECT count(*) FROM events",
        "SELECT time_ns FROM events ORDER BY seq ASC LIMIT 1",
        "SELECT time_ns FROM events ORDER BY seq DESC LIMIT 1",
        "SELECT type, count(*) FROM events GROUP BY type ORDER BY 2 DESC, 1 LIMIT 32",
    };
    for (int i = 0; i < 4 && ok; i++) {
        if (sqlite3_prepare_v2(r->db, sqls[i], -1, &q, NULL) != SQLITE_OK) { ok = 0; break; }
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (i == 0) s->events = sqlite3_column_int64(q, 0);
            else if (i == 1) s->first_time_ns = sqlite3_column_int64(q, 0);
            else if (i == 2) s->last_time_ns = sqlite3_column_int64(q, 0);
            else if (s->ntypes < 32) {
                snprintf(s->types[s->ntypes].type, sizeof(s->types[0].type), "%s", (const char *)sqlite3_column_text(q, 0));
                s->types[s->ntypes++].count = sqlite3_column_int64(q, 1);
            }
        }
        if (rc != SQLITE_DONE) ok = 0;
        sqlite3_finalize(q);
        q = NULL;
    }
    if (!ok) dbErr(r->db, err, errlen, "cannot read stats");
    readerPut(b, r, !ok);
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof(wal), "%s-wal", b->path);
    s->bytes = fileSize(b->path) + fileSize(wal);
    return ok ? 0 : -1;
}

/* ============================== Snapshots ============================== */

static int sqlSnapPut(lh_store *st, const char *name, int64_t seq, const char *state, const char *fp,
                      const unsigned char mac[LH_STORE_MAC_LEN], char *err, size_t errlen) {
    sqliteBe *b = be(st);
    sqlite3 *db = NULL;
    if (openConn(b, 0, &db, err, errlen) < 0) return -1;
    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    sqlite3_stmt *s = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO snapshots (name, seq, state, key_fp, mac) VALUES (?, ?, ?, ?, ?)",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, seq);
        sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, fp, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, mac, LH_STORE_MAC_LEN, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE) rc = 0;
    }
    if (rc < 0) dbErr(db, err, errlen, "cannot save the snapshot");
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

static int sqlSnapGet(lh_store *st, const char *name, int64_t max_seq, int64_t *seq, char **state,
                      char fp[LH_STORE_FP_LEN + 1], unsigned char mac[LH_STORE_MAC_LEN], int *found,
                      char *err, size_t errlen) {
    sqliteBe *b = be(st);
    *found = 0;
    *state = NULL;
    reader *r = readerGet(b, err, errlen);
    if (!r) return -1;
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(r->db, "SELECT seq, state, key_fp, mac FROM snapshots WHERE name = ? AND seq <= ? "
                                "ORDER BY seq DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, max_seq);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 3) == LH_STORE_MAC_LEN) {
            *seq = sqlite3_column_int64(s, 0);
            *state = strdup((const char *)sqlite3_column_text(s, 1));
            snprintf(fp, LH_STORE_FP_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 2));
            memcpy(mac, sqlite3_column_blob(s, 3), LH_STORE_MAC_LEN);
            *found = *state != NULL;
        } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
            ok = 0;
        }
    }
    if (!ok) dbErr(r->db, err, errlen, "cannot read snapshots");
    sqlite3_finalize(s);
    readerPut(b, r, !ok);
    return ok ? 0 : -1;
}

/* ============================== Subscriptions ============================== */

struct lh_sub_be { uint64_t gen; };

static int sqlSubOpen(lh_store *st, lh_sub_be **out, char *err, size_t errlen) {
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : lh_store_err(err, errlen, "out of memory");
}

/* Wake on a commit in this process, or after 20 ms to notice other processes' commits. */
static int sqlSubWait(lh_store *st, lh_sub_be *s, int timeout_ms, char *err, size_t errlen) {
    sqliteBe *b = be(st);
    if (timeout_ms > 20) timeout_ms = 20;
    struct timespec ts = lh_deadline_ms(timeout_ms);
    pthread_mutex_lock(&b->sub_mu);
    if (s->gen == b->commit_gen) pthread_cond_timedwait(&b->sub_cv, &b->sub_mu, &ts);
    s->gen = b->commit_gen;
    pthread_mutex_unlock(&b->sub_mu);
    return 0;
}

static void sqlSubClose(lh_store *st, lh_sub_be *s) { free(s); }

const lh_backend_ops lh_store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlOpen,
    .head = sqlHead,
    .init_head = sqlInitHead,
    .append = sqlAppend,
    .append_async = sqlAppendAsync,
    .query = sqlQuery,
    .count = sqlCount,
    .seq_at_time = sqlSeqAtTime,
    .stats = sqlStats,
    .snap_put = sqlSnapPut,
    .snap_get = sqlSnapGet,
    .sub_open = sqlSubOpen,
    .sub_wait = sqlSubWait,
    .sub_close = sqlSubClose,
    .close = sqlClose,
    .read_begin = sqlReadBegin,
    .read_end = sqlReadEnd,
};

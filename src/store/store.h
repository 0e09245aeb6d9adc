/* store.h — the audit event store: one interface, two backends (SQLite, PostgreSQL).
 *
 * Every decision, policy change, escalation and SLA action is an event. The store gives
 * each event a global monotonic `seq` and chains it to the one before:
 *
 *     mac(n) = HMAC-SHA256(key, mac(n-1) ‖ canonical bytes of event n),  mac(0) = 32 zero bytes
 *
 * so changing, removing or reordering any event breaks lh_store_verify(). docs/store.md
 * describes the canonical form, the schema and the guarantees; this header is the contract.
 *
 * Guarantees:
 *  - lh_store_append() returns 0 only after the events are durable (SQLite: the group-commit
 *    transaction is fsynced with synchronous=FULL; PostgreSQL: COMMIT returned).
 *  - seq is dense (1, 2, 3, ...) and time_ns never decreases with seq.
 *  - An append that fails (disk full, I/O error, lost connection) returns -1 with a message;
 *    the store recovers by itself when the fault clears (no reopen needed).
 *
 * Threads: an lh_store may be shared by any number of threads; every function is
 * thread-safe. A subscription (lh_store_sub) belongs to one thread at a time.
 *
 * Errors: functions return 0 on success and -1 on failure, writing a NUL-terminated message
 * that says what to fix into err[errlen] (err may be NULL). Nothing is printed.
 *
 * Memory: lh_store_open() returns a store freed by lh_store_close(). Query results live in
 * an lh_event_list owned by the caller and freed with lh_event_list_free(); the strings of
 * its events point into the list and die with it. Projection states are jansson objects
 * owned by the caller (json_decref). */
#ifndef LH_STORE_H
#define LH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---------- Bounds (inputs past these are refused, never truncated) ---------- */

#define LH_STORE_MAX_EVENT_BYTES_DEFAULT (1024 * 1024) /* whole event, all fields */
#define LH_STORE_MAX_JSON_DEPTH_DEFAULT  64
#define LH_STORE_MAX_TYPE    128
#define LH_STORE_MAX_NAME    256   /* agent, aggregate */
#define LH_STORE_MAX_ID      64
#define LH_STORE_MAX_BATCH   10000 /* events in one lh_store_append() call */
#define LH_STORE_MAX_LIMIT   10000 /* events in one query page */
#define LH_STORE_MAC_LEN     32
#define LH_STORE_KEY_MIN     32    /* bytes in a key */
#define LH_STORE_FP_LEN      16    /* hex characters of a key fingerprint */

/* ---------- The event ---------- */

/* One event. On append, the caller fills type, agent, aggregate, data and optionally id
 * (NULL: the store makes a time-ordered UUID); seq, time_ns and mac are assigned by the
 * store. From a query, every field is set and the strings belong to the lh_event_list. */
typedef struct lh_event {
    int64_t seq;
    int64_t time_ns;          /* store's commit clock, ns since the Unix epoch */
    const char *id;
    const char *type;         /* dotted, lower case: "decision.made", "policy.activated" */
    const char *agent;        /* "" for system events */
    const char *aggregate;    /* what the event is about: a session, policy, token...; may be "" */
    const char *data;         /* JSON text. Stored in canonical form (compact, sorted keys). */
    unsigned char mac[LH_STORE_MAC_LEN];
} lh_event;

typedef struct lh_event_list {
    lh_event *events;
    size_t n;
    int64_t cursor;           /* seq of the last event returned (0 if none): the next page's
                               * after_seq (ascending) or before_seq (descending) */
    void *mem_;               /* internal: owns the strings */
} lh_event_list;

void lh_event_list_free(lh_event_list *list);

/* ---------- Opening ---------- */

typedef enum lh_store_backend { LH_STORE_SQLITE = 1, LH_STORE_POSTGRES = 2 } lh_store_backend;

enum {
    LH_STORE_READONLY = 1 << 0,  /* query/verify/stats only: create nothing, no writer, key optional */
};

typedef struct lh_store_options {
    lh_store_backend backend;
    const char *data_dir;     /* SQLite: holds events.db; both: holds the `secret` key file */
    const char *conninfo;     /* PostgreSQL: libpq conninfo string */
    const char *secret;       /* keys, as LIGHTHOUSE_SECRET; NULL: read LIGHTHOUSE_SECRET, then <data>/secret */
    size_t max_event_bytes;   /* 0: LH_STORE_MAX_EVENT_BYTES_DEFAULT */
    int max_json_depth;       /* 0: LH_STORE_MAX_JSON_DEPTH_DEFAULT */
    unsigned flags;           /* LH_STORE_READONLY */
    const char *checkpoints;  /* the signed checkpoint file; NULL: LIGHTHOUSE_CHECKPOINTS, else
                               * <data_dir>.checkpoints; "off": none (docs/store.md) */
    int checkpoint_interval_ms; /* 0: LIGHTHOUSE_CHECKPOINT_INTERVAL_MS, else 1000 */
    int accept_cut;           /* open a store whose head is behind its last checkpoint (as
                               * LIGHTHOUSE_ACCEPT_CUT_LOG=1) */
    int verify_chain;         /* walk the whole chain at open (lh_store_verify) and refuse one
                               * that does not verify (the bridge sets it; docs/store.md) */
    int accept_broken;        /* with verify_chain: open it anyway, saying so on stderr (as
                               * LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1) */
} lh_store_options;

typedef struct lh_store lh_store;

/* Parse "sqlite" or "postgres" (also "postgresql", "pg"). -1 with a message otherwise. */
int lh_store_backend_parse(const char *name, lh_store_backend *out, char *err, size_t errlen);

/* Open (and, unless READONLY, create and migrate) a store. Keys: opts->secret, else the
 * LIGHTHOUSE_SECRET environment variable, else the 0600 file <data_dir>/secret, which is
 * generated (32 random bytes, hex) on the first start of a new store. Several keys may be
 * given separated by ','; each must be at least LH_STORE_KEY_MIN bytes. Refuses a key that
 * does not match the chain ("wrong key"), an unknown backend, a secret file readable by
 * others, and a chain whose tail does not verify (with verify_chain: any part of it). NULL
 * on failure. */
lh_store *lh_store_open(const lh_store_options *opts, char *err, size_t errlen);

/* Stop the writer (pending appends finish first) and free everything. NULL is a no-op. */
void lh_store_close(lh_store *st);

/* ---------- Appending ---------- */

/* Append n events (1..LH_STORE_MAX_BATCH) atomically: all or none. On success seqs[i]
 * (caller's array of n, may be NULL) is the seq of events[i], the events are durable and
 * events[] is not modified. Refuses (without writing anything) an event over the size
 * bound, data that is not valid JSON, is nested deeper than the bound or is not valid
 * UTF-8, a bad type or name, or the reserved type prefix "key.". */
int lh_store_append(lh_store *st, const lh_event *events, size_t n, int64_t *seqs,
                    char *err, size_t errlen);

/* lh_store_append() for a caller that must not block (the bridge's HTTP workers). The
 * events are checked and prepared now, on the calling thread, exactly as by
 * lh_store_append(); then they join the next group commit and done(arg, rc, err) is
 * called once, on the store's writer thread: rc 0 when they are durable (seqs filled), -1
 * with err when they failed. Until then the caller keeps seqs and the arena alive and
 * untouched: the store's copies of the events live in the arena. done() runs between
 * groups, so it must be quick and must not call into the store. Returns 0 when queued, or
 * -1 with err when refused at once; done() is then never called. */
typedef struct lh_arena lh_arena;
typedef void (*lh_store_done_fn)(void *arg, int rc, const char *err);
int lh_store_append_async(lh_store *st, const lh_event *events, size_t n, int64_t *seqs, lh_arena *arena,
                          lh_store_done_fn done, void *arg, char *err, size_t errlen);

/* Rotate to a new key: appends a "key.rotated" event MACed with the old key, after which
 * events are MACed with the new one. The new key must already be in the store's key set
 * (the file keyring or LIGHTHOUSE_SECRET), so old and new events both stay verifiable.
 * new_fp is the fingerprint (lh_store_key_fingerprint) of the new key. */
int lh_store_rotate_key(lh_store *st, const char *new_fp, int64_t *seq, char *err, size_t errlen);

/* Generate a new random key, add it to <data_dir>/secret (0600, fsynced), load it, and
 * write its fingerprint to fp_out[LH_STORE_FP_LEN + 1]. Only for the file keyring: fails
 * when keys come from LIGHTHOUSE_SECRET or opts->secret. */
int lh_store_add_file_key(lh_store *st, char *fp_out, char *err, size_t errlen);

/* Fingerprint of a key: 16 hex characters of SHA-256("lighthouse.key.v1" ‖ key). */
void lh_store_key_fingerprint(const unsigned char *key, size_t len, char out[LH_STORE_FP_LEN + 1]);

/* ---------- Querying ---------- */

/* Every field is optional (zero / NULL means "no constraint"). */
typedef struct lh_store_filter {
    const char *type;         /* exact type, or a prefix ending in ".*" ("policy.*") */
    const char *agent;
    const char *aggregate;
    int64_t after_seq;        /* seq >  after_seq */
    int64_t before_seq;       /* seq <  before_seq */
    int64_t since_ns;         /* time_ns >= since_ns */
    int64_t until_ns;         /* time_ns <  until_ns */
    int descending;           /* newest first */
    size_t limit;             /* 0: 100; at most LH_STORE_MAX_LIMIT */
} lh_store_filter;

/* One page of events matching f, ordered by seq. out->cursor is the cursor for the next
 * page: pass it as f->after_seq (or f->before_seq when descending). Caller frees *out with
 * lh_event_list_free (also after a failure). */
int lh_store_query(lh_store *st, const lh_store_filter *f, lh_event_list *out,
                   char *err, size_t errlen);

/* Number of events matching f (limit and order ignored). */
int lh_store_count(lh_store *st, const lh_store_filter *f, int64_t *count, char *err, size_t errlen);

/* The greatest seq whose time_ns <= t_ns (0 when none). For time-travel queries. */
int lh_store_seq_at_time(lh_store *st, int64_t t_ns, int64_t *seq, char *err, size_t errlen);

/* ---------- Subscribing ---------- */

typedef struct lh_store_sub lh_store_sub;

/* Subscribe to events with seq > after_seq (pass the current head for "new events only";
 * lh_store_stats gives it). SQLite: writes by this process wake subscribers at once, other
 * processes' writes are seen by polling (every 20 ms). PostgreSQL: LISTEN/NOTIFY on a
 * dedicated connection, so every replica's appends are seen as they commit.
 * Free with lh_store_sub_close. */
int lh_store_subscribe(lh_store *st, int64_t after_seq, lh_store_sub **out, char *err, size_t errlen);

/* Wait up to timeout_ms (-1: forever) for new events and return up to limit of them in
 * *out (out->n == 0 on timeout). The subscription's cursor advances past them. */
int lh_store_sub_next(lh_store_sub *sub, int timeout_ms, size_t limit, lh_event_list *out,
                      char *err, size_t errlen);

/* Deliver only events of this type (exact, or a prefix "policy.*"; NULL: every event). A
 * subscriber that wants one rare type then reads only those, instead of every event after
 * each commit. -1 when the type is too long. */
int lh_store_sub_filter(lh_store_sub *sub, const char *type, char *err, size_t errlen);

void lh_store_sub_close(lh_store_sub *sub);

/* ---------- Leadership among replicas ---------- */

/* One role (key) that at most one process sharing the store holds at a time: PostgreSQL, a
 * session advisory lock (pg_try_advisory_lock) on a connection of its own, so it is lost
 * when that connection drops (process killed, network cut, backend terminated); SQLite,
 * always held (one writing process per file). */
typedef struct lh_store_leader lh_store_leader;
lh_store_leader *lh_store_leader_new(lh_store *st, int64_t key);   /* NULL: out of memory */
/* 1 when this process holds the role now, 0 when another does or the database cannot be
 * reached (err says why). Each call checks the connection with a round trip, and, when the
 * role is not held, tries to take it (on a new connection if the old one died). Never
 * waits on the lock; one thread at a time per handle. */
int lh_store_leader_check(lh_store_leader *l, char *err, size_t errlen);
void lh_store_leader_free(lh_store_leader *l);                      /* releases it; NULL: no-op */

/* The replicas' shared rows of a role (PostgreSQL: a table with one row per role and
 * replica; docs/sla.md "Replicas"). publish upserts this replica's row (data: text, at most
 * a few KB) stamped with the database's clock: 0, -1 with err, or 1 when the store is not
 * shared (SQLite: nothing published). peers reads the role's rows, the freshest first (at
 * most LH_STORE_PEERS_MAX), each with its age in seconds on the database's clock: 0 with
 * *out (free with lh_store_peers_free) and *n, -1 with err, or 1 when not shared. Both use
 * the role's own connection: the same thread as lh_store_leader_check. */
#define LH_STORE_PEERS_MAX 16
typedef struct lh_store_peer {
    char *replica;
    char *data;
    double age_s;
} lh_store_peer;
int lh_store_shared(const lh_store *st);   /* 1: several processes may share it (rows are published) */
int lh_store_leader_publish(lh_store_leader *l, const char *replica, const char *data, char *err, size_t errlen);
int lh_store_leader_peers(lh_store_leader *l, lh_store_peer **out, size_t *n, char *err, size_t errlen);
void lh_store_peers_free(lh_store_peer *p, size_t n);

/* ---------- Verifying ---------- */

typedef struct lh_store_verify_result {
    int ok;                   /* 1: the whole chain verifies */
    int64_t checked;          /* events checked */
    int64_t first_bad_seq;    /* when !ok: the first seq that does not verify (or is missing) */
    int64_t head_seq;         /* the recorded chain head */
    int key_rotations;
    char reason[512];         /* when !ok: what is wrong at first_bad_seq */
    /* The latest signed checkpoint outside the store (docs/store.md, "Cutting the tail"). */
    int checkpoint_found;     /* 0: no checkpoint file, or none in it */
    int64_t checkpoint_seq;   /* the head it witnessed */
    int64_t checkpoint_wall_ns; /* when it was written */
    int64_t unwitnessed;      /* events after it: only the store vouches for them */
    int64_t checkpoint_bad;   /* lines whose signature does not check (ignored) */
    int64_t checkpoint_cuts;  /* cuts accepted with LIGHTHOUSE_ACCEPT_CUT_LOG, recorded in the file */
    int64_t checkpoint_torn;  /* bytes of a torn last line (no newline: a write cut by a crash; ignored) */
    char checkpoint_path[4096];
} lh_store_verify_result;

/* Walk the chain from seq 1 and check: seqs dense, each MAC (with the key in force at
 * that point, following key.rotated events), the recorded head, and that the head is not
 * behind (or off) the latest signed checkpoint in the checkpoint file. Returns 0 when the
 * walk ran (result says whether it verified), -1 when it could not run (I/O error, or a
 * key needed for the chain is missing: "wrong key"). */
int lh_store_verify(lh_store *st, lh_store_verify_result *res, char *err, size_t errlen);

/* ---------- Stats ---------- */

typedef struct lh_store_type_count { char type[LH_STORE_MAX_TYPE + 1]; int64_t count; } lh_store_type_count;

typedef struct lh_store_stats {
    const char *backend;      /* "sqlite" or "postgres" (static string) */
    int64_t events;
    int64_t head_seq;
    int64_t first_time_ns, last_time_ns;
    int64_t bytes;            /* on-disk size of the store (SQLite: db + wal; PG: table size) */
    char key_fp[LH_STORE_FP_LEN + 1]; /* the chain's current key */
    int64_t appends_ok, appends_failed, commits; /* this process, since open */
    size_t ntypes;            /* the most frequent types, at most 32 */
    lh_store_type_count types[32];
} lh_store_stats;

int lh_store_stats_get(lh_store *st, lh_store_stats *out, char *err, size_t errlen);

/* ---------- Projections, snapshots, time travel ---------- */

/* A projection folds events into a JSON state. apply() is called for each event whose type
 * starts with type_prefix, in seq order, and edits *state (an object, initially {}). It
 * returns 0, or -1 with a message to stop the replay. Others define their own projections
 * the same way; see lh_projection_policy and lh_projection_tokens. */
typedef struct lh_projection {
    const char *name;         /* snapshot key: [a-z0-9_]+ */
    const char *type_prefix;  /* "policy." */
    int (*apply)(json_t *state, const lh_event *ev, char *err, size_t errlen);
} lh_projection;

/* Active policy revision: policy.activated and policy.rolled_back with data
 * {"revision": "..."} → state {"revision", "seq", "time_ns", "history": [...last 100]}. */
extern const lh_projection lh_projection_policy;
/* Tokens: token.issued {"token_id", "agent", "role", "expires_ns", ...} and token.revoked
 * {"token_id"} → state {"tokens": {token_id: {..., "issued_seq", "revoked": bool}}}. */
extern const lh_projection lh_projection_tokens;

/* The state of projection p as of seq as_of (0: the head): starts from the latest valid
 * snapshot at or before as_of, then replays the events after it. *state is the caller's
 * (json_decref); *at_seq (may be NULL) is the seq the state reflects. */
int lh_store_project(lh_store *st, const lh_projection *p, int64_t as_of, json_t **state,
                     int64_t *at_seq, char *err, size_t errlen);

/* Save p's state at the current head as a snapshot (MACed, so a tampered snapshot is
 * ignored and the state replayed from events instead). *seq (may be NULL) gets its seq. */
int lh_store_snapshot(lh_store *st, const lh_projection *p, int64_t *seq, char *err, size_t errlen);

/* ---------- Helpers shared with the CLI and the bridge ---------- */

/* Check and canonicalise JSON text: valid UTF-8, parses, nesting <= max_depth, then
 * compact with sorted keys. *out is malloc'd (caller frees). */
int lh_store_canonical_json(const char *json, size_t len, int max_depth, char **out,
                            char *err, size_t errlen);

/* Is s[0..len) valid UTF-8 (no overlongs, no surrogates, no NUL)? */
int lh_store_utf8_valid(const char *s, size_t len);

#endif

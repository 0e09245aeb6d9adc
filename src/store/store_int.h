/* store_int.h — what the store's front end (store.c) shares with its backends
 * (sqlite.c, postgres.c) and helpers (event.c, keyring.c, chain.c). Not for other layers:
 * they use store.h only. */
#ifndef LH_STORE_INT_H
#define LH_STORE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "store/store.h"
#include "util/arena.h"
#include "util/cond.h"

/* ---------- Errors ---------- */

/* snprintf into err (if any); always returns -1 so callers can `return lh_store_err(...)`. */
int lh_store_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---------- Keys ---------- */

#define LH_KEYRING_MAX 64
#define LH_CP_REASON 480

typedef struct lh_key {
    char fp[LH_STORE_FP_LEN + 1];
    unsigned char *bytes;
    size_t len;
} lh_key;

typedef struct lh_keyring {
    size_t n;
    lh_key k[LH_KEYRING_MAX];
    int from_file;                 /* keys came from <data>/secret (so rotation may add one) */
    char source[64];               /* "LIGHTHOUSE_SECRET", "the secret file", "options" */
    char path[PATH_MAX];           /* the secret file, when from_file */
} lh_keyring;

/* Parse a comma-separated key list into kr (appending). -1 on a key under the minimum. */
int lh_keyring_parse(lh_keyring *kr, const char *text, size_t len, const char *source, char *err, size_t errlen);
/* Load keys: opts_secret, else LIGHTHOUSE_SECRET, else <data_dir>/secret. When none exist
 * and may_create, create the file with one new random key. *found = number of keys. */
int lh_keyring_load(lh_keyring *kr, const char *opts_secret, const char *data_dir, int may_create,
                    char *err, size_t errlen);
/* Generate a key, append it to the secret file (fsynced), add it to kr. */
int lh_keyring_add_file_key(lh_keyring *kr, char *fp_out, char *err, size_t errlen);
const lh_key *lh_keyring_find(const lh_keyring *kr, const char *fp);
void lh_keyring_free(lh_keyring *kr);

/* ---------- MAC ---------- */

/* An HMAC-SHA256 context that remembers its key, so re-keying happens only on a change.
 * One per thread. */
typedef struct lh_mac lh_mac;
lh_mac *lh_mac_new(void);
void lh_mac_free(lh_mac *m);

/* The chained MAC of one event: HMAC(key, prev ‖ canonical bytes). See docs/store.md. */
int lh_mac_event(lh_mac *m, const lh_key *key, const unsigned char prev[LH_STORE_MAC_LEN],
                 const lh_event *ev, unsigned char out[LH_STORE_MAC_LEN]);
/* MAC of a snapshot: HMAC(key, "lighthouse.snapshot.v1" ‖ name ‖ seq ‖ state). */
int lh_mac_snapshot(lh_mac *m, const lh_key *key, const char *name, int64_t seq, const char *state,
                    unsigned char out[LH_STORE_MAC_LEN]);

/* ---------- Events ---------- */

/* A validated, canonicalised event waiting for its seq, time and mac. Strings are
 * NUL-terminated and owned by whoever built the batch. */
typedef struct lh_pending {
    lh_event ev;                   /* seq, time_ns, mac filled by lh_chain_seal */
    char rotate_to[LH_STORE_FP_LEN + 1]; /* key.rotated: the key in force after it */
} lh_pending;

/* Validate events[0..n) and build pending copies in arena a. Refuses the whole batch on
 * the first bad event, naming its index and what to fix. */
int lh_events_prepare(lh_store *st, const lh_event *events, size_t n, lh_arena *a, lh_pending *out,
                      char *err, size_t errlen);

/* The canonical form of JSON text json[0..len) (valid UTF-8, nesting checked) without
 * jansson: 1 with *out (malloc'd) when it is an object this rewriter fully understands,
 * else 0 and *out NULL: then jansson decides (lh_store_canonical_json does both). */
int lh_canonical_rewrite(const char *json, size_t len, int max_depth, char **out);

/* 1 when json[0..len) (valid UTF-8) is an object the fast path keeps as it is, being
 * jansson's canonical form already; 0 when the rewriter or jansson must look at it. For
 * tests: lh_store_canonical_json() calls it first. */
int lh_store_is_canonical(const char *json, size_t len, int max_depth);

/* Make a time-ordered UUID (v7) in out[37]. */
void lh_event_make_id(char out[37]);

/* The wall clock (CLOCK_REALTIME) in ns: event times and checkpoints. It can jump; for
 * durations the bridge has lh_mono_ns(). */
int64_t lh_wall_ns(void);
/* A deadline on CLOCK_MONOTONIC, for a condition variable made by lh_cond_init_monotonic
 * (util/cond.h). */
struct timespec lh_deadline_ms(long ms);

/* ---------- The chain head ---------- */

typedef struct lh_chain_head {
    int64_t seq;                   /* last seq (0: empty) */
    int64_t time_ns;               /* last time_ns */
    unsigned char mac[LH_STORE_MAC_LEN];
    char key_fp[LH_STORE_FP_LEN + 1];     /* key in force for the next event */
    char genesis_fp[LH_STORE_FP_LEN + 1]; /* key of seq 1 */
} lh_chain_head;

/* Give evs[0..n) seqs, times and macs after *head, advancing *head. Called by a backend
 * while it holds the chain's write lock. m is the caller thread's MAC context. -1 when the
 * key in force is not in the key set ("wrong key"). */
int lh_chain_seal(lh_store *st, lh_mac *m, lh_chain_head *head, lh_pending *evs, size_t n,
                  char *err, size_t errlen);

/* ---------- Group commit (groupq.c) ---------- */

/* One queued append. A waiting one lives on its appender's stack: once `done` is set the
 * committer must not touch it again (the appender may already have returned). An
 * asynchronous one (finished set) lives in its caller's arena until finished() is called. */
typedef struct lh_greq {
    lh_pending *evs;
    size_t n;
    int64_t *seqs;
    int rc;
    char err[256];
    struct lh_greq *next;
    _Atomic uint64_t gen;          /* the group it was taken into (0: still queued) */
    _Atomic int done;              /* 1 once rc, err and seqs are final */
    /* Asynchronous requests (lh_groupq_submit_async): called on the committer's thread once
     * rc, err and seqs are final, instead of waking a waiter. r is the caller's again after. */
    void (*finished)(struct lh_greq *r);
} lh_greq;

/* Commit reqs[0..n) in one transaction: seal every event (lh_chain_seal) and make them
 * durable. -1 with err on failure, *constraint = 1 when it was a duplicate id (the queue
 * then retries each request alone so only the offending one fails). */
typedef int (*lh_group_commit_fn)(void *ctx, lh_greq **reqs, size_t n, int *constraint, char *err, size_t errlen);

typedef struct lh_groupq {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    lh_greq *head, *tail;
    int stopping, started;
    int waiting;                   /* the committer waits on work_cv (so a submit must signal it) */
    /* Completion: groups are numbered 1, 2, ... as taken; appenders of group g sleep on the
     * futex word wake[g & 1], and the committer wakes them all with one FUTEX_WAKE. */
    _Atomic uint64_t taken, completed;
    _Atomic unsigned wake[2];
    pthread_t thread;
    lh_group_commit_fn commit;
    void (*committed)(void *ctx);  /* after each group (wake subscribers); may be NULL */
    void (*idle)(void *ctx);       /* once the queue has been empty for a while after work; may be NULL */
    void *ctx;
    struct lh_greq **group;        /* the committer's array of one group (its thread's alone) */
} lh_groupq;

int lh_groupq_start(lh_groupq *q, lh_group_commit_fn commit, void (*committed)(void *), void (*idle)(void *),
                    void *ctx, char *err, size_t errlen);
/* Queue a batch and wait until its group committed (0) or failed (-1, err). */
int lh_groupq_submit(lh_groupq *q, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen);
/* Queue r (evs, n, seqs and finished set by the caller; the rest zero) without waiting:
 * r->finished(r) is called on the committer's thread when its group committed or failed.
 * -1 with err, and no call, when the queue is stopping. */
int lh_groupq_submit_async(lh_groupq *q, lh_greq *r, char *err, size_t errlen);
/* Finish what is queued (calling every asynchronous request's finished), then stop the thread. */
void lh_groupq_stop(lh_groupq *q);

/* ---------- Backends ---------- */

typedef struct lh_sub_be lh_sub_be;

typedef struct lh_backend_ops {
    const char *name;
    /* Connect; unless read-only, create/migrate the schema. Sets st->be. */
    int (*open)(lh_store *st, const lh_store_options *o, char *err, size_t errlen);
    /* Read the chain head; *exists = 0 for a store never initialised. */
    int (*head)(lh_store *st, lh_chain_head *h, int *exists, char *err, size_t errlen);
    /* Create the genesis head (seq 0, zero mac, key fp) if there is none yet. */
    int (*init_head)(lh_store *st, const char *key_fp, char *err, size_t errlen);
    /* Append atomically and durably; fills seqs. */
    int (*append)(lh_store *st, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen);
    /* The same without waiting: r->finished(r) is called once it is durable or failed. */
    int (*append_async)(lh_store *st, lh_greq *r, char *err, size_t errlen);
    int (*query)(lh_store *st, const lh_store_filter *f, lh_event_list *out, char *err, size_t errlen);
    int (*count)(lh_store *st, const lh_store_filter *f, int64_t *n, char *err, size_t errlen);
    int (*seq_at_time)(lh_store *st, int64_t t_ns, int64_t *seq, char *err, size_t errlen);
    int (*stats)(lh_store *st, lh_store_stats *s, char *err, size_t errlen);
    int (*snap_put)(lh_store *st, const char *name, int64_t seq, const char *state, const char *key_fp,
                    const unsigned char mac[LH_STORE_MAC_LEN], char *err, size_t errlen);
    /* Latest snapshot of name with seq <= max_seq; *found = 0 when none. *state malloc'd. */
    int (*snap_get)(lh_store *st, const char *name, int64_t max_seq, int64_t *seq, char **state,
                    char key_fp[LH_STORE_FP_LEN + 1], unsigned char mac[LH_STORE_MAC_LEN], int *found,
                    char *err, size_t errlen);
    int (*sub_open)(lh_store *st, lh_sub_be **out, char *err, size_t errlen);
    /* Wait up to timeout_ms for a sign of new events (spurious wake-ups are fine). */
    int (*sub_wait)(lh_store *st, lh_sub_be *s, int timeout_ms, char *err, size_t errlen);
    void (*sub_close)(lh_store *st, lh_sub_be *s);
    void (*close)(lh_store *st);
    /* Optional (NULL: reads are not pinned). Between read_begin and read_end, this thread's
     * head, query and count calls see one snapshot of the store, so a commit by another
     * process or replica between two of them cannot look like damage (a head behind its
     * tail). Nests
     * by counting; only the outermost pair opens and closes. Writes are not allowed inside. */
    int (*read_begin)(lh_store *st, char *err, size_t errlen);
    void (*read_end)(lh_store *st);
    /* Optional (NULL: the role is always held here). *state starts NULL and is the
     * backend's; leader_check returns 1 held, 0 not; leader_free releases and frees it. */
    int (*leader_check)(lh_store *st, void **state, int64_t key, char *err, size_t errlen);
    void (*leader_free)(lh_store *st, void *state);
    /* Optional (NULL: one process, nothing to share): the role's table of replicas' rows
     * (lh_store_leader_publish, lh_store_leader_peers), on the role's connection. */
    int (*leader_publish)(lh_store *st, void **state, int64_t key, const char *replica, const char *data, char *err,
                          size_t errlen);
    int (*leader_peers)(lh_store *st, void **state, int64_t key, lh_store_peer **out, size_t *n, char *err,
                        size_t errlen);
} lh_backend_ops;

/* Test hook (NULL in production): called in lh_store_open (the tail check and the
 * checkpoint check) and lh_store_verify right after the chain head was read, before its tail
 * (or the event a checkpoint witnessed) is, so a test can commit in between. */
extern void (*lh_store_test_after_head)(lh_store *st);

extern const lh_backend_ops lh_store_sqlite_ops;
extern const lh_backend_ops lh_store_postgres_ops;

struct lh_store {
    lh_store_backend backend;
    const lh_backend_ops *ops;
    void *be;
    unsigned flags;
    size_t max_event_bytes;
    int max_json_depth;
    char data_dir[PATH_MAX];
    pthread_mutex_t keys_lock;     /* guards keys while a key is added */
    lh_keyring keys;
    _Atomic int64_t appends_ok, appends_failed, commits;
    /* Checkpoints of the head outside the store (witness.c). */
    char cp_path[PATH_MAX];        /* "" : none */
    int cp_started, cp_stop, cp_warned, cp_interval_ms;
    int64_t cp_last_seq;           /* seq of this process's last checkpoint (-1: none) */
    pthread_t cp_thread;
    pthread_mutex_t cp_mu;
    pthread_cond_t cp_cv;
};

/* ---------- Checkpoints (witness.c) ---------- */

typedef struct lh_checkpoint {
    int64_t seq, time_ns, wall_ns;
    unsigned char mac[LH_STORE_MAC_LEN];
    char key_fp[LH_STORE_FP_LEN + 1];
    int cut;                       /* an accepted cut (LIGHTHOUSE_ACCEPT_CUT_LOG) */
} lh_checkpoint;

typedef struct lh_cp_scan {
    int found;                     /* best is set: the highest signed checkpoint since the last cut line */
    lh_checkpoint best;
    int unknown_found;             /* unknown: the highest one signed with a key not held */
    lh_checkpoint unknown;
    int64_t lines, bad, cuts;      /* bad: not a checkpoint, or its signature does not check */
    int64_t torn;                  /* bytes after the last newline: a write cut by a crash (ignored) */
} lh_cp_scan;

typedef struct lh_cp_verdict {
    int cut;                       /* the store's head is behind or off the witnessed one */
    int64_t first_missing, witnessed_seq;
    int64_t unwitnessed;           /* events after the checkpoint: only the store vouches for them */
    char reason[LH_CP_REASON];
} lh_cp_verdict;

/* Resolve the checkpoint file: options, LIGHTHOUSE_CHECKPOINTS ("off": none), else <data>.checkpoints. */
int lh_witness_path(lh_store *st, const lh_store_options *o, char *err, size_t errlen);
/* Read every line of the checkpoint file (a missing file is no checkpoint). */
int lh_witness_scan(lh_store *st, lh_cp_scan *s, char *err, size_t errlen);
/* Compare the head h (NULL: empty store) with the scan. -1 only when the store cannot be read. */
int lh_witness_check(lh_store *st, const lh_chain_head *h, const lh_cp_scan *s, lh_cp_verdict *v,
                     char *err, size_t errlen);
/* Writable stores: refuse a cut log (unless accepted), checkpoint now, start the schedule. */
int lh_witness_open(lh_store *st, const lh_store_options *o, char *err, size_t errlen);
/* Stop the schedule and write the last checkpoint. */
void lh_witness_close(lh_store *st);

/* Helpers for building result lists (event.c). */
int lh_event_list_init(lh_event_list *l, size_t cap);
/* Append one event, copying strings into the list. */
int lh_event_list_push(lh_event_list *l, int64_t seq, int64_t time_ns, const char *id, const char *type,
                       const char *agent, const char *aggregate, const char *data, size_t data_len,
                       const unsigned char *mac, size_t mac_len);

/* Default and bounded query limit. */
size_t lh_filter_limit(const lh_store_filter *f);
/* "policy.*" → lo "policy.", hi "policy/" (the range of the prefix); 0 if not a prefix. */
int lh_type_prefix_range(const char *type, char *lo, char *hi, size_t cap);

#endif

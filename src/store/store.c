/* store.c — the store's front end: opening, keys, validation, verification, subscriptions,
 * projections. Backends (sqlite.c, postgres.c) only move bytes; the chain's rules live here
 * and in event.c, so both backends verify the same way. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ============================== Opening ============================== */

int lh_store_backend_parse(const char *name, lh_store_backend *out, char *err, size_t errlen) {
    if (name && !strcmp(name, "sqlite")) { *out = LH_STORE_SQLITE; return 0; }
    if (name && (!strcmp(name, "postgres") || !strcmp(name, "postgresql") || !strcmp(name, "pg"))) {
        *out = LH_STORE_POSTGRES;
        return 0;
    }
    return lh_store_err(err, errlen, "unknown store backend '%s'; use sqlite or postgres", name ? name : "");
}

/* Make dir p (a new one: its entry in its parent is durable only once the parent is
 * fsynced, or a power cut can take the directory, and the secret file in it, away). */
static int makeDir(char *p, char *err, size_t errlen) {
    if (mkdir(p, 0700) < 0) {
        if (errno == EEXIST) return 0;
        return lh_store_err(err, errlen, "cannot create %s: %s", p, strerror(errno));
    }
    char *slash = strrchr(p, '/');
    const char *parent = ".";
    if (slash == p) parent = "/";
    else if (slash) { *slash = 0; parent = p; }
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);   /* best effort, as keyring.c's syncDir */
    if (fd >= 0) { fsync(fd); close(fd); }
    if (slash && slash != p) *slash = '/';
    return 0;
}

static int mkdirs(const char *dir, char *err, size_t errlen) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) return lh_store_err(err, errlen, "path too long");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (makeDir(p, err, errlen) < 0) return -1;
        *s = '/';
    }
    return makeDir(p, err, errlen);
}

/* Start-up check of the tail: the last event matches the recorded head and its MAC chains
 * from the event before. A store whose tail does not verify is not extended. */
static int checkTail(lh_store *st, const lh_chain_head *h, char *err, size_t errlen) {
    if (h->seq == 0) return 0;
    lh_store_filter f = {.descending = 1, .limit = 2};
    lh_event_list l;
    if (st->ops->query(st, &f, &l, err, errlen) < 0) { lh_event_list_free(&l); return -1; }
    int rc = 0;
    if (l.n == 0 || l.events[0].seq != h->seq || memcmp(l.events[0].mac, h->mac, LH_STORE_MAC_LEN)) {
        rc = lh_store_err(err, errlen, "the chain's tail does not match its recorded head (seq %lld); run "
                          "`lighthouse events verify` to find the damage", (long long)h->seq);
    } else {
        const lh_event *last = &l.events[0];
        unsigned char prev[LH_STORE_MAC_LEN] = {0}, mac[LH_STORE_MAC_LEN];
        if (l.n == 2) memcpy(prev, l.events[1].mac, LH_STORE_MAC_LEN);
        const char *fp = h->key_fp;
        char from[LH_STORE_FP_LEN + 1];
        if (!strcmp(last->type, "key.rotated")) {
            json_t *d = json_loads(last->data, 0, NULL);
            const char *s = json_string_value(json_object_get(d, "from"));
            snprintf(from, sizeof(from), "%s", s ? s : "");
            json_decref(d);
            fp = from;
        }
        const lh_key *k = lh_keyring_find(&st->keys, fp); /* a rotation is MACed with its "from" key */
        lh_mac *m = lh_mac_new();
        if (k && m && lh_mac_event(m, k, prev, last, mac) == 0 && memcmp(mac, last->mac, LH_STORE_MAC_LEN))
            rc = lh_store_err(err, errlen, "the last event (seq %lld) does not verify; run `lighthouse events "
                              "verify`", (long long)last->seq);
        lh_mac_free(m);
    }
    lh_event_list_free(&l);
    return rc;
}

/* verify_chain: the whole chain is walked before the store is used (a flipped byte in an
 * old event is invisible to checkTail). A chain that does not verify is refused unless the
 * caller accepts it, which is said on stderr each time. */
static int verifyAtOpen(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    lh_store_verify_result *r = calloc(1, sizeof(*r));
    if (!r) return lh_store_err(err, errlen, "out of memory");
    int rc = lh_store_verify(st, r, err, errlen);
    if (rc == 0 && !r->ok) {
        const char *acc = getenv("LIGHTHOUSE_ACCEPT_BROKEN_CHAIN");
        if (o->accept_broken || (acc && !strcmp(acc, "1")))
            fprintf(stderr, "lighthouse store: accepting a chain that does not verify "
                    "(LIGHTHOUSE_ACCEPT_BROKEN_CHAIN): at seq %lld: %s\n", (long long)r->first_bad_seq, r->reason);
        else
            rc = lh_store_err(err, errlen, "refusing a chain that does not verify: at seq %lld: %s (%lld events "
                              "before it verified); run `lighthouse events verify`, and set "
                              "LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1 to start on this store anyway",
                              (long long)r->first_bad_seq, r->reason, (long long)r->checked);
    }
    free(r);
    return rc;
}

void (*lh_store_test_after_head)(lh_store *st);

/* Pin this thread's reads to one snapshot (both backends have one), so a head and the
 * events read after it agree even while another process or replica commits. */
static int readBegin(lh_store *st, char *err, size_t errlen) {
    return st->ops->read_begin ? st->ops->read_begin(st, err, errlen) : 0;
}

static void readEnd(lh_store *st) {
    if (st->ops->read_end) st->ops->read_end(st);
}

/* The head and the tail in one snapshot: read separately, another process's or replica's
 * commit between the two made the tail run past the head and the open fail as if the log
 * were damaged ("the chain's tail does not match its recorded head"). */
static int checkHeadTail(lh_store *st, char *err, size_t errlen) {
    lh_chain_head h;
    int exists = 0;
    if (readBegin(st, err, errlen) < 0) return -1;
    int rc = st->ops->head(st, &h, &exists, err, errlen);
    if (rc == 0 && lh_store_test_after_head) lh_store_test_after_head(st);
    if (rc == 0 && !exists) rc = lh_store_err(err, errlen, "the chain head disappeared while opening the store");
    if (rc == 0 && !lh_keyring_find(&st->keys, h.key_fp))
        rc = lh_store_err(err, errlen, "wrong key: this store's chain uses key %s, but %s holds %s%s; use "
                          "the key the store was written with", h.key_fp, st->keys.source, st->keys.k[0].fp,
                          st->keys.n > 1 ? " (and others)" : "");
    if (rc == 0) rc = checkTail(st, &h, err, errlen);
    readEnd(st);
    return rc;
}

static int setupKeys(lh_store *st, const lh_store_options *o, char *err, size_t errlen) {
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    int ro = (st->flags & LH_STORE_READONLY) != 0;
    const char *dir = st->data_dir[0] ? st->data_dir : NULL;
    if (lh_keyring_load(&st->keys, o->secret, dir, !ro && !exists, err, errlen) < 0) return -1;
    if (ro) return 0; /* verify reports missing keys; queries need none */
    if (st->keys.n == 0)
        return lh_store_err(err, errlen, exists ? "no key: this store's chain uses key %s; set LIGHTHOUSE_SECRET "
                            "or restore <data>/secret" : "no key: set LIGHTHOUSE_SECRET or give a data "
                            "directory (--data) for the secret file%s", exists ? h.key_fp : "");
    if (!exists && st->ops->init_head(st, st->keys.k[st->keys.n - 1].fp, err, errlen) < 0) return -1;
    return checkHeadTail(st, err, errlen);
}

lh_store *lh_store_open(const lh_store_options *o, char *err, size_t errlen) {
    if (!o) { lh_store_err(err, errlen, "no options"); return NULL; }
    const lh_backend_ops *ops = NULL;
    if (o->backend == LH_STORE_SQLITE) ops = &lh_store_sqlite_ops;
    else if (o->backend == LH_STORE_POSTGRES) ops = &lh_store_postgres_ops;
    else { lh_store_err(err, errlen, "unknown store backend %d; use sqlite or postgres", (int)o->backend); return NULL; }
    if (o->backend == LH_STORE_SQLITE && (!o->data_dir || !*o->data_dir)) {
        lh_store_err(err, errlen, "the sqlite store needs a data directory (--data DIR)");
        return NULL;
    }
    if (o->backend == LH_STORE_POSTGRES && (!o->conninfo || !*o->conninfo)) {
        lh_store_err(err, errlen, "the postgres store needs a connection string (--pg CONNINFO)");
        return NULL;
    }
    if (o->data_dir && strlen(o->data_dir) > PATH_MAX - 32) {
        lh_store_err(err, errlen, "data directory path too long");
        return NULL;
    }
    lh_store *st = calloc(1, sizeof(*st));
    if (!st) { lh_store_err(err, errlen, "out of memory"); return NULL; }
    st->backend = o->backend;
    st->ops = ops;
    st->flags = o->flags;
    st->max_event_bytes = o->max_event_bytes ? o->max_event_bytes : LH_STORE_MAX_EVENT_BYTES_DEFAULT;
    st->max_json_depth = o->max_json_depth > 0 ? o->max_json_depth : LH_STORE_MAX_JSON_DEPTH_DEFAULT;
    pthread_mutex_init(&st->keys_lock, NULL);
    if (o->data_dir) snprintf(st->data_dir, sizeof(st->data_dir), "%s", o->data_dir);
    if (o->data_dir && !(o->flags & LH_STORE_READONLY) && mkdirs(o->data_dir, err, errlen) < 0) goto fail;
    if (ops->open(st, o, err, errlen) < 0) goto fail;
    if (setupKeys(st, o, err, errlen) < 0) goto fail;
    if (lh_witness_path(st, o, err, errlen) < 0 || lh_witness_open(st, o, err, errlen) < 0) goto fail;
    if (o->verify_chain && verifyAtOpen(st, o, err, errlen) < 0) goto fail;
    return st;
fail:
    lh_store_close(st);
    return NULL;
}

void lh_store_close(lh_store *st) {
    if (!st) return;
    if (st->be) lh_witness_close(st);
    if (st->be) st->ops->close(st);
    lh_keyring_free(&st->keys);
    pthread_mutex_destroy(&st->keys_lock);
    free(st);
}

/* ============================== Appending ============================== */

int lh_store_append(lh_store *st, const lh_event *events, size_t n, int64_t *seqs, char *err, size_t errlen) {
    if (st->flags & LH_STORE_READONLY) return lh_store_err(err, errlen, "the store is open read-only");
    if (n == 0 || n > LH_STORE_MAX_BATCH)
        return lh_store_err(err, errlen, "a batch holds 1 to %d events, not %zu", LH_STORE_MAX_BATCH, n);
    lh_arena *a = lh_arena_new(4096);
    lh_pending *p = a ? lh_arena_calloc(a, n * sizeof(*p)) : NULL;
    int64_t one[1], *out = seqs ? seqs : (n == 1 ? one : (a ? lh_arena_alloc(a, n * sizeof(int64_t)) : NULL));
    if (!p || !out) {
        lh_arena_free(a);
        return lh_store_err(err, errlen, "out of memory");
    }
    int rc = lh_events_prepare(st, events, n, a, p, err, errlen);
    if (rc == 0) rc = st->ops->append(st, p, n, out, err, errlen);
    lh_arena_free(a);
    if (rc == 0) atomic_fetch_add(&st->appends_ok, (int64_t)n);
    else atomic_fetch_add(&st->appends_failed, (int64_t)n);
    return rc;
}

/* An asynchronous append: the queue's request, and whom to tell. In the caller's arena. */
typedef struct asyncAppend {
    lh_greq r;                  /* first: the queue hands back &r */
    lh_store *st;
    lh_store_done_fn done;
    void *arg;
} asyncAppend;

static void asyncFinished(lh_greq *r) {
    asyncAppend *op = (asyncAppend *)r;
    atomic_fetch_add(r->rc == 0 ? &op->st->appends_ok : &op->st->appends_failed, (int64_t)r->n);
    op->done(op->arg, r->rc, r->rc ? r->err : NULL);
}

int lh_store_append_async(lh_store *st, const lh_event *events, size_t n, int64_t *seqs, lh_arena *a,
                          lh_store_done_fn done, void *arg, char *err, size_t errlen) {
    if (st->flags & LH_STORE_READONLY) return lh_store_err(err, errlen, "the store is open read-only");
    if (n == 0 || n > LH_STORE_MAX_BATCH)
        return lh_store_err(err, errlen, "a batch holds 1 to %d events, not %zu", LH_STORE_MAX_BATCH, n);
    if (!seqs || !a || !done) return lh_store_err(err, errlen, "an asynchronous append needs seqs, an arena and done");
    lh_pending *p = lh_arena_calloc(a, n * sizeof(*p));
    asyncAppend *op = lh_arena_calloc(a, sizeof(*op));
    if (!p || !op) return lh_store_err(err, errlen, "out of memory");
    if (lh_events_prepare(st, events, n, a, p, err, errlen) < 0) {
        atomic_fetch_add(&st->appends_failed, (int64_t)n);
        return -1;
    }
    op->r.evs = p;
    op->r.n = n;
    op->r.seqs = seqs;
    op->r.finished = asyncFinished;
    op->st = st;
    op->done = done;
    op->arg = arg;
    if (st->ops->append_async(st, &op->r, err, errlen) < 0) {
        atomic_fetch_add(&st->appends_failed, (int64_t)n);
        return -1;
    }
    return 0;
}

int lh_store_rotate_key(lh_store *st, const char *new_fp, int64_t *seq, char *err, size_t errlen) {
    if (st->flags & LH_STORE_READONLY) return lh_store_err(err, errlen, "the store is open read-only");
    pthread_mutex_lock(&st->keys_lock);
    const lh_key *k = new_fp ? lh_keyring_find(&st->keys, new_fp) : NULL;
    pthread_mutex_unlock(&st->keys_lock);
    if (!k)
        return lh_store_err(err, errlen, "key %s is not in %s; add it there first", new_fp ? new_fp : "(none)",
                            st->keys.source);
    lh_chain_head h;
    int exists;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    if (!strcmp(h.key_fp, new_fp)) return lh_store_err(err, errlen, "key %s is already in force", new_fp);
    char id[37], data[128];
    lh_event_make_id(id);
    /* "from" is informative (verify follows the chain's own state); "to" switches the key. */
    snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\"}", h.key_fp, new_fp);
    lh_pending p;
    memset(&p, 0, sizeof(p));
    p.ev.id = id;
    p.ev.type = "key.rotated";
    p.ev.agent = "";
    p.ev.aggregate = "key";
    p.ev.data = data;
    snprintf(p.rotate_to, sizeof(p.rotate_to), "%s", new_fp);
    int64_t s = 0;
    if (st->ops->append(st, &p, 1, &s, err, errlen) < 0) return -1;
    if (seq) *seq = s;
    return 0;
}

int lh_store_add_file_key(lh_store *st, char *fp_out, char *err, size_t errlen) {
    pthread_mutex_lock(&st->keys_lock);
    int rc = lh_keyring_add_file_key(&st->keys, fp_out, err, errlen);
    pthread_mutex_unlock(&st->keys_lock);
    return rc;
}

/* ============================== Querying ============================== */

static int checkFilter(const lh_store_filter *f, char *err, size_t errlen) {
    if (!f) return 0;
    if (f->type && strlen(f->type) > LH_STORE_MAX_TYPE) return lh_store_err(err, errlen, "type filter too long");
    if (f->agent && strlen(f->agent) > LH_STORE_MAX_NAME) return lh_store_err(err, errlen, "agent filter too long");
    if (f->aggregate && strlen(f->aggregate) > LH_STORE_MAX_NAME)
        return lh_store_err(err, errlen, "aggregate filter too long");
    if (f->after_seq < 0 || f->before_seq < 0) return lh_store_err(err, errlen, "seq bounds must be >= 0");
    return 0;
}

int lh_store_query(lh_store *st, const lh_store_filter *f, lh_event_list *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    lh_store_filter none = {0};
    if (checkFilter(f, err, errlen) < 0) return -1;
    return st->ops->query(st, f ? f : &none, out, err, errlen);
}

int lh_store_count(lh_store *st, const lh_store_filter *f, int64_t *count, char *err, size_t errlen) {
    lh_store_filter none = {0};
    if (checkFilter(f, err, errlen) < 0) return -1;
    return st->ops->count(st, f ? f : &none, count, err, errlen);
}

int lh_store_seq_at_time(lh_store *st, int64_t t_ns, int64_t *seq, char *err, size_t errlen) {
    return st->ops->seq_at_time(st, t_ns, seq, err, errlen);
}

/* ============================== Subscribing ============================== */

struct lh_store_sub {
    lh_store *st;
    int64_t cursor;
    lh_sub_be *be;
    char type[LH_STORE_MAX_TYPE + 1]; /* "" : every type */
};

int lh_store_subscribe(lh_store *st, int64_t after_seq, lh_store_sub **out, char *err, size_t errlen) {
    *out = NULL;
    lh_store_sub *s = calloc(1, sizeof(*s));
    if (!s) return lh_store_err(err, errlen, "out of memory");
    s->st = st;
    s->cursor = after_seq < 0 ? 0 : after_seq;
    if (st->ops->sub_open(st, &s->be, err, errlen) < 0) { free(s); return -1; }
    *out = s;
    return 0;
}

static int64_t monoMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lh_store_sub_next(lh_store_sub *s, int timeout_ms, size_t limit, lh_event_list *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : monoMs() + timeout_ms;
    for (;;) {
        lh_store_filter f = {.after_seq = s->cursor, .limit = limit ? limit : 100, .type = s->type[0] ? s->type : NULL};
        if (lh_store_query(s->st, &f, out, err, errlen) < 0) return -1;
        if (out->n > 0) {
            s->cursor = out->events[out->n - 1].seq;
            return 0;
        }
        lh_event_list_free(out);
        int64_t now = monoMs();
        if (now >= deadline) return 0;
        int64_t left = deadline - now;
        if (s->st->ops->sub_wait(s->st, s->be, left > 1000 ? 1000 : (int)left, err, errlen) < 0) return -1;
    }
}

int lh_store_sub_filter(lh_store_sub *s, const char *type, char *err, size_t errlen) {
    if (type && strlen(type) > LH_STORE_MAX_TYPE) return lh_store_err(err, errlen, "type filter too long");
    snprintf(s->type, sizeof(s->type), "%s", type ? type : "");
    return 0;
}

void lh_store_sub_close(lh_store_sub *s) {
    if (!s) return;
    if (s->be) s->st->ops->sub_close(s->st, s->be);
    free(s);
}

/* ============================== Leadership ============================== */

struct lh_store_leader {
    lh_store *st;
    int64_t key;
    void *state;                   /* the backend's (PostgreSQL: its connection) */
};

lh_store_leader *lh_store_leader_new(lh_store *st, int64_t key) {
    lh_store_leader *l = calloc(1, sizeof(*l));
    if (l) { l->st = st; l->key = key; }
    return l;
}

int lh_store_leader_check(lh_store_leader *l, char *err, size_t errlen) {
    if (!l->st->ops->leader_check) return 1;
    return l->st->ops->leader_check(l->st, &l->state, l->key, err, errlen);
}

int lh_store_shared(const lh_store *st) { return st->ops->leader_publish != NULL; }

int lh_store_leader_publish(lh_store_leader *l, const char *replica, const char *data, char *err, size_t errlen) {
    if (!l->st->ops->leader_publish) return 1;
    return l->st->ops->leader_publish(l->st, &l->state, l->key, replica, data, err, errlen);
}

int lh_store_leader_peers(lh_store_leader *l, lh_store_peer **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (!l->st->ops->leader_peers) return 1;
    return l->st->ops->leader_peers(l->st, &l->state, l->key, out, n, err, errlen);
}

void lh_store_peers_free(lh_store_peer *p, size_t n) {
    for (size_t i = 0; p && i < n; i++) { free(p[i].replica); free(p[i].data); }
    free(p);
}

void lh_store_leader_free(lh_store_leader *l) {
    if (!l) return;
    if (l->state && l->st->ops->leader_free) l->st->ops->leader_free(l->st, l->state);
    free(l);
}

/* ============================== Verifying ============================== */

static int badAt(lh_store_verify_result *r, int64_t seq, const char *fmt, const char *a) {
    r->ok = 0;
    r->first_bad_seq = seq;
    snprintf(r->reason, sizeof(r->reason), fmt, a ? a : "");
    return 0;
}

/* The head against the latest checkpoint outside the store (read before the head: see
 * lh_store_verify): a cut tail shows there only. */
static int verifyWitness(lh_store *st, const lh_chain_head *h, const lh_cp_scan *s, lh_store_verify_result *r,
                         char *err, size_t errlen) {
    snprintf(r->checkpoint_path, sizeof(r->checkpoint_path), "%s", st->cp_path);
    lh_cp_verdict v;
    if (lh_witness_check(st, h, s, &v, err, errlen) < 0) return -1;
    r->checkpoint_bad = s->bad;
    r->checkpoint_cuts = s->cuts;
    r->checkpoint_torn = s->torn;
    r->checkpoint_found = s->found;
    r->checkpoint_seq = s->found ? s->best.seq : 0;
    r->checkpoint_wall_ns = s->found ? s->best.wall_ns : 0;
    r->unwitnessed = v.unwitnessed;
    if (v.cut && (r->ok || v.first_missing < r->first_bad_seq)) {
        r->ok = 0;
        r->first_bad_seq = v.first_missing;
        snprintf(r->reason, sizeof(r->reason), "%s", v.reason);
    }
    return 0;
}

static int verifyPinned(lh_store *st, const lh_cp_scan *scan, lh_store_verify_result *r, char *err, size_t errlen);

/* The whole walk runs in one snapshot: pages read while other writers commit would
 * otherwise show events "after the recorded chain head". The checkpoint file is read
 * before that snapshot is taken: a checkpoint witnesses a committed head, so every one in
 * the file is then at or behind the snapshot's head. Read after it, a writer's checkpoint
 * of a commit the snapshot does not see looked like a cut tail. */
int lh_store_verify(lh_store *st, lh_store_verify_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof(*r));
    lh_cp_scan scan;
    if (lh_witness_scan(st, &scan, err, errlen) < 0) return -1;
    if (readBegin(st, err, errlen) < 0) return -1;
    int rc = verifyPinned(st, &scan, r, err, errlen);
    readEnd(st);
    return rc;
}

static int verifyPinned(lh_store *st, const lh_cp_scan *scan, lh_store_verify_result *r, char *err, size_t errlen) {
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    if (lh_store_test_after_head) lh_store_test_after_head(st);
    r->head_seq = exists ? h.seq : 0;
    if (!exists) { r->ok = 1; return verifyWitness(st, NULL, scan, r, err, errlen); }
    if (st->keys.n == 0)
        return lh_store_err(err, errlen, "no key to verify with: set LIGHTHOUSE_SECRET or keep <data>/secret "
                            "(the chain starts with key %s)", h.genesis_fp);
    const lh_key *key = lh_keyring_find(&st->keys, h.genesis_fp);
    if (!key)
        return lh_store_err(err, errlen, "wrong key: the chain starts with key %s, but %s holds %s; use the "
                            "key the store was written with", h.genesis_fp, st->keys.source, st->keys.k[0].fp);
    lh_mac *m = lh_mac_new();
    if (!m) return lh_store_err(err, errlen, "out of memory");
    unsigned char prev[LH_STORE_MAC_LEN] = {0}, mac[LH_STORE_MAC_LEN];
    int64_t expect = 1;
    int rc = 0;
    r->ok = 1;
    char note[160];
    while (r->ok) {
        lh_store_filter f = {.after_seq = expect - 1, .limit = LH_STORE_MAX_LIMIT};
        lh_event_list l;
        if (st->ops->query(st, &f, &l, err, errlen) < 0) { lh_event_list_free(&l); rc = -1; break; }
        if (l.n == 0) { lh_event_list_free(&l); break; }
        for (size_t i = 0; i < l.n && r->ok; i++) {
            const lh_event *ev = &l.events[i];
            if (ev->seq != expect) {
                snprintf(note, sizeof(note), "seq %lld is missing (the next event present is seq %lld)",
                         (long long)expect, (long long)ev->seq);
                badAt(r, expect, "%s", note);
                break;
            }
            if (lh_mac_event(m, key, prev, ev, mac) < 0 || memcmp(mac, ev->mac, LH_STORE_MAC_LEN)) {
                badAt(r, ev->seq, "%s", "MAC mismatch: the event was changed, or an event before it was "
                      "removed or reordered");
                break;
            }
            if (!strcmp(ev->type, "key.rotated")) {
                json_t *d = json_loads(ev->data, 0, NULL);
                const char *to = json_string_value(json_object_get(d, "to"));
                const lh_key *nk = to ? lh_keyring_find(&st->keys, to) : NULL;
                if (!nk) {
                    rc = lh_store_err(err, errlen, "wrong key: the chain rotated to key %s at seq %lld, and %s "
                                      "does not hold it", to ? to : "?", (long long)ev->seq, st->keys.source);
                    json_decref(d);
                    r->ok = 0;
                    break;
                }
                json_decref(d);
                key = nk;
                r->key_rotations++;
            }
            memcpy(prev, ev->mac, LH_STORE_MAC_LEN);
            r->checked++;
            expect++;
        }
        lh_event_list_free(&l);
    }
    if (rc == 0 && r->ok) {
        int64_t last = expect - 1;
        if (h.seq > last) {
            snprintf(note, sizeof(note), "seq %lld is missing (the recorded chain head is seq %lld)",
                     (long long)last + 1, (long long)h.seq);
            badAt(r, last + 1, "%s", note);
        } else if (h.seq < last) {
            badAt(r, h.seq + 1, "%s", "event after the recorded chain head");
        } else if (memcmp(h.mac, prev, LH_STORE_MAC_LEN)) {
            badAt(r, h.seq, "%s", "the last event's MAC differs from the recorded chain head");
        } else if (strcmp(h.key_fp, key->fp)) {
            badAt(r, h.seq, "%s", "the recorded key in force differs from the chain's rotations");
        }
    }
    if (rc == 0) rc = verifyWitness(st, &h, scan, r, err, errlen);
    lh_mac_free(m);
    return rc;
}

/* ============================== Stats ============================== */

int lh_store_stats_get(lh_store *st, lh_store_stats *s, char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    s->backend = st->ops->name;
    if (st->ops->stats(st, s, err, errlen) < 0) return -1;
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    if (exists) {
        s->head_seq = h.seq;
        snprintf(s->key_fp, sizeof(s->key_fp), "%s", h.key_fp);
    }
    s->appends_ok = atomic_load(&st->appends_ok);
    s->appends_failed = atomic_load(&st->appends_failed);
    s->commits = atomic_load(&st->commits);
    return 0;
}

/* ============================== Projections ============================== */

/* Replay events (after, upto] of p's type into state. */
static int replay(lh_store *st, const lh_projection *p, json_t *state, int64_t after, int64_t upto,
                  char *err, size_t errlen) {
    char type[LH_STORE_MAX_TYPE + 4];
    snprintf(type, sizeof(type), "%s*", p->type_prefix);
    while (after < upto) {
        lh_store_filter f = {.type = type, .after_seq = after, .before_seq = upto + 1, .limit = LH_STORE_MAX_LIMIT};
        lh_event_list l;
        if (lh_store_query(st, &f, &l, err, errlen) < 0) { lh_event_list_free(&l); return -1; }
        if (l.n == 0) { lh_event_list_free(&l); break; }
        for (size_t i = 0; i < l.n; i++) {
            if (p->apply(state, &l.events[i], err, errlen) < 0) { lh_event_list_free(&l); return -1; }
        }
        after = l.cursor;
        lh_event_list_free(&l);
    }
    return 0;
}

int lh_store_project(lh_store *st, const lh_projection *p, int64_t as_of, json_t **state, int64_t *at_seq,
                     char *err, size_t errlen) {
    *state = NULL;
    lh_chain_head h;
    int exists = 0;
    if (st->ops->head(st, &h, &exists, err, errlen) < 0) return -1;
    int64_t upto = exists ? h.seq : 0;
    if (as_of > 0 && as_of < upto) upto = as_of;
    json_t *s = NULL;
    int64_t from = 0;
    char *snap = NULL, fp[LH_STORE_FP_LEN + 1] = "";
    unsigned char mac[LH_STORE_MAC_LEN], want[LH_STORE_MAC_LEN];
    int found = 0;
    int64_t sseq = 0;
    if (st->ops->snap_get(st, p->name, upto, &sseq, &snap, fp, mac, &found, err, errlen) < 0) return -1;
    if (found) {
        /* A snapshot counts only when its MAC checks out; otherwise replay from the start. */
        const lh_key *k = lh_keyring_find(&st->keys, fp);
        lh_mac *m = lh_mac_new();
        if (k && m && lh_mac_snapshot(m, k, p->name, sseq, snap, want) == 0 && !memcmp(want, mac, LH_STORE_MAC_LEN)) {
            s = json_loads(snap, 0, NULL);
            if (s) from = sseq;
        }
        lh_mac_free(m);
        free(snap);
    }
    if (!s) s = json_object();
    if (!s) return lh_store_err(err, errlen, "out of memory");
    if (replay(st, p, s, from, upto, err, errlen) < 0) { json_decref(s); return -1; }
    *state = s;
    if (at_seq) *at_seq = upto;
    return 0;
}

int lh_store_snapshot(lh_store *st, const lh_projection *p, int64_t *seq, char *err, size_t errlen) {
    if (st->flags & LH_STORE_READONLY) return lh_store_err(err, errlen, "the store is open read-only");
    json_t *s = NULL;
    int64_t at = 0;
    if (lh_store_project(st, p, 0, &s, &at, err, errlen) < 0) return -1;
    char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(s);
    if (!text) return lh_store_err(err, errlen, "out of memory");
    lh_chain_head h;
    int exists = 0, rc = -1;
    unsigned char mac[LH_STORE_MAC_LEN];
    if (st->ops->head(st, &h, &exists, err, errlen) == 0) {
        const lh_key *k = lh_keyring_find(&st->keys, h.key_fp);
        lh_mac *m = lh_mac_new();
        if (!k || !m || lh_mac_snapshot(m, k, p->name, at, text, mac) < 0)
            lh_store_err(err, errlen, "cannot MAC the snapshot (key %s)", h.key_fp);
        else
            rc = st->ops->snap_put(st, p->name, at, text, h.key_fp, mac, err, errlen);
        lh_mac_free(m);
    }
    free(text);
    if (rc == 0 && seq) *seq = at;
    return rc;
}

/* ---- the built-in projections ---- */

static json_t *eventData(const lh_event *ev) { return json_loads(ev->data, 0, NULL); }

static int applyPolicy(json_t *state, const lh_event *ev, char *err, size_t errlen) {
    if (strcmp(ev->type, "policy.activated") && strcmp(ev->type, "policy.rolled_back")) return 0;
    json_t *d = eventData(ev);
    const char *rev = json_string_value(json_object_get(d, "revision"));
    if (rev) {
        json_object_set_new(state, "revision", json_string(rev));
        json_object_set_new(state, "seq", json_integer(ev->seq));
        json_object_set_new(state, "time_ns", json_integer(ev->time_ns));
        json_t *hist = json_object_get(state, "history");
        if (!json_is_array(hist)) {
            hist = json_array();
            json_object_set_new(state, "history", hist);
        }
        json_array_append_new(hist, json_pack("{s:s,s:I,s:s}", "revision", rev, "seq", (json_int_t)ev->seq,
                                              "type", ev->type));
        while (json_array_size(hist) > 100) json_array_remove(hist, 0);
    }
    json_decref(d);
    (void)err; (void)errlen;
    return 0;
}

static int applyTokens(json_t *state, const lh_event *ev, char *err, size_t errlen) {
    int issued = !strcmp(ev->type, "token.issued"), revoked = !strcmp(ev->type, "token.revoked");
    if (!issued && !revoked) return 0;
    json_t *d = eventData(ev);
    const char *tid = json_string_value(json_object_get(d, "token_id"));
    json_t *tokens = json_object_get(state, "tokens");
    if (!json_is_object(tokens)) {
        tokens = json_object();
        json_object_set_new(state, "tokens", tokens);
    }
    if (tid && issued) {
        json_t *t = json_deep_copy(d);
        json_object_set_new(t, "issued_seq", json_integer(ev->seq));
        json_object_set_new(t, "revoked", json_false());
        json_object_set_new(tokens, tid, t);
    } else if (tid && revoked) {
        json_t *t = json_object_get(tokens, tid);
        if (t) {
            json_object_set_new(t, "revoked", json_true());
            json_object_set_new(t, "revoked_seq", json_integer(ev->seq));
        }
    }
    json_decref(d);
    (void)err; (void)errlen;
    return 0;
}

const lh_projection lh_projection_policy = {"policy", "policy.", applyPolicy};
const lh_projection lh_projection_tokens = {"tokens", "token.", applyTokens};

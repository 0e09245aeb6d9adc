/* revwatch.c — the revocation watcher (revwatch.h). */
#include "bridge/revwatch.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lh_revwatch_test_create_error = 0;
void (*lh_revwatch_test_gap)(lh_store *store) = NULL;

struct lh_revwatch {
    lh_store *store;
    lh_revoked *revoked;
    int postgres;
    int64_t head;
    int64_t policy_cursor;       /* watcher thread only: the last policy.* seq handed on */
    lh_revwatch_idle_fn idle;
    void *idle_ctx;
    lh_revwatch_policy_fn policy;
    void *policy_ctx;
    pthread_t th;
    _Atomic int stopping;
};

static void applyRevocation(lh_revoked *revoked, const lh_event *ev) {
    json_t *j = json_loads(ev->data, 0, NULL);
    const char *tid = json_string_value(json_object_get(j, "token_id"));
    if (tid) lh_revoked_add(revoked, tid);
    json_decref(j);
}

int lh_revwatch_load(lh_store *store, lh_revoked *revoked, int64_t *head, char *err, size_t errlen) {
    /* The head first: a revocation recorded after it is the watcher's (it starts from the
     * head), one recorded before it is in the query below. One in both is added twice,
     * which changes nothing. */
    lh_store_stats st;
    if (lh_store_stats_get(store, &st, err, errlen)) return -1;
    lh_store_filter f = {0};
    f.type = "token.revoked";
    f.limit = 1000;
    for (;;) {
        lh_event_list l = {0};
        if (lh_store_query(store, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        for (size_t i = 0; i < l.n; i++) applyRevocation(revoked, &l.events[i]);
        size_t n = l.n;
        f.after_seq = l.cursor;
        lh_event_list_free(&l);
        if (n < f.limit) break;
    }
    *head = st.head_seq;
    return 0;
}

/* Hand on the policy.* events after the cursor (another replica's pushes and rollbacks,
 * and this one's own, which the callback skips). A failed read is retried next round. */
static void followPolicy(lh_revwatch *w) {
    for (int pages = 0; pages < 16; pages++) {
        lh_store_filter f = {.type = "policy.*", .after_seq = w->policy_cursor, .limit = 64};
        lh_event_list l = {0};
        char err[256];
        if (lh_store_query(w->store, &f, &l, err, sizeof(err))) { lh_event_list_free(&l); return; }
        for (size_t i = 0; i < l.n; i++) {
            w->policy(w->policy_ctx, &l.events[i]);
            w->policy_cursor = l.events[i].seq;
        }
        size_t n = l.n;
        lh_event_list_free(&l);
        if (n < f.limit) return;
    }
}

static void *watcherMain(void *arg) {
    lh_revwatch *w = arg;
    pthread_setname_np(pthread_self(), "lh-revocations");
    uint64_t idleState = 0;
    char err[256];
    lh_store_sub *sub = NULL;
    if (lh_store_subscribe(w->store, w->head, &sub, err, sizeof(err)) ||
        lh_store_sub_filter(sub, "token.revoked", err, sizeof(err))) { /* not every decision */
        fprintf(stderr, "lighthouse serve: cannot watch the store for revocations: %s\n", err);
        lh_store_sub_close(sub);
        return NULL;
    }
    while (!atomic_load(&w->stopping)) {
        /* SQLite: revocations come from other processes (lighthouse token revoke), which
         * a commit in this process never signals, so poll every 20 ms (what the store's
         * own wait does for other processes' commits) instead of waking on each of our
         * own group commits: at thousands of commits a second that was one query per
         * commit, ~4% of the bridge's CPU. PostgreSQL keeps its NOTIFY wait, which must
         * be drained. */
        int polling = !w->postgres;
        lh_event_list l = {0};
        /* PostgreSQL: a NOTIFY wakes this wait for a revocation at once; policy events are
         * read after it returns, so at most LH_REVWATCH_POLICY_MS after their commit. Both
         * are re-read from the store, so a lost notification or a dropped LISTEN connection
         * (sub_wait reconnects) delays a change by one round at most, never loses it. */
        int rc = lh_store_sub_next(sub, polling ? 0 : LH_REVWATCH_POLICY_MS, 1000, &l, err, sizeof(err));
        if (w->postgres && w->policy) followPolicy(w);
        if (rc == 0)
            for (size_t i = 0; i < l.n; i++)
                if (!strcmp(l.events[i].type, "token.revoked")) applyRevocation(w->revoked, &l.events[i]);
        if (rc != 0 || (polling && l.n == 0)) {
            struct timespec ts = {0, rc != 0 ? 200000000 : 20000000};
            nanosleep(&ts, NULL);
        }
        lh_event_list_free(&l);
        if (w->idle) w->idle(w->idle_ctx, &idleState);
    }
    lh_store_sub_close(sub);
    return NULL;
}

lh_revwatch *lh_revwatch_start(lh_store *store, lh_revoked *revoked, int postgres, int64_t head, lh_revwatch_idle_fn idle,
                               void *idle_ctx, lh_revwatch_policy_fn policy, void *policy_ctx, char *err, size_t errlen) {
    lh_revwatch *w = calloc(1, sizeof(*w));
    if (!w) { snprintf(err, errlen, "out of memory"); return NULL; }
    w->store = store;
    w->revoked = revoked;
    w->postgres = postgres;
    w->head = head;
    w->policy_cursor = head;
    w->policy = policy;
    w->policy_ctx = policy_ctx;
    w->idle = idle;
    w->idle_ctx = idle_ctx;
    atomic_init(&w->stopping, 0);
    if (lh_revwatch_test_gap) lh_revwatch_test_gap(store);
    int rc = lh_revwatch_test_create_error ? lh_revwatch_test_create_error : pthread_create(&w->th, NULL, watcherMain, w);
    if (rc) {
        snprintf(err, errlen, "cannot start the revocation watcher thread: %s (revoked tokens would stay valid)",
                 strerror(rc));
        free(w);
        return NULL;
    }
    return w;
}

void lh_revwatch_stop(lh_revwatch *w) {
    if (!w) return;
    atomic_store(&w->stopping, 1);
    pthread_join(w->th, NULL);
    free(w);
}

/* groupq.c — group commit: many appending threads, one committing thread.
 *
 * Appenders queue their prepared batch and sleep on their own condition variable. The
 * committer takes everything queued (up to a bound), hands it to the backend's commit
 * function as ONE transaction, and wakes each appender with its result. Under load the
 * cost of a durable commit (an fsync, a round trip) is shared by every waiting append. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_MAX_EVENTS 10000 /* events in one commit; the rest wait for the next */

static void finishReq(lh_greq *r, int rc, const char *msg) {
    r->rc = rc;
    if (rc < 0) snprintf(r->err, sizeof(r->err), "%s", msg);
    else
        for (size_t i = 0; i < r->n; i++) r->seqs[i] = r->evs[i].ev.seq;
}

static void runGroup(lh_groupq *q, lh_greq **reqs, size_t n) {
    char err[256] = "";
    int constraint = 0;
    if (q->commit(q->ctx, reqs, n, &constraint, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < n; i++) finishReq(reqs[i], 0, NULL);
    } else if (constraint && n > 1) {
        /* One bad batch (a duplicate id) must not fail its neighbours: commit each alone. */
        for (size_t i = 0; i < n; i++) {
            int c = 0;
            err[0] = 0;
            finishReq(reqs[i], q->commit(q->ctx, &reqs[i], 1, &c, err, sizeof(err)), err);
        }
    } else {
        for (size_t i = 0; i < n; i++) finishReq(reqs[i], -1, err);
    }
}

static void *committerMain(void *arg) {
    lh_groupq *q = arg;
    size_t cap = 1024;
    lh_greq **group = malloc(cap * sizeof(*group));
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stopping) pthread_cond_wait(&q->work_cv, &q->mu);
        if (!q->head) { pthread_mutex_unlock(&q->mu); break; }
        size_t n = 0, events = 0;
        while (q->head && (n == 0 || events + q->head->n <= GROUP_MAX_EVENTS)) {
            if (n == cap || !group) {
                lh_greq **g = realloc(group, 2 * cap * sizeof(*group));
                if (!g) break;
                group = g;
                cap *= 2;
            }
            lh_greq *r = q->head;
            q->head = r->next;
            if (!q->head) q->tail = NULL;
            group[n++] = r;
            events += r->n;
        }
        pthread_mutex_unlock(&q->mu);

        runGroup(q, group, n);

        pthread_mutex_lock(&q->mu);
        for (size_t i = 0; i < n; i++) {
            group[i]->done = 1;
            pthread_cond_signal(&group[i]->cv);
        }
        pthread_mutex_unlock(&q->mu);
        if (q->committed) q->committed(q->ctx);
    }
    free(group);
    return NULL;
}

int lh_groupq_start(lh_groupq *q, lh_group_commit_fn commit, void (*committed)(void *), void *ctx,
                    char *err, size_t errlen) {
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work_cv, NULL);
    q->commit = commit;
    q->committed = committed;
    q->ctx = ctx;
    if (pthread_create(&q->thread, NULL, committerMain, q) != 0) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->work_cv);
        return lh_store_err(err, errlen, "cannot start the writer thread");
    }
    q->started = 1;
    return 0;
}

int lh_groupq_submit(lh_groupq *q, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen) {
    lh_greq r;
    memset(&r, 0, sizeof(r));
    r.evs = evs;
    r.n = n;
    r.seqs = seqs;
    pthread_cond_init(&r.cv, NULL);
    pthread_mutex_lock(&q->mu);
    if (q->stopping || !q->started) {
        pthread_mutex_unlock(&q->mu);
        pthread_cond_destroy(&r.cv);
        return lh_store_err(err, errlen, "the store is closing");
    }
    if (q->tail) q->tail->next = &r;
    else q->head = &r;
    q->tail = &r;
    pthread_cond_signal(&q->work_cv);
    while (!r.done) pthread_cond_wait(&r.cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&r.cv);
    if (r.rc < 0) return lh_store_err(err, errlen, "%s", r.err);
    return 0;
}

void lh_groupq_stop(lh_groupq *q) {
    if (!q->started) return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work_cv);
    q->started = 0;
}

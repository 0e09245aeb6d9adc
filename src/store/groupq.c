/* groupq.c — group commit: many appending threads, one committing thread.
 *
 * Appenders queue their prepared batch and sleep on a futex word in their own request. The
 * committer takes everything queued (up to a bound), hands it to the backend's commit
 * function as ONE transaction, and wakes each appender with its result. An asynchronous
 * request (lh_groupq_submit_async) is not waited for: the committer calls its finished()
 * instead, so a caller that must not block joins the very next group too. Under load the
 * cost of a durable commit (an fsync, a round trip) is shared by every waiting append.
 *
 * Waking: the groups are numbered as they are taken, and the appenders of group g sleep on
 * one futex word of two, chosen by g's parity; the committer wakes the whole group with a
 * single FUTEX_WAKE and takes no lock to do it. The appenders of the next group sleep on
 * the other word, so they are not woken early. (With a condition variable per request the
 * committer made one system call per appender while holding the queue's mutex, and each
 * woken appender then blocked on that mutex: on this 2-vCPU machine waking cost more than
 * the inserts.)
 *
 * A request's states, asserted (util/check.h) where they change:
 *   queued     on the list (head .. tail), gen == 0, done == 0
 *   taken      off the list, in the committer's group g: gen == g, done == 0
 *   done       done == 1 (a waiting one is its appender's again; an asynchronous one is
 *              its caller's once finished() returns)
 * and the queue's: head and tail are both NULL or both set; groups are taken and
 * completed one at a time, so taken == completed whenever the committer takes a group,
 * and completed becomes that group's number before the next is taken. */
#include "store/store_int.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/check.h"

#define GROUP_MAX_EVENTS 10000 /* events in one commit; the rest wait for the next */
#define IDLE_MS          500   /* an empty queue for this long after work calls q->idle */
#define GROUP_FIRST_CAP  1024  /* requests in the committer's first group array */

static void futexWait(_Atomic unsigned *w, unsigned val) {
    syscall(SYS_futex, (unsigned *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futexWakeAll(_Atomic unsigned *w) {
    syscall(SYS_futex, (unsigned *)w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

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
    pthread_setname_np(pthread_self(), "lh-store-writer"); /* for top -H, perf and gdb */
    size_t cap = GROUP_FIRST_CAP;
    lh_greq **group = q->group;   /* never NULL, so a group is never empty (see start) */
    int worked = 0; /* groups since q->idle was last called */
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stopping) {
            q->waiting = 1;
            if (!worked || !q->idle) {
                pthread_cond_wait(&q->work_cv, &q->mu);
            } else {
                struct timespec until = lh_deadline_ms(IDLE_MS);
                if (pthread_cond_timedwait(&q->work_cv, &q->mu, &until) == ETIMEDOUT && !q->head) {
                    worked = 0;
                    q->waiting = 0;
                    pthread_mutex_unlock(&q->mu);
                    q->idle(q->ctx); /* on this thread, the only user of the writer's connection */
                    pthread_mutex_lock(&q->mu);
                }
            }
            q->waiting = 0;
        }
        worked = 1;
        LH_ASSERT(!q->head == !q->tail);
        if (!q->head) { pthread_mutex_unlock(&q->mu); break; }
        LH_ASSERT(group && cap >= 1);   /* so the loop below takes at least one request */
        size_t n = 0, events = 0;
        LH_ASSERT(atomic_load(&q->taken) == atomic_load(&q->completed));
        uint64_t g = atomic_load(&q->taken) + 1;
        while (q->head && (n == 0 || events + q->head->n <= GROUP_MAX_EVENTS)) {
            if (n == cap) {
                lh_greq **bigger = realloc(group, 2 * cap * sizeof(*group)); /* NOLINT(bugprone-sizeof-expression): an array of pointers */
                if (!bigger) break;
                group = bigger;
                cap *= 2;
            }
            lh_greq *r = q->head;
            LH_ASSERT(atomic_load(&r->gen) == 0 && !atomic_load(&r->done));   /* queued */
            q->head = r->next;
            if (!q->head) q->tail = NULL;
            atomic_store(&r->gen, g); /* before `taken` moves: see waitReq */
            group[n++] = r;
            events += r->n;
        }
        LH_ASSERT(n > 0);
        atomic_store(&q->taken, g);
        pthread_mutex_unlock(&q->mu);

        runGroup(q, group, n);

        /* Publish each result. After its `done` store a request may be gone (its appender
         * can see the flag without sleeping and return), so it is not touched again; the
         * asynchronous ones are moved to the front of the array first (nobody waits on
         * them, and their finished() runs after the waiters are woken). */
        size_t nasync = 0;
        for (size_t i = 0; i < n; i++) {
            lh_greq *r = group[i];
            LH_ASSERT(atomic_load(&r->gen) == g && !atomic_load(&r->done));   /* taken */
            if (r->finished) group[nasync++] = r;
            else atomic_store(&r->done, 1);
        }
        LH_ASSERT(atomic_load(&q->completed) + 1 == g);
        atomic_store(&q->completed, g);
        atomic_fetch_add(&q->wake[g & 1], 1);
        futexWakeAll(&q->wake[g & 1]);
        for (size_t i = 0; i < nasync; i++) group[i]->finished(group[i]);
        if (q->committed) q->committed(q->ctx);
    }
    q->group = group;   /* realloc may have moved it; lh_groupq_stop frees it */
    return NULL;
}

int lh_groupq_start(lh_groupq *q, lh_group_commit_fn commit, void (*committed)(void *), void (*idle)(void *),
                    void *ctx, char *err, size_t errlen) {
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    lh_cond_init_monotonic(&q->work_cv);
    q->commit = commit;
    q->committed = committed;
    q->idle = idle;
    q->ctx = ctx;
    /* The committer's array, made here so that out of memory fails the open: a committer
     * without one took empty groups forever while its appenders waited. */
    q->group = lh_fault_step() ? NULL : malloc(GROUP_FIRST_CAP * sizeof(*q->group)); /* NOLINT(bugprone-sizeof-expression): an array of pointers */
    if (!q->group || pthread_create(&q->thread, NULL, committerMain, q) != 0) {
        const char *why = q->group ? "cannot start the writer thread" : "out of memory";
        free(q->group);
        q->group = NULL;
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->work_cv);
        return lh_store_err(err, errlen, "%s", why);
    }
    q->started = 1;
    return 0;
}

/* Sleep until r is done. r's group is unknown until the committer takes it, so guess:
 * r->gen once set, else taken + 1, with `taken` read first. The guess is never past the real
 * group (taken reaches g only after r->gen is set), so the guessed group completes no later
 * than r's, and its wake lets us look again. The word is read before `done` and
 * `completed` are checked, and FUTEX_WAIT sleeps only while the word still holds that
 * value, so a wake in between is never lost. (All atomics here are sequentially
 * consistent.) */
static void waitReq(lh_groupq *q, lh_greq *r) {
    while (!atomic_load(&r->done)) {
        uint64_t t = atomic_load(&q->taken), g = atomic_load(&r->gen);
        if (!g) g = t + 1;
        uint64_t real = atomic_load(&r->gen);
        LH_ASSERT(!real || g <= real);   /* the guess is never past r's group */
        _Atomic unsigned *w = &q->wake[g & 1];
        unsigned v = atomic_load(w);
        if (atomic_load(&r->done) || atomic_load(&q->completed) >= g) continue;
        futexWait(w, v);
    }
}

int lh_groupq_submit(lh_groupq *q, lh_pending *evs, size_t n, int64_t *seqs, char *err, size_t errlen) {
    lh_greq r;
    memset(&r, 0, sizeof(r));
    r.evs = evs;
    r.n = n;
    r.seqs = seqs;
    atomic_init(&r.done, 0);
    atomic_init(&r.gen, 0);
    pthread_mutex_lock(&q->mu);
    if (q->stopping || !q->started) {
        pthread_mutex_unlock(&q->mu);
        return lh_store_err(err, errlen, "the store is closing");
    }
    LH_ASSERT(!q->head == !q->tail);
    if (q->tail) q->tail->next = &r;
    else q->head = &r;
    q->tail = &r;
    if (q->waiting) pthread_cond_signal(&q->work_cv); /* a busy committer takes it next round */
    pthread_mutex_unlock(&q->mu);
    waitReq(q, &r);
    if (r.rc < 0) return lh_store_err(err, errlen, "%s", r.err);
    return 0;
}

int lh_groupq_submit_async(lh_groupq *q, lh_greq *r, char *err, size_t errlen) {
    LH_ASSERT(r->finished);   /* else nobody learns its result, and nobody frees it */
    r->next = NULL;
    atomic_init(&r->done, 0);
    atomic_init(&r->gen, 0);
    pthread_mutex_lock(&q->mu);
    if (q->stopping || !q->started) {
        pthread_mutex_unlock(&q->mu);
        return lh_store_err(err, errlen, "the store is closing");
    }
    LH_ASSERT(!q->head == !q->tail);
    if (q->tail) q->tail->next = r;
    else q->head = r;
    q->tail = r;
    if (q->waiting) pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void lh_groupq_stop(lh_groupq *q) {
    if (!q->started) return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    LH_ASSERT(!q->head && !q->tail);   /* the committer finished everything queued */
    free(q->group);
    q->group = NULL;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work_cv);
    q->started = 0;
}

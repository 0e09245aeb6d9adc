/* escalations.c — expert escalations: the table, quorum and deadlines, waiters, the
 * verdict cache, the events and the metrics (escalations.h).
 *
 * Threads and locks. Requests (MHD's workers) create escalations, add verdicts and list
 * them; the timer thread (lh-escalations) expires escalations past their deadline, ends
 * waits that ran out and sweeps lapsed experts. A change is checked under mu, its event
 * appended (the store's commit, outside mu), then applied under mu, so a change is
 * recorded before anyone can see it:
 *   - a new escalation is linked unborn (joinable, counted, seen by nobody else) and its
 *     escalation.created goes into the builder's decision commit; lh_escalations_born,
 *     on the store's writer thread, makes it seen;
 *   - a verdict or an expiry marks its escalation busy under mu for its whole course
 *     (the next change of it waits on idle_cv, an expiry is skipped and comes again), so
 *     the changes of one escalation are applied in the order of their events. A verdict
 *     is appended with its connection suspended (lh_escalations_verdict_done applies it
 *     on the writer thread); no worker thread waits for an fsync.
 * Readers (lists, gets, the decide route's cache look-up) take only mu, never waiting
 * for an fsync. A waiting request is a suspended connection,
 * linked in a list under mu and resumed under mu (after its woken flag is set), so no
 * worker thread is held while it waits and a resume can never precede its suspend.
 *
 * Bounds: max_pending pending escalations (past it a decision stays a plain escalate),
 * max_waiters suspended requests (past it a wait answers at once), LH_ESC_KEEP_DONE
 * finished escalations kept for GET and late waiters, LH_ESC_CACHE cached verdicts,
 * verdicts of at most LH_ESC_REASON_MAX bytes, contexts of bounded size. */
#include "bridge/escalations.h"
#include "bridge/esc_context.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bridge/bridge_int.h"
#include "bridge/experts.h"
#include "bridge/sse.h"
#include "engine/paths.h"
#include "engine/shell.h"
#include "util/check.h"
#include "util/growbuf.h"
#include "util/hex.h"
#include "util/sha256.h"
#include "util/utf8.h"
#include "util/cond.h"

#define LH_ESC_KEEP_DONE 1024      /* finished escalations kept in memory */
#define LH_ESC_CACHE 1024          /* cached verdicts */
#define LH_ESC_MAX_VERDICTS (2 * LH_ESC_MAX_QUORUM)
#define FINAL_MAX 4000             /* bytes of a final reason */
#define LIST_MAX (256u << 20)      /* bytes of a list's reply */
#define PENDING_BUCKETS 1024       /* the pending escalations by cache key, for joins */

/* A claim: the escalation was handed to expert by a claiming long-poll (?claim=), and is
 * not handed to others while quorum claims and allows cover it, until the claim's lease
 * ends or the expert votes ("Claims" below). */
typedef struct claim {
    char expert[LH_STORE_MAX_NAME + 1];
    uint64_t until;                    /* lh_mono_ns; 0: the slot is free */
} claim;

typedef struct verdict {
    char expert[LH_STORE_MAX_NAME + 1];
    int allow;
    char *reason;
    int64_t time_ns;
} verdict;

enum { ST_PENDING = 0, ST_DECIDED, ST_EXPIRED };

static const char *const stateNames[] = {"pending", "decided", "expired"};

typedef struct esc {
    char id[LH_ESC_ID_LEN + 1];
    int state;
    int64_t created_ns, deadline_ns;   /* wall clock */
    uint64_t created_mono, deadline_mono;
    char *agent, *session, *tool, *rule, *reason, *revision;
    lh_risk risk;
    char caps[LH_ESC_MAX_CAPS][LH_EXPERT_CAP_MAX + 1];
    int ncaps, quorum;
    lh_esc_timeout on_timeout;
    uint64_t ttl_ms;
    unsigned char key[32];
    json_t *request, *context;         /* owned; only touched under mu */
    verdict *v;                        /* nv of vcap (at most LH_ESC_MAX_VERDICTS); grown by roomLocked */
    int nv, vcap;
    lh_esc_timeout final;              /* the outcome once not pending (deny/allow/ask) */
    int by_timeout;
    char *final_reason;
    lh_esc_wait *waiters;              /* decisions waiting for it */
    struct esc *prev, *next;           /* the table, oldest first */
    struct esc *pprev, *pnext;         /* the pending ones alone, oldest first */
    struct esc *hnext;                 /* its pending bucket's chain (pbucket) */
    int born;                          /* its escalation.created is durable: others may see it */
    int busy;                          /* a change (verdict, expiry) is being recorded: the next waits */
    uint64_t num;                      /* the seq of its escalation.created event, once born: ?after= */
    claim *cl;                         /* ncl of quorum slots, allocated at the first claim */
    int ncl;
    char *text;                        /* its ESC object as JSON, rendered once per change; NULL: stale */
    size_t text_len;
} esc;

typedef struct cached {
    unsigned char key[32];
    int used, allow;
    uint64_t until;                    /* lh_mono_ns */
    char id[LH_ESC_ID_LEN + 1];
    char reason[512];
} cached;

struct lh_escalations {
    lh_bridge *b;
    int max_pending, max_waiters;
    pthread_mutex_t mu;                /* guards everything below */
    pthread_cond_t cv;                 /* the timer thread's wake-up (on mu) */
    pthread_cond_t idle_cv;            /* an escalation's change ended (busy cleared; on mu) */
    esc *head, *tail;
    esc *phead, *ptail;                /* the pending escalations (the timer and lists walk only these) */
    esc *pbucket[PENDING_BUCKETS];     /* the pending ones by key: a join looked through all of them */
    int npending, ndone, nwaiters;
    lh_esc_wait *lists;                /* long-polls of the list */
    lh_esc_wait *claimers;             /* claiming long-polls (?claim=): woken only as claims open */
    cached cache[LH_ESC_CACHE];
    int cache_next;
    int closing, stop, started;
    uint64_t timer_at;                 /* when the timer thread wakes next (lh_mono_ns); 0: awake */
    uint64_t last_num;                 /* the greatest num seen */
    pthread_t timer;
    uint64_t total[3];                 /* allow, deny, expired */
    uint64_t hist[LH_HIST_BUCKETS + 1], hist_count;
    double hist_sum;
};


/* ------------------------------------------------------------------------------ */
/* Small helpers                                                                    */
/* ------------------------------------------------------------------------------ */

static int64_t wallNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void newEscId(char out[LH_ESC_ID_LEN + 1]) {
    static const char h[] = "0123456789abcdef";
    unsigned char r[8];
    if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
        uint64_t v = lh_mono_ns() ^ (uint64_t)wallNs();
        memcpy(r, &v, 8);
    }
    memcpy(out, "esc-", 4);
    for (int i = 0; i < 8; i++) { out[4 + 2 * i] = h[r[i] >> 4]; out[5 + 2 * i] = h[r[i] & 15]; }
    out[LH_ESC_ID_LEN] = 0;
}

/* The verdict cache's key: the rule, the policy revision and the request's fields that
 * the decision rests on (tool, cwd, command or path or URL), each ended by a NUL. The
 * command is taken with its surrounding blanks trimmed. */
static void keyOf(const lh_request *r, const lh_decision *d, unsigned char out[32]) {
    const char *parts[] = {d->rule, d->policy_revision, r->tool_name, r->cwd, r->file_path, r->path, r->url};
    const size_t np = sizeof(parts) / sizeof(parts[0]);
    const char *cs = r->command ? r->command : "", *ce = cs + strlen(cs);
    while (cs < ce && (*cs == ' ' || *cs == '\t' || *cs == '\n')) cs++;
    while (ce > cs && (ce[-1] == ' ' || ce[-1] == '\t' || ce[-1] == '\n')) ce--;
    size_t n = (size_t)(ce - cs);
    for (size_t i = 0; i < np; i++) n += strlen(parts[i] ? parts[i] : "") + 1;
    char *buf = malloc(n + 1);
    if (!buf) { memset(out, 0, 32); return; }
    size_t o = 0;
    for (size_t i = 0; i < np; i++) {
        const char *p = parts[i] ? parts[i] : "";
        size_t k = strlen(p) + 1;
        memcpy(buf + o, p, k);
        o += k;
    }
    memcpy(buf + o, cs, (size_t)(ce - cs));
    lh_sha256(buf, n, out);
    free(buf);
}

static char *dupn(const char *s, size_t max) {
    return lh_utf8_dup_cut(s ? s : "", max);
}

static void freeEsc(esc *e) {
    if (!e) return;
    free(e->agent); free(e->session); free(e->tool); free(e->rule); free(e->reason); free(e->revision);
    free(e->final_reason);
    free(e->text);
    free(e->cl);
    for (int i = 0; i < e->nv; i++) free(e->v[i].reason);
    free(e->v);
    json_decref(e->request);
    json_decref(e->context);
    free(e);
}

lh_esc_tally lh_esc_tally_votes(int allows, int denies, int quorum) {
    if (denies > 0) return LH_ESC_DENIED;
    return allows >= quorum ? LH_ESC_ALLOWED : LH_ESC_OPEN;
}

uint64_t lh_esc_deadline_mono(uint64_t now_mono, int64_t now_wall, int64_t deadline_wall) {
    int64_t left = deadline_wall - now_wall;
    return left > 0 ? now_mono + (uint64_t)left : now_mono;
}

/* ------------------------------------------------------------------------------ */
/* The table (caller holds mu)                                                      */
/* ------------------------------------------------------------------------------ */

static esc *findLocked(lh_escalations *x, const char *id) {
    for (esc *e = x->tail; e; e = e->prev)   /* recent ones first */
        if (!strcmp(e->id, id)) return e;
    return NULL;
}

/* Room for one more verdict in e->v: 0, or -1 (full, or out of memory). An escalation
 * starts without the array: most have one verdict, and a fixed array of the most took
 * 9 KiB to zero per escalation. Under mu. */
static int roomLocked(esc *e) {
    if (e->nv < e->vcap) return 0;
    int cap = e->vcap ? 2 * e->vcap : 2;
    if (cap > LH_ESC_MAX_VERDICTS) cap = LH_ESC_MAX_VERDICTS;
    if (e->nv >= cap) return -1;
    verdict *v = realloc(e->v, (size_t)cap * sizeof(*v));
    if (!v) return -1;
    e->v = v;
    e->vcap = cap;
    return 0;
}

/* The same, but only one whose escalation.created is durable: what others may see. */
static esc *findBornLocked(lh_escalations *x, const char *id) {
    esc *e = findLocked(x, id);
    return e && e->born ? e : NULL;
}

static esc **bucketOf(lh_escalations *x, const unsigned char key[32]) {
    return &x->pbucket[(key[0] | (unsigned)key[1] << 8) % PENDING_BUCKETS];
}

/* e is pending no more: out of its bucket. */
static void unhashLocked(lh_escalations *x, esc *e) {
    for (esc **p = bucketOf(x, e->key); *p; p = &(*p)->hnext)
        if (*p == e) { *p = e->hnext; break; }
}

static void linkLocked(lh_escalations *x, esc *e) {
    e->prev = x->tail;
    e->next = NULL;
    if (x->tail) x->tail->next = e; else x->head = e;
    x->tail = e;
    if (e->born && e->num > x->last_num) x->last_num = e->num;
    if (e->state != ST_PENDING) { x->ndone++; return; }
    x->npending++;
    esc **b = bucketOf(x, e->key);
    e->hnext = *b;
    *b = e;
    e->pprev = x->ptail;
    e->pnext = NULL;
    if (x->ptail) x->ptail->pnext = e; else x->phead = e;
    x->ptail = e;
}

/* e is no longer pending: off the pending list. */
static void unlinkPendingLocked(lh_escalations *x, esc *e) {
    if (e->pprev) e->pprev->pnext = e->pnext; else x->phead = e->pnext;
    if (e->pnext) e->pnext->pprev = e->pprev; else x->ptail = e->pprev;
    e->pprev = e->pnext = NULL;
}

/* Wake the timer thread if it sleeps past t (a new deadline or wait end), and only then:
 * each needless wake-up walked the table and took mu from the request threads. */
static void timerNeedLocked(lh_escalations *x, uint64_t t) {
    if (x->timer_at && t < x->timer_at) pthread_cond_signal(&x->cv);
}

/* Drop the oldest finished escalations past LH_ESC_KEEP_DONE. */
static void pruneLocked(lh_escalations *x) {
    for (esc *e = x->head, *n; e && x->ndone > LH_ESC_KEEP_DONE; e = n) {
        n = e->next;
        if (e->state == ST_PENDING || e->waiters) continue;
        if (e->prev) e->prev->next = e->next; else x->head = e->next;
        if (e->next) e->next->prev = e->prev; else x->tail = e->prev;
        x->ndone--;
        freeEsc(e);
    }
}

static void wakeOne(lh_escalations *x, lh_esc_wait *w) {
    w->next = NULL;
    x->nwaiters--;
    w->woken = 1;
    MHD_resume_connection(w->conn);
}

static void wakeDecisionsLocked(lh_escalations *x, esc *e) {
    for (lh_esc_wait *w = e->waiters, *n; w; w = n) { n = w->next; wakeOne(x, w); }
    e->waiters = NULL;
}

static void wakeAllLocked(lh_escalations *x, lh_esc_wait **list) {
    for (lh_esc_wait *w = *list, *n; w; w = n) { n = w->next; wakeOne(x, w); }
    *list = NULL;
}

/* Every plain long-poll of the list (a claiming one is woken by the claims it may take). */
static void wakeListsLocked(lh_escalations *x) {
    wakeAllLocked(x, &x->lists);
}

/* May caller (an expert) decide e: it holds every capability and has not voted? Under mu. */
static int mayDecideLocked(lh_bridge *b, const esc *e, const char *who) {
    for (int i = 0; i < e->nv; i++)
        if (!strcmp(e->v[i].expert, who)) return 0;
    const char *cp[LH_ESC_MAX_CAPS];
    for (int i = 0; i < e->ncaps; i++) cp[i] = e->caps[i];
    return lh_experts_capable(b->experts, who, cp, e->ncaps);
}

/* ------------------------------------------------------------------------------ */
/* Claims (?claim=SECONDS): a pool of experts shares the work instead of each being     */
/* handed every escalation. A claiming long-poll is handed a pending escalation only   */
/* while it needs more experts than its allows and its live claims cover (quorum 1: one */
/* expert at a time), and it claims what it is handed for the lease. Only as many       */
/* claiming long-polls are woken as there are claims to take, so an escalation costs    */
/* about quorum replies, not one per expert (a wake of every expert per escalation was  */
/* most of the bridge's escalation work with 16 experts: docs/load.md). A claim ends    */
/* with its lease (the escalation is offered again) or its expert's verdict. Claims are */
/* not events: a restart forgets them, and the pending escalations are offered again.   */
/* ------------------------------------------------------------------------------ */

/* How many more experts e needs handed to it: the quorum less its allows (while pending
 * every verdict is an allow) and its live claims. */
static int openLocked(const esc *e, uint64_t now) {
    int open = e->quorum - e->nv;
    for (int i = 0; i < e->ncl; i++)
        if (e->cl[i].until > now) open--;
    return open;
}

static int holdsLocked(const esc *e, const char *who, uint64_t now) {
    for (int i = 0; i < e->ncl; i++)
        if (e->cl[i].until > now && !strcmp(e->cl[i].expert, who)) return 1;
    return 0;
}

/* May the claiming long-poll w take a claim of e now? */
static int mayClaimLocked(lh_escalations *x, const esc *e, const lh_req *r, uint64_t now) {
    if (holdsLocked(e, r->claims.agent, now) || openLocked(e, now) <= 0) return 0;
    return r->claims.role != LH_ROLE_EXPERT || mayDecideLocked(x->b, e, r->claims.agent);
}

/* who claims e until now + lease (the caller checked openLocked): 0, or -1 when out of memory. */
static int takeLocked(lh_escalations *x, esc *e, const char *who, uint64_t now, uint64_t lease) {
    if (!e->cl) {
        e->cl = calloc((size_t)e->quorum, sizeof(*e->cl));
        if (!e->cl) return -1;
        e->ncl = e->quorum;
    }
    for (int i = 0; i < e->ncl; i++) {
        claim *k = &e->cl[i];
        if (k->until > now) continue;
        snprintf(k->expert, sizeof(k->expert), "%s", who);
        k->until = now + lease;
        timerNeedLocked(x, k->until);   /* its lapse offers e again */
        return 0;
    }
    return -1;
}

/* e may be claimed (it was born, or a claim lapsed): wake as many claiming long-polls that
 * may take it as it has open claims. */
static void claimsOfferLocked(lh_escalations *x, esc *e, uint64_t now) {
    if (e->state != ST_PENDING || !e->born) return;
    int open = openLocked(e, now);
    for (lh_esc_wait **pp = &x->claimers; *pp && open > 0;) {
        lh_esc_wait *w = *pp;
        if (!mayClaimLocked(x, e, w->req, now)) { pp = &w->next; continue; }
        *pp = w->next;
        wakeOne(x, w);
        open--;
    }
}

/* The timer: free the claims of e whose lease ended and offer e again; *next: the earliest
 * lease still running. */
static void claimsLapseLocked(lh_escalations *x, esc *e, uint64_t now, uint64_t *next) {
    int lapsed = 0;
    for (int i = 0; i < e->ncl; i++) {
        claim *k = &e->cl[i];
        if (!k->until) continue;
        if (k->until <= now) { k->until = 0; lapsed = 1; }
        else if (k->until < *next) *next = k->until;
    }
    if (lapsed) claimsOfferLocked(x, e, now);
}

/* expert voted on e: its claim is over (the verdict now counts where the claim did). */
static void claimDropLocked(esc *e, const char *expert) {
    for (int i = 0; i < e->ncl; i++)
        if (e->cl[i].until && !strcmp(e->cl[i].expert, expert)) e->cl[i].until = 0;
}

static const char *outcomeName(const esc *e) {
    return e->final == LH_ESC_TIMEOUT_ALLOW ? "allow" : e->final == LH_ESC_TIMEOUT_ASK ? "ask" : "deny";
}

/* The ESC object (docs/api.md); under mu. */
static json_t *escJson(const esc *e, int verdicts) {
    json_t *caps = json_array();
    for (int i = 0; i < e->ncaps; i++) json_array_append_new(caps, json_string(e->caps[i]));
    json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:O,s:s,s:s,s:s,s:o,s:i,s:s,s:I,s:s,s:O}", "id", e->id,
                          "state", stateNames[e->state], "created_ns", (json_int_t)e->created_ns, "deadline_ns",
                          (json_int_t)e->deadline_ns, "agent", e->agent, "session", e->session, "tool", e->tool,
                          "request", e->request, "rule", e->rule, "risk", lh_risk_name(e->risk), "reason", e->reason,
                          "capabilities", caps, "quorum", e->quorum, "on_timeout", lh_esc_timeout_name(e->on_timeout),
                          "cache_ttl_s", (json_int_t)(e->ttl_ms / 1000), "policy_revision", e->revision, "context",
                          e->context);
    if (!j) return NULL;
    if (verdicts) {
        json_t *vs = json_array();
        for (int i = 0; i < e->nv; i++)
            json_array_append_new(vs, json_pack("{s:s,s:s,s:s,s:I}", "expert", e->v[i].expert, "decision",
                                                e->v[i].allow ? "allow" : "deny", "reason", e->v[i].reason,
                                                "time_ns", (json_int_t)e->v[i].time_ns));
        json_object_set_new(j, "verdicts", vs);
    }
    if (e->state != ST_PENDING) {
        json_object_set_new(j, "decision", json_string(outcomeName(e)));
        json_object_set_new(j, "decided_by", json_string(e->by_timeout ? "timeout" : "experts"));
        json_object_set_new(j, "final_reason", json_string(e->final_reason ? e->final_reason : ""));
    }
    return j;
}

static char *escText(const esc *e) {
    json_t *j = escJson(e, 1);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* e's ESC object as JSON text (NUL-terminated, owned by e), rendered at most once per
 * change of e: every long-poll of every expert answers with the pending escalations, and
 * rendering each of them each time (jansson, under mu) was most of the bridge's CPU with
 * 16 experts polling (bench/escalation_ab.sh). Under mu; NULL when out of memory. */
static const char *textLocked(esc *e, size_t *len) {
    if (!e->text) {
        e->text = escText(e);
        e->text_len = e->text ? strlen(e->text) : 0;
    }
    *len = e->text_len;
    return e->text;
}

/* e changed (a verdict, its end): its text is rendered again when next needed. Under mu. */
static void staleLocked(esc *e) {
    free(e->text);
    e->text = NULL;
}

static void publishLocked(lh_escalations *x, const char *type, esc *e) {
    if (!lh_streams_open_count(x->b->streams)) return;   /* nobody to render it for */
    size_t n;
    const char *s = textLocked(e, &n);
    if (s) lh_streams_publish(x->b->streams, LH_SSE_CH_ESCALATIONS, type, s);
}

/* An escalation ends (under mu): counters, the duration histogram, the verdict cache,
 * the waiters. */
static void finishLocked(lh_escalations *x, esc *e, int state, lh_esc_timeout outcome, char *final_reason) {
    LH_ASSERT(e->state == ST_PENDING);
    unlinkPendingLocked(x, e);
    unhashLocked(x, e);
    staleLocked(e);
    e->state = state;
    e->final = outcome;
    e->by_timeout = state == ST_EXPIRED;
    free(e->final_reason);
    e->final_reason = final_reason;
    x->npending--;
    x->ndone++;
    x->total[state == ST_EXPIRED ? 2 : outcome == LH_ESC_TIMEOUT_ALLOW ? 0 : 1]++;
    uint64_t ns = lh_mono_ns() - e->created_mono;
    int k = 0;
    while (k < LH_HIST_BUCKETS && ns > lh_hist_bounds_ns[k]) k++;
    x->hist[k]++;
    x->hist_count++;
    x->hist_sum += (double)ns / 1e9;
    if (state == ST_DECIDED && e->ttl_ms) {
        cached *c = &x->cache[x->cache_next];
        x->cache_next = (x->cache_next + 1) % LH_ESC_CACHE;
        memcpy(c->key, e->key, 32);
        c->used = 1;
        c->allow = outcome == LH_ESC_TIMEOUT_ALLOW;
        c->until = lh_mono_ns() + e->ttl_ms * 1000000ull;
        memcpy(c->id, e->id, sizeof(c->id));
        snprintf(c->reason, sizeof(c->reason), "%s", final_reason ? final_reason : "");
    }
    wakeDecisionsLocked(x, e);
    /* No list waiter is woken: a list waits only while it has nothing new to show, and an
     * ending adds nothing (waking every expert's poll to find that was a resume and a walk
     * of the pending list per expert per escalation, on the fast path's threads). */
    publishLocked(x, state == ST_EXPIRED ? "escalation.expired" : "escalation.decided", e);
    /* No pruning here: the caller may still read e (it prunes when done with it). */
}

/* ------------------------------------------------------------------------------ */
/* Creating                                                                         */
/* ------------------------------------------------------------------------------ */

/* A new escalation from decision d (not linked). NULL when out of memory. */
static esc *newEsc(lh_bridge *b, const lh_request *r, const lh_decision *d, const unsigned char key[32],
                   lh_engine *eng, lh_arena *a) {
    esc *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    const lh_escroute *rt = d->escalation;
    newEscId(e->id);
    e->created_ns = wallNs();
    e->created_mono = lh_mono_ns();
    e->deadline_ns = e->created_ns + (int64_t)rt->deadline_ms * 1000000LL;
    e->deadline_mono = e->created_mono + rt->deadline_ms * 1000000ull;
    e->agent = dupn(r->agent, LH_STORE_MAX_NAME);
    e->session = dupn(r->session, LH_STORE_MAX_NAME);
    e->tool = dupn(r->tool_name, 256);
    e->rule = dupn(d->rule, 256);
    e->reason = dupn(d->reason, 2048);
    e->revision = dupn(d->policy_revision, 256);
    e->risk = d->risk;
    for (int i = 0; i < rt->ncaps && i < LH_ESC_MAX_CAPS; i++)
        snprintf(e->caps[e->ncaps++], sizeof(e->caps[0]), "%s", rt->caps[i]);
    e->quorum = rt->quorum;
    e->on_timeout = rt->on_timeout;
    e->ttl_ms = rt->cache_ttl_ms;
    memcpy(e->key, key, 32);
    e->request = lh_esc_request_json(r);
    lh_decision dx;
    lh_engine_decide(eng, r, a, &dx, LH_DECIDE_EXPLAIN | LH_DECIDE_NOCACHE);
    e->context = lh_esc_context(b, r, &dx, a);
    if (!e->agent || !e->session || !e->tool || !e->rule || !e->reason || !e->revision || !e->request ||
        !e->context) {
        freeEsc(e);
        return NULL;
    }
    return e;
}

/* The escalation.created event's data: the ESC without verdicts, with its cache key. */
static char *createdData(const esc *e) {
    json_t *j = escJson(e, 0);
    char key[65];
    lh_hex_encode(e->key, 32, key);
    if (j) json_object_set_new(j, "key", json_string(key));
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return s;
}

static int appendEvents(lh_escalations *x, const lh_event *ev, size_t n, char *err, size_t errlen) {
    return lh_appender_append(x->b->appender, ev, n, NULL, err, errlen);
}

/* A pending escalation of agent with cache key key, born or not; under mu. Its bucket
 * only: walking every pending one (thousands, while nobody decides them) held mu, which
 * the store's writer takes at each birth, for the whole walk, twice per escalation. */
static esc *pendingLocked(lh_escalations *x, const unsigned char key[32], const char *agent) {
    for (esc *e = *bucketOf(x, key); e; e = e->hnext)
        if (!memcmp(e->key, key, 32) && !strcmp(e->agent, agent ? agent : "")) return e;
    return NULL;
}

int lh_escalations_on_decision(lh_escalations *x, lh_req *rq, const lh_request *r, lh_decision *d, lh_engine *eng,
                               lh_arena *a) {
    if (!x || d->action != LH_ESCALATE || !d->escalation) return 0;
    unsigned char key[32];
    keyOf(r, d, key);
    uint64_t now = lh_mono_ns();
    pthread_mutex_lock(&x->mu);
    /* A verdict given for the same question, still fresh. */
    for (int i = 0; d->escalation->cache_ttl_ms && i < LH_ESC_CACHE; i++) {
        const cached *c = &x->cache[i];
        if (!c->used || c->until <= now || memcmp(c->key, key, 32)) continue;
        memcpy(rq->esc.id, c->id, sizeof(rq->esc.id));
        d->action = c->allow ? LH_ALLOW : LH_DENY;
        d->tier = LH_TIER_EXPERT;
        d->reason = lh_arena_printf(a, "%s (cached expert verdict of %s)", c->reason, c->id);
        if (!d->reason) d->reason = "cached expert verdict";
        pthread_mutex_unlock(&x->mu);
        return 2;
    }
    /* The same agent asking the same question while it is pending joins it. */
    const esc *same = pendingLocked(x, key, r->agent);
    if (same) memcpy(rq->esc.id, same->id, sizeof(rq->esc.id));
    int full = x->npending >= x->max_pending || x->closing;
    pthread_mutex_unlock(&x->mu);
    if (same) return 1;
    if (full) return 0;
    esc *e = newEsc(x->b, r, d, key, eng, a);
    char *data = e ? createdData(e) : NULL;
    if (!data) { freeEsc(e); return 0; }
    pthread_mutex_lock(&x->mu);
    same = pendingLocked(x, key, r->agent);   /* made meanwhile by another request */
    if (same || x->closing) {
        if (same) memcpy(rq->esc.id, same->id, sizeof(rq->esc.id));
        pthread_mutex_unlock(&x->mu);
        free(data);
        freeEsc(e);
        return same ? 1 : 0;
    }
    /* Linked unborn: it counts and can be joined, nobody else sees it until its event is
     * durable (lh_escalations_born). */
    linkLocked(x, e);
    pthread_mutex_unlock(&x->mu);
    memcpy(rq->esc.id, e->id, sizeof(rq->esc.id));
    rq->esc.created = data;
    rq->esc.unborn = e;
    rq->esc.owner = x;
    rq->esc.req = rq;
    return 1;
}

/* Drop an unborn escalation whose event was not recorded; under mu. */
static void dropUnbornLocked(lh_escalations *x, esc *e) {
    LH_ASSERT(!e->born && e->state == ST_PENDING && !e->num);
    wakeDecisionsLocked(x, e);   /* joiners: it is unknown now, their escalate reply stands */
    unlinkPendingLocked(x, e);
    unhashLocked(x, e);
    x->npending--;
    if (e->prev) e->prev->next = e->next; else x->head = e->next;
    if (e->next) e->next->prev = e->prev; else x->tail = e->prev;
    freeEsc(e);
}

void lh_escalations_abandon(lh_req *rq) {
    free(rq->esc.created);
    rq->esc.created = NULL;
    if (rq->esc.unborn) lh_escalations_born(&rq->esc, -1);
}

void lh_escalations_born(void *arg, int rc) {
    lh_esc_wait *w = arg;
    lh_escalations *x = w->owner;
    esc *e = w->unborn;
    w->unborn = NULL;
    if (!x || !e) return;
    pthread_mutex_lock(&x->mu);
    if (rc) {
        dropUnbornLocked(x, e);
    } else {
        /* Seen from now: numbered, and moved to the pending list's tail, so the list stays
         * in the order of num (a long-poll's cursor, ?after=). */
        e->born = 1;
        e->num = (uint64_t)w->req->job.seqs[0];   /* the escalation.created event's */
        if (e->num > x->last_num) x->last_num = e->num;
        unlinkPendingLocked(x, e);
        e->pprev = x->ptail;
        if (x->ptail) x->ptail->pnext = e; else x->phead = e;
        x->ptail = e;
        wakeListsLocked(x);
        claimsOfferLocked(x, e, lh_mono_ns());
        publishLocked(x, "escalation.created", e);
        timerNeedLocked(x, e->deadline_mono);
    }
    pthread_mutex_unlock(&x->mu);
}

/* ------------------------------------------------------------------------------ */
/* Waiting                                                                          */
/* ------------------------------------------------------------------------------ */

int lh_escalations_woken(lh_escalations *x, const lh_req *r) {
    pthread_mutex_lock(&x->mu);
    int w = r->esc.woken;
    pthread_mutex_unlock(&x->mu);
    return w;
}

/* Link w (a decision's wait on e, or a list wait when e is NULL) and suspend c; under mu. */
static int suspendLocked(lh_escalations *x, struct MHD_Connection *c, lh_req *rq, esc *e) {
    if (x->closing || x->nwaiters >= x->max_waiters) return -1;
    lh_esc_wait *w = &rq->esc;
    w->conn = c;
    w->req = rq;
    w->woken = 0;
    w->waiting = 1;
    if (e) { w->next = e->waiters; e->waiters = w; }
    else if (w->claim_ns) { w->next = x->claimers; x->claimers = w; }
    else { w->next = x->lists; x->lists = w; }
    x->nwaiters++;
    MHD_suspend_connection(c);
    timerNeedLocked(x, w->until);
    return 0;
}

int lh_escalations_wait(lh_escalations *x, struct MHD_Connection *c, lh_req *rq) {
    pthread_mutex_lock(&x->mu);
    esc *e = findLocked(x, rq->esc.id);
    int rc = e && e->state == ST_PENDING ? suspendLocked(x, c, rq, e) : -1;
    pthread_mutex_unlock(&x->mu);
    return rc;
}

int lh_escalations_final(lh_escalations *x, const char *id, lh_arena *a, lh_esc_final *out) {
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&x->mu);
    const esc *e = findLocked(x, id);
    if (e) {
        out->pending = e->state == ST_PENDING;
        out->action = e->final == LH_ESC_TIMEOUT_ALLOW ? LH_ALLOW : e->final == LH_ESC_TIMEOUT_ASK ? LH_ESCALATE : LH_DENY;
        out->risk = e->risk;
        out->rule = lh_arena_strdup(a, e->rule);
        out->reason = lh_arena_strdup(a, e->final_reason ? e->final_reason : "");
        out->revision = lh_arena_strdup(a, e->revision);
    }
    pthread_mutex_unlock(&x->mu);
    if (!e) return -1;
    if (!out->pending && (!out->rule || !out->reason || !out->revision)) return -1;
    return 0;
}

enum MHD_Result lh_escalations_resumed(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    if (r->esc.list) return lh_route_escalations_list(b, c, r);
    return lh_route_decide_finish(b, c, r);
}

/* ------------------------------------------------------------------------------ */
/* Verdicts                                                                         */
/* ------------------------------------------------------------------------------ */

/* The final reason of a decided escalation (malloc'd). */
static char *finalReason(const esc *e, int allow, const char *expert, const char *reason) {
    char buf[FINAL_MAX + 1];
    size_t n = 0;
    if (!allow) {
        n = (size_t)snprintf(buf, sizeof(buf), "denied by expert %s: %s", expert, reason);
    } else {
        n = (size_t)snprintf(buf, sizeof(buf), "allowed by expert%s ", e->nv + 1 > 1 ? "s" : "");
        for (int i = 0; i <= e->nv && n < sizeof(buf); i++) {
            const char *who = i < e->nv ? e->v[i].expert : expert, *why = i < e->nv ? e->v[i].reason : reason;
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s: %s", i ? "; " : "", who, why);
        }
    }
    (void)n;
    return dupn(buf, FINAL_MAX);
}

/* The escalation id, born, once no change of it is in flight (waiting for one: two experts
 * answering in the same commit window). Under mu; NULL when unknown. */
static esc *idleLocked(lh_escalations *x, const char *id) {
    esc *e;
    while ((e = findBornLocked(x, id)) && e->busy) pthread_cond_wait(&x->idle_cv, &x->mu);
    return e;
}

/* A change of e is over (applied or not): the next may start; an expiry it held off is
 * due again. Under mu. */
static void changeDoneLocked(lh_escalations *x, esc *e) {
    e->busy = 0;
    pthread_cond_broadcast(&x->idle_cv);
    if (e->state == ST_PENDING) timerNeedLocked(x, e->deadline_mono);
}

enum MHD_Result lh_route_escalation_verdict(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_escalations *x = b->escalations;
    json_error_t je;
    if (!r->len || r->len > 16384 || !lh_utf8_valid(r->body, r->len))
        return lh_http_error(b, c, r, r->len > 16384 ? 413 : 400, r->len > 16384 ? "payload_too_large" : "bad_request",
                             "expected {\"decision\": \"allow\"|\"deny\", \"reason\": \"...\"} of at most 16 KiB");
    json_t *body = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    const char *dec = json_string_value(json_object_get(body, "decision"));
    const char *why = json_string_value(json_object_get(body, "reason"));
    if (!dec || (strcmp(dec, "allow") && strcmp(dec, "deny")) || !why || !*why || strlen(why) > LH_ESC_REASON_MAX) {
        json_decref(body);
        return lh_http_error(b, c, r, 400, "bad_request",
                             "expected {\"decision\": \"allow\"|\"deny\", \"reason\": \"...\"} (reason 1 to %d bytes)",
                             LH_ESC_REASON_MAX);
    }
    int allow = !strcmp(dec, "allow");
    const char *who = r->claims.agent;
    int status = 0, decided = 0;
    const char *code = NULL, *msg = NULL;
    char *fr = NULL, *vtext = NULL, *dtext = NULL;
    pthread_mutex_lock(&x->mu);
    esc *e = idleLocked(x, r->rid);
    if (!e) { status = 404; code = "not_found"; msg = "no such escalation"; }
    else if (e->state != ST_PENDING) { status = 409; code = "not_pending"; msg = "the escalation is no longer pending"; }
    else {
        for (int i = 0; i < e->nv; i++)
            if (!strcmp(e->v[i].expert, who)) { status = 409; code = "already_voted"; msg = "you already gave a verdict"; }
        if (!status && e->nv >= LH_ESC_MAX_VERDICTS) { status = 409; code = "not_pending"; msg = "too many verdicts"; }
    }
    if (!status && r->claims.role != LH_ROLE_ADMIN) {
        const char *cp[LH_ESC_MAX_CAPS];
        for (int i = 0; i < e->ncaps; i++) cp[i] = e->caps[i];
        if (!lh_experts_capable(b->experts, who, cp, e->ncaps)) {
            status = 403;
            code = "forbidden";
            msg = "you are not a registered expert with every capability this escalation needs";
        }
    }
    if (!status) {
        /* The events: a verdict and, when it decides, the decision, in one commit. */
        int allows = allow, denies = !allow;
        for (int i = 0; i < e->nv; i++) { allows += e->v[i].allow; denies += !e->v[i].allow; }
        decided = lh_esc_tally_votes(allows, denies, e->quorum) != LH_ESC_OPEN;
        json_t *vd = json_pack("{s:s,s:s,s:s,s:s}", "id", r->rid, "expert", who, "decision", dec, "reason", why);
        vtext = vd ? json_dumps(vd, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(vd);
        if (decided) {
            fr = finalReason(e, allow, who, why);
            json_t *vs = json_array();
            for (int i = 0; i < e->nv; i++)
                json_array_append_new(vs, json_pack("{s:s,s:s,s:s}", "expert", e->v[i].expert, "decision",
                                                    e->v[i].allow ? "allow" : "deny", "reason", e->v[i].reason));
            json_array_append_new(vs, json_pack("{s:s,s:s,s:s}", "expert", who, "decision", dec, "reason", why));
            json_t *dd = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", r->rid, "decision", allow ? "allow" : "deny",
                                   "decided_by", "experts", "reason", fr ? fr : "", "verdicts", vs);
            dtext = dd ? json_dumps(dd, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(dd);
        }
        if (!vtext || (decided && (!dtext || !fr)) || roomLocked(e)) { status = 500; code = "internal"; msg = "out of memory"; }
        else e->busy = 1;   /* ours until lh_escalations_verdict_done */
    }
    pthread_mutex_unlock(&x->mu);
    if (status) {
        json_decref(body);
        free(fr);
        free(vtext);
        free(dtext);
        return lh_http_error(b, c, r, status, code, "%s", msg);
    }
    /* Appended without holding this worker: the connection is suspended until the commit,
     * as a decision's (a worker blocked in a commit stalled every connection it serves:
     * the fast path's p99 under escalation traffic, bench/escalation_ab.sh). */
    lh_esc_wait *w = &r->esc;
    w->owner = x;
    w->req = r;
    w->changing = e;
    w->v_allow = allow;
    w->v_decided = decided;
    w->v_fr = fr;
    w->v_why = dupn(why, LH_ESC_REASON_MAX);
    json_decref(body);   /* why pointed into it */
    lh_event ev[2] = {{.type = "escalation.verdict", .agent = who, .aggregate = r->rid, .data = vtext},
                      {.type = "escalation.decided", .agent = who, .aggregate = r->rid, .data = dtext}};
    r->waiting = 1;   /* resumed: lh_route_decide_finish → lh_escalations_verdict_finish */
    int src = lh_appender_submit_n(b->appender, c, &r->job, ev, decided ? 2 : 1, lh_escalations_verdict_done, w);
    free(vtext);
    free(dtext);
    if (src) {
        r->waiting = 0;
        return lh_http_error(b, c, r, 503, "shutting_down", "the bridge is stopping");
    }
    return MHD_YES;
}

void lh_escalations_verdict_done(void *arg, int rc) {
    lh_esc_wait *w = arg;
    lh_escalations *x = w->owner;
    esc *e = w->changing;
    w->changing = NULL;
    char *why = w->v_why, *fr = w->v_fr;
    w->v_why = w->v_fr = NULL;
    pthread_mutex_lock(&x->mu);
    LH_ASSERT(e->busy && e->state == ST_PENDING);
    if (rc == 0) {
        LH_ASSERT(e->nv < e->vcap);   /* made room before the append */
        verdict *v = &e->v[e->nv++];
        snprintf(v->expert, sizeof(v->expert), "%s", w->req->claims.agent);
        v->allow = w->v_allow;
        v->reason = why ? why : strdup("");
        why = NULL;
        v->time_ns = wallNs();
        claimDropLocked(e, v->expert);   /* the claim is answered (its slot is the verdict's now) */
        staleLocked(e);
        publishLocked(x, "escalation.verdict", e);
        if (w->v_decided) {
            finishLocked(x, e, ST_DECIDED, w->v_allow ? LH_ESC_TIMEOUT_ALLOW : LH_ESC_TIMEOUT_DENY, fr);
            fr = NULL;
        }
    }
    changeDoneLocked(x, e);
    pthread_mutex_unlock(&x->mu);
    free(why);
    free(fr);
}

enum MHD_Result lh_escalations_verdict_finish(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_escalations *x = b->escalations;
    if (r->job.rc) return lh_http_error(b, c, r, 503, "store_unavailable", "the verdict could not be recorded");
    pthread_mutex_lock(&x->mu);
    esc *e = findBornLocked(x, r->rid);
    json_t *out = e ? escJson(e, 1) : NULL;
    pruneLocked(x);   /* e is not used after this */
    pthread_mutex_unlock(&x->mu);
    if (!e) return lh_http_error(b, c, r, 404, "not_found", "the escalation is no longer kept");
    if (!out) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    return lh_bridge_reply_json(c, r, 200, out);
}

/* ------------------------------------------------------------------------------ */
/* The timer thread: deadlines, waits, experts                                      */
/* ------------------------------------------------------------------------------ */

/* Expire escalation id if it is still pending and past its deadline and no change of it is
 * in flight (that change's end wakes the timer again). */
static void expireOne(lh_escalations *x, const char *id) {
    pthread_mutex_lock(&x->mu);
    esc *e = findBornLocked(x, id);
    int go = e && !e->busy && e->state == ST_PENDING && e->deadline_mono <= lh_mono_ns();
    lh_esc_timeout act = go ? e->on_timeout : LH_ESC_TIMEOUT_DENY;
    uint64_t dl = go ? (e->deadline_mono - e->created_mono) / 1000000ull : 0;
    if (go) e->busy = 1;
    pthread_mutex_unlock(&x->mu);
    if (!go) return;
    char data[400], err[256];
    snprintf(data, sizeof(data), "{\"action\":\"%s\",\"id\":\"%s\"}", lh_esc_timeout_name(act), id);
    lh_event ev = {.type = "escalation.expired", .agent = "", .aggregate = id, .data = data};
    if (appendEvents(x, &ev, 1, err, sizeof(err))) {
        fprintf(stderr, "lighthouse serve: escalation %s: expiry not recorded (retrying): %s\n", id, err);
        pthread_mutex_lock(&x->mu);
        e->busy = 0;
        pthread_cond_broadcast(&x->idle_cv);
        pthread_mutex_unlock(&x->mu);
        return;
    }
    char fr[200];
    snprintf(fr, sizeof(fr), "no expert verdict within the deadline of %" PRIu64 " ms: on_timeout %s", dl,
             lh_esc_timeout_name(act));
    pthread_mutex_lock(&x->mu);
    finishLocked(x, e, ST_EXPIRED, act, dupn(fr, sizeof(fr)));
    changeDoneLocked(x, e);
    pruneLocked(x);
    pthread_mutex_unlock(&x->mu);
}

/* Wake the waits of list that ran out; *next: the earliest of the others. */
static void endListLocked(lh_escalations *x, lh_esc_wait **list, uint64_t now, uint64_t *next) {
    for (lh_esc_wait **pp = list; *pp;) {
        lh_esc_wait *w = *pp;
        if (w->until <= now) { *pp = w->next; wakeOne(x, w); continue; }
        if (w->until < *next) *next = w->until;
        pp = &w->next;
    }
}

static void endWaitsLocked(lh_escalations *x, uint64_t now, uint64_t *next) {
    endListLocked(x, &x->lists, now, next);
    endListLocked(x, &x->claimers, now, next);
    for (esc *e = x->phead; e; e = e->pnext)   /* only pending ones have waiters */
        endListLocked(x, &e->waiters, now, next);
}

static void *timerMain(void *arg) {
    lh_escalations *x = arg;
    pthread_setname_np(pthread_self(), "lh-escalations");
    uint64_t lastSweep = 0;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        uint64_t now = lh_mono_ns(), next = now + 1000000000ull;
        char due[16][LH_ESC_ID_LEN + 1];
        int ndue = 0;
        for (esc *e = x->phead; e; e = e->pnext) {
            if (!e->born) continue;   /* lh_escalations_born wakes us for it */
            if (e->deadline_mono <= now) { if (ndue < 16) memcpy(due[ndue++], e->id, sizeof(due[0])); }
            else if (e->deadline_mono < next) next = e->deadline_mono;
            if (e->ncl) claimsLapseLocked(x, e, now, &next);
        }
        endWaitsLocked(x, now, &next);
        if (ndue || now - lastSweep >= 1000000000ull) {
            pthread_mutex_unlock(&x->mu);
            for (int i = 0; i < ndue; i++) expireOne(x, due[i]);
            if (now - lastSweep >= 1000000000ull) { lh_experts_sweep(x->b->experts); lastSweep = now; }
            pthread_mutex_lock(&x->mu);
            continue;   /* what changed while mu was free (timer_at was 0: nobody woke us) */
        }
        struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
        x->timer_at = next;
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
        x->timer_at = 0;
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ------------------------------------------------------------------------------ */
/* Rebuilding from the events                                                       */
/* ------------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static esc *escFromCreated(const json_t *d, uint64_t now_mono, int64_t now_wall) {
    const char *id = jstr(d, "id");
    if (strlen(id) != LH_ESC_ID_LEN || strncmp(id, "esc-", 4)) return NULL;
    esc *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->born = 1;   /* read back from the store */
    memcpy(e->id, id, LH_ESC_ID_LEN + 1);
    e->created_ns = json_integer_value(json_object_get(d, "created_ns"));
    e->deadline_ns = json_integer_value(json_object_get(d, "deadline_ns"));
    int64_t age = now_wall - e->created_ns;
    e->created_mono = age > 0 && (uint64_t)age < now_mono ? now_mono - (uint64_t)age : now_mono;
    e->deadline_mono = lh_esc_deadline_mono(now_mono, now_wall, e->deadline_ns);   /* past: expires at once */
    e->agent = dupn(jstr(d, "agent"), LH_STORE_MAX_NAME);
    e->session = dupn(jstr(d, "session"), LH_STORE_MAX_NAME);
    e->tool = dupn(jstr(d, "tool"), 256);
    e->rule = dupn(jstr(d, "rule"), 256);
    e->reason = dupn(jstr(d, "reason"), 2048);
    e->revision = dupn(jstr(d, "policy_revision"), 256);
    if (lh_risk_parse(jstr(d, "risk"), &e->risk)) e->risk = LH_RISK_MEDIUM;
    json_t *caps = json_object_get(d, "capabilities"), *v;
    size_t i;
    json_array_foreach(caps, i, v) if (e->ncaps < LH_ESC_MAX_CAPS && json_is_string(v))
        snprintf(e->caps[e->ncaps++], sizeof(e->caps[0]), "%s", json_string_value(v));
    e->quorum = (int)json_integer_value(json_object_get(d, "quorum"));
    if (e->quorum < 1 || e->quorum > LH_ESC_MAX_QUORUM) e->quorum = 1;
    const char *ot = jstr(d, "on_timeout");
    e->on_timeout = !strcmp(ot, "allow") ? LH_ESC_TIMEOUT_ALLOW : !strcmp(ot, "ask") ? LH_ESC_TIMEOUT_ASK
                                                                                     : LH_ESC_TIMEOUT_DENY;
    e->ttl_ms = (uint64_t)json_integer_value(json_object_get(d, "cache_ttl_s")) * 1000ull;
    lh_hex_decode(jstr(d, "key"), e->key, 32);
    e->request = json_deep_copy(json_object_get(d, "request"));
    e->context = json_deep_copy(json_object_get(d, "context"));
    if (!e->request) e->request = json_object();
    if (!e->context) e->context = json_object();
    if (!e->agent || !e->session || !e->tool || !e->rule || !e->reason || !e->revision) { freeEsc(e); return NULL; }
    return e;
}

static void applyEvent(lh_escalations *x, const lh_event *ev, uint64_t now_mono, int64_t now_wall) {
    json_t *d = json_loads(ev->data, 0, NULL);
    if (!d) return;
    if (!strcmp(ev->type, "escalation.created")) {
        esc *e = escFromCreated(d, now_mono, now_wall);
        if (e) e->num = (uint64_t)ev->seq;
        if (e && !findLocked(x, e->id)) linkLocked(x, e);
        else freeEsc(e);
        json_decref(d);
        return;
    }
    esc *e = findLocked(x, jstr(d, "id"));
    if (!e || e->state != ST_PENDING) { json_decref(d); return; }
    if (!strcmp(ev->type, "escalation.verdict") && roomLocked(e) == 0) {
        verdict *v = &e->v[e->nv++];
        snprintf(v->expert, sizeof(v->expert), "%s", jstr(d, "expert"));
        v->allow = !strcmp(jstr(d, "decision"), "allow");
        v->reason = dupn(jstr(d, "reason"), LH_ESC_REASON_MAX);
        if (!v->reason) v->reason = strdup("");
        v->time_ns = ev->time_ns;
        staleLocked(e);
    } else if (!strcmp(ev->type, "escalation.decided")) {
        int allow = !strcmp(jstr(d, "decision"), "allow");
        e->created_mono = now_mono;   /* not timed again */
        finishLocked(x, e, ST_DECIDED, allow ? LH_ESC_TIMEOUT_ALLOW : LH_ESC_TIMEOUT_DENY,
                     dupn(jstr(d, "reason"), FINAL_MAX));
        /* Its cache entry lives for what is left of its TTL. */
        int64_t left = (int64_t)e->ttl_ms * 1000000LL - (now_wall - ev->time_ns);
        int k = (x->cache_next + LH_ESC_CACHE - 1) % LH_ESC_CACHE;
        if (e->ttl_ms && !memcmp(x->cache[k].key, e->key, 32)) {
            if (left > 0) x->cache[k].until = now_mono + (uint64_t)left;
            else x->cache[k].used = 0;
        }
    } else if (!strcmp(ev->type, "escalation.expired")) {
        const char *a = jstr(d, "action");
        char fr[160];
        snprintf(fr, sizeof(fr), "no expert verdict within the deadline: on_timeout %s", a);
        e->created_mono = now_mono;
        finishLocked(x, e, ST_EXPIRED,
                     !strcmp(a, "allow") ? LH_ESC_TIMEOUT_ALLOW : !strcmp(a, "ask") ? LH_ESC_TIMEOUT_ASK
                                                                                   : LH_ESC_TIMEOUT_DENY,
                     dupn(fr, sizeof(fr)));
    }
    json_decref(d);
}

static int loadEvents(lh_escalations *x, char *err, size_t errlen) {
    lh_store_filter f = {.type = "escalation.*", .limit = 1000};
    uint64_t now_mono = lh_mono_ns();
    int64_t now_wall = wallNs();
    for (;;) {
        lh_event_list l = {0};
        if (lh_store_query(x->b->store, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        pthread_mutex_lock(&x->mu);
        for (size_t i = 0; i < l.n; i++) applyEvent(x, &l.events[i], now_mono, now_wall);
        pruneLocked(x);   /* the history stays bounded while it is read */
        pthread_mutex_unlock(&x->mu);
        size_t n = l.n;
        f.after_seq = l.cursor;
        lh_event_list_free(&l);
        if (n < f.limit) break;
    }
    /* Replayed outcomes are not this process's: the counters start at zero. */
    pthread_mutex_lock(&x->mu);
    memset(x->total, 0, sizeof(x->total));
    memset(x->hist, 0, sizeof(x->hist));
    x->hist_count = 0;
    x->hist_sum = 0;
    pthread_mutex_unlock(&x->mu);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Life                                                                             */
/* ------------------------------------------------------------------------------ */

lh_escalations *lh_escalations_new(lh_bridge *b, int max_pending, int max_waiters) {
    lh_escalations *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->b = b;
    x->max_pending = max_pending > 0 ? max_pending : 10000;
    x->max_waiters = max_waiters > 0 ? max_waiters : 4096;
    pthread_cond_init(&x->idle_cv, NULL);
    pthread_mutex_init(&x->mu, NULL);
    lh_cond_init_monotonic(&x->cv);
    return x;
}

int lh_escalations_start(lh_escalations *x, char *err, size_t errlen) {
    if (loadEvents(x, err, errlen)) return -1;
    if (pthread_create(&x->timer, NULL, timerMain, x)) {
        snprintf(err, errlen, "cannot start the escalations' timer thread");
        return -1;
    }
    x->started = 1;
    return 0;
}

void lh_escalations_shutdown(lh_escalations *x) {
    if (!x) return;
    pthread_mutex_lock(&x->mu);
    x->closing = 1;
    wakeListsLocked(x);
    wakeAllLocked(x, &x->claimers);
    for (esc *e = x->phead; e; e = e->pnext) wakeDecisionsLocked(x, e);
    pthread_mutex_unlock(&x->mu);
}

void lh_escalations_stop(lh_escalations *x) {
    if (!x || !x->started) return;
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    pthread_join(x->timer, NULL);
    x->started = 0;
}

void lh_escalations_free(lh_escalations *x) {
    if (!x) return;
    lh_escalations_stop(x);
    for (esc *e = x->head, *n; e; e = n) { n = e->next; freeEsc(e); }
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->idle_cv);
    free(x);
}

char *lh_escalations_metrics(lh_escalations *x) {
    static const char *const le[LH_HIST_BUCKETS] = {"2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
                                                    "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                                    "0.5", "1", "5"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    pthread_mutex_lock(&x->mu);
    fprintf(f,
            "# HELP lighthouse_bridge_escalations_pending Escalations waiting for experts.\n"
            "# TYPE lighthouse_bridge_escalations_pending gauge\n"
            "lighthouse_bridge_escalations_pending %d\n"
            "# HELP lighthouse_bridge_escalations_total Escalations ended, by outcome.\n"
            "# TYPE lighthouse_bridge_escalations_total counter\n"
            "lighthouse_bridge_escalations_total{outcome=\"allow\"} %" PRIu64 "\n"
            "lighthouse_bridge_escalations_total{outcome=\"deny\"} %" PRIu64 "\n"
            "lighthouse_bridge_escalations_total{outcome=\"expired\"} %" PRIu64 "\n"
            "# HELP lighthouse_bridge_escalation_duration_seconds Time from an escalation's creation to its end.\n"
            "# TYPE lighthouse_bridge_escalation_duration_seconds histogram\n",
            x->npending, x->total[0], x->total[1], x->total[2]);
    uint64_t cum = 0;
    for (int i = 0; i < LH_HIST_BUCKETS; i++) {
        cum += x->hist[i];
        fprintf(f, "lighthouse_bridge_escalation_duration_seconds_bucket{le=\"%s\"} %" PRIu64 "\n", le[i], cum);
    }
    cum += x->hist[LH_HIST_BUCKETS];
    fprintf(f, "lighthouse_bridge_escalation_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    fprintf(f, "lighthouse_bridge_escalation_duration_seconds_sum %.9f\n", x->hist_sum);
    fprintf(f, "lighthouse_bridge_escalation_duration_seconds_count %" PRIu64 "\n", x->hist_count);
    pthread_mutex_unlock(&x->mu);
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------------------------ */
/* Reading routes                                                                   */
/* ------------------------------------------------------------------------------ */

enum MHD_Result lh_route_escalations_list(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_escalations *x = b->escalations;
    const char *st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
    if (!st || !*st) st = "pending";
    int want = !strcmp(st, "pending") ? ST_PENDING : !strcmp(st, "decided") ? ST_DECIDED
             : !strcmp(st, "expired") ? ST_EXPIRED : !strcmp(st, "all") ? -1 : -2;
    int64_t wait = 0, limit = 100, after = 0, claimS = 0;
    if (want == -2 || lh_http_arg_int(c, "wait", 0, 3600, &wait) || lh_http_arg_int(c, "limit", 1, 1000, &limit) ||
        lh_http_arg_int(c, "after", 0, INT64_MAX, &after) ||
        lh_http_arg_int(c, "claim", 0, LH_ESC_CLAIM_MAX_S, &claimS) || (claimS && want != ST_PENDING))
        return lh_http_error(b, c, r, 400, "bad_request",
                             "state is pending, decided, expired or all; wait 0 to %d s; limit 1 to 1000; after a "
                             "cursor >= 0; claim 0 to %d s, with state pending",
                             LH_ESC_LIST_WAIT_MAX_S, LH_ESC_CLAIM_MAX_S);
    r->esc.claim_ns = (uint64_t)claimS * 1000000000ull;
    if (wait > LH_ESC_LIST_WAIT_MAX_S) wait = LH_ESC_LIST_WAIT_MAX_S;
    int expert = r->claims.role == LH_ROLE_EXPERT;
    if (expert) lh_experts_heartbeat(b->experts, r->claims.agent);
    uint64_t now = lh_mono_ns();
    if (!r->esc.list) r->esc.until = now + (uint64_t)wait * 1000000000ull;   /* the first call */
    /* {"escalations":[ESC,...]} from each escalation's cached text. */
    char *out = NULL;
    size_t len = 0, cap = 0;
    long n = 0;
    int bad = lh_growbuf_append(&out, &len, &cap, LIST_MAX, "{\"escalations\":[", 16);
    pthread_mutex_lock(&x->mu);
    /* The pending ones have a list of their own: a long-poll does not walk the finished. */
    uint64_t cursor = 0;   /* the last num looked at */
    int full = 0;
    for (esc *e = want == ST_PENDING ? x->phead : x->head; e && !bad;
         e = want == ST_PENDING ? e->pnext : e->next) {
        if (!e->born || (want >= 0 && e->state != want)) continue;
        if (e->num <= (uint64_t)after) continue;
        if (n == limit) { full = 1; break; }
        cursor = e->num;
        if (r->esc.claim_ns) {
            if (!mayClaimLocked(x, e, r, now)) continue;
            if (takeLocked(x, e, r->claims.agent, now, r->esc.claim_ns)) { bad = 1; break; }
        } else if (expert && want == ST_PENDING && !mayDecideLocked(b, e, r->claims.agent)) continue;
        size_t tl;
        const char *t = textLocked(e, &tl);
        bad = !t || (n && lh_growbuf_append(&out, &len, &cap, LIST_MAX, ",", 1)) ||
              lh_growbuf_append(&out, &len, &cap, LIST_MAX, t, tl);
        n++;
    }
    /* The cursor: past everything seen so far, unless the limit cut the list short (then
     * past the last one listed). The pending list is in num order. */
    if (!full && want == ST_PENDING) cursor = x->last_num;
    if (!bad && n == 0 && want == ST_PENDING && now < r->esc.until) {
        r->esc.list = 1;
        if (suspendLocked(x, c, r, NULL) == 0) {
            pthread_mutex_unlock(&x->mu);
            free(out);
            return MHD_YES;
        }
    }
    pthread_mutex_unlock(&x->mu);
    char tail[48];
    int tl = snprintf(tail, sizeof(tail), "],\"cursor\":%" PRIu64 "}", cursor > (uint64_t)after ? cursor : (uint64_t)after);
    if (bad || lh_growbuf_append(&out, &len, &cap, LIST_MAX, tail, (size_t)tl)) {
        free(out);
        return lh_http_error(b, c, r, 500, "internal", "out of memory, or the list is too large: ask with a lower limit");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(out); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

enum MHD_Result lh_route_escalations_stream(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    if (r->claims.role == LH_ROLE_EXPERT) lh_experts_heartbeat(b->experts, r->claims.agent);
    return lh_streams_open_push(b, c, r, LH_SSE_CH_ESCALATIONS);
}

enum MHD_Result lh_route_escalation_get(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_escalations *x = b->escalations;
    pthread_mutex_lock(&x->mu);
    const esc *e = findBornLocked(x, r->rid);
    int mine = e && (r->claims.role != LH_ROLE_BUILDER || !strcmp(e->agent, r->claims.agent));
    json_t *out = mine ? escJson(e, 1) : NULL;
    pthread_mutex_unlock(&x->mu);
    if (!e) return lh_http_error(b, c, r, 404, "not_found", "no such escalation");
    if (!mine) return lh_http_error(b, c, r, 403, "forbidden", "a builder may read only its own escalations");
    if (!out) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    return lh_bridge_reply_json(c, r, 200, out);
}

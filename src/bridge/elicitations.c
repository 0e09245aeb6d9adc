/* elicitations.c — agent-to-agent elicitations: the table, its events, expiry, long-polls
 * and the routes (see elicitations.h, docs/api.md "Elicitations").
 *
 * States: pending → accepted | declined | cancelled | expired; nothing leaves those four.
 * Every transition is appended as an event before the table changes (mu held across), so
 * a failed append leaves the elicitation as it was. */
#include "bridge/elicitations.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bridge/ratelimit.h"
#include "util/jschema.h"
#include "util/utf8.h"
#include "util/cond.h"

enum { ST_PENDING = 0, ST_ACCEPTED, ST_DECLINED, ST_CANCELLED, ST_EXPIRED, ST_COUNT };
static const char *const stateNames[ST_COUNT] = {"pending", "accepted", "declined", "cancelled", "expired"};

#define ID_LEN 20                 /* "eli-" + 16 hex */
#define NAME_MAX_BYTES 128        /* an agent (auth.h: LH_AUTH_NAME_MAX) */
#define NBUCKETS 13
/* lighthouse_bridge_elicitation_response_seconds: an answer takes seconds to minutes. */
static const double bucketS[NBUCKETS - 1] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
static const char *const bucketLe[NBUCKETS - 1] = {"0.01", "0.05", "0.1", "0.5", "1", "5", "10", "30", "60",
                                                    "300", "900", "3600"};

typedef struct eli {
    char id[ID_LEN + 1];
    char from[NAME_MAX_BYTES + 1], to[NAME_MAX_BYTES + 1];
    char *message;          /* malloc'd */
    json_t *schema;         /* owned */
    json_t *content;        /* owned; accepted only */
    int state;
    int warned;             /* its expiry could not be recorded, and that was logged */
    int64_t created_ns, expires_ns, answered_ns;
} eli;

/* A long-poll: a list (id "") or one elicitation, with its connection. */
typedef struct waiter {
    lh_elicits *e;
    struct MHD_Connection *c;       /* NULL in the unit tests */
    char agent[NAME_MAX_BYTES + 1];
    int admin;
    lh_elicit_query q;
    char id[ID_LEN + 1];
    uint64_t deadline;              /* monotonic ns */
    int fired, suspended;           /* guarded by mu */
    char *out;                      /* the reply once decided (then mu is no longer needed) */
    size_t outlen, off;
    struct waiter *next;
} waiter;

struct lh_elicits {
    lh_elicit_limits lim;
    lh_elicit_append_fn append;
    void *ctx;
    lh_ratelimit *rl;               /* creations per asking agent (ratelimit.c's own locks); NULL: no limit */
    lh_store *store;                /* where other replicas' steps are read from (NULL: none) */
    pthread_mutex_t mu;             /* guards everything below */
    pthread_cond_t cv;              /* the sweeper sleeps on it (with mu): new deadlines, the stop */
    eli **tab;                      /* in order of creation */
    size_t n, cap;
    int npending, ndone;
    waiter *waiters;
    int nwaiters;
    int closing, stopping, started;
    int64_t last_seq;               /* the store's elicitation.* events up to here are applied */
    int catchup_warned;
    pthread_t th;
    /* metrics */
    uint64_t created, outcomes[ST_COUNT], refused_rate, refused_pending;
    uint64_t resp_bucket[NBUCKETS];
    double resp_sum;
};

static uint64_t monoNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t wallNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------------------ */
/* The module                                                                       */
/* ------------------------------------------------------------------------------ */

lh_elicits *lh_elicits_new(const lh_elicit_limits *lim, lh_elicit_append_fn append, void *ctx) {
    lh_elicits *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->lim = *lim;
    e->append = append;
    e->ctx = ctx;
    /* No limit, no table (its 16,384 buckets are 2.5 MB). */
    e->rl = lim->rate > 0 ? lh_ratelimit_new(lim->rate, lim->burst) : NULL;
    if (lim->rate > 0 && !e->rl) { free(e); return NULL; }
    pthread_mutex_init(&e->mu, NULL);
    lh_cond_init_monotonic(&e->cv);
    return e;
}

static void eliFree(eli *x) {
    if (!x) return;
    free(x->message);
    json_decref(x->schema);
    json_decref(x->content);
    free(x);
}

static void stopSweeper(lh_elicits *e) {
    pthread_mutex_lock(&e->mu);
    int started = e->started;
    e->stopping = 1;
    e->started = 0;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (started) pthread_join(e->th, NULL);
}

void lh_elicits_stop(lh_elicits *e) {
    if (e) stopSweeper(e);
}

void lh_elicits_free(lh_elicits *e) {
    if (!e) return;
    stopSweeper(e);
    for (size_t i = 0; i < e->n; i++) eliFree(e->tab[i]);
    free(e->tab);
    /* Waiters belong to their connections (freed by MHD before this). */
    lh_ratelimit_free(e->rl);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* ------------------------------------------------------------------------------ */
/* The table (mu held)                                                              */
/* ------------------------------------------------------------------------------ */

static eli *findLocked(lh_elicits *e, const char *id) {
    for (size_t i = e->n; i-- > 0;)
        if (!strcmp(e->tab[i]->id, id)) return e->tab[i];
    return NULL;
}

/* Drop the oldest finished elicitations beyond LH_ELICIT_KEEP_DONE. */
static void trimDoneLocked(lh_elicits *e) {
    if (e->ndone <= LH_ELICIT_KEEP_DONE) return;
    size_t o = 0;
    int drop = e->ndone - LH_ELICIT_KEEP_DONE;
    for (size_t i = 0; i < e->n; i++) {
        if (drop > 0 && e->tab[i]->state != ST_PENDING) { eliFree(e->tab[i]); drop--; e->ndone--; continue; }
        e->tab[o++] = e->tab[i];
    }
    e->n = o;
}

static int insertLocked(lh_elicits *e, eli *x) {
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 64;
        eli **nt = realloc(e->tab, nc * sizeof(void *));   /* an array of pointers */
        if (!nt) return -1;
        e->tab = nt;
        e->cap = nc;
    }
    e->tab[e->n++] = x;
    if (x->state == ST_PENDING) e->npending++;
    else e->ndone++;
    return 0;
}

/* The ELI object (new reference; NULL when out of memory). */
static json_t *eliJson(const eli *x) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:O,s:s,s:I,s:I,s:O,s:I}", "id", x->id, "from", x->from, "to", x->to,
                          "message", x->message, "schema", x->schema, "state", stateNames[x->state], "created_ns",
                          (json_int_t)x->created_ns, "expires_ns", (json_int_t)x->expires_ns, "content",
                          x->content ? x->content : json_null(), "answered_ns", (json_int_t)x->answered_ns);
    return o;
}

/* Fire the waiters that may see a change of x: a wait on x, a list of its asker or
 * addressee. A fired waiter re-reads the table in its connection's reader. */
static void wakeOne(waiter *w);

static void catchUpQuietLocked(lh_elicits *e);

static void fireLocked(lh_elicits *e, const eli *x) {
    for (waiter *w = e->waiters; w; w = w->next) {
        if (w->fired) continue;
        int hit = w->id[0] ? !strcmp(w->id, x->id)
                           : !strcmp(w->agent, w->q.from_me ? x->from : x->to);
        if (hit) { w->fired = 1; wakeOne(w); }
    }
}

/* Record the transition of x to state st at now (mu held), then apply it. data: extra
 * members of the event (content), or NULL. 0, or -1 with err (x unchanged). */
static int transitionLocked(lh_elicits *e, eli *x, int st, const char *agent, json_t *content, int64_t now,
                            char *err, size_t errlen) {
    char type[48];
    snprintf(type, sizeof(type), "elicitation.%s", stateNames[st]);
    json_t *d = json_pack("{s:s,s:I}", "id", x->id, "answered_ns", (json_int_t)now);
    if (d && content) json_object_set(d, "content", content);
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    if (!data) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = e->append(e->ctx, type, agent, x->id, data, err, errlen);
    free(data);
    if (rc) return -1;
    x->state = st;
    x->answered_ns = now;
    if (content) x->content = json_incref(content);
    e->npending--;
    e->ndone++;
    e->outcomes[st]++;
    if (st == ST_ACCEPTED || st == ST_DECLINED) {
        double s = (double)(now - x->created_ns) / 1e9;
        if (s < 0) s = 0;
        int i = 0;
        while (i < NBUCKETS - 1 && s > bucketS[i]) i++;
        e->resp_bucket[i]++;
        e->resp_sum += s;
    }
    fireLocked(e, x);
    return 0;
}

/* Expire x if its time passed (mu held). 1 when it is (now) expired. */
static int expireIfDueLocked(lh_elicits *e, eli *x, int64_t now) {
    if (x->state != ST_PENDING || x->expires_ns > now) return x->state == ST_EXPIRED;
    char err[256];
    if (transitionLocked(e, x, ST_EXPIRED, "", NULL, now, err, sizeof(err))) {
        if (!x->warned)   /* once: the sweeper retries every second */
            fprintf(stderr, "lighthouse serve: elicitation %s: could not record its expiry (retrying): %s\n", x->id, err);
        x->warned = 1;
        return 0;
    }
    return 1;
}

static void setErr(lh_elicit_result *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void setErr(lh_elicit_result *res, int status, const char *code, const char *fmt, ...) {
    res->status = status;
    res->body = NULL;
    snprintf(res->code, sizeof(res->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
    va_end(ap);
}

static void setBody(lh_elicit_result *res, int status, json_t *body) {
    if (!body) { setErr(res, 500, "internal", "out of memory"); return; }
    res->status = status;
    res->body = body;
}

/* ------------------------------------------------------------------------------ */
/* Create                                                                           */
/* ------------------------------------------------------------------------------ */

static int validName(const char *s, size_t n) {
    if (!n || n > NAME_MAX_BYTES || !lh_utf8_valid(s, n)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

static json_t *parseBody(const char *body, size_t len, lh_elicit_result *res) {
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        setErr(res, 400, "bad_request", "the body must be a JSON object%s%s", j ? "" : ": ", j ? "" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

static int newId(char *out) {
    unsigned char r[8];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) return -1;
    snprintf(out, ID_LEN + 1, "eli-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
    return 0;
}

/* Seconds until the first pending elicitation to `to` expires (the Retry-After of a full
 * queue), at least 1. mu held. */
static int firstExpiryLocked(lh_elicits *e, const char *to, int64_t now) {
    int64_t first = INT64_MAX;
    for (size_t i = 0; i < e->n; i++) {
        eli *x = e->tab[i];
        if (x->state == ST_PENDING && (!to || !strcmp(x->to, to)) && x->expires_ns < first) first = x->expires_ns;
    }
    if (first == INT64_MAX || first <= now) return 1;
    int64_t s = (first - now + 999999999) / 1000000000;
    return s < 1 ? 1 : s > LH_ELICIT_MAX_EXPIRES_S ? LH_ELICIT_MAX_EXPIRES_S : (int)s;
}

void lh_elicits_create(lh_elicits *e, const lh_elicit_caller *who, const char *body, size_t len, int64_t now,
                       lh_elicit_result *res) {
    memset(res, 0, sizeof(*res));
    int retry = 0;
    if (e->rl && lh_ratelimit_take(e->rl, who->agent, (uint64_t)now, &retry)) {
        pthread_mutex_lock(&e->mu);
        e->refused_rate++;
        pthread_mutex_unlock(&e->mu);
        setErr(res, 429, "rate_limited", "agent %s is over its elicitation rate limit (%g a second, burst %g); retry in %d s",
               who->agent, e->lim.rate, e->lim.burst, retry);
        res->retry_after = retry;
        return;
    }
    json_t *j = parseBody(body, len, res);
    if (!j) return;
    const json_t *toJ = json_object_get(j, "to"), *msgJ = json_object_get(j, "message");
    const json_t *schema = json_object_get(j, "schema"), *expJ = json_object_get(j, "expires_in_s");
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "to") && strcmp(k, "message") && strcmp(k, "schema") && strcmp(k, "expires_in_s")) {
            setErr(res, 400, "bad_request", "unknown member \"%.60s\" (to, message, schema, expires_in_s)", k);
            goto out;
        }
    }
    if (!json_is_string(toJ) || !validName(json_string_value(toJ), json_string_length(toJ))) {
        setErr(res, 400, "bad_request", "\"to\" must be the addressee's agent name (1 to %d bytes)", NAME_MAX_BYTES);
        goto out;
    }
    if (!strcmp(json_string_value(toJ), who->agent)) {
        setErr(res, 400, "bad_request", "an agent cannot ask itself (\"to\" is the caller)");
        goto out;
    }
    if (!json_is_string(msgJ) || !json_string_length(msgJ) || json_string_length(msgJ) > e->lim.max_message) {
        setErr(res, 400, "bad_request", "\"message\" must be a string of 1 to %zu bytes", e->lim.max_message);
        goto out;
    }
    if (memchr(json_string_value(msgJ), 0, json_string_length(msgJ))) {
        setErr(res, 400, "bad_request", "\"message\" holds a NUL character");
        goto out;
    }
    double expires = LH_ELICIT_DEFAULT_EXPIRES_S;
    if (expJ) {
        expires = json_is_number(expJ) ? json_number_value(expJ) : -1;
        if (!(expires > 0 && expires <= LH_ELICIT_MAX_EXPIRES_S)) {
            setErr(res, 400, "bad_request", "\"expires_in_s\" must be a number of seconds above 0, at most %d",
                   LH_ELICIT_MAX_EXPIRES_S);
            goto out;
        }
    }
    char why[400];
    if (!schema) {
        setErr(res, 400, "bad_schema", "\"schema\" is required (the MCP elicitation schema of the answer)");
        goto out;
    }
    char *compact = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t slen = compact ? strlen(compact) : 0;
    free(compact);
    if (!compact || slen > e->lim.max_schema) {
        setErr(res, compact ? 413 : 500, compact ? "schema_too_large" : "internal",
               "the schema is %zu bytes; at most %zu", slen, e->lim.max_schema);
        goto out;
    }
    if (lh_jschema_check(schema, why, sizeof(why))) {
        setErr(res, 400, "bad_schema", "schema: %s", why);
        goto out;
    }
    eli *x = calloc(1, sizeof(*x));
    if (!x || newId(x->id)) { free(x); setErr(res, 500, "internal", "out of memory or no randomness"); goto out; }
    snprintf(x->from, sizeof(x->from), "%s", who->agent);
    snprintf(x->to, sizeof(x->to), "%s", json_string_value(toJ));
    x->message = strdup(json_string_value(msgJ));
    x->schema = json_deep_copy(schema);
    x->state = ST_PENDING;
    x->created_ns = now;
    x->expires_ns = now + (int64_t)(expires * 1e9);
    if (!x->message || !x->schema) { eliFree(x); setErr(res, 500, "internal", "out of memory"); goto out; }

    pthread_mutex_lock(&e->mu);
    catchUpQuietLocked(e);
    int toCount = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->tab[i]->state == ST_PENDING && !strcmp(e->tab[i]->to, x->to)) toCount++;
    if (toCount >= e->lim.max_pending_to || e->npending >= e->lim.max_pending) {
        int all = e->npending >= e->lim.max_pending;
        res->retry_after = firstExpiryLocked(e, all ? NULL : x->to, now);
        e->refused_pending++;
        pthread_mutex_unlock(&e->mu);
        if (all) setErr(res, 429, "too_many_pending", "%d elicitations are pending in all (the limit); retry in %d s",
                        e->lim.max_pending, res->retry_after);
        else setErr(res, 429, "too_many_pending", "%s already has %d pending elicitations (the limit); retry in %d s",
                    x->to, e->lim.max_pending_to, res->retry_after);
        eliFree(x);
        goto out;
    }
    json_t *obj = eliJson(x);
    json_object_del(obj, "content");
    json_object_del(obj, "answered_ns");
    char *data = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(obj);
    char err[256];
    if (!data || e->append(e->ctx, "elicitation.created", x->from, x->id, data, err, sizeof(err))) {
        pthread_mutex_unlock(&e->mu);
        free(data);
        if (!data) setErr(res, 500, "internal", "out of memory");
        else setErr(res, 503, "store_unavailable", "could not record the elicitation: %s", err);
        eliFree(x);
        goto out;
    }
    free(data);
    if (insertLocked(e, x)) {
        /* Recorded but not held: it would come back at the next start; say so. */
        pthread_mutex_unlock(&e->mu);
        eliFree(x);
        setErr(res, 500, "internal", "out of memory after recording the elicitation");
        goto out;
    }
    e->created++;
    fireLocked(e, x);
    pthread_cond_signal(&e->cv);   /* a nearer expiry */
    setBody(res, 201, eliJson(x));
    pthread_mutex_unlock(&e->mu);
out:
    json_decref(j);
}

/* ------------------------------------------------------------------------------ */
/* Respond, get, list                                                               */
/* ------------------------------------------------------------------------------ */

void lh_elicits_respond(lh_elicits *e, const lh_elicit_caller *who, const char *id, const char *body, size_t len,
                        int64_t now, lh_elicit_result *res) {
    memset(res, 0, sizeof(*res));
    json_t *j = parseBody(body, len, res);
    if (!j) return;
    const char *action = json_string_value(json_object_get(j, "action"));
    json_t *content = json_object_get(j, "content");
    int st = !action ? -1 : !strcmp(action, "accept") ? ST_ACCEPTED : !strcmp(action, "decline") ? ST_DECLINED
           : !strcmp(action, "cancel") ? ST_CANCELLED : -1;
    if (st < 0) {
        setErr(res, 400, "bad_request", "\"action\" must be accept, decline or cancel");
        json_decref(j);
        return;
    }
    if (st != ST_ACCEPTED && content && !json_is_null(content)) {
        setErr(res, 400, "bad_request", "only accept takes \"content\"");
        json_decref(j);
        return;
    }
    pthread_mutex_lock(&e->mu);
    catchUpQuietLocked(e);
    eli *x = findLocked(e, id);
    if (!x) {
        setErr(res, 404, "not_found", "no elicitation %.40s", id);
    } else if ((st == ST_CANCELLED && strcmp(who->agent, x->from)) || (st != ST_CANCELLED && strcmp(who->agent, x->to))) {
        setErr(res, 403, "forbidden", st == ST_CANCELLED ? "only the asker (%s) may cancel %s"
                                                          : "only the addressee (%s) may answer %s",
               st == ST_CANCELLED ? x->from : x->to, x->id);
    } else if (expireIfDueLocked(e, x, now) || x->state != ST_PENDING) {
        setErr(res, 409, "not_pending", "%s is %s", x->id, stateNames[x->state]);
    } else {
        char field[LH_JSCHEMA_MAX_NAME + 1], why[400], err[256];
        size_t clen = 0;
        if (st == ST_ACCEPTED) {
            char *cj = content ? json_dumps(content, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            clen = cj ? strlen(cj) : 0;
            free(cj);
        }
        if (st == ST_ACCEPTED && clen > LH_ELICIT_MAX_CONTENT) {
            setErr(res, 413, "payload_too_large", "the content is %zu bytes; at most %u", clen, LH_ELICIT_MAX_CONTENT);
        } else if (st == ST_ACCEPTED && lh_jschema_validate(x->schema, content, field, sizeof(field), why, sizeof(why))) {
            setErr(res, 400, "schema_mismatch", "content does not match the schema: %s", why);
        } else if (transitionLocked(e, x, st, who->agent, st == ST_ACCEPTED ? content : NULL, now, err, sizeof(err))) {
            setErr(res, 503, "store_unavailable", "could not record the response: %s", err);
        } else {
            setBody(res, 200, eliJson(x));
        }
    }
    pthread_mutex_unlock(&e->mu);
    json_decref(j);
}

static int mayRead(const lh_elicit_caller *who, const eli *x) {
    return who->admin || !strcmp(who->agent, x->from) || !strcmp(who->agent, x->to);
}

/* GET one (mu held). */
static void getLocked(lh_elicits *e, const lh_elicit_caller *who, const char *id, lh_elicit_result *res) {
    eli *x = findLocked(e, id);
    if (!x) setErr(res, 404, "not_found", "no elicitation %.40s", id);
    else if (!mayRead(who, x)) setErr(res, 403, "forbidden", "only the asker, the addressee or an admin may read %s", x->id);
    else setBody(res, 200, eliJson(x));
}

void lh_elicits_get(lh_elicits *e, const lh_elicit_caller *who, const char *id, lh_elicit_result *res) {
    memset(res, 0, sizeof(*res));
    pthread_mutex_lock(&e->mu);
    catchUpQuietLocked(e);
    getLocked(e, who, id, res);
    pthread_mutex_unlock(&e->mu);
}

/* The list (mu held); *count: how many it holds. */
static json_t *listLocked(lh_elicits *e, const lh_elicit_caller *who, const lh_elicit_query *q, size_t *count) {
    json_t *arr = json_array();
    *count = 0;
    for (size_t i = 0; arr && i < e->n && *count < q->limit; i++) {
        const eli *x = e->tab[i];
        if (strcmp(who->agent, q->from_me ? x->from : x->to)) continue;
        if (!q->all && x->state != ST_PENDING) continue;
        if (json_array_append_new(arr, eliJson(x))) { json_decref(arr); return NULL; }
        (*count)++;
    }
    return arr ? json_pack("{s:o}", "elicitations", arr) : NULL;
}

void lh_elicits_list(lh_elicits *e, const lh_elicit_caller *who, const lh_elicit_query *q, lh_elicit_result *res) {
    memset(res, 0, sizeof(*res));
    size_t n;
    pthread_mutex_lock(&e->mu);
    catchUpQuietLocked(e);
    json_t *out = listLocked(e, who, q, &n);
    pthread_mutex_unlock(&e->mu);
    setBody(res, 200, out);
}

int lh_elicits_pending(lh_elicits *e) {
    pthread_mutex_lock(&e->mu);
    int n = e->npending;
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* ------------------------------------------------------------------------------ */
/* Expiry, replay, metrics                                                          */
/* ------------------------------------------------------------------------------ */

/* Expire what is due and fire waiters past their deadline (mu held). *next: the monotonic
 * time of the next thing to do (UINT64_MAX: nothing). */
static int sweepLocked(lh_elicits *e, int64_t now, uint64_t mono, uint64_t *next) {
    int expired = 0;
    uint64_t nx = UINT64_MAX;
    for (size_t i = 0; i < e->n; i++) {
        eli *x = e->tab[i];
        if (x->state != ST_PENDING) continue;
        if (expireIfDueLocked(e, x, now)) { expired++; continue; }
        uint64_t at = x->expires_ns > now ? mono + (uint64_t)(x->expires_ns - now) : mono + 1000000000ull;
        if (at < nx) nx = at;
    }
    for (waiter *w = e->waiters; w; w = w->next) {
        if (w->fired) continue;
        if (w->deadline <= mono) { w->fired = 1; wakeOne(w); }
        else if (w->deadline < nx) nx = w->deadline;
    }
    if (expired) trimDoneLocked(e);
    *next = nx;
    return expired;
}

int lh_elicits_sweep(lh_elicits *e, int64_t now, uint64_t mono) {
    uint64_t next;
    pthread_mutex_lock(&e->mu);
    int n = sweepLocked(e, now, mono, &next);
    pthread_mutex_unlock(&e->mu);
    return n;
}

static void *sweeperMain(void *arg) {
    lh_elicits *e = arg;
    pthread_setname_np(pthread_self(), "lh-elicit");
    pthread_mutex_lock(&e->mu);
    while (!e->stopping) {
        uint64_t next, mono = monoNs();
        catchUpQuietLocked(e);   /* other replicas' steps wake this bridge's waiters too */
        sweepLocked(e, wallNs(), mono, &next);
        /* At least once a second: a wall clock that jumps moves the expiries. */
        if (next > mono + 1000000000ull) next = mono + 1000000000ull;
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)};
        pthread_cond_timedwait(&e->cv, &e->mu, &ts);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Apply one recorded event (mu held): a creation not in the table, or the end of a pending
 * one; anything else (this bridge's own steps read back, a repeat) changes nothing.
 * Returns the elicitation it changed, or NULL. */
static eli *replayLocked(lh_elicits *e, const lh_event *ev) {
    if (strncmp(ev->type, "elicitation.", 12)) return NULL;
    json_t *d = json_loads(ev->data, 0, NULL);
    const char *id = json_string_value(json_object_get(d, "id"));
    if (!id || strlen(id) != ID_LEN) { json_decref(d); return NULL; }
    eli *x = findLocked(e, id), *changed = NULL;
    if (!strcmp(ev->type, "elicitation.created") && !x) {
        const char *from = json_string_value(json_object_get(d, "from")), *to = json_string_value(json_object_get(d, "to"));
        const char *msg = json_string_value(json_object_get(d, "message"));
        json_t *schema = json_object_get(d, "schema");
        x = calloc(1, sizeof(*x));
        if (x && from && to && msg && json_is_object(schema) && strlen(from) <= NAME_MAX_BYTES && strlen(to) <= NAME_MAX_BYTES) {
            snprintf(x->id, sizeof(x->id), "%s", id);
            snprintf(x->from, sizeof(x->from), "%s", from);
            snprintf(x->to, sizeof(x->to), "%s", to);
            x->message = strdup(msg);
            x->schema = json_incref(schema);
            x->state = ST_PENDING;
            x->created_ns = (int64_t)json_integer_value(json_object_get(d, "created_ns"));
            x->expires_ns = (int64_t)json_integer_value(json_object_get(d, "expires_ns"));
            if (!x->message || insertLocked(e, x)) eliFree(x);
            else changed = x;
        } else {
            free(x);
        }
    } else if (x && x->state == ST_PENDING) {
        const char *what = ev->type + 12;
        for (int st = ST_ACCEPTED; st < ST_COUNT; st++) {
            if (strcmp(what, stateNames[st])) continue;
            x->state = st;
            x->answered_ns = (int64_t)json_integer_value(json_object_get(d, "answered_ns"));
            json_t *content = json_object_get(d, "content");
            if (st == ST_ACCEPTED && content) x->content = json_incref(content);
            e->npending--;
            e->ndone++;
            changed = x;
            break;
        }
    }
    json_decref(d);
    return changed;
}

void lh_elicits_replay(lh_elicits *e, const lh_event *ev) {
    pthread_mutex_lock(&e->mu);
    if (replayLocked(e, ev)) trimDoneLocked(e);
    pthread_mutex_unlock(&e->mu);
}

/* Apply the store's elicitation.* events after last_seq (mu held): the rebuild at start,
 * and then the steps other replicas on the same store took. Waiters that may see a change
 * are fired. Without a store, nothing. -1 when the store cannot be read. */
static int catchUpLocked(lh_elicits *e, char *err, size_t errlen) {
    if (!e->store) return 0;
    for (;;) {
        lh_store_filter f = {.type = "elicitation.*", .after_seq = e->last_seq, .limit = LH_STORE_MAX_LIMIT};
        lh_event_list l = {0};
        if (lh_store_query(e->store, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        for (size_t i = 0; i < l.n; i++) {
            eli *x = replayLocked(e, &l.events[i]);
            if (x) fireLocked(e, x);
            e->last_seq = l.events[i].seq;
        }
        size_t got = l.n;
        lh_event_list_free(&l);
        trimDoneLocked(e);
        if (got < LH_STORE_MAX_LIMIT) return 0;
    }
}

/* catchUpLocked for a request: a store that cannot be read is logged once, and the
 * request goes on with what this bridge knows. */
static void catchUpQuietLocked(lh_elicits *e) {
    char err[256];
    if (catchUpLocked(e, err, sizeof(err)) == 0) { e->catchup_warned = 0; return; }
    if (!e->catchup_warned)
        fprintf(stderr, "lighthouse serve: elicitations: cannot read other replicas' steps from the store: %s\n", err);
    e->catchup_warned = 1;
}

char *lh_elicits_metrics(lh_elicits *e) {
    if (!e) return NULL;
    char buf[4096];
    size_t o = 0;
#define PUT(...) do { int k_ = snprintf(buf + o, sizeof(buf) - o, __VA_ARGS__); if (k_ > 0 && (size_t)k_ < sizeof(buf) - o) o += (size_t)k_; } while (0)
    pthread_mutex_lock(&e->mu);
    PUT("# HELP lighthouse_bridge_elicitations_total Elicitations by outcome (created, then accepted, declined, "
        "cancelled or expired; refused_rate and refused_pending: not created).\n"
        "# TYPE lighthouse_bridge_elicitations_total counter\n");
    PUT("lighthouse_bridge_elicitations_total{outcome=\"created\"} %" PRIu64 "\n", e->created);
    for (int st = ST_ACCEPTED; st < ST_COUNT; st++)
        PUT("lighthouse_bridge_elicitations_total{outcome=\"%s\"} %" PRIu64 "\n", stateNames[st], e->outcomes[st]);
    PUT("lighthouse_bridge_elicitations_total{outcome=\"refused_rate\"} %" PRIu64 "\n", e->refused_rate);
    PUT("lighthouse_bridge_elicitations_total{outcome=\"refused_pending\"} %" PRIu64 "\n", e->refused_pending);
    PUT("# HELP lighthouse_bridge_elicitations_pending Elicitations waiting for an answer.\n"
        "# TYPE lighthouse_bridge_elicitations_pending gauge\nlighthouse_bridge_elicitations_pending %d\n", e->npending);
    PUT("# HELP lighthouse_bridge_elicitation_waiters Long-polls on elicitations waiting now.\n"
        "# TYPE lighthouse_bridge_elicitation_waiters gauge\nlighthouse_bridge_elicitation_waiters %d\n", e->nwaiters);
    PUT("# HELP lighthouse_bridge_elicitation_response_seconds Time from an elicitation's creation to the "
        "addressee's accept or decline, in seconds.\n"
        "# TYPE lighthouse_bridge_elicitation_response_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        cum += e->resp_bucket[i];
        PUT("lighthouse_bridge_elicitation_response_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
            i < NBUCKETS - 1 ? bucketLe[i] : "+Inf", cum);
    }
    PUT("lighthouse_bridge_elicitation_response_seconds_sum %.6f\n"
        "lighthouse_bridge_elicitation_response_seconds_count %" PRIu64 "\n", e->resp_sum, cum);
    pthread_mutex_unlock(&e->mu);
#undef PUT
    return strdup(buf);
}

/* ------------------------------------------------------------------------------ */
/* In the bridge: start, shutdown, long-polls, routes                               */
/* ------------------------------------------------------------------------------ */

static int hostAppend(void *ctx, const char *type, const char *agent, const char *aggregate, const char *data,
                      char *err, size_t errlen) {
    return lh_bridge_append(ctx, type, agent, aggregate, data, NULL, err, errlen);
}

lh_elicits *lh_elicits_start(lh_bridge *b, char *err, size_t errlen) {
    lh_elicit_limits lim = {
        .rate = b->cfg.elicit_rate, .burst = b->cfg.elicit_burst, .max_pending_to = b->cfg.elicit_max_pending_to,
        .max_pending = b->cfg.elicit_max_pending, .max_message = b->cfg.elicit_max_message,
        .max_schema = b->cfg.elicit_max_schema, .max_waiters = b->cfg.elicit_max_waiters};
    lh_elicits *e = lh_elicits_new(&lim, hostAppend, b);
    if (!e) { snprintf(err, errlen, "out of memory"); return NULL; }
    e->store = b->store;
    char serr[256];
    pthread_mutex_lock(&e->mu);
    int rc = catchUpLocked(e, serr, sizeof(serr));
    pthread_mutex_unlock(&e->mu);
    if (rc) {
        snprintf(err, errlen, "event store: reading the elicitations: %s", serr);
        lh_elicits_free(e);
        return NULL;
    }
    if (pthread_create(&e->th, NULL, sweeperMain, e) != 0) {
        snprintf(err, errlen, "could not start the elicitation sweeper: %s", strerror(errno));
        lh_elicits_free(e);
        return NULL;
    }
    e->started = 1;
    return e;
}

/* Resume a fired waiter's connection if its reader parked it (mu held). */
static void wakeOne(waiter *w) {
    if (w->suspended && w->c) {
        w->suspended = 0;
        MHD_resume_connection(w->c);
    }
}

void lh_elicits_shutdown(lh_elicits *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    e->closing = 1;
    for (waiter *w = e->waiters; w; w = w->next) { w->fired = 1; wakeOne(w); }
    pthread_mutex_unlock(&e->mu);
}

/* Evaluate w's query (mu held). 1 when the reply is final (its text in w->out). */
static int evaluateLocked(lh_elicits *e, waiter *w, uint64_t mono) {
    lh_elicit_caller who = {.agent = w->agent, .admin = w->admin};
    lh_elicit_result res = {0};
    int done;
    if (w->id[0]) {
        getLocked(e, &who, w->id, &res);
        /* Gone (trimmed) or unreadable now: answer what a GET says. */
        done = res.status != 200 || strcmp(json_string_value(json_object_get(res.body, "state")), "pending");
    } else {
        size_t n;
        res.body = listLocked(e, &who, &w->q, &n);
        res.status = res.body ? 200 : 500;
        done = n > 0;
    }
    if (!done && mono < w->deadline && !e->closing && res.status == 200) { json_decref(res.body); return 0; }
    if (res.status == 200) w->out = json_dumps(res.body, JSON_COMPACT);
    else {
        json_t *er = json_pack("{s:{s:s,s:s}}", "error", "code", res.code, "message", res.msg);
        w->out = er ? json_dumps(er, JSON_COMPACT) : NULL;
        json_decref(er);
    }
    json_decref(res.body);
    if (!w->out) w->out = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    w->outlen = w->out ? strlen(w->out) : 0;
    return 1;
}

static ssize_t waitReader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    waiter *w = cls;
    lh_elicits *e = w->e;
    if (!w->out) {
        pthread_mutex_lock(&e->mu);
        if (w->fired) {
            if (!evaluateLocked(e, w, monoNs())) w->fired = 0;
        }
        if (!w->out) {
            /* Nothing yet: park the connection until a change or the deadline fires it. */
            w->suspended = 1;
            MHD_suspend_connection(w->c);
            pthread_mutex_unlock(&e->mu);
            return 0;
        }
        pthread_mutex_unlock(&e->mu);
    }
    if (!w->out) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (w->off >= w->outlen) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t k = w->outlen - w->off;
    if (k > max) k = max;
    memcpy(buf, w->out + w->off, k);
    w->off += k;
    return (ssize_t)k;
}

static void waitFree(void *cls) {
    waiter *w = cls;
    lh_elicits *e = w->e;
    pthread_mutex_lock(&e->mu);
    for (waiter **pp = &e->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) { *pp = w->next; e->nwaiters--; break; }
    pthread_mutex_unlock(&e->mu);
    free(w->out);
    free(w);
}

/* The ?wait= argument: 0 when absent; -1 when not a number of seconds. Capped at max. */
static double waitArg(struct MHD_Connection *c) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || *end || !(s >= 0)) return -1;
    return s > LH_ELICIT_MAX_WAIT_S ? LH_ELICIT_MAX_WAIT_S : s;
}

static enum MHD_Result reply(lh_bridge *b, struct MHD_Connection *c, lh_req *r, lh_elicit_result *res) {
    if (res->body) return lh_bridge_reply_json(c, r, res->status, res->body);
    if (res->retry_after > 0)
        return lh_http_error_retry(b, c, r, res->status, res->code, res->retry_after, "%s", res->msg);
    return lh_http_error(b, c, r, res->status, res->code, "%s", res->msg);
}

/* Answer now if w's query is already final or wait is 0; else park the connection with a
 * streamed reply that the reader completes once fired. */
static enum MHD_Result waitOrReply(lh_bridge *b, struct MHD_Connection *c, lh_req *r, waiter *w, double wait) {
    lh_elicits *e = b->elicits;
    uint64_t mono = monoNs();
    w->e = e;
    w->c = c;
    w->deadline = mono + (uint64_t)(wait * 1e9);
    pthread_mutex_lock(&e->mu);
    catchUpQuietLocked(e);
    int final = evaluateLocked(e, w, mono);
    if (!final && e->nwaiters >= e->lim.max_waiters) {
        pthread_mutex_unlock(&e->mu);
        free(w);
        return lh_http_error_retry(b, c, r, 503, "too_many_waiters", 1, "%d long-polls are waiting (the limit); retry",
                                   e->lim.max_waiters);
    }
    if (!final) {
        w->next = e->waiters;
        e->waiters = w;
        e->nwaiters++;
        pthread_cond_signal(&e->cv);   /* a nearer deadline */
    }
    pthread_mutex_unlock(&e->mu);
    if (final) {
        /* The first evaluation is the answer: a plain reply with its status. */
        enum MHD_Result rc = lh_http_reply(c, r, 200, "application/json", w->out, w->outlen);
        free(w->out);
        free(w);
        return rc;
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, waitReader, w, waitFree);
    if (!resp) { waitFree(w); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

static const char *argOf(struct MHD_Connection *c, const char *k) {
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

enum MHD_Result lh_route_elicitations(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_elicits *e = b->elicits;
    lh_elicit_caller who = {.agent = r->claims.agent, .admin = r->claims.role == LH_ROLE_ADMIN};
    lh_elicit_result res;
    if (r->is_post) {
        if (r->len && lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth)
            return lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        lh_elicits_create(e, &who, r->body, r->len, wallNs(), &res);
        return reply(b, c, r, &res);
    }
    const char *forA = argOf(c, "for"), *fromA = argOf(c, "from"), *stA = argOf(c, "state"), *limA = argOf(c, "limit");
    waiter *w = calloc(1, sizeof(*w));
    if (!w) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    if ((forA && fromA) || (forA && strcmp(forA, "me")) || (fromA && strcmp(fromA, "me"))) {
        free(w);
        return lh_http_error(b, c, r, 400, "bad_request", "give for=me (asked of you) or from=me (asked by you)");
    }
    w->q.from_me = fromA != NULL;
    if (stA && strcmp(stA, "pending") && strcmp(stA, "all")) {
        free(w);
        return lh_http_error(b, c, r, 400, "bad_request", "state must be pending or all");
    }
    w->q.all = stA && !strcmp(stA, "all");
    w->q.limit = 100;
    if (limA) {
        char *end;
        long n = strtol(limA, &end, 10);
        if (*end || n < 1 || n > 1000) { free(w); return lh_http_error(b, c, r, 400, "bad_request", "limit must be 1 to 1000"); }
        w->q.limit = (size_t)n;
    }
    double wait = waitArg(c);
    if (wait < 0) { free(w); return lh_http_error(b, c, r, 400, "bad_request", "wait must be a number of seconds (at most 60)"); }
    if (w->q.all) wait = 0;   /* wait is for pending ones */
    snprintf(w->agent, sizeof(w->agent), "%s", who.agent);
    w->admin = who.admin;
    return waitOrReply(b, c, r, w, wait);
}

enum MHD_Result lh_route_elicitation(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_elicits *e = b->elicits;
    lh_elicit_caller who = {.agent = r->claims.agent, .admin = r->claims.role == LH_ROLE_ADMIN};
    char id[ID_LEN + 1];
    const char *slash = strchr(r->sub, '/');
    size_t idlen = slash ? (size_t)(slash - r->sub) : strlen(r->sub);
    int response = slash && !strcmp(slash, "/response");
    if (idlen != ID_LEN || strncmp(r->sub, "eli-", 4) || strspn(r->sub + 4, "0123456789abcdef") < 16 || (slash && !response))
        return lh_http_error(b, c, r, 404, "not_found", "no route /v1/elicitations/%.60s (see docs/api.md)", r->sub);
    memcpy(id, r->sub, ID_LEN);
    id[ID_LEN] = 0;
    if (response != r->is_post)
        return lh_http_error(b, c, r, 405, "method_not_allowed", "%s needs %s", response ? "…/response" : "/v1/elicitations/{id}",
                             response ? "POST" : "GET");
    lh_elicit_result res;
    if (response) {
        if (r->len && lh_json_depth(r->body, r->len, b->cfg.json_depth) > b->cfg.json_depth)
            return lh_http_error(b, c, r, 400, "too_deep", "JSON is nested deeper than %d", b->cfg.json_depth);
        lh_elicits_respond(e, &who, id, r->body, r->len, wallNs(), &res);
        return reply(b, c, r, &res);
    }
    double wait = waitArg(c);
    if (wait < 0) return lh_http_error(b, c, r, 400, "bad_request", "wait must be a number of seconds (at most 60)");
    lh_elicits_get(e, &who, id, &res);
    if (res.status != 200) return reply(b, c, r, &res);
    json_decref(res.body);
    waiter *w = calloc(1, sizeof(*w));
    if (!w) return lh_http_error(b, c, r, 500, "internal", "out of memory");
    snprintf(w->agent, sizeof(w->agent), "%s", who.agent);
    w->admin = who.admin;
    memcpy(w->id, id, ID_LEN + 1);
    return waitOrReply(b, c, r, w, wait);
}

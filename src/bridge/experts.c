/* experts.c — the registry of expert agents: registration, heartbeats, availability, the
 * expert.registered / expert.left events and the experts' gauges (experts.h).
 *
 * The table is small (at most LH_EXPERTS_MAX) and read on every escalation list, so it is
 * an array under one mutex; an expert is found by a linear scan of its name. Events are
 * appended outside the lock: a registration is recorded before it takes effect (the
 * append first, then the table), so the log never shows less than the table did. */
#include "bridge/experts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/utf8.h"

typedef struct expert {
    char name[LH_STORE_MAX_NAME + 1];
    char caps[LH_ESC_MAX_CAPS][LH_EXPERT_CAP_MAX + 1];
    int ncaps;
    uint64_t seen_mono;      /* lh_mono_ns of the last heartbeat */
    int64_t seen_wall;       /* the same, wall clock ns */
    int present;             /* registered and not left */
} expert;

struct lh_experts {
    lh_bridge *b;
    int heartbeat_s;
    pthread_mutex_t mu;      /* guards every field below */
    expert *tab;             /* LH_EXPERTS_MAX slots; present marks those in use */
    int n;                   /* slots ever used (a left expert's slot is reused by name) */
};

static int64_t wallNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

lh_experts *lh_experts_new(lh_bridge *b, int heartbeat_s) {
    lh_experts *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->tab = calloc(LH_EXPERTS_MAX, sizeof(expert));
    if (!x->tab) { free(x); return NULL; }
    x->b = b;
    x->heartbeat_s = heartbeat_s > 0 ? heartbeat_s : 15;
    pthread_mutex_init(&x->mu, NULL);
    return x;
}

void lh_experts_free(lh_experts *x) {
    if (!x) return;
    pthread_mutex_destroy(&x->mu);
    free(x->tab);
    free(x);
}

/* Caller holds mu. */
static expert *findLocked(lh_experts *x, const char *name) {
    for (int i = 0; i < x->n; i++)
        if (!strcmp(x->tab[i].name, name)) return &x->tab[i];
    return NULL;
}

static int availableLocked(const lh_experts *x, const expert *e, uint64_t now) {
    return e->present && now - e->seen_mono < 3ull * (uint64_t)x->heartbeat_s * 1000000000ull;
}

static void setCaps(expert *e, const char *const *caps, int ncaps) {
    e->ncaps = 0;
    for (int i = 0; i < ncaps && i < LH_ESC_MAX_CAPS; i++)
        snprintf(e->caps[e->ncaps++], sizeof(e->caps[0]), "%s", caps[i]);
}

int lh_experts_capable(lh_experts *x, const char *name, const char *const *caps, int ncaps) {
    pthread_mutex_lock(&x->mu);
    const expert *e = findLocked(x, name);
    int ok = e && e->present;
    for (int i = 0; ok && i < ncaps; i++) {
        int has = 0;
        for (int j = 0; j < e->ncaps && !has; j++) has = !strcmp(e->caps[j], caps[i]);
        ok = has;
    }
    pthread_mutex_unlock(&x->mu);
    return ok;
}

void lh_experts_heartbeat(lh_experts *x, const char *name) {
    pthread_mutex_lock(&x->mu);
    expert *e = findLocked(x, name);
    if (e && e->present) { e->seen_mono = lh_mono_ns(); e->seen_wall = wallNs(); }
    pthread_mutex_unlock(&x->mu);
}

/* expert.left for name (reason "left" or "lapsed"). */
static int appendLeft(lh_experts *x, const char *name, const char *reason, char *err, size_t errlen) {
    json_t *d = json_pack("{s:s,s:s}", "expert", name, "reason", reason);
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    if (!data) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = lh_bridge_append(x->b, "expert.left", name, "experts", data, NULL, err, errlen);
    free(data);
    return rc;
}

void lh_experts_sweep(lh_experts *x) {
    uint64_t now = lh_mono_ns();
    for (;;) {
        char name[LH_STORE_MAX_NAME + 1] = "";
        pthread_mutex_lock(&x->mu);
        for (int i = 0; i < x->n && !name[0]; i++)
            if (x->tab[i].present && !availableLocked(x, &x->tab[i], now)) {
                memcpy(name, x->tab[i].name, sizeof(name));
                x->tab[i].present = 0;   /* one sweep records it once */
            }
        pthread_mutex_unlock(&x->mu);
        if (!name[0]) return;
        char err[256];
        if (appendLeft(x, name, "lapsed", err, sizeof(err)))
            fprintf(stderr, "lighthouse serve: expert.left for %s not recorded: %s\n", name, err);
    }
}

char *lh_experts_metrics(lh_experts *x) {
    uint64_t now = lh_mono_ns();
    int reg = 0, avail = 0;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n; i++) {
        if (x->tab[i].present) reg++;
        if (availableLocked(x, &x->tab[i], now)) avail++;
    }
    pthread_mutex_unlock(&x->mu);
    char *out = NULL;
    if (asprintf(&out,
                 "# HELP lighthouse_bridge_experts_registered Experts registered and not left.\n"
                 "# TYPE lighthouse_bridge_experts_registered gauge\n"
                 "lighthouse_bridge_experts_registered %d\n"
                 "# HELP lighthouse_bridge_experts_available Experts seen within 3 heartbeat intervals.\n"
                 "# TYPE lighthouse_bridge_experts_available gauge\n"
                 "lighthouse_bridge_experts_available %d\n",
                 reg, avail) < 0)
        return NULL;
    return out;
}

/* ---- loading at the start ------------------------------------------------------- */

static void applyEvent(lh_experts *x, const lh_event *e, uint64_t now_mono, int64_t now_wall) {
    json_t *d = json_loads(e->data, 0, NULL);
    const char *name = json_string_value(json_object_get(d, "expert"));
    if (!name || strlen(name) > LH_STORE_MAX_NAME) { json_decref(d); return; }
    expert *ex = findLocked(x, name);
    if (!strcmp(e->type, "expert.registered")) {
        if (!ex && x->n < LH_EXPERTS_MAX) ex = &x->tab[x->n++];
        if (ex) {
            snprintf(ex->name, sizeof(ex->name), "%s", name);
            const char *caps[LH_ESC_MAX_CAPS];
            int n = 0;
            json_t *arr = json_object_get(d, "capabilities"), *v;
            size_t i;
            json_array_foreach(arr, i, v) if (json_is_string(v) && n < LH_ESC_MAX_CAPS &&
                                              strlen(json_string_value(v)) <= LH_EXPERT_CAP_MAX)
                caps[n++] = json_string_value(v);
            setCaps(ex, caps, n);
            ex->present = 1;
            /* Seen when it registered: it stays available until 3 intervals after that. */
            int64_t age = now_wall - e->time_ns;
            ex->seen_wall = e->time_ns;
            ex->seen_mono = age > 0 && (uint64_t)age < now_mono ? now_mono - (uint64_t)age : now_mono;
        }
    } else if (!strcmp(e->type, "expert.left") && ex) {
        ex->present = 0;
    }
    json_decref(d);
}

int lh_experts_load(lh_experts *x, lh_store *st, char *err, size_t errlen) {
    lh_store_filter f = {.type = "expert.*", .limit = 1000};
    uint64_t now_mono = lh_mono_ns();
    int64_t now_wall = wallNs();
    for (;;) {
        lh_event_list l = {0};
        if (lh_store_query(st, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        pthread_mutex_lock(&x->mu);
        for (size_t i = 0; i < l.n; i++) applyEvent(x, &l.events[i], now_mono, now_wall);
        pthread_mutex_unlock(&x->mu);
        size_t n = l.n;
        f.after_seq = l.cursor;
        lh_event_list_free(&l);
        if (n < f.limit) return 0;
    }
}

/* ---- routes ---------------------------------------------------------------------- */

/* POST /v1/experts/register {"capabilities": [...]}: register, or heartbeat (capabilities
 * may change). expert.registered the first time and after leaving or lapsing. */
enum MHD_Result lh_route_experts_register(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_experts *x = b->experts;
    json_error_t je;
    json_t *body = r->len ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        return lh_http_error(b, c, r, 400, "bad_request", "expected {\"capabilities\": [NAME, ...]}");
    }
    json_t *arr = json_object_get(body, "capabilities"), *v;
    const char *caps[LH_ESC_MAX_CAPS];
    int n = 0;
    if (arr && !json_is_array(arr)) goto bad;
    if (json_array_size(arr) > LH_ESC_MAX_CAPS) {
        json_decref(body);
        return lh_http_error(b, c, r, 400, "bad_request", "at most %d capabilities", LH_ESC_MAX_CAPS);
    }
    size_t i;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        size_t len = s ? strlen(s) : 0;
        if (!s || !len || len > LH_EXPERT_CAP_MAX || !lh_utf8_valid(s, len)) goto bad;
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)s[k] < 0x21 || s[k] == 0x7f) goto bad;
        caps[n++] = s;
    }
    const char *name = r->claims.agent;
    pthread_mutex_lock(&x->mu);
    expert *e = findLocked(x, name);
    int isNew = !e || !e->present;
    int full = !e && x->n >= LH_EXPERTS_MAX;
    pthread_mutex_unlock(&x->mu);
    if (full) {
        json_decref(body);
        return lh_http_error(b, c, r, 503, "too_many_experts", "at most %d experts may register", LH_EXPERTS_MAX);
    }
    if (isNew) {
        json_t *d = json_pack("{s:s,s:O}", "expert", name, "capabilities", arr ? arr : json_array());
        char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(d);
        char err[256];
        int rc = data ? lh_bridge_append(b, "expert.registered", name, "experts", data, NULL, err, sizeof(err)) : -1;
        free(data);
        if (rc) {
            json_decref(body);
            return lh_http_error(b, c, r, 503, "store_unavailable", "the registration could not be recorded");
        }
    }
    pthread_mutex_lock(&x->mu);
    e = findLocked(x, name);
    if (!e && x->n < LH_EXPERTS_MAX) e = &x->tab[x->n++];
    if (e) {
        snprintf(e->name, sizeof(e->name), "%s", name);
        setCaps(e, caps, n);
        e->present = 1;
        e->seen_mono = lh_mono_ns();
        e->seen_wall = wallNs();
    }
    pthread_mutex_unlock(&x->mu);
    json_t *out = json_pack("{s:s,s:O,s:i,s:b}", "expert", name, "capabilities", arr ? arr : json_array(),
                            "heartbeat_interval_s", x->heartbeat_s, "available", 1);
    json_decref(body);
    return lh_bridge_reply_json(c, r, 200, out);
bad:
    json_decref(body);
    return lh_http_error(b, c, r, 400, "bad_request",
                         "capabilities must be a list of names (1 to %d bytes, no spaces)", LH_EXPERT_CAP_MAX);
}

enum MHD_Result lh_route_experts_leave(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_experts *x = b->experts;
    const char *name = r->claims.agent;
    pthread_mutex_lock(&x->mu);
    expert *e = findLocked(x, name);
    int was = e && e->present;
    pthread_mutex_unlock(&x->mu);
    if (was) {
        char err[256];
        if (appendLeft(x, name, "left", err, sizeof(err)))
            return lh_http_error(b, c, r, 503, "store_unavailable", "the leave could not be recorded");
        pthread_mutex_lock(&x->mu);
        e = findLocked(x, name);
        if (e) e->present = 0;
        pthread_mutex_unlock(&x->mu);
    }
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:s,s:b}", "expert", name, "left", was));
}

enum MHD_Result lh_route_experts_list(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_experts *x = b->experts;
    json_t *arr = json_array();
    uint64_t now = lh_mono_ns();
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n; i++) {
        const expert *e = &x->tab[i];
        if (!e->present) continue;
        json_t *caps = json_array();
        for (int k = 0; k < e->ncaps; k++) json_array_append_new(caps, json_string(e->caps[k]));
        json_array_append_new(arr, json_pack("{s:s,s:o,s:b,s:I}", "name", e->name, "capabilities", caps, "available",
                                             availableLocked(x, e, now), "last_seen_ns", (json_int_t)e->seen_wall));
    }
    pthread_mutex_unlock(&x->mu);
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:o}", "experts", arr));
}

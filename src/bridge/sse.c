/* sse.c — GET /v1/events/stream: the audit log as Server-Sent Events.
 *
 * Each stream has a helper thread that waits on a store subscription and fills the
 * stream's buffer. MHD's content reader drains the buffer; when it is empty the reader
 * suspends the connection (so no worker spins or blocks) and the helper resumes it when
 * events arrive. The number of streams is bounded (max_streams). On shutdown every stream
 * is resumed and ends, because MHD must not be stopped with suspended connections. */
#include "bridge/sse.h"

#include <stdatomic.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_BUF_MAX (1u << 20)     /* a client this far behind is dropped */
#define SSE_HEARTBEAT_MS 15000

typedef struct lh_sse lh_sse;

struct lh_streams {
    pthread_mutex_t sse_mu;        /* guards list */
    lh_sse *list;
    int max;
    _Atomic int nstreams;          /* open streams */
    _Atomic int nhelpers;          /* helper threads alive */
    _Atomic int closing;           /* the shutdown began: new streams are refused */
};

struct lh_sse {
    lh_streams *owner;
    struct MHD_Connection *c;
    pthread_t th;
    pthread_mutex_t mu;
    char *buf;
    size_t len, off, cap;
    int suspended, ended, closed;
    int refs;                       /* helper thread + MHD; under mu */
    lh_store_sub *sub;
    int channel;                    /* LH_SSE_CH_STORE, or a push stream's channel */
    lh_sse *next;
};

static void unref(lh_sse *s) {
    pthread_mutex_lock(&s->mu);
    int left = --s->refs;
    pthread_mutex_unlock(&s->mu);
    if (left) return;
    lh_store_sub_close(s->sub);
    pthread_mutex_destroy(&s->mu);
    free(s->buf);
    free(s);
}

/* Append text; caller holds mu. Returns -1 when the client is too far behind. */
static int push(lh_sse *s, const char *t, size_t n) {
    if (s->off && s->off == s->len) s->off = s->len = 0;
    if (s->len + n > SSE_BUF_MAX) return -1;
    if (s->len + n > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8192;
        while (nc < s->len + n) nc *= 2;
        char *nb = realloc(s->buf, nc);
        if (!nb) return -1;
        s->buf = nb;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, t, n);
    s->len += n;
    return 0;
}

static void wake(lh_sse *s) {   /* caller holds mu */
    if (s->suspended) {
        s->suspended = 0;
        MHD_resume_connection(s->c);
    }
}

static void *helperMain(void *arg) {
    lh_sse *s = arg;
    pthread_setname_np(pthread_self(), "lh-sse");
    lh_streams *owner = s->owner;
    char err[256];
    int quiet_ms = 0;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int done = s->closed || s->ended;
        pthread_mutex_unlock(&s->mu);
        if (done) break;
        lh_event_list l = {0};
        int rc = lh_store_sub_next(s->sub, 500, 200, &l, err, sizeof(err));
        pthread_mutex_lock(&s->mu);
        if (rc == 0 && l.n) {
            quiet_ms = 0;
            for (size_t i = 0; i < l.n && !s->ended; i++) {
                json_t *j = lh_bridge_event_json(&l.events[i]);
                char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
                json_decref(j);
                if (!text) continue;
                char head[200];
                int hn = snprintf(head, sizeof(head), "id: %lld\nevent: %s\ndata: ", (long long)l.events[i].seq,
                                  l.events[i].type);
                if (push(s, head, (size_t)hn) || push(s, text, strlen(text)) || push(s, "\n\n", 2)) s->ended = 1;
                free(text);
            }
            wake(s);
        } else if (rc == 0) {
            quiet_ms += 500;
            if (quiet_ms >= SSE_HEARTBEAT_MS) {
                quiet_ms = 0;
                if (push(s, ": ping\n\n", 8)) s->ended = 1;
                wake(s);
            }
        } else {
            if (push(s, "event: error\ndata: {\"error\":\"event store unavailable\"}\n\n", 57)) s->ended = 1;
            s->ended = 1;
            wake(s);
        }
        if (atomic_load(&owner->closing)) { s->ended = 1; wake(s); }
        pthread_mutex_unlock(&s->mu);
        lh_event_list_free(&l);
    }
    unref(s);
    atomic_fetch_sub(&owner->nhelpers, 1);
    return NULL;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    lh_sse *s = cls;
    pthread_mutex_lock(&s->mu);
    ssize_t n = 0;
    if (s->off < s->len) {
        size_t k = s->len - s->off;
        if (k > max) k = max;
        memcpy(buf, s->buf + s->off, k);
        s->off += k;
        n = (ssize_t)k;
    } else if (s->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing to send: park the connection until the helper has something. */
        s->suspended = 1;
        MHD_suspend_connection(s->c);
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void readerFree(void *cls) {
    lh_sse *s = cls;
    lh_streams *o = s->owner;
    pthread_mutex_lock(&o->sse_mu);
    for (lh_sse **pp = &o->list; *pp; pp = &(*pp)->next)
        if (*pp == s) { *pp = s->next; break; }
    pthread_mutex_unlock(&o->sse_mu);
    atomic_fetch_sub(&o->nstreams, 1);
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_mutex_unlock(&s->mu);
    unref(s);
}

enum MHD_Result lh_route_stream(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    int64_t after = -1;
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    if (!v) v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    if (v && *v) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 0) return lh_http_error(b, c, r, 400, "bad_request", "after must be a seq >= 0");
        after = n;
    }
    lh_streams *o = b->streams;
    if (atomic_load(&o->closing)) return lh_http_error(b, c, r, 503, "shutting_down", "the bridge is stopping");
    if (atomic_fetch_add(&o->nstreams, 1) >= o->max) {
        atomic_fetch_sub(&o->nstreams, 1);
        return lh_http_error(b, c, r, 503, "too_many_streams", "at most %d event streams at once", b->cfg.max_streams);
    }
    char err[256];
    if (after < 0) {
        lh_store_stats st;
        if (lh_store_stats_get(b->store, &st, err, sizeof(err))) {
            atomic_fetch_sub(&o->nstreams, 1);
            return lh_http_error(b, c, r, 503, "store_unavailable", "%s", err);
        }
        after = st.head_seq;
    }
    lh_sse *s = calloc(1, sizeof(*s));
    if (!s) { atomic_fetch_sub(&o->nstreams, 1); return lh_http_error(b, c, r, 500, "internal", "out of memory"); }
    s->owner = o;
    s->c = c;
    s->refs = 2;
    pthread_mutex_init(&s->mu, NULL);
    if (lh_store_subscribe(b->store, after, &s->sub, err, sizeof(err))) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        atomic_fetch_sub(&o->nstreams, 1);
        return lh_http_error(b, c, r, 503, "store_unavailable", "%s", err);
    }
    push(s, ": lighthouse event stream\n\n", 27);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, readerFree);
    if (!resp) { lh_store_sub_close(s->sub); pthread_mutex_destroy(&s->mu); free(s->buf); free(s); atomic_fetch_sub(&o->nstreams, 1); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    pthread_mutex_lock(&o->sse_mu);
    s->next = o->list;
    o->list = s;
    pthread_mutex_unlock(&o->sse_mu);
    atomic_fetch_add(&o->nhelpers, 1);
    if (pthread_create(&s->th, NULL, helperMain, s) != 0) {
        atomic_fetch_sub(&o->nhelpers, 1);
        s->ended = 1;
        s->refs--;   /* no helper */
    } else {
        pthread_detach(s->th);
    }
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);   /* MHD keeps it; readerFree runs when the stream ends */
    r->status = 200;
    return rc;
}

/* ---- push streams ---------------------------------------------------------------- */

enum MHD_Result lh_streams_open_push(lh_bridge *b, struct MHD_Connection *c, lh_req *r, int channel) {
    lh_streams *o = b->streams;
    if (atomic_load(&o->closing)) return lh_http_error(b, c, r, 503, "shutting_down", "the bridge is stopping");
    if (atomic_fetch_add(&o->nstreams, 1) >= o->max) {
        atomic_fetch_sub(&o->nstreams, 1);
        return lh_http_error(b, c, r, 503, "too_many_streams", "at most %d event streams at once", b->cfg.max_streams);
    }
    lh_sse *s = calloc(1, sizeof(*s));
    if (!s) { atomic_fetch_sub(&o->nstreams, 1); return lh_http_error(b, c, r, 500, "internal", "out of memory"); }
    s->owner = o;
    s->c = c;
    s->refs = 1;   /* MHD only: no helper thread */
    s->channel = channel;
    pthread_mutex_init(&s->mu, NULL);
    push(s, ": lighthouse stream\n\n", 21);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, readerFree);
    if (!resp) { pthread_mutex_destroy(&s->mu); free(s->buf); free(s); atomic_fetch_sub(&o->nstreams, 1); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    pthread_mutex_lock(&o->sse_mu);
    s->next = o->list;
    o->list = s;
    pthread_mutex_unlock(&o->sse_mu);
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

void lh_streams_publish(lh_streams *o, int channel, const char *type, const char *json) {
    if (!o || channel == LH_SSE_CH_STORE) return;
    pthread_mutex_lock(&o->sse_mu);
    for (lh_sse *s = o->list; s; s = s->next) {
        if (s->channel != channel) continue;
        pthread_mutex_lock(&s->mu);
        if (!s->ended && !s->closed) {
            if (push(s, "event: ", 7) || push(s, type, strlen(type)) || push(s, "\ndata: ", 7) ||
                push(s, json, strlen(json)) || push(s, "\n\n", 2))
                s->ended = 1;   /* too far behind: it ends */
            wake(s);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&o->sse_mu);
}

int lh_streams_open_count(lh_streams *o) {
    return o ? atomic_load(&o->nstreams) : 0;
}

lh_streams *lh_streams_new(int max) {
    lh_streams *o = calloc(1, sizeof(*o));
    if (!o) return NULL;
    pthread_mutex_init(&o->sse_mu, NULL);
    o->max = max;
    atomic_init(&o->nstreams, 0);
    atomic_init(&o->nhelpers, 0);
    atomic_init(&o->closing, 0);
    return o;
}

void lh_streams_shutdown(lh_streams *o) {
    if (!o) return;
    atomic_store(&o->closing, 1);
    pthread_mutex_lock(&o->sse_mu);
    for (lh_sse *s = o->list; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        s->ended = 1;
        wake(s);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&o->sse_mu);
}

void lh_streams_wait_helpers(lh_streams *o) {
    if (!o) return;
    while (atomic_load(&o->nhelpers) > 0) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

void lh_streams_free(lh_streams *o) {
    if (!o) return;
    pthread_mutex_destroy(&o->sse_mu);
    free(o);
}

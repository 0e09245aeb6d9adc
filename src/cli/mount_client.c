/* mount_client.c — the bridge as `lighthouse mount` sees it (see mount_client.h). */
#include "cli/mount_client.h"
#include "util/growbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TREE_SLOTS 64
#define BLOB_BUCKETS 4096
#define MAX_BODY (80u << 20)

typedef struct blob {
    struct blob *next;
    char hash[65];
    char *data;
    size_t len;
} blob;

/* A libcurl handle per thread (keep-alive to the bridge), all listed for the final free. */
typedef struct handle {
    struct handle *next;
    CURL *c;
    pthread_t owner;
} handle;

struct lh_mc {
    char url[1024];
    char auth[4200];       /* "Authorization: Bearer …" */
    char mounthdr[1100];   /* "X-Lighthouse-Mount: …" */
    pthread_mutex_t mu;    /* guards trees, blobs, handles, the events buffer and the status */
    lh_mc_tree *trees[TREE_SLOTS];
    blob *blobs[BLOB_BUCKETS];
    size_t blob_bytes;
    handle *handles;
    /* streams/events */
    char *ev;              /* bytes [ev_base, ev_base + ev_len) of the stream */
    size_t ev_len, ev_cap;
    uint64_t ev_base;
    int64_t ev_after;
    pthread_t poller;
    int poller_started;
    _Atomic int stopping;
    /* status */
    int bridge_ok;
    char last_error[256];
    uint64_t requests, failures, blob_hits, blob_misses, tree_hits, tree_misses, events_seen;
    _Atomic uint64_t file_reads;   /* READs of tree files that reached the mount (page cache misses) */
    _Atomic uint64_t tree_attrs;   /* LOOKUPs and GETATTRs of names in trees that reached the mount */
};

static uint64_t nowMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

lh_mc *lh_mc_new(const char *url, const char *token, const char *name) {
    lh_mc *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    snprintf(m->url, sizeof(m->url), "%s", url);
    size_t ul = strlen(m->url);
    while (ul && m->url[ul - 1] == '/') m->url[--ul] = 0;
    snprintf(m->auth, sizeof(m->auth), "Authorization: Bearer %s", token);
    snprintf(m->mounthdr, sizeof(m->mounthdr), "X-Lighthouse-Mount: %s", name);
    pthread_mutex_init(&m->mu, NULL);
    m->bridge_ok = 1;
    return m;
}

void lh_mc_free(lh_mc *m) {
    if (!m) return;
    lh_mc_events_stop(m);
    for (int i = 0; i < TREE_SLOTS; i++) if (m->trees[i]) { m->trees[i]->refs = 1; lh_mc_tree_release(m, m->trees[i]); }
    for (int i = 0; i < BLOB_BUCKETS; i++)
        for (blob *b = m->blobs[i], *n; b; b = n) { n = b->next; free(b->data); free(b); }
    for (handle *h = m->handles, *n; h; h = n) { n = h->next; curl_easy_cleanup(h->c); free(h); }
    free(m->ev);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ------------------------------------------------------------------------------ */
/* HTTP                                                                             */
/* ------------------------------------------------------------------------------ */

typedef struct sink { char *p; size_t n, cap; int over; } sink;

static size_t onData(char *ptr, size_t size, size_t nmemb, void *ud) {
    sink *s = ud;
    size_t n = size * nmemb;
    if (lh_growbuf_append(&s->p, &s->n, &s->cap, MAX_BODY - 1, ptr, n)) { s->over = 1; return 0; }
    return n;
}

static CURL *threadHandle(lh_mc *m) {
    pthread_t self = pthread_self();
    pthread_mutex_lock(&m->mu);
    for (handle *h = m->handles; h; h = h->next)
        if (pthread_equal(h->owner, self)) { pthread_mutex_unlock(&m->mu); return h->c; }
    handle *h = calloc(1, sizeof(*h));
    CURL *c = h ? curl_easy_init() : NULL;
    if (c) { h->c = c; h->owner = self; h->next = m->handles; m->handles = h; }
    else free(h);
    pthread_mutex_unlock(&m->mu);
    return c;
}

static void noteResult(lh_mc *m, int ok, const char *err) {
    pthread_mutex_lock(&m->mu);
    m->requests++;
    if (!ok) { m->failures++; snprintf(m->last_error, sizeof(m->last_error), "%s", err); }
    m->bridge_ok = ok;
    pthread_mutex_unlock(&m->mu);
}

int lh_mc_get(lh_mc *m, const char *path, int *status, char **body, size_t *len, char *err, size_t errlen) {
    *body = NULL;
    *len = 0;
    CURL *c = threadHandle(m);
    if (!c) { snprintf(err, errlen, "out of memory"); return -EIO; }
    char url[4096];
    snprintf(url, sizeof(url), "%s%s", m->url, path);
    struct curl_slist *hs = curl_slist_append(NULL, m->auth);
    if (hs) hs = curl_slist_append(hs, m->mounthdr);
    sink s = {0};
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hs);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", m->url, s.over ? "reply too large" : curl_easy_strerror(rc));
        free(s.p);
        noteResult(m, 0, err);
        return -EIO;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    *body = s.p ? s.p : strdup("");
    *len = s.n;
    if (!*body) return -EIO;
    noteResult(m, code < 500, code < 500 ? "" : *body);
    return 0;
}

/* GET path and parse JSON; -errno by status. */
static int getJson(lh_mc *m, const char *path, json_t **out) {
    int st;
    char *body, err[256];
    size_t len;
    int rc = lh_mc_get(m, path, &st, &body, &len, err, sizeof(err));
    if (rc) return rc;
    *out = st == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    free(body);
    if (st == 401 || st == 403) return -EACCES;
    if (st == 404) return -ENOENT;
    if (st == 400) return -EINVAL;
    if (st != 200 || !*out) { json_decref(*out); *out = NULL; return -EIO; }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Trees                                                                            */
/* ------------------------------------------------------------------------------ */

static void treeFree(lh_mc_tree *t) {
    for (size_t i = 0; i < t->n; i++) free(t->files[i].path);
    free(t->files);
    free(t);
}

void lh_mc_tree_release(lh_mc *m, lh_mc_tree *t) {
    if (!t) return;
    int last;
    pthread_mutex_lock(&m->mu);
    last = --t->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (last) treeFree(t);
}

static lh_mc_tree *treeParse(json_t *j, const char *spec) {
    json_t *files = json_object_get(j, "files");
    if (!json_is_array(files)) return NULL;
    lh_mc_tree *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->files = calloc(json_array_size(files) + 1, sizeof(*t->files));
    if (!t->files) { free(t); return NULL; }
    snprintf(t->spec, sizeof(t->spec), "%s", spec);
    t->at_seq = (int64_t)json_integer_value(json_object_get(j, "at_seq"));
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *p = json_string_value(json_object_get(f, "path")), *h = json_string_value(json_object_get(f, "hash"));
        if (!p || !h || strlen(h) != 64) continue;
        lh_mc_file *x = &t->files[t->n];
        x->path = strdup(p);
        if (!x->path) break;
        memcpy(x->hash, h, 65);
        x->size = (int64_t)json_integer_value(json_object_get(f, "size"));
        x->seq = (int64_t)json_integer_value(json_object_get(f, "seq"));
        x->time_ns = (int64_t)json_integer_value(json_object_get(f, "time_ns"));
        t->n++;
    }
    return t;
}

int lh_mc_tree_get(lh_mc *m, const char *spec, lh_mc_tree **out) {
    uint64_t now = nowMs();
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < TREE_SLOTS; i++) {
        lh_mc_tree *t = m->trees[i];
        if (t && !strcmp(t->spec, spec) && (t->forever || now - t->fetched_ms < LH_MC_TREE_TTL_MS)) {
            t->refs++;
            m->tree_hits++;
            pthread_mutex_unlock(&m->mu);
            *out = t;
            return 0;
        }
    }
    m->tree_misses++;
    pthread_mutex_unlock(&m->mu);
    char path[512];
    if (!spec[0]) snprintf(path, sizeof(path), "/v1/shadows/tree");
    else {
        char *esc = curl_easy_escape(NULL, strchr(spec, ':') + 1, 0);
        if (!esc) return -ENOMEM;
        snprintf(path, sizeof(path), "/v1/shadows/tree?at=%s", esc);
        curl_free(esc);
    }
    json_t *j;
    int rc = getJson(m, path, &j);
    if (rc) return rc;
    lh_mc_tree *t = treeParse(j, spec);
    json_decref(j);
    if (!t) return -EIO;
    t->fetched_ms = now;
    /* A tree at a seq the bridge had reached cannot change: cache it for good. */
    if (!strncmp(spec, "seq:", 4)) {
        long long want = strtoll(spec + 4, NULL, 10);
        t->forever = t->at_seq == want;
    }
    t->refs = 2;   /* the cache's and the caller's */
    pthread_mutex_lock(&m->mu);
    int slot = -1;
    uint64_t oldest = UINT64_MAX;
    for (int i = 0; i < TREE_SLOTS; i++) {
        lh_mc_tree *o = m->trees[i];
        if (!o || !strcmp(o->spec, spec)) { slot = i; break; }
        if (o->fetched_ms < oldest) { oldest = o->fetched_ms; slot = i; }
    }
    lh_mc_tree *old = m->trees[slot];
    m->trees[slot] = t;
    int freeOld = old && --old->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (freeOld) treeFree(old);
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Blobs                                                                            */
/* ------------------------------------------------------------------------------ */

static unsigned bucketOf(const char *hash) {
    unsigned v = 0;
    for (int i = 0; i < 8; i++) v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return v % BLOB_BUCKETS;
}

static int hashMatches(const char *data, size_t len, const char *hash) {
    static const char hx[] = "0123456789abcdef";
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)data, len, d);
    for (int i = 0; i < 32; i++)
        if (hash[2 * i] != hx[d[i] >> 4] || hash[2 * i + 1] != hx[d[i] & 15]) return 0;
    return 1;
}

int lh_mc_blob(lh_mc *m, const char *hash, const char **data, size_t *len) {
    unsigned b = bucketOf(hash);
    pthread_mutex_lock(&m->mu);
    for (blob *x = m->blobs[b]; x; x = x->next)
        if (!memcmp(x->hash, hash, 64)) {
            m->blob_hits++;
            *data = x->data;
            *len = x->len;
            pthread_mutex_unlock(&m->mu);
            return 0;
        }
    m->blob_misses++;
    pthread_mutex_unlock(&m->mu);
    char path[128], err[256], *body;
    snprintf(path, sizeof(path), "/v1/shadows/file?hash=%.64s", hash);
    int st;
    size_t n;
    int rc = lh_mc_get(m, path, &st, &body, &n, err, sizeof(err));
    if (rc) return rc;
    if (st != 200) { free(body); return st == 404 ? -ENOENT : st == 401 || st == 403 ? -EACCES : -EIO; }
    if (!hashMatches(body, n, hash)) {   /* never cache (or serve) what does not match its name */
        free(body);
        noteResult(m, 1, "");
        pthread_mutex_lock(&m->mu);
        snprintf(m->last_error, sizeof(m->last_error), "blob %.16s… from the bridge does not match its hash", hash);
        pthread_mutex_unlock(&m->mu);
        return -EIO;
    }
    blob *x = calloc(1, sizeof(*x));
    if (!x) { free(body); return -ENOMEM; }
    memcpy(x->hash, hash, 64);
    x->data = body;
    x->len = n;
    pthread_mutex_lock(&m->mu);
    for (blob *y = m->blobs[b]; y; y = y->next)   /* another thread fetched it meanwhile */
        if (!memcmp(y->hash, hash, 64)) {
            *data = y->data;
            *len = y->len;
            pthread_mutex_unlock(&m->mu);
            free(x->data);
            free(x);
            return 0;
        }
    if (m->blob_bytes + n > LH_MC_BLOB_CACHE) {
        /* The cache is full: keep serving, but this blob cannot be cached; it would need
         * a buffer that outlives the read, so refuse rather than leak. */
        pthread_mutex_unlock(&m->mu);
        free(x->data);
        free(x);
        return -ENOMEM;
    }
    x->next = m->blobs[b];
    m->blobs[b] = x;
    m->blob_bytes += n;
    *data = x->data;
    *len = x->len;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

int lh_mc_changes(lh_mc *m, int64_t **seqs, size_t *n) {
    json_t *j;
    int rc = getJson(m, "/v1/shadows/history?limit=10000", &j);
    if (rc) return rc;
    json_t *ch = json_object_get(j, "changes");
    *n = 0;
    *seqs = malloc((json_array_size(ch) + 1) * sizeof(**seqs));
    if (!*seqs) { json_decref(j); return -ENOMEM; }
    size_t i;
    json_t *c;
    json_array_foreach(ch, i, c) (*seqs)[(*n)++] = (int64_t)json_integer_value(json_object_get(c, "seq"));
    json_decref(j);
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* streams/events                                                                   */
/* ------------------------------------------------------------------------------ */

/* Append text to the stream, dropping its oldest half when it would pass the cap (the
 * offsets of what stays do not change: ev_base moves). Called with m->mu held. */
static void evAppend(lh_mc *m, const char *s, size_t n) {
    if (n > LH_MC_EVENTS_MAX / 2) return;
    if (m->ev_len + n > LH_MC_EVENTS_MAX) {
        size_t drop = m->ev_len / 2;
        memmove(m->ev, m->ev + drop, m->ev_len - drop);
        m->ev_len -= drop;
        m->ev_base += drop;
    }
    if (m->ev_len + n > m->ev_cap) {
        size_t c = m->ev_cap ? m->ev_cap : 65536;
        while (c < m->ev_len + n) c *= 2;
        char *q = realloc(m->ev, c);
        if (!q) return;
        m->ev = q;
        m->ev_cap = c;
    }
    memcpy(m->ev + m->ev_len, s, n);
    m->ev_len += n;
}

/* One poll: the events after ev_after. 1 when some came, 0 none, -1 the bridge failed. */
static int pollOnce(lh_mc *m) {
    char path[128];
    snprintf(path, sizeof(path), "/v1/events?after=%lld&limit=1000", (long long)m->ev_after);
    json_t *j;
    if (getJson(m, path, &j)) return -1;
    json_t *evs = json_object_get(j, "events");
    size_t i;
    json_t *e;
    int got = 0;
    json_array_foreach(evs, i, e) {
        char *line = json_dumps(e, JSON_COMPACT);
        if (!line) continue;
        pthread_mutex_lock(&m->mu);
        evAppend(m, line, strlen(line));
        evAppend(m, "\n", 1);
        m->events_seen++;
        pthread_mutex_unlock(&m->mu);
        free(line);
        m->ev_after = (int64_t)json_integer_value(json_object_get(e, "seq"));
        got = 1;
    }
    json_decref(j);
    return got;
}

/* Tell the bridge this mount is alive (fuse_mount_status): a request to a shadow route,
 * which carries X-Lighthouse-Mount, and costs the bridge nothing (the tree at seq 0). */
static void heartbeat(lh_mc *m) {
    int st;
    char *body, err[256];
    size_t len;
    if (lh_mc_get(m, "/v1/shadows/tree?at=0", &st, &body, &len, err, sizeof(err)) == 0) free(body);
}

static void *pollerMain(void *arg) {
    lh_mc *m = arg;
    uint64_t lastBeat = 0;
    while (!atomic_load(&m->stopping)) {
        if (nowMs() - lastBeat >= 5000) { heartbeat(m); lastBeat = nowMs(); }
        int r = pollOnce(m);
        if (r == 1) continue;   /* more may be waiting */
        for (int i = 0; i < (r < 0 ? 10 : 2) && !atomic_load(&m->stopping); i++) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int lh_mc_events_start(lh_mc *m, int backlog) {
    json_t *j;
    if (getJson(m, "/v1/status", &j) == 0) {
        int64_t head = (int64_t)json_integer_value(json_object_get(json_object_get(j, "store"), "head_seq"));
        m->ev_after = head > backlog ? head - backlog : 0;
        json_decref(j);
    }
    if (pthread_create(&m->poller, NULL, pollerMain, m)) return -1;
    m->poller_started = 1;
    return 0;
}

void lh_mc_events_stop(lh_mc *m) {
    atomic_store(&m->stopping, 1);
    if (m->poller_started) { pthread_join(m->poller, NULL); m->poller_started = 0; }
}

uint64_t lh_mc_events_size(lh_mc *m) {
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->ev_base + m->ev_len;
    pthread_mutex_unlock(&m->mu);
    return n;
}

size_t lh_mc_events_read(lh_mc *m, char *buf, size_t size, uint64_t off) {
    pthread_mutex_lock(&m->mu);
    size_t n = 0;
    if (off < m->ev_base) off = m->ev_base;   /* dropped: read from the oldest kept */
    if (off < m->ev_base + m->ev_len) {
        size_t at = (size_t)(off - m->ev_base);
        n = m->ev_len - at < size ? m->ev_len - at : size;
        memcpy(buf, m->ev + at, n);
    }
    pthread_mutex_unlock(&m->mu);
    return n;
}

void lh_mc_note_file_read(lh_mc *m) { atomic_fetch_add_explicit(&m->file_reads, 1, memory_order_relaxed); }
void lh_mc_note_tree_attr(lh_mc *m) { atomic_fetch_add_explicit(&m->tree_attrs, 1, memory_order_relaxed); }

char *lh_mc_status(lh_mc *m) {
    pthread_mutex_lock(&m->mu);
    size_t nblobs = 0;
    for (int i = 0; i < BLOB_BUCKETS; i++) for (blob *b = m->blobs[i]; b; b = b->next) nblobs++;
    json_t *j = json_pack("{s:s,s:b,s:s,s:I,s:I,s:{s:I,s:I,s:I,s:I},s:{s:I,s:I},s:{s:I,s:I},s:I,s:I}", "bridge", m->url,
                          "bridge_reachable", m->bridge_ok, "last_error", m->last_error, "requests",
                          (json_int_t)m->requests, "failures", (json_int_t)m->failures, "blobs", "cached",
                          (json_int_t)nblobs, "bytes", (json_int_t)m->blob_bytes, "hits", (json_int_t)m->blob_hits,
                          "misses", (json_int_t)m->blob_misses, "trees", "hits", (json_int_t)m->tree_hits, "misses",
                          (json_int_t)m->tree_misses, "events", "seen", (json_int_t)m->events_seen, "bytes",
                          (json_int_t)m->ev_base + (json_int_t)m->ev_len, "file_reads",
                          (json_int_t)atomic_load_explicit(&m->file_reads, memory_order_relaxed), "tree_attrs",
                          (json_int_t)atomic_load_explicit(&m->tree_attrs, memory_order_relaxed));
    pthread_mutex_unlock(&m->mu);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!s) return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) return s;
    t[n] = '\n';
    t[n + 1] = 0;
    return t;
}

/* shadows.c — project shadows: the upload route, the read API and their index (see
 * shadows.h and docs/shadows.md). */
#include "bridge/shadows.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/blobs.h"
#include "util/shadow_path.h"
#include "util/udiff.h"
#include "util/utf8.h"

/* One change, as its event recorded it. */
typedef struct shrec {
    int64_t seq, time_ns;
    char op;               /* 'u' updated, 'd' deleted, 'r' renamed */
    char *path;            /* malloc'd; for a rename, the new name */
    char *from;            /* a rename's old name (malloc'd), else NULL */
    char hash[65];         /* 'u', 'r' */
    int64_t size;
    char agent[64];
    char tool[32];
} shrec;

#define CORRUPT_SEEN 64
#define MOUNTS 16               /* mounts remembered for fuse_mount_status */
#define MOUNT_STALE_NS (15 * 1000000000ll)   /* no request for this long: the mount is down */

typedef struct mountSeen { char name[128]; int64_t last_ns; } mountSeen;

struct lh_shadows {
    lh_bridge *b;
    lh_blobs *blobs;
    size_t max_file, max_project;
    pthread_mutex_t mu;    /* guards everything below; uploads hold it across put + append */
    shrec *recs;           /* in seq order */
    json_t *head;          /* the tree at last_seq (see treeAt) */
    size_t n, cap;
    int64_t last_seq;      /* the store's shadow.* events up to here are in recs */
    char corrupt_seen[CORRUPT_SEEN][65];   /* blobs already reported by a shadow.corrupted event */
    int ncorrupt_seen;
    _Atomic uint64_t updates, deletes, renames, refused, corrupt;
    mountSeen mounts[MOUNTS];   /* guarded by mu */
};

static size_t envSize(const char *name, size_t dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end || n == 0 ? dflt : (size_t)n;
}

lh_shadows *lh_shadows_new(lh_bridge *b, char *err, size_t errlen) {
    char dir[LH_BRIDGE_PATH_MAX + 16];
    snprintf(dir, sizeof(dir), "%s/blobs", b->cfg.data);
    lh_shadows *s = calloc(1, sizeof(*s));
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    /* With the PostgreSQL store the blobs are in its database, shared by every replica. */
    s->blobs = b->postgres ? lh_blobs_open_pg(b->cfg.pg, err, errlen) : lh_blobs_open(dir, err, errlen);
    if (!s->blobs) { free(s); return NULL; }
    s->b = b;
    s->head = json_object();
    if (!s->head) { lh_blobs_close(s->blobs); free(s); snprintf(err, errlen, "out of memory"); return NULL; }
    s->max_file = envSize("LIGHTHOUSE_SHADOW_MAX_FILE", 512u << 10);
    s->max_project = envSize("LIGHTHOUSE_SHADOW_MAX_PROJECT", 256u << 20);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void lh_shadows_free(lh_shadows *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) { free(s->recs[i].path); free(s->recs[i].from); }
    free(s->recs);
    json_decref(s->head);
    lh_blobs_close(s->blobs);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------------------------ */
/* The index                                                                        */
/* ------------------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Add the change that event e records (a shadow.corrupted event, or one this version
 * does not know, is skipped). -1 when out of memory. */
static int indexEvent(lh_shadows *s, const lh_event *e) {
    char op = !strcmp(e->type, "shadow.updated") ? 'u' : !strcmp(e->type, "shadow.deleted") ? 'd'
            : !strcmp(e->type, "shadow.renamed") ? 'r' : 0;
    if (!op) return 0;
    json_t *d = json_loads(e->data, 0, NULL);
    const char *path = jstr(d, op == 'r' ? "to" : "path"), *from = op == 'r' ? jstr(d, "from") : NULL;
    const char *hash = jstr(d, "hash");
    if (!path || (op == 'r' && !from) || (op == 'u' && !lh_blobs_valid_name(hash)) ||
        (op == 'r' && hash && !lh_blobs_valid_name(hash))) {
        json_decref(d);
        return 0;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        shrec *nr = realloc(s->recs, nc * sizeof(*nr));
        if (!nr) { json_decref(d); return -1; }
        s->recs = nr;
        s->cap = nc;
    }
    shrec *r = &s->recs[s->n];
    memset(r, 0, sizeof(*r));
    r->seq = e->seq;
    r->time_ns = e->time_ns;
    r->op = op;
    r->path = strdup(path);
    r->from = from ? strdup(from) : NULL;
    if (!r->path || (from && !r->from)) { free(r->path); free(r->from); json_decref(d); return -1; }
    if (hash && op != 'd') snprintf(r->hash, sizeof(r->hash), "%s", hash);   /* "" for a rename that moves */
    r->size = (int64_t)json_integer_value(json_object_get(d, "size"));
    snprintf(r->agent, sizeof(r->agent), "%s", e->agent);
    snprintf(r->tool, sizeof(r->tool), "%s", jstr(d, "tool") ? jstr(d, "tool") : "");
    s->n++;
    json_decref(d);
    return 0;
}

static void applyRec(json_t *t, const shrec *r, size_t i);

/* Bring the index (and the head's tree) up to the store's head. Called with s->mu held. */
static int catchUp(lh_shadows *s, char *err, size_t errlen) {
    for (;;) {
        lh_store_filter f = {0};
        f.type = "shadow.*";
        f.after_seq = s->last_seq;
        f.limit = LH_STORE_MAX_LIMIT;
        lh_event_list l = {0};
        if (lh_store_query(s->b->store, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        for (size_t i = 0; i < l.n; i++) {
            size_t before = s->n;
            if (indexEvent(s, &l.events[i])) { lh_event_list_free(&l); snprintf(err, errlen, "out of memory"); return -1; }
            if (s->n > before) applyRec(s->head, &s->recs[before], before);
            s->last_seq = l.events[i].seq;
        }
        size_t got = l.n;
        lh_event_list_free(&l);
        if (got < LH_STORE_MAX_LIMIT) return 0;
    }
}

/* Apply change i (r) to tree t, an object path → index of the shrec that made the file. */
static void applyRec(json_t *t, const shrec *r, size_t i) {
    if (r->op == 'd' || r->op == 'r') {
        /* The file, or a directory's files, go (a rename without content moves them). */
        const char *gone = r->op == 'd' ? r->path : r->from;
        size_t gl = strlen(gone);
        json_t *moved = json_object();
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(t, tmp, k, v) {
            if (strcmp(k, gone) && !(!strncmp(k, gone, gl) && k[gl] == '/')) continue;
            if (r->op == 'r' && !r->hash[0]) {
                char nk[2 * LH_SHADOW_PATH_MAX + 2];
                snprintf(nk, sizeof(nk), "%s%s", r->path, k + gl);
                if (strlen(nk) <= LH_SHADOW_PATH_MAX) json_object_set(moved, nk, v);
            }
            json_object_del(t, k);
        }
        json_object_update(t, moved);
        json_decref(moved);
    }
    if (r->op == 'u' || (r->op == 'r' && r->hash[0])) json_object_set_new(t, r->path, json_integer((json_int_t)i));
}

/* The tree at seq (INT64_MAX: the head) as an object path → the index in recs of the
 * shrec that made the file. The head's is kept up to date by catchUp, so the common
 * case costs no replay. New reference, read-only. Called with s->mu held. */
static json_t *treeAt(lh_shadows *s, int64_t at) {
    if (at >= s->last_seq) return json_incref(s->head);
    json_t *t = json_object();
    for (size_t i = 0; i < s->n && s->recs[i].seq <= at; i++) applyRec(t, &s->recs[i], i);
    return t;
}

static int cmpStr(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* ------------------------------------------------------------------------------ */
/* Arguments                                                                        */
/* ------------------------------------------------------------------------------ */

/* A query argument, refused (-1) when it holds a NUL (decoded %00) or is not UTF-8. */
static int arg(struct MHD_Connection *c, const char *name, const char **out) {
    const char *v = NULL;
    size_t n = 0;
    *out = NULL;
    if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &n) != MHD_YES || !v) return 0;
    if (strlen(v) != n || !lh_utf8_valid(v, n)) return -1;
    *out = v;
    return 0;
}

/* Parse "2026-12-07T05:41:03Z" (optionally with .fraction, and Z or +00:00) into ns. */
static int parseIsoTime(const char *v, int64_t *ns) {
    struct tm tm = {0};
    const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -1;
    int64_t frac = 0, scale = 1000000000;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        while (*p >= '0' && *p <= '9') { if (scale > 1) { scale /= 10; frac += (*p - '0') * scale; } p++; }
    }
    if (strcmp(p, "Z") && strcmp(p, "+00:00")) return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || t < 0) return -1;
    *ns = (int64_t)t * 1000000000 + frac;
    return 0;
}

/* A point in the log from a seq or an ISO time in argument name; *seq INT64_MAX when
 * absent (the head). -1 with err when it is neither. */
static int pointArg(lh_shadows *s, struct MHD_Connection *c, const char *name, int64_t *seq, char *err, size_t errlen) {
    const char *v;
    *seq = INT64_MAX;
    if (arg(c, name, &v)) { snprintf(err, errlen, "%s is not UTF-8", name); return -1; }
    if (!v || !*v) return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*end && n >= 0 && v[0] != '-' && v[0] != '+') { *seq = n; return 0; }
    int64_t ns;
    if (parseIsoTime(v, &ns)) {
        snprintf(err, errlen, "%s must be a seq (an integer >= 0) or a UTC time like 2026-12-07T05:41:03Z", name);
        return -1;
    }
    int64_t at = 0;
    char serr[256];
    if (lh_store_seq_at_time(s->b->store, ns, &at, serr, sizeof(serr))) { snprintf(err, errlen, "store: %.200s", serr); return -2; }
    *seq = at;
    return 0;
}

/* The path argument, checked. NULL with err when missing (if required) or invalid. */
static const char *pathArg(struct MHD_Connection *c, const char *name, int required, char *err, size_t errlen) {
    const char *p;
    if (arg(c, name, &p)) { snprintf(err, errlen, "%s holds a NUL byte or is not UTF-8", name); return NULL; }
    if (!p || !*p) {
        if (required) snprintf(err, errlen, "%s= is required", name);
        else err[0] = 0;
        return NULL;
    }
    char why[160];
    if (lh_shadow_path_check(p, strlen(p), why, sizeof(why))) { snprintf(err, errlen, "%s: %s", name, why); return NULL; }
    return p;
}

/* ------------------------------------------------------------------------------ */
/* Blobs on read                                                                    */
/* ------------------------------------------------------------------------------ */

/* Record a blob that failed its hash check (once per blob per process: a reader that
 * retries cannot flood the log). Called with s->mu held. */
static void reportCorrupt(lh_shadows *s, const char *hash, const char *path, const char *agent) {
    atomic_fetch_add(&s->corrupt, 1);
    for (int i = 0; i < s->ncorrupt_seen; i++)
        if (!strcmp(s->corrupt_seen[i], hash)) return;
    if (s->ncorrupt_seen < CORRUPT_SEEN) snprintf(s->corrupt_seen[s->ncorrupt_seen++], 65, "%s", hash);
    json_t *d = json_pack("{s:s,s:s}", "hash", hash, "path", path ? path : "");
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    char err[256];
    if (data && lh_bridge_append(s->b, "shadow.corrupted", agent, "shadow", data, NULL, err, sizeof(err)))
        fprintf(stderr, "lighthouse serve: could not record shadow.corrupted for blob %s: %s\n", hash, err);
    free(data);
}

/* Read blob hash; on failure reply (and return -1 with *rc set). */
static int readBlob(lh_shadows *s, struct MHD_Connection *c, lh_req *r, const char *hash, const char *path,
                    char **data, size_t *len, enum MHD_Result *rc) {
    char err[256];
    int g = lh_blobs_get(s->blobs, hash, s->max_file > (64u << 20) ? s->max_file : (64u << 20), data, len, err, sizeof(err));
    if (g == 0) return 0;
    if (g == LH_BLOBS_CORRUPT) {
        reportCorrupt(s, hash, path, r->claims.agent);
        *rc = lh_http_error(s->b, c, r, 503, "blob_corrupt",
                            "the content of %s (blob %.16s…) does not match its recorded SHA-256; refused "
                            "(recorded as shadow.corrupted; restore the blob from a backup)", path ? path : "the blob", hash);
    } else if (g == LH_BLOBS_NOTFOUND) {
        *rc = lh_http_error(s->b, c, r, 404, "blob_missing", "blob %.16s… of %s is not in this bridge's blob store",
                            hash, path ? path : "the request");
    } else {
        *rc = lh_http_error(s->b, c, r, 503, "blob_unreadable", "%s", err);
    }
    return -1;
}

/* ------------------------------------------------------------------------------ */
/* POST /v1/shadows                                                                 */
/* ------------------------------------------------------------------------------ */

/* A path from the body: absolute (then inside project) or relative. */
static int bodyPath(const char *project, const char *p, char *out, size_t cap, char *err, size_t errlen) {
    if (!p) { snprintf(err, errlen, "missing"); return -1; }
    if (p[0] == '/') return lh_shadow_path_rel(project, p, out, cap, err, errlen);
    if (lh_shadow_path_check(p, strlen(p), err, errlen)) return -1;
    snprintf(out, cap, "%s", p);
    return 0;
}

/* The current size of the project with path's file at newsize (and from's gone, for a
 * rename). Called with s->mu held. */
static int64_t projectSize(lh_shadows *s, const char *path, const char *from, int64_t newsize) {
    json_t *t = treeAt(s, INT64_MAX);
    int64_t total = newsize;
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) {
        if (!strcmp(k, path) || (from && !strcmp(k, from))) continue;
        total += s->recs[json_integer_value(v)].size;
    }
    json_decref(t);
    return total;
}

/* 1 when path, or a file under it, has a shadow at the head. Called with s->mu held. */
static int shadowed(lh_shadows *s, const char *path) {
    json_t *t = treeAt(s, INT64_MAX);
    size_t pl = strlen(path);
    int hit = 0;
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) {
        if (!strcmp(k, path) || (!strncmp(k, path, pl) && k[pl] == '/')) { hit = 1; break; }
    }
    json_decref(t);
    return hit;
}

typedef struct upload {
    char op;
    char path[LH_SHADOW_PATH_MAX + 1], from[LH_SHADOW_PATH_MAX + 1];
    char tool[32], project[1024];
    unsigned char *content;   /* malloc'd; NULL for a delete */
    size_t len;
} upload;

/* Parse and check the body. 0, or an HTTP status with err. */
static int parseUpload(lh_shadows *s, const char *body, size_t blen, upload *u, char *code, char *err, size_t errlen) {
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", blen, JSON_REJECT_DUPLICATES, &je);
    int st = 400;
    snprintf(code, 32, "bad_request");
    if (!json_is_object(j)) { snprintf(err, errlen, "the body must be a JSON object: %s", j ? "wrong type" : je.text); goto out; }
    const char *op = jstr(j, "op"), *project = jstr(j, "project"), *tool = jstr(j, "tool");
    u->op = !op ? 0 : !strcmp(op, "update") ? 'u' : !strcmp(op, "delete") ? 'd' : !strcmp(op, "rename") ? 'r' : 0;
    if (!u->op) { snprintf(err, errlen, "op must be \"update\", \"delete\" or \"rename\""); goto out; }
    if (!project || project[0] != '/' || strlen(project) >= sizeof(u->project)) {
        snprintf(err, errlen, "project must be the absolute path of the project root (the hook's cwd)");
        goto out;
    }
    snprintf(u->project, sizeof(u->project), "%s", project);
    if (tool && (strlen(tool) >= sizeof(u->tool) || strspn(tool, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_") != strlen(tool))) {
        snprintf(err, errlen, "tool must be a tool name such as Write");
        goto out;
    }
    snprintf(u->tool, sizeof(u->tool), "%s", tool ? tool : "");
    char why[200];
    if (bodyPath(project, jstr(j, u->op == 'r' ? "to" : "path"), u->path, sizeof(u->path), why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s (paths outside the project are refused)", u->op == 'r' ? "to" : "path", why);
        snprintf(code, 32, "path_refused");
        goto out;
    }
    if (u->op == 'r' && bodyPath(project, jstr(j, "from"), u->from, sizeof(u->from), why, sizeof(why))) {
        snprintf(err, errlen, "from: %s (paths outside the project are refused)", why);
        snprintf(code, 32, "path_refused");
        goto out;
    }
    if (u->op != 'd') {
        json_t *cv = json_object_get(j, "content_b64");
        const char *b64 = json_string_value(cv);
        if (!b64 && u->op == 'r') { st = 0; goto out; }   /* a move of what the shadows hold */
        if (!b64) { snprintf(err, errlen, "content_b64 (the file's bytes in base64) is required for %s", op); goto out; }
        size_t n = json_string_length(cv);
        if (n / 4 * 3 > s->max_file + 3) {
            snprintf(err, errlen, "the file is larger than the shadow limit of %zu bytes (LIGHTHOUSE_SHADOW_MAX_FILE)", s->max_file);
            snprintf(code, 32, "file_too_large");
            st = 413;
            goto out;
        }
        u->content = malloc(n / 4 * 3 + 1);
        long dl = u->content ? lh_base64_decode(b64, n, u->content) : -1;
        if (dl < 0) { snprintf(err, errlen, "content_b64 is not base64"); goto out; }
        u->len = (size_t)dl;
        if (u->len > s->max_file) {
            snprintf(err, errlen, "the file is larger than the shadow limit of %zu bytes (LIGHTHOUSE_SHADOW_MAX_FILE)", s->max_file);
            snprintf(code, 32, "file_too_large");
            st = 413;
            goto out;
        }
    }
    st = 0;
out:
    json_decref(j);
    return st;
}

enum MHD_Result lh_route_shadows_post(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_shadows *s = b->shadows;
    upload u;
    memset(&u, 0, sizeof(u));
    char err[512], code[32];
    int st = parseUpload(s, r->body, r->len, &u, code, err, sizeof(err));
    if (st) {
        free(u.content);
        atomic_fetch_add(&s->refused, 1);
        return lh_http_error(b, c, r, st, code, "%s", err);
    }
    pthread_mutex_lock(&s->mu);
    enum MHD_Result rc;
    char hash[65] = "";
    int created = 0;
    if (catchUp(s, err, sizeof(err))) {
        rc = lh_http_error(b, c, r, 503, "store_unavailable", "cannot read the shadow events: %s", err);
        goto done;
    }
    json_t *d;
    if (u.op == 'd' || (u.op == 'r' && !u.content)) {
        if (!shadowed(s, u.op == 'd' ? u.path : u.from)) {
            rc = lh_http_error(b, c, r, 404, "not_shadowed", "%s has no shadow (nor has any file under it); "
                               "%s", u.op == 'd' ? u.path : u.from,
                               u.op == 'd' ? "nothing to delete" : "send the moved file's content_b64");
            goto done;
        }
        d = u.op == 'd' ? json_pack("{s:s,s:s,s:s}", "path", u.path, "project", u.project, "tool", u.tool)
                        : json_pack("{s:s,s:s,s:s,s:s}", "from", u.from, "to", u.path, "project", u.project, "tool", u.tool);
    } else {
        int64_t total = projectSize(s, u.path, u.op == 'r' ? u.from : NULL, (int64_t)u.len);
        if ((uint64_t)total > s->max_project) {
            atomic_fetch_add(&s->refused, 1);
            rc = lh_http_error(b, c, r, 413, "project_too_large",
                               "the project's shadows would hold %lld bytes, over the limit of %zu "
                               "(LIGHTHOUSE_SHADOW_MAX_PROJECT)", (long long)total, s->max_project);
            goto done;
        }
        if (lh_blobs_put(s->blobs, u.content, u.len, hash, &created, err, sizeof(err))) {
            rc = lh_http_error(b, c, r, 503, "blob_unwritable", "%s", err);
            goto done;
        }
        d = u.op == 'u' ? json_pack("{s:s,s:s,s:I,s:s,s:s}", "path", u.path, "hash", hash, "size",
                                    (json_int_t)u.len, "project", u.project, "tool", u.tool)
                        : json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "from", u.from, "to", u.path, "hash", hash,
                                    "size", (json_int_t)u.len, "project", u.project, "tool", u.tool);
    }
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    const char *type = u.op == 'u' ? "shadow.updated" : u.op == 'd' ? "shadow.deleted" : "shadow.renamed";
    int64_t seq = 0;
    /* The blob is durable (lh_blobs_put) before the event that names it is appended. */
    if (!data || lh_bridge_append(b, type, r->claims.agent, "shadow", data, &seq, err, sizeof(err))) {
        free(data);
        rc = lh_http_error(b, c, r, 503, "store_unavailable", "cannot record %s: %s", type, data ? err : "out of memory");
        goto done;
    }
    free(data);
    atomic_fetch_add(u.op == 'u' ? &s->updates : u.op == 'd' ? &s->deletes : &s->renames, 1);
    catchUp(s, err, sizeof(err));
    json_t *out = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)seq, "type", type, "path", u.path);
    if (hash[0]) {
        json_object_set_new(out, "hash", json_string(hash));
        json_object_set_new(out, "size", json_integer((json_int_t)u.len));
        json_object_set_new(out, "deduplicated", json_boolean(!created));
    }
    rc = lh_bridge_reply_json(c, r, 200, out);
done:
    pthread_mutex_unlock(&s->mu);
    free(u.content);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* GET /v1/shadows/tree, file, history, diff                                        */
/* ------------------------------------------------------------------------------ */

/* Remember a mount (`lighthouse mount` names itself in X-Lighthouse-Mount) for
 * fuse_mount_status. The name is reduced to [A-Za-z0-9_.:/-] (a label value). Called with
 * s->mu held. */
static void noteMount(lh_shadows *s, struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Lighthouse-Mount");
    if (!h || !*h) return;
    char name[128];
    size_t n = 0;
    for (; h[n] && n < sizeof(name) - 1; n++)
        name[n] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-", h[n]) ? h[n] : '_';
    name[n] = 0;
    int64_t now = (int64_t)lh_mono_ns();
    int slot = 0;
    for (int i = 0; i < MOUNTS; i++) {
        if (!strcmp(s->mounts[i].name, name)) { slot = i; break; }
        if (s->mounts[i].last_ns < s->mounts[slot].last_ns) slot = i;   /* else the oldest (or an empty one) */
    }
    snprintf(s->mounts[slot].name, sizeof(s->mounts[slot].name), "%s", name);
    s->mounts[slot].last_ns = now;
}

/* Lock and catch up; on failure reply and return -1 (unlocked). */
static int begin(lh_shadows *s, struct MHD_Connection *c, lh_req *r, enum MHD_Result *rc) {
    char err[256];
    pthread_mutex_lock(&s->mu);
    noteMount(s, c);
    if (catchUp(s, err, sizeof(err)) == 0) return 0;
    pthread_mutex_unlock(&s->mu);
    *rc = lh_http_error(s->b, c, r, 503, "store_unavailable", "cannot read the shadow events: %s", err);
    return -1;
}

static json_t *recJson(const shrec *x) {
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "seq", (json_int_t)x->seq, "time_ns", (json_int_t)x->time_ns, "op",
                          x->op == 'u' ? "updated" : x->op == 'd' ? "deleted" : "renamed", "path", x->path, "agent",
                          x->agent);
    if (x->from) json_object_set_new(o, "from", json_string(x->from));
    if (x->hash[0]) {
        json_object_set_new(o, "hash", json_string(x->hash));
        json_object_set_new(o, "size", json_integer((json_int_t)x->size));
    }
    if (x->tool[0]) json_object_set_new(o, "tool", json_string(x->tool));
    return o;
}

/* The seq a tree at `at` is as of, for replies: at itself when later shadow changes exist
 * (the tree can no longer change), else the last shadow change (a later one may still
 * come, so a client must not take the tree for final). */
static int64_t atSeq(lh_shadows *s, int64_t at) { return at < s->last_seq ? at : s->last_seq; }

enum MHD_Result lh_route_shadows_tree(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_shadows *s = b->shadows;
    char err[256];
    int64_t at;
    int pa = pointArg(s, c, "at", &at, err, sizeof(err));
    if (pa) return lh_http_error(b, c, r, pa == -2 ? 503 : 400, pa == -2 ? "store_unavailable" : "bad_request", "%s", err);
    enum MHD_Result rc;
    if (begin(s, c, r, &rc)) return rc;
    json_t *t = treeAt(s, at);
    size_t n = json_object_size(t), i = 0;
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) if (keys) keys[i++] = k;
    json_t *files = json_array();
    if (keys) {
        qsort(keys, n, sizeof(*keys), cmpStr);
        for (i = 0; i < n; i++) {
            const shrec *x = &s->recs[json_integer_value(json_object_get(t, keys[i]))];
            json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:I,s:I,s:s}", "path", keys[i], "hash", x->hash, "size",
                                                   (json_int_t)x->size, "seq", (json_int_t)x->seq, "time_ns",
                                                   (json_int_t)x->time_ns, "agent", x->agent));
        }
    }
    free(keys);
    json_decref(t);
    json_t *out = json_pack("{s:I,s:o}", "at_seq", (json_int_t)atSeq(s, at), "files", files);
    pthread_mutex_unlock(&s->mu);
    return lh_bridge_reply_json(c, r, 200, out);
}

/* The hash of path at seq at into hash[65]; 0, or -1 when it did not exist then. */
static int hashAt(lh_shadows *s, const char *path, int64_t at, char hash[65], int64_t *seq) {
    json_t *t = treeAt(s, at);
    json_t *v = json_object_get(t, path);
    int rc = -1;
    if (v) {
        const shrec *x = &s->recs[json_integer_value(v)];
        memcpy(hash, x->hash, 65);
        if (seq) *seq = x->seq;
        rc = 0;
    }
    json_decref(t);
    return rc;
}

static enum MHD_Result replyBytes(struct MHD_Connection *c, lh_req *r, const char *ctype, char *data, size_t len,
                                  const char *hash, int64_t seq) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(data); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (hash) MHD_add_response_header(resp, "X-Lighthouse-Shadow-Hash", hash);
    if (seq > 0) {
        char sv[24];
        snprintf(sv, sizeof(sv), "%lld", (long long)seq);
        MHD_add_response_header(resp, "X-Lighthouse-Shadow-Seq", sv);
    }
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

enum MHD_Result lh_route_shadows_file(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_shadows *s = b->shadows;
    char err[256];
    const char *hashArg;
    if (arg(c, "hash", &hashArg)) return lh_http_error(b, c, r, 400, "bad_request", "hash is not UTF-8");
    const char *path = NULL;
    int64_t at = INT64_MAX, seq = 0;
    char hash[65];
    if (hashArg && *hashArg) {
        if (!lh_blobs_valid_name(hashArg))
            return lh_http_error(b, c, r, 400, "bad_request", "hash must be 64 lower-case hex digits");
        memcpy(hash, hashArg, 65);
    } else {
        path = pathArg(c, "path", 1, err, sizeof(err));
        if (!path) return lh_http_error(b, c, r, 400, "bad_request", "%s", err);
        int pa = pointArg(s, c, "at", &at, err, sizeof(err));
        if (pa) return lh_http_error(b, c, r, pa == -2 ? 503 : 400, pa == -2 ? "store_unavailable" : "bad_request", "%s", err);
    }
    enum MHD_Result rc;
    if (begin(s, c, r, &rc)) return rc;
    if (path && hashAt(s, path, at, hash, &seq)) {
        pthread_mutex_unlock(&s->mu);
        return lh_http_error(b, c, r, 404, "not_found", "no shadow of %s at %s", path, at == INT64_MAX ? "the head" : "that point");
    }
    char *data;
    size_t len;
    if (readBlob(s, c, r, hash, path, &data, &len, &rc)) { pthread_mutex_unlock(&s->mu); return rc; }
    pthread_mutex_unlock(&s->mu);
    return replyBytes(c, r, "application/octet-stream", data, len, hash, seq);
}

enum MHD_Result lh_route_shadows_history(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_shadows *s = b->shadows;
    char err[256];
    const char *path = pathArg(c, "path", 0, err, sizeof(err));
    if (!path && err[0]) return lh_http_error(b, c, r, 400, "bad_request", "%s", err);
    const char *av = NULL, *lv = NULL;
    long long after = 0, limit = 1000;
    char *end;
    if (arg(c, "after", &av) || arg(c, "limit", &lv) || (av && *av && ((after = strtoll(av, &end, 10)) < 0 || *end)) ||
        (lv && *lv && ((limit = strtoll(lv, &end, 10)) < 1 || limit > 10000 || *end)))
        return lh_http_error(b, c, r, 400, "bad_request", "after must be a seq >= 0 and limit 1 to 10000");
    enum MHD_Result rc;
    if (begin(s, c, r, &rc)) return rc;
    json_t *arr = json_array();
    int64_t next = after;
    for (size_t i = 0; i < s->n && (long long)json_array_size(arr) < limit; i++) {
        const shrec *x = &s->recs[i];
        if (x->seq <= after) continue;
        int hit = !path || !strcmp(x->path, path) || (x->from && !strcmp(x->from, path)) ||
                  (x->op == 'd' && !strncmp(path, x->path, strlen(x->path)) && path[strlen(x->path)] == '/') ||
                  (x->op == 'r' && x->from && !strncmp(path, x->from, strlen(x->from)) && path[strlen(x->from)] == '/') ||
                  (x->op == 'r' && !strncmp(path, x->path, strlen(x->path)) && path[strlen(x->path)] == '/');
        if (!hit) continue;
        json_array_append_new(arr, recJson(x));
        next = x->seq;
    }
    json_t *out = json_pack("{s:o,s:I}", "changes", arr, "next_after", (json_int_t)next);
    if (path) json_object_set_new(out, "path", json_string(path));
    pthread_mutex_unlock(&s->mu);
    return lh_bridge_reply_json(c, r, 200, out);
}

/* The content of path at at into *data (NULL, "" when it did not exist then). 0, or -1
 * after a reply. Called with s->mu held. */
static int contentAt(lh_shadows *s, struct MHD_Connection *c, lh_req *r, const char *path, int64_t at, char **data,
                     size_t *len, enum MHD_Result *rc) {
    char hash[65];
    *data = NULL;
    *len = 0;
    if (hashAt(s, path, at, hash, NULL)) return 0;
    return readBlob(s, c, r, hash, path, data, len, rc);
}

enum MHD_Result lh_route_shadows_diff(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_shadows *s = b->shadows;
    char err[256];
    const char *path = pathArg(c, "path", 1, err, sizeof(err));
    if (!path) return lh_http_error(b, c, r, 400, "bad_request", "%s", err);
    int64_t from, to;
    int pa = pointArg(s, c, "from", &from, err, sizeof(err));
    if (!pa) pa = pointArg(s, c, "to", &to, err, sizeof(err));
    if (pa) return lh_http_error(b, c, r, pa == -2 ? 503 : 400, pa == -2 ? "store_unavailable" : "bad_request", "%s", err);
    if (from == INT64_MAX) from = 0;   /* from the beginning: the file did not exist */
    enum MHD_Result rc;
    if (begin(s, c, r, &rc)) return rc;
    char *a, *bb;
    size_t al, bl;
    if (contentAt(s, c, r, path, from, &a, &al, &rc)) { pthread_mutex_unlock(&s->mu); return rc; }
    if (contentAt(s, c, r, path, to, &bb, &bl, &rc)) { free(a); pthread_mutex_unlock(&s->mu); return rc; }
    pthread_mutex_unlock(&s->mu);
    char an[LH_SHADOW_PATH_MAX + 48], bn[LH_SHADOW_PATH_MAX + 48];
    if (a) snprintf(an, sizeof(an), "a/%s\t(seq %lld)", path, (long long)from);
    else snprintf(an, sizeof(an), "/dev/null");
    if (bb) snprintf(bn, sizeof(bn), "b/%s\t(seq %lld)", path, (long long)atSeq(s, to));
    else snprintf(bn, sizeof(bn), "/dev/null");
    char *out;
    size_t on;
    int d = lh_udiff(a ? a : "", al, bb ? bb : "", bl, an, bn, &out, &on);
    free(a);
    free(bb);
    if (d) return lh_http_error(b, c, r, 503, "out_of_memory", "out of memory building the diff");
    return replyBytes(c, r, "text/x-diff; charset=utf-8", out, on, NULL, 0);
}

/* ------------------------------------------------------------------------------ */
/* For annotations.c                                                                */
/* ------------------------------------------------------------------------------ */

int lh_shadows_read(lh_shadows *s, const char *path, int64_t at, char **data, size_t *len, int64_t *seq,
                    int64_t *at_seq, int *status, char code[32], char *err, size_t errlen) {
    *data = NULL;
    *len = 0;
    pthread_mutex_lock(&s->mu);
    if (catchUp(s, err, errlen)) {
        pthread_mutex_unlock(&s->mu);
        *status = 503;
        snprintf(code, 32, "store_unavailable");
        return -1;
    }
    if (at_seq) *at_seq = atSeq(s, at);
    char hash[65];
    if (hashAt(s, path, at, hash, seq)) { pthread_mutex_unlock(&s->mu); return 1; }
    int g = lh_blobs_get(s->blobs, hash, s->max_file > (64u << 20) ? s->max_file : (64u << 20), data, len, err, errlen);
    if (g == LH_BLOBS_CORRUPT) reportCorrupt(s, hash, path, "lighthouse");
    pthread_mutex_unlock(&s->mu);
    if (g == 0) return 0;
    *status = g == LH_BLOBS_NOTFOUND ? 404 : 503;
    snprintf(code, 32, "%s", g == LH_BLOBS_CORRUPT ? "blob_corrupt" : g == LH_BLOBS_NOTFOUND ? "blob_missing" : "blob_unreadable");
    if (g == LH_BLOBS_CORRUPT) snprintf(err, errlen, "the content of %s does not match its recorded SHA-256; refused", path);
    return -1;
}

int lh_shadows_point_arg(lh_shadows *s, struct MHD_Connection *c, const char *name, int64_t *seq, char *err,
                         size_t errlen) {
    return pointArg(s, c, name, seq, err, errlen);
}

/* ------------------------------------------------------------------------------ */
/* Metrics                                                                          */
/* ------------------------------------------------------------------------------ */

char *lh_shadows_metrics(lh_shadows *s) {
    char *out = NULL;
    if (!s) return NULL;
    /* One series per mount seen: 1 while it keeps asking (its poller does every few
     * seconds), 0 once it has been silent for MOUNT_STALE_NS (unmounted, or cut off). */
    char mounts[MOUNTS * 200 + 256];
    size_t o = 0;
    int64_t now = (int64_t)lh_mono_ns();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < MOUNTS; i++) {
        if (!s->mounts[i].name[0]) continue;
        if (!o) o += (size_t)snprintf(mounts, sizeof(mounts),
                                      "# HELP lighthouse_bridge_fuse_mount_status 1 while a lighthouse mount keeps reading "
                                      "shadows, 0 once it has been silent for 15 s.\n"
                                      "# TYPE lighthouse_bridge_fuse_mount_status gauge\n");
        o += (size_t)snprintf(mounts + o, sizeof(mounts) - o, "lighthouse_bridge_fuse_mount_status{mount=\"%s\"} %d\n",
                              s->mounts[i].name, now - s->mounts[i].last_ns < MOUNT_STALE_NS);
    }
    pthread_mutex_unlock(&s->mu);
    mounts[o] = 0;
    if (asprintf(&out,
                 "# HELP lighthouse_bridge_shadow_changes_total Shadow changes recorded, by operation.\n"
                 "# TYPE lighthouse_bridge_shadow_changes_total counter\n"
                 "lighthouse_bridge_shadow_changes_total{op=\"updated\"} %llu\n"
                 "lighthouse_bridge_shadow_changes_total{op=\"deleted\"} %llu\n"
                 "lighthouse_bridge_shadow_changes_total{op=\"renamed\"} %llu\n"
                 "# HELP lighthouse_bridge_shadow_refused_total Shadow uploads refused (bad path, over a limit).\n"
                 "# TYPE lighthouse_bridge_shadow_refused_total counter\n"
                 "lighthouse_bridge_shadow_refused_total %llu\n"
                 "# HELP lighthouse_bridge_shadow_blob_corrupt_total Blob reads refused because the content did not match its SHA-256.\n"
                 "# TYPE lighthouse_bridge_shadow_blob_corrupt_total counter\n"
                 "lighthouse_bridge_shadow_blob_corrupt_total %llu\n%s",
                 (unsigned long long)atomic_load(&s->updates), (unsigned long long)atomic_load(&s->deletes),
                 (unsigned long long)atomic_load(&s->renames), (unsigned long long)atomic_load(&s->refused),
                 (unsigned long long)atomic_load(&s->corrupt), mounts) < 0)
        return NULL;
    return out;
}

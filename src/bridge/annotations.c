/* annotations.c — anchored annotations on shadowed files: routes, index and resolution
 * (see annotations.h and docs/shadows.md). */
#include "bridge/annotations.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/shadows.h"
#include "util/anchor.h"
#include "util/shadow_path.h"
#include "util/symbols.h"
#include "util/utf8.h"

#define MAX_SYMS 4096

typedef struct ann {
    char id[24];               /* "ann-" and 16 hex digits */
    char *path, *text;         /* malloc'd */
    char author[64];
    int64_t seq, created_ns, file_seq;
    char *symbol;              /* malloc'd, NULL for a lines anchor */
    lh_sym_kind kind;
    int start, end;
    uint32_t *hashes;          /* nbefore, then the body's end - start + 1, then nafter */
    int nbefore, nafter;
    int deleted;
} ann;

struct lh_annotations {
    lh_bridge *b;
    pthread_mutex_t mu;        /* guards everything below; a creation holds it across its append */
    ann *v;
    size_t n, cap, live;
    size_t max;
    int64_t last_seq;          /* the store's annotation.* events up to here are in v */
};

lh_annotations *lh_annotations_new(lh_bridge *b, char *err, size_t errlen) {
    lh_annotations *a = calloc(1, sizeof(*a));
    if (!a) { snprintf(err, errlen, "out of memory"); return NULL; }
    a->b = b;
    a->max = LH_ANN_COUNT_DEFAULT;
    const char *m = getenv("LIGHTHOUSE_ANNOTATIONS_MAX");
    if (m && *m) {
        char *end;
        unsigned long long v = strtoull(m, &end, 10);
        if (!*end && v > 0 && v <= 1000000) a->max = (size_t)v;
    }
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

static void annFree(ann *x) {
    free(x->path);
    free(x->text);
    free(x->symbol);
    free(x->hashes);
}

void lh_annotations_free(lh_annotations *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) annFree(&a->v[i]);
    free(a->v);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ------------------------------------------------------------------------------ */
/* The index                                                                        */
/* ------------------------------------------------------------------------------ */

static ann *findAnn(lh_annotations *a, const char *id) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->v[i].id, id)) return &a->v[i];
    return NULL;
}

static int validId(const char *id) {
    if (!id || strlen(id) != 20 || strncmp(id, "ann-", 4)) return 0;
    return strspn(id + 4, "0123456789abcdef") == 16;
}

/* Read a JSON array of hashes (integers 0..2^32-1) of at most max into out; the count or -1. */
static int readHashes(json_t *arr, uint32_t *out, int max) {
    if (!json_is_array(arr) || (int)json_array_size(arr) > max) return -1;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        json_int_t h = json_integer_value(v);
        if (!json_is_integer(v) || h < 0 || h > 0xffffffffLL) return -1;
        out[i] = (uint32_t)h;
    }
    return (int)json_array_size(arr);
}

/* Index one annotation.* event (a malformed one is skipped). -1 when out of memory. */
static int indexEvent(lh_annotations *a, const lh_event *e) {
    int created = !strcmp(e->type, "annotation.created"), deleted = !strcmp(e->type, "annotation.deleted");
    if (!created && !deleted) return 0;
    json_t *d = json_loads(e->data, 0, NULL);
    const char *id = json_string_value(json_object_get(d, "id"));
    if (!validId(id)) { json_decref(d); return 0; }
    if (deleted) {
        ann *x = findAnn(a, id);
        if (x && !x->deleted) { x->deleted = 1; a->live--; }
        json_decref(d);
        return 0;
    }
    const char *path = json_string_value(json_object_get(d, "path")), *text = json_string_value(json_object_get(d, "text"));
    const char *symbol = json_string_value(json_object_get(d, "symbol")), *kind = json_string_value(json_object_get(d, "kind"));
    json_t *lines = json_object_get(d, "lines");
    int start = (int)json_integer_value(json_object_get(lines, "start")), end = (int)json_integer_value(json_object_get(lines, "end"));
    if (!path || !text || start < 1 || end < start || end - start + 1 > LH_ANN_LINES_MAX || findAnn(a, id)) {
        json_decref(d);
        return 0;
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        ann *nv = realloc(a->v, nc * sizeof(*nv));
        if (!nv) { json_decref(d); return -1; }
        a->v = nv;
        a->cap = nc;
    }
    ann *x = &a->v[a->n];
    memset(x, 0, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", id);
    x->path = strdup(path);
    x->text = strdup(text);
    x->symbol = symbol ? strdup(symbol) : NULL;
    x->kind = kind && !strcmp(kind, "class") ? LH_SYM_CLASS : kind && !strcmp(kind, "method") ? LH_SYM_METHOD : LH_SYM_FUNCTION;
    snprintf(x->author, sizeof(x->author), "%s", e->agent);
    x->seq = e->seq;
    x->created_ns = e->time_ns;
    x->file_seq = (int64_t)json_integer_value(json_object_get(d, "file_seq"));
    x->start = start;
    x->end = end;
    int body = end - start + 1;
    x->hashes = malloc((size_t)(body + 2 * LH_ANN_CONTEXT) * sizeof(uint32_t));
    if (!x->path || !x->text || (symbol && !x->symbol) || !x->hashes) { annFree(x); json_decref(d); return -1; }
    int nb = readHashes(json_object_get(d, "before"), x->hashes, LH_ANN_CONTEXT);
    int nm = nb < 0 ? -1 : readHashes(json_object_get(d, "body"), x->hashes + nb, body);
    int na = nm != body ? -1 : readHashes(json_object_get(d, "after"), x->hashes + nb + body, LH_ANN_CONTEXT);
    if (nb < 0 || nm != body || na < 0) { annFree(x); json_decref(d); return 0; }
    x->nbefore = nb;
    x->nafter = na;
    a->n++;
    a->live++;
    json_decref(d);
    return 0;
}

/* Bring the index up to the store's head. Called with a->mu held. */
static int catchUp(lh_annotations *a, char *err, size_t errlen) {
    for (;;) {
        lh_store_filter f = {0};
        f.type = "annotation.*";
        f.after_seq = a->last_seq;
        f.limit = LH_STORE_MAX_LIMIT;
        lh_event_list l = {0};
        if (lh_store_query(a->b->store, &f, &l, err, errlen)) { lh_event_list_free(&l); return -1; }
        for (size_t i = 0; i < l.n; i++) {
            if (indexEvent(a, &l.events[i])) { lh_event_list_free(&l); snprintf(err, errlen, "out of memory"); return -1; }
            a->last_seq = l.events[i].seq;
        }
        size_t got = l.n;
        lh_event_list_free(&l);
        if (got < LH_STORE_MAX_LIMIT) return 0;
    }
}

/* Lock and catch up; on failure reply and return -1 (unlocked). */
static int begin(lh_annotations *a, struct MHD_Connection *c, lh_req *r, enum MHD_Result *rc) {
    char err[256];
    pthread_mutex_lock(&a->mu);
    if (catchUp(a, err, sizeof(err)) == 0) return 0;
    pthread_mutex_unlock(&a->mu);
    *rc = lh_http_error(a->b, c, r, 503, "store_unavailable", "cannot read the annotation events: %s", err);
    return -1;
}

/* ------------------------------------------------------------------------------ */
/* A version of a file, read for resolving                                          */
/* ------------------------------------------------------------------------------ */

typedef struct version {
    const char *path;
    int exists;
    uint32_t *lines;
    int n;
    lh_symbol *syms;
    int nsyms;
    int64_t seq;               /* the change that made it */
} version;

static void versionFree(version *v) {
    free(v->lines);
    free(v->syms);
    memset(v, 0, sizeof(*v));
}

/* Load path at `at`: 0 (v->exists 0 when it has no shadow there), or -1 with status, code, err. */
static int versionLoad(lh_annotations *a, const char *path, int64_t at, version *v, int64_t *atSeq, int *status,
                       char code[32], char *err, size_t errlen) {
    memset(v, 0, sizeof(*v));
    v->path = path;
    char *data;
    size_t len;
    int g = lh_shadows_read(a->b->shadows, path, at, &data, &len, &v->seq, atSeq, status, code, err, errlen);
    if (g < 0) return -1;
    if (g > 0) return 0;
    v->exists = 1;
    lh_src_lang lang = lh_symbols_lang(path);
    if (lh_anchor_lines(data, len, &v->lines, &v->n)) goto oom;
    if (lang != LH_SRC_NONE && len <= LH_SYMBOLS_MAX_BYTES) {
        v->syms = malloc(MAX_SYMS * sizeof(*v->syms));
        if (!v->syms) goto oom;
        v->nsyms = lh_symbols_find(lang, data, len, v->syms, MAX_SYMS);
        if (v->nsyms < 0) v->nsyms = 0;
    }
    free(data);
    return 0;
oom:
    free(data);
    versionFree(v);
    *status = 503;
    snprintf(code, 32, "out_of_memory");
    snprintf(err, errlen, "out of memory reading %s", path);
    return -1;
}

static const char *confName(lh_anchor_conf c) {
    return c == LH_ANCHOR_EXACT ? "exact" : c == LH_ANCHOR_MOVED ? "moved" : "lost";
}

static const char *byName(lh_anchor_by b) {
    return b == LH_FOUND_SYMBOL ? "symbol" : b == LH_FOUND_CONTEXT ? "context" : b == LH_FOUND_LINES ? "lines" : NULL;
}

/* The annotation as JSON, resolved in version v (NULL: not resolved). */
static json_t *annJson(const ann *x, const version *v, int64_t atSeq) {
    json_t *anchor = json_pack("{s:{s:i,s:i},s:I}", "lines", "start", x->start, "end", x->end, "file_seq",
                               (json_int_t)x->file_seq);
    if (x->symbol) {
        json_object_set_new(anchor, "symbol", json_string(x->symbol));
        json_object_set_new(anchor, "kind", json_string(lh_sym_kind_name(x->kind)));
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:o}", "id", x->id, "path", x->path, "author", x->author, "text",
                          x->text, "created_ns", (json_int_t)x->created_ns, "seq", (json_int_t)x->seq, "anchor", anchor);
    if (!v) return o;
    lh_anchor_result res = {0};
    if (v->exists) {
        int body = x->end - x->start + 1;
        lh_anchor an = {x->symbol, x->kind, x->start, x->end, x->hashes + x->nbefore, x->hashes, x->nbefore,
                        x->hashes + x->nbefore + body, x->nafter};
        if (lh_anchor_resolve(&an, v->lines, v->n, v->syms, v->nsyms, &res)) memset(&res, 0, sizeof(res));
    }
    json_object_set_new(o, "confidence", json_string(confName(res.confidence)));
    json_object_set_new(o, "lines", res.start ? json_pack("{s:i,s:i}", "start", res.start, "end", res.end) : json_null());
    json_object_set_new(o, "symbol", res.symbol[0] ? json_string(res.symbol) : json_null());
    json_object_set_new(o, "found_by", byName(res.by) ? json_string(byName(res.by)) : json_null());
    json_object_set_new(o, "file_exists", json_boolean(v->exists));
    json_object_set_new(o, "at_seq", json_integer((json_int_t)atSeq));
    return o;
}

/* ------------------------------------------------------------------------------ */
/* POST /v1/annotations                                                             */
/* ------------------------------------------------------------------------------ */

static json_t *hashArray(const uint32_t *h, int n) {
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, json_integer((json_int_t)h[i]));
    return arr;
}

enum MHD_Result lh_route_annotations_post(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_annotations *a = b->annotations;
    json_error_t je;
    json_t *j = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &je);
    enum MHD_Result rc;
    if (!json_is_object(j)) {
        json_decref(j);
        return lh_http_error(b, c, r, 400, "bad_request", "the body must be a JSON object {path, lines|symbol, text}");
    }
    const char *path = json_string_value(json_object_get(j, "path")), *text = json_string_value(json_object_get(j, "text"));
    json_t *lines = json_object_get(j, "lines"), *symv = json_object_get(j, "symbol");
    const char *symbol = json_string_value(symv);
    char why[200];
    if (!path || lh_shadow_path_check(path, strlen(path), why, sizeof(why))) {
        rc = lh_http_error(b, c, r, 400, "bad_request", "path must be a shadowed file's path relative to the project%s%s",
                           path ? ": " : "", path ? why : "");
        json_decref(j);
        return rc;
    }
    if (!text || !*text || strlen(text) > LH_ANN_TEXT_MAX || !lh_utf8_valid(text, strlen(text))) {
        json_decref(j);
        return lh_http_error(b, c, r, 400, "bad_request", "text must be 1 to %d bytes of UTF-8", LH_ANN_TEXT_MAX);
    }
    if ((lines != NULL) == (symv != NULL) || (symv && (!symbol || !*symbol || strlen(symbol) > LH_SYMBOL_NAME_MAX)) ||
        (lines && !json_is_object(lines))) {
        json_decref(j);
        return lh_http_error(b, c, r, 400, "bad_request",
                             "give exactly one anchor: lines {start, end} (1-based) or symbol (a name, at most %d bytes)",
                             LH_SYMBOL_NAME_MAX);
    }
    json_int_t ls = lines ? json_integer_value(json_object_get(lines, "start")) : 0;
    json_int_t le = lines ? json_integer_value(json_object_get(lines, "end")) : 0;
    if (lines && (!json_is_integer(json_object_get(lines, "start")) || !json_is_integer(json_object_get(lines, "end")) ||
                  ls < 1 || le < ls || le - ls + 1 > LH_ANN_LINES_MAX)) {
        json_decref(j);
        return lh_http_error(b, c, r, 400, "bad_request", "lines must be {start, end} with 1 <= start <= end, at most %d lines",
                             LH_ANN_LINES_MAX);
    }
    if (begin(a, c, r, &rc)) { json_decref(j); return rc; }
    if (a->live >= a->max) {
        pthread_mutex_unlock(&a->mu);
        json_decref(j);
        return lh_http_error(b, c, r, 409, "too_many_annotations",
                             "%zu annotations exist, the limit (LIGHTHOUSE_ANNOTATIONS_MAX); delete some first", a->live);
    }
    version v;
    int st = 0;
    char code[32], err[256];
    int64_t atSeq = 0;
    if (versionLoad(a, path, INT64_MAX, &v, &atSeq, &st, code, err, sizeof(err))) {
        pthread_mutex_unlock(&a->mu);
        json_decref(j);
        return lh_http_error(b, c, r, st, code, "%s", err);
    }
    if (!v.exists) {
        pthread_mutex_unlock(&a->mu);
        rc = lh_http_error(b, c, r, 404, "not_found", "%s has no shadow at the head: only shadowed files take annotations", path);
        json_decref(j);   /* path and symbol point into it */
        return rc;
    }
    int start = (int)ls, end = (int)le;
    lh_sym_kind kind = LH_SYM_FUNCTION;
    const char *symName = NULL;
    if (symbol) {
        /* The name as the finder gives it ("Class.method"), else a unique one ending in ".NAME". */
        int hit = -1, many = 0;
        for (int i = 0; i < v.nsyms; i++)
            if (!strcmp(v.syms[i].name, symbol)) { hit = i; many = 0; break; }
        if (hit < 0) {
            size_t sl = strlen(symbol);
            for (int i = 0; i < v.nsyms; i++) {
                size_t nl = strlen(v.syms[i].name);
                if (nl > sl && v.syms[i].name[nl - sl - 1] == '.' && !strcmp(v.syms[i].name + nl - sl, symbol)) {
                    many += hit >= 0;
                    hit = i;
                }
            }
        }
        if (hit < 0 || many) {
            pthread_mutex_unlock(&a->mu);
            versionFree(&v);
            rc = lh_http_error(b, c, r, 400, "symbol_not_found", "%s: %s symbol %s at the head%s", path,
                               many ? "more than one" : "no", symbol,
                               lh_symbols_lang(path) == LH_SRC_NONE ? " (symbols are found in C, Python, JS/TS, Go and shell files)" : "");
            json_decref(j);
            return rc;
        }
        start = v.syms[hit].start;
        end = v.syms[hit].end;
        kind = v.syms[hit].kind;
        symName = v.syms[hit].name;
        if (end - start + 1 > LH_ANN_LINES_MAX) end = start + LH_ANN_LINES_MAX - 1;
    }
    if (end > v.n) {
        pthread_mutex_unlock(&a->mu);
        int nl = v.n;
        versionFree(&v);
        rc = lh_http_error(b, c, r, 400, "bad_request", "%s has %d lines at the head; lines %d-%d are not in it", path, nl,
                           start, end);
        json_decref(j);
        return rc;
    }
    unsigned char rnd[8];
    char id[24];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        pthread_mutex_unlock(&a->mu);
        versionFree(&v);
        json_decref(j);
        return lh_http_error(b, c, r, 503, "internal", "no randomness for an id");
    }
    snprintf(id, sizeof(id), "ann-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
             rnd[7]);
    int nb = start - 1 < LH_ANN_CONTEXT ? start - 1 : LH_ANN_CONTEXT, na = v.n - end < LH_ANN_CONTEXT ? v.n - end : LH_ANN_CONTEXT;
    json_t *d = json_pack("{s:s,s:s,s:s,s:{s:i,s:i},s:I,s:o,s:o,s:o}", "id", id, "path", path, "text", text, "lines",
                          "start", start, "end", end, "file_seq", (json_int_t)v.seq, "before",
                          hashArray(v.lines + start - 1 - nb, nb), "body", hashArray(v.lines + start - 1, end - start + 1),
                          "after", hashArray(v.lines + end, na));
    if (d && symName) {
        json_object_set_new(d, "symbol", json_string(symName));
        json_object_set_new(d, "kind", json_string(lh_sym_kind_name(kind)));
    }
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    json_decref(j);
    if (!data || lh_bridge_append(b, "annotation.created", r->claims.agent, id, data, NULL, err, sizeof(err))) {
        pthread_mutex_unlock(&a->mu);
        versionFree(&v);
        rc = lh_http_error(b, c, r, 503, "store_unavailable", "cannot record annotation.created: %s", data ? err : "out of memory");
        free(data);
        return rc;
    }
    free(data);
    catchUp(a, err, sizeof(err));
    ann *x = findAnn(a, id);
    json_t *out = x ? annJson(x, &v, atSeq) : json_pack("{s:s}", "id", id);
    pthread_mutex_unlock(&a->mu);
    versionFree(&v);
    return lh_bridge_reply_json(c, r, 201, out);
}

/* ------------------------------------------------------------------------------ */
/* GET /v1/annotations, GET and DELETE /v1/annotations/{id}                         */
/* ------------------------------------------------------------------------------ */

/* Order indexes into the annotations (ctx) by path, then age. */
static int cmpByPath(const void *p, const void *q, void *ctx) {
    const ann *v = ctx, *x = &v[*(const size_t *)p], *y = &v[*(const size_t *)q];
    int c = strcmp(x->path, y->path);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

enum MHD_Result lh_route_annotations_list(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_annotations *a = b->annotations;
    char err[256], code[32];
    const char *path = NULL;
    size_t pl = 0;
    if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "path", 4, &path, &pl) == MHD_YES && path && *path) {
        char why[200];
        if (strlen(path) != pl || lh_shadow_path_check(path, pl, why, sizeof(why)))
            return lh_http_error(b, c, r, 400, "bad_request", "path: %s", strlen(path) != pl ? "holds a NUL byte" : why);
    } else {
        path = NULL;
    }
    int64_t at;
    int pa = lh_shadows_point_arg(b->shadows, c, "at", &at, err, sizeof(err));
    if (pa) return lh_http_error(b, c, r, pa == -2 ? 503 : 400, pa == -2 ? "store_unavailable" : "bad_request", "%s", err);
    enum MHD_Result rc;
    if (begin(a, c, r, &rc)) return rc;
    /* Resolve file by file (each version read once), answer in creation order. */
    size_t *sel = malloc((a->n ? a->n : 1) * sizeof(size_t));
    json_t *byId = json_object();
    if (!sel || !byId) {
        pthread_mutex_unlock(&a->mu);
        free(sel);
        json_decref(byId);
        return lh_http_error(b, c, r, 503, "out_of_memory", "out of memory");
    }
    size_t ns = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!a->v[i].deleted && (!path || !strcmp(a->v[i].path, path))) sel[ns++] = i;
    qsort_r(sel, ns, sizeof(size_t), cmpByPath, a->v);
    version v = {0};
    int64_t atSeq = 0;
    int st = 0, failed = 0;
    for (size_t i = 0; i < ns && !failed; i++) {
        const ann *x = &a->v[sel[i]];
        if (!v.path || strcmp(v.path, x->path)) {
            versionFree(&v);
            if (versionLoad(a, x->path, at, &v, &atSeq, &st, code, err, sizeof(err))) failed = 1;
        }
        if (!failed) json_object_set_new(byId, x->id, annJson(x, &v, atSeq));
    }
    versionFree(&v);
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n; i++) {
        json_t *o = json_object_get(byId, a->v[i].id);
        if (o) json_array_append(arr, o);
    }
    json_decref(byId);
    if (!ns) {   /* the seq the (empty) answer is as of */
        char *d;
        size_t dl;
        int s2;
        char c2[32];
        int64_t sq;
        if (lh_shadows_read(b->shadows, "", at, &d, &dl, &sq, &atSeq, &s2, c2, err, sizeof(err)) == 0) free(d);
    }
    pthread_mutex_unlock(&a->mu);
    free(sel);
    if (failed) { json_decref(arr); return lh_http_error(b, c, r, st, code, "%s", err); }
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:o,s:I}", "annotations", arr, "at_seq", (json_int_t)atSeq));
}

/* The live annotation r->rid names, with a->mu held; NULL after a 404 reply (unlocked). */
static ann *pathAnn(lh_annotations *a, struct MHD_Connection *c, lh_req *r, enum MHD_Result *rc) {
    if (!validId(r->rid)) {
        *rc = lh_http_error(a->b, c, r, 404, "not_found", "no annotation %.40s (ids look like ann-0123456789abcdef)", r->rid);
        return NULL;
    }
    if (begin(a, c, r, rc)) return NULL;
    ann *x = findAnn(a, r->rid);
    if (!x || x->deleted) {
        pthread_mutex_unlock(&a->mu);
        *rc = lh_http_error(a->b, c, r, 404, "not_found", "no annotation %s%s", r->rid, x ? " (deleted)" : "");
        return NULL;
    }
    return x;
}

enum MHD_Result lh_route_annotation_get(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_annotations *a = b->annotations;
    char err[256], code[32];
    int64_t at;
    int pa = lh_shadows_point_arg(b->shadows, c, "at", &at, err, sizeof(err));
    if (pa) return lh_http_error(b, c, r, pa == -2 ? 503 : 400, pa == -2 ? "store_unavailable" : "bad_request", "%s", err);
    enum MHD_Result rc;
    ann *x = pathAnn(a, c, r, &rc);
    if (!x) return rc;
    version v;
    int64_t atSeq = 0;
    int st = 0;
    if (versionLoad(a, x->path, at, &v, &atSeq, &st, code, err, sizeof(err))) {
        pthread_mutex_unlock(&a->mu);
        return lh_http_error(b, c, r, st, code, "%s", err);
    }
    json_t *out = annJson(x, &v, atSeq);
    pthread_mutex_unlock(&a->mu);
    versionFree(&v);
    return lh_bridge_reply_json(c, r, 200, out);
}

enum MHD_Result lh_route_annotation_delete(lh_bridge *b, struct MHD_Connection *c, lh_req *r) {
    lh_annotations *a = b->annotations;
    enum MHD_Result rc;
    ann *x = pathAnn(a, c, r, &rc);
    if (!x) return rc;
    if (!(r->claims.role & LH_ROLE_ADMIN) && strcmp(x->author, r->claims.agent)) {
        pthread_mutex_unlock(&a->mu);
        return lh_http_error(b, c, r, 403, "forbidden", "only its author (%s) or an admin may delete annotation %s", x->author,
                             x->id);
    }
    json_t *d = json_pack("{s:s,s:s}", "id", x->id, "path", x->path);
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    char err[256], id[24];
    snprintf(id, sizeof(id), "%s", x->id);
    if (!data || lh_bridge_append(b, "annotation.deleted", r->claims.agent, id, data, NULL, err, sizeof(err))) {
        pthread_mutex_unlock(&a->mu);
        rc = lh_http_error(b, c, r, 503, "store_unavailable", "cannot record annotation.deleted: %s", data ? err : "out of memory");
        free(data);
        return rc;
    }
    free(data);
    catchUp(a, err, sizeof(err));
    pthread_mutex_unlock(&a->mu);
    return lh_bridge_reply_json(c, r, 200, json_pack("{s:s,s:b}", "id", id, "deleted", 1));
}

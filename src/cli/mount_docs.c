/* mount_docs.c — annotations/ and escalations/ of `lighthouse mount` (see mount_docs.h). */
#include "cli/mount_docs.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/shadow_path.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static lh_md_set *cached[LH_MD_KINDS];   /* guarded by mu */

static uint64_t nowMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void setFree(lh_md_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) { free(s->docs[i].name); free(s->docs[i].text); }
    free(s->docs);
    free(s);
}

void lh_md_release(lh_md_set *s) {
    if (!s) return;
    pthread_mutex_lock(&mu);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&mu);
    if (last) setFree(s);
}

void lh_md_clear(void) {
    for (int k = 0; k < LH_MD_KINDS; k++) {
        pthread_mutex_lock(&mu);
        lh_md_set *s = cached[k];
        cached[k] = NULL;
        pthread_mutex_unlock(&mu);
        lh_md_release(s);
    }
}

static int cmpDoc(const void *x, const void *y) {
    return strcmp(((const lh_md_doc *)x)->name, ((const lh_md_doc *)y)->name);
}

/* Add a document: name (checked like a shadow path; a bad one is skipped) and j's text. */
static int addDoc(lh_md_set *s, size_t *cap, const char *name, json_t *j) {
    char why[128];
    if (lh_shadow_path_check(name, strlen(name), why, sizeof(why))) return 0;
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        lh_md_doc *nd = realloc(s->docs, nc * sizeof(*nd));
        if (!nd) return -1;
        s->docs = nd;
        *cap = nc;
    }
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t tl = t ? strlen(t) : 0;
    char *text = t ? realloc(t, tl + 2) : NULL;
    char *nm = strdup(name);
    if (!text || !nm) { free(text ? text : t); free(nm); return -1; }
    text[tl] = '\n';
    text[tl + 1] = 0;
    s->docs[s->n++] = (lh_md_doc){nm, text, tl + 1};
    return 0;
}

/* GET path → JSON (200), NULL with *rc 0 for a 404 (the route or thing is absent), else rc. */
static json_t *fetch(lh_mc *m, const char *path, int *rc) {
    int st;
    char *body, err[256];
    size_t len;
    *rc = lh_mc_get(m, path, &st, &body, &len, err, sizeof(err));
    if (*rc) return NULL;
    json_t *j = st == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    free(body);
    if (st == 404) { *rc = 0; return NULL; }
    if (st == 401 || st == 403) { *rc = -EACCES; return NULL; }
    if (st != 200 || !j) { json_decref(j); *rc = -EIO; return NULL; }
    return j;
}

static lh_md_set *build(lh_mc *m, lh_md_kind k, int *rc) {
    json_t *j = fetch(m, k == LH_MD_ANNOTATIONS ? "/v1/annotations" : "/v1/escalations?state=all", rc);
    if (*rc) return NULL;
    lh_md_set *s = calloc(1, sizeof(*s));
    if (!s) { json_decref(j); *rc = -ENOMEM; return NULL; }
    size_t cap = 0;
    json_t *arr = json_object_get(j, k == LH_MD_ANNOTATIONS ? "annotations" : "escalations");
    size_t i;
    json_t *v;
    if (k == LH_MD_ESCALATIONS) {
        json_array_foreach(arr, i, v) {
            const char *id = json_string_value(json_object_get(v, "id"));
            char name[96];
            if (!id || strlen(id) > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(id))
                continue;
            snprintf(name, sizeof(name), "%s.json", id);
            if (addDoc(s, &cap, name, v)) { *rc = -ENOMEM; break; }
        }
    } else {
        /* One document per path, its annotations in the bridge's order (oldest first). */
        json_t *byPath = json_object();
        json_array_foreach(arr, i, v) {
            const char *p = json_string_value(json_object_get(v, "path"));
            if (!p) continue;
            json_t *list = json_object_get(byPath, p);
            if (!list) { list = json_array(); json_object_set_new(byPath, p, list); }
            json_array_append(list, v);
        }
        const char *p;
        json_object_foreach(byPath, p, v) {
            char name[LH_SHADOW_PATH_MAX + 8];
            if (strlen(p) + 5 > LH_SHADOW_PATH_MAX) continue;
            snprintf(name, sizeof(name), "%s.json", p);
            json_t *doc = json_pack("{s:s,s:O,s:O}", "path", p, "at_seq", json_object_get(j, "at_seq"), "annotations", v);
            int bad = !doc || addDoc(s, &cap, name, doc);
            json_decref(doc);
            if (bad) { *rc = -ENOMEM; break; }
        }
        json_decref(byPath);
    }
    json_decref(j);
    if (*rc) { setFree(s); return NULL; }
    qsort(s->docs, s->n, sizeof(*s->docs), cmpDoc);
    s->fetched_ms = nowMs();
    s->refs = 1;
    return s;
}

int lh_md_get(lh_mc *m, lh_md_kind k, lh_md_set **out) {
    pthread_mutex_lock(&mu);
    lh_md_set *s = cached[k];
    if (s && nowMs() - s->fetched_ms < LH_MD_TTL_MS) {
        s->refs++;
        pthread_mutex_unlock(&mu);
        *out = s;
        return 0;
    }
    pthread_mutex_unlock(&mu);
    int rc = 0;
    lh_md_set *n = build(m, k, &rc);
    if (!n) return rc;
    pthread_mutex_lock(&mu);
    lh_md_set *old = cached[k];
    cached[k] = n;
    n->refs++;   /* the cache's and the caller's */
    pthread_mutex_unlock(&mu);
    lh_md_release(old);
    *out = n;
    return 0;
}

int lh_md_lookup(const lh_md_set *s, const char *sub, size_t *idx) {
    if (!*sub) return 2;
    size_t sl = strlen(sub);
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->docs[i].name;
        if (!strcmp(p, sub)) { *idx = i; return 1; }
        if (!strncmp(p, sub, sl) && p[sl] == '/') return 2;
    }
    return 0;
}

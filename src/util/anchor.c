/* anchor.c — re-resolving an annotation's anchor (see anchor.h). */
#include "util/anchor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t lh_anchor_line_hash(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\f' || s[n - 1] == '\v')) n--;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int lh_anchor_lines(const char *text, size_t len, uint32_t **out, int *n) {
    *out = NULL;
    *n = 0;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += text[i] == '\n';
    if (len && text[len - 1] != '\n') count++;
    if (!count) return 0;
    if (count > (size_t)1 << 24) count = (size_t)1 << 24;   /* far past the shadow size limit */
    uint32_t *h = malloc(count * sizeof(*h));
    if (!h) return -1;
    size_t k = 0, b = 0;
    for (size_t i = 0; i <= len && k < count; i++) {
        if (i == len || text[i] == '\n') {
            if (i == len && b == len) break;
            h[k++] = lh_anchor_line_hash(text + b, i - b);
            b = i + 1;
        }
    }
    *out = h;
    *n = (int)k;
    return 0;
}

typedef struct hpos { uint32_t h; int pos; } hpos;

static int cmpHpos(const void *x, const void *y) {
    const hpos *a = x, *b = y;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    return a->pos - b->pos;
}

/* The first index in p[0..n) with hash h, and how many there are. */
static int findHash(const hpos *p, int n, uint32_t h, int *count) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (p[mid].h < h) lo = mid + 1;
        else hi = mid;
    }
    int e = lo;
    while (e < n && p[e].h == h && e - lo <= LH_ANCHOR_MAX_OCC) e++;
    *count = e - lo;
    return lo;
}

static int sameLines(const lh_anchor *a, const uint32_t *lines, int n, int start) {
    int len = a->end - a->start + 1;
    if (start < 1 || start + len - 1 > n) return 0;
    return !memcmp(a->body, lines + start - 1, (size_t)len * sizeof(*lines));
}

/* The symbol of kind k whose range holds line p, the smallest; -1 when none. */
static int symbolAt(const lh_symbol *syms, int nsyms, lh_sym_kind k, int p) {
    int best = -1;
    for (int i = 0; i < nsyms; i++)
        if (syms[i].kind == k && syms[i].start <= p && p <= syms[i].end &&
            (best < 0 || syms[i].end - syms[i].start < syms[best].end - syms[best].start))
            best = i;
    return best;
}

int lh_anchor_resolve(const lh_anchor *a, const uint32_t *lines, int n, const lh_symbol *syms, int nsyms,
                      lh_anchor_result *res) {
    memset(res, 0, sizeof(*res));
    int L = a->end - a->start + 1;
    if (L < 1) return 0;
    /* 1. By the symbol's name (the nearest, if several have it). */
    if (a->symbol) {
        int best = -1;
        for (int i = 0; i < nsyms; i++) {
            if (syms[i].kind != a->kind || strcmp(syms[i].name, a->symbol)) continue;
            if (best < 0 || abs(syms[i].start - a->start) < abs(syms[best].start - a->start)) best = i;
        }
        if (best >= 0) {
            const lh_symbol *s = &syms[best];
            res->by = LH_FOUND_SYMBOL;
            res->start = s->start;
            res->end = s->end;
            snprintf(res->symbol, sizeof(res->symbol), "%s", s->name);
            res->confidence = s->start == a->start && s->end == a->end && sameLines(a, lines, n, a->start)
                                  ? LH_ANCHOR_EXACT : LH_ANCHOR_MOVED;
            return 0;
        }
    }
    /* 2. The same lines, unchanged. */
    if (!a->symbol && sameLines(a, lines, n, a->start)) {
        res->confidence = LH_ANCHOR_EXACT;
        res->by = LH_FOUND_LINES;
        res->start = a->start;
        res->end = a->end;
        return 0;
    }
    if (n <= 0) return 0;
    /* 3. By context: votes for offsets. */
    hpos *p = malloc((size_t)n * sizeof(*p));
    int *votes = calloc((size_t)n + (size_t)L, sizeof(*votes));
    if (!p || !votes) { free(p); free(votes); return -1; }
    for (int i = 0; i < n; i++) p[i] = (hpos){lines[i], i};
    qsort(p, (size_t)n, sizeof(*p), cmpHpos);
    uint32_t blank = lh_anchor_line_hash("", 0);
    int eligible = 0;
    for (int i = 0; i < L; i++) {
        if (a->body[i] == blank) continue;
        int cnt, at = findHash(p, n, a->body[i], &cnt);
        if (cnt > LH_ANCHOR_MAX_OCC) continue;   /* too common to say where it is */
        eligible++;
        for (int k = 0; k < cnt; k++) votes[p[at + k].pos - i + L - 1]++;
    }
    int bestOff = 0, bestVotes = 0, bestCtx = -1;
    for (int v = 0; v < n + L - 1; v++) {
        if (!votes[v] || votes[v] < bestVotes) continue;
        int off = v - (L - 1), ctx = 0;
        for (int k = 0; k < a->nbefore; k++) {
            int q = off - a->nbefore + k;
            ctx += q >= 0 && q < n && lines[q] == a->before[k];
        }
        for (int k = 0; k < a->nafter; k++) {
            int q = off + L + k;
            ctx += q >= 0 && q < n && lines[q] == a->after[k];
        }
        if (votes[v] > bestVotes || ctx > bestCtx ||
            (ctx == bestCtx && abs(off - (a->start - 1)) < abs(bestOff - (a->start - 1)))) {
            bestVotes = votes[v];
            bestCtx = ctx;
            bestOff = off;
        }
    }
    free(p);
    free(votes);
    if (!eligible || !bestVotes || bestVotes * 2 < eligible) return 0;   /* 4. lost */
    res->confidence = LH_ANCHOR_MOVED;
    res->by = LH_FOUND_CONTEXT;
    res->start = bestOff + 1 < 1 ? 1 : bestOff + 1;
    res->end = bestOff + L > n ? n : bestOff + L;
    if (a->symbol) {
        int first = -1;
        for (int i = 0; i < L && first < 0; i++) {
            int q = bestOff + i;
            if (q >= 0 && q < n && lines[q] == a->body[i] && a->body[i] != blank) first = q + 1;
        }
        int s = first > 0 ? symbolAt(syms, nsyms, a->kind, first) : -1;
        if (s >= 0) {
            res->start = syms[s].start;
            res->end = syms[s].end;
            snprintf(res->symbol, sizeof(res->symbol), "%s", syms[s].name);
        }
    }
    return 0;
}

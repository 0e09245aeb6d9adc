/* udiff.c — unified diff of two texts (see udiff.h). */
#include "util/udiff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct line { const char *s; size_t len; int nl; } line;   /* nl: ends with '\n' */
typedef struct op { char kind; size_t apos, bpos; const line *l; } op;   /* positions before it */

typedef struct obuf { char *p; size_t n, cap; int oom; } obuf;

static void put(obuf *o, const char *s, size_t n) {
    if (o->oom) return;
    if (o->n + n + 1 > o->cap) {
        size_t c = o->cap ? o->cap : 256;
        while (c < o->n + n + 1) c *= 2;
        char *q = realloc(o->p, c);
        if (!q) { o->oom = 1; return; }
        o->p = q;
        o->cap = c;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}

/* Split text into lines; *n gets their count. NULL when out of memory. */
static line *splitLines(const char *t, size_t len, size_t *n) {
    size_t k = 0;
    for (size_t i = 0; i < len; i++) k += t[i] == '\n';
    line *ls = malloc((k + 1) * sizeof(*ls));
    if (!ls) return NULL;
    size_t c = 0, start = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n') { ls[c++] = (line){t + start, i - start, 1}; start = i + 1; }
    if (start < len) ls[c++] = (line){t + start, len - start, 0};
    *n = c;
    return ls;
}

static int same(const line *x, const line *y) { return x->len == y->len && x->nl == y->nl && !memcmp(x->s, y->s, x->len); }

/* The edit script of a and b into ops (capacity na + nb). Returns its length, or -1 (OOM). */
static long editScript(const line *a, size_t na, const line *b, size_t nb, op *ops) {
    size_t pre = 0, suf = 0;
    while (pre < na && pre < nb && same(&a[pre], &b[pre])) pre++;
    while (suf < na - pre && suf < nb - pre && same(&a[na - 1 - suf], &b[nb - 1 - suf])) suf++;
    size_t n = na - pre - suf, m = nb - pre - suf, k = 0, i = 0, j = 0;
    for (size_t x = 0; x < pre; x++) ops[k++] = (op){' ', x, x, &a[x]};
    uint32_t *dp = NULL;
    if (n && m && (n + 1) * (m + 1) <= LH_UDIFF_MAX_CELLS) {
        dp = calloc((n + 1) * (m + 1), sizeof(*dp));
        if (!dp) return -1;
        for (size_t x = n; x-- > 0;)
            for (size_t y = m; y-- > 0;) {
                uint32_t *cell = &dp[x * (m + 1) + y];
                if (same(&a[pre + x], &b[pre + y])) *cell = dp[(x + 1) * (m + 1) + y + 1] + 1;
                else {
                    uint32_t d = dp[(x + 1) * (m + 1) + y], r = dp[x * (m + 1) + y + 1];
                    *cell = d >= r ? d : r;
                }
            }
    }
    while (i < n || j < m) {
        size_t ap = pre + i, bp = pre + j;
        if (dp && i < n && j < m && same(&a[ap], &b[bp])) { ops[k++] = (op){' ', ap, bp, &a[ap]}; i++; j++; }
        else if (i < n && (!dp || j == m || dp[(i + 1) * (m + 1) + j] >= dp[i * (m + 1) + j + 1])) {
            ops[k++] = (op){'-', ap, bp, &a[ap]};
            i++;
        } else { ops[k++] = (op){'+', ap, bp, &b[bp]}; j++; }
    }
    free(dp);
    for (size_t x = 0; x < suf; x++) ops[k++] = (op){' ', na - suf + x, nb - suf + x, &a[na - suf + x]};
    return (long)k;
}

static void hunk(obuf *o, const op *ops, size_t from, size_t to) {
    size_t al = 0, bl = 0;
    for (size_t x = from; x < to; x++) { al += ops[x].kind != '+'; bl += ops[x].kind != '-'; }
    size_t as = ops[from].apos + (al ? 1 : 0), bs = ops[from].bpos + (bl ? 1 : 0);
    char h[96];
    int n = snprintf(h, sizeof(h), "@@ -%zu,%zu +%zu,%zu @@\n", as, al, bs, bl);
    put(o, h, (size_t)n);
    for (size_t x = from; x < to; x++) {
        put(o, &ops[x].kind, 1);
        put(o, ops[x].l->s, ops[x].l->len);
        put(o, "\n", 1);
        if (!ops[x].l->nl) put(o, "\\ No newline at end of file\n", 28);
    }
}

int lh_udiff(const char *a, size_t alen, const char *b, size_t blen, const char *aname, const char *bname,
             char **out, size_t *outlen) {
    enum { CONTEXT = 3 };
    size_t na = 0, nb = 0;
    line *la = splitLines(a, alen, &na), *lb = splitLines(b, blen, &nb);
    op *ops = la && lb ? malloc((na + nb + 1) * sizeof(*ops)) : NULL;
    long k = ops ? editScript(la, na, lb, nb, ops) : -1;
    obuf o = {0};
    put(&o, "", 0);
    int changed = 0;
    for (long x = 0; x < k; x++) changed |= ops[x].kind != ' ';
    if (k >= 0 && changed) {
        put(&o, "--- ", 4); put(&o, aname, strlen(aname)); put(&o, "\n+++ ", 5);
        put(&o, bname, strlen(bname)); put(&o, "\n", 1);
        size_t x = 0, K = (size_t)k;
        while (x < K) {
            while (x < K && ops[x].kind == ' ') x++;
            if (x == K) break;
            size_t from = x > CONTEXT ? x - CONTEXT : 0, last = x;   /* last change in the hunk */
            for (size_t y = x; y < K; y++) {
                if (ops[y].kind != ' ') last = y;
                else if (y - last > 2 * CONTEXT) break;
            }
            size_t to = last + 1 + CONTEXT < K ? last + 1 + CONTEXT : K;
            hunk(&o, ops, from, to);
            x = to;
        }
    }
    free(la);
    free(lb);
    free(ops);
    if (k < 0 || o.oom) { free(o.p); return -1; }
    *out = o.p;
    *outlen = o.n;
    return 0;
}

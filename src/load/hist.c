/* hist.c — log-linear latency histograms (see load.h).
 *
 * The layout is HdrHistogram's: values below 2^b are counted exactly; above, each power
 * of two [2^k, 2^(k+1)) is cut into 2^(b-1) equal sub-buckets. A bucket's width is then
 * at most 1/2^(b-1) of its lower bound, and its midpoint is within 1/2^b of any value in
 * it. Written here rather than linking hdr_histogram (not packaged for Debian stable as a
 * C library we can rely on); it is fifty lines. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

static int highBit(uint64_t v) { return 63 - __builtin_clzll(v); }

int lh_load_hist_index(const lh_load_hist *h, uint64_t v) {
    int b = h->sub_bits;
    uint64_t sub = 1ull << b, half = sub >> 1;
    if (v < sub) return (int)v;
    int e = highBit(v) - (b - 1);              /* ≥ 1 */
    uint64_t m = v >> e;                       /* in [half, sub) */
    return (int)(sub + (uint64_t)(e - 1) * half + (m - half));
}

void lh_load_hist_bounds(const lh_load_hist *h, int idx, uint64_t *lo, uint64_t *hi) {
    int b = h->sub_bits;
    assert(b >= 2 && b <= 12); /* lh_load_hist_init's bounds: half >= 2, never 0 below */
    uint64_t sub = 1ull << b, half = sub >> 1;
    assert(half >= 2);
    if ((uint64_t)idx < sub) { *lo = (uint64_t)idx; *hi = (uint64_t)idx + 1; return; }
    uint64_t k = (uint64_t)idx - sub;
    int e = (int)(k / half) + 1;
    uint64_t m = half + k % half;
    *lo = m << e;
    *hi = (m + 1) << e;
}

int lh_load_hist_init(lh_load_hist *h, int sub_bits) {
    memset(h, 0, sizeof(*h));
    if (sub_bits < 2 || sub_bits > 12) return -1;
    h->sub_bits = sub_bits;
    h->nbuckets = lh_load_hist_index(h, LH_LOAD_HIST_MAX_NS) + 1;
    h->b = calloc((size_t)h->nbuckets, sizeof(uint32_t));
    return h->b ? 0 : -1;
}

void lh_load_hist_free(lh_load_hist *h) {
    free(h->b);
    h->b = NULL;
}

void lh_load_hist_add(lh_load_hist *h, uint64_t ns) {
    if (ns > LH_LOAD_HIST_MAX_NS) { ns = LH_LOAD_HIST_MAX_NS; h->clamped++; }
    h->b[lh_load_hist_index(h, ns)]++;
    if (!h->count || ns < h->min_ns) h->min_ns = ns;
    if (ns > h->max_ns) h->max_ns = ns;
    h->count++;
    h->sum_ns += (double)ns;
}

void lh_load_hist_merge(lh_load_hist *into, const lh_load_hist *from) {
    if (!from->count || into->sub_bits != from->sub_bits) return;
    for (int i = 0; i < into->nbuckets; i++) into->b[i] += from->b[i];
    if (!into->count || from->min_ns < into->min_ns) into->min_ns = from->min_ns;
    if (from->max_ns > into->max_ns) into->max_ns = from->max_ns;
    into->count += from->count;
    into->clamped += from->clamped;
    into->sum_ns += from->sum_ns;
}

/* The value of rank ceil(q·n) (nearest-rank), at its bucket's midpoint, clamped to the
 * exact min and max. */
uint64_t lh_load_hist_quantile(const lh_load_hist *h, double q) {
    if (!h->count) return 0;
    if (q <= 0) return h->min_ns;
    if (q >= 1) return h->max_ns;
    double r = q * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r) rank++;
    if (rank < 1) rank = 1;
    uint64_t cum = 0;
    for (int i = 0; i < h->nbuckets; i++) {
        cum += h->b[i];
        if (cum >= rank) {
            uint64_t lo, hi;
            lh_load_hist_bounds(h, i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            if (mid < h->min_ns) mid = h->min_ns;
            if (mid > h->max_ns) mid = h->max_ns;
            return mid;
        }
    }
    return h->max_ns;
}

double lh_load_hist_mean(const lh_load_hist *h) {
    return h->count ? h->sum_ns / (double)h->count : 0;
}

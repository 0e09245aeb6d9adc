"""ab_stats.py: the statistics of bench/escalation_ab.sh (tested by
tests/integration/bench_stats.sh).

pool(hists): cumulative histograms ({le: count}, le in s or "inf") summed, as quantile_ms
takes them.

quantile_ms(cum, p): a quantile of a Prometheus histogram. cum: [(le, cumulative count)]
sorted by le (math.inf last), le in seconds; the quantile in ms, interpolated linearly
inside its bucket (the +Inf bucket answers its lower bound); None when it is empty.

pooled_ratio_ci(b_runs, alone_runs, q): B's pooled quantile over the alone runs' pooled
quantile, and its 90% interval by a bootstrap over rounds. Each argument is a list with
one entry per round: that round's histograms ({le: count}, le in s or "inf") of its B runs,
or of its alone runs. A resample draws as many rounds as there are, with replacement, and
pools the chosen rounds' histograms of each kind; 2,000 resamples, a fixed seed. Returns
(ratio, low, high) or None.

verdict_word(low, high): from a ratio's 90% interval, UNCHANGED when it lies within
0.80-1.25 (the usual equivalence margins, two one-sided tests at 5%), SLOWER when it lies
above 1 and reaches past 1.25, UNDECIDED otherwise.

rank_greater(xs, ys): the one-sided Mann-Whitney test that xs tend to lie above ys: the
share of the ways of choosing len(xs) of all the values whose U (pairs x > y, ties half) is
at least the observed one. Exact over every way while there are at most 200,000 of them,
else over a fixed sample of 50,000. 5 values all above 10 others: 1 / C(15, 5)."""
import itertools
import math
import random


def quantile_ms(cum, p):
    n = cum[-1][1] if cum else 0
    if n <= 0:
        return None
    rank, lo, below = p * n, 0.0, 0.0
    for le, c in cum:
        if c >= rank:
            if le == math.inf:
                return lo * 1e3
            return (lo + (le - lo) * (rank - below) / (c - below if c > below else 1)) * 1e3
        lo, below = le, c
    return None


def _u(xs, ys):
    return sum((x > y) + 0.5 * (x == y) for x in xs for y in ys)


def rank_greater(xs, ys):
    allv, k = list(xs) + list(ys), len(xs)
    idx = range(len(allv))
    obs, ge, tot = _u(xs, ys), 0, 0
    if math.comb(len(allv), k) <= 200000:
        picks = itertools.combinations(idx, k)
    else:
        rnd = random.Random(1)
        picks = (rnd.sample(idx, k) for _ in range(50000))
    for pick in picks:
        chosen = set(pick)
        tot += 1
        ge += _u([allv[i] for i in pick], [allv[i] for i in idx if i not in chosen]) >= obs
    return ge / tot


def pool(hists):
    tot = {}
    for h in hists:
        for le, c in h.items():
            tot[le] = tot.get(le, 0) + c
    return sorted((math.inf if le == "inf" else le, c) for le, c in tot.items())


def pooled_ratio_ci(b_runs, alone_runs, q, resamples=2000):
    n = len(b_runs)
    if n == 0 or n != len(alone_runs):
        return None

    def ratio(idx):
        b = quantile_ms(pool(h for i in idx for h in b_runs[i]), q)
        a = quantile_ms(pool(h for i in idx for h in alone_runs[i]), q)
        return b / a if a and b is not None else None

    point = ratio(range(n))
    if point is None:
        return None
    rnd = random.Random(1)
    rs = sorted(r for r in (ratio([rnd.randrange(n) for _ in range(n)]) for _ in range(resamples)) if r is not None)
    return point, rs[int(0.05 * len(rs))], rs[min(len(rs) - 1, int(0.95 * len(rs)))]


def verdict_word(low, high):
    if low >= 0.80 and high <= 1.25:
        return "UNCHANGED"
    if low > 1.0 and high > 1.25:
        return "SLOWER"
    return "UNDECIDED"

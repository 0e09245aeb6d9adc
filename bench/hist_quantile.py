"""hist_quantile.py: a quantile of a Prometheus histogram, for the bench scripts
(bench/escalation_ab.sh). cum: [(le, cumulative count)] sorted by le (math.inf last), le
in seconds; the quantile in ms, interpolated linearly inside its bucket (the +Inf bucket
answers its lower bound); None when the histogram is empty."""
import math


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

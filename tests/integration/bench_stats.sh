#!/usr/bin/env bash
# bench_stats.sh — the statistics behind bench/escalation_ab.sh's verdict (bench/ab_stats.py):
# a histogram's quantile, the one-sided rank test of the B runs (with escalation traffic)
# against the fleet-alone runs, and the pooled ratio's bootstrap interval that decides the
# verdict. Known inputs, known answers; no build.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
R="${LH_ROOT:?}"

py() { python3 -c "import sys; sys.path.insert(0, '$R/bench'); from ab_stats import *; $1"; }

# 5 values all above 10 others: only 1 of the C(15,5) = 3003 ways has U as large.
check "rank test: 5 runs all above 10 gives p = 1/3003" \
  '[ "$(py "print(round(rank_greater([9,9.5,10,11,12], [1,2,3,4,5,6,7,8,1.5,2.5]) * 3003))")" = 1 ]'
check "rank test: 5 runs all below 10 gives p = 1" \
  '[ "$(py "print(rank_greater([0.1,0.2,0.3,0.4,0.5], [1,2,3,4,5,6,7,8,9,10]))")" = 1.0 ]'
check "rank test: runs spread among the others are not significant (p > 0.3)" \
  '[ "$(py "print(rank_greater([1.5,3.5,5.5,7.5,9.5], [1,2,3,4,5,6,7,8,9,10]) > 0.3)")" = True ]'
check "rank test: identical values are not significant (ties count half)" \
  '[ "$(py "print(rank_greater([1,1,1], [1,1,1,1,1,1]) == 1.0)")" = True ]'
check "rank test: many values take the sampled path and still find a clear shift (p < 0.001)" \
  '[ "$(py "print(rank_greater([x + 100 for x in range(12)], list(range(24))) < 0.001)")" = True ]'
# cumulative buckets: 50 at or under 1 ms, 100 at or under 2 ms
check "quantile: the median of a two-bucket histogram is its first bucket's top" \
  '[ "$(py "print(round(quantile_ms([(0.001, 50), (0.002, 100), (float(\"inf\"), 100)], 0.5), 6))")" = 1.0 ]'
check "quantile: p99 interpolates inside its bucket" \
  '[ "$(py "print(round(quantile_ms([(0.001, 50), (0.002, 100), (float(\"inf\"), 100)], 0.99), 6))")" = 1.98 ]'
check "quantile: an empty histogram has none" \
  '[ "$(py "print(quantile_ms([], 0.99))")" = None ]'

# pooled_ratio_ci: B's pooled p99 over the alone runs', with a bootstrap interval over
# rounds. Histograms drawn from one distribution (B the same, then B twice as slow), 5
# rounds of one B run and two alone runs, ~9,000 replies a run, as in the benchmark.
ci() { # SCALE_OF_B → "ratio low high"
  python3 - "$R/bench" "$1" <<'P'
import random, sys
sys.path.insert(0, sys.argv[1])
from ab_stats import pooled_ratio_ci
rnd, les = random.Random(3), [0.0001 * 1.2 ** i for i in range(60)]
def hist(scale):   # cumulative counts by le, as /metrics gives them
    h = {}
    for _ in range(9000):
        v = rnd.expovariate(1 / 0.0003) * scale
        le = next((l for l in les if v <= l), "inf")
        h[le] = h.get(le, 0) + 1
    cum, t = {}, 0
    for le in les + ["inf"]:
        t += h.get(le, 0)
        cum[le] = t
    return cum
b = [[hist(float(sys.argv[2]))] for _ in range(5)]
a = [[hist(1), hist(1)] for _ in range(5)]
print("%.3f %.3f %.3f" % pooled_ratio_ci(b, a, .99))
P
}
read -r r lo hi <<<"$(ci 1)"
check "pooled ratio: the same distribution gives a ratio near 1, inside 0.80-1.25 (got $r, $lo-$hi)" \
  'python3 -c "import sys; r, lo, hi = map(float, sys.argv[1:]); sys.exit(not (0.9 < r < 1.1 and lo <= r <= hi and lo >= 0.8 and hi <= 1.25))" $r $lo $hi'
read -r r lo hi <<<"$(ci 2)"
check "pooled ratio: B twice as slow gives about 2, its interval above 1.25 (got $r, $lo-$hi)" \
  'python3 -c "import sys; r, lo, hi = map(float, sys.argv[1:]); sys.exit(not (1.8 < r < 2.2 and lo > 1.25))" $r $lo $hi'
check "verdict: an interval inside 0.80-1.25 is UNCHANGED, even one that excludes 1" \
  '[ "$(py "print(verdict_word(0.85, 1.11), verdict_word(1.02, 1.2))")" = "UNCHANGED UNCHANGED" ]'
check "verdict: above 1 and past 1.25 is SLOWER" '[ "$(py "print(verdict_word(1.1, 1.4))")" = SLOWER ]'
check "verdict: an interval too wide either way is UNDECIDED" \
  '[ "$(py "print(verdict_word(0.7, 1.1), verdict_word(0.95, 1.4), verdict_word(0.5, 0.9))")" = "UNDECIDED UNDECIDED UNDECIDED" ]'
check "pooled ratio: no rounds gives none" '[ "$(py "print(pooled_ratio_ci([], [], 0.99))")" = None ]'

done_testing

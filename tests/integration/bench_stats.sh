#!/usr/bin/env bash
# bench_stats.sh — the statistics behind bench/escalation_ab.sh's verdict (bench/ab_stats.py):
# a histogram's quantile, and the one-sided rank test that decides whether the B runs (with
# escalation traffic) lie above the fleet-alone runs. Known inputs, known answers; no build.
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

done_testing

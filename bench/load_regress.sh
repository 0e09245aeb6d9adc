#!/usr/bin/env bash
# load_regress.sh — `lighthouse load --baseline` regression detection in `make bench`
# (issue 15 part 7; docs/load.md, "Baselines"): a short run records a baseline, then
#   1. a run of the same build is compared with it: the verdict should be no regression;
#   2. a run against the same bridge slowed by SIGSTOP/SIGCONT (stopped 300 ms of every
#      400 ms, the slowdown tests/integration/load_run.sh uses): a regression, confirmed
#      by the repeated run (--confirm 1).
# Each comparison prints the verdict and, per metric, the ratio to the baseline, the
# threshold, the one-sided Mann-Whitney U p-value on the per-second samples and whether it
# regressed. Prints figures and verdicts; never fails on them (a benchmark).
set -u
source "$(dirname "$0")/bench_lib.bash"
DUR=${BENCH_REGRESS_DURATION:-8}
bench_setup load_regress jq python3
bench_start_bridge regress-agent
echo "bridge $URL (pid $BPID); a flat 150 req/s for ${DUR}s per run (100 agents, no bursts, no faults, seed 5)"

LOAD=("$LH" load --target "$URL" --token "$TOK" --no-history --quiet --pattern scale_test --rate 150 --peak 1
      --burst-probability 0 --network-errors 0 --agents 100 --duration "$DUR" --seed 5)

# verdict LABEL REPORT RC: the comparison, one line, then one line per metric
verdict() {
  jq -r --arg l "$1" --arg rc "$3" '
    "  \($l): \(if .metrics.regression_detected then "REGRESSION (" + (.baseline.exceeded | join(", ")) + ")" else "no regression" end); verdict \(.summary.verdict), exit \($rc); p99 \(.summary.p99_ms*100|floor/100) ms; runs \([.baseline.runs[] | "#\(.run): p99 \(.p99_ms*100|floor/100) ms, exceeded \(.exceeded|join(",")|if .=="" then "none" else . end)"] | join("; "))",
    (.baseline.metrics | to_entries[] | "    \(.key): \(.value.baseline*100|floor/100) -> \(.value.current*100|floor/100), ratio \(if .value.ratio then (.value.ratio*1000|floor/1000) else "n/a" end) (threshold \(.value.threshold)), p \(if .value.p_value then (.value.p_value*10000|floor/10000) else "n/a (< 5 samples)" end), \(if .value.regressed then "REGRESSED" elif .value.exceeded then "over the threshold, not significant" elif .value.ratio and ((.value.worse_when | startswith("ratio above")) and .value.ratio > .value.threshold) then "over the threshold by less than the practical margin" elif .value.significant then "significant, within the threshold" else "ok" end)")' "$2"
}

"${LOAD[@]}" --save-baseline "$T/base.json" --report "$T/a.json" >/dev/null 2>"$T/a.err"
if [ ! -s "$T/base.json" ]; then echo "  (the baseline run failed: $(tail -1 "$T/a.err"))"; exit 1; fi
jq -r '"baseline: \(.summary.requests_total) requests, \(.summary.rps|floor) req/s, p50 \(.summary.p50_ms*100|floor/100) ms, p99 \(.summary.p99_ms*100|floor/100) ms; \(.summary.verdict)"' "$T/a.json"

echo "1. the same build again, compared with the baseline:"
"${LOAD[@]}" --baseline "$T/base.json" --report "$T/b.json" >/dev/null 2>"$T/b.err"; rc=$?
if [ -s "$T/b.json" ]; then verdict "same build" "$T/b.json" "$rc"; else echo "  (the run failed: $(tail -1 "$T/b.err"))"; fi

echo "2. the same bridge slowed (SIGSTOP 300 ms of every 400 ms), compared with the baseline:"
( while kill -0 "$BPID" 2>/dev/null; do kill -STOP "$BPID"; sleep 0.3; kill -CONT "$BPID"; sleep 0.1; done ) &
SLOW=$!
"${LOAD[@]}" --baseline "$T/base.json" --report "$T/c.json" >/dev/null 2>"$T/c.err"; rc=$?
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null; kill -CONT "$BPID"
if [ -s "$T/c.json" ]; then verdict "slowed bridge" "$T/c.json" "$rc"; else echo "  (the run failed: $(tail -1 "$T/c.err"))"; fi

#!/usr/bin/env bash
# load.sh — `lighthouse load` against the real bridge; prints figures, never fails on time.
#   1. scale_test as workloads.md gives it, at 1,000 agents (bursts, faults, sessions):
#      achieved rate, p50/p99/p99.9, SLA compliance, bridge CPU and memory, and the
#      generator's own CPU.
#   2. The issue's target: 1,000 agents at 10,000 req/s offered (flat, no bursts, no faults);
#      then the same against a bridge whose store is on tmpfs, to show the disk's share.
#   3. 10,000 concurrent agents (keep-alive connections) at 2,000 req/s.
#   4. Where the generator becomes the limit: it drives nginx (a fixed 200, far faster than
#      the bridge) at rising offered rates; the highest rate it keeps up with (99%
#      achieved; its schedule lag is printed too) is its own ceiling on this machine, and
#      that over item 1's rate is the headroom printed.
#   5. Cross-check against wrk on the same route in the same run: wrk's closed-loop
#      throughput (1,000 connections) next to lighthouse load offered more than the bridge
#      can take (30,000 req/s), i.e. the most the bridge answered to each client.
# Every decision is durable (fsynced group commit) before its reply; the rate limit is off
# (--rate-limit 0) because one machine simulates the whole fleet with 16 tokens.
set -u
source "$(dirname "$0")/bench_lib.bash"
DUR=${BENCH_DURATION:-15}
bench_setup load wrk nginx jq python3
bench_start_bridge load-agent
echo "bridge $URL (pid $BPID); $(nproc) CPUs shared by the bridge and the generator; ${DUR}s runs"

# line FILE LABEL: one line of figures from a report
line() {
  jq -r --arg l "$2" '"  \($l): \(.summary.requests_total) requests, \(.summary.requests_failed) failed, \(.summary.rps|floor) req/s achieved; p50 \(.summary.p50_ms*1000|floor/1000) ms, p99 \(.summary.p99_ms*1000|floor/1000) ms, p99.9 \(.summary.p999_ms*1000|floor/1000) ms, max \(.summary.max_ms*1000|floor/1000) ms; SLA \(.summary.sla_compliance_percent*1000|floor/1000)%; \(.summary.verdict)\(if (.summary.failed_objectives|length)>0 then " (failed: "+(.summary.failed_objectives|join(", "))+")" else "" end)\n    bridge: CPU peak \(.metrics.cpu_peak_percent|floor)% of one CPU, RSS \(.metrics.memory_baseline_mb*10|floor/10) -> peak \(.metrics.memory_peak_mb*10|floor/10) MB, fds peak \([.server.samples[].fds]|max); generator: \(.generator.cpu_percent_of_one_core*10|floor/10)% of one core, schedule lag p99 \(.generator.schedule_lag_p99_ms*1000|floor/1000) ms, \(.metrics.peak_concurrent_agents) agents, \(.generator.connections_opened) connections, \(.faults.injected) faults (\(.faults.retried) retried), \(.generator.bursts) bursts"' "$1"
}
load() { # REPORT [flags...]
  local rep=$1; shift
  "$LH" load --token "$TOK" --no-history --quiet --seed 1 --report "$rep" "$@" >/dev/null 2>"$T/load.err"
  [ -s "$rep" ] || { echo "  (lighthouse load failed: $(tail -1 "$T/load.err"))"; return 1; }
}

echo "1. scale_test at 1,000 agents, as workloads.md gives it (500 req/s base, peak x2, bursts x5 at p=.05/s, 2% faults):"
load "$T/1.json" --target "$URL" --pattern scale_test --agents 1000 --duration "$DUR" && line "$T/1.json" "scale_test"
echo "2. 1,000 agents at 10,000 req/s offered, flat (target: p99 <= 2 ms, SLA 100%):"
load "$T/2.json" --target "$URL" --pattern scale_test --agents 1000 --rate 10000 --peak 1 --burst-probability 0 --network-errors 0 --duration "$DUR" \
  && line "$T/2.json" "10k req/s"
# The disk's share of that: the same run against a second bridge whose store is on tmpfs
# (/dev/shm: an fdatasync returns at once). Not durable; a comparison only.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHMD=$(mktemp -d -p /dev/shm lh-bench.XXXXXX); BDIRS="$BDIRS $SHMD"
  KEEP=("$URL" "$BPID" "$TOK")
  bench_start_bridge load-shm "$SHMD/data"
  load "$T/2m.json" --target "$URL" --pattern scale_test --agents 1000 --rate 10000 --peak 1 --burst-probability 0 --network-errors 0 --duration "$DUR" \
    && line "$T/2m.json" "the same, store on tmpfs (not durable: the difference is the disk's fsync)"
  kill -TERM "$BPID" && wait "$BPID" 2>/dev/null
  rm -rf "$SHMD"
  URL=${KEEP[0]} BPID=${KEEP[1]} TOK=${KEEP[2]}
fi
echo "3. 10,000 concurrent agents at 2,000 req/s, flat:"
load "$T/3.json" --target "$URL" --pattern scale_test --agents 10000 --rate 2000 --peak 1 --burst-probability 0 --network-errors 0 --duration "$DUR" \
  && line "$T/3.json" "10,000 agents"

# ---- nginx: the generator's own ceiling -------------------------------------------------
bench_start_nginx 1 '{"decision":"allow","tier":"cache"}'
echo "4. the generator's own ceiling: 1,000 agents driving nginx (one worker, a fixed 200) at rising rates:"
for rate in 10000 20000 40000; do
  load "$T/n$rate.json" --target "http://127.0.0.1:$NPORT/v1/validate" --pattern scale_test --agents 1000 --rate $rate --peak 1 \
    --burst-probability 0 --network-errors 0 --duration 8 || continue
  jq -r --arg r $rate '"  offered \($r) req/s: achieved \(.summary.rps|floor) req/s, p99 \(.summary.p99_ms*1000|floor/1000) ms, generator \(.generator.cpu_percent_of_one_core|floor)% of one core, schedule lag p99 \(.generator.schedule_lag_p99_ms*1000|floor/1000) ms"' "$T/n$rate.json"
done
held=0
for rate in 10000 20000 40000; do # the highest rate the generator kept up with: >= 99% achieved
  jq -e --argjson r $rate '.summary.rps >= 0.99 * $r' "$T/n$rate.json" >/dev/null 2>&1 && held=$rate
done
lag=$(jq -r '.generator.schedule_lag_p99_ms*1000|floor/1000' "$T/n$held.json" 2>/dev/null)
jq -r --argjson held $held --arg lag "$lag" '"  headroom at scale_test (item 1, \(.summary.rps|floor) req/s, generator \(.generator.cpu_percent_of_one_core*10|floor/10)% of one core): " +
  (if $held > 0 then "the generator kept up with \($held) req/s against nginx above (>= 99% achieved; its schedule lag p99 there \($lag) ms), i.e. >= \(($held / .summary.rps)*10|floor/10)x more rate before the generator, not the bridge, is the limit"
   else "the generator kept up with none of the rates above" end) +
  "; its CPU at item 1 extrapolated linearly to one core: ~\(.generator.rate_limit_estimate_rps|floor) req/s"' "$T/1.json" 2>/dev/null

echo "5. cross-check with wrk on the same route (/v1/validate), same bridge, same run:"
export LH_TOKENS=$TOK
out=$(wrk -t2 -c1000 -d"${DUR}"s --timeout 5s --latency -s "$ROOT/bench/validate.lua" "$URL/v1/validate" 2>&1)
WRPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
echo "  wrk, 2 threads, 1,000 connections (closed loop): $WRPS req/s, p50 $(awk '$1=="50%" {print $2}' <<<"$out"), p99 $(awk '$1=="99%" {print $2}' <<<"$out")"
load "$T/5.json" --target "$URL" --pattern scale_test --agents 1000 --rate 30000 --peak 1 --burst-probability 0 --network-errors 0 --duration "$DUR" --timeout 2s \
  && jq -r --arg w "$WRPS" '"  lighthouse load, 1,000 agents, 30,000 req/s offered (open loop, past saturation): \(.summary.rps|floor) req/s answered, \(.counts.not_sent) not sent in time; generator \(.generator.cpu_percent_of_one_core|floor)% of one core; lighthouse load / wrk = \((.summary.rps / ($w|tonumber))*100|floor/100)x (target >= 0.5x)"' "$T/5.json"

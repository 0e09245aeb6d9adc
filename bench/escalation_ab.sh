#!/usr/bin/env bash
# escalation_ab.sh — issue 13: is the fast path slowed by escalation traffic? One bridge
# (escalations routed to experts: the default policy with settings.escalation), and
# `lighthouse load` run against it in pairs, alternated so the machine's noise falls on
# both alike:
#   A  the fleet alone: escalations are answered `escalate` at once, nobody waits;
#   B  the same fleet with simulated experts (--expert-token): escalations wait for their
#      verdicts (the scenario table's think times, scaled by BENCH_AB_SPEED, and its 90%
#      availability; docs/load.md). Each simulated expert answers one escalation at a
#      time, so there are enough of them (BENCH_AB_EXPERTS) to keep up.
# The fast path is the allow and deny replies experts did not decide (the report's
# `fast_path`). Printed per run: its p50/p99 from the scheduled time and from the send (the
# bridge's service time, without an agent's own queueing behind an escalation it waited
# for), the escalations; then each pair's B/A ratio of the p99s. Never fails on time.
# Environment: BENCH_DURATION (s, default 10), BENCH_AB_PAIRS (default 3), BENCH_AB_AGENTS
# (default 1000), BENCH_AB_RATE (req/s, default 500), BENCH_AB_EXPERTS (default 16),
# BENCH_AB_SPEED (think time factor, default 0.1), BENCH_AB_STORE (disk, the default, or
# tmpfs: the store in /dev/shm, so the disk's fsync, which other work on a shared machine
# makes erratic, is out of the figures; not durable, a comparison only).
set -u
source "$(dirname "$0")/bench_lib.bash"
DUR=${BENCH_DURATION:-10}
PAIRS=${BENCH_AB_PAIRS:-3}
EXPERTS=${BENCH_AB_EXPERTS:-16}
SPEED=${BENCH_AB_SPEED:-0.1}
AGENTS=${BENCH_AB_AGENTS:-1000}
RATE=${BENCH_AB_RATE:-500}
bench_setup escalation_ab jq python3

python3 - "$ROOT/policies/default.yaml" "$T/policy.yaml" <<'P'
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(s.replace("settings:\n", "settings:\n  escalation: {deadline: 20s}\n", 1))
P
DATA="$T/data"
if [ "${BENCH_AB_STORE:-disk}" = tmpfs ]; then
  DATA=$(mktemp -d -p /dev/shm lh-escab.XXXXXX)/data; BDIRS="$BDIRS ${DATA%/data}"
fi
export LIGHTHOUSE_POLICY="$T/policy.yaml"
bench_start_bridge esc-ab "$DATA"
unset LIGHTHOUSE_POLICY
XT=""
for i in $(seq "$EXPERTS"); do XT="$XT,$("$LH" token create --agent "sim-expert-$i" --role expert --data "$DATA" 2>/dev/null)"; done
XT=${XT#,}
echo "bridge $URL (pid $BPID, store on ${BENCH_AB_STORE:-disk}); $AGENTS agents at $RATE req/s for ${DUR}s per run; $EXPERTS simulated experts in B (think time x$SPEED); $(nproc) CPUs"

run() { # NAME [flags...]
  local name=$1 rep="$T/$1.json"; shift
  "$LH" load --token "$TOK" --target "$URL" --no-history --quiet --seed 1 --duration "$DUR" --agents "$AGENTS" \
    --rate "$RATE" --peak 1 --burst-probability 0 --network-errors 0 --report "$rep" "$@" >/dev/null 2>"$T/load.err"
  [ -s "$rep" ] || { echo "  (lighthouse load failed: $(tail -1 "$T/load.err"))"; return 1; }
  jq -r --arg n "$name" '"  \($n): fast path \(.fast_path.count) replies, p50 \(.fast_path.p50_ms*1000|floor/1000) ms, p99 \(.fast_path.p99_ms*1000|floor/1000) ms (from the send: p50 \(.fast_path.sent_p50_ms*1000|floor/1000), p99 \(.fast_path.sent_p99_ms*1000|floor/1000) ms); escalations \(.escalations.count) answered escalate, \(.tiers.expert.count // 0) decided by experts (p50 \(.tiers.expert.p50_ms // 0 | floor) ms); \(.summary.requests_failed) failed\n    bridge CPU mean \([.server.samples[].cpu_percent] | if length > 0 then add / length | floor else "?" end)% of one CPU; generator (with its experts) \(.generator.cpu_percent_of_one_core | floor)%"' "$rep"
}
ratio() { # A B KEY
  jq -rn --slurpfile a "$T/$1.json" --slurpfile b "$T/$2.json" --arg k "$3" \
    '($a[0].fast_path[$k]) as $x | ($b[0].fast_path[$k]) as $y | if ($x // 0) > 0 and $y != null then ($y / $x * 100 | floor / 100 | tostring) else "n/a" end'
}
for p in $(seq "$PAIRS"); do
  echo "pair $p:"
  run "A$p" || continue
  run "B$p" --expert-token "$XT" --expert-wait 5 --expert-speed "$SPEED" || continue
  echo "  fast path p99 B/A: $(ratio "A$p" "B$p" p99_ms) (from the send: $(ratio "A$p" "B$p" sent_p99_ms))"
done

#!/usr/bin/env bash
# chaos_clock.sh — the wall clock jumps back and forward while the bridge runs (issue 16
# part 7). The bridge runs under libfaketime (scripts/deps.sh installs it) with
# FAKETIME_TIMESTAMP_FILE and FAKETIME_NO_CACHE=1, so rewriting one file moves its wall
# clock (CLOCK_REALTIME, time(), gettimeofday) at once; CLOCK_MONOTONIC is left alone
# (FAKETIME_DONT_FAKE_MONOTONIC=1), as a real clock step leaves it. libfaketime 0.9.10's
# "monotonic fix" for pthread_cond_timedwait is turned off (FAKETIME_FORCE_MONOTONIC_FIX=0):
# on by default here, it made the SLA monitor's wait on its CLOCK_MONOTONIC condition
# variable return at once, even with the clock at +0 (a spinning sampler whose 80,000-sample
# window covered a few ms: an artefact of the preload, not of the bridge). The clock goes +0,
# back 2 h, forward to +3 h, back to -1 d, and to +0 again, while two agents' decisions
# flow (tests/integration/chaos.py load). A new policy revision is active (a canary
# window is open) and the SLA monitor evaluates every 0.2 s over a 5 s window with no
# grace and latency thresholds of 10 s, so a request timed by the wall clock across a
# jump (hours long, or negative) would be a violation and a rollback at once. Checks:
#   - events: seq dense from 1 and in order, time_ns never decreasing with seq (it may
#     jump forward, and stays put while the clock is behind), the forward jump really seen
#     in time_ns; `events verify` passes; every decision answered 200 is in the store;
#   - the rate limiter (20/s, burst 20, on the monotonic clock): after a jump back an
#     exhausted agent is served again (it does not wait for the wall clock to catch up);
#     after a jump forward its bucket is not refilled by the jump (at most the burst plus
#     the refill of the real time that passed);
#   - the SLA monitor: no sla.violated, no policy.rolled_back, the new revision still
#     active.
set -u
. "$(dirname "$0")/bridge_lib.bash"
unset LIGHTHOUSE_SECRET
CHAOS="$(dirname "$0")/chaos.py"

FT=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 /usr/lib/*/faketime/libfaketimeMT.so.1 \
         /usr/local/lib/faketime/libfaketimeMT.so.1; do
  [ -f "$f" ] && { FT=$f; break; }
done
if [ -z "$FT" ]; then fail "libfaketime is not installed (scripts/deps.sh installs the faketime package)"; done_testing; exit 1; fi

printf 'version: 1\nrevision: %s\nrules:\n  - id: chaos.no-forbidden\n    action: deny\n    risk: high\n    reason: forbidden here\n    match: {program: forbidden-cmd}\n' \
  chaos-base >"$T/base.yaml"
sed 's/chaos-base/chaos-new/' "$T/base.yaml" >"$T/new.yaml"
printf '%s\n' 'rate_limit: 20' 'rate_burst: 20' 'sla_window_s: 5' 'sla_eval_interval_s: 0.2' \
  'sla_p99_response_time_ms: 10000' 'sla_p99_response_time_ms_grace_s: 0' \
  'sla_avg_response_time_ms: 10000' 'sla_avg_response_time_ms_grace_s: 0' 'sla_avg_response_time_ms_rollback: true' \
  'sla_compliance_rate: off' 'sla_min_requests: 5' 'sla_rollback_min_requests: 5' >"$T/cfg.yaml"

CLOCK="$T/faketime"
echo "+0" >"$CLOCK"
setclock() { echo "$1" >"$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; }
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$CLOCK" \
  FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
  start_bridge clock --config "$T/cfg.yaml" --policy "$T/base.yaml" || { fail "the bridge starts under libfaketime"; done_testing; exit 1; }
BPID=$PID
printf '%s\n' "$URL" >"$T/url"
A1=$(token chaos-a builder); A2=$(token chaos-b builder); RL=$(token chaos-rl builder)
AT=$(token chaos-admin admin); ET=$(token chaos-expert expert)
req POST /v1/policy "$AT" application/yaml "$T/new.yaml"
check "a new revision is active (a canary window is open)" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = chaos-new ]'
T0=$(date +%s%N)   # the real clock (this shell is not under libfaketime)

python3 "$CHAOS" load "$T/url" "$A1" "$T/load1.jsonl" "$T/stop" 2 &
L1=$!
python3 "$CHAOS" load "$T/url" "$A2" "$T/load2.jsonl" "$T/stop" 2 &
L2=$!
oks() { local c; c=$(cat "$T"/load[12].jsonl 2>/dev/null | grep -c '"status": 200'); echo "${c:-0}"; }
more() { local want=$(( $(oks) + $1 )); wait_for "[ \$(oks) -ge $want ]"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# exhaust: the rate-limit agent's bucket is empty (a burst sees 429s); prints its start
exhaust() { local r; r=$(python3 "$CHAOS" burst "$URL" "$RL" 60); [ "$(cut -d' ' -f2 <<<"$r")" -gt 0 ]; }

more 40 || fail "the load gets decisions before the clock moves"
exhaust && ok "the rate-limit agent's bucket is exhausted (429 rate_limited)" || fail "60 decisions at once were not throttled"

# back 2 h
setclock "-2h"
# the rate-limited agent is served again, by the monotonic refill, not after 2 h
wait_for '[ "$(python3 "$CHAOS" burst "$URL" "$RL" 1 | cut -d" " -f1)" = 1 ]' &&
  ok "after the clock went back 2 h the exhausted agent is served again" ||
  fail "after the clock went back 2 h the exhausted agent is still throttled"
more 60 || fail "the load gets decisions after the clock went back 2 h"

# forward to +3 h: the bucket is not refilled by the jump
exhaust || fail "exhaust the bucket again"
t1=$(now_ms)
setclock "+3h"
r=$(python3 "$CHAOS" burst "$URL" "$RL" 100)
t2=$(now_ms)
got=$(cut -d' ' -f1 <<<"$r")
allowed=$(( 20 + 20 * (t2 - t1) / 1000 + 1 ))
check "after the clock went forward 3 h the bucket was not refilled by the jump ($got of 100 served, at most $allowed: burst 20 + 20/s of the $((t2 - t1)) ms that really passed)" \
  "[ $got -le $allowed ]"
more 40 || fail "the load gets decisions after the clock went forward"

# back to a day behind, then to the real time
setclock "-1d"
more 60 || fail "the load gets decisions a day behind"
setclock "+0"
more 60 || fail "the load gets decisions with the clock back at +0"
req GET /v1/sla "$ET"
echo "# /v1/sla: $(jq -c '{state, window_covered_s, revisions, metrics: [.metrics[] | {metric, value, state}]}' <<<"$body" 2>/dev/null | head -c 1500)"
check "GET /v1/sla: the new revision is the active one, in its canary window" \
  "[ '$code' = 200 ] && jq -e '[.revisions[]? | select(.active)] | length == 1 and .[0].revision == \"chaos-new\" and .[0].in_canary' <<<\"\$body\" >/dev/null"
check "GET /v1/sla: the monitor kept sampling through the jumps (state ok, window covered over 1 s, p99 measured)" \
  "jq -e '.state == \"ok\" and .window_covered_s > 1 and ([.metrics[] | select(.metric == \"p99_response_time_ms\")][0] | .value != null and .state == \"ok\")' <<<\"\$body\" >/dev/null"
touch "$T/stop"; wait "$L1" "$L2"
req GET /v1/policy/history "$ET"
active=$(jq -r .active <<<"$body")
check "the new revision is still the active one ($active)" "[ '$active' = chaos-new ]"
term_wait "$BPID"
check "the bridge stops cleanly after the clock jumps (exit $rc)" "[ $rc -eq 0 ]"

"$LH" events export --data "$DATA" >"$T/export.jsonl" 2>"$T/export.err" || fail "events export: $(head -2 "$T/export.err")"
N=$(wc -l <"$T/export.jsonl")
check "seq is dense from 1 and in order ($N events)" \
  "jq -s -e '[.[].seq] == [range(1; length + 1)]' '$T/export.jsonl' >/dev/null"
check "time_ns never decreases with seq" \
  "jq -s -e '[.[].time_ns] as \$t | all(range(1; \$t | length); \$t[.] >= \$t[. - 1])' '$T/export.jsonl' >/dev/null"
far=$(( T0 + 2 * 3600 * 1000000000 ))
check "the forward jump shows in time_ns (an event over 2 h after the real start)" \
  "jq -s -e --argjson f $far 'any(.[]; .time_ns > \$f)' '$T/export.jsonl' >/dev/null"
vout=$("$LH" events verify --data "$DATA" 2>&1) && ok "events verify passes after the clock jumps" || fail "events verify: $vout"
cat "$T/load1.jsonl" "$T/load2.jsonl" >"$T/load.jsonl"
sum=$(python3 "$CHAOS" acked "$T/load.jsonl" "$T/export.jsonl"); arc=$?
echo "# $sum"
acked=$(jq -r .acked <<<"$sum"); nonjson=$(jq -r .non_json_errors <<<"$sum")
check "every decision answered 200 is in the store ($acked acknowledged; non-JSON replies: $nonjson)" \
  "[ $arc -eq 0 ] && [ ${acked:-0} -gt 0 ] && [ '$nonjson' = 0 ]"
nv=$(jq -s '[.[] | select(.type == "sla.violated")] | length' "$T/export.jsonl")
nr=$(jq -s '[.[] | select(.type == "policy.rolled_back")] | length' "$T/export.jsonl")
check "the SLA monitor raised no violation ($nv) and rolled nothing back ($nr)" "[ $nv -eq 0 ] && [ $nr -eq 0 ]"
# ---- part 2: timed waits across a clock step, without libfaketime -----------------------
# libfaketime converts the deadlines of pthread_cond_timedwait, so a real step's effect on
# the store's timed waits is hidden from part 1. Here a small preload of our own only adds
# 2 h to CLOCK_REALTIME (clock_gettime, time, gettimeofday): a deadline computed from the
# wall clock then lies 2 h ahead for the kernel, exactly what a real step back by 2 h does
# to a wait already computed. The store's waits must run on CLOCK_MONOTONIC: the bridge
# still learns within the cap of a revocation recorded by another process (the SQLite
# subscriber's 20 ms poll), and still writes its checkpoints on the schedule.
cat >"$T/ahead.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/time.h>
#include <time.h>
#define AHEAD 7200
int clock_gettime(clockid_t c, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(c, ts);
    if (rc == 0 && (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE)) ts->tv_sec += AHEAD;
    return rc;
}
time_t time(time_t *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}
int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    return 0;
}
C
if ! cc -shared -fPIC -o "$T/ahead.so" "$T/ahead.c" -ldl 2>"$T/cc.err"; then
  fail "build the clock preload: $(head -1 "$T/cc.err")"
else
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$T/ahead.so" LIGHTHOUSE_CHECKPOINT_INTERVAL_MS=100 \
    LIGHTHOUSE_RATE_LIMIT=0 start_bridge ahead || fail "the bridge starts with its wall clock 2 h ahead"
  BPID=$PID
  RV=$(token chaos-rv builder)
  out=$(python3 "$CHAOS" oneshot "$URL" "$RV")
  seq=$(sed 's/^[0-9]* //' <<<"$out" | jq -r .seq 2>/dev/null)
  check "the bridge with its wall clock 2 h ahead decides (seq $seq)" "[ '${out%% *}' = 200 ]"
  cpseq() { sed -n 's/^lhcp1 seq=\([0-9]*\) .*/\1/p' "$DATA.checkpoints" | tail -1; }
  wait_for "[ \"\$(cpseq)\" -ge ${seq:-1} ] 2>/dev/null" &&
    ok "checkpoints are written on the schedule with the wall clock ahead (seq $(cpseq) witnessed)" ||
    fail "no checkpoint after open with the wall clock ahead (last witnessed seq $(cpseq), head at least $seq)"
  # the revoked token is an expert's, polled with GET /v1/events, which appends nothing: a
  # decision would append an event, and its commit would wake the subscriber by itself
  EX=$(token chaos-rv-expert expert)
  evcode() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $EX" "$URL/v1/events?limit=1"; }
  check "the expert token reads events before its revocation ($(evcode))" '[ "$(evcode)" = 200 ]'
  "$LH" token revoke "$EX" --data "$DATA" >/dev/null 2>&1 || fail "token revoke from another process"
  wait_for '[ "$(evcode)" = 401 ]' &&
    ok "a revocation recorded by another process reaches the bridge with its wall clock ahead" ||
    fail "the bridge with its wall clock ahead never saw the revocation recorded by another process (GET /v1/events: $(evcode))"
  term_wait "$BPID"
  check "the bridge with its wall clock ahead stops cleanly (exit $rc)" "[ $rc -eq 0 ]"
fi
done_testing

#!/usr/bin/env bash
# chaos_kill.sh — SIGKILL of `lighthouse serve` under load, on SQLite and on PostgreSQL
# (issue 16 part 7). Four client connections POST decisions without pause
# (tests/integration/chaos.py load); after the bridge has answered some, it is killed with
# SIGKILL at a random moment, restarted on the same store, and the load goes on. Three
# rounds per store. Then:
#   - availability: after each restart the bridge serves again (/ready 200, then the load's
#     own decisions get 200 again); the time from the restart to /ready is printed (a
#     figure, not a bound);
#   - correctness: every reply is a decision (200) or the API's JSON error, never
#     anything else;
#   - zero acknowledged loss: every decision answered 200 with a seq is in the store
#     afterwards (same seq, id and decision), and `events verify` passes.
# No wall-clock bounds: waits are for states (counts of replies), capped at 60 s or more.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"
unset LIGHTHOUSE_SECRET
CHAOS="$(dirname "$0")/chaos.py"
ROUNDS=${LH_CHAOS_KILL_ROUNDS:-3}
export LIGHTHOUSE_RATE_LIMIT=0

# serve NAME ARGS... → PID, URL (written to $T/url too, which the load re-reads)
serve() {
  local name=$1; shift
  "$LH" serve --listen 127.0.0.1:0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
  PID=$!
  BRIDGES+=("$PID")
  URL=
  for _ in $(seq 1200); do
    URL=$(grep -o 'http://[0-9.:]*' "$T/$name.out" 2>/dev/null | head -1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$URL" ] || { echo "# bridge $name did not start:"; sed 's/^/#   /' "$T/$name.err"; return 1; }
  printf '%s\n' "$URL" >"$T/url.tmp" && mv "$T/url.tmp" "$T/url"
}
oks() { local c; c=$(grep -c '"status": 200' "$1" 2>/dev/null); echo "${c:-0}"; }
# wait_oks FILE N: until FILE holds N decisions answered 200 (cap 120 s: a hang guard)
wait_oks() { for _ in $(seq 2400); do [ "$(oks "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# run_store LABEL STORE-ARGS...: the rounds on one store, then the checks
run_store() {
  local label=$1; shift
  local D="$T/data-$label" load="$T/load-$label.jsonl" stop="$T/stop-$label"
  mkdir -p "$D"
  rm -f "$T/url" "$stop"
  local tok
  tok=$("$LH" token create --agent "chaos-$label" --role builder --data "$D" "$@" 2>"$T/tok.err")
  if [ -z "$tok" ]; then fail "$label: token create: $(head -2 "$T/tok.err")"; return; fi
  serve "$label-0" --data "$D" "$@" || { fail "$label: the bridge starts"; return; }
  python3 "$CHAOS" load "$T/url" "$tok" "$load" "$stop" 4 &
  local lpid=$! served=1 before ms t0 t1 times=""
  for r in $(seq 1 "$ROUNDS"); do
    before=$(oks "$load")
    if ! wait_oks "$load" $((before + 50)); then served=0; fail "$label round $r: the bridge answered no decisions under load"; break; fi
    ms=$((RANDOM % 400 + 20))
    sleep "$(printf '0.%03d' "$ms")"
    kill -KILL "$PID"; wait "$PID" 2>/dev/null
    t0=$(now_ms)
    if ! serve "$label-$r" --data "$D" "$@"; then served=0; fail "$label round $r: the bridge starts again after SIGKILL"; break; fi
    wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 $URL/ready)\" = 200 ]" ||
      { served=0; fail "$label round $r: /ready after the restart"; break; }
    t1=$(now_ms)
    times="$times $((t1 - t0))"
    before=$(oks "$load")
    if ! wait_oks "$load" $((before + 20)); then served=0; fail "$label round $r: the load gets decisions again after the restart"; break; fi
    echo "# $label round $r: SIGKILL ${ms} ms into the load; serving again (/ready 200) $((t1 - t0)) ms after the restart"
  done
  touch "$stop"; wait "$lpid"
  [ "$served" = 1 ] && ok "$label: after each of $ROUNDS SIGKILLs under load the bridge served again (restart to /ready, ms:$times)"
  term_wait "$PID"
  if "$LH" events export --data "$D" "$@" >"$T/export-$label.jsonl" 2>"$T/export.err"; then
    local sum arc acked nonjson
    sum=$(python3 "$CHAOS" acked "$load" "$T/export-$label.jsonl"); arc=$?
    echo "# $label: $sum"
    acked=$(jq -r .acked <<<"$sum"); nonjson=$(jq -r .non_json_errors <<<"$sum")
    check "$label: every decision answered 200 is in the store with its seq, id and decision ($acked acknowledged)" \
      "[ $arc -eq 0 ] && [ ${acked:-0} -gt 0 ]"
    check "$label: every reply was a decision or a JSON error (non-JSON: $nonjson)" "[ '$nonjson' = 0 ]"
  else
    fail "$label: events export: $(head -2 "$T/export.err")"
  fi
  local vout
  if vout=$("$LH" events verify --data "$D" "$@" 2>&1); then ok "$label: events verify passes after the kills"
  else fail "$label: events verify after the kills: $vout"; fi
}

# the loss check itself: a reply whose seq the store does not hold is counted as missing
printf '%s\n' '{"k": "reply", "status": 200, "seq": 1, "id": "x", "decision": "allow", "n": 1}' >"$T/fake.jsonl"
printf '%s\n' '{"seq": 1, "id": "y", "type": "decision.made", "data": {"decision": {"decision": "allow"}}}' >"$T/fake-export.jsonl"
check "the loss check counts a reply whose event the store does not hold" \
  "! python3 '$CHAOS' acked '$T/fake.jsonl' '$T/fake-export.jsonl' >/dev/null"

run_store sqlite
if [ -z "${LH_TEST_PG:-}" ]; then
  fail "postgres: LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
else
  db="lh_chaos_kill_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    run_store postgres --store postgres --pg "$LH_TEST_PG dbname=$db"
    stop_bridges
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a database on $LH_TEST_PG"
  fi
fi
done_testing

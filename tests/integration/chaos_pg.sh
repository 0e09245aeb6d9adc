#!/usr/bin/env bash
# chaos_pg.sh — PostgreSQL stopped and started again under load, the bridge left running
# (issue 16 part 7). The test starts a PostgreSQL of its own (scripts/test-services.sh
# with LH_TEST_PG unset), so stopping it disturbs no other test. Four client connections
# POST decisions without pause (tests/integration/chaos.py load). Checks:
#   - while PostgreSQL is away, /ready is 503 and decisions fail closed: a decision asked
#     then is answered 503 with the JSON error `store_unavailable`, never 200;
#   - once PostgreSQL is back, the same bridge process (no restart) turns ready and the
#     load gets decisions again; two outages in a row;
#   - a shadow's blob (a row in PostgreSQL) reads at the first ask after each outage;
#   - every reply of the whole run was a decision or the API's JSON error, and every
#     decision answered 200 is in the store afterwards (seq, id, decision): no 200 without
#     a durable event; `events verify` passes.
# Waits are for states (a status seen, counts of replies), each capped at 60 s or more.
set -u
. "$(dirname "$0")/bridge_lib.bash"
unset LIGHTHOUSE_SECRET
CHAOS="$(dirname "$0")/chaos.py"
export LIGHTHOUSE_RATE_LIMIT=0

unset LH_TEST_PG LH_TEST_PG_DIR
# shellcheck disable=SC1091
if ! source "$(dirname "$0")/../../scripts/test-services.sh"; then
  fail "start a PostgreSQL of this test's own (scripts/test-services.sh)"; done_testing; exit 1
fi
trap 'cleanup; lh_services_stop' EXIT
PGPORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$LH_TEST_PG")
pg_stop() { lh__pg_as "$lh__pg_bin/pg_ctl" -D "$LH_TEST_PG_DIR/data" -m "$1" -w -t 120 stop >/dev/null 2>&1; }
pg_start() {
  lh__pg_as "$lh__pg_bin/pg_ctl" -D "$LH_TEST_PG_DIR/data" -l "$LH_TEST_PG_DIR/run/server.log" -w -t 120 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $LH_TEST_PG_DIR/run -c max_connections=200" start >/dev/null 2>&1
}

PG="$LH_TEST_PG"
D="$T/data"
mkdir -p "$D"
TOK=$("$LH" token create --agent chaos-pg --role builder --data "$D" --store postgres --pg "$PG" 2>"$T/tok.err")
[ -n "$TOK" ] || { fail "token create on PostgreSQL: $(head -2 "$T/tok.err")"; done_testing; exit 1; }
start_bridge pg --data "$D" --store postgres --pg "$PG" || { fail "the bridge starts on PostgreSQL"; done_testing; exit 1; }
BPID=$PID
# a shadow whose blob is a row in PostgreSQL (store/blobs_pg.c), read again after each outage
ET=$("$LH" token create --agent chaos-pg-expert --role expert --data "$D" --store postgres --pg "$PG" 2>/dev/null)
post_json /v1/shadows "$TOK" '{"op":"update","project":"/p","path":"a.txt","content_b64":"aGVsbG8=","tool":"Write"}'
check "a shadow is uploaded before the outages" "[ $code = 200 ]"
printf '%s\n' "$URL" >"$T/url"
LOAD="$T/load.jsonl"
python3 "$CHAOS" load "$T/url" "$TOK" "$LOAD" "$T/stop" 4 &
LPID=$!

count() { local c; c=$(grep -c "$1" "$LOAD" 2>/dev/null); echo "${c:-0}"; }
ready() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/ready"; }
wait_count() { for _ in $(seq 2400); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }

# round 1 stops PostgreSQL cleanly (-m fast), round 2 as a crash (-m immediate)
for round in 1 2; do
  mode=fast; [ "$round" = 2 ] && mode=immediate
  wait_count '"status": 200' $(( $(count '"status": 200') + 50 )) ||
    fail "round $round: the load gets decisions before PostgreSQL stops"
  if ! pg_stop "$mode"; then fail "round $round: pg_ctl stop -m $mode"; break; fi
  wait_for '[ "$(ready)" = 503 ]' && ok "round $round: /ready turns 503 while PostgreSQL is away (stopped -m $mode)" ||
    fail "round $round: /ready while PostgreSQL is away: $(ready)"
  # the load sees the outage: 20 more refusals after /ready turned
  wait_count '"status": 503' $(( $(count '"status": 503') + 20 )) ||
    fail "round $round: the load got no 503 while PostgreSQL was away"
  mark=$(wc -l <"$LOAD")
  python3 "$CHAOS" oneshot "$URL" "$TOK" >"$T/one" 2>&1
  body=$(cut -d' ' -f2- "$T/one")
  check "round $round: a decision asked while PostgreSQL is away gets 503 store_unavailable, JSON ($(head -c 120 "$T/one"))" \
    "[ \"\$(cut -d' ' -f1 '$T/one')\" = 503 ] && is_error store_unavailable"
  # more of the load's requests fail closed while it is away
  wait_count '"status": 503' $(( $(count '"status": 503') + 20 )) || true
  late200=$(tail -n +"$((mark + 1))" "$LOAD" | grep -c '"status": 200')
  check "round $round: no decision answered 200 while PostgreSQL was away ($late200 after the outage was seen)" "[ $late200 -eq 0 ]"
  check "round $round: /ready is still 503 before PostgreSQL starts" '[ "$(ready)" = 503 ]'
  if ! pg_start; then fail "round $round: pg_ctl start"; break; fi
  wait_for '[ "$(ready)" = 200 ]' && ok "round $round: /ready is 200 again once PostgreSQL is back" ||
    fail "round $round: /ready after PostgreSQL came back: $(ready)"
  wait_count '"status": 200' $(( $(count '"status": 200') + 50 )) &&
    ok "round $round: the load gets decisions again from the same bridge" ||
    fail "round $round: no decisions after PostgreSQL came back"
  check "round $round: the bridge was not restarted (pid $BPID alive)" "kill -0 $BPID 2>/dev/null"
  req GET "/v1/shadows/file?path=a.txt" "$ET"
  check "round $round: the shadow's blob reads at the first ask once PostgreSQL is back (a pooled connection the outage broke is replaced)" \
    "[ $code = 200 ] && [ \"\$body\" = hello ]"
done
touch "$T/stop"; wait "$LPID"
term_wait "$BPID"
check "the bridge stops cleanly after the outages (exit $rc)" "[ $rc -eq 0 ]"
if "$LH" events export --data "$D" --store postgres --pg "$PG" >"$T/export.jsonl" 2>"$T/export.err"; then
  sum=$(python3 "$CHAOS" acked "$LOAD" "$T/export.jsonl"); arc=$?
  echo "# $sum"
  acked=$(jq -r .acked <<<"$sum"); nonjson=$(jq -r .non_json_errors <<<"$sum"); s503=$(jq -r '.status["503"] // 0' <<<"$sum")
  check "every decision answered 200 is in the store with its seq, id and decision ($acked acknowledged)" "[ $arc -eq 0 ] && [ ${acked:-0} -gt 0 ]"
  check "every reply was a decision or a JSON error ($s503 answered 503; non-JSON: $nonjson)" "[ '$nonjson' = 0 ] && [ ${s503:-0} -gt 0 ]"
else
  fail "events export: $(head -2 "$T/export.err")"
fi
vout=$("$LH" events verify --data "$D" --store postgres --pg "$PG" 2>&1) && ok "events verify passes after the outages" ||
  fail "events verify after the outages: $vout"
done_testing

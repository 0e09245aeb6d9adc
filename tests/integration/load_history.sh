#!/usr/bin/env bash
# load_history.sh — the central performance history (docs/load.md, "Central history"):
#   1. two short `lighthouse load` runs with an admin token post their summaries to the real
#      bridge as load.completed events; `lighthouse load history --target URL` shows both,
#      in order, with each run's own figures (compared with its JSON report); the second
#      run's report and HTML carry the trend of both;
#   2. POST /v1/load/runs refuses bad bodies with 4xx JSON errors, never a 5xx: malformed
#      JSON, a missing field, wrong types, an unknown field, an oversized body (413), the
#      wrong role (403), no token (401), the wrong media type (415), a run posted twice;
#   3. `events verify` passes over the history; without a bridge named, `load history`
#      reads the local file as before, and a run posts nothing without an admin token;
#   4. PostgreSQL: two bridges on one database; a run posted through one is read through
#      the other, and `events verify` passes.
# Runs are ordered by the events' seq, never timed: nothing here depends on the machine's speed.
# Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"

start_bridge hist || { fail "bridge starts"; done_testing; exit 1; }
ATOK=$(token hist-admin admin)
ETOK=$(token hist-expert expert)
BTOK=$(token hist-builder builder)
# short, light runs: a handful of agents, no injected faults
RUN=(--agents 4 --rate 40 --duration 2 --network-errors 0 --no-history)

# ---- 1. two runs post, history reads them back ---------------------------------------
"$LH" load --target "$URL" --admin-token "$ATOK" "${RUN[@]}" --seed 1 --report "$T/r1.json" >"$T/r1.out" 2>"$T/r1.err"; rc1=$?
"$LH" load --target "$URL" --admin-token "$ATOK" "${RUN[@]}" --seed 2 --rate 60 --git-commit 0123456789abcdef \
  --report "$T/r2.json" --html "$T/r2.html" >"$T/r2.out" 2>"$T/r2.err"; rc2=$?
check "two runs finish (rc $rc1, $rc2: 0 GO or 1 NO-GO, never bad usage)" '[ $rc1 -le 1 ] && [ $rc2 -le 1 ] && jq -e . "$T/r1.json" "$T/r2.json" >/dev/null'
check "each run says it posted its summary as load.completed" \
  'grep -q "posted the run.s summary to $URL: load.completed, seq" "$T/r1.err" && grep -q "posted the run.s summary to $URL: load.completed, seq" "$T/r2.err"'
"$LH" load history --target "$URL" --token "$ETOK" --json >"$T/h.json" 2>"$T/h.err"; rc=$?
check "load history --target --json (rc $rc) lists two runs" '[ $rc = 0 ] && [ "$(jq ".runs | length" "$T/h.json")" = 2 ]'
check "... in the order they ran (seq ascending)" 'jq -e ".runs[0].run < .runs[1].run" "$T/h.json" >/dev/null'
# each row's figures are its run's own, as the run's JSON report gives them
same() { # ROW REPORT: the row holds the report's figures
  jq -e --slurpfile r "$2" --argjson i "$1" '
    def close(a; b): (a == null and b == null) or ((a - b) | fabs) < 1e-9;
    .runs[$i] as $x | $r[0] as $r |
    $x.pattern == $r.pattern.name and $x.requests == $r.summary.requests_total and
    $x.failed == $r.summary.requests_failed and close($x.p50_ms; $r.summary.p50_ms) and
    close($x.p99_ms; $r.summary.p99_ms) and close($x.rps; $r.summary.rps) and
    $x.verdict == $r.summary.verdict and $x.decisions == $r.decisions and
    $x.agents == $r.metrics.peak_concurrent_agents' "$T/h.json" >/dev/null
}
check "run 1's row has run 1's figures (p50, p99, req/s, requests, failed, verdict, decisions)" 'same 0 "$T/r1.json"'
check "run 2's row has run 2's figures" 'same 1 "$T/r2.json"'
check "run 2 names its git commit, run 1 none" 'jq -e ".runs[0].git_commit == null and .runs[1].git_commit == \"0123456789abcdef\"" "$T/h.json" >/dev/null'
"$LH" load history --target "$URL" --token "$ETOK" >"$T/h.txt" 2>&1; rc=$?
p99a=$(jq -r '.summary.p99_ms' "$T/r1.json" | xargs printf '%.3f'); p99b=$(jq -r '.summary.p99_ms' "$T/r2.json" | xargs printf '%.3f')
check "the trend table shows both runs and the p99 trend ($p99a -> $p99b ms)" \
  '[ $rc = 0 ] && [ "$(grep -c "^[0-9].* scale_test " "$T/h.txt")" = 2 ] && grep -q "trend of scale_test over 2 runs: .*p99 $p99a -> $p99b ms" "$T/h.txt"'
"$LH" load history --target "$URL" --token "$ETOK" --pattern business_hours >"$T/h0.txt" 2>&1
check "--pattern filters (none of business_hours)" 'grep -q "no runs recorded" "$T/h0.txt"'
"$LH" load history --target "$URL" --token "$ETOK" --limit 1 --json >"$T/h1.json" 2>&1
check "--limit 1 keeps the newest run" 'jq -e ".runs | length == 1 and .[0].git_commit == \"0123456789abcdef\"" "$T/h1.json" >/dev/null'
"$LH" load history --target "$URL" --token "$BTOK" >"$T/hb.txt" 2>&1; rc=$?
check "load history with a builder token: refused (rc $rc), says which token to give" '[ $rc = 1 ] && grep -q "answered 403" "$T/hb.txt" && grep -q "expert or admin token" "$T/hb.txt"'
check "run 2's JSON report carries the trend of both runs, from the bridge" \
  'jq -e ".trend.runs | length == 2" "$T/r2.json" >/dev/null && jq -e ".trend.source | test(\"GET /v1/load/runs\")" "$T/r2.json" >/dev/null'
check "run 2's HTML report has the trend charts, with a point per run" \
  'grep -q "id=\"trend-latency\"" "$T/r2.html" && grep -q "id=\"trend-throughput\"" "$T/r2.html" && grep -q "id=\"trend\"" "$T/r2.html" &&
   [ "$(sed -n "/id=\"trend-latency\"/,/<\/svg>/p" "$T/r2.html" | grep -o "<circle" | wc -l)" -ge 4 ]'
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  python3 "$(dirname "$0")/html_render.py" "$T/r2.html" "$T/r2.png" > "$T/render.json" 2>"$T/render.err"; rc=$?
  check "chromium renders the trend: no console errors, a point per run in each trend chart, no label out of its chart" \
    '[ $rc = 0 ] && jq -e ".console_errors == [] and .clipped == [] and .charts.\"trend-latency\".points == 4 and .charts.\"trend-throughput\".points == 2" "$T/render.json" >/dev/null'
else
  skip "chromium renders the trend" "no chromium (scripts/deps.sh installs it; tests/integration/load_html.sh fails without it)"
fi

# ---- 2. bad bodies: 4xx JSON errors, never a 5xx ---------------------------------------
req GET "/v1/load/runs?limit=1" "$ETOK"
check "GET /v1/load/runs with an expert token: 200, a page of runs" '[ "$code" = 200 ] && jq -e ".runs | length == 1" <<<"$body" >/dev/null'
jq -c '.runs[0].summary' <<<"$body" > "$T/good.json"
# mutate GOOD with a jq filter and POST it as admin
post_mut() { jq -c "$1" "$T/good.json" > "$T/mut.json"; req POST /v1/load/runs "$ATOK" application/json "$T/mut.json"; }
post_mut '.run_id = "lr-handmade-1"'
check "a well-formed summary posted by hand: 200 with its seq" '[ "$code" = 200 ] && jq -e ".seq > 0 and .type == \"load.completed\"" <<<"$body" >/dev/null'
post_mut '.run_id = "lr-handmade-1"'
check "the same run id again: 400 duplicate_run" '[ "$code" = 400 ] && is_error duplicate_run'
printf '{"run_id": "x", ' > "$T/bad.json"; req POST /v1/load/runs "$ATOK" application/json "$T/bad.json"
check "malformed JSON: 400 bad_json" '[ "$code" = 400 ] && is_error bad_json'
post_mut 'del(.run_id)'
check "a missing field: 400 naming it" '[ "$code" = 400 ] && is_error bad_request && grep -q "run_id: missing" <<<"$body"'
post_mut '.patterns[0].p99_ms = "fast"'
check "a wrong type (p99 a string): 400 naming it" '[ "$code" = 400 ] && grep -q "patterns\[0\].p99_ms: must be a number" <<<"$body"'
post_mut '.patterns[0].requests = 1.5'
check "a wrong type (requests 1.5): 400" '[ "$code" = 400 ] && grep -q "patterns\[0\].requests: must be a whole number" <<<"$body"'
post_mut '.sla.verdict = "MAYBE"'
check "a bad verdict: 400" '[ "$code" = 400 ] && grep -q "sla.verdict" <<<"$body"'
post_mut '.extra = 1'
check "an unknown field: 400" '[ "$code" = 400 ] && grep -q "extra: unknown field" <<<"$body"'
post_mut '[.]'
check "an array, not an object: 400" '[ "$code" = 400 ] && is_error bad_request'
# 70 KiB of spaces before a valid summary: over the route's 64 KiB, under the bridge's 1 MiB
python3 -c "import sys; sys.stdout.write(' ' * 70000 + open(sys.argv[1]).read())" "$T/good.json" > "$T/big.json"
req POST /v1/load/runs "$ATOK" application/json "$T/big.json"
check "a body over 64 KiB: 413 payload_too_large" '[ "$code" = 413 ] && is_error payload_too_large'
jq -c '.run_id = "lr-by-expert"' "$T/good.json" > "$T/mut.json"; req POST /v1/load/runs "$ETOK" application/json "$T/mut.json"
check "POST with an expert token: 403 (admin only)" '[ "$code" = 403 ] && is_error forbidden && grep -q "admin only" <<<"$body"'
req POST /v1/load/runs "$BTOK" application/json "$T/mut.json"
check "POST with a builder token: 403" '[ "$code" = 403 ] && is_error forbidden'
req GET /v1/load/runs "$BTOK"
check "GET with a builder token: 403" '[ "$code" = 403 ] && is_error forbidden'
req POST /v1/load/runs "" application/json "$T/mut.json"
check "no token: 401" '[ "$code" = 401 ] && is_error unauthorized'
req POST /v1/load/runs "$ATOK" text/plain "$T/mut.json"
check "text/plain: 415" '[ "$code" = 415 ] && is_error unsupported_media_type'
req PUT /v1/load/runs "$ATOK" application/json "$T/mut.json"
check "PUT: 405 with Allow: GET, POST" '[ "$code" = 405 ] && grep -qi "^Allow: GET, POST" <<<"$hdrs"'
req GET "/v1/load/runs?limit=0" "$ETOK"
check "GET limit=0: 400" '[ "$code" = 400 ] && is_error bad_request'
curl -s "$URL/metrics" > "$T/metrics"
check "the bridge answered no 5xx on /v1/load/runs and counts the route" \
  '! grep -E "^lighthouse_bridge_requests_total\{route=\"/v1/load/runs\",code=\"5" "$T/metrics" && grep -q "route=\"/v1/load/runs\",code=\"400\"" "$T/metrics"'

# ---- 3. the audit chain, the local default -------------------------------------------
"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1; rc=$?
check "events verify passes over the history (rc $rc)" '[ $rc = 0 ]'
"$LH" events query --data "$DATA" --type load.completed --limit 100 --json >"$T/ev.json" 2>/dev/null
check "three load.completed events (two runs, one by hand), each by the admin token's agent" \
  '[ "$(grep -c "\"type\":\"load.completed\"" "$T/ev.json")" = 3 ] && [ "$(grep -c "\"agent\":\"hist-admin\"" "$T/ev.json")" = 3 ]'
"$LH" load --target "$URL" --token "$BTOK" --agents 4 --rate 40 --duration 1 --network-errors 0 --seed 3 \
  --history "$T/local.db" --report "$T/r3.json" >"$T/r3.out" 2>"$T/r3.err"; rc=$?
"$LH" events query --data "$DATA" --type load.completed --limit 100 --json >"$T/ev2.json" 2>/dev/null
check "a run without an admin token posts nothing (rc $rc, still 3 events)" \
  '[ $rc -le 1 ] && ! grep -q posted "$T/r3.err" && [ "$(grep -c "\"type\":\"load.completed\"" "$T/ev2.json")" = 3 ]'
"$LH" load history --history "$T/local.db" >"$T/local.txt" 2>&1; rc=$?
check "without --target, load history reads the local file as before" '[ $rc = 0 ] && grep -q "^1 .* scale_test" "$T/local.txt"'
"$LH" load history --history "$T/local.db" --json >"$T/local.json" 2>&1
check "... and --json gives its rows" 'jq -e ".runs | length == 1 and .[0].requests == $(jq .summary.requests_total "$T/r3.json")" "$T/local.json" >/dev/null'
check "the local run's report carries the trend from the local file" 'jq -e ".trend.runs | length == 1" "$T/r3.json" >/dev/null'
"$LH" load --target "$URL" --token "$BTOK" --post-summary "${RUN[@]}" >"$T/r4.out" 2>"$T/r4.err"; rc=$?
check "--post-summary without an admin token: exit 2, says what to give" '[ $rc = 2 ] && grep -q "needs an admin token" "$T/r4.err"'
"$LH" load --target "$URL" --admin-token "$ATOK" --git-commit XYZ "${RUN[@]}" >"$T/r5.out" 2>"$T/r5.err"; rc=$?
check "a --git-commit that is not one: exit 2" '[ $rc = 2 ] && grep -q "is not a git commit" "$T/r5.err"'

# ---- 4. PostgreSQL: one history for every replica ------------------------------------
if [ -z "${LH_TEST_PG:-}" ]; then
  skip "postgres: a run posted through one replica is read through another" "LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
else
  db="lh_loadhist_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    PG="$LH_TEST_PG dbname=$db"
    start_bridge pga --store postgres --pg "$PG" || fail "postgres: bridge A starts"
    DATAA=$DATA PIDA=$PID URLA=$URL
    PATOK=$("$LH" token create --agent pg-admin --role admin --data "$DATAA" --store postgres --pg "$PG" 2>/dev/null)
    mkdir -p "$T/pgb" && cp -p "$DATAA/secret" "$T/pgb/secret"   # replicas share the chain's key
    start_bridge pgb --store postgres --pg "$PG" || fail "postgres: bridge B starts"
    PIDB=$PID URLB=$URL
    PETOK=$("$LH" token create --agent pg-expert --role expert --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    "$LH" load --target "$URLA" --admin-token "$PATOK" "${RUN[@]}" --seed 4 --report "$T/pg.json" >"$T/pg.out" 2>"$T/pg.err"; rc=$?
    check "postgres: a run posts through replica A (rc $rc)" '[ $rc -le 1 ] && grep -q "posted the run.s summary to $URLA" "$T/pg.err"'
    "$LH" load history --target "$URLB" --token "$PETOK" --json >"$T/pgh.json" 2>"$T/pgh.err"; rc=$?
    check "postgres: replica B's history has it, with its figures" \
      '[ $rc = 0 ] && jq -e --slurpfile r "$T/pg.json" ".runs | length == 1 and .[0].requests == \$r[0].summary.requests_total and ((.[0].p99_ms - \$r[0].summary.p99_ms) | fabs) < 1e-9" "$T/pgh.json" >/dev/null'
    "$LH" events verify --store postgres --pg "$PG" --data "$DATAA" >"$T/pgverify.out" 2>&1; rc=$?
    check "postgres: events verify passes (rc $rc)" '[ $rc = 0 ]'
    term_wait "$PIDB"; term_wait "$PIDA"   # before the database is dropped
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a test database"
  fi
fi
done_testing

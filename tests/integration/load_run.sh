#!/usr/bin/env bash
# load_run.sh — `lighthouse load` against the real bridge on a free loopback port:
#   1. scale_test with 1,000 agents for 20 s: the report's counts match the bridge's own
#      /metrics counters, the summary has every key, the 27 metrics are there (null only
#      with a reason), faults were injected and retried, resources came from the bridge's
#      /proc, the HTML report has its charts, the exit code follows the verdict, and the
#      run is in the history;
#      the report's outcomes agree with the bridge's class by class;
#   1b. a fleet (--data: one token per agent, minted and revoked) against a bridge with
#      its default rate limit, and a mostly throttled run that says so;
#   2. baselines: two runs of the same build are not a regression; the same bridge slowed
#      (a regression is confirmed by repeating the run)
#      (stopped for 300 ms of every 400 ms with SIGSTOP/SIGCONT) is one, with exit 1;
#   3. bad input: pattern files with unknown keys or impossible values, zero and negative
#      rates, numbers with junk after them, an unreachable target (a failed run, exit 1), a corrupt baseline (exit 2).
# Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"
ulimit -n 8192 2>/dev/null

start_bridge load --rate-limit 0 || { fail "bridge starts"; exit 1; }
BPID=$PID
TOK=$(token load-agent builder)
LOAD=("$LH" load --target "$URL" --token "$TOK" --history "$T/history.db")

# ---- 1. the 20-second run ------------------------------------------------------------
"${LOAD[@]}" --pattern scale_test --agents 1000 --duration 20 --seed 11 --report "$T/r.json" --html "$T/r.html" \
  >"$T/run.out" 2>"$T/run.err"
rc=$?
R="$T/r.json"
check "the run writes a JSON report" 'jq -e . "$R" >/dev/null'
verdict=$(jq -r .summary.verdict "$R")
check "the exit code follows the verdict ($verdict, rc $rc)" \
  '{ [ "$verdict" = GO ] && [ $rc = 0 ]; } || { [ "$verdict" = NO-GO ] && [ $rc = 1 ]; }'
check "the summary has every key scripts rely on" \
  'jq -e ".summary | has(\"requests_total\") and has(\"requests_failed\") and has(\"rps\") and has(\"p50_ms\") and has(\"p95_ms\") and has(\"p99_ms\") and has(\"p999_ms\") and has(\"max_ms\") and has(\"sla_compliance_percent\") and has(\"verdict\") and has(\"failed_objectives\")" "$R" >/dev/null'
total=$(jq .summary.requests_total "$R"); failed=$(jq .summary.requests_failed "$R"); okc=$((total - failed))
check "about 20 s of scale_test was sent ($total requests, $(jq .summary.rps "$R") req/s)" '[ "$total" -gt 8000 ]'
curl -s "$URL/metrics" > "$T/metrics"
b200=$(awk '/^lighthouse_bridge_requests_total\{route="\/v1\/validate",code="200"\}/ {print $2}' "$T/metrics")
bdec=$(awk '/^lighthouse_bridge_decisions_total/ {s+=$2} END {print s+0}' "$T/metrics")
check "answered requests in the report ($okc) = the bridge's /v1/validate 200s in /metrics ($b200)" '[ "$okc" = "$b200" ]'
check "= the bridge's decisions_total ($bdec)" '[ "$okc" = "$bdec" ]'
check "the report's own /metrics deltas agree" '[ "$(jq .bridge_counters.match "$R")" = true ]'
# The report prints its counts beside the bridge's, class by class (agree.c). With the
# bridge's lighthouse_bridge_outcomes_total every class is compared, client_gone included;
# without it, by status code, and the report says it fell back.
if grep -q '^lighthouse_bridge_outcomes_total' "$T/metrics"; then native=1; else native=0; fi
check "the report's outcomes agree with the bridge's /metrics class by class ($(jq -c '.agreement.summary' "$R"))" \
  'jq -e ".agreement.agree == true and (.objectives[] | select(.name == \"bridge_agreement\") | .status == \"met\")" "$R" >/dev/null'
check "ok, server_fault, client_error and throttled are each compared" \
  'jq -e "[.agreement.classes | .ok, .server_fault, .client_error, .throttled | .bridge | type == \"number\"] | all" "$R" >/dev/null'
check "the injected resets are the load's client_gone ($(jq .agreement.classes.client_gone.load "$R") = $(jq .faults.reset_mid_request "$R"))" \
  '[ "$(jq .agreement.classes.client_gone.load "$R")" = "$(jq .faults.reset_mid_request "$R")" ] && [ "$(jq .faults.reset_mid_request "$R")" -gt 0 ]'
if [ $native = 1 ]; then
  check "the bridge exports outcomes: client_gone is compared too" \
    'jq -e ".agreement.source == \"lighthouse_bridge_outcomes_total\" and (.agreement.classes.client_gone.bridge | type == \"number\")" "$R" >/dev/null'
else
  check "no outcomes series on this bridge: the report says it fell back to status codes, client_gone not compared" \
    'jq -e ".agreement.source | test(\"fallback\")" "$R" >/dev/null && [ "$(jq .agreement.classes.client_gone.bridge "$R")" = null ] && grep -q "does not export lighthouse_bridge_outcomes_total" "$T/run.err"'
fi
check "the summary prints the load's counts beside the bridge's" 'grep -q "^outcomes (load vs bridge /metrics" "$T/run.err"'
check "decisions by outcome add up to the answered requests" \
  '[ "$(jq "[.decisions[]] | add" "$R")" = "$okc" ]'
check "1,000 concurrent agents" '[ "$(jq .metrics.peak_concurrent_agents "$R")" = 1000 ]'
check "the 27 integration metrics are all present" '[ "$(jq ".metrics | length" "$R")" = 27 ]'
check "every null metric says why" \
  'jq -e "[.metrics | to_entries[] | select(.value == null) | .key] - (.metrics_null_reasons | keys) == []" "$R" >/dev/null'
check "latency and SLA metrics are measured numbers" \
  'jq -e ".metrics | (.p99_response_time_ms|type)==\"number\" and (.sla_compliance_rate|type)==\"number\" and (.event_store_avg_ms|type)==\"number\"" "$R" >/dev/null'
check "the mix follows scale_test (80/15/5 within 3 points)" \
  'jq -e ".by_class as \$c | (\$c.safe+\$c.risky+\$c.complex) as \$n | ((\$c.safe/\$n - .80)|fabs) < .03 and ((\$c.risky/\$n - .15)|fabs) < .03" "$R" >/dev/null'
check "faults were injected (2%), dropped and reset, and counted apart: $(jq -c .faults "$R")" \
  'jq -e ".faults | .injected > 0 and .dropped > 0 and .reset_mid_request > 0 and .retried > 0 and .injected == .dropped + .reset_mid_request" "$R" >/dev/null'
check "about 2% of attempts were faulted" \
  'jq -e "(.faults.injected / (.counts.sent + .faults.injected)) as \$f | \$f > 0.01 and \$f < 0.03" "$R" >/dev/null'
check "latency per tier, with p50..p99.9" 'jq -e ".tiers | to_entries | length > 0 and all(.[]; .value.p999_ms != null)" "$R" >/dev/null'
check "bridge resources sampled from its own /proc (pid $BPID)" \
  '[ "$(jq .server.pid "$R")" = "$BPID" ] && jq -e ".server.samples | length >= 15" "$R" >/dev/null && jq -e ".metrics.memory_peak_mb > 1" "$R" >/dev/null'
check "the generator reports its own CPU" 'jq -e ".generator.cpu_seconds > 0" "$R" >/dev/null'
check "the HTML report has its five charts" \
  'for id in latency histogram throughput tiers resources-cpu resources-memory; do grep -q "<svg id=\"$id\"" "$T/r.html" || exit 1; done; grep -q "<polyline" "$T/r.html" && grep -q "<rect" "$T/r.html"'
check "the HTML report is self-contained (no scripts, no external links)" '! grep -qE "<script|src=\"http|href=\"http" "$T/r.html"'
"$LH" load history --history "$T/history.db" > "$T/hist.out"
check "the run is in the history" 'grep -q "scale_test" "$T/hist.out" && grep -q " $total " "$T/hist.out"'

# ---- 1b. a fleet against a bridge with its default rate limit -------------------------
# --data DIR: one builder token per agent, minted from the bridge's data dir and revoked
# at the end; each agent has its own rate limit, so nothing is throttled.
start_bridge fleet || { fail "fleet bridge starts"; exit 1; }
FDATA=$DATA
"$LH" load --target "$URL" --data "$FDATA" --agents 200 --rate 200 --duration 5 --seed 3 --report "$T/f.json" \
  >"$T/f.out" 2>"$T/f.err"; rc=$?
check "a fleet run (--data, default rate limit) runs with one token per agent (rc $rc)" \
  'jq -e ".parameters.tokens == 200 and .summary.requests_total > 500" "$T/f.json" >/dev/null && grep -q "minted 200 builder tokens" "$T/f.err"'
check "nothing was throttled ($(jq .counts.throttled_429 "$T/f.json") 429s) and the bridge agrees" \
  'jq -e ".counts.throttled_429 == 0 and .counts.http_4xx == 0 and .agreement.agree == true" "$T/f.json" >/dev/null'
"$LH" events query --data "$FDATA" --type token.issued --limit 1000 --json > "$T/issued.json" 2>/dev/null
"$LH" events query --data "$FDATA" --type token.revoked --limit 1000 --json > "$T/revoked.json" 2>/dev/null
ni=$(grep -c '"load-' "$T/issued.json"); nr=$(grep -c 'token.revoked' "$T/revoked.json")
check "the 200 tokens were issued (token.issued: $ni) and revoked at the end (token.revoked: $nr)" '[ "$ni" = 200 ] && [ "$nr" = 200 ]'
check "the run is in the history under the data dir" '[ -s "$FDATA/load-history.db" ] && "$LH" load history --data "$FDATA" | grep -q scale_test'
# --admin-token: the same fleet minted over HTTP (POST /v1/tokens) and revoked over it.
ATOK=$(token load-admin admin "$FDATA")
BTOK=$(token load-builder builder "$FDATA")
"$LH" load --target "$URL" --admin-token "$ATOK" --no-history --agents 100 --rate 100 --duration 3 --seed 5 \
  --report "$T/adm.json" >"$T/adm.out" 2>"$T/adm.err"; rc=$?
check "a fleet minted over POST /v1/tokens with --admin-token (rc $rc): 100 tokens, nothing throttled, agreement" \
  'grep -q "minted 100 builder tokens over POST /v1/tokens" "$T/adm.err" && jq -e ".parameters.tokens == 100 and .counts.throttled_429 == 0 and .agreement.agree == true" "$T/adm.json" >/dev/null'
"$LH" events query --data "$FDATA" --type token.revoked --limit 10000 --json > "$T/revoked2.json" 2>/dev/null
check "... and revoked over POST /v1/tokens/revoke ($(grep -c token.revoked "$T/revoked2.json") revocations in all)" \
  '[ "$(grep -c token.revoked "$T/revoked2.json")" = 300 ]'
post_json /v1/tokens "$BTOK" '{"agent":"x","role":"builder"}'
check "POST /v1/tokens with a builder token: 403" '[ "$code" = 403 ]'
post_json /v1/tokens "$ATOK" '{"agent":"minted-1","role":"builder","ttl_s":600}'
MT=$(jq -r '.tokens[0].token' <<<"$body"); MTID=$(jq -r '.tokens[0].token_id' <<<"$body")
check "POST /v1/tokens mints a token that the bridge accepts" \
  '[ "$code" = 200 ] && post_json /v1/validate "$MT" "{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"/tmp\"}" && [ "$code" = 200 ]'
post_json /v1/tokens/revoke "$ATOK" "{\"token_id\":\"$MTID\"}"
check "POST /v1/tokens/revoke: 200, and the token is refused at once (401)" \
  '[ "$code" = 200 ] && post_json /v1/validate "$MT" "{\"tool\":\"Bash\",\"input\":{\"command\":\"ls\"},\"cwd\":\"/tmp\"}"; [ "$code" = 401 ]'
post_json /v1/tokens/revoke "$ATOK" '{"token_id":"0123456789abcdef"}'
check "POST /v1/tokens/revoke of an id never issued: 404, says so" '[ "$code" = 404 ] && grep -q "no token with id 0123456789abcdef" <<<"$body"'
post_json /v1/tokens "$ATOK" '{"agent":"x","role":"boss"}'
check "POST /v1/tokens with an unknown role: 400 listing the roles" '[ "$code" = 400 ] && grep -q "builder, expert or admin" <<<"$body"'

# One token for every agent against a bridge limiting each agent to 2 req/s: mostly
# throttled, counted as such on both sides, and the report says so with the fix.
start_bridge throttled --rate-limit 2 --rate-burst 2 || { fail "throttled bridge starts"; exit 1; }
TTOK=$(token one-agent builder)
"$LH" load --target "$URL" --token "$TTOK" --no-history --agents 20 --rate 50 --duration 3 --network-errors 0 --seed 4 \
  --report "$T/t.json" >"$T/t.out" 2>"$T/t.err"; rc=$?
check "one token for 20 agents at a 2 req/s limit: mostly 429s, NO-GO, exit 1 ($(jq .counts.throttled_429 "$T/t.json") of $(jq .summary.requests_total "$T/t.json"))" \
  '[ $rc = 1 ] && jq -e ".counts.throttled_429 * 2 > .summary.requests_total" "$T/t.json" >/dev/null'
check "... counted as throttled on both sides" \
  'jq -e ".agreement.classes.throttled.agree == true and .agreement.classes.throttled.bridge > 0" "$T/t.json" >/dev/null'
check "... and the report says so in one line, with the fix" 'grep -q "^mostly throttled: .*fix: .*--data DIR" "$T/t.err"'
check "the verdict names the failing objectives and their causes" 'grep -q "^  failed availability_percent: " "$T/t.err"'

# ---- 2. baselines (on a fresh bridge, so the big run's store does not weigh on them) ----
start_bridge base --rate-limit 0 || { fail "second bridge starts"; exit 1; }
BPID=$PID
TOK=$(token load-agent builder)
LOAD=("$LH" load --target "$URL" --token "$TOK" --history "$T/history.db")
# A pattern from YAML (a flat 150 req/s, no bursts, no faults), with flags on top: the mix
# from --mix overrides the file's, and --agents the file's fleet.
cat > "$T/flat.yaml" <<'Y'
pattern: scale_test
name: flat_150
base_rate: 150
peak_multiplier: 1
burst_probability: 0
network_error_rate: 0
agents_base: 50
agents_peak: 50
Y
BASE=(--pattern-file "$T/flat.yaml" --mix 0.2/0.5/0.3 --agents 100 --duration 8 --seed 5)
"${LOAD[@]}" "${BASE[@]}" --save-baseline "$T/base.json" --report "$T/a.json" >/dev/null 2>&1
check "a YAML pattern runs, with its rate held ($(jq .summary.rps "$T/a.json") req/s for 150), no bursts, no faults" \
  'jq -e ".pattern.name == \"flat_150\" and (.summary.rps > 135 and .summary.rps < 165) and .generator.bursts == 0 and .faults.injected == 0" "$T/a.json" >/dev/null'
check "flags override the file: --agents 100, --mix 20/50/30 ($(jq -c .by_class "$T/a.json"))" \
  'jq -e ".metrics.peak_concurrent_agents == 100 and (.by_class as \$c | (\$c.safe+\$c.risky+\$c.complex) as \$n | ((\$c.safe/\$n - .2)|fabs) < .05 and ((\$c.risky/\$n - .5)|fabs) < .05)" "$T/a.json" >/dev/null'
check "--save-baseline writes per-second samples" 'jq -e ".lighthouse_load_baseline == 1 and (.metrics.p99_ms.per_second | length) >= 6" "$T/base.json" >/dev/null'
"${LOAD[@]}" "${BASE[@]}" --baseline "$T/base.json" --report "$T/b.json" >/dev/null 2>&1; rc=$?
check "a second run of the same build is not a regression (rc $rc; $(jq -c '.baseline.exceeded' "$T/b.json"))" \
  '[ "$(jq .metrics.regression_detected "$T/b.json")" = false ]'
( while kill -0 "$BPID" 2>/dev/null; do kill -STOP "$BPID"; sleep 0.3; kill -CONT "$BPID"; sleep 0.1; done ) &
SLOW=$!
"${LOAD[@]}" "${BASE[@]}" --baseline "$T/base.json" --report "$T/c.json" >/dev/null 2>&1; rc=$?
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null; kill -CONT "$BPID"
check "the slowed bridge is a regression in latency, exit 1 (p99 $(jq .summary.p99_ms "$T/c.json") ms vs $(jq .summary.p99_ms "$T/a.json") ms; $(jq -c .baseline.exceeded "$T/c.json"))" \
  '[ $rc = 1 ] && [ "$(jq .metrics.regression_detected "$T/c.json")" = true ] && jq -e ".baseline.exceeded | any(. == \"p99_ms\" or . == \"p95_ms\" or . == \"avg_ms\")" "$T/c.json" >/dev/null'
check "it was confirmed by a repeated run ($(jq -c '[.baseline.runs[].exceeded]' "$T/c.json"))" \
  'jq -e ".baseline.runs | length == 2 and all(.[]; (.exceeded | length) > 0)" "$T/c.json" >/dev/null'
check "the regression is a failed objective" 'jq -e ".summary.failed_objectives | index(\"no_regression\")" "$T/c.json" >/dev/null'

# ---- 3. bad input ----------------------------------------------------------------------
bad() { # name expected-rc expected-message args...
  local name=$1 want=$2 msg=$3; shift 3
  "$LH" load --target "$URL" --token "$TOK" --no-history --duration 2 "$@" >"$T/bad.out" 2>"$T/bad.err"; local got=$?
  check "$name: exit $want, says '$msg'" '[ $got = $want ] && grep -q -- "$msg" "$T/bad.err"'
}
printf 'pattern: scale_test\nbase_rat: 10\n' > "$T/unknown.yaml"
bad "a pattern file with an unknown key" 2 "unknown key 'base_rat'" --pattern-file "$T/unknown.yaml"
printf 'pattern: scale_test\nmix: {safe: 0.5, risky: 0.2, complex: 0.1}\n' > "$T/mix.yaml"
bad "a mix that does not sum to 1" 2 "must sum to 1" --pattern-file "$T/mix.yaml"
printf 'pattern: scale_test\nbase_rate: -5\n' > "$T/neg.yaml"
bad "a negative rate in a pattern file" 2 "base_rate must be > 0" --pattern-file "$T/neg.yaml"
bad "--rate 0" 2 "base_rate must be > 0" --rate 0
bad "--rate -1" 2 "base_rate must be > 0" --rate -1
bad "an unknown pattern" 2 "unknown pattern" --pattern rush_hour
bad "a process id with junk after it (--bridge-pid 12x)" 2 "is not a process id" --bridge-pid 12x
bad "--confirm past int" 2 "must be 0 to 10 repeats" --confirm 4294967297
"$LH" load history --history "$T/history.db" --limit 5x >"$T/bad.out" 2>"$T/bad.err"; rc=$?
check "load history --limit 5x: exit 2, says the bounds" '[ $rc = 2 ] && grep -q -- "--limit must be" "$T/bad.err"'
bad "a target off this machine" 2 "not a loopback" --target http://192.0.2.1:80
printf '{"lighthouse_load_baseline": 1, "metrics": ' > "$T/corrupt.json"
bad "a corrupt baseline" 2 "baseline" --baseline "$T/corrupt.json"
echo '{"something": "else"}' > "$T/other.json"
bad "a JSON file that is not a baseline" 2 "not a lighthouse load baseline" --baseline "$T/other.json"
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$LH" load --target "http://127.0.0.1:$FREE" --token "$TOK" --no-history --duration 2 --report "$T/dead.json" >"$T/dead.out" 2>&1; rc=$?
check "an unreachable target is a failed run: exit 1, NO-GO, no requests, says unreachable" \
  '[ $rc = 1 ] && [ "$(jq -r .summary.verdict "$T/dead.json")" = NO-GO ] && [ "$(jq .summary.requests_total "$T/dead.json")" = 0 ] && jq -e ".summary.error | test(\"unreachable\")" "$T/dead.json" >/dev/null && jq -e ".summary.failed_objectives | index(\"target_reachable\")" "$T/dead.json" >/dev/null'
check "and its latency figures are null, not zero" '[ "$(jq .summary.p99_ms "$T/dead.json")" = null ]'
"$LH" load --target "$URL" --token not-a-token --no-history --duration 2 --agents 10 --rate 20 --report "$T/401.json" >"$T/401.out" 2>&1; rc=$?
check "a token the bridge refuses: every request failed, NO-GO, exit 1, and a hint" \
  '[ $rc = 1 ] && [ "$(jq .summary.requests_failed "$T/401.json")" = "$(jq .summary.requests_total "$T/401.json")" ] && [ "$(jq .counts.http_4xx "$T/401.json")" -gt 0 ] && grep -q "hint: the bridge refused" "$T/401.out"'
done_testing

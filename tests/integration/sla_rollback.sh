#!/usr/bin/env bash
# sla_rollback.sh — the SLA monitor and automatic rollback against the real bridge.
#
# Scenario 1: a policy revision whose regexes backtrack (about a millisecond of PCRE2
# work per rule and decision, a few hundred rules) is pushed while agents are working.
# Decisions get slow for real; the monitor raises the p99 violation after its grace,
# alerts a local webhook receiver, rolls the policy back to the revision before it, and
# resolves the violation once the slow requests have left the window.
# Scenario 2: the same revision pushed outside the canary window is not rolled back,
# but the violation is still raised.
# Scenario 3: the event store fails (real fsync errors) while availability and error rate
# are violated: a store outage is no revision's fault, so it alerts but never rolls back
# (docs/sla.md, "Evidence"), and the monitor's events (sla.violated, alert.sent) wait and
# are recorded, in order, once it is back.
# Grace times, window and hold are a second or two (config file), so this runs in
# seconds. Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"

# ---- the policies --------------------------------------------------------------------
cat > "$T/base.yaml" <<'Y'
version: 1
revision: sla-base
rules:
  - id: test.no-forbidden
    action: deny
    risk: high
    reason: forbidden-cmd is not allowed here
    match: {program: forbidden-cmd}
Y
# "a command that ends in an identifier": ([a-z_]|\w) offers two ways to match each of
# [a-z_], so a long snake_case word before a non-word ending backtracks until PCRE2's
# match limit, in every rule. A realistic mistake, and slow through the real engine.
{
  printf 'version: 1\nrevision: sla-slow\nrules:\n'
  for i in $(seq 200); do
    printf '  - id: audit.ident-%d\n    action: allow\n    risk: low\n    reason: audit rule %d\n    match: {regex: '"'"'([a-z_]|\\w)+$'"'"'}\n' "$i" "$i"
  done
} > "$T/slow.yaml"

SLOWCMD=run_the_nightly_build_for_module_number_seventeen_of_the_pipeline_now_please
# drive NAME: two agents (tokens $BT and $BT2: one agent alone never rolls back, docs/sla.md
# "Per agent") send decisions in a loop, each command different (no cache hit), until
# $T/NAME.stop exists. Counts go to $T/NAME.n.
DRIVERS=()
drive() {
  local name=$1 k
  rm -f "$T/$name.stop"
  DRIVERS=()
  for k in 1 2; do
    (
      i=0
      while [ ! -e "$T/$name.stop" ]; do
        i=$((i+1))
        printf '{"tool":"Bash","input":{"command":"echo %s done %d-%d"},"cwd":"/tmp/p","session":"s-%s"}' \
          "$SLOWCMD" "$k" "$i" "$name" > "$T/$name.$k.json"
        tok=$BT; [ "$k" = 2 ] && tok=$BT2
        curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
          --data-binary "@$T/$name.$k.json" "$URL/v1/validate"
        echo >> "$T/$name.n"
      done
    ) &
    DRIVERS+=($!)
  done
}
stop_drive() { touch "$T/$1.stop"; wait "${DRIVERS[@]}"; }

sla_state() { # metric → its state in /v1/sla
  curl -s -H "Authorization: Bearer $AT" "$URL/v1/sla" | jq -r --arg m "$1" '.metrics[] | select(.metric == $m) | .state'
}
events() { # type → the events of that type (JSON array)
  curl -s -H "Authorization: Bearer $AT" "$URL/v1/events?type=$1&limit=1000" | jq -c '.events'
}
metric() { # exact series (name{labels}) → its value
  curl -s "$URL/metrics" | awk -v s="$1" '$1 == s {print $2}'
}
wait_until() { # SECONDS CMD
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do eval "$2" && return 0; sleep 0.2; done
  return 1
}

start_webhook

cat > "$T/sla.yaml" <<Y
alert_webhook_url: $HOOKURL
alert_retries: 2
alert_backoff_ms: 50
rate_limit: 0
sla_window_s: 3
sla_eval_interval_s: 0.25
sla_resolve_hold_s: 1
sla_canary_window_s: 60
sla_p99_response_time_ms_grace_s: 1
sla_compliance_rate_grace_s: 1
sla_avg_response_time_ms_grace_s: 1
sla_min_requests: 1
sla_rollback_min_requests: 3
Y

# ---- scenario 1: rolled back within the canary window --------------------------------
start_bridge one --config "$T/sla.yaml" --policy "$T/base.yaml" || { fail "bridge starts"; exit 1; }
AT=$(token admin-1 admin); BT=$(token builder-1 builder); BT2=$(token builder-1b builder); ET=$(token expert-1 expert)
ok "bridge starts with the SLA config ($URL)"

req GET /v1/sla "$ET"
check "GET /v1/sla (expert): eight metrics, window and canary from the config" \
  '[ "$code" = 200 ] && [ "$(jq ".metrics | length" <<<"$body")" = 8 ] && [ "$(jq .window_s <<<"$body")" = 3 ] && [ "$(jq .canary_window_s <<<"$body")" = 60 ]'
check "before any decision the latency metrics have no data (null, never 0)" \
  'jq -e "[.metrics[] | select(.metric == (\"p99_response_time_ms\", \"sla_compliance_rate\", \"availability_percent\"))] | length == 3 and all(.value == null and .state == \"no_data\" and (.no_data | type == \"string\"))" <<<"$body" >/dev/null'
req GET /v1/sla "$BT"
check "builders may not read /v1/sla (403)" '[ "$code" = 403 ]'

# Fast traffic first, so the window holds good requests too.
drive warm; sleep 1; stop_drive warm
check "fast decisions: p99 is ok" '[ "$(sla_state p99_response_time_ms)" = ok ]'

req POST /v1/policy "$AT" application/yaml "$T/slow.yaml"
check "the slow revision is pushed" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = sla-slow ]'
t0=$SECONDS
drive one
wait_until 60 '[ "$(events policy.rolled_back | jq length)" -ge 1 ]'
tr=$((SECONDS - t0))
check "the violation is raised and the policy rolled back, ${tr}s after the push" '[ "$(events policy.rolled_back | jq length)" -ge 1 ]'

rb=$(events policy.rolled_back | jq -c '.[0]')
check "policy.rolled_back: trigger sla, from sla-slow to sla-base, naming the violation" \
  'jq -e ".data.trigger == \"sla\" and .data.from == \"sla-slow\" and .data.revision == \"sla-base\" and (.data.violation.metric | type == \"string\") and .data.violation.seq > 0" <<<"$rb" >/dev/null'
v=$(events sla.violated | jq -c --argjson s "$(jq .data.violation.seq <<<"$rb")" '.[] | select(.seq == $s)')
# Its action says the rollback, or, when sla-slow had answered fewer than
# sla_rollback_min_requests by then, that the evidence was still to come (it rolled back
# on the tick that brought it: docs/sla.md, "Evidence").
check "the violation that rolled back: sla.violated of sla-slow, outside its threshold after its 1 s grace, in a 3 s window" \
  'jq -e ".data.revision == \"sla-slow\" and .data.rollback == true and .data.grace_s == 1 and .data.window_s == 3 and (if .data.comparison == \">\" then .data.value > .data.threshold else .data.value < .data.threshold end) and (.data.action | startswith(\"rollback from sla-slow to sla-base\") or startswith(\"no rollback yet\"))" <<<"$v" >/dev/null'
p99=$(events sla.violated | jq -c '[.[] | select(.data.metric == "p99_response_time_ms")][0]')
check "sla.violated for p99_response_time_ms: value over 100 ms, severity major, threshold 100" \
  'jq -e ".data.value > 100 and .data.threshold == 100 and .data.severity == \"major\" and .data.comparison == \">\"" <<<"$p99" >/dev/null'
check "policy.rolled_back: the steps with their durations (detect, load_history, build_engine)" \
  '[ "$(jq -r "[.data.steps[].step] | join(\",\")" <<<"$rb")" = "detect,load_history,build_engine" ] && jq -e "all(.data.steps[]; .ms >= 0) and (.data.steps[0].ms >= 1000)" <<<"$rb" >/dev/null'
req GET /v1/policy/history "$ET"
check "the active revision is the previous one again (sla-base)" '[ "$(jq -r .active <<<"$body")" = sla-base ]'
check "rollbacks_total{trigger=sla}: 1 triggered, 1 succeeded" \
  '[ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"triggered\"}")" = 1 ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"succeeded\"}")" = 1 ]'
check "rollback_duration_seconds counts it (the mean rollback time)" \
  '[ "$(metric lighthouse_bridge_rollback_duration_seconds_count)" = 1 ] && awk "BEGIN{exit !($(metric lighthouse_bridge_rollback_duration_seconds_sum) > 0)}"'
check "sla_violations_total counts the p99 violation" \
  '[ "$(metric "lighthouse_bridge_sla_violations_total{metric=\"p99_response_time_ms\",severity=\"major\"}")" -ge 1 ]'
req GET /v1/sla "$AT"
# (Whether a metric is still violated when this runs depends on how fast the machine is:
# the checks below name the violation and the rollback, not the state at this instant.)
check "/v1/sla: the last rollback names the violation that caused it, with all five steps" \
  'jq -e --argjson v "$v" "(.metrics[] | select(.metric == \$v.data.metric) | .violations >= 1) and .last_rollback.ok == true and .last_rollback.metric == \$v.data.metric and .last_rollback.violation_seq == \$v.seq and .last_rollback.from == \"sla-slow\" and .last_rollback.to == \"sla-base\" and ([.last_rollback.steps[].step] == [\"detect\",\"load_history\",\"build_engine\",\"record\",\"install\"])" <<<"$body" >/dev/null'
req GET /v1/status "$AT"
check "/v1/status carries the SLA state (violated exactly when it names violated metrics)" \
  'jq -e ".sla.state as \$s | (.sla.violated | type == \"array\") and ((\$s == \"violated\") == (.sla.violated | length > 0))" <<<"$body" >/dev/null'

# Requests are fast again under sla-base: the violation resolves after the window and the hold.
wait_until 60 '[ "$(events sla.resolved | jq "[.[] | select(.data.metric == \"p99_response_time_ms\")] | length")" -ge 1 ]'
check "sla.resolved for p99 follows once requests are fast again" \
  '[ "$(events sla.resolved | jq "[.[] | select(.data.metric == \"p99_response_time_ms\")] | length")" -ge 1 ]'
r=$(events sla.resolved | jq -c '[.[] | select(.data.metric == "p99_response_time_ms")][0]')
check "sla.resolved names the violation it ends and its value is back inside" \
  'jq -e --argjson s "$(jq .seq <<<"$p99")" ".data.violated_seq == \$s and .data.value <= 100 and .data.resolve_hold_s == 1" <<<"$r" >/dev/null'
stop_drive one
# ---- alerts -----------------------------------------------------------------------------
p99key="sla:p99_response_time_ms:$(jq .seq <<<"$p99")"
wait_until 30 '[ "$(hooks | jq --arg k "$p99key" "[.[] | select(.event == \"sla.resolved\" and .dedup_key == \$k)] | length")" -ge 1 ]'
check "the webhook got the violation that rolled back: the documented payload" \
  'hooks | jq -e --argjson v "$v" "[.[] | select(.event == \"sla.violated\" and .seq == \$v.seq)][0] | .type == \"lighthouse.alert\" and .version == 1 and .metric == \$v.data.metric and .severity == \"major\" and .value == \$v.data.value and .threshold == \$v.data.threshold and .dedup_key == \"sla:\(\$v.data.metric):\(\$v.seq)\" and .revision == \"sla-slow\" and (.summary | type == \"string\") and (.time | test(\"Z$\")) and (.source | length > 0)" >/dev/null'
check "the webhook got the rollback under the same dedup key, with the policy.rolled_back seq" \
  'hooks | jq -e --argjson v "$v" --argjson rb "$rb" "[.[] | select(.event == \"policy.rolled_back\")] | length == 1 and .[0].dedup_key == \"sla:\(\$v.data.metric):\(\$v.seq)\" and .[0].seq == \$rb.seq and .[0].revision == \"sla-base\"" >/dev/null'
check "the webhook got the p99 resolution under the p99 violation's dedup key" \
  'hooks | jq -e --arg k "$p99key" "[.[] | select(.event == \"sla.resolved\" and .dedup_key == \$k)] | length == 1 and all(.[]; .metric == \"p99_response_time_ms\" and .value <= 100)" >/dev/null'
# Alerts keep coming (the other metrics resolve as the slow requests leave the window), so
# the checks take the deliveries received so far and look for each one's alert.sent.
H=$(hooks)
sent_for_all() { # every delivery in $H has an ok webhook alert.sent with its event and dedup key
  events alert.sent | jq -e --argjson h "$H" '[.[] | select(.data.sink == "webhook" and .data.ok == true and .data.http_status == 200 and .data.attempts >= 1) | {e: .data.alert, k: .data.dedup_key}] as $s | all($h[]; {e: .event, k: .dedup_key} as $x | $s | index([$x]) != null)' >/dev/null
}
wait_until 60 sent_for_all
check "every webhook delivery is an alert.sent event (sink, ok, attempts, http_status, dedup key)" \
  'sent_for_all && jq -e "all(.[]; .dedup_key | startswith(\"sla:\"))" <<<"$H" >/dev/null'
check "the log sink delivered them too (alert.sent, and JSON lines on stderr)" \
  '[ "$(events alert.sent | jq "[.[] | select(.data.sink == \"log\" and .data.ok)] | length")" -ge 3 ] && grep -q "\"msg\":\"alert\"" "$T/one.err"'
check "alerts_total{sink=webhook,result=sent} counts them" \
  '[ "$(metric "lighthouse_bridge_alerts_total{sink=\"webhook\",result=\"sent\"}")" -ge "$(jq length <<<"$H")" ]'

check "one rollback only, though two rollback-flagged metrics were violated" \
  '[ "$(events policy.rolled_back | jq length)" = 1 ] && [ "$(events sla.violated | jq "[.[] | select(.data.rollback)] | length")" -ge 2 ]'
check "promtool check metrics passes with the SLA series" 'curl -s "$URL/metrics" | promtool check metrics >/dev/null 2>&1'
grep -h "SLA" "$T/one.err" | head -5 | sed 's/^/# /'

# ---- scenario 2: outside the canary window, no rollback ---------------------------------
sed 's/^sla_canary_window_s: .*/sla_canary_window_s: 1/; /^alert_/d' "$T/sla.yaml" > "$T/sla2.yaml"
start_bridge two --config "$T/sla2.yaml" --policy "$T/base.yaml" || { fail "second bridge starts"; exit 1; }
AT=$(token admin-2 admin); BT=$(token builder-2 builder); BT2=$(token builder-2b builder)
req POST /v1/policy "$AT" application/yaml "$T/slow.yaml"
check "second bridge: the slow revision is pushed" '[ "$code" = 200 ]'
sleep 1.5   # past the 1 s canary window before any traffic
drive two
wait_until 60 '[ "$(sla_state p99_response_time_ms)" = violated ]'
sleep 0.5
stop_drive two
check "outside the canary window: the violation is still raised" \
  '[ "$(events sla.violated | jq "[.[] | select(.data.metric == \"p99_response_time_ms\")] | length")" -ge 1 ]'
check "... and says why there is no rollback" \
  'events sla.violated | jq -e "[.[] | select(.data.rollback)][0].data.action | test(\"past the canary window\")" >/dev/null'
check "... and the policy is not rolled back (no event, sla-slow still active, counters 0)" \
  '[ "$(events policy.rolled_back | jq length)" = 0 ] && [ "$(curl -s -H "Authorization: Bearer $AT" "$URL/v1/policy/history" | jq -r .active)" = sla-slow ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"triggered\"}")" = 0 ]'

# ---- scenario 3: the store fails during the violation; no rollback; the events wait and land --
# The bridge's fsync/fdatasync fail with EIO while $LH_FAULT_FILE exists (bridge_lib.bash).
# With the store down, decisions are answered 503, so availability and error rate breach.
# No revision causes a store outage: over the revision's own requests (the 503s of the
# store left out) there is no evidence, so there is no rollback, only the alert. Nothing
# the monitor records may be lost: the events wait in the monitor's backlog and land, in
# order, once the store is back.
build_fault_shim || exit 1
{ cat "$T/sla.yaml"; printf 'sla_availability_percent_grace_s: 1\nsla_error_rate_percent_grace_s: 1\n'; } > "$T/sla3.yaml"
LD_PRELOAD="$FAULT_SO" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
  start_bridge three --config "$T/sla3.yaml" --policy "$T/base.yaml" || { fail "third bridge starts"; exit 1; }
AT=$(token admin-3 admin); BT=$(token builder-3 builder); BT2=$(token builder-3b builder)
req POST /v1/policy "$AT" application/yaml "$T/slow.yaml"
check "third bridge (store fault shim): the slow revision is pushed while the store is healthy" '[ "$code" = 200 ]'
touch "$LH_FAULT_FILE"
drive three
av_alert() { hooks | jq -c '[.[] | select(.event == "sla.violated" and .metric == "availability_percent")][0] // empty'; }
wait_until 60 '[ -n "$(av_alert)" ]'
stop_drive three
check "store down: decisions were refused with 503" 'grep -q "^lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"503\"} [1-9]" <(curl -s "$URL/metrics")'
check "store down: they are server faults (outcomes_total{class=server_fault})" \
  '[ "$(metric "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"server_fault\"}")" -ge 1 ] 2>/dev/null'
check "store down: availability_percent is violated" '[ "$(sla_state availability_percent)" = violated ]'
al=$(av_alert)
check "store down: the webhook got the critical availability alert, of sla-slow, saying there is no rollback" \
  'jq -e ".severity == \"critical\" and .revision == \"sla-slow\" and (.summary | test(\"no rollback\")) and (.dedup_key | startswith(\"sla:availability_percent:\"))" <<<"$al" >/dev/null'
check "store down: no rollback at all (rollbacks_total{trigger=sla}: none triggered, succeeded or failed)" \
  '[ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"triggered\"}")" = 0 ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"failed\"}")" = 0 ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"succeeded\"}")" = 0 ]'
req GET /v1/sla "$AT"
check "store down: the pushed revision stays active, and /v1/sla has no rollback" \
  'jq -e "([.revisions[] | select(.active)][0].revision == \"sla-slow\") and (.last_rollback == null)" <<<"$body" >/dev/null'
check "store down: /v1/sla says why availability did not roll back (the store's 503s are no evidence)" \
  'jq -e ".metrics[] | select(.metric == \"availability_percent\") | .action | test(\"no rollback\") and test(\"503\")" <<<"$body" >/dev/null'
check "store down: the monitor's events wait (sla_events_pending > 0)" \
  '[ "$(metric lighthouse_bridge_sla_events_pending)" -gt 0 ] 2>/dev/null'

rm -f "$LH_FAULT_FILE"
avs() { events sla.violated | jq -c '[.[] | select(.data.metric == "availability_percent")][0] // empty'; }
wait_until 60 '[ "$(metric lighthouse_bridge_sla_events_pending)" = 0 ] && [ -n "$(avs)" ]'
vv=$(avs)
check "store back: the availability violation is in the log (sla-slow, rollback-flagged, no rollback, with its late dedup key)" \
  'jq -e --argjson a "$al" ".data.revision == \"sla-slow\" and .data.rollback == true and (.data.action | startswith(\"no rollback\")) and .data.dedup_key == \$a.dedup_key" <<<"$vv" >/dev/null'
check "store back: it keeps the time it happened (occurred_ns, before it was recorded)" \
  'jq -e ".data.occurred_ns > 0 and .data.occurred_ns < .time_ns" <<<"$vv" >/dev/null'
check "store back: no policy.rolled_back or policy.rollback_failed in the log" \
  '[ "$(events policy.rolled_back | jq length)" = 0 ] && [ "$(events policy.rollback_failed | jq length)" = 0 ]'
as=$(events alert.sent | jq -c --argjson a "$al" '[.[] | select(.data.sink == "webhook" and .data.alert == "sla.violated" and .data.dedup_key == $a.dedup_key)][0]')
check "store back: the webhook delivery of that alert is an alert.sent event, after the violation" \
  'jq -e --argjson v "$vv" ".seq > \$v.seq and .data.ok == true and .data.http_status == 200 and .data.occurred_ns < .time_ns and \$v.data.occurred_ns <= .data.occurred_ns" <<<"$as" >/dev/null'
req GET /v1/sla "$AT"
check "store back: /v1/sla has the violation's seq filled in" \
  'jq -e --argjson v "$vv" "(.metrics[] | select(.metric == \"availability_percent\") | .state != \"violated\" or .violated_seq == \$v.seq)" <<<"$body" >/dev/null'
check "store back: sla_events_dropped_total is 0 and promtool check metrics passes" \
  '[ "$(metric lighthouse_bridge_sla_events_dropped_total)" = 0 ] && curl -s "$URL/metrics" | promtool check metrics >/dev/null 2>&1'
kill -TERM "$PID"; wait "$PID"; rc=$?
check "the third bridge stops cleanly (exit 0)" '[ $rc = 0 ]'
check "lighthouse events verify passes on its log" '"$LH" events verify --data "$DATA" >/dev/null 2>&1'
grep -h "SLA" "$T/three.err" | grep -v '"msg"' | head -6 | sed 's/^/# /'

# ---- bad settings get a clear error ----------------------------------------------------
for bad in 'sla_p99_response_time_ms: -5' 'sla_window_s: 0' 'sla_p95_response_time_ms: 100' 'sla_availability_percent_severity: huge' \
           'alert_webhook_url: ftp://example.com/x' 'alert_retries: 11'; do
  printf '%s\n' "$bad" > "$T/bad.yaml"
  out=$("$LH" serve --config "$T/bad.yaml" --listen 127.0.0.1:0 --data "$T/bad" 2>&1 >/dev/null); rc=$?
  check "config '$bad' stops the start with exit 2 and names the key" \
    '[ $rc = 2 ] && grep -q "${bad%%:*}" <<<"$out"'
done
printf 'sla_p95_response_time_ms: 100\n' > "$T/bad.yaml"
out=$("$LH" serve --config "$T/bad.yaml" --listen 127.0.0.1:0 --data "$T/bad" 2>&1 >/dev/null)
check "an unknown SLA key: the whole message, up to where to read more (no truncation)" \
  'grep -q "see docs/configuration.md)" <<<"$out"'
done_testing

#!/usr/bin/env bash
# sla_evidence.sh — nobody may trip a rollback: a rollback needs evidence against the
# revision itself (docs/sla.md, "Outcomes" and "Evidence").
#
# Scenario 1: an attacker agent floods the decision routes with bad input (control
# characters in the session, malformed JSON, missing fields, wrong methods) and resets
# connections, while a well-behaved agent works, right after a new revision was pushed
# (so a rollback target is in its canary window). Every bad request is a client error:
# availability stays 100, the error rate 0, nothing is violated, nothing is rolled back,
# and /ready stays true.
# Scenario 2: the bridge restarts while a revision is in its canary window (pushed by a
# SIGHUP reload of the policy file). The window resumes from the events, and a slow
# revision is still rolled back to the one before it.
# (The store outage, alert and no rollback, is scenario 3 of sla_rollback.sh; a slow
# policy rolled back within its window is its scenario 1.) Checks depend on the order of
# events and on counts, never on how fast the machine is; the waits are upper bounds.
# Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"

cat > "$T/base.yaml" <<'Y'
version: 1
revision: ev-base
rules:
  - id: test.no-forbidden
    action: deny
    risk: high
    reason: forbidden-cmd is not allowed here
    match: {program: forbidden-cmd}
Y
sed 's/^revision: ev-base/revision: ev-new/' "$T/base.yaml" > "$T/new.yaml"
printf '  - id: test.no-other\n    action: deny\n    risk: high\n    reason: other-cmd is not allowed\n    match: {program: other-cmd}\n' >> "$T/new.yaml"
# The slow revision of sla_rollback.sh: backtracking regexes, slow through the real engine.
{
  printf 'version: 1\nrevision: ev-slow\nrules:\n'
  for i in $(seq 200); do
    printf '  - id: audit.ident-%d\n    action: allow\n    risk: low\n    reason: audit rule %d\n    match: {regex: '"'"'([a-z_]|\\w)+$'"'"'}\n' "$i" "$i"
  done
} > "$T/slow.yaml"
SLOWCMD=run_the_nightly_build_for_module_number_seventeen_of_the_pipeline_now_please

metric() { curl -s "$URL/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
events() { curl -s -H "Authorization: Bearer $AT" "$URL/v1/events?type=$1&limit=1000" | jq -c '.events'; }
slaj() { curl -s -H "Authorization: Bearer $AT" "$URL/v1/sla"; }
mval() { slaj | jq -r --arg m "$1" '.metrics[] | select(.metric == $m) | .value'; }
wait_until() { local end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do eval "$2" && return 0; sleep 0.2; done; return 1; }

# good NAME TOKEN [CMD]: one agent sends valid decisions in a loop until $T/NAME.stop exists.
declare -A GOODPIDS
good() {
  local name=$1 tok=$2 cmd=${3:-ls}
  rm -f "$T/$name.stop" "$T/$name.n"
  (
    i=0
    while [ ! -e "$T/$name.stop" ]; do
      i=$((i+1))
      printf '{"tool":"Bash","input":{"command":"echo %s %d"},"cwd":"/tmp/p","session":"s-%s"}' "$cmd" "$i" "$name" > "$T/$name.json"
      curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary "@$T/$name.json" "$URL/v1/validate"
      echo >> "$T/$name.n"
    done
  ) &
  GOODPIDS[$name]=$!
}
stop_good() { local x; for x in "$@"; do touch "$T/$x.stop"; done; for x in "$@"; do wait "${GOODPIDS[$x]}"; done; }
count() { [ -f "$T/$1.n" ] && wc -l < "$T/$1.n" || echo 0; }

# ---- scenario 1: an attacker floods bad input during a canary window -----------------------
cat > "$T/sla1.yaml" <<'Y'
rate_limit: 0
sla_window_s: 3
sla_eval_interval_s: 0.25
sla_resolve_hold_s: 1
sla_canary_window_s: 600
sla_min_requests: 5
sla_rollback_min_requests: 5
sla_availability_percent_grace_s: 0.5
sla_error_rate_percent_grace_s: 0.5
sla_p99_response_time_ms: off
sla_compliance_rate: off
sla_avg_response_time_ms: off
sla_cpu_utilization_percent: off
Y
start_bridge one --config "$T/sla1.yaml" --policy "$T/base.yaml" || { fail "bridge starts"; exit 1; }
AT=$(token admin-1 admin); GT=$(token good-agent builder); XT=$(token attacker builder)
ok "bridge starts ($URL)"
good g1 "$GT"
wait_until 60 '[ "$(count g1)" -ge 10 ]'
req POST /v1/policy "$AT" application/yaml "$T/new.yaml"
check "a new revision (ev-new) is pushed: its canary window begins" '[ "$code" = 200 ]'

hp=${URL#http://}
python3 - "${hp%:*}" "${hp##*:}" "$XT" "$T/attack.n" <<'P' &
import http.client, json, socket, struct, sys
host, port, tok, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ok = {"tool": "Bash", "input": {"command": "ls"}, "cwd": "/tmp/p"}
bodies = [
    json.dumps(dict(ok, session="evil\u0007bell")),
    json.dumps(dict(ok, session="x" * 300)),
    json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"},
                "cwd": "/tmp/p", "session_id": "\u001b[2J"}),
    '{"tool":"Bash","input":{"command":"ls"}',
    json.dumps({"tool": "Bash", "input": {"command": "ls"}}),
    "[]",
]
routes = ["/v1/validate", "/v1/hooks/claude-code", "/v1/validate"]
n = bad = 0
c = http.client.HTTPConnection(host, port, timeout=30)
h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
for i in range(400):
    if i % 40 == 39:   # a reset before the reply, now and then
        s = socket.create_connection((host, port))
        s.sendall(b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"to")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        continue
    method = "GET" if i % 25 == 24 else "POST"
    c.request(method, routes[i % len(routes)], body=bodies[i % len(bodies)] if method == "POST" else None, headers=h)
    r = c.getresponse()
    r.read()
    if r.status < 400 or r.status >= 500:
        print("unexpected %d" % r.status, file=sys.stderr)
        bad += 1
    n += 1
    if n % 20 == 0:
        open(out, "w").write(str(n))
open(out, "w").write(str(n))
sys.exit(1 if bad else 0)
P
ATTACK=$!
# While the flood runs: once the window holds the attacker's requests and the good
# agent's, the request metrics have values, and they are the good agent's alone.
wait_until 120 '[ "$(cat "$T/attack.n" 2>/dev/null || echo 0)" -ge 200 ]'
s1=$(slaj)
check "during the flood: error_rate_percent is 0 and availability_percent 100 (client errors are not the bridge's)" \
  'jq -e "all(.metrics[] | select(.metric == \"error_rate_percent\"); (.value == null or .value == 0) and .state != \"breaching\" and .state != \"violated\") and all(.metrics[] | select(.metric == \"availability_percent\"); (.value == null or .value == 100) and .state != \"breaching\" and .state != \"violated\")" <<<"$s1" >/dev/null'
wait "$ATTACK"; arc=$?
check "the attacker's 390 bad requests were all answered 4xx (never 5xx)" '[ $arc = 0 ] && [ "$(cat "$T/attack.n")" = 390 ]'
n0=$(count g1)
wait_until 60 '[ "$(count g1)" -ge $((n0 + 10)) ]'
stop_good g1
check "the attacker's requests are client errors on the decision routes" \
  '[ "$(metric "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"client_error\"}")" -ge 200 ]'
check "... and no request was a server fault, resets included (bridge_matrix.sh counts the resets)" \
  '[ "$(metric "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"server_fault\"}")" = 0 ] && [ "$(metric "lighthouse_bridge_outcomes_total{route=\"/v1/hooks/claude-code\",class=\"server_fault\"}")" = 0 ]'
check "no SLA violation was raised (no sla.violated event, no critical alert)" \
  '[ "$(events sla.violated | jq length)" = 0 ] && [ "$(events alert.sent | jq "[.[] | select(.data.alert == \"sla.violated\")] | length")" = 0 ]'
check "no rollback: ev-new is still active, rollbacks_total{trigger=sla,result=triggered} 0" \
  '[ "$(slaj | jq -r "[.revisions[] | select(.active)][0].revision")" = ev-new ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"triggered\"}")" = 0 ]'
check "/ready is still 200" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/ready")" = 200 ]'
kill -TERM "$PID"; wait "$PID"

# ---- scenario 2: a restart inside the canary window resumes it, from the events ----------------
cat > "$T/sla2.yaml" <<'Y'
rate_limit: 0
sla_window_s: 3
sla_eval_interval_s: 0.25
sla_resolve_hold_s: 1
sla_canary_window_s: 600
sla_min_requests: 1
sla_rollback_min_requests: 3
sla_p99_response_time_ms_grace_s: 1
sla_compliance_rate_grace_s: 1
sla_avg_response_time_ms_grace_s: 1
Y
cp "$T/base.yaml" "$T/p.yaml"
start_bridge two --config "$T/sla2.yaml" --policy "$T/p.yaml" || { fail "second bridge starts"; exit 1; }
AT=$(token admin-2 admin); GT=$(token good-2 builder); GT2=$(token good-2b builder)
good g2 "$GT"
wait_until 60 '[ "$(count g2)" -ge 10 ]'
stop_good g2
cp "$T/slow.yaml" "$T/p.yaml"
kill -HUP "$PID"
wait_until 60 '[ "$(events policy.activated | jq "[.[] | select(.data.revision == \"ev-slow\")] | length")" -ge 1 ]'
check "SIGHUP with a changed file: ev-slow is active, in its canary window" \
  '[ "$(slaj | jq -r "[.revisions[] | select(.active)][0] | \"\(.revision) \(.in_canary)\"")" = "ev-slow true" ]'
kill -TERM "$PID"; wait "$PID"
D2=$DATA
"$LH" serve --listen 127.0.0.1:0 --data "$D2" --config "$T/sla2.yaml" --policy "$T/p.yaml" >"$T/two-b.out" 2>"$T/two-b.err" &
PID=$!; BRIDGES+=("$PID"); URL=
for _ in $(seq 200); do URL=$(grep -o 'http://[0-9.:]*' "$T/two-b.out" 2>/dev/null | head -1); [ -n "$URL" ] && break; sleep 0.05; done
check "the bridge restarts on the same data with the same file (ev-slow)" '[ -n "$URL" ]'
s2=$(slaj); body=$(jq -c .revisions <<<"$s2")
check "after the restart ev-slow is still in its canary window (not trusted as a start revision), ev-base below it" \
  'jq -e "[.revisions[] | .revision] == [\"ev-slow\", \"ev-base\"] and ([.revisions[] | select(.active)][0] | .in_canary == true and .known_good == false) and ([.revisions[] | select(.revision == \"ev-base\")][0].known_good == true)" <<<"$s2" >/dev/null'
check "... the bridge says its window resumed, from the events" 'grep -q "ev-slow resumes its canary window" "$T/two-b.err"'
# Two agents: one agent alone never rolls back (scenario 3).
good g3 "$GT" "$SLOWCMD"
good g4 "$GT2" "$SLOWCMD"
wait_until 120 '[ "$(events policy.rolled_back | jq length)" -ge 1 ]'
stop_good g3 g4
rb=$(events policy.rolled_back | jq -c '.[0]')
check "the slow revision is rolled back to ev-base after the restart (trigger sla)" \
  'jq -e ".data.trigger == \"sla\" and .data.from == \"ev-slow\" and .data.revision == \"ev-base\"" <<<"$rb" >/dev/null'
v=$(events sla.violated | jq -c --argjson s "$(jq .data.violation.seq <<<"$rb")" '[.[] | select(.seq == $s)][0]')
check "... for a violation of ev-slow's own" 'jq -e ".data.revision == \"ev-slow\" and .data.rollback == true" <<<"$v" >/dev/null'
check "... and the evidence is named in the action (against the threshold: no figures of ev-base in this run)" \
  'slaj | jq -e ".last_rollback.ok == true" >/dev/null && grep -q "evidence: revision ev-slow" "$T/two-b.err"'
kill -TERM "$PID"; wait "$PID"

# Scenario 3 measures latencies against a 250 ms objective: on a busy machine (and always
# under ASan) the normal agents' own decisions cross it beside mallory's, and the figures
# no longer show one agent alone (it failed so in make test and in make check). The rule
# itself is tested in test_sla (one_agent_alone_is_no_evidence, other_is_never_left_out);
# the end-to-end run is opt-in: LH_SLA_TIMING=1 on a quiet machine, normal build.
if [ "${LH_SLA_TIMING:-}" != 1 ] || [ -n "$SANITIZED" ]; then
  skip "scenario 3: one slow agent alone never rolls back" "depends on the machine's speed: set LH_SLA_TIMING=1 on a quiet machine (normal build)"
  done_testing
  exit 0
fi

# ---- scenario 3: one agent (mallory) makes its own decisions slow ----------------------------
# mallory sends valid commands that are slow under the active revision (a long identifier
# makes ev-slow3's 400 backtracking regexes work to PCRE2's match limit: about 0.6 s a
# decision), while alice and bob work normally (a few ms; the objectives are 250 ms, so a
# busy machine's stalls do not make theirs slow). One loop sends, in turn, one request of mallory's and 6 each of alice's
# and bob's: the mix (1 in 13 slow) is fixed by the order of requests, not by how fast
# each one is, and mallory's slow decisions never run beside theirs. p99 and compliance
# are violated by mallory's requests; without mallory they are inside: the violation
# names mallory, alerts (major, never critical) and never rolls back (docs/sla.md,
# "Per agent").
start_webhook
cat > "$T/sla3.yaml" <<Y
alert_webhook_url: $HOOKURL
alert_retries: 2
alert_backoff_ms: 50
rate_limit: 0
sla_window_s: 10
sla_eval_interval_s: 0.25
sla_resolve_hold_s: 1
sla_canary_window_s: 600
sla_min_requests: 5
sla_rollback_min_requests: 100
sla_p99_response_time_ms: 250
sla_latency_target_ms: 250
sla_p99_response_time_ms_grace_s: 0.5
sla_compliance_rate_grace_s: 0.5
sla_avg_response_time_ms: off
sla_cpu_utilization_percent: off
Y
{
  printf 'version: 1\nrevision: ev-slow3\nrules:\n'
  for i in $(seq 400); do
    printf '  - id: audit.ident-%d\n    action: allow\n    risk: low\n    reason: audit rule %d\n    match: {regex: '"'"'([a-z_]|\\w)+$'"'"'}\n' "$i" "$i"
  done
} > "$T/slow3.yaml"
start_bridge three --config "$T/sla3.yaml" --policy "$T/base.yaml" || { fail "third bridge starts"; exit 1; }
AT=$(token admin-3 admin); ALT=$(token alice builder); BOT=$(token bob builder); MAT=$(token mallory builder)
# send NAME TOKEN CMD: one decision; counted in $T/NAME.n.
send() {
  printf '{"tool":"Bash","input":{"command":"echo %s %d"},"cwd":"/tmp/p","session":"s-%s"}' "$3" "$(count "$1")" "$1" > "$T/mix.json"
  curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    --data-binary "@$T/mix.json" "$URL/v1/validate"
  echo >> "$T/$1.n"
}
# mix: until $T/mix.stop exists, one of mallory's slow requests, then 6 of alice's and bob's.
mix() {
  rm -f "$T/mix.stop"
  ( while [ ! -e "$T/mix.stop" ]; do
      send mallory "$MAT" "$SLOWCMD"
      for _ in 1 2 3 4 5 6; do send alice "$ALT" ls; send bob "$BOT" ls; done
    done ) &
  MIXPID=$!
}
for _ in $(seq 10); do send alice "$ALT" ls; send bob "$BOT" ls; done   # ev-base's figures
req POST /v1/policy "$AT" application/yaml "$T/slow3.yaml"
check "third bridge: ev-slow3 is pushed, its canary window begins (ev-base below it)" '[ "$code" = 200 ]'
mix
p99v() { events sla.violated | jq -c '[.[] | select(.data.metric == "p99_response_time_ms")][0] // empty'; }
wait_until 180 '[ -n "$(p99v)" ]'
# The rollback decision is taken before sla.violated is recorded; while the violation
# waits for evidence (100 of ev-slow3's own requests) it is re-checked on every tick. Let
# the three send 130 more requests (10 rounds) and look again.
m0=$(count mallory)
wait_until 300 '[ "$(count mallory)" -ge $((m0 + 10)) ]'
# /v1/sla while the violation lasts (a window without one of mallory's slow requests may
# resolve it for a moment: wait for it to show).
s3ok() { s3=$(slaj); jq -e "[.metrics[] | select(.state == \"violated\")] | length >= 1 and all(.[]; .one_agent == \"mallory\" and .agents[0].agent == \"mallory\" and (.action | test(\"one agent alone: without agent mallory\")))" <<<"$s3" >/dev/null; }
wait_until 120 s3ok; r3=$?
touch "$T/mix.stop"; wait "$MIXPID"
v=$(p99v)
body=$v
check "p99 is violated, and the violation names mallory: one agent alone, the top contributor" \
  'jq -e ".data.revision == \"ev-slow3\" and .data.one_agent == \"mallory\" and .data.agents[0].agent == \"mallory\" and .data.agents[0].share > 0.5 and (.data.action | startswith(\"no rollback yet\"))" <<<"$v" >/dev/null'
body=$s3
check "/v1/sla names mallory while violated: agents, one_agent, and the action says one agent alone" \
  '[ $r3 = 0 ]'
body=$(events policy.rolled_back)
check "no rollback: no policy.rolled_back, ev-slow3 still active, rollbacks_total{trigger=sla,result=triggered} 0" \
  '[ "$(jq length <<<"$body")" = 0 ] && [ "$(slaj | jq -r "[.revisions[] | select(.active)][0].revision")" = ev-slow3 ] && [ "$(metric "lighthouse_bridge_rollbacks_total{trigger=\"sla\",result=\"triggered\"}")" = 0 ]'
wait_until 30 '[ "$(hooks | jq "[.[] | select(.event == \"sla.violated\" and .metric == \"p99_response_time_ms\")] | length")" -ge 1 ]'
body=$(hooks)
check "the webhook got the p99 alert: major, its summary names mallory as the one agent" \
  'jq -e "[.[] | select(.event == \"sla.violated\" and .metric == \"p99_response_time_ms\")][0] | .severity == \"major\" and (.summary | test(\"one agent alone: mallory; agents: mallory [0-9]+%\"))" <<<"$body" >/dev/null'
check "... and no alert is critical" 'jq -e "all(.[]; .severity != \"critical\")" <<<"$body" >/dev/null'
done_testing

#!/usr/bin/env bash
# bridge_api.sh — every route of the real bridge over real HTTP: a decision for every
# tool type, the Claude Code payload through the http route and through the command hook
# (LIGHTHOUSE_URL, TCP and unix socket), the OPA route, paging events, SSE receiving new
# decisions, pushing a policy then rolling it back, SIGHUP reload, /metrics through
# promtool, and a graceful SIGTERM with requests in flight losing none. Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"

cat > "$T/policy.yaml" <<'Y'
version: 1
revision: test-base
rules:
  - id: test.no-forbidden
    action: deny
    risk: high
    reason: forbidden-cmd is not allowed here
    match: {program: forbidden-cmd}
Y
start_bridge api --policy "$T/policy.yaml" || { fail "bridge starts"; exit 1; }
ok "bridge starts and prints where it listens ($URL)"
check "it prints where its data is and how to create a token" \
  'grep -q "data: $DATA" "$T/api.out" && grep -q "lighthouse token create" "$T/api.out"'
BT=$(token builder-1 builder); ET=$(token expert-1 expert); AT=$(token admin-1 admin)
check "token create prints only the token" '[[ "$BT" =~ ^lh1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]'

req GET /health ""; check "GET /health is open and 200" '[ "$code" = 200 ] && jq -e .status <<<"$body" >/dev/null'
req GET /ready ""; check "GET /ready is open and ready" '[ "$code" = 200 ] && [ "$(jq -r .ready <<<"$body")" = true ]'

# ---- a decision for every tool type ------------------------------------------------
last=0
for spec in \
  'Bash|{"command":"ls -la"}' \
  'Write|{"file_path":"/tmp/p/a.txt","content":"hi"}' \
  'Edit|{"file_path":"/tmp/p/a.txt","old_string":"a","new_string":"b"}' \
  'MultiEdit|{"file_path":"/tmp/p/a.txt","edits":[{"old_string":"a","new_string":"b"}]}' \
  'NotebookEdit|{"notebook_path":"/tmp/p/n.ipynb","new_source":"x"}' \
  'Read|{"file_path":"/tmp/p/a.txt"}' \
  'Glob|{"pattern":"**/*.c","path":"/tmp/p"}' \
  'Grep|{"pattern":"TODO","path":"/tmp/p"}' \
  'LS|{"path":"/tmp/p"}' \
  'WebFetch|{"url":"https://example.com","prompt":"x"}' \
  'WebSearch|{"query":"lighthouse"}' \
  'mcp__github__get_issue|{"owner":"o","repo":"r","issue_number":1}' \
  'SomeUnknownTool|{"x":1}'; do
  tool=${spec%%|*}; input=${spec#*|}
  post_json /v1/validate "$BT" "{\"tool\":\"$tool\",\"input\":$input,\"cwd\":\"/tmp/p\",\"session\":\"s-api\"}"
  seq=$(jq -r '.seq // 0' <<<"$body" 2>/dev/null)
  check "validate $tool: 200, a decision, a seq after the last one" \
    '[ "$code" = 200 ] && jq -e ".decision | test(\"^(allow|deny|escalate)$\")" <<<"$body" >/dev/null && [ "$seq" -gt "$last" ]'
  [ "$seq" -gt "$last" ] 2>/dev/null && last=$seq
done
post_json /v1/validate "$BT" '{"tool":"SomeUnknownTool","input":{},"cwd":"/tmp/p"}'
check "an unknown tool escalates by default" '[ "$(jq -r .decision <<<"$body")" = escalate ]'
post_json /v1/validate "$BT" '{"tool":"Bash","input":{"command":"forbidden-cmd --now"},"cwd":"/tmp/p","agent":"mallory"}'
dseq=$(jq -r .seq <<<"$body"); did=$(jq -r .id <<<"$body")
check "the operator's rule denies, naming the rule and the revision" \
  '[ "$(jq -r .decision <<<"$body")" = deny ] && [ "$(jq -r .rule <<<"$body")" = test.no-forbidden ] && [ "$(jq -r .policy_revision <<<"$body")" = test-base ]'
req GET "/v1/events?after=$((dseq-1))&limit=1" "$ET"
check "the decision is in the audit log under its seq, with the same id" \
  '[ "$(jq -r ".events[0].seq" <<<"$body")" = "$dseq" ] && [ "$(jq -r ".events[0].id" <<<"$body")" = "$did" ] && [ "$(jq -r ".events[0].type" <<<"$body")" = decision.made ] && [ "$(jq -r ".events[0].data.decision.decision" <<<"$body")" = deny ]'
evs=$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/events?limit=1000")
check "one event id format everywhere: the decision's id and the store's own (system.started, policy.activated) are UUIDv7" \
  'jq -e --arg d "$did" "(\$d | test(\"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$\")) and all(.events[]; .id | test(\"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$\")) and ([.events[].type] | index(\"system.started\") != null)" <<<"$evs" >/dev/null'
check "the agent recorded is the token's (builder-1), not the body's (mallory)" \
  '[ "$(jq -r ".events[0].agent" <<<"$body")" = builder-1 ]'

# ---- Claude Code payload: http route and command hook -------------------------------
payload() { printf '{"session_id":"s-cc","transcript_path":"/tmp/t.jsonl","cwd":"/tmp/p","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"%s"},"tool_use_id":"t1"}' "$1"; }
payload "forbidden-cmd" > "$T/cc.json"
req POST /v1/hooks/claude-code "$BT" application/json "$T/cc.json"
check "http hook route: a Claude Code payload gets PreToolUse output (deny)" \
  '[ "$code" = 200 ] && [ "$(jq -r .hookSpecificOutput.hookEventName <<<"$body")" = PreToolUse ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$body")" = deny ]'
payload "ls" > "$T/cc2.json"
req POST /v1/hooks/claude-code "$BT" application/json "$T/cc2.json"
check "http hook route: an allowed call gets {} (no opinion: the user's permission settings apply)" '[ "$code" = 200 ] && [ "$body" = "{}" ]'
printf '{"session_id":"s","cwd":"/tmp","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{}}' > "$T/post.json"
req POST /v1/hooks/claude-code "$BT" application/json "$T/post.json"
check "http hook route: PostToolUse is accepted with {}" '[ "$code" = 200 ] && [ "$body" = "{}" ]'

head_seq() { req GET "/v1/events?after=0&limit=1000" "$ET"; jq -r '[.events[].seq] | max' <<<"$body"; }
h0=$(head_seq)
out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$HOOK" pre-tool-use < "$T/cc.json"); rc=$?
h1=$(head_seq)
check "command hook with LIGHTHOUSE_URL: exit 0, deny, decided by the bridge (new event)" \
  '[ $rc = 0 ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" = deny ] && [ "$h1" -gt "$h0" ] && ! grep -q "decided locally" <<<"$out"'
req GET "/v1/events?after=$h0&type=decision.made" "$ET"
check "the hook's decision is recorded with the token's agent and the session" \
  '[ "$(jq -r ".events[0].agent" <<<"$body")" = builder-1 ] && [ "$(jq -r ".events[0].data.session" <<<"$body")" = s-cc ]'
out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$HOOK" pre-tool-use < "$T/cc2.json" 2>"$T/herr"); rc=$?
check "command hook with LIGHTHOUSE_URL: ls gets no output (no opinion), decided by the bridge" '[ $rc = 0 ] && [ -z "$out" ] && ! grep -q "decided locally" "$T/herr"'
out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" LIGHTHOUSE_HOOK_ALLOW=approve "$HOOK" pre-tool-use < "$T/cc2.json" 2>"$T/herr"); rc=$?
check "command hook, LIGHTHOUSE_HOOK_ALLOW=approve, a bridge with the default: still no output (the bridge said {})" '[ $rc = 0 ] && [ -z "$out" ] && ! grep -q "decided locally" "$T/herr"'
out=$(LIGHTHOUSE_URL="http://127.0.0.1:1" LIGHTHOUSE_TOKEN="$BT" LIGHTHOUSE_HOOK_ALLOW=approve "$HOOK" pre-tool-use < "$T/cc2.json"); rc=$?
check "bridge unreachable: falls back to the local engine and says so" \
  '[ $rc = 0 ] && jq -e ".hookSpecificOutput.permissionDecisionReason | test(\"decided locally\")" <<<"$out" >/dev/null'
out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="not-a-token" "$HOOK" pre-tool-use < "$T/cc2.json" 2>"$T/herr"); rc=$?
check "bridge refuses the token (401): a configuration error, blocks (exit 2) with the bridge's message and the fix" \
  '[ $rc = 2 ] && [ -z "$out" ] && grep -q "401" "$T/herr" && grep -q "Fix: set LIGHTHOUSE_TOKEN" "$T/herr"'
out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" "$HOOK" pre-tool-use < "$T/cc2.json" 2>"$T/herr"); rc=$?
check "a token whose role may not use the hook route (403): blocks (exit 2), says a builder token is needed" \
  '[ $rc = 2 ] && [ -z "$out" ] && grep -q "403" "$T/herr" && grep -q "builder token" "$T/herr"'
LIGHTHOUSE_URL="http://127.0.0.1:1" LIGHTHOUSE_REQUIRE_BRIDGE=1 "$HOOK" pre-tool-use < "$T/cc2.json" >/dev/null 2>"$T/herr"; rc=$?
check "LIGHTHOUSE_REQUIRE_BRIDGE=1 and no bridge: exit 2 (blocks) with the reason on stderr" '[ $rc = 2 ] && grep -q bridge "$T/herr"'
LIGHTHOUSE_URL="http://127.0.0.1:1" LIGHTHOUSE_REQUIRE_BRIDGE=1 LIGHTHOUSE_FAIL_OPEN=1 "$HOOK" pre-tool-use < "$T/cc2.json" >/dev/null 2>&1; rc=$?
check "LIGHTHOUSE_REQUIRE_BRIDGE=1 with LIGHTHOUSE_FAIL_OPEN=1: exit 0" '[ $rc = 0 ]'
# Something else answers at LIGHTHOUSE_URL (a web server's 200): its body is never
# passed on as the hook's decision (it is not signed: hook_trust.sh has the impostors).
python3 - "$T/other.port" <<'PY' &
import http.server, socketserver, sys, threading, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"decision":"allow"}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
threading.Timer(60, srv.shutdown).start()   # killed once used; 60 s only if the test dies
srv.serve_forever()
PY
other=$!
wait_for '[ -s "$T/other.port" ]'
payload "forbidden-cmd" > "$T/cc3.json"
out=$(LIGHTHOUSE_URL="http://127.0.0.1:$(cat "$T/other.port")" LIGHTHOUSE_TOKEN="$BT" LIGHTHOUSE_HOOK_ALLOW=approve "$HOOK" pre-tool-use < "$T/cc3.json"); rc=$?
check "a 200 that is not hook output is not passed on: the hook decides locally and says why" \
  '[ $rc = 0 ] && jq -e ".hookSpecificOutput.permissionDecisionReason | test(\"unsigned.*not trusted\")" <<<"$out" >/dev/null'
kill $other 2>/dev/null; wait $other 2>/dev/null

# A "bridge" that accepts and never answers: the hook gives up at LIGHTHOUSE_TIMEOUT_MS.
python3 - "$T/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(0.2)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
PY
silent=$!
wait_for '[ -s "$T/silent.port" ]'
t0=$(date +%s%N)
out=$(LIGHTHOUSE_URL="http://127.0.0.1:$(cat "$T/silent.port")" LIGHTHOUSE_TOKEN="$BT" LIGHTHOUSE_TIMEOUT_MS=300 LIGHTHOUSE_HOOK_ALLOW=approve "$HOOK" pre-tool-use < "$T/cc2.json"); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a bridge that never answers: the hook gives up after LIGHTHOUSE_TIMEOUT_MS and decides locally (${ms} ms)" \
  '[ $rc = 0 ] && jq -e ".hookSpecificOutput.permissionDecisionReason | test(\"no reply within 300 ms\")" <<<"$out" >/dev/null'
kill $silent 2>/dev/null; wait $silent 2>/dev/null
check "lighthouse-hook links none of the bridge's libraries" \
  'ldd "$HOOK" >"$T/hook.ldd" 2>&1 && grep -q "libc\.so" "$T/hook.ldd" && ! grep -Eq "libcurl|libmicrohttpd|libcrypto|libsqlite3|libpq" "$T/hook.ldd"'

# ---- OPA-shaped route --------------------------------------------------------------
post_json /v1/data/lighthouse/decision "$BT" '{"input":{"tool":"Bash","input":{"command":"forbidden-cmd"},"cwd":"/tmp/p"}}'
check "OPA route: {input} → {result: decision with seq}" \
  '[ "$code" = 200 ] && [ "$(jq -r .result.decision <<<"$body")" = deny ] && jq -e ".result.seq > 0" <<<"$body" >/dev/null'
post_json /v1/data/lighthouse/decision "$BT" '{"tool":"Bash","input":{"command":"ls"}}'
check "OPA route without input: 400" '[ "$code" = 400 ] && is_error bad_request'

# ---- paging events -----------------------------------------------------------------
req GET "/v1/events?type=decision.made&limit=1000" "$ET"; all=$(jq -c '[.events[].seq]' <<<"$body")
pages='[]'; after=0
for _ in $(seq 50); do
  req GET "/v1/events?type=decision.made&limit=3&after=$after" "$ET"
  cnt=$(jq '.events | length' <<<"$body"); [ "$cnt" -eq 0 ] && break
  pages=$(jq -c --argjson a "$pages" '$a + [.events[].seq]' <<<"$body"); after=$(jq .next_after <<<"$body")
done
check "paging by 3 with after= returns every decision once, in seq order" \
  '[ "$pages" = "$all" ] && [ "$(jq length <<<"$all")" -ge 15 ]'
req GET "/v1/events?agent=nobody" "$ET"; check "agent filter: no events for an unknown agent" '[ "$(jq ".events | length" <<<"$body")" = 0 ]'
req GET "/v1/events?limit=0" "$ET"; check "limit=0 is a 400" '[ "$code" = 400 ] && is_error bad_request'

# ---- SSE ---------------------------------------------------------------------------
curl -sN --max-time 8 -H "Authorization: Bearer $ET" "$URL/v1/events/stream" > "$T/sse" 2>/dev/null &
sse=$!
wait_for 'grep -q "event stream" "$T/sse"'
post_json /v1/validate "$BT" '{"tool":"Bash","input":{"command":"echo sse-marker"},"cwd":"/tmp/p"}'
sseq=$(jq -r .seq <<<"$body")
check "SSE: the stream receives the new decision with its seq" 'wait_for "grep -q \"^id: $sseq\$\" \"$T/sse\"" && grep -q "sse-marker" "$T/sse"'
kill $sse 2>/dev/null; wait $sse 2>/dev/null
curl -sN --max-time 2 -H "Authorization: Bearer $ET" "$URL/v1/events/stream?after=$((sseq-1))" > "$T/sse2" 2>/dev/null
check "SSE with after= replays from that seq" 'grep -q "^id: $sseq\$" "$T/sse2"'

# ---- policy push, history, rollback --------------------------------------------------
cat > "$T/p2.yaml" <<'Y'
version: 1
revision: test-strict
rules:
  - id: test.no-ls
    action: deny
    reason: ls is off today
    match: {program: ls}
Y
req POST /v1/policy "$AT" application/yaml "$T/p2.yaml"
check "admin pushes a policy: 200 with the new revision and its event seq" \
  '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = test-strict ] && [ "$(jq -r .previous <<<"$body")" = test-base ]'
post_json /v1/validate "$BT" '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp/p"}'
check "the pushed policy decides at once" '[ "$(jq -r .rule <<<"$body")" = test.no-ls ] && [ "$(jq -r .policy_revision <<<"$body")" = test-strict ]'
printf 'rules: [[[' > "$T/bad.yaml"; req POST /v1/policy "$AT" application/yaml "$T/bad.yaml"
check "an invalid policy is refused (400) and the active one stays" '[ "$code" = 400 ] && is_error invalid_policy'
req GET /v1/policy/history "$ET"
check "history lists both revisions, newest first" \
  '[ "$(jq -r .active <<<"$body")" = test-strict ] && [ "$(jq -r ".history[0].revision" <<<"$body")" = test-strict ] && jq -e "[.history[].revision] | index(\"test-base\")" <<<"$body" >/dev/null'
req POST /v1/policy/rollback "$AT"
check "rollback (empty body) returns to the previous revision" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = test-base ]'
post_json /v1/validate "$BT" '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp/p"}'
check "after rollback the old policy decides again" '[ "$(jq -r .policy_revision <<<"$body")" = test-base ] && [ "$(jq -r .rule <<<"$body")" != test.no-ls ]'
post_json /v1/policy/rollback "$AT" '{"revision":"test-strict"}'
check "rollback to a named revision" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = test-strict ]'
post_json /v1/policy/rollback "$AT" '{"revision":"no-such"}'
check "rollback to an unknown revision: 404" '[ "$code" = 404 ] && is_error not_found'
req GET "/v1/events?type=policy.*&limit=100" "$ET"
check "policy changes are events (policy.activated, policy.rolled_back)" \
  'jq -e "[.events[].type] | index(\"policy.rolled_back\") and index(\"policy.activated\")" <<<"$body" >/dev/null'

# ---- status and metrics --------------------------------------------------------------
req GET /v1/status "$ET"
check "status: version, uptime, policy revision, store" \
  '[ "$code" = 200 ] && jq -e ".version and (.uptime_s >= 0) and .policy_revision == \"test-strict\" and .store.backend == \"sqlite\" and .store.head_seq > 0" <<<"$body" >/dev/null'
req GET /metrics ""
check "GET /metrics is open and Prometheus text" '[ "$code" = 200 ] && grep -q "^# TYPE lighthouse_bridge_requests_total counter" "$T/body"'
check "promtool check metrics passes" 'promtool check metrics < "$T/body" >"$T/promtool" 2>&1 || { sed "s/^/#   /" "$T/promtool"; false; }'
missing=""
for m in requests_total request_duration_seconds_bucket errors_total speed_layer_validation_duration_seconds_bucket \
         speed_layer_cache_hits_total speed_layer_cache_requests_total decisions_total expert_escalations_total \
         event_store_appends_total event_store_failures_total event_store_commit_duration_seconds_bucket \
         active_connections active_sessions memory_usage_bytes memory_limit_bytes rollbacks_total policy_revision_info \
         rollback_duration_seconds_count sla_violations_total sla_violation_active sla_threshold \
         fast_path_duration_seconds_bucket fast_path_cpu_seconds_count escalation_cpu_seconds_total; do
  grep -q "^lighthouse_bridge_$m[ {]" "$T/body" || missing="$missing $m"
done
for m in process_start_time_seconds process_resident_memory_bytes process_cpu_seconds_total process_open_fds; do
  grep -q "^$m " "$T/body" || missing="$missing $m"
done
check "every covered lighthouse_bridge_* name and process_* series is exported${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
check "requests_total counts validate 200s" \
  '[ "$(awk "/^lighthouse_bridge_requests_total\\{route=\"\\/v1\\/validate\",code=\"200\"\\}/ {print \$2}" "$T/body")" -ge 15 ]'
# The fast path's own histogram counts the allow and deny answers of the decision routes
# (no escalate), so it is above zero and at most their 200s.
fp=$(awk '/^lighthouse_bridge_fast_path_duration_seconds_count / {print $2}' "$T/body")
v200=$(grep -E '^lighthouse_bridge_requests_total\{route="/v1/(validate|hooks/claude-code|data/lighthouse/decision)",code="200"\}' \
       "$T/body" | awk '{n += $2} END {print n + 0}')
check "fast_path_duration_seconds counts the fast-path decisions ($fp of $v200 decision 200s)" \
  '[ "${fp:-0}" -gt 0 ] && [ "$fp" -le "$v200" ]'
check "policy_revision_info names the active revision" 'grep -q "lighthouse_bridge_policy_revision_info{revision=\"test-strict\"} 1" "$T/body"'
check "rollbacks_total counted the successful rollbacks" 'grep -q "lighthouse_bridge_rollbacks_total{trigger=\"api\",result=\"succeeded\"} 2" "$T/body"'

# ---- SIGHUP reloads the policy file --------------------------------------------------
sed -i 's/revision: test-base/revision: test-reloaded/' "$T/policy.yaml"
kill -HUP "$PID"
check "SIGHUP reloads the policy file as a new revision" \
  'wait_for "req GET /v1/status \"$ET\"; [ \"\$(jq -r .policy_revision <<<\"\$body\")\" = test-reloaded ]"'
req GET "/v1/events?type=policy.activated&limit=100" "$ET"
check "the reload is a policy.activated event with source sighup" \
  '[ "$(jq -r "[.events[] | select(.data.source == \"sighup\")][0].data.revision" <<<"$body")" = test-reloaded ]'

# ---- the hook over a unix socket -----------------------------------------------------
SOCK="$T/lh.sock"
"$LH" serve --listen "unix:$SOCK" --data "$T/unixdata" > "$T/unix.out" 2>"$T/unix.err" &
UPID=$!; BRIDGES+=("$UPID")
wait_for '[ -S "$SOCK" ] && grep -q listening "$T/unix.out"'
UT=$(token unix-agent builder "$T/unixdata")
out=$(LIGHTHOUSE_URL="unix:$SOCK" LIGHTHOUSE_TOKEN="$UT" "$HOOK" pre-tool-use < "$T/cc2.json" 2>"$T/herr"); rc=$?
check "command hook over a unix socket: decided by the bridge (its {} for ls: no output, nothing decided locally)" \
  '[ $rc = 0 ] && [ -z "$out" ] && ! grep -q "decided locally" "$T/herr"'
kill -TERM "$UPID"; wait "$UPID"; rc=$?
check "the unix-socket bridge stops with exit 0 and removes its socket" '[ $rc = 0 ] && [ ! -e "$SOCK" ]'

# ---- graceful SIGTERM: requests in flight lose none ----------------------------------
# Start requests whose bodies are only half sent, deliver SIGTERM, then finish them:
# each must still get its decision, recorded before the bridge exits.
port=${URL##*:}
bodyj='{"tool":"Bash","input":{"command":"echo inflight"},"cwd":"/tmp/p"}'
half=$(( ${#bodyj} / 2 ))
for i in 1 2 3 4 5 6 7 8; do
  exec {fd}<>/dev/tcp/127.0.0.1/$port
  printf 'POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$BT" "${#bodyj}" "${bodyj:0:$half}" >&$fd
  eval "fd$i=$fd"
done
# let the bridge take the 8 connections (and the /metrics one), then 0.2 s more to read them
wait_for '[ "$(metric_now lighthouse_bridge_active_connections)" -ge 9 ]'
sleep 0.2
kill -TERM "$PID"
sleep 0.2
for i in 1 2 3 4 5 6 7 8; do eval "fd=\$fd$i"; printf '%s' "${bodyj:$half}" >&$fd; done
got=0; seqs=""
for i in 1 2 3 4 5 6 7 8; do
  eval "fd=\$fd$i"
  resp=$(timeout 10 cat <&$fd); exec {fd}>&-
  if grep -q "^HTTP/1.1 200" <<<"$resp"; then got=$((got+1)); seqs="$seqs $(tail -1 <<<"$resp" | jq -r .seq)"; fi
done
wait "$PID"; rc=$?
check "SIGTERM with 8 requests in flight: all 8 answered 200" '[ $got = 8 ]'
check "the bridge exits 0 after draining" '[ $rc = 0 ]'
check "after a new connection is refused once stopped" '! curl -s --max-time 2 "$URL/health" >/dev/null'
"$LH" events query --data "$DATA" --type decision.made --limit 1000 > "$T/q" 2>&1
allrec=1; for s in $seqs; do grep -q "^$s " "$T/q" || allrec=0; done
check "every in-flight decision is in the store under the seq it was given" '[ $allrec = 1 ] && [ -n "$seqs" ]'
"$LH" events query --data "$DATA" --limit 1000 > "$T/qa" 2>&1
check "system.started and system.stopped are recorded, stopped last" \
  'grep -q "system.started" "$T/qa" && tail -1 "$T/qa" | grep -q "system.stopped"'
check "the audit chain verifies" '"$LH" events verify --data "$DATA" >/dev/null 2>&1'
done_testing

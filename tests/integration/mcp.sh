#!/usr/bin/env bash
# mcp.sh — the MCP server (docs/mcp.md) against a real bridge:
#   1. `lighthouse mcp` on stdio, raw JSON-RPC lines (no node): lifecycle, revision
#      negotiation, the JSON-RPC errors, batches only in 2025-03-26, size bound;
#   2. the bridge's POST /mcp with curl (no node): sessions, headers, tool calls as the caller,
#      and hostile input (bad JSON, a huge body, wrong methods, no token, foreign Origin/Host);
#      a long-poll through /mcp leaves the bridge's one worker free, and a stop answers it;
#   3. the official MCP TypeScript SDK client over stdio calling every tool
#      (tests/mcp/stdio_client.mjs);
#   4. the MCP conformance suite (@modelcontextprotocol/conformance) against /mcp: every
#      scenario that applies to a server with tools and no prompts or resources must pass.
# Parts 3 and 4 need node and tests/mcp's npm packages (installed here with npm ci from the
# committed package-lock.json); without them they skip and say why. Test data that names
# dangerous commands is in tests/mcp/fixtures/ and only ever sent as JSON.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
source "$(dirname "$0")/bridge_lib.bash"
ROOT=${LH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$ROOT/tests/mcp/fixtures"
command -v jq >/dev/null || skip_all "jq is not installed"

# The escalation policy needs the esc branch's policy keys; without them, the default policy.
POLICY=()
if "$LH" policy lint "$FIX/escalate_policy.yaml" >/dev/null 2>&1; then POLICY=(--policy "$FIX/escalate_policy.yaml"); fi
start_bridge main "${POLICY[@]}" || { fail "the bridge starts"; done_testing; exit 1; }
BUILDER=$(token builder-1 builder)
BUILDER2=$(token builder-2 builder)
BUILDER3=$(token builder-3 builder)
EXPERT=$(token expert-1 expert)
EXPERT2=$(token expert-2 expert)
ADMIN=$(token admin-1 admin)

# ---- 1. stdio, raw -----------------------------------------------------------------------
out=$(LIGHTHOUSE_URL=$URL LIGHTHOUSE_TOKEN=$BUILDER "$LH" mcp <"$FIX/stdio_raw.jsonl" 2>"$T/stdio.err")
rc=$?
at() { jq -c "select(type == \"object\" and .id == $1)" <<<"$out" | head -1; }
# any_reply FILTER: some reply of $out matches
any_reply() { jq -se "any(.[]; $1)" <<<"$out" >/dev/null 2>&1; }
check "lighthouse mcp exits 0 at the end of its input" '[ $rc -eq 0 ]'
check "stdout holds only JSON-RPC replies, one per request line (notifications and responses get none)" \
  '[ "$(jq -s "length" <<<"$out")" -eq 13 ] && [ "$(wc -l <<<"$out")" -eq 13 ] && jq -se "all(.jsonrpc == \"2.0\")" <<<"$out" >/dev/null'
check "a request before initialize is -32600 (ping excepted)" \
  '[ "$(at 1 | jq .error.code)" = -32600 ] && [ "$(at 2 | jq -c .result)" = "{}" ]'
check "initialize with an unknown revision gets the latest, 2025-11-25, and the tools capability" \
  '[ "$(at 3 | jq -r .result.protocolVersion)" = 2025-11-25 ] && at 3 | jq -e ".result.capabilities.tools and .result.serverInfo.name == \"lighthouse\"" >/dev/null'
check "a line that is not JSON is -32700 with id null" \
  'any_reply ".error.code == -32700 and .id == null"'
check "a batch in a 2025-11-25 session is -32600 (batches are 2025-03-26 only)" \
  'any_reply ".error.code == -32600 and .id == null and (.error.message | test(\"batches\"))"'
check "an unknown method is -32601" '[ "$(at 5 | jq .error.code)" = -32601 ]'
check "jsonrpc 1.0 is -32600 with its id" '[ "$(at 6 | jq .error.code)" = -32600 ]'
check "id null is -32600" 'any_reply ".error.code == -32600 and .id == null and (.error.message | test(\"id must\"))"'
check "arguments that are not an object are -32602" '[ "$(at 7 | jq .error.code)" = -32602 ]'
check "a second initialize is -32600" '[ "$(at 8 | jq .error.code)" = -32600 ]'
check "validate over stdio: the bridge denies rm -rf / (rule rm.root) as builder-1" \
  '[ "$(at 9 | jq -r .result.structuredContent.rule)" = rm.root ] && [ "$(at 9 | jq .result.isError)" = false ]'
check "validate without cwd uses lighthouse mcp's working directory" \
  '[ "$(at 10 | jq -r .result.structuredContent.decision)" = allow ]'
check "params that are not an object are -32602" '[ "$(at 12 | jq .error.code)" = -32602 ]'

# (each run's stderr goes to $T/*.err: under the sanitizer build, bridge_lib.bash reads them)
out=$(LIGHTHOUSE_URL=$URL LIGHTHOUSE_TOKEN=$BUILDER "$LH" mcp <"$FIX/stdio_batch.jsonl" 2>"$T/stdio-batch.err")
check "initialize with 2025-03-26 keeps it" '[ "$(at 1 | jq -r .result.protocolVersion)" = 2025-03-26 ]'
check "in a 2025-03-26 session a batch gets an array of the requests' replies" \
  'any_reply "type == \"array\" and length == 2 and .[0].id == 2 and (.[1].result.tools | length) == 9"'
check "an empty batch is one -32600" 'any_reply "type == \"object\" and .error.code == -32600 and (.error.message | test(\"empty\"))"'
check "initialize inside a batch is -32600" 'any_reply "type == \"array\" and .[0].id == 4 and .[0].error.code == -32600"'
check "a batch of notifications only gets no reply" '[ "$(wc -l <<<"$out")" -eq 5 ] && [ "$(at 5 | jq -c .result)" = "{}" ]'

python3 -c 'import sys; sys.stdout.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"pad\":\"" + "a" * (1 << 20) + "\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n")' >"$T/long.jsonl"
out=$(LIGHTHOUSE_URL=$URL LIGHTHOUSE_TOKEN=$BUILDER "$LH" mcp <"$T/long.jsonl" 2>"$T/stdio-long.err")
check "a line over 1 MiB is -32700 and the next line is still read" \
  '[ "$(jq -sc "map(.error.code // .id)" <<<"$out")" = "[-32700,2]" ]'
env -u LIGHTHOUSE_URL "$LH" mcp </dev/null >"$T/nourl.out" 2>"$T/nourl.err"; rc=$?
check "lighthouse mcp without LIGHTHOUSE_URL exits 2 and says what to set" \
  '[ $rc -eq 2 ] && grep -q LIGHTHOUSE_URL "$T/nourl.err" && [ ! -s "$T/nourl.out" ]'
out=$(LIGHTHOUSE_URL=http://127.0.0.1:1 LIGHTHOUSE_TOKEN=$BUILDER "$LH" mcp <"$FIX/stdio_raw.jsonl" 2>"$T/stdio-down.err")
check "a bridge that cannot be reached is a tool result with isError, not a crash" \
  '[ "$(at 9 | jq .result.isError)" = true ] && at 9 | jq -r ".result.content[0].text" | grep -q "could not be reached"'

# ---- 2. POST /mcp with curl ---------------------------------------------------------------
# mcp TOKEN FILE [curl args...] → code, body, hdrs
mcp() {
  local tok=$1 f=$2; shift 2
  local args=(-s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' --max-time 60 -H "Accept: ${ACCEPT:-application/json, text/event-stream}")
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ -n "$f" ] && args+=(-H "Content-Type: application/json" --data-binary "@$f")
  code=$(curl "${args[@]}" "$@" "$URL/mcp")
  body=$(cat "$T/body" 2>/dev/null)
  hdrs=$(tr -d '\r' <"$T/hdrs" 2>/dev/null)
}
hdr() { awk -v h="$1" 'tolower($1) == tolower(h) ":" {print $2}' <<<"$hdrs"; }
rpc_error() { jq -e --argjson c "$1" '.jsonrpc == "2.0" and .error.code == $c' <<<"$body" >/dev/null 2>&1; }

mcp "$BUILDER" "$FIX/http_init.json"
SID=$(hdr Mcp-Session-Id)
check "POST /mcp initialize: 200 JSON with an Mcp-Session-Id of 32 hex digits" \
  '[ "$code" = 200 ] && [[ "$SID" =~ ^[0-9a-f]{32}$ ]] && [ "$(jq -r .result.protocolVersion <<<"$body")" = 2025-11-25 ]'
S=(-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25")
mcp "$BUILDER" "$FIX/http_initialized.json" "${S[@]}"
check "a notification is 202 with no body" '[ "$code" = 202 ] && [ -z "$body" ]'
mcp "$BUILDER" "$FIX/http_validate_deny.json" "${S[@]}"
check "tools/call validate at /mcp: denied by rm.root, run in-process as the caller (builder-1)" \
  '[ "$code" = 200 ] && [ "$(jq -r .result.structuredContent.rule <<<"$body")" = rm.root ]'
SEQ=$(jq -r .result.structuredContent.seq <<<"$body")
ev=$(curl -s --max-time 10 -H "Authorization: Bearer $ADMIN" "$URL/v1/events?after=$((SEQ - 1))&limit=1")
check "its decision.made event names agent builder-1 (the token's, not the bridge's)" \
  '[ "$(jq -r ".events[0].agent" <<<"$ev")" = builder-1 ] && [ "$(jq -r ".events[0].type" <<<"$ev")" = decision.made ]'
mcp "$BUILDER" "$FIX/http_events.json" "${S[@]}"
check "events_query at /mcp as a builder: the API's 403 is a tool result with isError" \
  '[ "$code" = 200 ] && [ "$(jq .result.isError <<<"$body")" = true ] && jq -r ".result.content[0].text" <<<"$body" | grep -q "HTTP 403 forbidden"'
mcp "$EXPERT" "$FIX/http_init.json"
ESID=$(hdr Mcp-Session-Id)
mcp "$EXPERT" "$FIX/http_events.json" -H "Mcp-Session-Id: $ESID"
check "events_query at /mcp as an expert lists decision.made events" \
  '[ "$(jq "[.result.structuredContent.events[] | select(.type == \"decision.made\")] | length" <<<"$body")" -ge 1 ]'
mcp "$EXPERT" "$FIX/http_ping.json" "${S[@]}"
check "another token's session is 404 (sessions are bound to the token that opened them)" '[ "$code" = 404 ] && rpc_error -32001'
mcp "$BUILDER" "$FIX/http_ping.json"
check "no Mcp-Session-Id after initialize: 400" '[ "$code" = 400 ] && rpc_error -32000'
mcp "$BUILDER" "$FIX/http_ping.json" -H "Mcp-Session-Id: 00000000000000000000000000000000"
check "an unknown session: 404" '[ "$code" = 404 ] && rpc_error -32001'
mcp "$BUILDER" "$FIX/http_ping.json" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 1999-01-01"
check "an unsupported MCP-Protocol-Version: 400" '[ "$code" = 400 ] && rpc_error -32600'
mcp "$BUILDER" "$FIX/http_init.json" -H "Mcp-Session-Id: $SID"
check "initialize with an Mcp-Session-Id: 400" '[ "$code" = 400 ]'
mcp "$BUILDER" "$FIX/http_bad.json" "${S[@]}"
check "bad JSON: 400 with a JSON-RPC -32700 error (id null)" '[ "$code" = 400 ] && rpc_error -32700 && [ "$(jq .id <<<"$body")" = null ]'
python3 -c 'import sys; sys.stdout.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"pad\":\"" + "a" * (2 << 20) + "\"}")' >"$T/huge.json"
mcp "$BUILDER" "$T/huge.json" "${S[@]}"
check "a 2 MiB body: 413 with a JSON error" '[ "$code" = 413 ] && is_error payload_too_large'
mcp "$BUILDER" "" "${S[@]}" -X GET
check "GET /mcp: 405 (no server stream), Allow: POST, DELETE" \
  '[ "$code" = 405 ] && is_error method_not_allowed && [ "$(grep -i "^allow:" <<<"$hdrs" | tr -d "\r")" = "Allow: POST, DELETE" ]'
mcp "$BUILDER" "$FIX/http_ping.json" "${S[@]}" -X PUT
check "PUT /mcp: 405" '[ "$code" = 405 ]'
mcp "" "$FIX/http_init.json"
check "no token: 401 with WWW-Authenticate: Bearer" '[ "$code" = 401 ] && is_error unauthorized && [ -n "$(hdr WWW-Authenticate)" ]'
mcp "not-a-token" "$FIX/http_init.json"
check "a forged token: 401" '[ "$code" = 401 ]'
mcp "$BUILDER" "$FIX/http_init.json" -H "Origin: http://evil.example.com"
check "a foreign Origin: 403 (DNS rebinding)" '[ "$code" = 403 ] && is_error origin_not_allowed'
mcp "$BUILDER" "$FIX/http_init.json" -H "Host: evil.example.com"
check "a foreign Host on a loopback bridge: 403 (DNS rebinding)" '[ "$code" = 403 ] && is_error host_not_allowed'
mcp "$BUILDER" "$FIX/http_init.json" -H "Origin: http://localhost:3000" -H "Host: localhost:${URL##*:}"
check "a loopback Origin and Host are accepted" '[ "$code" = 200 ]'
mcp "$BUILDER" "" "${S[@]}" -H "Content-Type: text/plain" --data-binary "@$FIX/http_ping.json"
check "Content-Type text/plain: 415" '[ "$code" = 415 ]'
ACCEPT="text/html" mcp "$BUILDER" "$FIX/http_ping.json" "${S[@]}"
check "Accept without application/json: 406" '[ "$code" = 406 ]'
mcp "$BUILDER" "" "${S[@]}" -X DELETE
check "DELETE /mcp ends the session: 200" '[ "$code" = 200 ]'
mcp "$BUILDER" "$FIX/http_ping.json" "${S[@]}"
check "the ended session is 404" '[ "$code" = 404 ]'
m=$(curl -s --max-time 10 "$URL/metrics")
check "/metrics counts /mcp requests by status" 'grep -q "lighthouse_bridge_requests_total{route=\"/mcp\",code=\"200\"}" <<<"$m"'

# ---- 2b. a long-poll through /mcp holds no worker; a stop answers it ---------------------
# A second bridge with one HTTP worker: while a tool call waits (elicitations_list, wait 60),
# that worker still answers /metrics. Ordered on events (the elicitation waiter gauge, the
# answer of the elicitation), never on a clock.
if [ -n "$(metric_now lighthouse_bridge_elicitation_waiters)" ]; then
  URL0=$URL DATA0=$DATA PID0=$PID
  LIGHTHOUSE_WORKERS=1 start_bridge one || fail "a bridge with one worker starts"
  W1=$(token builder-1 builder) W2=$(token builder-2 builder) W3=$(token builder-3 builder)
  mcp "$W2" "$FIX/http_init.json"; S2=$(hdr Mcp-Session-Id)
  curl -s -o "$T/lp.body" -w '%{http_code}' --max-time 90 -H "Authorization: Bearer $W2" -H "Mcp-Session-Id: $S2" \
    -H "Content-Type: application/json" -H "Accept: application/json" --data-binary "@$FIX/http_eli_wait.json" \
    "$URL/mcp" >"$T/lp.code" &
  LP=$!
  wait_for '[ "$(metric_now lighthouse_bridge_elicitation_waiters)" = 1 ]'; parked=$?
  check "one worker answers /metrics while an MCP tool call long-polls (the call is parked, not the worker)" \
    '[ $parked -eq 0 ] && kill -0 $LP 2>/dev/null'
  req POST /v1/elicitations "$W1" application/json "$FIX/eli_create.json"
  wait "$LP"
  check "the question ends the long-poll: the MCP reply lists it" \
    '[ "$(cat "$T/lp.code")" = 200 ] && [ "$(jq ".result.structuredContent.elicitations | length" "$T/lp.body")" = 1 ]'
  mcp "$W3" "$FIX/http_init.json"; S3=$(hdr Mcp-Session-Id)
  curl -s -o "$T/lp3.body" -w '%{http_code}' --max-time 90 -H "Authorization: Bearer $W3" -H "Mcp-Session-Id: $S3" \
    -H "Content-Type: application/json" -H "Accept: application/json" --data-binary "@$FIX/http_eli_wait.json" \
    "$URL/mcp" >"$T/lp3.code" &
  LP=$!
  wait_for '[ "$(metric_now lighthouse_bridge_elicitation_waiters)" = 1 ]'
  term_wait "$PID"
  wait "$LP"
  check "SIGTERM with an MCP tool call waiting: the bridge exits 0 and the call gets its JSON-RPC reply" \
    '[ $rc -eq 0 ] && [ "$(cat "$T/lp3.code")" = 200 ] && jq -e ".id == 5 and .result" "$T/lp3.body" >/dev/null'
  URL=$URL0 DATA=$DATA0 PID=$PID0
else
  skip "an MCP long-poll holds no worker" "the bridge has no elicitation routes (branch elicit not merged)"
  skip "SIGTERM with an MCP tool call waiting" "the bridge has no elicitation routes"
fi

# ---- 3 and 4: node ------------------------------------------------------------------------
NODEDIR="$ROOT/tests/mcp"
node_ready() { [ -f "$NODEDIR/node_modules/@modelcontextprotocol/sdk/package.json" ] &&
               [ -f "$NODEDIR/node_modules/@modelcontextprotocol/conformance/dist/index.js" ]; }
why=
if ! command -v node >/dev/null 2>&1; then why="node is not installed (scripts/deps.sh installs it)"
elif [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
  why="node $(node --version 2>/dev/null) is older than 20, the oldest these tests ran on (docs/mcp.md)"
elif ! node_ready; then
  if command -v npm >/dev/null 2>&1; then
    (cd "$NODEDIR" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund >/dev/null 2>&1; })
  fi
  node_ready || why="tests/mcp's npm packages could not be installed (npm missing or unreachable)"
fi
if [ -n "$why" ]; then
  skip "the MCP SDK client over stdio" "$why"
  skip "the MCP conformance suite against /mcp" "$why"
  done_testing
  exit 0
fi

MCP_BUILDER=$BUILDER MCP_BUILDER2=$BUILDER2 MCP_BUILDER3=$BUILDER3 MCP_EXPERT=$EXPERT MCP_EXPERT2=$EXPERT2 MCP_ADMIN=$ADMIN \
  node "$NODEDIR/stdio_client.mjs" "$LH" "$URL" >"$T/sdk.out" 2>&1
rc=$?
while IFS= read -r line; do
  case "$line" in
    "ok - "*"# SKIP "*) w=${line#ok - }; skip "sdk: ${w%% # SKIP *}" "${w#* # SKIP }" ;;
    "ok - "*) ok "sdk: ${line#ok - }" ;;
    "not ok - "*) fail "sdk: ${line#not ok - }" ;;
    *) echo "$line" ;;
  esac
done <"$T/sdk.out"
check "the SDK client run exits 0" '[ $rc -eq 0 ]'

# The conformance suite has no option for a bearer token: auth_proxy.mjs adds it and
# forwards everything else unchanged (Host and Origin included).
MCP_TOKEN=$BUILDER node "$NODEDIR/auth_proxy.mjs" "$URL" >"$T/proxy.out" 2>&1 &
PROXY=$!
trap 'kill $PROXY 2>/dev/null; cleanup' EXIT
wait_for '[ -n "$(awk "/^listening/ {print \$2}" "$T/proxy.out")" ]'
PURL="http://127.0.0.1:$(awk '/^listening/ {print $2}' "$T/proxy.out")/mcp"
CONF="$NODEDIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
# docs/mcp.md, "Conformance": the scenarios that apply, and the others with the reason.
APPLY=(server-initialize ping tools-list server-sse-multiple-streams server-sse-polling dns-rebinding-protection)
NOT_APPLY=(logging-set-level completion-complete tools-call-simple-text tools-call-image tools-call-audio
  tools-call-embedded-resource tools-call-mixed-content tools-call-with-logging tools-call-error
  tools-call-with-progress tools-call-sampling tools-call-elicitation json-schema-2020-12
  elicitation-sep1034-defaults elicitation-sep1330-enums resources-list resources-read-text resources-read-binary
  resources-templates-read resources-subscribe resources-unsubscribe prompts-list prompts-get-simple
  prompts-get-with-args prompts-get-embedded-resource prompts-get-with-image)
listed=$(cd "$T" && node "$CONF" list --server 2>/dev/null | sed -n 's/^  - //p' | sort)
known=$(printf '%s\n' "${APPLY[@]}" "${NOT_APPLY[@]}" | sort)
check "every server scenario of the suite is classified in docs/mcp.md (applies or not)" '[ "$listed" = "$known" ]'
[ "$listed" = "$known" ] && : || diff <(echo "$listed") <(echo "$known") | sed 's/^/#   /'
for s in "${APPLY[@]}"; do
  (cd "$T" && node "$CONF" server --url "$PURL" --scenario "$s" >"$T/conf-$s.log" 2>&1)
  rc=$?
  check "conformance: $s passes against /mcp" '[ $rc -eq 0 ]'
  [ $rc -eq 0 ] || sed 's/\x1b\[[0-9;]*m//g' "$T/conf-$s.log" | grep -E "FAILURE|Error" | head -5 | sed 's/^/#   /'
done
kill $PROXY 2>/dev/null
done_testing

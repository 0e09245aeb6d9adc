#!/usr/bin/env bash
# bridge_auth.sh — the auth matrix of the real bridge: every route × {no token,
# malformed, expired, forged, revoked, wrong role, right role}, each asserting the exact
# status code; the open routes; the per-thread token cache through evictions (160 agents);
# and the per-agent rate limit (429 + Retry-After).
# Prints TAP lines.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

start_bridge auth || { fail "bridge starts"; exit 1; }
printf '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}' > "$T/v.json"
printf '{"agent":"auth-minted","role":"builder","ttl_s":60}' > "$T/tk.json"
BT=$(token builder-1 builder); ET=$(token expert-1 expert); AT=$(token admin-1 admin)
check "the token key is 0600 in the data dir" '[ "$(stat -c %a "$DATA/token.key")" = 600 ]'

# Expired: a 1-second token, used once its second has passed.
XT=$(token short-lived admin "$DATA" 1s)
# Forged: a well-formed token signed with another data dir's key.
mkdir -p "$T/other"; FT=$(token admin-1 admin "$T/other")
# Forged another way: our token with its payload changed (role builder → admin).
payload=$(cut -d. -f2 <<<"$BT" | tr '_-' '/+'); while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
tampered=$(base64 -d <<<"$payload" 2>/dev/null | sed 's/"builder"/"admin"/' | base64 -w0 | tr '/+' '_-' | tr -d '=')
TT="lh1.$tampered.$(cut -d. -f3 <<<"$BT")"
# Revoked: an admin token, revoked through the CLI while the bridge runs.
RT=$(token revoked-admin admin)
ok200=0; for i in 1 2 3 4 5 6 7 8; do req GET /v1/status "$RT"; [ "$code" = 200 ] && ok200=$((ok200+1)); done
check "the admin token works before it is revoked (8 calls, every worker has seen it)" '[ $ok200 = 8 ]'
check "token revoke exits 0" '"$LH" token revoke "$RT" --data "$DATA" 2>/dev/null'
check "the running bridge refuses the revoked token" \
  'wait_for "req GET /v1/status \"\$RT\"; [ \"\$code\" = 401 ]"'
# The per-thread token cache holds 128 tokens (32 sets of 4): 160 agents push it through
# evictions, twice. Every decision must be recorded under its own token's agent, and a
# token verified, evicted and verified again must still be refused once revoked.
# The 160 tokens are minted in one POST /v1/tokens (the same tokens and token.issued events
# as 160 `lighthouse token create`), and the 320 calls are made by one curl, one after
# the other, each on a connection of its own (Connection: close), as 320 curls would:
# starting 480 processes took most of this script's time.
jq -nc '{agents: [range(1; 161) | "many-\(.)"], role: "builder", ttl_s: 86400}' > "$T/many.req"
req POST /v1/tokens "$AT" application/json "$T/many.req"
mapfile -t MT < <(jq -r '.tokens[].token' <<<"$body")
inorder=$(jq -c '[.tokens[].agent] == [range(1; 161) | "many-\(.)"]' <<<"$body")
check "160 builder tokens minted in one POST /v1/tokens, in order" '[ "$code" = 200 ] && [ ${#MT[@]} = 160 ] && [ "$inorder" = true ]'
mkdir -p "$T/many"; : > "$T/many.cfg"; : > "$T/many.agents"; k=0
for round in 1 2; do
  for i in $(seq 0 159); do
    k=$((k+1))
    printf 'url = "%s/v1/validate"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nheader = "Connection: close"\ndata-binary = "@%s"\noutput = "%s"\nwrite-out = "%%{http_code}\\n"\nmax-time = 10\nnext\n' \
      "$URL" "${MT[$i]}" "$T/v.json" "$T/many/$k.json" >> "$T/many.cfg"
    echo "many-$((i+1))" >> "$T/many.agents"
  done
done
curl -s -K "$T/many.cfg" > "$T/many.codes"
nbad=$(grep -cvx 200 "$T/many.codes")
check "160 builders, twice through the cache: every decision answered (200)" '[ "$(wc -l < "$T/many.codes")" = 320 ] && [ $nbad = 0 ]'
# one jq over the 320 answers in order (a missing or bad answer leaves the lists unequal)
(cd "$T/many" && jq .seq $(seq -f %g.json 320)) | paste -d" " - "$T/many.agents" > "$T/many.want"
first=$(head -1 "$T/many.want" | cut -d" " -f1)
req GET "/v1/events?type=decision.made&after=$((first-1))&limit=1000" "$ET"
jq -r '.events[] | "\(.seq) \(.agent)"' <<<"$body" > "$T/many.got"
check "each decision is recorded under its own token's agent (320 events)" \
  '[ "$(wc -l < "$T/many.want")" = 320 ] && diff -q "$T/many.want" "$T/many.got" >/dev/null'
"$LH" token revoke "${MT[0]}" --data "$DATA" 2>/dev/null
check "a cached, evicted and re-verified token is refused once revoked" \
  'wait_for "req POST /v1/validate \"\${MT[0]}\" application/json \"\$T/v.json\"; [ \"\$code\" = 401 ]"'
req POST /v1/validate "${MT[1]}" application/json "$T/v.json"
check "...and its neighbour still works" '[ "$code" = 200 ]'

# A token used while valid (so the workers have verified it) must still expire. The bridge
# refuses a token once its exp (whole seconds) <= now, so a call answered before the second
# exp is inside the validity and must succeed, and a call sent at or after it must fail:
# how fast the machine is decides only how many calls fall inside, not whether a check holds.
token_exp() { local p; p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+'); while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done; base64 -d <<<"$p" 2>/dev/null | jq -r .exp; }
ST=$(token short-used builder "$DATA" 5s); sexp=$(token_exp "$ST")
inside=0 ok200=0
for i in 1 2 3 4 5 6 7 8; do
  req POST /v1/validate "$ST" application/json "$T/v.json"
  if [ "$(date +%s)" -lt "$sexp" ]; then inside=$((inside+1)); [ "$code" = 200 ] && ok200=$((ok200+1)); fi
done
if [ "$inside" -gt 0 ]; then
  check "a 5-second token works while valid ($ok200 of the $inside calls answered inside its validity)" '[ $ok200 = $inside ]'
else
  skip "a 5-second token works while valid" "no call was answered inside the 5 s (a very slow machine)"
fi
while [ "$(date +%s)" -lt "$sexp" ]; do sleep 0.2; done   # wait for the expiry (an event, not a bound)
n401=0; for i in 1 2 3 4 5 6 7 8; do req POST /v1/validate "$ST" application/json "$T/v.json"; [ "$code" = 401 ] && n401=$((n401+1)); done
check "...and is refused (401) on every worker once expired" '[ "$sexp" -gt 0 ] && [ $n401 = 8 ]'

# A valid policy to push, and a body per POST route.
printf 'version: 1\nrevision: auth-test\nrules: []\n' > "$T/p.yaml"
printf '{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}' > "$T/h.json"
printf '{"input":{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}}' > "$T/o.json"

call() { # route-spec token
  local spec=$1 tok=$2 m p ct f
  IFS='|' read -r m p ct f <<<"$spec"
  if [ "$p" = /v1/events/stream ]; then
    # the stream never ends: curl stops at --max-time and reports the status it got; a
    # status not yet received (000, a busy machine) is asked again with a longer time
    for t in 1 5 30; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time "$t" ${tok:+-H "Authorization: Bearer $tok"} "$URL$p")
      [ "$code" != 000 ] && break
    done
  else
    req "$m" "$p" "$tok" "$ct" "${f:+$T/$f}"
  fi
}

# route | right role token | wrong role token
ROUTES=(
  "POST|/v1/validate|application/json|v.json BT ET"
  "POST|/v1/hooks/claude-code|application/json|h.json BT ET"
  "POST|/v1/data/lighthouse/decision|application/json|o.json BT ET"
  "GET|/v1/events|| ET BT"
  "GET|/v1/events/stream|| ET BT"
  "GET|/v1/policy/history|| ET BT"
  "GET|/v1/status|| ET BT"
  "POST|/v1/policy|application/yaml|p.yaml AT ET"
  "POST|/v1/policy/rollback|| AT BT"
  "POST|/v1/tokens|application/json|tk.json AT BT"
)
for row in "${ROUTES[@]}"; do
  read -r spec right wrong <<<"$row"
  path=$(cut -d'|' -f2 <<<"$spec")
  call "$spec" "";          check "$path: no token → 401" '[ "$code" = 401 ]'
  call "$spec" "garbage";   check "$path: malformed token → 401" '[ "$code" = 401 ]'
  call "$spec" "lh1.e30.AAAA"; check "$path: malformed lh1 token → 401" '[ "$code" = 401 ]'
  call "$spec" "$XT";       check "$path: expired token → 401" '[ "$code" = 401 ]'
  call "$spec" "$FT";       check "$path: forged token (other key) → 401" '[ "$code" = 401 ]'
  call "$spec" "$TT";       check "$path: forged token (edited payload) → 401" '[ "$code" = 401 ]'
  call "$spec" "$RT";       check "$path: revoked token → 401" '[ "$code" = 401 ]'
  call "$spec" "${!wrong}"; check "$path: wrong role → 403" '[ "$code" = 403 ]'
  call "$spec" "${!right}"; check "$path: right role → 200" '[ "$code" = 200 ]'
  call "$spec" "$AT";       check "$path: admin → 200" '[ "$code" = 200 ]'
done
req POST /v1/validate "" application/json "$T/v.json"
check "a 401 is a JSON error with a WWW-Authenticate header" 'is_error unauthorized && grep -qi "^WWW-Authenticate: Bearer" <<<"$hdrs"'
req POST /v1/validate "$ET" application/json "$T/v.json"
check "a 403 is a JSON error naming the role" 'is_error forbidden && grep -q expert <<<"$body"'
for p in /health /ready /metrics; do
  req GET "$p" ""; check "$p is open: 200 without a token" '[ "$code" = 200 ]'
  req GET "$p" "garbage"; check "$p is open: a bad token does not matter" '[ "$code" = 200 ]'
done
req GET "/v1/events?type=token.*&limit=100" "$ET"
check "token.issued and token.revoked are events" \
  'jq -e "[.events[].type] | index(\"token.issued\") and index(\"token.revoked\")" <<<"$body" >/dev/null'
check "token.issued records the agent and role, never the token" \
  '[ "$(jq -r "[.events[] | select(.type==\"token.issued\" and .data.agent==\"builder-1\")][0].data.role" <<<"$body")" = builder ] && ! grep -q "$BT" <<<"$body"'
"$LH" token create --agent x --role root --data "$DATA" >/dev/null 2>&1; rc=$?
check "token create with an unknown role: exit 2" '[ $rc = 2 ]'
"$LH" token create --role builder --data "$DATA" >/dev/null 2>&1; rc=$?
check "token create without an agent: exit 2" '[ $rc = 2 ]'

# ---- per-agent rate limit ------------------------------------------------------------
# One token per 100 s: no refill can happen while the burst is counted, however slow the
# machine. The refill is checked on another bridge, by waiting for it.
start_bridge rl --rate-limit 0.01 --rate-burst 5 || { fail "rate-limited bridge starts"; exit 1; }
R1=$(token busy builder); R2=$(token calm builder)
codes=""
for i in $(seq 8); do req POST /v1/validate "$R1" application/json "$T/v.json"; codes="$codes $code"; done
check "burst of 5 passes, then 429 ($codes)" '[ "$(tr " " "\n" <<<"$codes" | grep -c 200)" = 5 ] && [ "$(tr " " "\n" <<<"$codes" | grep -c 429)" = 3 ]'
req POST /v1/validate "$R1" application/json "$T/v.json"
check "429 carries Retry-After and a JSON error" '[ "$code" = 429 ] && grep -qi "^Retry-After: [1-9]" <<<"$hdrs" && is_error rate_limited'
req POST /v1/validate "$R2" application/json "$T/v.json"
check "another agent is not limited by the first" '[ "$code" = 200 ]'
start_bridge refill --rate-limit 0.2 --rate-burst 1 || fail "refilling bridge starts"
R3=$(token refill builder)
codes=""; for i in 1 2; do req POST /v1/validate "$R3" application/json "$T/v.json"; codes="$codes $code"; done
wait_for 'req POST /v1/validate "$R3" application/json "$T/v.json"; codes="$codes $code"; [ "$code" = 200 ]'
n429=$(grep -o 429 <<<"$codes" | wc -l)
check "the bucket refills over time: 200, 429 while empty ($n429 calls), then 200 again" \
  '[[ "$codes" =~ ^" 200 429"( 429)*" 200"$ ]]'

# ---- settings precedence through the real daemon: file < environment < flag ----------
printf 'rate_limit: 0.01\nrate_burst: 1\n' > "$T/prec.yaml"
LIGHTHOUSE_RATE_BURST=2 start_bridge prec --config "$T/prec.yaml" --rate-burst 3 || fail "bridge starts with a config file"
P1=$(token prec builder)
codes=""; for i in 1 2 3 4; do req POST /v1/validate "$P1" application/json "$T/v.json"; codes="$codes $code"; done
check "the flag's burst (3) beats the environment's (2) and the file's (1); the file's rate applies ($codes)" \
  '[ "$codes" = " 200 200 200 429" ] && grep -qi "^Retry-After: [0-9][0-9]" <<<"$hdrs"'
LIGHTHOUSE_CONFIG="$T/prec.yaml" LIGHTHOUSE_RATE_BURST=2 start_bridge prec2 || fail "bridge starts with LIGHTHOUSE_CONFIG"
P2=$(token prec2 builder)
codes=""; for i in 1 2 3; do req POST /v1/validate "$P2" application/json "$T/v.json"; codes="$codes $code"; done
check "LIGHTHOUSE_CONFIG names the file; the environment's burst (2) beats it ($codes)" '[ "$codes" = " 200 200 429" ]'
done_testing

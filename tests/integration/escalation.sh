#!/usr/bin/env bash
# escalation.sh — expert escalations end to end through the real bridge (issue 13 parts
# 1-2, docs/api.md "Experts" and "Escalations"): experts register; an escalate decision
# whose rule names a route becomes an escalation that a builder waits for (?wait=) while an
# expert long-polls it; quorum (2 allows allow, any deny denies), deadlines and their
# on_timeout action, the verdict cache, capability checks, double votes, SSE, a restart in
# the middle (a verdict after it reaches a new waiter; a deadline still holds), the fast
# path while 100 requests wait, the experts' listener, and `events verify` after. Run on
# SQLite and PostgreSQL.
#
# Timing: nothing here bounds how fast the machine is. Short deadlines (1-2 s) are used
# only where the test waits for an expiry, and then it polls the state; every other wait
# is on an event (a reply, a state) with a 60 s hang guard (wait_for).
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

cat > "$T/policy.yaml" <<'Y'
version: 1
settings:
  escalation:
    capabilities: [database]
    deadline: 120s
rules:
  - id: esc-quorum
    action: escalate
    reason: a change that needs two database experts
    match: {program: esc-quorum}
    escalate: {quorum: 2}
  - id: esc-claim
    action: escalate
    reason: one database expert of a pool
    match: {program: esc-claim}
  - id: esc-tdeny
    action: escalate
    reason: times out to the default action
    match: {program: esc-tdeny}
    escalate: {deadline: 1s}
  - id: esc-tallow
    action: escalate
    reason: times out to allow
    match: {program: esc-tallow}
    escalate: {deadline: 1s, on_timeout: allow}
  - id: esc-cached
    action: escalate
    reason: a verdict that may be reused
    match: {program: esc-cached}
    escalate: {cache_ttl: 10m}
  - id: esc-restart
    action: escalate
    reason: pending across a restart
    match: {program: esc-restart}
  - id: esc-restart-deadline
    action: escalate
    reason: its deadline holds across a restart
    match: {program: esc-restart-deadline}
    escalate: {deadline: 2s}
  - id: esc-plain
    action: escalate
    reason: no expert route here
    match: {program: esc-plain}
    escalate: {capabilities: [security]}
Y

# validate AGENT_TOKEN COMMAND [WAIT] → code, body
validate() {
  printf '{"tool":"Bash","input":{"command":"%s"},"cwd":"/tmp/esc-proj"}' "$2" > "$T/v.json"
  req POST "/v1/validate${3:+?wait=$3}" "$1" application/json "$T/v.json"
}
# validate_bg NAME TOKEN COMMAND WAIT: the same in the background, the reply in $W/NAME.out
# ($W: the suite's own directory)
validate_bg() {
  printf '{"tool":"Bash","input":{"command":"%s"},"cwd":"/tmp/esc-proj"}' "$3" > "$W/$1.json"
  curl -s --max-time 120 -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    --data-binary "@$W/$1.json" "$URL/v1/validate?wait=$4" > "$W/$1.out.tmp" && mv "$W/$1.out.tmp" "$W/$1.out" &
}
verdict() { post_json "/v1/escalations/$2/verdict" "$1" "{\"decision\":\"$3\",\"reason\":\"$4\"}"; }
state_of() { req GET "/v1/escalations/$2" "$1"; jq -r .state <<<"$body" 2>/dev/null; }
# pending_id TOKEN COMMAND: the id of the pending escalation of COMMAND that the expert TOKEN
# sees (a long-poll; the list may hold others, so it asks until this one is there)
pending_id() {
  local id=""
  for _ in $(seq 60); do
    req GET "/v1/escalations?state=pending&wait=5" "$1"
    id=$(jq -r --arg c "$2" '[.escalations[] | select(.request.input.command == $c)][0].id // empty' <<<"$body" 2>/dev/null)
    [ -n "$id" ] && break
  done
  echo "$id"
}
created_count() { req GET "/v1/events?type=escalation.created&limit=1000" "$ADM"; jq '.events | length' <<<"$body"; }

suite() { # LABEL [serve flags...]
  local L=$1; shift
  local FLAGS=("$@")
  W="$T/suite-$L"
  mkdir -p "$W"
  # A long heartbeat: no expert lapses while the suite runs (lapsing is checked below).
  start_bridge "esc-$L" --policy "$T/policy.yaml" --expert-heartbeat 3600 "${FLAGS[@]}" ||
    { fail "$L: the bridge starts"; return; }
  local tokflags=()
  [ "${FLAGS[0]:-}" = --store ] && tokflags=("${FLAGS[@]}")
  mk() { "$LH" token create --agent "$1" --role "$2" --data "$DATA" "${tokflags[@]}" 2>/dev/null; }
  B1=$(mk builder-1 builder); B2=$(mk builder-2 builder)
  E1=$(mk db-1 expert); E2=$(mk db-2 expert); E3=$(mk sec-1 expert); ADM=$(mk root admin)

  # ---- experts
  post_json /v1/experts/register "$E1" '{"capabilities":["database"]}'
  check "$L: an expert registers with its capabilities" \
    '[ "$code" = 200 ] && jq -e ".expert == \"db-1\" and .capabilities == [\"database\"] and .available == true and .heartbeat_interval_s > 0" <<<"$body" >/dev/null'
  post_json /v1/experts/register "$E2" '{"capabilities":["database","security"]}'
  post_json /v1/experts/register "$E3" '{"capabilities":["security"]}'
  post_json /v1/experts/register "$B1" '{"capabilities":["database"]}'
  check "$L: a builder cannot register as an expert (403)" '[ "$code" = 403 ] && is_error forbidden'
  post_json /v1/experts/register "$E1" '{"capabilities":"database"}'
  check "$L: capabilities must be a list (400)" '[ "$code" = 400 ] && is_error bad_request'
  req GET /v1/experts "$ADM"
  check "$L: GET /v1/experts lists the three, available" \
    '[ "$code" = 200 ] && [ "$(jq "[.experts[] | select(.available)] | length" <<<"$body")" = 3 ]'

  # ---- quorum 2, one deny → deny; the waiting builder gets it
  validate_bg q1 "$B1" "esc-quorum --step one" 120
  local id; id=$(pending_id "$E1" "esc-quorum --step one")
  req GET "/v1/escalations?state=pending" "$E1"
  check "$L: the expert's long-poll delivers the escalation with its context" \
    '[ -n "$id" ] && jq -e --arg id "$id" "[.escalations[] | select(.id == \$id)][0] | .state == \"pending\" and .quorum == 2 and .capabilities == [\"database\"] and .agent == \"builder-1\" and .context.commands[0].program == \"esc-quorum\" and (.context.findings | length) >= 1 and .request.input.command == \"esc-quorum --step one\"" <<<"$body" >/dev/null'
  req GET "/v1/escalations?state=pending" "$E3"
  check "$L: an expert without the capability does not see it" \
    '[ "$code" = 200 ] && [ "$(jq --arg id "$id" "[.escalations[] | select(.id == \$id)] | length" <<<"$body")" = 0 ]'
  verdict "$E3" "$id" allow "looks fine"
  check "$L: an expert without the capability cannot vote (403)" '[ "$code" = 403 ] && is_error forbidden'
  verdict "$B1" "$id" allow "mine"
  check "$L: a builder cannot vote (403)" '[ "$code" = 403 ] && is_error forbidden'
  verdict "$E1" "$id" allow "the migration is reversible"
  check "$L: the first allow leaves it pending (quorum 2)" \
    '[ "$code" = 200 ] && jq -e ".state == \"pending\" and (.verdicts | length) == 1 and .verdicts[0].expert == \"db-1\"" <<<"$body" >/dev/null'
  verdict "$E1" "$id" allow "again"
  check "$L: a second vote of the same expert is refused (409 already_voted)" '[ "$code" = 409 ] && is_error already_voted'
  req GET "/v1/escalations?state=pending" "$E1"
  check "$L: an expert that voted no longer sees it as pending for itself" \
    '[ "$(jq --arg id "$id" "[.escalations[] | select(.id == \$id)] | length" <<<"$body")" = 0 ]'
  verdict "$E2" "$id" deny "it drops a column in use"
  check "$L: a deny decides at once" \
    '[ "$code" = 200 ] && jq -e ".state == \"decided\" and .decision == \"deny\" and .decided_by == \"experts\"" <<<"$body" >/dev/null'
  wait_for '[ -s "$W/q1.out" ]'
  check "$L: the waiting builder gets deny, tier expert, with the escalation id" \
    'jq -e --arg id "$id" ".decision == \"deny\" and .tier == \"expert\" and .rule == \"esc-quorum\" and .escalation_id == \$id and (.reason | test(\"drops a column\")) and .seq > 0" "$W/q1.out" >/dev/null'
  verdict "$ADM" "$id" allow "too late"
  check "$L: a verdict after the decision is refused (409 not_pending)" '[ "$code" = 409 ] && is_error not_pending'
  verdict "$E1" esc-0000000000000000 allow "nothing"
  check "$L: a verdict on an unknown id is 404" '[ "$code" = 404 ] && is_error not_found'
  post_json "/v1/escalations/$id/verdict" "$E2" '{"decision":"maybe","reason":"x"}'
  check "$L: a verdict must be allow or deny (400)" '[ "$code" = 400 ] && is_error bad_request'

  # ---- the long-poll's cursor (?after=): only escalations not listed before
  req GET "/v1/escalations?state=pending" "$E2"
  local cur; cur=$(jq -r '.cursor // empty' <<<"$body" 2>/dev/null)
  check "$L: the list carries a cursor" '[ "$code" = 200 ] && [ -n "$cur" ] && [ "$cur" -ge 1 ]'
  validate_bg c1 "$B2" "esc-quorum --step cursor" 120
  req GET "/v1/escalations?state=pending&wait=60&after=${cur:-0}" "$E2"
  local cid cur2
  cid=$(jq -r '.escalations[0].id // empty' <<<"$body" 2>/dev/null); cur2=$(jq -r '.cursor // 0' <<<"$body" 2>/dev/null)
  check "$L: a long-poll after the cursor answers with the new escalation alone, and a later cursor" \
    '[ "$code" = 200 ] && jq -e --argjson c "${cur:-0}" "[.escalations[].request.input.command] == [\"esc-quorum --step cursor\"] and .cursor > \$c" <<<"$body" >/dev/null'
  req GET "/v1/escalations?state=pending&wait=1&after=$cur2" "$E2"
  check "$L: after the new cursor it waits (and answers nothing) though that one is still pending" \
    '[ "$code" = 200 ] && [ "$(jq ".escalations | length" <<<"$body")" = 0 ] && [ "$(state_of "$E2" "$cid")" = pending ]'
  req GET "/v1/escalations?state=pending&after=x" "$E2"
  check "$L: after must be a number (400)" '[ "$code" = 400 ] && is_error bad_request'
  verdict "$E2" "$cid" deny "cursor test done"
  wait_for '[ -s "$W/c1.out" ]'

  # ---- claims (?claim=S): a pool of experts shares the escalations, quorum experts each
  # has: the number of escalations with COMMAND (the prefix) in $body, and their ids
  has() { jq --arg c "$1" '[.escalations[] | select(.request.input.command | startswith($c))] | length' <<<"$body" 2>/dev/null; }
  idof() { jq -r --arg c "$1" '[.escalations[] | select(.request.input.command | startswith($c))][0].id // empty' <<<"$body" 2>/dev/null; }
  validate_bg k1 "$B1" "esc-claim --step one" 120
  req GET "/v1/escalations?state=pending&wait=60&claim=300" "$E1"
  local k1; k1=$(idof "esc-claim --step one")
  check "$L: a claiming long-poll is handed the new escalation" '[ "$code" = 200 ] && [ -n "$k1" ]'
  req GET "/v1/escalations?state=pending&wait=1&claim=300" "$E2"
  check "$L: ... and no other claiming expert is, while the claim holds (quorum 1)" \
    '[ "$code" = 200 ] && [ "$(has "esc-claim --step one")" = 0 ]'
  req GET "/v1/escalations?state=pending&wait=1&claim=300" "$E1"
  check "$L: ... nor its holder again" '[ "$code" = 200 ] && [ "$(has "esc-claim --step one")" = 0 ]'
  req GET "/v1/escalations?state=pending" "$E2"
  check "$L: a plain list still shows it to every expert that may decide it" \
    '[ "$code" = 200 ] && [ "$(has "esc-claim --step one")" = 1 ]'
  verdict "$E1" "$k1" allow "claimed and checked"
  wait_for '[ -s "$W/k1.out" ]'
  check "$L: the claim's holder decides it, and the waiting builder gets allow" \
    'jq -e ".decision == \"allow\" and .tier == \"expert\"" "$W/k1.out" >/dev/null'
  validate_bg k2 "$B1" "esc-claim --step lapse" 120
  req GET "/v1/escalations?state=pending&wait=60&claim=1" "$E1"
  local k2; k2=$(idof "esc-claim --step lapse")
  req GET "/v1/escalations?state=pending&wait=60&claim=300" "$E2"
  check "$L: when a claim's lease ends unanswered, the escalation is handed to another claiming expert" \
    '[ -n "$k2" ] && [ "$code" = 200 ] && [ "$(idof "esc-claim --step lapse")" = "$k2" ]'
  verdict "$E2" "$k2" deny "lapse test done"
  wait_for '[ -s "$W/k2.out" ]'
  # two claiming long-polls at once: each escalation goes to one of them, the next to the other
  claim_bg() {
    curl -s --max-time 120 -H "Authorization: Bearer $2" "$URL/v1/escalations?state=pending&wait=60&claim=300" \
      > "$W/$1.out.tmp" && mv "$W/$1.out.tmp" "$W/$1.out" &
  }
  claim_bg p1 "$E1"; claim_bg p2 "$E2"
  validate_bg k3 "$B1" "esc-claim --step pool-a" 120
  wait_for '[ -s "$W/p1.out" ] || [ -s "$W/p2.out" ]'
  validate_bg k4 "$B2" "esc-claim --step pool-b" 120
  wait_for '[ -s "$W/p1.out" ] && [ -s "$W/p2.out" ]'
  check "$L: two experts claiming at once are handed one escalation each, not both the same" \
    'jq -se "[.[] | [.escalations[].request.input.command]] | (map(length) == [1, 1]) and (add | sort) == [\"esc-claim --step pool-a\", \"esc-claim --step pool-b\"]" "$W/p1.out" "$W/p2.out" >/dev/null'
  for f in p1 p2; do
    local pid; pid=$(jq -r '.escalations[0].id // empty' "$W/$f.out")
    [ -n "$pid" ] && verdict "$ADM" "$pid" allow "pool test done"
  done
  wait_for '[ -s "$W/k3.out" ] && [ -s "$W/k4.out" ]'
  # quorum 2: two claims at once, not a third (the admin, who may decide anything, claims
  # as a third expert here)
  validate_bg k5 "$B1" "esc-quorum --step claims" 120
  req GET "/v1/escalations?state=pending&wait=60&claim=300" "$E1"
  local k5; k5=$(idof "esc-quorum --step claims")
  req GET "/v1/escalations?state=pending&wait=60&claim=300" "$E2"
  check "$L: an escalation of quorum 2 is handed to two claiming experts" \
    '[ -n "$k5" ] && [ "$(idof "esc-quorum --step claims")" = "$k5" ]'
  req GET "/v1/escalations?state=pending&claim=300" "$ADM"
  check "$L: ... and not to a third while both claims hold" '[ "$code" = 200 ] && [ "$(has "esc-quorum --step claims")" = 0 ]'
  verdict "$E1" "$k5" allow "one"; verdict "$E2" "$k5" allow "two"
  check "$L: ... whose two allows decide it" '[ "$code" = 200 ] && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$body" >/dev/null'
  wait_for '[ -s "$W/k5.out" ]'
  # a verdict ends its expert's claim: one allow of two, then the next claim is handed it
  validate_bg k6 "$B1" "esc-quorum --step claim-voted" 120
  req GET "/v1/escalations?state=pending&wait=60&claim=300" "$E1"
  local k6; k6=$(idof "esc-quorum --step claim-voted")
  verdict "$E1" "$k6" allow "one"
  req GET "/v1/escalations?state=pending&claim=300" "$E2"
  check "$L: after its holder's allow (quorum 2), the escalation is handed to the next claiming expert" \
    '[ -n "$k6" ] && [ "$code" = 200 ] && [ "$(idof "esc-quorum --step claim-voted")" = "$k6" ]'
  verdict "$E2" "$k6" allow "two"
  wait_for '[ -s "$W/k6.out" ]'
  req GET "/v1/escalations?state=pending&claim=x" "$E1"
  check "$L: claim must be a number of seconds (400)" '[ "$code" = 400 ] && is_error bad_request'
  req GET "/v1/escalations?state=all&claim=5" "$E1"
  check "$L: claim applies to pending only (400)" '[ "$code" = 400 ] && is_error bad_request'

  # ---- quorum 2, two allows → allow
  validate_bg q2 "$B1" "esc-quorum --step two" 120
  id=$(pending_id "$E1" "esc-quorum --step two")
  verdict "$E1" "$id" allow "reversible"
  verdict "$E2" "$id" allow "checked the plan"
  check "$L: the second allow decides allow" '[ "$code" = 200 ] && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$body" >/dev/null'
  wait_for '[ -s "$W/q2.out" ]'
  check "$L: the waiting builder gets allow, tier expert" \
    'jq -e --arg id "$id" ".decision == \"allow\" and .tier == \"expert\" and .escalation_id == \$id" "$W/q2.out" >/dev/null'

  # ---- quorum 2, both allows sent at once: each is recorded, once, and one decision
  validate_bg q2b "$B1" "esc-quorum --step together" 120
  id=$(pending_id "$E1" "esc-quorum --step together")
  local vb='{"decision":"allow","reason":"at the same time"}'
  for e in "$E1" "$E2"; do
    curl -s --max-time 60 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $e" \
      -H 'Content-Type: application/json' --data-binary "$vb" "$URL/v1/escalations/$id/verdict" >> "$W/together.codes" &
  done
  wait_for '[ -s "$W/q2b.out" ] && [ "$(wc -l < "$W/together.codes")" = 2 ]'
  check "$L: two verdicts sent at once both count (200, 200) and decide allow" \
    '[ "$(sort -u "$W/together.codes")" = 200 ] && jq -e ".decision == \"allow\" and .tier == \"expert\"" "$W/q2b.out" >/dev/null'
  req GET "/v1/events?type=escalation.decided&limit=1000" "$ADM"
  check "$L: ... with one escalation.decided event, after both escalation.verdict events" \
    '[ "$(jq --arg id "$id" "[.events[] | select(.aggregate == \$id)] | length" <<<"$body")" = 1 ] &&
     d=$(jq --arg id "$id" "[.events[] | select(.aggregate == \$id)][0].seq" <<<"$body") &&
     req GET "/v1/events?type=escalation.verdict&limit=1000" "$ADM" &&
     [ "$(jq --arg id "$id" --argjson d "$d" "[.events[] | select(.aggregate == \$id and .seq <= \$d)] | length" <<<"$body")" = 2 ]'

  # ---- wait=0: escalate at once with the id; who may read it
  validate "$B1" "esc-quorum --step three" 0
  id=$(jq -r '.escalation_id // empty' <<<"$body")
  check "$L: ?wait=0 answers escalate at once with an escalation id" \
    '[ "$code" = 200 ] && jq -e ".decision == \"escalate\" and (.escalation_id | test(\"^esc-[0-9a-f]{16}$\"))" <<<"$body" >/dev/null'
  validate "$B1" "esc-quorum --step three" 0
  check "$L: the same request while pending joins the same escalation" '[ "$(jq -r .escalation_id <<<"$body")" = "$id" ]'
  check "$L: its builder may read it" '[ "$(state_of "$B1" "$id")" = pending ]'
  req GET "/v1/escalations/$id" "$B2"
  check "$L: another builder may not (403)" '[ "$code" = 403 ] && is_error forbidden'
  req GET /v1/escalations "$B1"
  check "$L: a builder cannot list escalations (403)" '[ "$code" = 403 ]'
  validate "$B1" "esc-quorum --step three" abc
  check "$L: a wait that is not 0 to 3600 seconds is refused (400)" '[ "$code" = 400 ] && is_error bad_request'
  validate "$B1" "esc-plain now" 0
  check "$L: a rule whose route needs a capability still gets an escalation" \
    'jq -e ".decision == \"escalate\" and (.escalation_id | type == \"string\")" <<<"$body" >/dev/null'

  # ---- the hook: LIGHTHOUSE_ESCALATION_WAIT
  hookin() { printf '{"session_id":"s-esc","cwd":"/tmp/esc-proj","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"%s"},"tool_use_id":"t1"}' "$1" > "$W/hook-$2.json"; }
  hookin "esc-quorum --hook one" 1
  (LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$B1" LIGHTHOUSE_ESCALATION_WAIT=120 "$HOOK" pre-tool-use \
     < "$W/hook-1.json" > "$W/hook-1.tmp" 2>"$W/hook-1.err"; echo "$?" > "$W/hook-1.rc"; mv "$W/hook-1.tmp" "$W/hook-1.out") &
  id=$(pending_id "$E1" "esc-quorum --hook one")
  verdict "$E2" "$id" deny "not from a hook"
  wait_for '[ -e "$W/hook-1.out" ]'
  check "$L: the hook waits (LIGHTHOUSE_ESCALATION_WAIT) and gets the experts' deny" \
    '[ "$(cat "$W/hook-1.rc")" = 0 ] && jq -e --arg id "$id" ".hookSpecificOutput.permissionDecision == \"deny\" and (.hookSpecificOutput.permissionDecisionReason | test(\"not from a hook\") and test(\$id))" "$W/hook-1.out" >/dev/null'
  hookin "esc-quorum --hook two" 2
  out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$B1" "$HOOK" pre-tool-use < "$W/hook-2.json" 2>/dev/null)
  check "$L: without LIGHTHOUSE_ESCALATION_WAIT the hook asks at once, naming the escalation" \
    'jq -e ".hookSpecificOutput.permissionDecision == \"ask\" and (.hookSpecificOutput.permissionDecisionReason | test(\"escalation esc-[0-9a-f]{16}\"))" <<<"$out" >/dev/null'
  out=$(LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$B1" LIGHTHOUSE_ESCALATION_WAIT=1 "$HOOK" pre-tool-use < "$W/hook-2.json" 2>/dev/null)
  check "$L: when the wait ends first the hook asks, naming the escalation (still pending)" \
    'jq -e ".hookSpecificOutput.permissionDecision == \"ask\" and (.hookSpecificOutput.permissionDecisionReason | test(\"escalation esc-[0-9a-f]{16}\"))" <<<"$out" >/dev/null'

  # ---- timeouts: the configured action
  validate_bg t1 "$B1" "esc-tdeny now" 120
  validate_bg t2 "$B1" "esc-tallow now" 120
  wait_for '[ -s "$W/t1.out" ] && [ -s "$W/t2.out" ]'
  check "$L: a timeout answers the waiting builder with the default action deny" \
    'jq -e ".decision == \"deny\" and .tier == \"expert\" and (.reason | test(\"deadline\"))" "$W/t1.out" >/dev/null'
  check "$L: on_timeout allow answers allow" 'jq -e ".decision == \"allow\" and .tier == \"expert\"" "$W/t2.out" >/dev/null'
  id=$(jq -r .escalation_id "$W/t1.out")
  req GET "/v1/escalations/$id" "$ADM"
  check "$L: the expired escalation says expired, decided_by timeout" \
    'jq -e ".state == \"expired\" and .decided_by == \"timeout\" and .decision == \"deny\"" <<<"$body" >/dev/null'
  validate "$B1" "esc-tdeny now" 0
  check "$L: the same request after the expiry is a new escalation (an ended one is not joined)" \
    'jq -e --arg id "$id" ".decision == \"escalate\" and (.escalation_id | type == \"string\") and .escalation_id != \$id" <<<"$body" >/dev/null'

  # ---- the verdict cache
  validate_bg c1 "$B1" "esc-cached --table t" 120
  id=$(pending_id "$E1" "esc-cached --table t")
  verdict "$E1" "$id" allow "safe table"
  wait_for '[ -s "$W/c1.out" ]'
  local before; before=$(created_count)
  validate "$B1" "esc-cached --table t" 0
  check "$L: the same request again is decided from the verdict cache (allow, tier expert)" \
    '[ "$code" = 200 ] && jq -e --arg id "$id" ".decision == \"allow\" and .tier == \"expert\" and .escalation_id == \$id" <<<"$body" >/dev/null'
  check "$L: ... and made no new escalation" '[ "$(created_count)" = "$before" ]'
  validate "$B1" "esc-cached --table other" 0
  check "$L: another request is not in the cache" 'jq -e ".decision == \"escalate\"" <<<"$body" >/dev/null'

  # ---- SSE
  curl -s -N --max-time 60 -H "Authorization: Bearer $E2" "$URL/v1/escalations/stream" > "$T/sse-$L" 2>/dev/null &
  local ssepid=$!
  wait_for 'grep -q "lighthouse stream" "$T/sse-$L"'
  validate "$B2" "esc-quorum --via sse" 0
  local sid; sid=$(jq -r .escalation_id <<<"$body")
  wait_for 'grep -q "$sid" "$T/sse-$L"'
  check "$L: the stream sends escalation.created with the ESC object" \
    'grep -A1 "^event: escalation.created" "$T/sse-$L" | grep "^data: " | sed "s/^data: //" | jq -e --arg id "$sid" "select(.id == \$id) | .state == \"pending\"" >/dev/null'
  kill "$ssepid" 2>/dev/null; wait "$ssepid" 2>/dev/null

  # ---- the fast path while 100 requests wait
  for i in $(seq 100); do validate_bg "w$i" "$B2" "esc-quorum --many" 120; done
  # each has recorded its escalate decision (then it waits, suspended)
  wait_for 'req GET "/v1/events?type=decision.made&agent=builder-2&limit=1000" "$ADM"; [ "$(jq "[.events[] | select(.data.command == \"esc-quorum --many\")] | length" <<<"$body")" = 100 ]'
  local wid; wid=$(pending_id "$E1" "esc-quorum --many")
  local okfast=1
  for i in $(seq 20); do validate "$B1" "ls -la" 0; [ "$code" = 200 ] && jq -e '.decision == "allow"' <<<"$body" >/dev/null || okfast=0; done
  check "$L: decisions without escalation answer while 100 requests wait" '[ $okfast = 1 ]'
  req GET "/v1/escalations/$wid" "$ADM"
  verdict "$E1" "$wid" deny "not now"
  wait_for '[ "$(ls "$W"/w*.out 2>/dev/null | wc -l)" = 100 ]'
  check "$L: all 100 waiting requests get the deny" \
    '[ "$(cat "$W"/w*.out | jq -s "[.[] | select(.decision == \"deny\" and .tier == \"expert\")] | length")" = 100 ]'

  # ---- metrics
  req GET /metrics ""
  check "$L: metrics: experts registered and available, escalations pending, totals, duration" \
    'grep -q "^lighthouse_bridge_experts_registered 3" <<<"$body" && grep -q "^lighthouse_bridge_experts_available 3" <<<"$body" && grep -q "^lighthouse_bridge_escalations_pending [0-9]" <<<"$body" && grep -q "^lighthouse_bridge_escalations_total{outcome=\"deny\"} [1-9]" <<<"$body" && grep -q "^lighthouse_bridge_escalations_total{outcome=\"expired\"} [1-9]" <<<"$body" && grep -q "^lighthouse_bridge_escalation_duration_seconds_count [1-9]" <<<"$body"'

  # ---- a restart in the middle
  validate "$B1" "esc-restart --x" 0
  local rid; rid=$(jq -r .escalation_id <<<"$body")
  validate "$B1" "esc-restart-deadline --x" 0
  local did; did=$(jq -r .escalation_id <<<"$body")
  term_wait "$PID"
  check "$L: the bridge stops with escalations pending" '[ "$rc" = 0 ]'
  local D=$DATA
  start_bridge "esc-$L-2" --policy "$T/policy.yaml" --expert-heartbeat 3600 "${FLAGS[@]}" --data "$D" ||
    { fail "$L: the bridge restarts"; return; }
  DATA=$D
  check "$L: after the restart the escalation is still pending" '[ "$(state_of "$ADM" "$rid")" = pending ]'
  validate_bg r1 "$B1" "esc-restart --x" 120
  wait_for 'req GET "/v1/escalations/$rid" "$ADM"; [ "$(jq -r .state <<<"$body")" = pending ]'
  # the waiting builder has joined: its request reached the bridge when the verdict is taken
  wait_for 'req GET "/v1/events?type=decision.made&limit=1000" "$ADM"; [ "$(jq --arg id "$rid" "[.events[] | select(.data.escalation_id == \$id)] | length" <<<"$body")" -ge 2 ]'
  verdict "$E1" "$rid" allow "after the restart"
  check "$L: the expert (registered before the restart) may still vote" '[ "$code" = 200 ] && jq -e ".state == \"decided\"" <<<"$body" >/dev/null'
  wait_for '[ -s "$W/r1.out" ]'
  check "$L: a verdict after the restart reaches a new waiter" \
    'jq -e --arg id "$rid" ".decision == \"allow\" and .tier == \"expert\" and .escalation_id == \$id" "$W/r1.out" >/dev/null'
  wait_for '[ "$(state_of "$ADM" "$did")" = expired ]'
  req GET "/v1/escalations/$did" "$ADM"
  check "$L: a deadline set before the restart expires after it" \
    'jq -e ".state == \"expired\" and .decided_by == \"timeout\" and .decision == \"deny\"" <<<"$body" >/dev/null'

  # ---- leaving; the audit
  post_json /v1/experts/leave "$E3" '{}'
  check "$L: an expert leaves" '[ "$code" = 200 ]'
  req GET /v1/experts "$ADM"
  check "$L: ... and is no longer listed" '[ "$(jq "[.experts[] | select(.name == \"sec-1\")] | length" <<<"$body")" = 0 ]'
  req GET "/v1/events?type=expert.*&limit=100" "$ADM"
  check "$L: expert.registered and expert.left are recorded" \
    'jq -e "([.events[] | select(.type == \"expert.registered\")] | length) == 3 and ([.events[] | select(.type == \"expert.left\" and .data.reason == \"left\")] | length) == 1" <<<"$body" >/dev/null'
  req GET "/v1/events?type=escalation.*&limit=1000" "$ADM"
  check "$L: every state change is an event (created, verdict, decided, expired)" \
    'jq -e "[.events[].type] | (index(\"escalation.created\") != null) and (index(\"escalation.verdict\") != null) and (index(\"escalation.decided\") != null) and (index(\"escalation.expired\") != null)" <<<"$body" >/dev/null'
  term_wait "$PID"
  check "$L: events verify passes after the escalations" '"$LH" events verify --data "$DATA" "${tokflags[@]}" >/dev/null 2>&1'
}

# A policy with bad escalation routes does not load.
cat > "$T/bad.yaml" <<'Y'
version: 1
settings:
  escalation: {quorum: 0}
rules:
  - id: r1
    action: escalate
    reason: x
    match: {program: esc-a}
    escalate: {deadline: 2h, on_timeout: maybe, capabilities: []}
  - id: r2
    action: deny
    reason: x
    match: {program: esc-b}
    escalate: {quorum: 1}
Y
out=$("$LH" policy lint "$T/bad.yaml" 2>&1)
check "lint: quorum out of range" 'grep -q "quorum must be a whole number from 1 to 16" <<<"$out"'
check "lint: deadline over 1h" 'grep -q "deadline must be more than 0 and at most 1h" <<<"$out"'
check "lint: unknown on_timeout" 'grep -q "on_timeout must be deny, allow or ask" <<<"$out"'
check "lint: empty capabilities" 'grep -q "capabilities must not be an empty list" <<<"$out"'
check "lint: escalate: on a deny rule" 'grep -q "escalate: is only for escalate rules" <<<"$out"'

suite sqlite

# lighthouse load with simulated experts (docs/load.md, "Simulated experts"): the agents
# wait for the experts' verdicts, and the report shows the escalations apart.
python3 - "$(cd "$(dirname "$0")/../.." && pwd)/policies/default.yaml" "$T/loadpol.yaml" <<'P'
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(s.replace("settings:\n", "settings:\n  escalation: {deadline: 20s}\n", 1))
P
start_bridge loadexp --policy "$T/loadpol.yaml" --rate-limit 0 --expert-heartbeat 3600 || fail "load: the bridge starts"
XT="$(token sim-1 expert),$(token sim-2 expert)"
"$LH" load --duration 4s --agents 4 --rate 5 --mix 0/0/1 --seed 7 --target "$URL" --data "$DATA" \
  --expert-token "$XT" --expert-availability 1 --expert-speed 0.05 --report "$T/load.json" --no-history --quiet \
  >/dev/null 2>"$T/load.err"
check "load: simulated experts register and answer escalations" \
  'jq -e ".experts.experts == 2 and .experts.verdicts > 0 and .experts.errors == 0" "$T/load.json" >/dev/null'
check "load: the report shows the expert-decided latency apart" \
  'jq -e ".experts.expert_decided_latency.count > 0 and .experts.expert_decided_latency.p99_ms > 0" "$T/load.json" >/dev/null'
req GET "/v1/events?type=escalation.decided&limit=1000" "$(token root-l admin)"
check "load: the verdicts are escalation.decided events" '[ "$(jq ".events | length" <<<"$body")" -gt 0 ]'
# One simulated expert, half available, given ~40 escalations in 3 s with think times of
# 300-600 ms (mean): it works them concurrently, so the escalations that end `escalate`
# (the agents' 4 s wait ran out) are the ones it was unavailable for, not a queue behind
# it (one at a time, ~20 verdicts of ~0.45 s each would have taken 9 s: 34 against 13).
# A think time over 4 s has a chance of about 1/800 per escalation: the slack of one.
"$LH" load --duration 3s --agents 60 --rate 20 --mix 0/0/1 --seed 11 --target "$URL" --data "$DATA" \
  --expert-token "$(token sim-q expert)" --expert-availability 0.5 --expert-speed 0.5 --expert-wait 4 \
  --report "$T/loadq.json" --no-history --quiet >/dev/null 2>"$T/loadq.err"
check "load: an expert works its escalations concurrently (timeouts follow availability, not a queue)" \
  'jq -e ".experts.verdicts > 5 and .experts.unavailable > 5 and .experts.errors == 0 and .summary.requests_failed == 0
          and .escalations.count <= .experts.unavailable + 1" "$T/loadq.json" >/dev/null'
req GET /metrics ""
check "load: the bridge counts the CPU of escalation work (escalation_cpu_seconds_total > 0)" \
  '[ "$code" = 200 ] && awk "/^lighthouse_bridge_escalation_cpu_seconds_total / {exit !(\$2 > 0)}" "$T/body"'

# The experts' listener (serve --expert-listen, docs/configuration.md): a second address
# whose threads run at nice 19. A builder waits on the main address while an expert claims,
# and denies, on the experts' one; the simulated experts of `lighthouse load` are sent there
# with --expert-target.
start_bridge xl --policy "$T/policy.yaml" --expert-heartbeat 3600 --workers 4 --expert-listen 127.0.0.1:0 ||
  fail "experts' listener: the bridge starts"
XURL=$(grep -o "experts' listener .*http://[0-9.:]*" "$T/xl.out" | grep -o 'http://[0-9.:]*')
check "experts' listener: serve names its address" '[ -n "$XURL" ] && [ "$XURL" != "$URL" ]'
req GET "/v1/events?type=system.started" "$(token xl-admin admin)"
check "experts' listener: system.started records its address" \
  '[ "$(jq -r ".events[0].data.expert_listen" <<<"$body")" = "${XURL#http://}" ]'
W="$T/xl"; mkdir -p "$W"
XB=$(token xl-builder builder); XE=$(token xl-expert expert)
validate_bg xlw "$XB" "esc-claim xl" 60
MAINURL=$URL; URL=$XURL
post_json /v1/experts/register "$XE" '{"capabilities":["database"]}'
req GET "/v1/escalations?state=pending&wait=60&claim=300" "$XE"
xid=$(jq -r '.escalations[0].id // empty' <<<"$body" 2>/dev/null)
check "experts' listener: an expert's claiming poll there is handed the builder's escalation" \
  '[ "$code" = 200 ] && [ -n "$xid" ] && [ "$(jq -r ".escalations[0].request.input.command" <<<"$body")" = "esc-claim xl" ]'
verdict "$XE" "$xid" deny "not on this database"
check "experts' listener: its verdict is taken (200)" '[ "$code" = 200 ]'
URL=$MAINURL
wait_for '[ -s "$W/xlw.out" ]'
check "experts' listener: ... and the builder waiting on the main address gets the deny" \
  'jq -e ".decision == \"deny\"" "$W/xlw.out" >/dev/null'
# nice of each MHD worker thread (field 19 of /proc/PID/task/TID/stat; comm has no spaces)
nices() { for t in /proc/"$PID"/task/*; do [ "$(cat "$t/comm" 2>/dev/null)" = MHD-worker ] && awk '{print $19}' "$t/stat"; done; }
check "experts' listener: the threads that served it run at nice 19" '[ "$(nices | grep -cx 19)" -ge 1 ]'
check "experts' listener: the decision workers stay at nice 0 (4 of them)" '[ "$(nices | grep -cx 0)" -ge 4 ]'
# the load's fleet needs the default policy's escalations (loadpol.yaml, above)
start_bridge xlload --policy "$T/loadpol.yaml" --rate-limit 0 --expert-heartbeat 3600 --expert-listen 127.0.0.1:0 ||
  fail "experts' listener: the load's bridge starts"
XURL=$(grep -o "experts' listener .*http://[0-9.:]*" "$T/xlload.out" | grep -o 'http://[0-9.:]*')
"$LH" load --duration 3s --agents 4 --rate 5 --mix 0/0/1 --seed 7 --target "$URL" --data "$DATA" \
  --expert-token "$(token xl-sim expert)" --expert-availability 1 --expert-speed 0.05 --expert-target "$XURL" \
  --report "$T/loadx.json" --no-history --quiet >/dev/null 2>"$T/loadx.err"
check "experts' listener: load --expert-target sends the simulated experts there (verdicts, no errors)" \
  'jq -e ".experts.verdicts > 0 and .experts.errors == 0" "$T/loadx.json" >/dev/null'
# a port nothing listens on: its experts cannot register (the flag is what routes them)
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$LH" load --duration 2s --agents 2 --rate 2 --mix 0/0/1 --seed 7 --target "$URL" --data "$DATA" \
  --expert-token "$(token xl-sim2 expert)" --expert-target "http://127.0.0.1:$dead" --expert-wait 1 \
  --report "$T/loadd.json" --no-history --quiet >/dev/null 2>"$T/loadd.err"
check "experts' listener: ... and with --expert-target at a dead port they reach nothing" \
  'jq -e ".experts.verdicts == 0 and .experts.errors > 0 and .escalations.count > 0" "$T/loadd.json" >/dev/null'
"$LH" load --duration 1s --target "$URL" --data "$DATA" --expert-token x --expert-target "http://10.0.0.1:80" \
  --no-history --quiet >/dev/null 2>"$T/loadb.err"
check "experts' listener: --expert-target off this machine is bad usage (exit 2)" \
  '[ $? = 2 ] && grep -q "expert-target" "$T/loadb.err"'
"$LH" serve --listen 127.0.0.1:47999 --expert-listen 127.0.0.1:47999 --data "$T/xl2" >/dev/null 2>"$T/xl2.err"
check "experts' listener: the same address as --listen is refused (exit 2)" \
  '[ $? = 2 ] && grep -q "same address as listen" "$T/xl2.err"'

# An expert whose heartbeat lapses (3 intervals of 1 s) leaves: expert.left, reason lapsed.
start_bridge lapse --expert-heartbeat 1 || fail "lapse: the bridge starts"
EL=$(token lapse-1 expert); ADM=$(token root admin)
post_json /v1/experts/register "$EL" '{"capabilities":["database"]}'
wait_for 'req GET "/v1/events?type=expert.left" "$ADM"; jq -e ".events[0].data.reason == \"lapsed\"" <<<"$body" >/dev/null'
check "lapse: a lapsed expert leaves (expert.left, reason lapsed)" 'jq -e ".events[0].data.expert == \"lapse-1\"" <<<"$body" >/dev/null'
req GET /v1/experts "$ADM"
check "lapse: ... and is no longer listed" '[ "$(jq ".experts | length" <<<"$body")" = 0 ]'
post_json /v1/experts/register "$EL" '{"capabilities":["database"]}'
req GET "/v1/events?type=expert.registered" "$ADM"
check "lapse: registering again records expert.registered again" '[ "$(jq ".events | length" <<<"$body")" = 2 ]'
if [ -n "${LH_TEST_PG:-}" ]; then
  db="lh_esc_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    suite postgres --store postgres --pg "$LH_TEST_PG dbname=$db"
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a test database"
  fi
else
  fail "postgres: LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
fi
done_testing

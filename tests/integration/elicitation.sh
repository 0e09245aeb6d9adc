#!/usr/bin/env bash
# elicitation.sh — agent-to-agent elicitations end to end against the real bridge
# (docs/api.md, "Elicitations"): builder-1 asks builder-2, builder-2 sees it by long-poll
# and answers, the asker's wait returns the answer; who may answer, cancel and read;
# schema validation of the answer; decline, cancel, expiry; rate and pending limits;
# pending elicitations survive a restart; events verify over it all.
# Every wait is on the order of events (a gauge, a state), never on elapsed time.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

# Small limits so they can be reached: 12 creations per agent (refilled one per 1000 s),
# 5 pending per addressee. builder-1 makes all 12 of its creations before the restart:
# a new check that asks must ask as another agent.
export LIGHTHOUSE_ELICIT_RATE=0.001 LIGHTHOUSE_ELICIT_BURST=12 LIGHTHOUSE_ELICIT_MAX_PENDING_TO=5
start_bridge el || { fail "bridge starts"; done_testing; exit 1; }
B1=$(token builder-1 builder)
B2=$(token builder-2 builder)
B3=$(token builder-3 builder)
AD=$(token admin-1 admin)
FL=$(token flood-1 builder)
HO=$(token hostile-1 builder)

SCHEMA='{"type":"object","properties":{"port":{"type":"integer","minimum":1,"maximum":65535},"host":{"type":"string","format":"uri"},"tls":{"type":"boolean"}},"required":["port"]}'
# ask TOKEN TO [EXPIRES] → creates; sets code, body, ID
ask() {
  local exp=${3:-300}
  post_json /v1/elicitations "$1" "$(jq -nc --arg to "$2" --argjson s "$SCHEMA" --argjson e "$exp" \
    '{to:$to, message:"Which port does the staging database listen on?", schema:$s, expires_in_s:$e}')"
  ID=$(jq -r '.id // empty' <<<"$body")
}
respond() { post_json "/v1/elicitations/$1/response" "$2" "$3"; }
state_of() { req GET "/v1/elicitations/$1" "$AD"; jq -r .state <<<"$body"; }
waiters() { metric_now lighthouse_bridge_elicitation_waiters; }

# ---- 1. ask, long-poll, accept, the asker's wait ------------------------------
curl -s --max-time 120 -H "Authorization: Bearer $B2" "$URL/v1/elicitations?for=me&wait=60" >"$T/lp1" &
LP1=$!
wait_for '[ "$(waiters)" = 1 ]'
check "builder-2's long-poll on for=me is waiting before anything is asked" "[ \"\$(waiters)\" = 1 ]"
ask "$B1" builder-2
check "builder-1 asks builder-2: 201 with an eli- id, state pending" \
  "[ $code = 201 ] && [[ \$ID =~ ^eli-[0-9a-f]{16}\$ ]] && [ \"\$(jq -r .state <<<\"\$body\")\" = pending ]"
check "the ELI object names from, to, the schema and the times" \
  "jq -e '.from == \"builder-1\" and .to == \"builder-2\" and .schema.required == [\"port\"] and .expires_ns > .created_ns and .content == null' <<<\"\$body\" >/dev/null"
wait "$LP1"
check "builder-2's long-poll returns with the new elicitation" \
  "[ \"\$(jq -r '.elicitations[0].id' \"$T/lp1\")\" = \"$ID\" ] && [ \"\$(jq -r '.elicitations[0].message' \"$T/lp1\")\" = 'Which port does the staging database listen on?' ]"
req GET "/v1/elicitations?for=me" "$B2"
check "builder-2's list (for=me, no wait) holds it" "[ \"\$(jq -r '[.elicitations[].id] | index(\"$ID\") != null' <<<\"\$body\")\" = true ]"
req GET "/v1/elicitations?from=me" "$B1"
check "builder-1's list (from=me) holds it" "[ \"\$(jq -r '[.elicitations[].id] | index(\"$ID\") != null' <<<\"\$body\")\" = true ]"
req GET "/v1/elicitations?for=me" "$B1"
check "builder-1's for=me list does not hold its own question" "[ \"\$(jq '.elicitations | length' <<<\"\$body\")\" = 0 ]"

# Who may read and answer.
req GET "/v1/elicitations/$ID" "$B3"
check "a third agent cannot read it: 403 forbidden" "[ $code = 403 ] && is_error forbidden"
respond "$ID" "$B3" '{"action":"accept","content":{"port":5432}}'
check "a third agent cannot answer it: 403 forbidden" "[ $code = 403 ] && is_error forbidden"
respond "$ID" "$B3" '{"action":"cancel"}'
check "a third agent cannot cancel it: 403 forbidden" "[ $code = 403 ] && is_error forbidden"
respond "$ID" "$B1" '{"action":"accept","content":{"port":5432}}'
check "the asker cannot accept its own question: 403" "[ $code = 403 ] && is_error forbidden"
respond "$ID" "$B2" '{"action":"cancel"}'
check "the addressee cannot cancel: 403" "[ $code = 403 ] && is_error forbidden"
respond "$ID" "$AD" '{"action":"accept","content":{"port":5432}}'
check "an admin cannot answer for the addressee: 403" "[ $code = 403 ] && is_error forbidden"
req GET "/v1/elicitations/$ID" "$AD"
check "an admin can read it" "[ $code = 200 ] && [ \"\$(jq -r .id <<<\"\$body\")\" = $ID ]"

# Content that does not fit the schema: 400 naming the field, still pending.
respond "$ID" "$B2" '{"action":"accept","content":{"port":1.5}}'
check "an integer given 1.5: 400 schema_mismatch naming port" \
  "[ $code = 400 ] && is_error schema_mismatch && jq -e '.error.message | test(\"port\")' <<<\"\$body\" >/dev/null"
respond "$ID" "$B2" '{"action":"accept","content":{"host":"db.internal"}}'
check "a missing required field: 400 schema_mismatch naming port" \
  "[ $code = 400 ] && is_error schema_mismatch && jq -e '.error.message | test(\"port\")' <<<\"\$body\" >/dev/null"
respond "$ID" "$B2" '{"action":"accept","content":{"port":5432,"host":"not a uri"}}'
check "a string that is not a uri: 400 schema_mismatch naming host" \
  "[ $code = 400 ] && is_error schema_mismatch && jq -e '.error.message | test(\"host\")' <<<\"\$body\" >/dev/null"
respond "$ID" "$B2" '{"action":"accept","content":{"port":"5432"}}'
check "a number given as a string: 400 schema_mismatch" "[ $code = 400 ] && is_error schema_mismatch"
respond "$ID" "$B2" '{"action":"accept","content":{"port":5432,"extra":1}}'
check "a field not in the schema: 400 schema_mismatch naming it" \
  "[ $code = 400 ] && is_error schema_mismatch && jq -e '.error.message | test(\"extra\")' <<<\"\$body\" >/dev/null"
respond "$ID" "$B2" '{"action":"maybe"}'
check "an unknown action: 400 bad_request" "[ $code = 400 ] && is_error bad_request"
check "after the refused answers it is still pending" "[ \"\$(state_of $ID)\" = pending ]"

# The asker waits; the addressee accepts.
curl -s --max-time 120 -H "Authorization: Bearer $B1" "$URL/v1/elicitations/$ID?wait=60" >"$T/lp2" &
LP2=$!
wait_for '[ "$(waiters)" = 1 ]'
check "builder-1's wait on the elicitation is waiting" "[ \"\$(waiters)\" = 1 ]"
respond "$ID" "$B2" '{"action":"accept","content":{"port":5432,"host":"postgres://db.internal","tls":true}}'
check "builder-2 accepts with valid content: 200, state accepted" \
  "[ $code = 200 ] && [ \"\$(jq -r .state <<<\"\$body\")\" = accepted ] && [ \"\$(jq -r .content.port <<<\"\$body\")\" = 5432 ]"
wait "$LP2"
check "the asker's wait returns the accepted answer and its content" \
  "jq -e '.state == \"accepted\" and .content.port == 5432 and .content.tls == true and .answered_ns >= .created_ns' \"$T/lp2\" >/dev/null"
respond "$ID" "$B2" '{"action":"decline"}'
check "answering again: 409 not_pending" "[ $code = 409 ] && is_error not_pending"
respond "$ID" "$B1" '{"action":"cancel"}'
check "cancelling an answered one: 409 not_pending" "[ $code = 409 ] && is_error not_pending"
req GET "/v1/elicitations?for=me" "$B2"
check "the answered one left builder-2's pending list" "[ \"\$(jq '.elicitations | length' <<<\"\$body\")\" = 0 ]"
req GET "/v1/elicitations?for=me&state=all" "$B2"
check "state=all still lists it" "[ \"\$(jq -r '.elicitations[0].state' <<<\"\$body\")\" = accepted ]"

# ---- 2. decline, cancel, expiry ----------------------------------------------------
ask "$B1" builder-2; DID=$ID
respond "$DID" "$B2" '{"action":"decline"}'
check "builder-2 declines: state declined, no content" \
  "[ $code = 200 ] && jq -e '.state == \"declined\" and .content == null' <<<\"\$body\" >/dev/null"
ask "$B1" builder-2; CID=$ID
respond "$CID" "$B1" '{"action":"cancel"}'
check "builder-1 cancels its own: state cancelled" "[ $code = 200 ] && [ \"\$(jq -r .state <<<\"\$body\")\" = cancelled ]"
respond "$CID" "$B2" '{"action":"accept","content":{"port":1}}'
check "accepting a cancelled one: 409 not_pending" "[ $code = 409 ] && is_error not_pending"
ask "$B1" builder-2 1; XID=$ID
check "an elicitation with expires_in_s 1 is created pending" "[ $code = 201 ]"
wait_for '[ "$(state_of $XID)" = expired ]'
check "it expires (polled until its state changes)" "[ \"\$(state_of $XID)\" = expired ]"
respond "$XID" "$B2" '{"action":"accept","content":{"port":1}}'
check "answering an expired one: 409 not_pending" "[ $code = 409 ] && is_error not_pending"

# Long-polls that end by their deadline, and one that only a question to its own agent ends.
curl -s --max-time 120 -H "Authorization: Bearer $B3" "$URL/v1/elicitations?for=me&wait=1" >"$T/lp3"
check "a long-poll with nothing asked ends at its wait with an empty list" \
  "jq -e '.elicitations == []' \"$T/lp3\" >/dev/null"
ask "$B2" builder-1; PID2=$ID
curl -s --max-time 120 -H "Authorization: Bearer $B2" "$URL/v1/elicitations/$PID2?wait=1" >"$T/lp4"
check "a wait on a pending elicitation ends at its wait, still pending" "[ \"\$(jq -r .state \"$T/lp4\")\" = pending ]"
curl -s --max-time 120 -H "Authorization: Bearer $B3" "$URL/v1/elicitations?for=me&wait=60" >"$T/lp5" &
LP5=$!
wait_for '[ "$(waiters)" = 1 ]'
ask "$B2" builder-1; OTHER=$ID
ask "$B2" builder-3; MINE=$ID
wait "$LP5"
check "builder-3's long-poll returns only the question asked of builder-3" \
  "[ \"\$(jq -c '[.elicitations[].id]' \"$T/lp5\")\" = \"[\\\"$MINE\\\"]\" ]"
check "no long-poll is left waiting" "[ \"\$(waiters)\" = 0 ]"
for x in "$PID2:$B2" "$OTHER:$B2" "$MINE:$B2"; do respond "${x%%:*}" "${x#*:}" '{"action":"cancel"}'; done

# ---- 3. bad requests ---------------------------------------------------------------
ask "$B1" builder-2; KEEP=$ID
post_json /v1/elicitations "$B1" '{"to":"builder-2","message":"m","schema":{"type":"object","properties":{"a":{"type":"object","properties":{}}}}}'
check "a nested object in the schema: 400 bad_schema" "[ $code = 400 ] && is_error bad_schema"
post_json /v1/elicitations "$B1" '{"to":"builder-2","message":"m","schema":{"type":"object","properties":{"a":{"type":"string","pattern":"x"}}}}'
check "a keyword outside the subset (pattern): 400 bad_schema naming it" \
  "[ $code = 400 ] && is_error bad_schema && jq -e '.error.message | test(\"pattern\")' <<<\"\$body\" >/dev/null"
post_json /v1/elicitations "$B1" '{"to":"builder-2","message":"m","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}}'
check "required naming no property: 400 bad_schema" "[ $code = 400 ] && is_error bad_schema"
post_json /v1/elicitations "$HO" '{"to":"builder-2","message":"m","schema":31}'
check "a schema that is a number: 400 bad_schema, not a server fault (fuzz_elicit found a 500)" "[ $code = 400 ] && is_error bad_schema"
post_json /v1/elicitations "$B1" '{"to":"builder-1","message":"m","schema":{"type":"object","properties":{}}}'
check "asking oneself: 400" "[ $code = 400 ]"
post_json /v1/elicitations "$B1" '{"to":"builder-2","message":"m","schema":{"type":"object","properties":{}},"expires_in_s":99999}'
check "expires_in_s past 3600: 400" "[ $code = 400 ] && is_error bad_request"
req GET "/v1/elicitations/eli-0000000000000000" "$B1"
check "an unknown id: 404 not_found" "[ $code = 404 ] && is_error not_found"
req GET "/v1/elicitations/nonsense" "$B1"
check "a malformed id: 404" "[ $code = 404 ]"
req GET "/v1/elicitations/$DID" ""
check "no token: 401" "[ $code = 401 ]"
req DELETE "/v1/elicitations" "$B1"
check "DELETE /v1/elicitations: 405, Allow: GET, POST" "[ $code = 405 ] && grep -qi '^Allow: GET, POST' <<<\"\$hdrs\""
req GET "/v1/elicitations/$DID/response" "$B1"
check "GET …/response: 405, Allow: POST" "[ $code = 405 ] && grep -qi '^Allow: POST' <<<\"\$hdrs\""

# Hostile bodies on both POST routes: every answer 4xx, never a server fault.
python3 - "$T" <<'P'
import os, sys
d = os.path.join(sys.argv[1], "badel")
os.makedirs(d)
bodies = {
    "malformed": b'{"to": "builder-2", "message": ',
    "utf8": b'{"to": "builder-2", "message": "\xff\xfe", "schema": {"type": "object", "properties": {}}}',
    "deep": b'{"to": "builder-2", "message": "m", "schema": ' + b'[' * 5000 + b']' * 5000 + b'}',
    "empty": b'',
    "array": b'[1, 2, 3]',
    "dupkey": b'{"action": "accept", "action": "decline"}',
    "nullbyte": b'{"to": "builder-2", "message": "a\\u0000b", "schema": {"type": "object", "properties": {}}}',
    "hugeenum": b'{"to": "builder-2", "message": "m", "schema": {"type": "object", "properties": {"e": {"type": "string", "enum": [' + b','.join(b'"v%d"' % i for i in range(5000)) + b']}}}}',
    "content-deep": b'{"action": "accept", "content": {"port": ' + b'[' * 30 + b']' * 30 + b'}}',
    "content-nan": b'{"action": "accept", "content": {"port": NaN}}',
}
for k, v in bodies.items():
    open(os.path.join(d, k + ".json"), "wb").write(v)
P
bad4xx=1
for f in "$T"/badel/*.json; do
  req POST /v1/elicitations "$HO" application/json "$f"
  case $code in 4??) ;; *) bad4xx=0; echo "# POST /v1/elicitations $(basename "$f"): $code";; esac
  req POST "/v1/elicitations/$KEEP/response" "$B2" application/json "$f"
  case $code in 4??) ;; *) bad4xx=0; echo "# POST …/response $(basename "$f"): $code";; esac
done
check "malformed, non-UTF-8, deep, empty, duplicate-key, NUL, huge-enum and NaN bodies: all 4xx" "[ $bad4xx = 1 ]"
check "no server fault on the elicitation routes" \
  "! curl -s \"\$URL/metrics\" | grep -E '^lighthouse_bridge_outcomes_total\\{route=\"/v1/elicitations[^\"]*\",class=\"server_fault\"\\} [1-9]'"
check "the target of the hostile answers is still pending" "[ \"\$(state_of $KEEP)\" = pending ]"

# ---- 4. limits: pending per addressee, then the rate ------------------------------
for i in 1 2 3 4 5; do ask "$FL" sink-a; [ "$code" = 201 ] || break; done
check "flood-1 asks sink-a 5 times (the pending limit): all 201" "[ $code = 201 ]"
ask "$FL" sink-a
check "a 6th pending to sink-a: 429 too_many_pending with Retry-After" \
  "[ $code = 429 ] && is_error too_many_pending && grep -qi '^Retry-After: [0-9]' <<<\"\$hdrs\""
for i in 1 2 3 4 5; do ask "$FL" sink-b; [ "$code" = 201 ] || break; done
check "5 more to sink-b: all 201" "[ $code = 201 ]"
ask "$FL" sink-c
check "one to sink-c: 201 (the 12th creation, the burst)" "[ $code = 201 ]"
ask "$FL" sink-c
check "the 13th creation: 429 rate_limited with Retry-After" \
  "[ $code = 429 ] && is_error rate_limited && grep -qi '^Retry-After: [0-9]' <<<\"\$hdrs\""
ask "$B1" builder-2; KID=$ID
check "another agent is not limited by flood-1's rate" "[ $code = 201 ]"

# ---- 5. events, metrics ------------------------------------------------------------
req GET "/v1/events?type=elicitation.*&limit=1000" "$AD"
check "events: created, accepted, declined, cancelled and expired are recorded" \
  "jq -e '[.events[].type] | (index(\"elicitation.created\") and index(\"elicitation.accepted\") and index(\"elicitation.declined\") and index(\"elicitation.cancelled\") and index(\"elicitation.expired\")) != null' <<<\"\$body\" >/dev/null"
check "the accepted event holds the content, aggregate = the id, agent = the addressee" \
  "jq -e --arg id $(jq -r .id "$T/lp2") '[.events[] | select(.type == \"elicitation.accepted\" and .aggregate == \$id and .agent == \"builder-2\" and .data.content.port == 5432)] | length == 1' <<<\"\$body\" >/dev/null"
M=$(curl -s "$URL/metrics")
check "metrics: elicitations_total by outcome" \
  "grep -q '^lighthouse_bridge_elicitations_total{outcome=\"accepted\"} 1\$' <<<\"\$M\" && grep -q '^lighthouse_bridge_elicitations_total{outcome=\"expired\"} 1\$' <<<\"\$M\""
check "metrics: pending gauge and the response histogram" \
  "grep -q '^lighthouse_bridge_elicitations_pending 13\$' <<<\"\$M\" && grep -q '^lighthouse_bridge_elicitation_response_seconds_count 2\$' <<<\"\$M\""
if command -v promtool >/dev/null; then
  check "promtool check metrics passes" "promtool check metrics <<<\"\$M\" >/dev/null 2>&1"
else
  skip "promtool check metrics passes" "promtool not installed"
fi

# ---- 6. a restart keeps the pending ones -------------------------------------------
ask "$B1" builder-2 2; SHORT=$ID
term_wait "$PID"
check "the bridge stops cleanly" "[ $rc = 0 ]"
start_bridge el || { fail "bridge restarts"; done_testing; exit 1; }
req GET "/v1/elicitations/$KID" "$B2"
check "after a restart a pending elicitation is still pending" "[ $code = 200 ] && [ \"\$(jq -r .state <<<\"\$body\")\" = pending ]"
req GET "/v1/elicitations/$DID" "$B1"
check "after a restart a declined one is still declined" "[ \"\$(jq -r .state <<<\"\$body\")\" = declined ]"
respond "$KID" "$B2" '{"action":"accept","content":{"port":6543}}'
check "and it can be answered" "[ $code = 200 ] && [ \"\$(jq -r .content.port <<<\"\$body\")\" = 6543 ]"
wait_for '[ "$(state_of $SHORT)" = expired ]'
check "one whose expiry came across the restart expires" "[ \"\$(state_of $SHORT)\" = expired ]"

"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1; rc=$?
check "events verify passes over the elicitation events" "[ $rc = 0 ]"

# ---- 7. two replicas on one PostgreSQL store ------------------------------------------
# Each bridge keeps its table in memory and catches up from the store (before each request,
# and in its sweeper), so a question asked on one replica is seen, long-polled and answered
# on the other.
if [ -z "${LH_TEST_PG:-}" ]; then
  skip "postgres: two replicas share elicitations" "LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
else
  db="lh_elicit_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    PG="$LH_TEST_PG dbname=$db"
    start_bridge pga --store postgres --pg "$PG" || fail "postgres: bridge A starts"
    DATAA=$DATA PIDA=$PID URLA=$URL
    A1=$("$LH" token create --agent builder-1 --role builder --data "$DATAA" --store postgres --pg "$PG" 2>/dev/null)
    mkdir -p "$T/pgb" && cp -p "$DATAA/secret" "$T/pgb/secret"   # replicas share the chain's key
    start_bridge pgb --store postgres --pg "$PG" || fail "postgres: bridge B starts"
    PIDB=$PID URLB=$URL
    BB2=$("$LH" token create --agent builder-2 --role builder --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    curl -s --max-time 120 -H "Authorization: Bearer $BB2" "$URLB/v1/elicitations?for=me&wait=60" >"$T/lpb" &
    LPB=$!
    URL=$URLB; wait_for '[ "$(waiters)" = 1 ]'
    URL=$URLA; ask "$A1" builder-2; RID=$ID
    check "postgres: builder-1 asks on replica A" "[ $code = 201 ]"
    wait "$LPB"
    check "postgres: builder-2's long-poll on replica B returns it" "[ \"\$(jq -r '.elicitations[0].id' \"$T/lpb\")\" = \"$RID\" ]"
    curl -s --max-time 120 -H "Authorization: Bearer $A1" "$URLA/v1/elicitations/$RID?wait=60" >"$T/lpa" &
    LPA=$!
    wait_for '[ "$(waiters)" = 1 ]'
    URL=$URLB; respond "$RID" "$BB2" '{"action":"accept","content":{"port":15432}}'
    check "postgres: builder-2 accepts on replica B" "[ $code = 200 ]"
    wait "$LPA"
    check "postgres: the asker's wait on replica A returns the answer" "jq -e '.state == \"accepted\" and .content.port == 15432' \"$T/lpa\" >/dev/null"
    URL=$URLA; req GET "/v1/elicitations/$RID" "$A1"
    respond "$RID" "$A1" '{"action":"cancel"}'
    check "postgres: replica A refuses to cancel what B answered: 409" "[ $code = 409 ] && is_error not_pending"
    "$LH" events verify --store postgres --pg "$PG" --data "$DATAA" >"$T/verify.out" 2>&1; rc=$?
    check "postgres: events verify passes" "[ $rc = 0 ]"
    term_wait "$PIDB"; term_wait "$PIDA"   # before the database is dropped
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a test database"
  fi
fi
done_testing

#!/usr/bin/env bash
# expert_llm.sh — `lighthouse expert llm` (docs/expert-llm.md) against the real bridge and
# the project's fake model API (tests/llm/fake_llm.py, loopback, scripted per request).
# A builder's request is escalated by a routed policy rule; the LLM expert (--once) picks it
# up by long-poll and asks the fake model:
#   - a good verdict decides the escalation: OpenAI and Anthropic, whole and streamed;
#   - a malformed answer, a refusal (both APIs) and a slow answer give no verdict: nothing
#     is posted, the escalation stays pending and expires by its deadline with on_timeout;
#   - 429 with Retry-After, then a verdict: the verdict; a 500, then a verdict: the verdict;
#     500s past the bounded retries: no verdict;
#   - the request the model got (model, key header, anthropic-version, stream,
#     response_format, the prompt with the escalation's command); the API key in no log;
#   - a custom --prompt file; a bad template and bad options are refused (exit 2);
#   - claims: of two experts with --claim, one asks its model about a quorum-1 escalation
#     and the other is not handed it; an escalation handed again after its claim lapsed
#     is asked about again (not skipped as seen).
# Checks follow the order of events (the expert exits, then the state is read; an expiry
# is waited for by polling), never a bound on time; only the no-verdict cases use a short
# deadline, because their expiry is the point.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"
ROOT=${LH_ROOT:-.}

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed (the fake model API needs it)"

# Each no-verdict case has its own rule, whose route needs a capability of its own (nv-NAME)
# besides database: an escalation given no verdict stays pending until it expires, and the
# expert of the next case must not see it.
NVCASES=(malformed refusal-openai refusal-anthropic slow five-hundreds huge)
{
  printf 'rules:\n'
  printf '  - id: llm-migrate\n    action: escalate\n    reason: a schema migration needs a database expert\n'
  printf '    match: {program: dbmigrate}\n'
  printf '    escalate: {capabilities: [database], quorum: 1, deadline: 120s, on_timeout: deny}\n'
  for c in "${NVCASES[@]}"; do
    printf '  - id: llm-nv-%s\n    action: escalate\n    reason: a reindex needs a database expert\n' "$c"
    printf '    match: {program: dbreindex, args: ["%s"]}\n' "$c"
    printf '    escalate: {capabilities: [database, nv-%s], quorum: 1, deadline: 8s, on_timeout: allow}\n' "$c"
  done
  # claims (a pool of experts): capabilities of their own, deadlines no test waits for
  for c in pool relapse; do
    printf '  - id: llm-%s\n    action: escalate\n    reason: a vacuum needs a database expert\n' "$c"
    printf '    match: {program: dbvacuum, args: ["%s"]}\n' "$c"
    printf '    escalate: {capabilities: [%s], quorum: 1, deadline: 600s, on_timeout: deny}\n' "$c"
  done
} > "$T/policy.yaml"
start_bridge llm --policy "$T/policy.yaml" || { fail "bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token llm-1 expert)
AT=$(token admin-1 admin)
KEY="sk-fake-$RANDOM$RANDOM-secret"
printf '%s\n' "$KEY" > "$T/api.key"
mkdir -p "$T/proj"

# The fake model API.
printf '[]' > "$T/scenarios.json"
: > "$T/llm.jsonl"
python3 "$ROOT/tests/llm/fake_llm.py" --scenarios "$T/scenarios.json" --port-file "$T/llm.port" \
  --log "$T/llm.jsonl" --api-key "$KEY" 2>"$T/fake.err" &
FAKEPID=$!
tap_before_plan() { kill "$FAKEPID" 2>/dev/null; wait "$FAKEPID" 2>/dev/null; stop_bridges; }
trap 'kill "$FAKEPID" 2>/dev/null; cleanup' EXIT
if ! wait_for '[ -s "$T/llm.port" ] || ! kill -0 $FAKEPID 2>/dev/null' || [ ! -s "$T/llm.port" ]; then
  fail "the fake model API starts"; sed 's/^/#   /' "$T/fake.err"; done_testing; exit 1
fi
LLM="http://127.0.0.1:$(cat "$T/llm.port")"

# scenario JSON: the fake model's steps for the next requests
scenario() { printf '%s' "$1" > "$T/scenarios.json.tmp" && mv "$T/scenarios.json.tmp" "$T/scenarios.json"; }
# escalate COMMAND: the builder's request (wait=0); sets ESC (the escalation id) and body
escalate() {
  jq -n --arg c "$1" --arg cwd "$T/proj" '{tool: "Bash", input: {command: $c}, cwd: $cwd, session: "s1"}' > "$T/req.json"
  req POST "/v1/validate?wait=0" "$BT" application/json "$T/req.json"
  ESC=$(jq -r '.escalation_id // empty' <<<"$body" 2>/dev/null)
}
# expert NAME ARGS...: run the expert with --once; sets erc, and its stdout line in EOUT
expert() {
  local name=$1; shift
  LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" timeout 120 "$LH" expert llm --endpoint "$LLM" \
    --capabilities database,security --api-key-file "$T/api.key" --once "$@" \
    >"$T/$name.out" 2>"$T/$name.log"
  erc=$?
  EOUT=$(tail -1 "$T/$name.out")
}
esc_get() { req GET "/v1/escalations/$1" "$AT"; }
last_request() { tail -1 "$T/llm.jsonl"; }
nreq() { { wc -l < "$T/llm.jsonl"; } 2>/dev/null || echo 0; }

escalate "dbmigrate up 1"
check "a routed escalate rule creates an escalation (wait=0: escalate with its id)" \
  '[ "$code" = 200 ] && jq -e ".decision == \"escalate\" and .rule == \"llm-migrate\"" <<<"$body" >/dev/null && [ -n "$ESC" ]'
ESC0=$ESC

# --- good verdicts: both providers, whole and streamed --------------------------------
i=0
for prov in openai anthropic; do
  for mode in whole stream; do
    i=$((i + 1))
    [ "$i" -gt 1 ] && escalate "dbmigrate up $i"
    id=$ESC
    dec=deny; [ "$mode" = stream ] && dec=allow
    reason="reviewed by the fake $prov model ($mode): migration $i"
    scenario "$(jq -nc --arg d $dec --arg r "$reason" '[{reply: "verdict", decision: $d, reason: $r}]')"
    before=$(nreq)
    flags=(--provider "$prov" --model "fake-$prov")
    [ "$mode" = stream ] && flags+=(--stream)
    expert "good-$prov-$mode" "${flags[@]}"
    check "$prov $mode: the expert posts the model's verdict and exits 0" \
      '[ "$erc" = 0 ] && jq -e --arg id "$id" --arg d $dec ".escalation == \$id and .outcome == \"verdict\" and .decision == \$d" <<<"$EOUT" >/dev/null'
    esc_get "$id"
    check "$prov $mode: the escalation is decided $dec by the expert llm-1 with the model's reason" \
      'jq -e --arg d $dec --arg r "$reason" ".state == \"decided\" and .decision == \$d and .decided_by == \"experts\" and (.verdicts | length) == 1 and .verdicts[0].expert == \"llm-1\" and .verdicts[0].reason == \$r" <<<"$body" >/dev/null'
    r=$(last_request)
    if [ "$prov" = openai ]; then
      check "$prov $mode: the model got POST /v1/chat/completions with the model, the Bearer key, stream=$mode and a strict json_schema response_format" \
        '[ $(( $(nreq) - before )) = 1 ] && jq -e --arg s $mode ".path == \"/v1/chat/completions\" and .model == \"fake-openai\" and .key_ok == true and .stream == (\$s == \"stream\") and .response_format.type == \"json_schema\" and .response_format.json_schema.strict == true" <<<"$r" >/dev/null'
    else
      check "$prov $mode: the model got POST /v1/messages with the model, x-api-key, anthropic-version, max_tokens and stream=$mode" \
        '[ $(( $(nreq) - before )) = 1 ] && jq -e --arg s $mode ".path == \"/v1/messages\" and .model == \"fake-anthropic\" and .key_ok == true and (.anthropic_version | length) > 0 and .max_tokens == 512 and .stream == (\$s == \"stream\")" <<<"$r" >/dev/null'
    fi
    check "$prov $mode: the prompt holds the escalation's id, command and rule" \
      'jq -e --arg id "$id" --arg c "dbmigrate up $i" "(.prompt | contains(\$id)) and (.prompt | contains(\$c)) and (.prompt | contains(\"llm-migrate\"))" <<<"$r" >/dev/null'
  done
done
check "the escalation of the first request was decided (events: created, verdict, decided, in this order)" \
  'req GET "/v1/events?type=escalation.*&limit=1000" "$AT"; jq -e --arg id "$ESC0" "[.events[] | select(.aggregate == \$id) | .type] as \$t | (\$t | index(\"escalation.created\")) < (\$t | index(\"escalation.verdict\")) and (\$t | index(\"escalation.verdict\")) < (\$t | index(\"escalation.decided\"))" <<<"$body" >/dev/null'

# --- 429 with Retry-After, then a verdict; 500 then a verdict -------------------------
escalate "dbmigrate up 429"
id=$ESC
scenario '[{"reply":"status","status":429,"retry_after":"1"},{"reply":"verdict","decision":"deny","reason":"after the rate limit"}]'
before=$(nreq)
expert rl --provider anthropic --model fake-anthropic --stream
esc_get "$id"
check "429 with Retry-After, then a verdict: the expert waits, asks again, and the verdict decides it" \
  '[ "$erc" = 0 ] && [ $(( $(nreq) - before )) = 2 ] && jq -e ".attempts == 2 and .outcome == \"verdict\"" <<<"$EOUT" >/dev/null && jq -e ".state == \"decided\" and .decision == \"deny\" and .verdicts[0].reason == \"after the rate limit\"" <<<"$body" >/dev/null'
check "the 429 and its Retry-After are in the expert's log" 'grep -q "rate limited (429): retrying after 1000 ms" "$T/rl.log"'

# Retry-After as an HTTP date (RFC 9110), two seconds ahead: waited for (0 to 2 s, as the
# date has whole seconds), then the verdict.
escalate "dbmigrate up 429-date"
id=$ESC
when=$(LC_ALL=C date -u -d '+2 sec' '+%a, %d %b %Y %H:%M:%S GMT')
scenario "$(jq -nc --arg w "$when" '[{reply: "status", status: 429, retry_after: $w}, {reply: "verdict", decision: "allow", reason: "after a dated Retry-After"}]')"
expert rldate --provider openai --model fake-openai --claim 0
esc_get "$id"
check "429 with Retry-After as an HTTP date, then a verdict: it decides (--claim 0: a plain poll)" \
  '[ "$erc" = 0 ] && jq -e ".attempts == 2" <<<"$EOUT" >/dev/null && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$body" >/dev/null && grep -qE "rate limited \(429\): retrying after (0|1000|2000) ms" "$T/rldate.log"'

escalate "dbmigrate up 500"
id=$ESC
scenario '[{"reply":"status","status":500},{"reply":"verdict","decision":"allow","reason":"after a 500"}]'
expert e500 --provider openai --model fake-openai
esc_get "$id"
check "a 500, then a verdict: one bounded retry, and the verdict decides it" \
  '[ "$erc" = 0 ] && jq -e ".attempts == 2" <<<"$EOUT" >/dev/null && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$body" >/dev/null'

# --- no verdict: each stays pending, then expires with on_timeout (allow) -------------
NV=()
escalate "dbreindex malformed"
NV+=("$ESC")
scenario '[{"reply":"text","text":"Sure! {\"decision\": \"allow\", \"reason\": \"fine\"}"}]'
expert malformed --provider openai --model fake-openai --stream --capabilities database,nv-malformed
check "malformed answer: no verdict (exit 1, why malformed), the escalation gets no vote" \
  '[ "$erc" = 1 ] && jq -e --arg id "${NV[0]}" ".escalation == \$id and .outcome == \"no_verdict\" and .why == \"malformed\"" <<<"$EOUT" >/dev/null && esc_get "${NV[0]}" && jq -e "(.verdicts | length) == 0" <<<"$body" >/dev/null'

escalate "dbreindex refusal-openai"
NV+=("$ESC")
scenario '[{"reply":"refusal","text":"I cannot help with that."}]'
expert refusal1 --provider openai --model fake-openai --capabilities database,nv-refusal-openai
check "OpenAI refusal: no verdict (why refusal)" \
  '[ "$erc" = 1 ] && jq -e ".outcome == \"no_verdict\" and .why == \"refusal\"" <<<"$EOUT" >/dev/null'

escalate "dbreindex refusal-anthropic"
NV+=("$ESC")
scenario '[{"reply":"refusal","text":""}]'
expert refusal2 --provider anthropic --model fake-anthropic --stream --capabilities database,nv-refusal-anthropic
check "Anthropic stop_reason refusal (streamed): no verdict (why refusal)" \
  '[ "$erc" = 1 ] && jq -e ".outcome == \"no_verdict\" and .why == \"refusal\"" <<<"$EOUT" >/dev/null'

escalate "dbreindex slow"
NV+=("$ESC")
scenario '[{"reply":"verdict","decision":"deny","reason":"too late to count","sleep":60}]'
expert slow --provider anthropic --model fake-anthropic --capabilities database,nv-slow
check "a model slower than the deadline: no verdict (why late), nothing posted" \
  '[ "$erc" = 1 ] && jq -e ".outcome == \"no_verdict\" and .why == \"late\"" <<<"$EOUT" >/dev/null'

escalate "dbreindex five-hundreds"
NV+=("$ESC")
scenario '[{"reply":"status","status":500},{"reply":"status","status":502},{"reply":"status","status":503}]'
expert e5xx --provider openai --model fake-openai --retries 2 --capabilities database,nv-five-hundreds
check "500s past the bounded retries (--retries 2: three requests): no verdict (why error)" \
  '[ "$erc" = 1 ] && jq -e ".outcome == \"no_verdict\" and .why == \"error\" and .attempts == 3" <<<"$EOUT" >/dev/null'

escalate "dbreindex huge"
NV+=("$ESC")
scenario '[{"reply":"big","bytes":3000000},{"reply":"verdict","decision":"allow","reason":"must not be asked"}]'
before=$(nreq)
expert huge --provider openai --model fake-openai --capabilities database,nv-huge
check "a reply larger than 1 MiB: no verdict (why error), and not asked again" \
  '[ "$erc" = 1 ] && jq -e ".outcome == \"no_verdict\" and .why == \"error\" and (.detail | contains(\"larger than 1 MiB\")) and .attempts == 1" <<<"$EOUT" >/dev/null && [ $(( $(nreq) - before )) = 1 ]'

for k in "${!NV[@]}"; do
  id=${NV[$k]}
  wait_for 'esc_get "$id"; jq -e ".state != \"pending\"" <<<"$body" >/dev/null 2>&1'
  check "no verdict $((k + 1)) ($id): it stayed pending and expired by its deadline with on_timeout allow, no expert vote" \
    'jq -e ".state == \"expired\" and .decision == \"allow\" and .decided_by == \"timeout\" and (.verdicts | length) == 0" <<<"$body" >/dev/null'
done

# --- a running expert stops on SIGTERM (in its long-poll), leaves, and says what it did --
LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" "$LH" expert llm --provider openai --endpoint "$LLM" \
  --model fake-openai --capabilities nothing-pending >"$T/daemon.out" 2>"$T/daemon.log" &
XPID=$!
wait_for 'grep -q "registered at" "$T/daemon.log" || ! kill -0 $XPID 2>/dev/null'
req GET "/v1/experts" "$AT"
check "a running expert is registered with its capabilities and available" \
  'jq -e "any(.experts[]; .name == \"llm-1\" and .available == true and .capabilities == [\"nothing-pending\"])" <<<"$body" >/dev/null'
kill -TERM "$XPID"
wait "$XPID"; xrc=$?
check "SIGTERM stops it during its long-poll: exit 0, counters logged" '[ "$xrc" = 0 ] && grep -q "stopped: 0 escalations" "$T/daemon.log"'
req GET "/v1/experts" "$AT"
check "it left the bridge when it stopped (POST /v1/experts/leave): not available" \
  'jq -e "any(.experts[]; .name == \"llm-1\" and .available == false) or all(.experts[]; .name != \"llm-1\")" <<<"$body" >/dev/null'

# --- the key is never logged; the prompt file; options ----------------------------------
check "the API key appears in no output of the expert" '! grep -qF "$KEY" "$T"/*.log "$T"/*.out'

cat > "$T/prompt.md" <<'P'
CUSTOM-PROMPT for {{id}}: judge {{command}} (rule {{rule}}, {{deadline_s}} s left). Paths: {{paths}}
P
escalate "dbmigrate up custom"
id=$ESC
scenario '[{"reply":"verdict","decision":"allow","reason":"custom prompt"}]'
expert custom --provider openai --model fake-openai --prompt "$T/prompt.md"
check "--prompt FILE: the model gets the operator's template, filled in" \
  '[ "$erc" = 0 ] && jq -e --arg id "$id" "(.prompt | startswith(\"CUSTOM-PROMPT for \\\"\" + \$id)) and (.prompt | contains(\"judge \\\"dbmigrate up custom\\\"\"))" <<<"$(last_request)" >/dev/null'

printf 'judge {{comand}}\n' > "$T/bad.md"
expert badprompt --provider openai --model m --prompt "$T/bad.md"
check "a template with an unknown placeholder is refused (exit 2, named)" \
  '[ "$erc" = 2 ] && grep -q "unknown placeholder {{comand}}" "$T/badprompt.log"'
expert badprov --provider gemini --model m
check "an unknown provider is refused (exit 2)" '[ "$erc" = 2 ] && grep -q "openai or anthropic" "$T/badprov.log"'
LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" timeout 60 "$LH" expert llm --provider openai --endpoint "$LLM" \
  --model m --once >"$T/builder.out" 2>"$T/builder.log"
erc=$?
check "a builder token is refused by the bridge (exit 2)" '[ "$erc" = 2 ]'
for bad in abc -1 3601 1.5 ""; do
  expert "badclaim" --provider openai --model m --claim "$bad"
  check "--claim '$bad' is refused (exit 2, named)" '[ "$erc" = 2 ] && grep -q "^lighthouse expert llm: --claim .*0 (off) to 3600" "$T/badclaim.log"'
done

# --- claims: a pool of two experts and one quorum-1 escalation -------------------------
# Experts A and B (tokens of their own: claims are keyed by the agent) run with --claim
# 600. The escalation is handed to one of them, which claims it and asks its model; the
# model's answer is malformed, so the escalation stays pending, claimed. Then a third
# expert's claiming poll (wait=0) must get nothing, while a plain poll still lists it. The
# probe comes first and the count of model requests after it, so an expert that ignores
# --claim fails either way: the escalation is unclaimed at the probe, or the other expert
# asked (and decided it) before the probe.
PTA=$(token llm-pa expert); PTB=$(token llm-pb expert); PTC=$(token llm-pc expert)
pool_expert() { # NAME TOKEN ARGS...: a running expert (no --once); sets XPID
  local name=$1 tok=$2; shift 2
  LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$tok" "$LH" expert llm --provider openai --endpoint "$LLM" \
    --model fake-openai --api-key-file "$T/api.key" "$@" >"$T/$name.out" 2>"$T/$name.log" &
  XPID=$!
}
scenario '[{"reply":"text","text":"not a verdict"},{"reply":"verdict","decision":"deny","reason":"a second expert asked"}]'
before=$(nreq)
pool_expert poolA "$PTA" --capabilities pool --claim 600; PA=$XPID
pool_expert poolB "$PTB" --capabilities pool --claim 600; PB=$XPID
wait_for '{ grep -q "registered at" "$T/poolA.log" || ! kill -0 $PA; } 2>/dev/null && { grep -q "registered at" "$T/poolB.log" || ! kill -0 $PB; } 2>/dev/null'
escalate "dbvacuum pool"
id=$ESC
wait_for '[ -s "$T/poolA.out" ] || [ -s "$T/poolB.out" ] || ! kill -0 $PA 2>/dev/null || ! kill -0 $PB 2>/dev/null'
post_json /v1/experts/register "$PTC" '{"capabilities":["pool"]}'
req GET "/v1/escalations?state=pending&wait=0&claim=600" "$PTC"
check "a pool (--claim): the expert handed the escalation holds it, a third expert's claiming poll gets nothing" \
  '[ "$code" = 200 ] && jq -e ".escalations == []" <<<"$body" >/dev/null'
req GET "/v1/escalations?state=pending&wait=0" "$PTC"
check "... while a plain poll still lists it, pending" \
  '[ "$code" = 200 ] && jq -e --arg id "$id" "any(.escalations[]; .id == \$id)" <<<"$body" >/dev/null'
check "a pool (--claim): one model request for the quorum-1 escalation, from one expert; the other got nothing" \
  '[ $(( $(nreq) - before )) = 1 ] && [ "$(cat "$T/poolA.out" "$T/poolB.out" | wc -l)" = 1 ] && jq -e --arg id "$id" ".escalation == \$id and .why == \"malformed\"" "$T/poolA.out" "$T/poolB.out" >/dev/null'
kill -TERM "$PA" "$PB"
wait "$PA"; ra=$?
wait "$PB"; rb=$?
check "the pool's experts stop on SIGTERM (exit 0)" '[ "$ra" = 0 ] && [ "$rb" = 0 ]'

# An escalation handed again after its claim lapsed (--claim 2) is asked about again:
# the first answer is malformed, the claim lapses, the bridge offers it again, and the
# expert asks again and decides it. (The lease only paces it; the checks wait on events.)
scenario '[{"reply":"text","text":"not a verdict either"},{"reply":"verdict","decision":"allow","reason":"asked again after the claim lapsed"}]'
before=$(nreq)
pool_expert relapse "$PTA" --capabilities relapse --claim 2; PD=$XPID
escalate "dbvacuum relapse"
id=$ESC
wait_for 'esc_get "$id"; jq -e ".state != \"pending\"" <<<"$body" >/dev/null 2>&1 || ! kill -0 $PD 2>/dev/null'
check "a lapsed claim handed again is asked about again: no verdict, then the verdict decides it" \
  'jq -e ".state == \"decided\" and .decision == \"allow\" and .verdicts[0].expert == \"llm-pa\"" <<<"$body" >/dev/null && [ $(( $(nreq) - before )) = 2 ] && jq -se --arg id "$id" "length == 2 and all(.[]; .escalation == \$id) and .[0].outcome == \"no_verdict\" and .[1].outcome == \"verdict\"" "$T/relapse.out" >/dev/null'
kill -TERM "$PD"; wait "$PD"

term_wait "$PID"
"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1
vrc=$?
check "events verify passes after the escalations (every state change audited)" '[ "$vrc" = 0 ]'

# --- the heartbeat: a bridge that wants one every 2 s (gone after 6 s) ---------------
# The expert idles in its long-poll for 8 s (its poll must end before the lapse), then the
# model takes 10 s over an escalation (the heartbeat thread must keep it registered). A
# lapse shows as an expert.left event with reason "lapsed"; the sleep only gives a broken
# expert the time to lapse.
LIGHTHOUSE_EXPERT_HEARTBEAT=2 start_bridge hb --policy "$T/policy.yaml" || { fail "the second bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token llm-1 expert)
AT=$(token admin-1 admin)
scenario '[{"reply":"verdict","decision":"allow","reason":"worth the wait","sleep":10}]'
LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" timeout 120 "$LH" expert llm --provider openai --endpoint "$LLM" \
  --model fake-openai --capabilities database --api-key-file "$T/api.key" --once >"$T/beat.out" 2>"$T/beat.log" &
XPID=$!
wait_for 'grep -q "registered at" "$T/beat.log" || ! kill -0 $XPID 2>/dev/null'
check "the expert took the bridge's heartbeat interval" 'grep -q "heartbeat every 2 s" "$T/beat.log"'
sleep 8
escalate "dbmigrate up heartbeat"
id=$ESC
wait "$XPID"; erc=$?
esc_get "$id"
check "a model slower than three heartbeat intervals: its verdict decides the escalation" \
  '[ "$erc" = 0 ] && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$body" >/dev/null'
req GET "/v1/events?type=expert.*&limit=1000" "$AT"
check "the expert never lapsed, idle in its long-poll or waiting for the model (no expert.left lapsed)" \
  '[ "$code" = 200 ] && jq -e "any(.events[]; .type == \"expert.registered\") and ([.events[] | select(.type == \"expert.left\" and .data.reason == \"lapsed\")] | length) == 0" <<<"$body" >/dev/null'
done_testing

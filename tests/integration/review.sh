#!/usr/bin/env bash
# review.sh — `lighthouse review` against the real bridge: list, show, allow, deny, --json,
# --wait, its refusals and exit codes, escaped control characters, and the interactive
# mode driven through a pseudo-terminal (pty_drive.py), as a person over ssh would use it.
# Escalations come from builders' POST /v1/validate under review.policy.yaml. Prints TAP.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"
HERE=$(cd "$(dirname "$0")" && pwd)

start_bridge rv --policy "$HERE/review.policy.yaml" || { fail "bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token sec-1 expert)
E2=$(token perf-1 expert)
AT=$(token admin-1 admin)
export LIGHTHOUSE_URL="$URL"

# escalate CMD → the id of the escalation a builder's validate of CMD created (wait=0)
escalate() {
  jq -nc --arg c "$1" '{tool: "Bash", input: {command: $c}, cwd: "/work/app", session: "s-1"}' > "$T/v.json"
  req POST "/v1/validate?wait=0" "$BT" application/json "$T/v.json"
  jq -r '.escalation_id // empty' <<<"$body"
}
rv() { LIGHTHOUSE_TOKEN=$1 "$LH" review "${@:2}" >"$T/rv.out" 2>"$T/rv.err"; rc=$?; out=$(cat "$T/rv.out"); err=$(cat "$T/rv.err"); }

A=$(escalate "deploy-tool --env prod --service api")
B=$(escalate "deploy-tool --env prod --service web")
check "builders' validates create escalations ($A, $B)" '[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ]'

rv "$ET" --capabilities security list
check "review --capabilities security list: both, with rule, agent, command, reason and needs (rc $rc)" \
  '[ $rc = 0 ] && grep -q "$A" <<<"$out" && grep -q "$B" <<<"$out" && grep -q review.deploy <<<"$out" && grep -q builder-1 <<<"$out" && grep -q "deploy-tool --env prod --service api" <<<"$out" && grep -q "needs a person to look at it (needs security" <<<"$out"'
rv "$ET" list --json
check "list --json is the bridge's list" '[ $rc = 0 ] && jq -e --arg a "$A" "[.escalations[].id] | index(\$a) != null" <<<"$out" >/dev/null'

rv "$E2" --capabilities performance list
check "an expert without the capability sees neither (rc $rc)" '[ $rc = 0 ] && ! grep -q "$A" <<<"$out" && grep -q "no pending escalations" <<<"$out"'

rv "$ET" show "$A"
check "show: context (command, cwd, rule, risk, reason, needs, quorum, verdicts, deadline)" \
  '[ $rc = 0 ] && grep -q "command  deploy-tool --env prod --service api" <<<"$out" && grep -q "cwd      /work/app" <<<"$out" && grep -q "review.deploy (risk high)" <<<"$out" && grep -q "needs a person" <<<"$out" && grep -q "needs    security; quorum 1; on timeout deny" <<<"$out" && grep -q "verdicts so far: none" <<<"$out" && grep -qE "[0-9]+s left" <<<"$out"'
rv "$ET" show "$A" --json
check "show --json is the escalation" '[ $rc = 0 ] && jq -e --arg a "$A" ".id == \$a and .state == \"pending\" and .rule == \"review.deploy\"" <<<"$out" >/dev/null'

# A builder waits for the verdict; the reviewer denies; the builder gets deny, tier expert.
jq -nc '{tool: "Bash", input: {command: "deploy-tool --env prod --service db"}, cwd: "/work/app"}' > "$T/w.json"
curl -s --max-time 90 -H "Authorization: Bearer $BT" -H "Content-Type: application/json" \
  --data-binary @"$T/w.json" "$URL/v1/validate?wait=60" > "$T/waited.json" &
WAITER=$!
wait_for "LIGHTHOUSE_TOKEN=$ET $LH review list --json 2>/dev/null | jq -e '[.escalations[] | select(.context.command // .request.input.command | test(\"service db\"))] | length == 1' >/dev/null"
C=$(LIGHTHOUSE_TOKEN=$ET "$LH" review list --json | jq -r '.escalations[] | select((.context.command // .request.input.command) | test("service db")) | .id')
rv "$ET" deny "$C" --reason "no deploys of the database today"
check "deny ID --reason: decided (rc $rc: $out)" '[ $rc = 0 ] && grep -q "is decided: deny" <<<"$out"'
wait "$WAITER"
check "the waiting builder gets deny, tier expert, with the reviewer's reason ($(head -c 300 "$T/waited.json"))" \
  'jq -e --arg c "$C" ".decision == \"deny\" and .tier == \"expert\" and .escalation_id == \$c and (.reason | test(\"no deploys of the database today\"))" "$T/waited.json" >/dev/null'

rv "$ET" allow "$A" --reason "the api deploy is scheduled" --json
check "allow ID --reason --json: the decided escalation" '[ $rc = 0 ] && jq -e ".state == \"decided\" and .decision == \"allow\"" <<<"$out" >/dev/null'
req GET "/v1/escalations/$A" "$BT"
check "the builder reads its escalation: allow by experts, with the verdict" \
  '[ "$code" = 200 ] && jq -e ".decision == \"allow\" and .verdicts[0].expert == \"sec-1\" and .verdicts[0].reason == \"the api deploy is scheduled\"" <<<"$body" >/dev/null'

rv "$ET" deny "$A" --reason "again"
check "a verdict on a decided escalation: exit 1, the bridge's not_pending ($err)" '[ $rc = 1 ] && grep -q not_pending <<<"$err"'
rv "$ET" allow "$B"
check "a verdict without --reason: exit 2, says what to add" '[ $rc = 2 ] && grep -q -- "--reason" <<<"$err"'
rv "$ET" show not-an-id
check "a malformed id: exit 2" '[ $rc = 2 ]'
rv "$ET" show esc-00000000000000ff
check "an unknown id: exit 1, not_found" '[ $rc = 1 ] && grep -q not_found <<<"$err"'
rv "$BT" list
check "a builder token: exit 1, forbidden" '[ $rc = 1 ] && grep -q forbidden <<<"$err"'
rv "${ET}x" list
check "a bad token: exit 1, unauthorized, and what to check" '[ $rc = 1 ] && grep -q unauthorized <<<"$err" && grep -q LIGHTHOUSE_TOKEN <<<"$err"'
rv "" list
check "no token: exit 2, names LIGHTHOUSE_TOKEN" '[ $rc = 2 ] && grep -q LIGHTHOUSE_TOKEN <<<"$err"'
LIGHTHOUSE_URL=http://127.0.0.1:1 rv "$ET" list
check "no bridge: exit 1, says it cannot reach it" '[ $rc = 1 ] && grep -q "cannot reach the bridge" <<<"$err"'

# A command with terminal escapes (ESC ] 0 ; title BEL, ESC [ 2 J) is shown escaped.
jq -nc '{tool: "Bash", input: {command: "deploy-tool \u001b]0;pwned\u0007 \u001b[2J"}, cwd: "/work/app"}' > "$T/v.json"
req POST "/v1/validate?wait=0" "$BT" application/json "$T/v.json"
D=$(jq -r '.escalation_id // empty' <<<"$body")
rv "$AT" show "$D"
check "control characters from the bridge are escaped, never sent to the terminal" \
  '[ $rc = 0 ] && grep -qF "\\x1b]0;pwned\\x07" <<<"$out" && ! grep -q $'"'"'\x1b'"'"' "$T/rv.out"'

# --wait: a long-poll that returns when an escalation arrives.
rv "$AT" deny "$D" --reason "escapes in a deploy command" ; rv "$AT" deny "$B" --reason "one at a time"
rv "$AT" list --json
check "nothing is pending now" '[ $rc = 0 ] && jq -e ".escalations == []" <<<"$out" >/dev/null'
LIGHTHOUSE_TOKEN=$AT "$LH" review list --wait 30 --json > "$T/wait.out" 2>&1 &
LP=$!
E=$(escalate "deploy-tool --env prod --service queue")
wait "$LP"; rc=$?
check "list --wait returns with the escalation that arrived (rc $rc)" '[ $rc = 0 ] && jq -e --arg e "$E" "[.escalations[].id] | index(\$e) != null" "$T/wait.out" >/dev/null'

# Interactive, through a pty: skip the first, deny the second with a reason, quit.
F=$(escalate "deploy-tool --env prod --service cache")
printf '%s' '[["queue[^\n]*\n(.|\n)*a\\(llow\\) / d\\(eny\\) / s\\(kip\\) / q\\(uit\\)\\? ", "s\n"],
 ["service cache(.|\n)*\\? ", "x\n"], ["answer a, d, s or q", ""], ["\\? ", "d\n"], ["reason for deny: ", "\n"],
 ["a reason is required(.|\n)*reason for deny: ", "cache deploys wait for Monday\n"],
 ["is decided: deny", ""], ["nothing to review but what you skipped", "q\n"]]' > "$T/steps.json"
LIGHTHOUSE_TOKEN=$ET python3 "$HERE/pty_drive.py" "$T/steps.json" -- "$LH" review --capabilities security > "$T/pty.out" 2>&1; rc=$?
echo "# pty transcript (tail):"; tail -12 "$T/pty.out" | sed 's/^/#   /'
check "interactive on a pty: skip, a wrong key, deny with a reason (an empty one asked again), quit (rc $rc)" '[ $rc = 0 ] && grep -q "1 verdict given" "$T/pty.out"'
req GET "/v1/escalations/$F" "$BT"
check "the interactive deny is the escalation's verdict" \
  'jq -e ".decision == \"deny\" and .verdicts[0].reason == \"cache deploys wait for Monday\"" <<<"$body" >/dev/null'
req GET "/v1/escalations/$E" "$BT"
check "the skipped one is still pending" 'jq -e ".state == \"pending\"" <<<"$body" >/dev/null'
done_testing

#!/usr/bin/env bash
# annotations.sh — anchored annotations end to end (docs/shadows.md, "Annotations"): files
# reported by the real hook (as shadows.sh does), notes attached by experts to a function
# or to lines, re-resolved after each edit: exact when untouched, moved (with the new line
# numbers) after edits above, moved and found by context after the function is renamed,
# lost once it is deleted; time travel with ?at=; deletes (author or admin), limits and
# roles; annotations rebuilt from the events after a restart; events verify. The same
# seen through `lighthouse mount` (annotations/<path>.json, escalations/<id>.json) where
# FUSE can mount (skipped with the reason elsewhere).
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

export LIGHTHOUSE_ANNOTATIONS_MAX=8
# One rule that escalates to a reviewer, for the mount's escalations/.
printf '%s\n' 'version: 1' 'settings:' '  escalation:' '    capabilities: [review]' '    deadline: 600s' 'rules:' \
  '  - id: ann-review' '    action: escalate' '    reason: a change a reviewer looks at' '    match: {program: ann-review-me}' \
  > "$T/policy.yaml"
start_bridge ann --policy "$T/policy.yaml" || { fail "bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token expert-1 expert)
ET2=$(token expert-2 expert)
AT=$(token admin-1 admin)
P="$T/project"
mkdir -p "$P/src"

payload() {
  jq -n --arg cwd "$P" --arg t "$1" --arg f "$2" '{hook_event_name:"PostToolUse",session_id:"s1",cwd:$cwd,tool_name:$t,tool_input:{file_path:$f},tool_response:{}}' > "$T/payload.json"
}
hook_post() { LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$HOOK" post-tool-use < "$T/payload.json" 2>>"$T/hook.err"; }
report() { payload "$1" "$P/$2"; hook_post; }

# The mount (an expert's), when FUSE works here.
M="$T/mnt" MPID= MOUNTED=0 WHY="no /dev/fuse or fusermount3 here"
mounted() { grep -qF " $M fuse" /proc/mounts; }
stop_mount() {
  [ -n "$MPID" ] || return 0
  kill -TERM "$MPID" 2>/dev/null
  for _ in $(seq 1200); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$MPID" 2>/dev/null
  wait "$MPID" 2>/dev/null
  MPID=
  mounted && fusermount3 -u "$M" 2>/dev/null
}
tap_before_plan() { stop_mount; stop_bridges; }
trap 'stop_mount; cleanup' EXIT
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null 2>&1; then
  mkdir -p "$M"
  LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" "$LH" mount "$M" >"$T/mount.err" 2>&1 &
  MPID=$!
  wait_for 'mounted || ! kill -0 $MPID 2>/dev/null'
  if mounted; then MOUNTED=1; else WHY="FUSE cannot mount here: $(head -1 "$T/mount.err")"; MPID=; fi
fi
# in_mount NAME FILE JQ: FILE under the mount's annotations/ satisfies JQ (waiting out the
# mount's one-second cache of the documents)
mount_has() { jq -e "$MJQ" "$M/annotations/$MFILE" >/dev/null 2>&1; }
in_mount() {
  MFILE=$2 MJQ=$3
  if [ $MOUNTED = 1 ]; then check "mount: $1" "wait_for mount_has"; else skip "mount: $1" "$WHY"; fi
}
in_mount_sh() {   # in_mount_sh NAME CONDITION
  if [ $MOUNTED = 1 ]; then check "mount: $1" "$2"; else skip "mount: $1" "$WHY"; fi
}
# ann ID [QUERY] → $body is the annotation resolved (at the head, or ?QUERY)
ann() { req GET "/v1/annotations/$1${2:+?$2}" "$ET"; }
field() { jq -c "$1" <<<"$body"; }

# Version 1 of two files.
printf '#include <stdio.h>\n\nstatic int helper(int x) {\n    return x * 2;\n}\n\nint compute(int a, int b) {\n    int s = helper(a);\n    s += helper(b);\n    return s;\n}\n' > "$P/src/calc.c"
printf '#!/bin/sh\ngreet() {\n  echo "hello {"\n}\n' > "$P/src/tools.sh"
report Write src/calc.c
report Write src/tools.sh
V1=$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/tree" | jq .at_seq)

# 1. Creation: on a symbol, on lines; both exact at once.
post_json /v1/annotations "$ET" '{"path":"src/calc.c","symbol":"compute","text":"compute must not overflow"}'
check "an expert annotates a function (201)" "[ $code = 201 ]"
FN=$(jq -r .id <<<"$body")
check "the function annotation is anchored on its lines and exact" \
  "[ \"\$(field '[.confidence, .lines, .symbol, .anchor.kind]')\" = '[\"exact\",{\"start\":7,\"end\":11},\"compute\",\"function\"]' ]"
post_json /v1/annotations "$ET" '{"path":"src/calc.c","lines":{"start":8,"end":9},"text":"two calls to helper"}'
check "an expert annotates a line range (201, exact)" "[ $code = 201 ] && [ \"\$(field .confidence)\" = '\"exact\"' ]"
LN=$(jq -r .id <<<"$body")
post_json /v1/annotations "$ET2" '{"path":"src/tools.sh","symbol":"greet","text":"shell greeting"}'
check "a shell function is found by the symbol finder (201, lines 2-4)" \
  "[ $code = 201 ] && [ \"\$(field .lines)\" = '{\"start\":2,\"end\":4}' ]"
SH=$(jq -r .id <<<"$body")
in_mount "annotations/src/calc.c.json holds both annotations, exact" src/calc.c.json \
  '[.annotations[] | [.id, .confidence]] == [["'"$FN"'","exact"],["'"$LN"'","exact"]]'
in_mount_sh "annotations/src/ lists one document per annotated file" \
  "[ \"\$(ls \"$M/annotations/src\" | tr '\n' ' ')\" = 'calc.c.json tools.sh.json ' ]"
in_mount_sh "the root lists annotations and escalations" \
  "[ \"\$(ls \"$M\" | tr '\n' ' ')\" = 'annotations at current debug escalations history streams ' ]"
in_mount_sh "annotations/ is read-only (EROFS)" "! touch \"$M/annotations/src/new.json\" 2>\"$T/touch.err\" && grep -q 'Read-only' \"$T/touch.err\""

# A Python method by its bare name (one class has it); a name two classes share is refused.
printf 'import os\n\nclass Shape:\n    @property\n    def area(self):\n        return 0\n\nclass A:\n    def run(self):\n        pass\n\nclass B:\n    def run(self):\n        pass\n' > "$P/src/shape.py"
report Write src/shape.py
post_json /v1/annotations "$ET" '{"path":"src/shape.py","symbol":"area","text":"check the units"}'
check "a Python method found by its bare name is Shape.area, from its decorator (4-6)" \
  "[ $code = 201 ] && [ \"\$(field '[.symbol, .anchor.kind, .lines]')\" = '[\"Shape.area\",\"method\",{\"start\":4,\"end\":6}]' ]"
PY=$(jq -r .id <<<"$body")
post_json /v1/annotations "$ET" '{"path":"src/shape.py","symbol":"run","text":"which one?"}'
check "a bare name two classes share is 400 symbol_not_found (ambiguous)" "[ $code = 400 ] && is_error symbol_not_found"
printf 'import os\nimport sys\n\nclass Shape:\n    """A shape."""\n\n    @property\n    def area(self):\n        return 0\n' > "$P/src/shape.py"
report Edit src/shape.py
ann "$PY"
check "after lines above it, the method annotation moved to 7-9" \
  "[ \"\$(field '[.confidence, .lines, .found_by]')\" = '[\"moved\",{\"start\":7,\"end\":9},\"symbol\"]' ]"
req DELETE "/v1/annotations/$PY" "$ET"

# 2. Edits above the function: it moves, with the new line numbers.
printf '#include <stdio.h>\n#include <stdlib.h>\n/* helpers */\n\nstatic int helper(int x) {\n    return x * 2;\n}\n\nint compute(int a, int b) {\n    int s = helper(a);\n    s += helper(b);\n    return s;\n}\n' > "$P/src/calc.c"
report Edit src/calc.c
ann "$FN"
check "after edits above, the function annotation is moved to lines 9-13, found by symbol" \
  "[ \"\$(field '[.confidence, .lines, .found_by]')\" = '[\"moved\",{\"start\":9,\"end\":13},\"symbol\"]' ]"
ann "$LN"
check "after edits above, the lines annotation follows its text to 10-11, found by context" \
  "[ \"\$(field '[.confidence, .lines, .found_by]')\" = '[\"moved\",{\"start\":10,\"end\":11},\"context\"]' ]"
ann "$FN" "at=$V1"
check "resolved at the first version (?at=seq) it is exact at its old lines" \
  "[ \"\$(field '[.confidence, .lines]')\" = '[\"exact\",{\"start\":7,\"end\":11}]' ]"
ann "$SH"
check "an annotation on an untouched file stays exact" "[ \"\$(field .confidence)\" = '\"exact\"' ]"
in_mount "after edits above, the mount shows the function annotation moved to 9-13" src/calc.c.json \
  '.annotations[0] | .confidence == "moved" and .lines == {"start":9,"end":13}'
in_mount "the mount shows the untouched file's annotation exact" src/tools.sh.json '.annotations[0].confidence == "exact"'

# 3. The function renamed (and moved above helper): found by context, with its new name.
printf '#include <stdio.h>\n\nint total(int a, int b) {\n    int s = helper(a);\n    s += helper(b);\n    return s;\n}\n\nstatic int helper(int x) {\n    return x * 2;\n}\n' > "$P/src/calc.c"
report Edit src/calc.c
ann "$FN"
check "after a rename, the function annotation is moved, found by context, on total at 3-7" \
  "[ \"\$(field '[.confidence, .found_by, .symbol, .lines]')\" = '[\"moved\",\"context\",\"total\",{\"start\":3,\"end\":7}]' ]"
req GET "/v1/annotations?path=src/calc.c" "$ET"
check "GET /v1/annotations?path= lists the file's two annotations, resolved" \
  "[ \"\$(field '[.annotations[] | [.id, .confidence]]')\" = '[[\"$FN\",\"moved\"],[\"$LN\",\"moved\"]]' ]"
in_mount "after the rename, the mount shows it on total, found by context" src/calc.c.json \
  '.annotations[0] | .confidence == "moved" and .symbol == "total" and .found_by == "context"'

# 4. The function deleted: lost.
printf '#include <stdio.h>\n\nstatic int helper(int x) {\n    return x * 2;\n}\n' > "$P/src/calc.c"
report Edit src/calc.c
ann "$FN"
check "once the function is deleted, its annotation is lost (no lines)" \
  "[ \"\$(field '[.confidence, .lines, .file_exists]')\" = '[\"lost\",null,true]' ]"
ann "$LN"
check "the lines annotation in it is lost too" "[ \"\$(field .confidence)\" = '\"lost\"' ]"
in_mount "once the function is deleted, the mount shows its annotation lost" src/calc.c.json \
  '.annotations[0] | .confidence == "lost" and .lines == null'

# 5. Refusals.
post_json /v1/annotations "$ET" '{"path":"src/calc.c","symbol":"nothing_here","text":"x"}'
check "an unknown symbol is 400 symbol_not_found" "[ $code = 400 ] && is_error symbol_not_found"
post_json /v1/annotations "$ET" '{"path":"src/none.c","lines":{"start":1,"end":1},"text":"x"}'
check "a file with no shadow is 404" "[ $code = 404 ] && is_error not_found"
post_json /v1/annotations "$ET" '{"path":"src/calc.c","lines":{"start":4,"end":99},"text":"x"}'
check "lines past the file's end are 400" "[ $code = 400 ] && is_error bad_request"
post_json /v1/annotations "$ET" '{"path":"src/calc.c","lines":{"start":1,"end":1},"symbol":"helper","text":"x"}'
check "lines and symbol together are 400" "[ $code = 400 ] && is_error bad_request"
long=$(head -c 4001 /dev/zero | tr '\0' 'a')
post_json /v1/annotations "$ET" "{\"path\":\"src/calc.c\",\"symbol\":\"helper\",\"text\":\"$long\"}"
check "a text over 4000 bytes is 400" "[ $code = 400 ] && is_error bad_request"
post_json /v1/annotations "$ET" '{"path":"../etc/passwd","lines":{"start":1,"end":1},"text":"x"}'
check "a path with .. is 400" "[ $code = 400 ] && is_error bad_request"
post_json /v1/annotations "$BT" '{"path":"src/calc.c","symbol":"helper","text":"x"}'
check "a builder may not annotate (403)" "[ $code = 403 ]"
req GET /v1/annotations "$BT"
check "a builder may not read annotations (403)" "[ $code = 403 ]"
req PUT "/v1/annotations/$FN" "$ET"
check "PUT on an annotation is 405" "[ $code = 405 ]"
req GET "/v1/annotations/ann-0000000000000000" "$ET"
check "an unknown id is 404" "[ $code = 404 ] && is_error not_found"
req GET "/v1/annotations/..%2F..%2Fx" "$ET"
check "a malformed id is 404" "[ $code = 404 ]"

# 6. Deletes: the author or an admin.
req DELETE "/v1/annotations/$LN" "$ET2"
check "another expert may not delete an annotation (403)" "[ $code = 403 ] && is_error forbidden"
req DELETE "/v1/annotations/$LN" "$ET"
check "its author deletes it (200)" "[ $code = 200 ] && [ \"\$(field .deleted)\" = true ]"
ann "$LN"
check "a deleted annotation is 404" "[ $code = 404 ]"
req DELETE "/v1/annotations/$SH" "$AT"
check "an admin deletes another's annotation (200)" "[ $code = 200 ]"
in_mount_sh "a file whose annotations are all deleted leaves annotations/" \
  "wait_for '[ ! -e \"$M/annotations/src/tools.sh.json\" ]'"
# escalations/: one document per escalation, pending then decided.
printf '{"tool":"Bash","input":{"command":"ann-review-me --x"},"cwd":"/tmp/ann-proj"}' > "$T/v.json"
req POST /v1/validate "$BT" application/json "$T/v.json"
EID=$(jq -r '.escalation_id // empty' <<<"$body")
check "a builder's escalate decision creates an escalation (its id in the reply)" "[ -n \"$EID\" ]"
esc_state() { jq -e --arg s "$ESTATE" '.state == $s' "$M/escalations/$EID.json" >/dev/null 2>&1; }
ESTATE=pending
in_mount_sh "escalations/<id>.json shows the pending escalation" "wait_for esc_state"
post_json /v1/experts/register "$ET" '{"capabilities":["review"]}'
post_json "/v1/escalations/$EID/verdict" "$ET" '{"decision":"allow","reason":"looked at it"}'
check "an expert with the capability decides it (200)" "[ $code = 200 ]"
ESTATE=decided
in_mount_sh "escalations/<id>.json then shows it decided" "wait_for esc_state"
in_mount_sh "escalations/ lists exactly the bridge's escalations" "[ \"\$(ls \"$M/escalations\")\" = \"$EID.json\" ]"

# 7. The count limit (LIGHTHOUSE_ANNOTATIONS_MAX=8; one is live now).
for i in 1 2 3 4 5 6 7; do post_json /v1/annotations "$ET" "{\"path\":\"src/calc.c\",\"symbol\":\"helper\",\"text\":\"n$i\"}"; done
check "up to the limit, annotations are created" "[ $code = 201 ]"
post_json /v1/annotations "$ET" '{"path":"src/calc.c","symbol":"helper","text":"one too many"}'
check "past the limit: 409 too_many_annotations" "[ $code = 409 ] && is_error too_many_annotations"

stop_mount

# 8. A restart rebuilds them from the events.
req GET /v1/annotations "$ET"
before=$(jq -c '[.annotations[] | [.id, .confidence, .lines]]' <<<"$body")
term_wait "$PID"
start_bridge ann --policy "$T/policy.yaml" || fail "the bridge restarts on the same data"
req GET /v1/annotations "$ET"
check "after a restart the same annotations resolve the same way (8 live)" \
  "[ \"\$(jq -c '[.annotations[] | [.id, .confidence, .lines]]' <<<\"\$body\")\" = '$before' ] && [ \"\$(field '.annotations | length')\" = 8 ]"
ann "$LN"
check "a deleted one stays deleted after the restart" "[ $code = 404 ]"

# 9. The audit chain.
req GET "/v1/events?type=annotation.*&limit=100" "$ET"
check "annotation.created and annotation.deleted are events, the id their aggregate" \
  "[ \"\$(jq -c '[.events[].type] | unique' <<<\"\$body\")\" = '[\"annotation.created\",\"annotation.deleted\"]' ] && \
   jq -e --arg id \"$FN\" '[.events[] | select(.aggregate == \$id)] | length == 1' <<<\"\$body\" >/dev/null"
"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1; rc=$?
check "events verify passes over the annotation events" "[ $rc = 0 ]"
done_testing

#!/usr/bin/env bash
# bridge_store.sh — when the event store cannot append, the bridge gives no decision:
# 503 store_unavailable, /ready false, the failure counted; when the fault clears, it
# recovers by itself. The fault is real I/O failure: an LD_PRELOAD shim makes fsync and
# fdatasync fail with EIO while a trigger file exists. Prints TAP lines.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

build_fault_shim || exit 1
LD_PRELOAD="$FAULT_SO" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" start_bridge store || { fail "bridge starts"; exit 1; }
BT=$(token builder-1 builder); ET=$(token expert-1 expert)
v='{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}'
post_json /v1/validate "$BT" "$v"
check "before the fault: 200 with a seq" '[ "$code" = 200 ] && jq -e ".seq > 0" <<<"$body" >/dev/null'
before=$(jq .seq <<<"$body")

touch "$LH_FAULT_FILE"
post_json /v1/validate "$BT" "$v"
check "store cannot append: 503 store_unavailable, no decision in the body" \
  '[ "$code" = 503 ] && is_error store_unavailable && ! jq -e ".decision" <<<"$body" >/dev/null 2>&1'
post_json /v1/hooks/claude-code "$BT" '{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}'
check "the hook route gives no permission either: 503" '[ "$code" = 503 ] && ! grep -q permissionDecision <<<"$body"'
req GET /ready ""
check "/ready is 503 and says why" '[ "$code" = 503 ] && [ "$(jq -r .ready <<<"$body")" = false ] && grep -q "store" <<<"$body"'
req GET /health ""
check "/health stays 200 (the process is alive)" '[ "$code" = 200 ]'
out=$(printf '{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}' |
      LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" LIGHTHOUSE_REQUIRE_BRIDGE=1 "$HOOK" pre-tool-use 2>&1); rc=$?
check "the command hook with LIGHTHOUSE_REQUIRE_BRIDGE=1 blocks (exit 2) on the 503" '[ $rc = 2 ] && grep -q 503 <<<"$out"'
req GET /metrics ""
check "event_store_failures_total counts the failures" \
  '[ "$(awk "/^lighthouse_bridge_event_store_failures_total / {print \$2}" "$T/body")" -ge 2 ]'

rm -f "$LH_FAULT_FILE"
check "when the fault clears, decisions come back (200) by themselves" \
  'wait_for "post_json /v1/validate \"\$BT\" \"\$v\"; [ \"\$code\" = 200 ]"'
after=$(jq .seq <<<"$body")
req GET /ready ""
check "/ready is 200 again" '[ "$code" = 200 ]'
req GET "/v1/events?type=decision.made&after=$before" "$ET"
check "no refused decision was recorded; the new one follows the old one" \
  '[ "$(jq "[.events[].seq] | length" <<<"$body")" -ge 1 ] && [ "$(jq -r ".events[-1].seq" <<<"$body")" = "$after" ]'
kill -TERM "$PID"; wait "$PID"; rc=$?
check "the bridge still stops cleanly (exit 0)" '[ $rc = 0 ]'
check "the audit chain verifies" '"$LH" events verify --data "$DATA" >/dev/null 2>&1'

# ---- a start that fails records nothing ------------------------------------------------
printf 'rules: [[[' > "$T/broken.yaml"
"$LH" serve --listen 127.0.0.1:0 --data "$T/badstart" --policy "$T/broken.yaml" >/dev/null 2>"$T/badstart.err"; rc=$?
check "serve with a broken policy file exits 2 and says which file" '[ $rc = 2 ] && grep -q broken.yaml "$T/badstart.err"'
# the query must succeed (a store is there) and list no system.started; a failing query fails
check "...and records no system.started" \
  '"$LH" events query --data "$T/badstart" >"$T/badstart.q" 2>&1 && ! grep -q system.started "$T/badstart.q"'
"$LH" serve --listen 127.0.0.1:0 --data "$T/badstart" --rate-limit lots >/dev/null 2>"$T/badflag.err"; rc=$?
check "serve with a bad flag value exits 2 naming the setting" '[ $rc = 2 ] && grep -q rate_limit "$T/badflag.err"'
printf 'listen: 127.0.0.1:0\nworkers: 3\nbogus: 1\n' > "$T/bad-config.yaml"
"$LH" serve --config "$T/bad-config.yaml" --data "$T/badstart" >/dev/null 2>"$T/badcfg.err"; rc=$?
check "serve with an unknown config key exits 2 naming the file and line" '[ $rc = 2 ] && grep -q "bad-config.yaml:3" "$T/badcfg.err"'

# ---- SIGTERM under steady load: every answered decision is recorded ---------------------
# --rate-limit 0: one agent sends far over the default 200/s, and a 429 is not what this
# part checks (it was one, hidden while a non-JSON reply stopped the count)
start_bridge drain --rate-limit 0 || fail "drain bridge starts"
DT=$(token drain-agent builder)
mkdir -p "$T/drain"
printf '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}' > "$T/drain.json"
# 8 clients, each sending decisions back to back on one keep-alive connection; each
# reply goes to its own file.
for w in 1 2 3 4 5 6 7 8; do
  ( for i in $(seq 400); do printf 'url = "%s/v1/validate"\n-o "%s/drain/r.%s.%s"\n' "$URL" "$T" "$w" "$i"; done ) > "$T/drain/cfg.$w"
  curl -s -X POST -H "Authorization: Bearer $DT" -H 'Content-Type: application/json' --data-binary @"$T/drain.json" \
    --max-time 20 -K "$T/drain/cfg.$w" >/dev/null 2>&1 &
done
wait_for '[ "$(ls "$T"/drain/r.* 2>/dev/null | wc -l)" -ge 100 ]'
kill -TERM "$PID"; wait "$PID"; rc=$?
wait   # the curl clients (the bridge has exited)
check "SIGTERM under load: the bridge exits 0" '[ $rc = 0 ]'
# Each reply file on its own: a decision (its seq to drain.seqs), a 503 shutting_down, or
# anything else, a reply that is not JSON included (one bad file must not hide the rest, as
# it would stop a jq reading them all). No file or an empty one: no reply (the bridge had
# gone). The classifier must have run: "$other" is empty otherwise, and the check fails.
read -r answered refused other < <(python3 - "$T/drain" "$T/drain.seqs" "$T/drain.other" <<'PY'
import glob, json, os, sys
seqs, refused, other, examples = [], 0, 0, []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "r.*"))):
    raw = open(f, "rb").read()
    if not raw.strip(): continue
    try: j = json.loads(raw)
    except ValueError: j = None
    if isinstance(j, dict) and isinstance(j.get("seq"), int): seqs.append(j["seq"]); continue
    if isinstance(j, dict) and isinstance(j.get("error"), dict) and j["error"].get("code") == "shutting_down": refused += 1; continue
    other += 1
    if len(examples) < 3: examples.append("%s: %r" % (os.path.basename(f), raw[:160]))
open(sys.argv[2], "w").write("".join("%d\n" % s for s in seqs))
open(sys.argv[3], "w").write("".join(e + "\n" for e in examples))
print(len(seqs), refused, other)
PY
)
"$LH" events query --data "$DATA" --type decision.made --limit 10000 > "$T/drain.q" 2>&1
# a seq is there when a line of the query starts with it and a space (one awk for all)
missing=$(awk 'NR == FNR { i = index($0, " "); if (i > 1) have[substr($0, 1, i - 1)] = 1; next }
               !($0 in have) { m++ } END { print m + 0 }' "$T/drain.q" "$T/drain.seqs")
check "every one of the $answered answered decisions is in the store under its seq (missing: $missing)" '[ "$answered" -ge 100 ] && [ $missing = 0 ]'
check "replies were decisions or 503 shutting_down ($refused), nothing else ($other)" '[ "${other:-x}" = 0 ]'
[ "${other:-x}" = 0 ] || sed 's/^/#   other reply /' "$T/drain.other" 2>/dev/null
check "system.stopped is the last event" '"$LH" events query --data "$DATA" --desc --limit 1 2>/dev/null | grep -q system.stopped'

# ---- the shared PostgreSQL store ---------------------------------------------------------
if [ -z "${LH_TEST_PG:-}" ]; then
  fail "postgres: LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"
else
  db="lh_bridge_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    PG="$LH_TEST_PG dbname=$db"
    start_bridge pg --store postgres --pg "$PG" || fail "bridge starts on PostgreSQL"
    PBT=$("$LH" token create --agent pg-builder --role builder --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    PET=$("$LH" token create --agent pg-expert --role expert --data "$DATA" --store postgres --pg "$PG" 2>/dev/null)
    post_json /v1/validate "$PBT" "$v"
    check "postgres: a decision with a seq" '[ "$code" = 200 ] && jq -e ".seq > 0" <<<"$body" >/dev/null'
    pseq=$(jq -r .seq <<<"$body")
    req GET "/v1/events?type=decision.made" "$PET"
    check "postgres: the decision is in the shared log" '[ "$(jq -r ".events[-1].seq" <<<"$body")" = "$pseq" ]'
    req GET /metrics ""
    check "postgres: postgres_connection_status is 1" 'grep -q "^lighthouse_bridge_postgres_connection_status 1" "$T/body"'
    kill -TERM "$PID"; wait "$PID"; rc=$?
    check "postgres: the bridge stops cleanly" '[ $rc = 0 ]'
    psql "$LH_TEST_PG" -qc "DROP DATABASE $db" >/dev/null 2>&1
  else
    fail "postgres: cannot create a test database"
  fi
fi
done_testing

#!/usr/bin/env bash
# ops_backup.sh — the SQLite backup and restore of docs/operations.md ("Backup and restore"),
# step by step against a real bridge:
#   - `sqlite3 events.db ".backup FILE"` while the bridge writes gives a copy that
#     `lighthouse events verify` accepts, with the copied secret next to it;
#   - restored into a fresh data dir, the bridge starts on it and decides;
#   - restored over the original data dir after more decisions, the bridge refuses it as a cut
#     log (exit 2, the checkpoint file witnessed a later head), and starts with
#     LIGHTHOUSE_ACCEPT_CUT_LOG=1.
set -u
. "$(dirname "$0")/bridge_lib.bash"
command -v sqlite3 >/dev/null 2>&1 || skip_all "the sqlite3 tool is not installed (scripts/deps.sh installs it)"
export LIGHTHOUSE_RATE_LIMIT=0
unset LIGHTHOUSE_SECRET LIGHTHOUSE_CHECKPOINTS
v='{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}'

start_bridge orig || { fail "bridge starts"; done_testing; exit 1; }
ORIG=$DATA; OPID=$PID
BT=$(token ops-agent builder)
for _ in 1 2 3 4 5; do post_json /v1/validate "$BT" "$v"; done
check "decisions before the backup" '[ "$code" = 200 ]'

mkdir -p "$T/bk"
sqlite3 "$ORIG/events.db" ".backup '$T/bk/events.db'"
check "sqlite3 .backup while the bridge runs" '[ -s "$T/bk/events.db" ]'
cp -p "$ORIG/secret" "$ORIG/token.key" "$T/bk/"
"$LH" events verify --data "$T/bk" >"$T/verify.out" 2>&1; rc=$?
check "events verify accepts the backup (rc $rc)" '[ $rc = 0 ]' || sed 's/^/#   /' "$T/verify.out"
nbk=$(sqlite3 "$T/bk/events.db" 'SELECT count(*) FROM events')
check "the backup holds the decisions made before it ($nbk events)" '[ "$nbk" -ge 5 ]'

for _ in 1 2 3; do post_json /v1/validate "$BT" "$v"; done
check "more decisions after the backup" '[ "$code" = 200 ]'
term_wait "$OPID"
check "the bridge stops cleanly (rc $rc)" '[ $rc = 0 ]'

# restore into a fresh data dir: no checkpoint file witnessed anything there
mkdir -p "$T/fresh"; chmod 700 "$T/fresh"
cp -p "$T/bk/events.db" "$T/bk/secret" "$T/bk/token.key" "$T/fresh/"
start_bridge fresh --data "$T/fresh" || fail "the bridge starts on the backup restored into a fresh data dir"
post_json /v1/validate "$BT" "$v"
check "it decides on the restored store, with the restored token key (seq $(jq .seq <<<"$body" 2>/dev/null))" \
  '[ "$code" = 200 ] && [ "$(jq .seq <<<"$body")" -gt "$nbk" ]'
term_wait "$PID"

# restore over the original: its checkpoint file saw the later head
cp -p "$T/bk/events.db" "$ORIG/events.db"
rm -f "$ORIG/events.db-wal" "$ORIG/events.db-shm"
"$LH" serve --listen 127.0.0.1:0 --data "$ORIG" >"$T/cut.out" 2>"$T/cut.err" &
CPID=$!
BRIDGES+=("$CPID")
for _ in $(seq 1200); do kill -0 "$CPID" 2>/dev/null || break; grep -q 'http://' "$T/cut.out" && break; sleep 0.05; done
wait_exit=$(if kill -0 "$CPID" 2>/dev/null; then echo running; else wait "$CPID"; echo $?; fi)
check "an older backup restored over the data dir is refused as a cut log (exit $wait_exit)" \
  '[ "$wait_exit" = 2 ] && grep -q "cut log" "$T/cut.err"' || sed 's/^/#   /' "$T/cut.err" | head -5
LIGHTHOUSE_ACCEPT_CUT_LOG=1 start_bridge orig --data "$ORIG" || fail "LIGHTHOUSE_ACCEPT_CUT_LOG=1 starts it"
post_json /v1/validate "$BT" "$v"
check "then it decides again" '[ "$code" = 200 ]'

done_testing

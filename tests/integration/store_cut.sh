#!/usr/bin/env bash
# store_cut.sh — cutting the log's tail is caught (issue 16). Someone who can write
# events.db deletes the last events and points chain_head at the new last one: the chain
# alone still verifies. The signed checkpoint file next to the data dir (<data>.checkpoints)
# witnesses the head, so `events verify` exits 1 naming the missing seqs, and a writer
# (`events append`, `serve`) refuses to start on it unless LIGHTHOUSE_ACCEPT_CUT_LOG=1.
# A normal restart is not flagged; a torn last checkpoint line (a power cut) is skipped with a
# note and cut away by the next writer. Order of events only: no wall-clock bounds.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
L="${LH_BUILD:?}/lighthouse"
T=$(mktemp -d /tmp/lh-cut.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
unset LIGHTHOUSE_SECRET LIGHTHOUSE_CHECKPOINTS LIGHTHOUSE_ACCEPT_CUT_LOG LIGHTHOUSE_DATA
if [ ! -x "$L" ]; then echo "not ok - cut: $L is missing"; exit 1; fi
command -v sqlite3 >/dev/null || { echo "not ok - cut: the sqlite3 tool is missing"; exit 1; }
n=0
ok()   { n=$((n+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); echo "not ok $n - $1"; }

events() { # count first
  for i in $(seq "$2" $(($2 + $1 - 1))); do
    printf '{"type":"decision.made","agent":"a%d","aggregate":"s","data":{"n":%d}}\n' $((i % 3)) "$i"
  done
}
events 60 1 | "$L" events append --data "$T/base" --batch 7 >/dev/null 2>"$T/append.err" ||
  { echo "not ok - cut: cannot build the store: $(cat "$T/append.err")"; exit 1; }

if [ -s "$T/base.checkpoints" ] && grep -q '^lhcp1 seq=60 ' "$T/base.checkpoints"; then
  ok "the writer left a signed checkpoint of seq 60 in <data>.checkpoints"
else
  fail "no checkpoint of seq 60 in $T/base.checkpoints: $(cat "$T/base.checkpoints" 2>&1)"
fi
out=$("$L" events verify --data "$T/base" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"60 events verified"* ]] && [[ "$out" == *"checkpoint: seq 60"* ]] &&
   [[ "$out" == *"0 events after it only the store vouches for"* ]]; then
  ok "untouched store verifies against its checkpoint"
else
  fail "untouched store: rc=$rc $out"
fi

# A normal restart: a second writer appends 5 more and closes; nothing is flagged.
out=$(events 5 61 | "$L" events append --data "$T/base" 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then ok "a normal restart of a writer is not flagged"; else fail "restart refused: rc=$rc $out"; fi
out=$("$L" events verify --data "$T/base" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"65 events verified"* ]] && [[ "$out" == *"checkpoint: seq 65"* ]]; then
  ok "after the restart: 65 events verified, checkpoint at seq 65"
else
  fail "after the restart: rc=$rc $out"
fi

# serve_refused DIR WANT: the bridge exits 2 at start-up and its message contains WANT.
serve_try() { # dir → sets srv_rc, srv_err; a bridge that did start is stopped by TERM
  local d=$1
  "$L" serve --listen 127.0.0.1:0 --data "$d" >"$T/serve.out" 2>"$T/serve.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || break
    grep -q 'listening on' "$T/serve.out" 2>/dev/null && break
    sleep 0.05
  done
  SRV_STARTED=0
  grep -q 'listening on' "$T/serve.out" 2>/dev/null && SRV_STARTED=1
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"; srv_rc=$?
  srv_err=$(cat "$T/serve.err")
  # Under the sanitizer build a bridge reports leaks and errors on its stderr at exit.
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/serve.err"; then
    fail "sanitizer report from serve on $d: $(grep -m1 -A8 -E 'ERROR: |runtime error:' "$T/serve.err")"
  fi
}

# attack NAME SQL MISSING_FROM MISSING_TO
attack() {
  local name=$1 sql=$2 from=$3 to=$4 d="$T/$1"
  cp -r "$T/base" "$d"
  cp "$T/base.checkpoints" "$d.checkpoints"
  if ! sqlite3 "$d/events.db" "$sql"; then fail "$name: sqlite3 failed"; return; fi
  # Without the witness the cut passes: that is the hole this closes.
  out=$(LIGHTHOUSE_CHECKPOINTS=off "$L" events verify --data "$d" 2>&1); rc=$?
  if [ "$rc" -eq 0 ]; then ok "$name: without checkpoints the chain alone verifies (the attack is real)"
  else fail "$name: the chain alone should verify after a clean cut: rc=$rc $out"; fi
  out=$("$L" events verify --data "$d" 2>&1); rc=$?
  if [ "$rc" -eq 1 ] && [[ "$out" == *"FAILED at seq $from:"* ]] && [[ "$out" == *"events $from..$to are missing"* ]]; then
    ok "$name: verify exits 1 and names events $from..$to as missing"
  else
    fail "$name: verify: rc=$rc $out"
  fi
  out=$("$L" events verify --data "$d" --json 2>/dev/null)
  if [[ "$out" == *"\"first_bad_seq\":$from"* ]]; then ok "$name: verify --json names seq $from"
  else fail "$name: verify --json: $out"; fi
  out=$(events 1 1000 | "$L" events append --data "$d" 2>&1); rc=$?
  if [ "$rc" -eq 2 ] && [[ "$out" == *"refusing a cut log"* ]] && [[ "$out" == *"events $from..$to are missing"* ]]; then
    ok "$name: events append refuses to extend the cut log"
  else
    fail "$name: append: rc=$rc $out"
  fi
  serve_try "$d"
  if [ "$SRV_STARTED" = 0 ] && [ "$srv_rc" -eq 2 ] && [[ "$srv_err" == *"refusing a cut log"* ]] &&
     [[ "$srv_err" == *"events $from..$to are missing"* ]] && [[ "$srv_err" == *"LIGHTHOUSE_ACCEPT_CUT_LOG"* ]]; then
    ok "$name: serve refuses to start, naming events $from..$to"
  else
    fail "$name: serve: started=$SRV_STARTED rc=$srv_rc $srv_err"
  fi
}

attack cut-tail "DELETE FROM events WHERE seq > 57;
  UPDATE chain_head SET seq = 57, time_ns = (SELECT time_ns FROM events WHERE seq = 57),
    mac = (SELECT mac FROM events WHERE seq = 57);" 58 65
attack to-zero "DELETE FROM events; DELETE FROM snapshots;
  UPDATE chain_head SET seq = 0, time_ns = 0, mac = zeroblob(32);" 1 65
attack to-first "DELETE FROM events WHERE seq > 1;
  UPDATE chain_head SET seq = 1, time_ns = (SELECT time_ns FROM events WHERE seq = 1),
    mac = (SELECT mac FROM events WHERE seq = 1);" 2 65

# Cut, then written again past the witnessed seq (by a writer that did not look at the
# checkpoints): the event at the checkpoint's seq is not the one witnessed.
d="$T/rewritten"; cp -r "$T/cut-tail" "$d"; cp "$T/base.checkpoints" "$d.checkpoints"
out=$(events 12 2000 | LIGHTHOUSE_CHECKPOINTS=off "$L" events append --data "$d" 2>&1) ||
  fail "rewritten: append without checkpoints failed: $out"
out=$("$L" events verify --data "$d" 2>&1); rc=$?
if [ "$rc" -eq 1 ] && [[ "$out" == *"FAILED at seq 65: seq 65 differs from the checkpoint"* ]]; then
  ok "rewritten: verify names seq 65 as differing from its checkpoint"
else fail "rewritten: verify: rc=$rc $out"; fi
serve_try "$d"
if [ "$SRV_STARTED" = 0 ] && [ "$srv_rc" -eq 2 ] && [[ "$srv_err" == *"seq 65 differs from the checkpoint"* ]]; then
  ok "rewritten: serve refuses to start"
else fail "rewritten: serve: started=$SRV_STARTED rc=$srv_rc $srv_err"; fi

# The chain_head row removed along with every event: a writer would start a new chain.
d="$T/no-head"; cp -r "$T/base" "$d"; cp "$T/base.checkpoints" "$d.checkpoints"
sqlite3 "$d/events.db" "DELETE FROM events; DELETE FROM chain_head;"
out=$("$L" events verify --data "$d" 2>&1); rc=$?
if [ "$rc" -eq 1 ] && [[ "$out" == *"events 1..65 are missing"* ]]; then ok "no-head: verify names events 1..65"
else fail "no-head: verify: rc=$rc $out"; fi
serve_try "$d"
if [ "$SRV_STARTED" = 0 ] && [ "$srv_rc" -eq 2 ] && [[ "$srv_err" == *"events 1..65 are missing"* ]]; then
  ok "no-head: serve refuses to start a new chain on it"
else fail "no-head: serve: started=$SRV_STARTED rc=$srv_rc $srv_err"; fi

# A forged checkpoint line (wrong signature) is ignored and reported, never trusted.
d="$T/forged"; cp -r "$T/base" "$d"; cp "$T/base.checkpoints" "$d.checkpoints"
sed -n '$p' "$d.checkpoints" | sed 's/seq=65 /seq=99 /' >>"$d.checkpoints"
out=$("$L" events verify --data "$d" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"checkpoint: seq 65"* ]] && [[ "$out" == *"1 line of"*"not valid signed checkpoints"* ]]; then
  ok "a checkpoint line with a bad signature is ignored and reported"
else fail "forged line: rc=$rc $out"; fi

# A torn last line (a power cut during a checkpoint's write: part of a line, no newline) is
# skipped with a note, not counted as forged; the next writer cuts it away, so its own
# checkpoint is a line of its own (glued to the fragment, neither would parse).
d="$T/torn"; cp -r "$T/base" "$d"; cp "$T/base.checkpoints" "$d.checkpoints"
sed -n '$p' "$d.checkpoints" | head -c 70 >>"$d.checkpoints"
out=$("$L" events verify --data "$d" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"checkpoint: seq 65"* ]] && [[ "$out" == *"last line of"*"is torn (70 bytes"* ]] &&
   [[ "$out" != *"not valid signed"* ]]; then
  ok "torn: verify skips a torn last line with a note, not as a forged line"
else fail "torn: verify: rc=$rc $out"; fi
events 3 66 | "$L" events append --data "$d" >/dev/null 2>"$T/torn.err"; rc=$?
out=$("$L" events verify --data "$d" 2>&1); vrc=$?
if [ "$rc" -eq 0 ] && grep -q "ended in a torn line (70 bytes" "$T/torn.err" && [ "$vrc" -eq 0 ] &&
   [[ "$out" == *"checkpoint: seq 68"*"0 events after it"* ]] && [[ "$out" != *"is torn"* ]] &&
   [[ "$out" != *"not valid signed"* ]] && [ "$(tail -c 1 "$d.checkpoints" | od -An -c | tr -d ' ')" = '\n' ]; then
  ok "torn: the next writer cuts the fragment away (and says so); its checkpoint of seq 68 is read"
else fail "torn: append rc=$rc ($(cat "$T/torn.err")), verify rc=$vrc: $out"; fi

# Accepting the cut: the bridge starts, the cut is recorded, verify says so.
LIGHTHOUSE_ACCEPT_CUT_LOG=1 serve_try "$T/cut-tail"
if [ "$SRV_STARTED" = 1 ] && [[ "$srv_err" == *"accepting a cut log"* ]]; then
  ok "LIGHTHOUSE_ACCEPT_CUT_LOG=1: serve starts on the cut log and says so"
else fail "accept: started=$SRV_STARTED rc=$srv_rc $srv_err"; fi
if grep -q 'kind=cut' "$T/cut-tail.checkpoints"; then ok "the accepted cut is recorded in the checkpoint file"
else fail "no cut line in $T/cut-tail.checkpoints"; fi
out=$("$L" events verify --data "$T/cut-tail" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"1 accepted cut"* ]]; then ok "after an accepted cut verify passes and reports the cut"
else fail "after accept: rc=$rc $out"; fi

# A normal bridge restart on the untouched store is not flagged, and its checkpoint follows.
serve_try "$T/base"
if [ "$SRV_STARTED" = 1 ] && [[ "$srv_err" != *"cut"* ]]; then ok "serve starts on the untouched store"
else fail "serve on base: started=$SRV_STARTED rc=$srv_rc $srv_err"; fi
serve_try "$T/base"
if [ "$SRV_STARTED" = 1 ]; then ok "serve restarts on it (stop, start) without a flag"
else fail "serve restart: started=$SRV_STARTED rc=$srv_rc $srv_err"; fi
out=$("$L" events verify --data "$T/base" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"0 events after it only the store vouches for"* ]]; then
  ok "after the bridge stopped its last checkpoint is the head"
else fail "after serve: rc=$rc $out"; fi
echo "1..$n"

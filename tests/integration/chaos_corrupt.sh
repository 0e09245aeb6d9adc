#!/usr/bin/env bash
# chaos_corrupt.sh — a corrupted events file (issue 16 part 7). A bridge records a few
# hundred decisions and stops; copies of its data directory (and its checkpoint file) are
# then damaged on the raw bytes of events.db, as a disk or an intruder would:
#   - one byte flipped in the data of an event in the middle of the chain: `events verify`
#     exits 1 naming its seq; `serve` refuses to start (exit 2, "refusing a chain that
#     does not verify: at seq N") and starts only with LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1,
#     saying so;
#   - one byte flipped in the last event: refused (the tail check), verify names it;
#   - 16 bytes flipped at random places (5 seeds): `serve` starts exactly when `events
#     verify` passes (a flip in free space or an index may leave the chain intact);
#   - the file truncated to half, to one page less, to zero bytes: verify fails and serve
#     refuses each; LIGHTHOUSE_ACCEPT_CUT_LOG=1 starts it on the empty file (every event
#     cut, recorded in the checkpoint file), not on a malformed one.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"
unset LIGHTHOUSE_SECRET LIGHTHOUSE_ACCEPT_CUT_LOG LIGHTHOUSE_ACCEPT_BROKEN_CHAIN
CHAOS="$(dirname "$0")/chaos.py"
export LIGHTHOUSE_RATE_LIMIT=0

start_bridge orig || { fail "the bridge starts"; done_testing; exit 1; }
ORIG=$DATA
TOK=$(token chaos builder)
printf '%s\n' "$URL" >"$T/url"
python3 "$CHAOS" load "$T/url" "$TOK" "$T/load.jsonl" "$T/stop" 2 &
LPID=$!
oks() { local c; c=$(grep -c '"status": 200' "$T/load.jsonl" 2>/dev/null); echo "${c:-0}"; }
wait_for '[ "$(oks)" -ge 300 ]' || fail "the load got 300 decisions"
touch "$T/stop"; wait "$LPID"
term_wait "$PID"
check "the bridge stopped cleanly (exit $rc)" "[ $rc -eq 0 ]"
HEAD=$("$LH" events verify --data "$ORIG" --json 2>/dev/null | jq -r '.head_seq // .head // empty')
"$LH" events export --data "$ORIG" >"$T/export.jsonl" 2>/dev/null
NEV=$(wc -l <"$T/export.jsonl")
check "the original store verifies ($NEV events)" "'$LH' events verify --data '$ORIG' >/dev/null 2>&1 && [ $NEV -gt 300 ]"
[ -f "$ORIG/events.db-wal" ] && [ -s "$ORIG/events.db-wal" ] && echo "# note: a WAL remains after the clean stop ($(stat -c %s "$ORIG/events.db-wal") bytes)"

# copy NAME → a copy of the original data dir and its checkpoint file; sets C
copy() { C="$T/$1"; rm -rf "$C" "$C.checkpoints"; cp -a "$ORIG" "$C"; cp -a "$ORIG.checkpoints" "$C.checkpoints"; }
# flip FILE OFFSET: xor the byte at OFFSET with 0x01
flip() { python3 -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1)[0]; f.seek(o); f.write(bytes([b ^ 1]))' "$1" "$2"; }
# offset FILE TEXT: the byte offset of TEXT in FILE (the first), or empty
offset() { python3 -c 'import sys
i = open(sys.argv[1], "rb").read().find(sys.argv[2].encode()); print(i if i >= 0 else "")' "$1" "$2"; }
# serve_outcome DIR [ENV...]: starts serve on DIR; rc=2-style outcome in SRC ("refused RC" or
# "started"), its stderr in $T/s.err. A started bridge is stopped again.
serve_outcome() {
  local dir=$1; shift
  rm -f "$T/s.out"
  env "$@" "$LH" serve --listen 127.0.0.1:0 --data "$dir" >"$T/s.out" 2>"$T/s.err" &
  local p=$! u=""
  for _ in $(seq 2400); do   # up to 120 s: the bridge either exits or prints its address
    u=$(grep -o 'http://[0-9.:]*' "$T/s.out" 2>/dev/null | head -1)
    [ -n "$u" ] && break
    kill -0 "$p" 2>/dev/null || break
    sleep 0.05
  done
  if [ -n "$u" ]; then
    SRC=started
    READY=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$u/ready")
    term_wait "$p"
  else
    wait "$p"; SRC="refused $?"
  fi
}

# 1. a byte of a middle event's data
MID=$(jq -r 'select(.type == "decision.made") | .seq' "$T/export.jsonl" | awk -v h="$NEV" 'NR > 1 && $1 > h / 3 {print; exit}')
CMD=$(jq -r --argjson s "$MID" 'select(.seq == $s) | .data.command' "$T/export.jsonl")
copy mid
off=$(offset "$C/events.db" "$CMD\"")
if [ -z "$off" ] || [ -z "$MID" ]; then fail "find the event of seq '$MID' ('$CMD') in events.db"
else
  flip "$C/events.db" $((off + ${#CMD} - 1))
  vout=$("$LH" events verify --data "$C" 2>&1); vrc=$?
  check "a flipped byte in event $MID: verify exits 1 naming seq $MID ($(head -1 <<<"$vout"))" "[ $vrc -eq 1 ] && grep -q 'FAILED at seq $MID:' <<<\"\$vout\""
  serve_outcome "$C"
  check "a flipped byte in event $MID: serve refuses to start ($SRC: $(tail -1 "$T/s.err"))" \
    "[ '$SRC' = 'refused 2' ] && grep -q 'refusing a chain that does not verify: at seq $MID' '$T/s.err'"
  serve_outcome "$C" LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1
  check "a flipped byte in event $MID: LIGHTHOUSE_ACCEPT_BROKEN_CHAIN=1 starts it (ready $READY) and says so" \
    "[ '$SRC' = started ] && [ '$READY' = 200 ] && grep -q 'accepting a chain that does not verify' '$T/s.err'"
  vout=$("$LH" events verify --data "$C" 2>&1); vrc=$?
  check "after the accepted start verify still names seq $MID" "[ $vrc -eq 1 ] && grep -q 'FAILED at seq $MID:' <<<\"\$vout\""
fi

# 2. a byte of the last event (the bridge's system.stopped)
copy last
LASTDATA=$(tail -1 "$T/export.jsonl" | jq -cS .data)   # the stored canonical form: compact, keys sorted
LASTSEQ=$(tail -1 "$T/export.jsonl" | jq -r .seq)
off=$(offset "$C/events.db" "$LASTDATA")
if [ -z "$off" ]; then fail "find the data of the last event ($LASTDATA) in events.db"
else
  flip "$C/events.db" $((off + ${#LASTDATA} / 2))
  vout=$("$LH" events verify --data "$C" 2>&1); vrc=$?
  serve_outcome "$C"
  check "a flipped byte in the last event (seq $LASTSEQ): verify fails ($vrc), serve refuses ($SRC: $(tail -1 "$T/s.err"))" \
    "[ $vrc -ne 0 ] && [ '$SRC' = 'refused 2' ]"
fi

# 3. random flips: serve starts exactly when verify passes
for seed in 1 2 3 4 5; do
  copy "rand$seed"
  python3 -c 'import random, sys
f = open(sys.argv[1], "r+b"); data = bytearray(f.read()); r = random.Random(int(sys.argv[2]))
for _ in range(16):
    o = r.randrange(len(data)); data[o] ^= 1 << r.randrange(8)
f.seek(0); f.write(data)' "$C/events.db" "$seed"
  "$LH" events verify --data "$C" >"$T/v.out" 2>&1; vrc=$?
  serve_outcome "$C"
  if [ "$vrc" -eq 0 ]; then want=started; else want="refused 2"; fi
  check "16 random bit flips (seed $seed): verify exits $vrc, serve $SRC" "[ '$SRC' = '$want' ]"
done

# 4. truncation
SIZE=$(stat -c %s "$ORIG/events.db")
for cut in half page zero; do
  copy "trunc-$cut"
  case $cut in half) len=$((SIZE / 2));; page) len=$((SIZE - 4096));; zero) len=0;; esac
  truncate -s "$len" "$C/events.db"
  "$LH" events verify --data "$C" >"$T/v.out" 2>&1; vrc=$?
  serve_outcome "$C"
  check "events.db truncated to $len of $SIZE bytes ($cut): verify exits $vrc, serve refuses ($SRC: $(tail -1 "$T/s.err"))" \
    "[ $vrc -ne 0 ] && [ '$SRC' = 'refused 2' ]"
  serve_outcome "$C" LIGHTHOUSE_ACCEPT_CUT_LOG=1
  if [ "$cut" = zero ]; then
    check "truncated to zero: LIGHTHOUSE_ACCEPT_CUT_LOG=1 starts it (ready $READY) and records the cut" \
      "[ '$SRC' = started ] && [ '$READY' = 200 ] && grep -q 'kind=cut' '$C.checkpoints'"
  else
    check "truncated ($cut): LIGHTHOUSE_ACCEPT_CUT_LOG=1 does not open a malformed file ($SRC)" "[ '$SRC' = 'refused 2' ]"
  fi
done
done_testing

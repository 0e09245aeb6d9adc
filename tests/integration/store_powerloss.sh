#!/usr/bin/env bash
# store_powerloss.sh — the power-loss test for the SQLite store (issue 16 part 2). A kill -9
# keeps the page cache, so a missing fsync survives store_crash.sh; here the LD_PRELOAD
# layer build/tests/powercut.so (tests/powercut/powercut.c) keeps what was written since
# the last fsync apart and, at the N-th write, leaves the files as a power cut would: every
# unsynced write dropped (drop) or kept sector by sector at random (tear).
#
# LH_POWERCUT_ROUNDS rounds (30) on one store, alternating drop and tear, each cut at a
# random write N in the first 3/4 of W, the number of writes of one uncut run measured first.
# In each round `lighthouse events append` (4 threads) prints "SEQ<TAB>ID" only after its
# append returned; after the cut every printed line must be in events.db (read with the
# sqlite3 tool) and `lighthouse events verify` must pass. A control round on a second store
# disables the fsync (POWERCUT_NOSYNC=1, what synchronous=OFF would do) and must lose
# acknowledged appends: the test sees a missing fsync. LH_POWERCUT_NOSYNC=1 disables it in
# every round, to watch the test fail. The cut point is chosen by write count, not by time.
#
# Three phases then cut runs that write the store's other files (the mutation check found
# their fsyncs untested): a store created under the layer (the secret file and its directory
# entry), a key rotation (the new key's line in the secret file), and the checkpoint file
# (its line and its directory entry). The layer tracks a parent directory there, and an
# fsync of a directory makes only the entries in it durable. A last phase tears a checkpoint
# line (POWERCUT_TORN: the cut write lands in part): verify notes it, the next writer cuts it.
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
SO="${LH_BUILD}/tests/powercut.so"
ROUNDS=${LH_POWERCUT_ROUNDS:-30}
NOSYNC=${LH_POWERCUT_NOSYNC:-0}
T=$(mktemp -d /tmp/lh-powerloss.XXXXXX)
trap 'rm -rf "$T"' EXIT
unset LIGHTHOUSE_SECRET
# an ASan build wants its runtime first in the library list; the layer is preloaded before it
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"

if [ ! -x "$L" ]; then fail "power-loss test: $L is missing (build it first)"; exit 1; fi
if [ ! -f "$SO" ]; then fail "power-loss test: $SO is missing (make $SO)"; exit 1; fi
command -v sqlite3 >/dev/null || { fail "power-loss test: the sqlite3 tool is missing"; exit 1; }

gen() { # round count
  awk -v r="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"type\":\"decision.made\",\"agent\":\"agent-%d\",\"aggregate\":\"s-%d\",\"id\":\"p%03d-%06d\",\"data\":{\"i\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n", i % 20, i % 100, r, i, i }'
}

# run DATA ROUND MODE CUT NOSYNC [TRACKED]: one append run under the layer (tracking TRACKED,
# default DATA); its acknowledged lines in $T/ack
run() {
  rm -rf "$T/shadow"; mkdir "$T/shadow"
  # the braces keep bash's "Killed" job message out of the TAP output
  { gen "$2" 300 | LD_PRELOAD="$SO" POWERCUT_DIR="${6:-$1}" POWERCUT_SHADOW="$T/shadow" POWERCUT_MODE="$3" \
      POWERCUT_AFTER="$4" POWERCUT_SEED="$2" POWERCUT_NOSYNC="$5" POWERCUT_STATS="$T/stats" \
      "$L" events append --data "$1" --threads 4 --batch 1 > "$T/ack" 2> "$T/err"; } 2>/dev/null
}

# check DATA ROUND: sets missing, acked
check() {
  awk -F'\t' 'NF == 2' "$T/ack" | sort > "$T/acked"
  acked=$(wc -l < "$T/acked")
  sqlite3 "$1/events.db" "SELECT seq || char(9) || id FROM events WHERE id LIKE 'p$(printf %03d "$2")-%'" | sort > "$T/present"
  missing=$(comm -23 "$T/acked" "$T/present" | wc -l)
}

D="$T/data"
mkdir -p "$D"
gen 0 5 | "$L" events append --data "$D" > /dev/null 2>"$T/err" || { fail "power-loss test: cannot create the store: $(cat "$T/err")"; exit 1; }
# calibration: one uncut run counts the writes to the store's files
rm -f "$T/stats"
run "$D" 1 drop 0 0
W=$(awk '/^writes/ { print $2 }' "$T/stats" 2>/dev/null)
if [ -z "$W" ] || [ "$W" -lt 50 ]; then fail "power-loss test: the layer counted ${W:-no} writes in an uncut run"; exit 1; fi
ok "an uncut run of 300 appends made $W writes to the store's files"

total=0 cuts=0 fails=0
for round in $(seq 2 $((ROUNDS + 1))); do
  mode=drop; [ $((round % 2)) -eq 0 ] && mode=tear
  # a run's write count varies with how appends group into commits: cut within the first
  # three quarters, and learn from a run that ended before its cut
  cut=$((RANDOM % (W * 3 / 4) + 1))
  rm -f "$T/stats"
  run "$D" "$round" "$mode" "$cut" "$NOSYNC"; rc=$?
  if [ "$rc" -eq 137 ]; then cuts=$((cuts + 1))
  else w=$(awk '/^writes/ { print $2 }' "$T/stats" 2>/dev/null); [ -n "$w" ] && [ "$w" -ge 50 ] && [ "$w" -lt "$W" ] && W=$w; fi
  vout=$("$L" events verify --data "$D" 2>&1); vrc=$?
  check "$D" "$round"
  total=$((total + acked))
  if [ "$vrc" -eq 0 ] && [ "$missing" -eq 0 ]; then
    ok "power cut $round ($mode at write $cut of $W, rc $rc): $acked acknowledged appends present, verify passes"
  else
    fails=$((fails + 1))
    fail "power cut $round ($mode at write $cut of $W, rc $rc): verify rc=$vrc ($vout), $missing of $acked acknowledged appends missing"
    comm -23 "$T/acked" "$T/present" | head -3 | sed 's/^/#   missing: /'
    grep -v '^$' "$T/err" | head -3 | sed 's/^/#   /'
  fi
done

# the cuts must have happened and the writers must have done real work
if [ "$cuts" -ge $((ROUNDS / 2)) ]; then ok "$cuts of $ROUNDS runs were cut by the layer"
else fail "only $cuts of $ROUNDS runs were cut by the layer"; fi
if [ "$total" -ge $((ROUNDS * 20)) ]; then ok "the cut runs acknowledged $total appends in total"
else fail "the cut runs acknowledged only $total appends"; fi
# after the last cut the store still takes appends and verifies
if gen 999 3 | "$L" events append --data "$D" > /dev/null && "$L" events verify --data "$D" > /dev/null; then
  ok "the store appends and verifies after $ROUNDS power cuts"
else
  fail "the store does not append or verify after the power cuts"
fi

# A store created in the cut run: the secret file is made (write, fsync, fsync of the data
# directory) after SQLite made its files, and appends follow. A cut after acknowledged
# appends must leave the key that signed them. The parent directory is tracked (it holds
# data/ and data.checkpoints).
fresh() { # I MODE CUT: a fresh store in $T/fresh$I/data, cut at write CUT (0: never)
  rm -rf "$T/fresh$1"; mkdir -p "$T/fresh$1"
  run "$T/fresh$1/data" "$((600 + $1))" "$2" "$3" 0 "$T/fresh$1"
}
rm -f "$T/stats"
fresh 0 drop 0
WF=$(awk '/^writes/ { print $2 }' "$T/stats" 2>/dev/null)
if [ -z "$WF" ] || [ "$WF" -lt 50 ]; then fail "power-loss test: an uncut run on a new store made ${WF:-no} writes"
else
  fresh_acked=0
  for i in 1 2 3 4; do
    mode=drop; [ $((i % 2)) -eq 0 ] && mode=tear
    cut=$((WF / 2 + RANDOM % (WF / 4) + 1))
    fresh "$i" "$mode" "$cut"; rc=$?
    vout=$("$L" events verify --data "$T/fresh$i/data" 2>&1); vrc=$?
    check "$T/fresh$i/data" "$((600 + i))"
    fresh_acked=$((fresh_acked + acked))
    if [ "$acked" -eq 0 ] || { [ "$vrc" -eq 0 ] && [ "$missing" -eq 0 ]; }; then
      ok "new store, power cut $i ($mode at write $cut of $WF, rc $rc): $acked acknowledged appends present, verify passes"
    else
      fail "new store, power cut $i ($mode at write $cut of $WF, rc $rc): verify rc=$vrc ($vout), $missing of $acked acknowledged appends missing"
    fi
  done
  if [ "$fresh_acked" -gt 0 ]; then ok "the cut runs on new stores acknowledged $fresh_acked appends"
  else fail "the cut runs on new stores acknowledged no append (the rounds checked nothing)"; fi
fi

# A key rotation cut at its last write, after the key.rotated event is committed: the new
# key's line (appended to the secret file and fsynced before the event) must be there.
R="$T/rot"
gen 700 5 | "$L" events append --data "$R" > /dev/null 2>"$T/err" || fail "power-loss test: cannot create the rotation store: $(cat "$T/err")"
rotate() { # DATA CUT
  rm -rf "$T/shadow"; mkdir "$T/shadow"
  { LD_PRELOAD="$SO" POWERCUT_DIR="$1" POWERCUT_SHADOW="$T/shadow" POWERCUT_MODE=drop POWERCUT_AFTER="$2" \
      POWERCUT_STATS="$T/stats" "$L" events rotate-key --data "$1" > /dev/null 2> "$T/err"; } 2>/dev/null
}
rm -rf "$T/rotcal"; cp -a "$R" "$T/rotcal"; rm -f "$T/stats"
rotate "$T/rotcal" 0
WR=$(awk '/^writes/ { print $2 }' "$T/stats" 2>/dev/null)
rotate "$R" "${WR:-1}"; rc=$?
rotated=$(sqlite3 "$R/events.db" "SELECT count(*) FROM events WHERE type = 'key.rotated'")
vout=$("$L" events verify --data "$R" 2>&1); vrc=$?
if [ "$rc" -eq 137 ] && [ "$rotated" = 1 ] && [ "$vrc" -eq 0 ]; then
  ok "key rotation cut at its last write ($WR): the rotation is in the store and verify passes"
else
  fail "key rotation cut at write ${WR:-?}: rc $rc (137: cut), $rotated key.rotated event(s), verify rc=$vrc ($vout)"
fi

# The checkpoint file, made in the cut run: a store with events and no checkpoint yet
# writes one at open (line fsynced, then the fsync of its new directory entry), before any
# append. A run cut after acknowledged appends must leave that checkpoint. It lives in its
# own directory (cp/) beside data/, both tracked.
Cw="$T/cpw"
mkdir -p "$Cw/cp"
gen 800 5 | LIGHTHOUSE_CHECKPOINTS=off "$L" events append --data "$Cw/data" > /dev/null 2>"$T/err" ||
  fail "power-loss test: cannot create the checkpoint store: $(cat "$T/err")"
h0=$(sqlite3 "$Cw/data/events.db" "SELECT max(seq) FROM events")
LIGHTHOUSE_CHECKPOINTS="$Cw/cp/checkpoints" run "$Cw/data" 801 drop "$((W / 2))" 0 "$Cw"; rc=$?
check "$Cw/data" 801
cpseq=$(awk '/^lhcp1 .* sig=[0-9a-f]+$/ { for (i = 2; i <= NF; i++) if ($i ~ /^seq=/) { s = substr($i, 5) + 0; if (s > m) m = s } }
  END { print m + 0 }' "$Cw/cp/checkpoints" 2>/dev/null)
vout=$(LIGHTHOUSE_CHECKPOINTS="$Cw/cp/checkpoints" "$L" events verify --data "$Cw/data" 2>&1); vrc=$?
if [ "$acked" -gt 0 ] && [ "${cpseq:-0}" -ge "$h0" ] && [ "$vrc" -eq 0 ] && [ "$missing" -eq 0 ]; then
  ok "checkpoint file made in a run cut at write $((W / 2)) (rc $rc): the checkpoint at seq $h0 survives, $acked appends present"
else
  fail "checkpoint file made in a run cut at write $((W / 2)) (rc $rc): newest surviving checkpoint seq ${cpseq:-none} (want >= $h0), $missing of $acked appends missing, verify rc=$vrc ($vout)"
fi

# A torn checkpoint line: the power goes while the first checkpoint write of a run is in
# flight and only its first 70 bytes land (POWERCUT_TORN), leaving a last line without its
# newline. Only the checkpoint file's directory is tracked, so that write is write 1. verify
# skips the fragment with a note (it is not a forged line); the next writer cuts it away
# before its own line, which would otherwise be glued to it and lost.
Ct="$T/cptorn"
mkdir -p "$Ct/cp"
gen 810 5 | LIGHTHOUSE_CHECKPOINTS="$Ct/cp/checkpoints" "$L" events append --data "$Ct/data" > /dev/null 2>"$T/err" ||
  fail "power-loss test: cannot create the torn-checkpoint store: $(cat "$T/err")"
rm -rf "$T/shadow"; mkdir "$T/shadow"
{ gen 811 5 | LIGHTHOUSE_CHECKPOINTS="$Ct/cp/checkpoints" LD_PRELOAD="$SO" POWERCUT_DIR="$Ct/cp" \
    POWERCUT_SHADOW="$T/shadow" POWERCUT_AFTER=1 POWERCUT_TORN=70 \
    "$L" events append --data "$Ct/data" > /dev/null 2> "$T/err"; } 2>/dev/null; rc=$?
tail_nl=$(tail -c 1 "$Ct/cp/checkpoints" | od -An -c | tr -d ' ')
vout=$(LIGHTHOUSE_CHECKPOINTS="$Ct/cp/checkpoints" "$L" events verify --data "$Ct/data" 2>&1); vrc=$?
if [ "$rc" -eq 137 ] && [ "$tail_nl" != '\n' ] && [ "$vrc" -eq 0 ] && [[ "$vout" == *"checkpoint: seq 5 "* ]] &&
   [[ "$vout" == *"last line of"*"is torn (70 bytes"* ]] && [[ "$vout" != *"not valid signed"* ]]; then
  ok "checkpoint torn by a power cut (rc $rc): verify skips the torn last line with a note, the checkpoint of seq 5 stands"
else
  fail "checkpoint torn by a power cut: rc $rc (137: cut), last byte '$tail_nl', verify rc=$vrc ($vout)"
fi
gen 812 5 | LIGHTHOUSE_CHECKPOINTS="$Ct/cp/checkpoints" "$L" events append --data "$Ct/data" > /dev/null 2>"$T/err"; rc=$?
vout=$(LIGHTHOUSE_CHECKPOINTS="$Ct/cp/checkpoints" "$L" events verify --data "$Ct/data" 2>&1); vrc=$?
if [ "$rc" -eq 0 ] && grep -q "ended in a torn line (70 bytes" "$T/err" && [ "$vrc" -eq 0 ] &&
   [[ "$vout" == *"checkpoint: seq 15 "*"0 events after it"* ]] && [[ "$vout" != *"is torn"* ]] &&
   [[ "$vout" != *"not valid signed"* ]]; then
  ok "after the torn checkpoint the next writer cuts the fragment away; its checkpoint of seq 15 is read"
else
  fail "after the torn checkpoint: append rc=$rc ($(cat "$T/err")), verify rc=$vrc ($vout)"
fi

# control: with the fsync disabled, a power cut must lose acknowledged appends
C="$T/control"
mkdir -p "$C"
gen 0 5 | "$L" events append --data "$C" > /dev/null 2>&1
run "$C" 500 drop $((W / 4)) 1
check "$C" 500
if [ "$acked" -gt 0 ] && [ "$missing" -gt 0 ]; then
  ok "control: with fsync disabled a power cut loses $missing of $acked acknowledged appends"
else
  fail "control: with fsync disabled a power cut lost $missing of $acked acknowledged appends (the test cannot see a missing fsync)"
fi
done_testing

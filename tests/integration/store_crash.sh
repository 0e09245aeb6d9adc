#!/usr/bin/env bash
# store_crash.sh — the crash test: writers append under load, the process is killed with
# SIGKILL at a random moment and restarted; every append that was acknowledged must be
# present and `lighthouse events verify` must pass. 20 rounds on one store (LH_CRASH_ROUNDS).
#
# Two `lighthouse events append` processes write at once (4 threads each; one appends
# single events, the other batches of 8). A line "SEQ<TAB>ID" is printed only after its
# append returned, so each output file lists exactly the acknowledged appends. Presence is
# checked with the sqlite3 tool, independently of the code under test.
#
# The kill is placed by the order of events, not by the clock: each round waits until both
# writers have acknowledged appends and together a random number of them (1..1500), then
# kills both. A loaded machine (or the sanitizer build) only makes a round take longer. A
# writer that reports an error before its kill fails the test: two processes opening and
# appending to one store at once is what the store promises (the second writer used to fail
# its open with "the chain's tail does not match its recorded head", and in the first round
# with "cannot create …/secret: File exists"; docs/store.md).
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
ROUNDS=${LH_CRASH_ROUNDS:-20}
T=$(mktemp -d /tmp/lh-crash.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
D="$T/data"
unset LIGHTHOUSE_SECRET

if [ ! -x "$L" ]; then fail "crash test: $L is missing (build it first)"; exit 1; fi
command -v sqlite3 >/dev/null || { fail "crash test: the sqlite3 tool is missing"; exit 1; }

gen() { # round writer
  awk -v r="$1" -v w="$2" 'BEGIN { for (i = 0; i < 60000; i++)
    printf "{\"type\":\"decision.made\",\"agent\":\"agent-%d\",\"aggregate\":\"s-%d\",\"id\":\"r%02d-w%d-%06d\",\"data\":{\"i\":%d,\"w\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n", i % 50, i % 500, r, w, i, i, w }'
}

acks() { awk -F'\t' 'NF == 2' "$1" 2>/dev/null | wc -l; }
alive() { kill -0 "$1" 2>/dev/null; }

total=0 fails=0 emptyrounds=0 lonerounds=0 errrounds=0 firsterr=""
for round in $(seq 1 "$ROUNDS"); do
  "$L" events append --data "$D" --threads 4 --batch 1 < <(gen "$round" 1) > "$T/ack1" 2>"$T/err1" &
  p1=$!
  "$L" events append --data "$D" --threads 4 --batch 8 < <(gen "$round" 2) > "$T/ack2" 2>"$T/err2" &
  p2=$!
  # the kill: once both writers have acknowledged appends and together `want` of them, or
  # as soon as either writer has exited (an error: reported below). No time limit: the
  # writers finish 60,000 lines each by themselves, and run-tests.sh caps the whole script.
  want=$((RANDOM % 1500 + 1))
  while :; do
    a1=$(acks "$T/ack1") a2=$(acks "$T/ack2")
    [ "$a1" -gt 0 ] && [ "$a2" -gt 0 ] && [ $((a1 + a2)) -ge "$want" ] && break
    alive "$p1" && alive "$p2" || break
    sleep 0.01
  done
  kill -9 "$p1" "$p2" 2>/dev/null
  wait "$p1" "$p2" 2>/dev/null
  [ "$a1" -gt 0 ] && [ "$a2" -gt 0 ] || lonerounds=$((lonerounds + 1))
  # restart: verify, then every acknowledged (seq, id) must be in events.db
  vout=$("$L" events verify --data "$D" 2>&1); vrc=$?
  cat "$T/ack1" "$T/ack2" | awk -F'\t' 'NF == 2' | sort > "$T/acked"
  acked=$(wc -l < "$T/acked")
  [ "$acked" -gt 0 ] || emptyrounds=$((emptyrounds + 1))
  # a writer that stopped on an error before the kill (counted; checked after the rounds).
  # Not an error: the note that a checkpoint line torn by an earlier kill was cut away.
  werr=$(cat "$T/err1" "$T/err2" 2>/dev/null | grep -v -e '^$' -e 'ended in a torn line')
  if [ -n "$werr" ]; then
    errrounds=$((errrounds + 1))
    [ -n "$firsterr" ] || firsterr="round $round: $(head -1 <<<"$werr")"
    head -3 <<<"$werr" | sed "s/^/# round $round writer error: /"
  fi
  sqlite3 "$D/events.db" "SELECT seq || char(9) || id FROM events WHERE id >= 'r$(printf %02d "$round")-' AND id < 'r$(printf %02d "$round").'" \
    | sort > "$T/present"
  missing=$(comm -23 "$T/acked" "$T/present" | wc -l)
  total=$((total + acked))
  if [ "$vrc" -eq 0 ] && [ "$missing" -eq 0 ]; then
    ok "crash round $round (killed after $a1 + $a2 acknowledged appends): $acked acknowledged appends present, verify passes"
  else
    fails=$((fails + 1))
    fail "crash round $round (killed after $a1 + $a2 acknowledged appends): verify rc=$vrc ($vout), $missing of $acked acknowledged appends missing"
    comm -23 "$T/acked" "$T/present" | head -5 | sed 's/^/#   missing: /'
    grep -v '^$' "$T/err1" "$T/err2" | head -5 | sed 's/^/#   /'
  fi
done

# after the last crash the store still takes appends and the chain still verifies
if echo '{"type":"system.started","data":{}}' | "$L" events append --data "$D" >/dev/null &&
   "$L" events verify --data "$D" >/dev/null; then
  ok "store appends and verifies after $ROUNDS crashes"
else
  fail "store does not append or verify after the crashes"
fi
# the rounds must have done real work: every round waited for acknowledged appends of both
# writers before its kill (a count, not a speed)
if [ "$emptyrounds" -eq 0 ] && [ "$lonerounds" -eq 0 ] && [ "$total" -ge "$ROUNDS" ]; then
  ok "every crash round had both writers' appends acknowledged before its kill ($total in all)"
else
  fail "$emptyrounds crash rounds acknowledged no append, $lonerounds only one writer's ($total in all)"
fi
# two processes appending to one store at once: neither may fail (open, append) before the kill
if [ "$errrounds" -eq 0 ]; then ok "no writer reported an error in $ROUNDS rounds"
else fail "a writer reported an error in $errrounds of $ROUNDS rounds; first: $firsterr"; fi
done_testing

#!/usr/bin/env bash
# store_tamper.sh — tampering with events.db using the sqlite3 tool is caught by
# `lighthouse events verify`: exit 1, naming the first bad seq. One changed byte of one
# event's data, a changed mac, a deleted row (middle and last), swapped rows.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
T=$(mktemp -d /tmp/lh-tamper.XXXXXX)
trap 'rm -rf "$T"' EXIT
unset LIGHTHOUSE_SECRET
if [ ! -x "$L" ]; then fail "tamper: $L is missing"; exit 1; fi
command -v sqlite3 >/dev/null || { fail "tamper: the sqlite3 tool is missing"; exit 1; }

for i in $(seq 1 60); do
  printf '{"type":"decision.made","agent":"a%d","aggregate":"s","data":{"n":%d,"text":"event number %d"}}\n' $((i % 4)) "$i" "$i"
done | "$L" events append --data "$T/base" --batch 7 >/dev/null || { fail "tamper: cannot build the store"; exit 1; }

out=$("$L" events verify --data "$T/base" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" == *"60 events verified"* ]]; then ok "untouched store verifies"
else fail "untouched store: rc=$rc $out"; fi

case_() { # name sql expected_seq
  local name=$1 sql=$2 want=$3 d="$T/$1"
  cp -r "$T/base" "$d"
  if ! sqlite3 "$d/events.db" "$sql"; then fail "$name: sqlite3 failed"; return; fi
  out=$("$L" events verify --data "$d" 2>&1); rc=$?
  if [ "$rc" -eq 1 ] && [[ "$out" == *"FAILED at seq $want:"* ]] && [[ "$out" == *"broken at seq $want"* ]]; then
    ok "$name: verify exits 1 and names seq $want"
  else
    fail "$name: expected exit 1 naming seq $want, got rc=$rc: $out"
  fi
}

# one byte of one event's data: "n":23 -> "n":24
case_ one-byte-of-data "UPDATE events SET data = replace(data, '\"n\":23', '\"n\":24') WHERE seq = 23;" 23
case_ one-byte-of-text "UPDATE events SET data = replace(data, 'number 41', 'number 4l') WHERE seq = 41;" 41
case_ changed-agent "UPDATE events SET agent = 'mallory' WHERE seq = 8;" 8
case_ changed-mac "UPDATE events SET mac = zeroblob(32) WHERE seq = 50;" 50
case_ deleted-row "DELETE FROM events WHERE seq = 30;" 30
case_ deleted-last-row "DELETE FROM events WHERE seq = 60;" 60
case_ deleted-first-row "DELETE FROM events WHERE seq = 1;" 1
case_ reordered-rows "UPDATE events SET seq = -1 WHERE seq = 12; UPDATE events SET seq = 12 WHERE seq = 13; UPDATE events SET seq = 13 WHERE seq = -1;" 12
case_ renumbered-tail "DELETE FROM events WHERE seq = 45; UPDATE events SET seq = seq - 1 WHERE seq > 45;" 45

# a tampered store is not extended either
out=$(echo '{"type":"decision.made","data":{}}' | "$L" events append --data "$T/changed-mac" 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then
  # the tail (seq 60) is intact there, so appending is allowed; verify still names seq 50
  out=$("$L" events verify --data "$T/changed-mac" 2>&1); [ $? -eq 1 ] && [[ "$out" == *"seq 50"* ]] &&
    ok "appending after a mid-chain change keeps the damage visible" ||
    fail "after append: $out"
else
  fail "append to a store with an intact tail failed: $out"
fi
out=$(echo '{"type":"decision.made","data":{}}' | "$L" events append --data "$T/deleted-last-row" 2>&1); rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"tail does not match"* ]]; then ok "a store whose tail was removed is not extended"
else fail "append after removing the tail: rc=$rc $out"; fi
done_testing

#!/usr/bin/env bash
# chaos_diskfull.sh — a full disk is survived and recovered (issue 16 parts 6 and 7; it was
# store_diskfull.sh, renamed into the chaos set). On a small
# tmpfs (mounted in a private mount namespace: `unshare -m`, as root), one long-lived
# `lighthouse events append --keep-going` process appends; a filler file takes the rest of
# the space, so appends fail; the filler is removed and 3002 more events are appended. The
# WAL must be checkpointed and truncated at the first commit after the failure; all 3002
# must be acknowledged, the chain must verify, and the WAL must stay bounded (under
# 24 MiB: CKPT_HARD_FRAMES pages, ~16 MiB, plus the groups committed while a concurrent
# background checkpoint makes the writer's own one wait) instead of growing with every
# decision (3,002 single appends take ~80 MiB of WAL unchecked, more than the tmpfs).
# No acknowledged loss: every "SEQ<TAB>ID" the appender printed (it prints one only once
# the event is durable) is in events.db afterwards, read with the sqlite3 tool, and no
# append that failed on the full disk left its event behind (all or nothing).
# Skipped, with the reason printed, where a private mount namespace is not available.
# Waits are on the order of events (acknowledgement counts), not on wall-clock bounds.
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
if [ "${LH_DISKFULL_INNER:-}" != 1 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
    skip_all "disk-full test: needs root and unshare(1) for a private tmpfs"
  fi
  if ! unshare -m --propagation private true 2>/dev/null; then
    skip_all "disk-full test: unshare -m is not permitted here"
  fi
  LH_DISKFULL_INNER=1 exec unshare -m --propagation private bash "$0"
fi

T=$(mktemp -d /tmp/lh-diskfull.XXXXXX)
M="$T/mnt"
mkdir -p "$M"
cleanup() { exec 3>&- 2>/dev/null; wait 2>/dev/null; umount "$M" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=40m tmpfs "$M" 2>/dev/null; then
  skip_all "disk-full test: cannot mount a tmpfs in the mount namespace"
fi
D="$M/data"
mkdir -p "$D"
unset LIGHTHOUSE_SECRET

gen() { # from count
  awk -v f="$1" -v n="$2" 'BEGIN { for (i = f; i < f + n; i++)
    printf "{\"type\":\"decision.made\",\"agent\":\"agent-%d\",\"aggregate\":\"s-%d\",\"id\":\"d-%06d\",\"data\":{\"i\":%d,\"pad\":\"%0500d\"}}\n", i % 20, i % 100, i, i, 0 }'
}
# wait until N lines (acknowledgements plus errors) have been answered
answered() { echo $(( $(wc -l < "$T/ack") + $(grep -c 'line [0-9]' "$T/err") )); }
waitFor() {
  while [ "$(answered)" -lt "$1" ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
}
walSize() { stat -c %s "$D/events.db-wal" 2>/dev/null || echo 0; }

mkfifo "$T/in"
"$L" events append --data "$D" --keep-going < "$T/in" > "$T/ack" 2> "$T/err" &
pid=$!
exec 3> "$T/in"
gen 0 2000 >&3
waitFor 2000 || { fail "the appender died before the disk filled: $(head -3 "$T/err")"; exit 1; }
walfull=$(walSize)
ok "2000 appends before the disk fills ($(wc -l < "$T/ack") acknowledged, WAL $walfull bytes)"

# fill the disk: the filler takes every free block
dd if=/dev/zero of="$M/filler" bs=64k 2>/dev/null
gen 2000 2500 >&3
waitFor 4500 || { fail "the appender died on a full disk: $(tail -3 "$T/err")"; exit 1; }
failed=$(grep -c 'line [0-9]' "$T/err")
if [ "$failed" -gt 0 ]; then ok "on a full disk $failed appends failed and were reported"
else fail "the disk did not fill (no append failed)"; fi
acked_before=$(wc -l < "$T/ack")

# free the space; the appender must serve steadily again with a bounded WAL
rm -f "$M/filler"
maxwal=0
# two single appends: the truncation runs after the first group's appenders are woken, so
# it is finished once the second group is acknowledged (the writer runs groups in order)
gen 9999000 1 >&3
waitFor 4501 || true
gen 9999001 1 >&3
waitFor 4502 || true
walback=$(walSize)
for step in $(seq 0 29); do
  gen $((4500 + step * 100)) 100 >&3
  waitFor $((4602 + step * 100)) || break
  w=$(walSize); [ "$w" -gt "$maxwal" ] && maxwal=$w
done
exec 3>&-
wait "$pid"; rc=$?
after=$(( $(wc -l < "$T/ack") - acked_before ))
if [ "$after" -eq 3002 ]; then ok "after space came back all 3002 appends were acknowledged"
else fail "after space came back $after of 3002 appends were acknowledged (rc $rc): $(tail -2 "$T/err")"; fi
# space came back: the WAL written before and during the episode was checkpointed and
# truncated at the first commit, so after two more appends it holds about one commit's frames
if [ "$walfull" -gt $((2 * 1024 * 1024)) ] && [ "$walback" -lt $((1024 * 1024)) ]; then
  ok "the WAL was checkpointed and truncated when space came back ($walfull bytes before, $walback after two appends)"
else
  fail "the WAL was not truncated when space came back ($walfull bytes before, $walback after two appends)"
fi
if [ "$maxwal" -le $((24 * 1024 * 1024)) ]; then ok "the WAL stayed bounded after the disk-full episode (largest $maxwal bytes)"
else fail "the WAL grew to $maxwal bytes after the disk-full episode"; fi
if vout=$("$L" events verify --data "$D" 2>&1); then ok "the chain verifies after the disk-full episode"
else fail "verify after the disk-full episode: $vout"; fi
# zero acknowledged loss, checked with the sqlite3 tool (independent of the code under test)
if command -v sqlite3 >/dev/null; then
  awk -F'\t' 'NF == 2' "$T/ack" | sort >"$T/acked"
  sqlite3 "$D/events.db" "SELECT seq || char(9) || id FROM events WHERE id LIKE 'd-%'" | sort >"$T/present"
  missing=$(comm -23 "$T/acked" "$T/present" | wc -l)
  check "every acknowledged append is in the store with its seq ($(wc -l <"$T/acked") acknowledged, $missing missing)" \
    "[ $missing -eq 0 ] && [ $(wc -l <"$T/acked") -eq $((acked_before + 3002)) ]"
  # the failed lines were lines 2001..4500 of the input: the event of line N has id d-(N-1)
  grep -o 'line [0-9]*' "$T/err" | awk '{printf "d-%06d\n", $2 - 1}' | sort -u >"$T/failed"
  cut -f2 "$T/present" | sort >"$T/present-ids"
  leftover=$(comm -12 "$T/failed" "$T/present-ids" | wc -l)
  check "no append that failed on the full disk left its event ($(wc -l <"$T/failed") failed, $leftover in the store)" \
    "[ $leftover -eq 0 ] && [ $(wc -l <"$T/failed") -gt 0 ]"
else
  fail "the sqlite3 tool is missing (scripts/deps.sh installs it)"
fi
done_testing

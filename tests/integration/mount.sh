#!/usr/bin/env bash
# mount.sh — `lighthouse mount` for real (docs/shadows.md): a FUSE mount of the project
# shadows, fed by hook-reported edits through the real bridge. Current and historical
# versions, at/<time>, tail -f on streams/events, EROFS for every write, hostile names,
# a builder token refused, a bridge restart under the mount (EIO, then working again
# with no remount), a corrupted blob refused, a clean unmount on SIGTERM, events verify.
# Skips, with the reason, where FUSE cannot mount.
set -u
. "$(dirname "$0")/bridge_lib.bash"

[ -c /dev/fuse ] || skip_all "no /dev/fuse here"
command -v fusermount3 >/dev/null 2>&1 || skip_all "fusermount3 (Debian fuse3) is not installed"

start_bridge mt || { fail "bridge starts"; done_testing; exit 1; }
BT=$(token builder-1 builder)
ET=$(token expert-1 expert)
P="$T/project" M="$T/mnt"
mkdir -p "$P/src" "$M" "$T/mnt2"
MPID=

payload() {
  if [ "$1" = Bash ]; then
    jq -n --arg cwd "$P" --arg c "$2" '{hook_event_name:"PostToolUse",session_id:"s1",cwd:$cwd,tool_name:"Bash",tool_input:{command:$c},tool_response:{}}'
  else
    jq -n --arg cwd "$P" --arg t "$1" --arg f "$2" '{hook_event_name:"PostToolUse",session_id:"s1",cwd:$cwd,tool_name:$t,tool_input:{file_path:$f},tool_response:{}}'
  fi > "$T/payload.json"
}
hook_post() { LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$HOOK" post-tool-use < "$T/payload.json" 2>>"$T/hook.err"; }
mounted() { grep -qF " $M fuse" /proc/mounts; }
# errno_of OP PATH [ARG] → the errno name an operation on PATH (bytes, \x escapes) gets, or OK
errno_of() {
  python3 - "$@" <<'PY'
import errno, os, sys
op, path = sys.argv[1], sys.argv[2].encode().decode('unicode_escape').encode('latin-1')
try:
    if op == "stat": os.stat(path)
    elif op == "read": open(path, "rb").read()
    elif op == "write": open(path, "wb").close()
    elif op == "append": open(path, "ab").close()
    elif op == "mkdir": os.mkdir(path)
    elif op == "unlink": os.unlink(path)
    elif op == "rename": os.rename(path, path + b".x")
    elif op == "truncate": os.truncate(path, 0)
    elif op == "chmod": os.chmod(path, 0o777)
    elif op == "symlink": os.symlink(b"/etc/passwd", path)
    elif op == "utime": os.utime(path, None)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
stop_mount() {
  [ -n "$MPID" ] || return 0
  kill -TERM "$MPID" 2>/dev/null
  for _ in $(seq 1200); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$MPID" 2>/dev/null
  wait "$MPID"; mrc=$?
  MPID=
  mounted && fusermount3 -u "$M" 2>/dev/null
}
tap_before_plan() { stop_mount; stop_bridges; }
trap 'stop_mount; cleanup' EXIT

# Two versions of a file, reported by the hook, before the mount starts.
printf 'first\n' > "$P/src/main.c"
payload Write "$P/src/main.c"; hook_post
V1=$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/tree" | jq .at_seq)
printf 'second\n' > "$P/src/main.c"
payload Edit "$P/src/main.c"; hook_post

LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" "$LH" mount "$M" >"$T/mount.err" 2>&1 &
MPID=$!
if ! wait_for 'mounted || ! kill -0 $MPID 2>/dev/null' || ! mounted; then
  if grep -qiE 'permission denied|operation not permitted|fuse: device not found|not permitted' "$T/mount.err"; then
    MPID=
    skip_all "FUSE cannot mount here: $(head -1 "$T/mount.err")"
  fi
  fail "lighthouse mount mounts $M"; sed 's/^/#   /' "$T/mount.err"; done_testing; exit 1
fi
ok "lighthouse mount mounts $M with an expert token"

# A builder token is refused before anything is mounted (at another mount point).
LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$LH" mount "$T/mnt2" >"$T/mb.err" 2>&1; rc=$?
check "a builder token is refused (exit 2, says an expert token is needed)" \
  "[ $rc = 2 ] && grep -q 'expert' \"$T/mb.err\" && ! grep -qF \" $T/mnt2 \" /proc/mounts"

check "the root lists current, history, at, streams, debug, annotations, escalations" "[ \"\$(ls \"$M\" | tr '\n' ' ')\" = 'annotations at current debug escalations history streams ' ]"
check "current/ has the latest version" "[ \"\$(cat \"$M/current/src/main.c\")\" = second ]"
check "history/<first seq>/ has the first version" "[ \"\$(cat \"$M/history/$V1/src/main.c\")\" = first ]"
check "history/ lists one directory per change" "[ \"\$(ls \"$M/history\" | wc -l)\" = 2 ]"
check "at/<a time after the edits>/ has the latest version" \
  "[ \"\$(cat \"$M/at/$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)/src/main.c\")\" = second ]"
check "at/<a time before anything>/ is empty" "[ -z \"\$(ls \"$M/at/2001-01-01T00:00:00Z\")\" ]"
check "debug/status.json is JSON and says the bridge is reachable" "jq -e '.bridge_reachable == true' \"$M/debug/status.json\" >/dev/null"
# A cached read stays in the kernel: its page cache serves it, no READ reaches the mount
# (debug/status.json's file_reads counts those that do).
V2=$(ls "$M/history" | sort -n | tail -1)
# status.json is as old as the kernel's attributes of it, at most 1 s: past that, the next
# open asks the mount again (waiting 1.2 s orders the read after the refresh; not a bound
# on speed: a slower machine only waits longer).
reads() { sleep 1.2; jq .file_reads "$M/debug/status.json"; }
r0=$(reads); c1=$(cat "$M/history/$V2/src/main.c"); r1=$(reads)
c2=$(cat "$M/history/$V2/src/main.c"); c3=$(cat "$M/current/src/main.c"); r2=$(reads)
check "a first read of a file reaches the mount (file_reads $r0 -> $r1)" "[ \"$c1\" = second ] && [ $r1 -gt $r0 ]"
check "reading it again does not (the kernel's page cache; file_reads $r1 -> $r2)" \
  "[ \"$c2\" = second ] && [ \"$c3\" = second ] && [ $r2 = $r1 ]"
# A name in history/<seq>/ cannot change: the kernel keeps it (and its attributes) past
# the one second that current/ names are kept (tree_attrs counts the LOOKUPs and GETATTRs
# of tree names that reach the mount; attrs() waits 1.2 s first, as reads() does).
attrs() { sleep 1.2; jq .tree_attrs "$M/debug/status.json"; }
a0=$(attrs); c4=$(cat "$M/history/$V2/src/main.c"); a1=$(attrs)
c5=$(cat "$M/current/src/main.c"); a2=$(attrs)
check "a history/ name is not asked for again after a second (tree_attrs $a0 -> $a1)" "[ \"$c4\" = second ] && [ $a1 = $a0 ]"
check "a current/ name is (tree_attrs $a1 -> $a2)" "[ \"$c5\" = second ] && [ $a2 -gt $a1 ]"
mount_up() { curl -s "$URL/metrics" | grep '^lighthouse_bridge_fuse_mount_status{' | grep -qF ":$M\"} 1"; }
check "the bridge's metrics show the mount up (lighthouse_bridge_fuse_mount_status 1)" "wait_for mount_up"
if command -v promtool >/dev/null 2>&1; then
  curl -s "$URL/metrics" > "$T/metrics.txt"
  check "/metrics with a mount's series passes promtool check metrics" "promtool check metrics < \"$T/metrics.txt\" >/dev/null 2>&1"
else
  skip "/metrics with a mount's series passes promtool check metrics" "promtool is not installed"
fi

# A new edit while mounted: current/ follows (the tree's TTL is a second), and tail -f on
# streams/events shows its event.
tail -n 0 -f "$M/streams/events" > "$T/tail.out" 2>&1 &
TAILPID=$!
printf 'third\n' > "$P/src/main.c"
payload Edit "$P/src/main.c"; hook_post
check "current/ shows the new edit" "wait_for '[ \"\$(cat \"$M/current/src/main.c\" 2>/dev/null)\" = third ]'"
printf 'THIRD\n' > "$P/src/main.c"
payload Edit "$P/src/main.c"; hook_post
check "current/ shows an edit of the same size (a new mtime drops the kernel's pages)" \
  "wait_for '[ \"\$(cat \"$M/current/src/main.c\" 2>/dev/null)\" = THIRD ]'"
check "tail -f on streams/events shows the new shadow.updated event" \
  "wait_for 'grep -q \"\\\"type\\\":\\\"shadow.updated\\\"\" \"$T/tail.out\"'"
kill "$TAILPID" 2>/dev/null; wait "$TAILPID" 2>/dev/null

# Read-only: every write gets EROFS.
for op in write append mkdir unlink rename truncate chmod symlink utime; do
  tgt="$M/current/src/main.c"
  case $op in mkdir|symlink) tgt="$M/current/src/new" ;; esac
  e=$(errno_of $op "$tgt")
  check "$op in the mount fails with EROFS" "[ '$e' = EROFS ]"
done
check "creating a file at the top fails with EROFS" "[ \"\$(errno_of write \"$M/x\")\" = EROFS ]"

# Hostile names.
check "a non-UTF-8 name is refused (EINVAL)" "[ \"\$(errno_of stat \"$M/current/\\\\xff\")\" = EINVAL ]"
check "a name with a newline is refused (EINVAL)" "[ \"\$(errno_of stat \"$M/current/a\\\\nb\")\" = EINVAL ]"
check "a 300-byte name is refused (ENAMETOOLONG)" "[ \"\$(errno_of stat \"$M/current/$(printf 'x%.0s' $(seq 300))\")\" = ENAMETOOLONG ]"
check "current/.. is the mount's root, not beyond it" "[ \"\$(ls \"$M/current/..\" | tr '\n' ' ')\" = 'annotations at current debug escalations history streams ' ]"
check "a NUL cannot be in a name (the call is refused before the kernel)" \
  "python3 -c 'import os,sys; os.stat(sys.argv[1] + \"/current/a\\x00b\")' \"$M\" 2>&1 | grep -q 'null'"

# A bridge restart under the mount: EIO while away, working again after, no remount.
# The name must be in the mount's tree before the bridge goes (the head's tree and the
# kernel's names are kept a second: read right after the write, it could still be absent,
# ENOENT, not EIO). The listing and the miss first make that the case every time; then the
# wait, on the order of events: the name shows, the blob is still not fetched.
ls "$M/current/src" >/dev/null; stat "$M/current/src/later.c" >/dev/null 2>&1
printf 'later\n' > "$P/src/later.c"
payload Write "$P/src/later.c"; hook_post
wait_for "[ \"\$(errno_of stat \"$M/current/src/later.c\")\" = OK ]" || fail "later.c shows in the mount before the bridge stops"
PORT=${URL##*:}
term_wait "$PID"
check "while the bridge is away, an uncached file fails with EIO" "[ \"\$(errno_of read \"$M/current/src/later.c\")\" = EIO ]"
check "while the bridge is away, debug/status.json says so" "jq -e '.bridge_reachable == false' \"$M/debug/status.json\" >/dev/null"
check "while the bridge is away, a cached blob still reads" "[ \"\$(cat \"$M/history/$V1/src/main.c\")\" = first ]"
"$LH" serve --listen "127.0.0.1:$PORT" --data "$DATA" >"$T/mt2.out" 2>"$T/mt2.err" &
PID=$!
BRIDGES+=("$PID")
check "after the bridge is back, the same mount reads the file" "wait_for '[ \"\$(cat \"$M/current/src/later.c\" 2>/dev/null)\" = later ]'"
check "the mount was never remounted (same process)" "kill -0 $MPID && mounted"

# A corrupted blob is refused through the mount.
printf 'fourth\n' > "$P/src/main.c"
payload Edit "$P/src/main.c"; hook_post
h=$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/tree" | jq -r '.files[] | select(.path == "src/main.c") | .hash')
printf 'tampered\n' > "$DATA/blobs/${h:0:2}/$h"
check "a corrupted blob reads as EIO through the mount" "wait_for '[ \"\$(errno_of read \"$M/current/src/main.c\")\" = EIO ]'"

# Clean unmount on SIGTERM.
stop_mount
check "SIGTERM unmounts cleanly (exit 0, not in /proc/mounts)" "[ $mrc = 0 ] && ! mounted" || { echo "#   exit $mrc"; sed "s/^/#   /" "$T/mount.err"; }
"$LH" events verify --data "$DATA" >"$T/verify.out" 2>&1; rc=$?
check "events verify passes" "[ $rc = 0 ]"
done_testing

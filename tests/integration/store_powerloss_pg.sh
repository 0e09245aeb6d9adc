#!/usr/bin/env bash
# store_powerloss_pg.sh — power loss for the PostgreSQL store (issue 16 part 2, "for both
# store modes"; SQLite's is store_powerloss.sh). PostgreSQL writes from many processes and
# its checkpointer fsyncs pages other processes wrote, so the test puts a whole private
# cluster's data directory on the FUSE file system build/tests/cutfs
# (tests/powercut/cutfs.c): every write goes through, and what no fsync/fdatasync (for
# contents) or fsync of the directory (for names) made durable is undone when the power
# goes. The store's local files (the secret file, the checkpoint file) are on it too.
#
# Each round: mount cutfs, start PostgreSQL on it (crash recovery after the last cut), check
# the last round (every appended line `lighthouse events append --pg` acknowledged is in
# the events table, and `events verify --pg` passes), run `events append` (4 threads) until
# N lines are acknowledged (N random), then cut: SIGUSR1 to cutfs (from then every write and
# every other operation fails with EIO and changes nothing), SIGKILL of every process of
# the cluster and of the writer, unmount; cutfs leaves the backing directory as a power
# loss would (drop: nothing unsynced; tear: unsynced sectors and a prefix of the unsynced
# name changes at random). LH_POWERCUT_PG_ROUNDS rounds (10), alternating drop and tear;
# the first round (drop) also makes the store (its secret file and data directory). A
# control round with fsync=off must lose acknowledged appends. LH_POWERCUT_PG_NOSYNC=1
# makes cutfs ignore every fsync, to watch the test fail. Waits are for states (a count of
# acknowledged lines, a process gone), each capped at 120 s; no wall-clock bounds.
# Needs root (a FUSE mount other users may use, PostgreSQL run as postgres), /dev/fuse and
# PostgreSQL 15; skipped with the reason otherwise.
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
CUTFS="${LH_BUILD}/tests/cutfs"
PGBIN=${LH_PG_BIN:-/usr/lib/postgresql/15/bin}
ROUNDS=${LH_POWERCUT_PG_ROUNDS:-10}
NOSYNC=${LH_POWERCUT_PG_NOSYNC:-0}
unset LIGHTHOUSE_SECRET LIGHTHOUSE_CHECKPOINTS

[ "$(id -u)" -eq 0 ] || skip_all "needs root (a FUSE mount with allow_other, PostgreSQL run as postgres)"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v fusermount3 >/dev/null || skip_all "no fusermount3 (fuse3)"
[ -x "$PGBIN/postgres" ] || skip_all "no PostgreSQL 15 in $PGBIN"
id postgres >/dev/null 2>&1 || skip_all "no postgres user"
[ -x "$L" ] || { fail "power-loss test (PostgreSQL): $L is missing (build it first)"; done_testing; exit 1; }
[ -x "$CUTFS" ] || { fail "power-loss test (PostgreSQL): $CUTFS is missing (make $CUTFS)"; done_testing; exit 1; }

T=$(mktemp -d /tmp/lh-pgpowerloss.XXXXXX)
chmod 755 "$T"
B="$T/back" M="$T/mnt" S="$T/stash" R="$T/run"
mkdir -p "$B/lh" "$M" "$S" "$R"
chown postgres: "$R"
CUTPID="" PMPID=""
as_pg() { runuser -u postgres -- "$@"; }
alive() { # PID: running (a zombie, left for init to reap, is gone)
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
pg_pids() { [ -n "$PMPID" ] && { echo "$PMPID"; pgrep -P "$PMPID"; }; }
kill_pg() { # SIGKILL the postmaster and its children (ours), and wait until they are gone
  local p pids
  [ -n "$PMPID" ] && kill -STOP "$PMPID" 2>/dev/null   # it starts no child from here on
  pids=$(pg_pids)
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  for p in $pids; do for _ in $(seq 2400); do alive "$p" || break; sleep 0.05; done; done
  PMPID=""
}
unmount() {
  [ -n "$CUTPID" ] || return 0
  for _ in $(seq 600); do umount "$M" 2>/dev/null && break; mountpoint -q "$M" || break; sleep 0.05; done
  if mountpoint -q "$M"; then umount -l "$M"; kill -TERM "$CUTPID" 2>/dev/null; fi
  wait "$CUTPID" 2>/dev/null
  CUTPID=""
}
cleanup() { kill_pg; [ -n "${APID:-}" ] && kill -KILL "$APID" 2>/dev/null; unmount; rm -rf "$T"; }
trap cleanup EXIT

# the cluster, made before any mount (so durable); its server runs on the mount
mkdir "$B/pg"; chown postgres: "$B/pg"; chmod 700 "$B/pg"
if ! as_pg "$PGBIN/initdb" -D "$B/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$T/initdb.log" 2>&1; then
  fail "initdb: $(tail -3 "$T/initdb.log")"; done_testing; exit 1
fi
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT="" PG=""
D="$M/lh/new/store/data"   # made in round 1: new/ and store/ too

mount_cut() { # MODE SEED NOSYNC
  rm -f "$T/mounted" "$T/stats"
  CUTFS_MODE="$1" CUTFS_SEED="$2" CUTFS_NOSYNC="$3" CUTFS_STASH="$S" CUTFS_STATS="$T/stats" \
    "$CUTFS" "$B" "$M" >"$T/mounted" 2>>"$T/cutfs.err" &
  CUTPID=$!
  for _ in $(seq 2400); do grep -q mounted "$T/mounted" 2>/dev/null && mountpoint -q "$M" && return 0
    kill -0 "$CUTPID" 2>/dev/null || break; sleep 0.05; done
  return 1
}
# pg_start [server options]: a free port each time, below the ephemeral range (a busy
# machine's client sockets hold ports there); up to 5 tries, each port checked first
pg_start() {
  local try
  for try in 1 2 3 4 5; do
    for _ in $(seq 20); do PORT=$((20000 + RANDOM % 12000)); port_free "$PORT" && break; done
    PG="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
    if as_pg "$PGBIN/pg_ctl" -D "$M/pg" -l "$R/server.log" -w -t 120 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $R -c shared_buffers=16MB -c max_connections=30 -c recovery_init_sync_method=syncfs -c restart_after_crash=off $*" \
        start >/dev/null 2>&1; then
      PMPID=$(head -1 "$M/pg/postmaster.pid")
      return 0
    fi
    grep -q "could not create any TCP/IP sockets" "$R/server.log" || return 1
  done
  return 1
}
gen() { # round count
  awk -v r="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"type\":\"decision.made\",\"agent\":\"agent-%d\",\"aggregate\":\"s-%d\",\"id\":\"q%03d-%06d\",\"data\":{\"i\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n", i % 20, i % 100, r, i, i }'
}
acks() { awk -F'\t' 'NF == 2' "$T/ack" 2>/dev/null | wc -l; }
# run_cut ROUND N: append until N lines are acknowledged, then the power goes
run_cut() {
  : >"$T/ack"
  gen "$1" 3000 >"$T/in"
  "$L" events append --pg "$PG" --data "$D" --threads 4 --batch 1 <"$T/in" >"$T/ack" 2>"$T/append.err" &
  APID=$!
  for _ in $(seq 2400); do [ "$(acks)" -ge "$2" ] && break; kill -0 "$APID" 2>/dev/null || break; sleep 0.05; done
  kill -USR1 "$CUTPID"
  kill_pg
  kill -KILL "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; APID=""
  unmount
  # as after a reboot: no process of the old server is alive (a killed postmaster may stay
  # a zombie for a while, and its pid in these files would stop the next start)
  rm -f "$B/pg/postmaster.pid" "$R"/.s.PGSQL.*
}
# check_round ROUND: sets acked, missing, vrc, vout (the server is up on the mount)
check_round() {
  awk -F'\t' 'NF == 2' "$T/ack" | sort >"$T/acked"
  acked=$(wc -l <"$T/acked")
  psql "$PG" -AtX -c "SELECT seq || chr(9) || id FROM events WHERE id LIKE 'q$(printf %03d "$1")-%'" 2>"$T/psql.err" |
    sort >"$T/present"
  missing=$(comm -23 "$T/acked" "$T/present" | wc -l)
  vout=$("$L" events verify --pg "$PG" --data "$D" 2>&1); vrc=$?
}

check_report() {
  check "power cut $prev ($pmode after $pn acknowledged; $pstats): all $acked acknowledged appends present ($missing missing), verify passes" \
    '[ "$acked" -gt 0 ] && [ "$missing" -eq 0 ] && [ "$vrc" -eq 0 ]'
  [ "$vrc" -ne 0 ] && echo "#   verify: $(head -2 <<<"$vout" | tr '\n' ' ')"
  comm -23 "$T/acked" "$T/present" | head -3 | sed 's/^/#   missing: /'
}
total=0 cuts=0
prev=""
for round in $(seq 1 "$ROUNDS"); do
  mode=drop; [ $((round % 2)) -eq 0 ] && mode=tear
  if ! mount_cut "$mode" "$round" "$NOSYNC"; then fail "round $round: cutfs mounts: $(tail -2 "$T/cutfs.err")"; break; fi
  if ! pg_start; then fail "round $round: PostgreSQL starts on the file system after the cut ($(tail -3 "$R/server.log"))"; break; fi
  if [ -n "$prev" ]; then
    check_round "$prev"
    total=$((total + acked))
    check_report
  fi
  n_cut=$((20 + RANDOM % 300))
  run_cut "$round" "$n_cut"
  awk '$1 == "cut_at" && $2 >= 0 { f = 1 } END { exit !f }' "$T/stats" 2>/dev/null && cuts=$((cuts + 1))
  pstats="$(awk '/^(writes|fsyncs|pending_writes|pending_names|names_undone)/ { printf "%s%s %s", s, $1, $2; s=", " }' "$T/stats" 2>/dev/null)"
  prev=$round pmode=$mode pn=$n_cut
done

# the last round's check, then a control round: fsync=off must lose acknowledged appends
if mount_cut drop 900 0 && pg_start; then
  check_round "$prev"
  total=$((total + acked))
  check_report
  check "$cuts of $ROUNDS rounds were cut; $total appends were acknowledged before their cut" \
    '[ "$cuts" -eq "$ROUNDS" ] && [ "$total" -ge $((ROUNDS * 20)) ]'
  # the same cluster, restarted with fsync=off for the control round
  as_pg "$PGBIN/pg_ctl" -D "$M/pg" -m fast -w -t 120 stop >/dev/null 2>&1; PMPID=""
  if pg_start -c fsync=off; then
    run_cut 990 200
    if mount_cut keep 991 0 && pg_start; then
      check_round 990
      check "control: with fsync=off the power cut loses acknowledged appends ($missing of $acked missing)" \
        '[ "$acked" -ge 200 ] && [ "$missing" -gt 0 ]'
      kill_pg
    else
      check "control: with fsync=off the power cut leaves a cluster that does not start (acknowledged appends lost)" \
        '[ "$(acks)" -ge 200 ]'
    fi
  else fail "control: PostgreSQL starts with fsync=off"; fi
else
  fail "the last round's check: cutfs mounts and PostgreSQL starts ($(tail -3 "$R/server.log"))"
fi
kill_pg
unmount
[ -s "$T/cutfs.err" ] && sed 's/^/# cutfs: /' "$T/cutfs.err" | head -5
done_testing

#!/usr/bin/env bash
# store_cli.sh — `lighthouse events` end to end on SQLite and PostgreSQL: append, query,
# filters, count, export, tail (follow), stats, projections, snapshots, key rotation, and
# refusals of bad input (exit 2 with a message saying what to fix).
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
T=$(mktemp -d /tmp/lh-cli.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
unset LIGHTHOUSE_SECRET
if [ ! -x "$L" ]; then fail "events cli: $L is missing"; exit 1; fi

check() { # name expected_rc needle cmd... (stdout+stderr captured)
  local name=$1 want=$2 needle=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && [[ "$out" == *"$needle"* ]]; then ok "$name"
  else fail "$name: rc=$rc (want $want), output: ${out:0:300}"; fi
}
checkEq() { # name expected_output cmd...  (exit 0 and exactly this stdout)
  local name=$1 want=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && [ "$out" = "$want" ]; then ok "$name"
  else fail "$name: rc=$rc, output '${out:0:300}' (want '$want')"; fi
}
checkIn() { # name expected_rc needle input cmd...
  local name=$1 want=$2 needle=$3 input=$4; shift 4
  local out rc
  out=$(printf '%s' "$input" | "$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && [[ "$out" == *"$needle"* ]]; then ok "$name"
  else fail "$name: rc=$rc (want $want), output: ${out:0:300}"; fi
}

events() {
  printf '{"type":"policy.activated","aggregate":"policy","data":{"revision":"r1"}}\n'
  for i in $(seq 1 30); do
    printf '{"type":"decision.made","agent":"builder-%d","aggregate":"sess-%d","data":{"i":%d,"decision":"allow"}}\n' $((i % 3)) $((i % 2)) "$i"
  done
  printf '{"type":"token.issued","aggregate":"tok-1","data":{"token_id":"tok-1","agent":"builder-1","role":"builder"}}\n'
  printf '{"type":"policy.activated","aggregate":"policy","data":{"revision":"r2"}}\n'
}

run_suite() { # label store-args...
  local label=$1; shift
  local S=("$@")
  # One thread: the checks below rely on seq following input order (concurrent appends are
  # covered by store_crash.sh).
  out=$(events | "$L" events append "${S[@]}" --threads 1); rc=$?
  [ "$rc" -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 33 ] && ok "$label: append prints a seq per event" ||
    fail "$label: append rc=$rc: ${out:0:200}"
  check "$label: verify" 0 "33 events verified" "$L" events verify "${S[@]}"
  checkEq "$label: count by agent" 10 "$L" events query "${S[@]}" --agent builder-1 --count
  checkEq "$label: count by type prefix" 2 "$L" events query "${S[@]}" --type 'policy.*' --count
  checkEq "$label: count by aggregate and seq range" 5 "$L" events query "${S[@]}" --aggregate sess-1 --after 10 --before 21 --count
  out=$("$L" events query "${S[@]}" --agent builder-2 --desc --limit 3 --json)
  cnt=$(echo "$out" | grep -c '"agent":"builder-2"')
  [ "$cnt" -eq 3 ] && ok "$label: query --json --desc --limit" || fail "$label: query json: $out"
  out=$("$L" events export "${S[@]}")
  [ "$(echo "$out" | wc -l)" -eq 33 ] && [[ "$out" == *'"mac":"'* ]] && ok "$label: export writes JSON lines" ||
    fail "$label: export: ${out:0:200}"
  checkEq "$label: query --since in the future" 0 "$L" events query "${S[@]}" --since 2200-01-01T00:00:00Z --count
  checkEq "$label: query --until the past" 0 "$L" events query "${S[@]}" --until 2001-01-01T00:00:00.5Z --count
  check "$label: stats" 0 "decision.made" "$L" events stats "${S[@]}"
  check "$label: project policy" 0 '"revision":"r2"' "$L" events project policy "${S[@]}"
  check "$label: project policy as of seq 5 (time travel)" 0 '"revision":"r1"' "$L" events project policy "${S[@]}" --as-of 5
  check "$label: project tokens" 0 '"tok-1"' "$L" events project tokens "${S[@]}"
  check "$label: snapshot" 0 "snapshot policy at seq 33" "$L" events snapshot policy "${S[@]}"
  # tail: follow picks up events appended by another process
  # (it prints the last 2 and has its cursor before the appends: wait for those 2 lines, up
  # to 60 s; --timeout 60 only ends a tail that never sees its 3 events)
  "$L" events tail "${S[@]}" -n 2 --max-events 3 --timeout 60 > "$T/tail.$label" 2>&1 &
  tp=$!
  for _ in $(seq 1200); do [ "$(wc -l < "$T/tail.$label")" -ge 2 ] && break; kill -0 "$tp" 2>/dev/null || break; sleep 0.05; done
  for i in 1 2 3; do echo "{\"type\":\"decision.made\",\"agent\":\"late\",\"data\":{\"late\":$i}}"; done | "$L" events append "${S[@]}" >/dev/null
  wait "$tp"; trc=$?
  if [ "$trc" -eq 0 ] && [ "$(grep -c 'late' "$T/tail.$label")" -eq 3 ] && [ "$(wc -l < "$T/tail.$label")" -eq 5 ]; then
    ok "$label: tail shows the last events, then follows new ones"
  else fail "$label: tail rc=$trc: $(head -c 300 "$T/tail.$label")"; fi
}

# ---------------------------------------------------------------- SQLite
D="$T/data"
run_suite sqlite --data "$D"
check "sqlite: rotate-key" 0 "rotated to key" "$L" events rotate-key --data "$D"
echo '{"type":"decision.made","data":{}}' | "$L" events append --data "$D" >/dev/null
check "sqlite: verify after a key rotation" 0 "1 key rotation" "$L" events verify --data "$D"

# ---------------------------------------------------------------- bad input
big=$(head -c 1100000 /dev/zero | tr '\0' 'x')
checkIn "refuses an event over 1 MiB" 2 "over the limit of 1048576 bytes" "{\"type\":\"decision.made\",\"data\":{\"k\":\"$big\"}}
" "$L" events append --data "$D"
deep=$(printf '[%.0s' $(seq 1 70))$(printf ']%.0s' $(seq 1 70))
checkIn "refuses JSON nested deeper than 64" 2 "nested deeper than 64" "{\"type\":\"decision.made\",\"data\":{\"d\":$deep}}
" "$L" events append --data "$D"
checkIn "refuses invalid UTF-8" 2 "not valid UTF-8" $'{"type":"decision.made","data":{"k":"\xff\xfe"}}\n' "$L" events append --data "$D"
checkIn "refuses a bad type" 2 "dotted lower-case" '{"type":"DROP TABLE","data":{}}
' "$L" events append --data "$D"
checkIn "refuses a line that is not JSON" 2 "line 1: not a JSON object" 'hello
' "$L" events append --data "$D"
check "refuses an unknown backend" 2 "unknown store backend 'oracle'; use sqlite or postgres" "$L" events query --store oracle
check "refuses --store postgres without --pg" 2 "needs --pg" "$L" events query --store postgres
check "refuses an unknown option" 2 "unknown option '--frobnicate'" "$L" events query --data "$D" --frobnicate
check "refuses a bad seq" 2 "--after needs a seq" "$L" events query --data "$D" --after -3
check "refuses a bad time" 2 "--since needs a time" "$L" events query --data "$D" --since yesterday
check "refuses a time past 2262" 2 "--until needs a time" "$L" events query --data "$D" --until 2999-01-01T00:00:00Z
check "refuses an unknown subcommand" 2 "unknown subcommand 'explode'" "$L" events explode
check "refuses a missing store" 2 "no event store" "$L" events query --data "$T/nope"
export LIGHTHOUSE_SECRET=this-is-not-the-key-this-store-was-written-with
check "verify refuses a wrong key" 2 "wrong key" "$L" events verify --data "$D"
checkIn "append refuses a wrong key" 2 "wrong key" '{"type":"decision.made","data":{}}
' "$L" events append --data "$D"
export LIGHTHOUSE_SECRET=short
check "refuses a key under 32 bytes" 2 "at least 32 bytes" "$L" events verify --data "$D"
unset LIGHTHOUSE_SECRET
chmod 644 "$D/secret"
check "refuses a secret file readable by others" 2 "chmod 600" "$L" events verify --data "$D"
chmod 600 "$D/secret"
check "store still verifies after the refusals" 0 "verified" "$L" events verify --data "$D"

# ---------------------------------------------------------------- PostgreSQL
if [ -z "${LH_TEST_PG:-}" ]; then
  fail "postgres: LH_TEST_PG is not set (scripts/test-services.sh must start PostgreSQL)"
else
  db="lh_cli_$$"
  if psql "$LH_TEST_PG" -qc "CREATE DATABASE $db" >/dev/null 2>&1; then
    export LIGHTHOUSE_SECRET=cli-test-key-0123456789abcdef0123456789
    run_suite postgres --pg "$LH_TEST_PG dbname=$db"
    check "postgres: wrong key refused" 2 "wrong key" env LIGHTHOUSE_SECRET=another-key-0123456789abcdef0123456789 "$L" events verify --pg "$LH_TEST_PG dbname=$db"
    psql "$LH_TEST_PG dbname=$db" -qc "UPDATE events SET data = replace(data, '\"i\":7}', '\"i\":8}') WHERE seq = 8" >/dev/null
    check "postgres: a changed event is caught" 1 "FAILED at seq 8" "$L" events verify --pg "$LH_TEST_PG dbname=$db"
    check "postgres: bad conninfo is a clear error" 2 "cannot connect to PostgreSQL" "$L" events query --pg "host=127.0.0.1 port=1 connect_timeout=2"
    unset LIGHTHOUSE_SECRET
  else
    fail "postgres: cannot create a database on $LH_TEST_PG"
  fi
fi
done_testing

#!/usr/bin/env bash
# run-tests.sh BUILD_DIR [TEST...] — run every test (or only the TESTs named, as paths:
# build/tests/test_alert tests/integration/hook.sh) and print one closing line
# "N passed, N failed, N skipped". Each test's line ends with its wall time in seconds.
#
# Unit tests are cmocka programs (build/tests/test_*); their "[  PASSED  ] N test(s).",
# "[  FAILED  ] N test(s)" and "[  SKIPPED ] N test(s)" lines are counted, and TAP lines
# too (test_corpus prints TAP; a plan is not required of a program). Integration
# tests are scripts (tests/integration/*.sh) that print TAP (tests/README.md): "ok N - …",
# "not ok N - …", "ok N - … # SKIP why" (a skip, not a pass), and a plan "1..N" printed
# by done_testing at the end. A script with no plan (it stopped early), more than one, or
# a plan that disagrees with the ok / not ok lines it printed counts one more failure;
# "1..0 # SKIP why" (nothing to run here) is one skip. A program that crashes or exits
# non-zero without reporting a failure counts as one failure.
#
# Two scripts at a time (LH_TEST_JOBS, default 2; 1 runs one at a time): a script whose
# header has a line starting "# run-tests: parallel" may run beside another such script (it
# waits mostly on I/O, uses only ports the kernel picked, its own temporary directories and
# PostgreSQL databases, and measures no time or memory against a bound: tests/README.md);
# those run first, two at a time, then every other script alone. Each script's block is
# printed once it has ended, in the order they were started.
set -u
BUILD=${1:-build}
ONLY=("${@:2}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LH_BUILD="$ROOT/$BUILD" LH_ROOT="$ROOT"
export CMOCKA_MESSAGE_OUTPUT=stdout
# quarantine_size_mb: ASan keeps freed memory in a quarantine (256 MB by default) that fills
# over minutes, so the bridge's resident memory under ASan grows with it. load_run.sh compares
# peak memory of two runs against a baseline; with the default it measured ASan, not us.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
failures=()
log=$(mktemp -d)
trap 'rm -rf "$log"; declare -F lh_services_stop >/dev/null && lh_services_stop' EXIT

# Services the tests need (PostgreSQL) are started here, so `make test` works alone.
if [ -x scripts/test-services.sh ]; then
  # shellcheck disable=SC1091
  source scripts/test-services.sh || { echo "could not start test services" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# tap_plan LOGFILE NRESULTS → "" when the TAP plan is right, else why it is not.
tap_plan() {
  local f=$1 got=$2 plans want
  plans=$(grep -cE '^1\.\.[0-9]+' "$f")
  if [ "$plans" -eq 0 ]; then echo "no plan line 1..N: the script stopped before done_testing"; return; fi
  if [ "$plans" -gt 1 ]; then echo "$plans plan lines"; return; fi
  want=$(grep -oE '^1\.\.[0-9]+' "$f" | cut -d. -f3)
  if [ "$want" -ne "$got" ]; then echo "plan 1..$want but $got results"; return; fi
}

count() { # name logfile rc seconds [tap]
  local name=$1 f=$2 rc=$3 took=$4 tap=${5:-} p=0 q=0 s=0 why=""
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$f" | awk '{s+=$NF} END{print s+0}')
  q=$(grep -Eo '^\[  FAILED  \] [0-9]+' "$f" | awk '{s+=$NF} END{print s+0}')
  s=$(grep -Eo '^\[  SKIPPED \] [0-9]+ test' "$f" | awk '{s+=$(NF-1)} END{print s+0}')
  # TAP lines (the scripts, and test_corpus among the programs)
  local tok tnot tskip
  tok=$(grep -cE '^ok( |$)' "$f")
  tnot=$(grep -cE '^not ok( |$)' "$f")
  tskip=$(grep -ciE '^ok( [^#]*)?#[[:space:]]*skip' "$f")
  p=$((p + tok - tskip)); q=$((q + tnot)); s=$((s + tskip))
  if [ -n "$tap" ]; then   # a script must end with its plan
    if grep -qiE '^1\.\.0 *# *skip' "$f" && [ $((tok + tnot)) -eq 0 ]; then s=$((s + 1))
    else why=$(tap_plan "$f" $((tok + tnot))); fi
    if [ -n "$why" ]; then q=$((q + 1)); echo "  ($why)" >>"$f"; fi
  fi
  if [ "$rc" -ne 0 ] && [ "$q" -eq 0 ]; then q=1; echo "  (exit $rc without a failed check)" >>"$f"; fi
  if [ "$p" -eq 0 ] && [ "$q" -eq 0 ] && [ "$s" -eq 0 ]; then q=1; echo "  (no test reported a result)" >>"$f"; fi
  passed=$((passed + p)); failed=$((failed + q)); skipped=$((skipped + s))
  if [ "$q" -gt 0 ]; then failures+=("$name"); echo "FAIL $name ($p passed, $q failed, $s skipped) ${took}s"; tail -40 "$f" | sed 's/^/    /'
  else echo "ok   $name ($p passed, $s skipped) ${took}s"; fi
}

# selected PATH: true when no TEST was named, or PATH is one of them.
selected() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local o
  for o in "${ONLY[@]}"; do [ "$o" = "$1" ] && return 0; done
  return 1
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  selected "$t" || continue
  name=$(basename "$t")
  started=$SECONDS
  timeout 600 "$t" >"$log/$name" 2>&1; rc=$?
  count "$name" "$log/$name" "$rc" $((SECONDS - started))
done

# The scripts: up to JOBS at a time (see the top). A script runs in the background and
# leaves "EXIT-STATUS SECONDS" in $log/NAME.rc when it ends; the blocks are printed in order.
JOBS=${LH_TEST_JOBS:-2}
parallel_ok() { head -40 "$1" | grep -q '^# run-tests: parallel'; }
# the "parallel" scripts first, so that two of them can run at a time all along, then the
# others, one at a time (with JOBS=1, the order of the names)
scripts=() alone_list=()
for t in tests/integration/*.sh; do
  [ -f "$t" ] && selected "$t" || continue
  if [ "$JOBS" -gt 1 ] && parallel_ok "$t"; then scripts+=("$t"); else alone_list+=("$t"); fi
done
scripts+=("${alone_list[@]}")
start_script() { # PATH
  local name; name=$(basename "$1")
  ( started=$SECONDS
    timeout 900 bash "$1" >"$log/$name" 2>&1 </dev/null
    echo "$? $((SECONDS - started))" >"$log/$name.rc.tmp" && mv "$log/$name.rc.tmp" "$log/$name.rc" ) &
}
ended() { [ -f "$log/$(basename "$1").rc" ]; }
next=0 head=0 alone=0
while [ "$head" -lt ${#scripts[@]} ]; do
  running=0
  for ((i = head; i < next; i++)); do ended "${scripts[i]}" || running=$((running + 1)); done
  [ "$running" -eq 0 ] && alone=0
  # start what may start: anything when nothing runs; else a "parallel" script beside others
  while [ "$next" -lt ${#scripts[@]} ] && [ "$alone" = 0 ] &&
        { [ "$running" -eq 0 ] || { [ "$running" -lt "$JOBS" ] && parallel_ok "${scripts[next]}"; }; }; do
    parallel_ok "${scripts[next]}" && [ "$JOBS" -gt 1 ] || alone=1
    start_script "${scripts[next]}"
    next=$((next + 1)); running=$((running + 1))
  done
  # print the blocks of the scripts at the head of the list that have ended
  while [ "$head" -lt "$next" ] && ended "${scripts[head]}"; do
    name=$(basename "${scripts[head]}")
    read -r rc took <"$log/$name.rc"
    count "$name" "$log/$name" "$rc" "$took" tap
    head=$((head + 1))
  done
  [ "$head" -lt "$next" ] && wait -n 2>/dev/null
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "took $SECONDS s in all"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

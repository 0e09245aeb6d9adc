#!/usr/bin/env bash
# run-tests.sh BUILD_DIR — run every test and print one closing line "N passed, N failed".
#
# Unit tests are cmocka programs (build/tests/test_*); their "[  PASSED  ] N test(s)."
# and "[  FAILED  ] N test(s)" lines are counted. Integration tests are scripts
# (tests/integration/*.sh) that print TAP lines ("ok - …" / "not ok - …"). A program
# that crashes or exits non-zero without reporting a failure counts as one failure.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LH_BUILD="$ROOT/$BUILD" LH_ROOT="$ROOT"
export CMOCKA_MESSAGE_OUTPUT=stdout
# quarantine_size_mb: ASan keeps freed memory in a quarantine (256 MB by default) that fills
# over minutes, so the bridge's resident memory under ASan grows with it. load_run.sh compares
# peak memory of two runs against a baseline; with the default it measured ASan, not us.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0
failures=()
log=$(mktemp -d)
trap 'rm -rf "$log"; declare -F lh_services_stop >/dev/null && lh_services_stop' EXIT

# Services the tests need (PostgreSQL) are started here, so `make test` works alone.
if [ -x scripts/test-services.sh ]; then
  # shellcheck disable=SC1091
  source scripts/test-services.sh || { echo "could not start test services" >&2; echo "0 passed, 1 failed"; exit 1; }
fi

count() { # name logfile rc
  local name=$1 f=$2 rc=$3 p=0 q=0
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$f" | awk '{s+=$NF} END{print s+0}')
  q=$(grep -Eo '^\[  FAILED  \] [0-9]+' "$f" | awk '{s+=$NF} END{print s+0}')
  p=$((p + $(grep -cE '^ok( |$)' "$f")))
  q=$((q + $(grep -cE '^not ok( |$)' "$f")))
  if [ "$rc" -ne 0 ] && [ "$q" -eq 0 ]; then q=1; fi
  if [ "$p" -eq 0 ] && [ "$q" -eq 0 ]; then q=1; echo "  (no test reported a result)" >>"$f"; fi
  passed=$((passed + p)); failed=$((failed + q))
  if [ "$q" -gt 0 ]; then failures+=("$name"); echo "FAIL $name ($p passed, $q failed)"; cat "$f" | tail -40 | sed 's/^/    /'
  else echo "ok   $name ($p passed)"; fi
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  timeout 600 "$t" >"$log/$name" 2>&1; rc=$?
  count "$name" "$log/$name" "$rc"
done
for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t")
  timeout 900 bash "$t" >"$log/$name" 2>&1 </dev/null; rc=$?
  count "$name" "$log/$name" "$rc"
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

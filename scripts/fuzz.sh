#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS [NAME] — run each libFuzzer harness built by `make fuzz` in
# BUILD_DIR/fuzz/ for SECONDS, starting from its committed seeds (tests/fuzz/corpus/NAME)
# and past crashes (tests/fuzz/crashes/NAME). New corpus inputs go to
# BUILD_DIR/fuzz/corpus/NAME, findings to BUILD_DIR/fuzz/crashes/NAME. Prints one line per
# harness: "fuzz NAME: N execs in S s" (S short of SECONDS when it stopped on a finding) and exits 1 if any harness found something.
set -u
BUILD=${1:?usage: fuzz.sh BUILD_DIR SECONDS [NAME]}
SECS=${2:?usage: fuzz.sh BUILD_DIR SECONDS [NAME]}
ONLY=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=16}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for bin in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
  work="$BUILD/fuzz/corpus/$name" crashes="$BUILD/fuzz/crashes/$name"
  mkdir -p "$work" "$crashes"
  dirs=("$work" "tests/fuzz/corpus/$name")
  [ -d "tests/fuzz/crashes/$name" ] && dirs+=("tests/fuzz/crashes/$name")
  log="$BUILD/fuzz/$name.log"
  nice "$bin" -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=1536 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -aEo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  secs=$(grep -aEo '^Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo '[0-9]+ second' | grep -Eo '[0-9]+')
  echo "fuzz $name: ${execs:-?} execs in ${secs:-less than $SECS} s (exit $rc, log $log)"
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    grep -E 'ERROR|SUMMARY|Test unit written|abort|differ' "$log" | head -20 | sed 's/^/    /'
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz findings: ${failed[*]}"; exit 1; }

#!/usr/bin/env bash
# fuzz_replay.sh — every fuzz harness (tests/fuzz/fuzz_*.c), built without libFuzzer as
# LH_BUILD/fuzz-replay/NAME (a main that reads files), replays its committed seeds
# (tests/fuzz/corpus/NAME) and every past finding (tests/fuzz/crashes/NAME). A harness
# reports a finding by crashing or aborting, so each must exit 0; under `make check` the
# replay binaries carry AddressSanitizer and UBSan like the fuzzers. No timing involved.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
B="${LH_BUILD:?}"
R="${LH_ROOT:?}"
h=0
for src in "$R"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  bin="$B/fuzz-replay/$name"
  h=$((h + 1))
  if [ ! -x "$bin" ]; then fail "$name: $bin is missing (make test builds it)"; continue; fi
  dirs=()
  [ -d "$R/tests/fuzz/corpus/$name" ] && dirs+=("$R/tests/fuzz/corpus/$name")
  [ -d "$R/tests/fuzz/crashes/$name" ] && dirs+=("$R/tests/fuzz/crashes/$name")
  nseeds=$(find "${dirs[@]}" -type f ! -name '.*' 2>/dev/null | wc -l)
  if [ "$nseeds" -lt 10 ]; then fail "$name: only $nseeds seed files (want at least 10)"; continue; fi
  out=$("$bin" "${dirs[@]}" 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && [[ "$out" == *"ok $nseeds files"* ]]; then
    ok "$name replays $nseeds seeds and past crashes"
  else
    fail "$name: exit $rc on its seeds; last lines:"
    printf '%s\n' "$out" | tail -25 | sed 's/^/#   /'
  fi
done
if [ "$h" -lt 8 ]; then fail "expected at least 8 harnesses, found $h"; fi
done_testing

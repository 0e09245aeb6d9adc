#!/usr/bin/env bash
# run-bench.sh BUILD_DIR — run every benchmark; each prints its own figures.
# Benchmarks never pass or fail on time: read the figures (and compare ratios in one run).
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LH_BUILD="$ROOT/$BUILD" LH_ROOT="$ROOT"
if [ -x scripts/test-services.sh ]; then source scripts/test-services.sh || exit 1; fi
# The services started above (PostgreSQL) stop with the run, as after make test.
trap 'declare -F lh_services_stop >/dev/null && lh_services_stop' EXIT
rc=0
for b in "$BUILD"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || rc=1
done
for b in bench/*.sh; do
  [ -f "$b" ] || continue
  echo "== $(basename "$b")"
  bash "$b" || rc=1
done
exit $rc

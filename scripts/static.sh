#!/usr/bin/env bash
# make static: the project checks itself (as curl's checksrc does), in two passes over src/.
#   1. clang's static analyzer: scan-build around a clean build of every program in
#      STATIC_BUILD (default build-scan/), with the project's own flags (the Makefile's).
#   2. clang-tidy with the checks of .clang-tidy (bug-prone and CERT families, and why some
#      are left out) over every src/**/*.c, from a compile_commands.json written here with
#      the Makefile's flags; STATIC_JOBS files at a time (default 2).
# Prints each finding as file:line:col: warning: message [check], then a count per pass;
# exits 1 on any finding. A finding the code keeps is suppressed in the code with a reason
# (.clang-tidy says how). Usage: scripts/static.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-${STATIC_BUILD:-build-scan}}"
JOBS="${STATIC_JOBS:-2}"

for tool in clang scan-build clang-tidy python3; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "static: $tool is missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
start=$(date +%s)

# --- 1. scan-build -------------------------------------------------------------------
# Objects are removed first: scan-build analyses only what make compiles.
rm -rf "$BUILD/obj" "$BUILD/report"
mkdir -p "$BUILD/report"
scan_log="$BUILD/scan-build.log"
set +e
nice scan-build --use-cc=clang -o "$BUILD/report" \
  make --no-print-directory -j"$JOBS" BUILD="$BUILD" all >"$scan_log" 2>&1
scan_rc=$?
set -e
if [ "$scan_rc" -ne 0 ]; then
  tail -n 30 "$scan_log" >&2
  echo "static: the scan-build build failed (rc $scan_rc, log in $scan_log)" >&2
  exit 1
fi
grep -E '^src/[^:]+:[0-9]+:[0-9]+: (warning|error):' "$scan_log" | sort -u >"$BUILD/scan-build.txt" || true
scan_n=$(wc -l <"$BUILD/scan-build.txt")
cat "$BUILD/scan-build.txt"
echo "static: scan-build: $scan_n finding(s) (reports in $BUILD/report)"

# --- 2. clang-tidy -------------------------------------------------------------------
cflags=$(make --no-print-directory -s BUILD="$BUILD" print-cflags)
find src -name '*.c' | sort >"$BUILD/tidy-files.txt"
CFLAGS_LINE="$cflags" python3 - "$BUILD/compile_commands.json" "$BUILD/tidy-files.txt" <<'PY'
import json, os, shlex, sys
root = os.getcwd()
flags = shlex.split(os.environ["CFLAGS_LINE"])
files = [l.strip() for l in open(sys.argv[2]) if l.strip()]
db = [{"directory": root, "file": f,
       "arguments": ["clang"] + flags + ["-c", f, "-o", "/dev/null"]} for f in files]
json.dump(db, open(sys.argv[1], "w"), indent=1)
PY
tidy_log="$BUILD/clang-tidy.log"
set +e
nice xargs -P"$JOBS" -n4 clang-tidy -p "$BUILD" --quiet <"$BUILD/tidy-files.txt" >"$tidy_log" 2>&1
tidy_rc=$?
set -e
# Paths are absolute in clang-tidy's output; headers are reported once per file that
# includes them, hence sort -u.
sed "s|^$PWD/||" "$tidy_log" | grep -E '^src/[^:]+:[0-9]+:[0-9]+: (warning|error):' |
  sort -u >"$BUILD/clang-tidy.txt" || true
tidy_n=$(wc -l <"$BUILD/clang-tidy.txt")
cat "$BUILD/clang-tidy.txt"
if [ "$tidy_n" -eq 0 ] && [ "$tidy_rc" -ne 0 ]; then
  tail -n 30 "$tidy_log" >&2
  echo "static: clang-tidy failed (rc $tidy_rc, log in $tidy_log)" >&2
  exit 1
fi
echo "static: clang-tidy: $tidy_n finding(s) in $(wc -l <"$BUILD/tidy-files.txt") files (log in $tidy_log)"

total=$((scan_n + tidy_n))
echo "static: $total finding(s), $(( $(date +%s) - start )) s"
[ "$total" -eq 0 ]

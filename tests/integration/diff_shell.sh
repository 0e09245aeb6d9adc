#!/usr/bin/env bash
# diff_shell.sh — the engine's shell parser against an independent one (mvdan/sh, the npm
# package mvdan-sh) on every corpus command and a fixed sample of 20,000 generated and
# mutated scripts (seed 1). See docs/architecture.md, "Differential test of the shell
# parser". `make diff-shell` runs 100,000 more with another seed.
#
# The scripts are data: tests/diff/compare.js hands them to the two parsers (shell_dump
# on stdin, mvdan-sh in-process) and never to a shell.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
ROOT=${LH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${LH_BUILD:-$ROOT/build}
DIFF_COUNT=${DIFF_COUNT:-20000}
DIFF_SEED=${DIFF_SEED:-1}

echo "1..1"
if ! command -v node >/dev/null 2>&1; then
  echo "ok - diff_shell # SKIP node is not installed (scripts/deps.sh installs it)"
  exit 0
fi
if [ ! -f "$ROOT/tests/diff/node_modules/mvdan-sh/index.js" ]; then
  if command -v npm >/dev/null 2>&1; then
    (cd "$ROOT/tests/diff" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                                npm ci --no-audit --no-fund >/dev/null 2>&1; })
  fi
  if [ ! -f "$ROOT/tests/diff/node_modules/mvdan-sh/index.js" ]; then
    echo "ok - diff_shell # SKIP mvdan-sh could not be installed (npm missing or unreachable)"
    exit 0
  fi
fi
if [ ! -x "$BUILD/tests/shell_dump" ]; then
  echo "not ok - diff_shell: $BUILD/tests/shell_dump is missing (make builds it with make test)"
  exit 1
fi
node "$ROOT/tests/diff/compare.js" "$BUILD/tests/shell_dump" --seed "$DIFF_SEED" --count "$DIFF_COUNT"

#!/usr/bin/env bash
# perfgate.sh — the CI performance gate's compare step can fail (scripts/perfgate.sh
# --compare), on fabricated measurements against a fabricated baseline: 11% over fails
# and names the figure, its baseline, its value and the ratio; 9% over passes; 11% under
# passes with a hint to update the baseline; a figure missing from the measurement or
# from the baseline fails; a malformed baseline is an error that names the line. And the
# committed baseline (bench/perf-baseline.txt) is well formed and names the figures the
# gate measures. Cheap: no valgrind, no build (make perfgate runs the measurement).
set -u
. "$(dirname "$0")/tap.bash"
R="${LH_ROOT:?}"
G="$R/scripts/perfgate.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# base FILE [extra lines...]: a baseline with two figures and its metadata
base() {
  local f=$1; shift
  printf '%s\n' "# a baseline" "commit: abc1234" "date: 2026-12-07T12:00Z" "reason: test baseline" \
    "engine.uncached 20000" "store.append 100000" "$@" >"$f"
}
base "$T/base"

# run BASELINE MEASURED: the compare step; sets rc and out, and shows out as TAP comments
run() { out=$("$G" --compare "$@" 2>&1); rc=$?; sed 's/^/# /' <<<"$out"; }

printf '%s\n' "engine.uncached 22200" "store.append 100000" >"$T/over11"
run "$T/base" "$T/over11"
check "11% over a baseline fails (exit 1)" '[ "$rc" -eq 1 ]'
check "  and the message names the figure, its baseline, its value and the ratio" \
  'grep -q "FAIL engine.uncached: 22200 instructions, baseline 20000 .*ratio 1.110" <<<"$out"'
check "  and says when and why the baseline was set" 'grep -q "set at abc1234 on 2026-12-07T12:00Z: test baseline" <<<"$out"'
check "  and does not fail the figure that held" '! grep -q "FAIL store.append" <<<"$out"'

printf '%s\n' "engine.uncached 21800" "store.append 109000" >"$T/over9"
run "$T/base" "$T/over9"
check "9% over passes (exit 0)" '[ "$rc" -eq 0 ] && ! grep -q FAIL <<<"$out"'

printf '%s\n' "engine.uncached 17800" "store.append 100000" >"$T/under11"
run "$T/base" "$T/under11"
check "11% under passes (exit 0) with a hint to update the baseline" \
  '[ "$rc" -eq 0 ] && grep -q "engine.uncached.*ratio 0.890.*update the baseline: scripts/perfgate.sh --update" <<<"$out"'

printf '%s\n' "engine.uncached 20000" >"$T/missing"
run "$T/base" "$T/missing"
check "a figure in the baseline but not measured fails, named" \
  '[ "$rc" -eq 1 ] && grep -q "FAIL store.append: in the baseline (100000) but not measured" <<<"$out"'

printf '%s\n' "engine.uncached 20000" "store.append 100000" "bridge.validate 30000" >"$T/extra"
run "$T/base" "$T/extra"
check "a figure measured but not in the baseline fails, named" \
  '[ "$rc" -eq 1 ] && grep -q "FAIL bridge.validate: measured (30000) but not in the baseline" <<<"$out"'

base "$T/bad_value" "bridge.validate fast"
run "$T/bad_value" "$T/over9"
check "a baseline with a value that is not a number is an error (exit 2) naming the line" \
  '[ "$rc" -eq 2 ] && grep -q "bad_value:7: figure bridge.validate: value \"fast\" is not a positive number" <<<"$out"'

printf '%s\n' "commit: abc1234" "date: 2026-12-07T12:00Z" "engine.uncached 20000" >"$T/no_reason"
run "$T/no_reason" "$T/over9"
check "a baseline without its reason is an error (exit 2)" '[ "$rc" -eq 2 ] && grep -q "reason: are required" <<<"$out"'

base "$T/junk" "engine.uncached 20000 19000"
run "$T/junk" "$T/over9"
check "a baseline line of three words is an error (exit 2) naming the line" '[ "$rc" -eq 2 ] && grep -q "junk:7: expected" <<<"$out"'

base "$T/dup" "engine.uncached 21000"
run "$T/dup" "$T/over9"
check "a figure given twice is an error (exit 2)" '[ "$rc" -eq 2 ] && grep -q "engine.uncached given twice" <<<"$out"'

run "$T/base" "$T/does-not-exist"
check "a missing measurement file is an error (exit 2)" '[ "$rc" -eq 2 ]'

out=$("$G" --update "" 2>&1); rc=$?
check "--update without a reason is refused (exit 2)" '[ "$rc" -eq 2 ] && grep -q "needs a reason" <<<"$out"'

# The committed baseline: well formed, and it names exactly the figures the gate measures
# (compared with itself, it passes only when parse and compare both accept it).
B="$R/bench/perf-baseline.txt"
run "$B" <(grep -E '^[a-z]+\.[a-z.]+ ' "$B")
check "bench/perf-baseline.txt is well formed" '[ "$rc" -eq 0 ]'
figs=$(grep -oE '^[a-z]+\.[a-z.]+ ' "$B" | sort | tr -d ' ' | tr '\n' ' ')
check "it holds the four figures of the gate (got: $figs)" \
  '[ "$figs" = "bridge.validate engine.cached engine.uncached store.append " ]'
check "it says which commit, when and why" 'grep -qE "^commit: [0-9a-f]{7}" "$B" && grep -q "^date: " "$B" && grep -q "^reason: ." "$B"'

done_testing

# tap.bash — TAP output for tests/integration/*.sh (sourced; not a test itself).
#
# Every check prints one numbered line: "ok N - what" or "not ok N - what"; a check that
# cannot run here prints "ok N - what # SKIP why" (skip). The script ends by calling
# done_testing, which prints the plan "1..N" (N = the checks printed). scripts/run-tests.sh
# fails a script that prints no plan (it stopped early) or whose plan disagrees with the
# ok / not ok lines it printed. A script that has nothing to run here ends with
# skip_all "why" (the plan "1..0 # SKIP why").
#
# Sourcing it twice, or after a script defined its own counter n, keeps the count.
n=${n:-0}
ok()   { n=$((n+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); echo "not ok $n - $1"; }
skip() { n=$((n+1)); echo "ok $n - $1 # SKIP ${2:-}"; }
# check NAME SHELL-CONDITION: ok when the condition (eval'd) is true.
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
# done_testing: the closing plan. A lib that must report more checks when the script ends
# (bridge_lib.bash: sanitizer reports of the bridges it started) defines tap_before_plan.
done_testing() {
  if declare -F tap_before_plan >/dev/null; then tap_before_plan; fi
  echo "1..$n"
}
# skip_all WHY: nothing can be checked here (a missing service); prints the plan and exits 0.
skip_all() {
  if [ "$n" -ne 0 ]; then fail "skip_all after $n checks: $1"; done_testing; exit 1; fi
  echo "1..0 # SKIP $1"
  exit 0
}

#!/usr/bin/env bash
# source_sizes.sh — no C source or header under src/, tests/unit/ or bench/ is over
# MAX_LINES lines (STYLE: add a file rather than grow a big one). The one exception is
# src/engine/shell.c, one grammar; an excepted file must say why in its header comment
# (a line that names the limit, "1,300 lines"), so the exception cannot go unexplained.
# Reads files only; no build needed.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
R="${LH_ROOT:?}"
MAX_LINES=1300
EXCEPT=(src/engine/shell.c)

cd "$R" || { fail "cannot cd to $R"; done_testing; exit 1; }

excepted() {
  local e
  for e in "${EXCEPT[@]}"; do [ "$e" = "$1" ] && return 0; done
  return 1
}

nfiles=0 over=()
while IFS= read -r f; do
  nfiles=$((nfiles + 1))
  excepted "$f" && continue
  lines=$(wc -l <"$f")
  [ "$lines" -gt "$MAX_LINES" ] && over+=("$f ($lines lines)")
done < <(find src tests/unit bench -type f \( -name '*.c' -o -name '*.h' \) | sort)

if [ "$nfiles" -lt 50 ]; then
  fail "found only $nfiles source files under src, tests/unit and bench (wrong root?)"
elif [ ${#over[@]} -eq 0 ]; then
  ok "$nfiles source files, none over $MAX_LINES lines (excepted: ${EXCEPT[*]})"
else
  fail "over $MAX_LINES lines (split them, see STYLE.md): ${over[*]}"
fi

for e in "${EXCEPT[@]}"; do
  if [ ! -f "$e" ]; then
    fail "$e is excepted from the size limit but does not exist: drop it from EXCEPT"
  elif head -n 40 "$e" | grep -q '1,300 lines'; then
    ok "$e says in its header why it may exceed $MAX_LINES lines"
  else
    fail "$e is excepted from the size limit, but its header comment does not say why (name the 1,300 lines limit)"
  fi
done
done_testing

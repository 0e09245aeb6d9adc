#!/usr/bin/env bash
# hook_powerloss.sh — `lighthouse hook install` and `uninstall` under the power-cut layer
# (build/tests/powercut.so, tests/powercut/powercut.c; issue 17 part 4). They replace the
# Claude Code settings file by writing a temporary file and renaming it over the old one:
# "never a half-written file" needs an fsync of the temporary file before the rename (or a
# rename that reaches the disk first leaves an empty file) and one of the directory after
# it (or the rename, and with it the install that was reported, is lost).
#
# - A cut at every write of the run: the settings file is the old file or the new one,
#   whole (drop and tear).
# - A cut as the command exits (POWERCUT_AT_EXIT=1), after it said "installed": the new
#   file, whole (drop, and tear with several seeds).
# - Control: with the fsyncs disabled (POWERCUT_NOSYNC=1) the cut at exit must lose the
#   install: the test sees a missing fsync. LH_POWERCUT_NOSYNC=1 disables them everywhere,
#   to watch the test fail.
# The cut point is chosen by write count, never by time.
set -u
. "$(dirname "$0")/tap.bash"
L="${LH_BUILD:?}/lighthouse"
SO="${LH_BUILD}/tests/powercut.so"
NOSYNC=${LH_POWERCUT_NOSYNC:-0}
T=$(mktemp -d /tmp/lh-hookpower.XXXXXX)
trap 'rm -rf "$T"' EXIT
# an ASan build wants its runtime first in the library list; the layer is preloaded before it
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"

if [ ! -x "$L" ]; then fail "hook power-loss test: $L is missing (build it first)"; exit 1; fi
if [ ! -f "$SO" ]; then fail "hook power-loss test: $SO is missing (make $SO)"; exit 1; fi

D="$T/claude"            # the tracked directory: the settings file and its temporary file
S="$D/settings.json"
mkdir -p "$D" "$T/ref"
# The user's settings before the install: other keys and another hook, over one 512-byte
# sector so that tear can keep part of it; compact, so that uninstall's indented file
# differs from it.
python3 - "$T/old.json" <<'PY'
import json, sys
s = {"permissions": {"allow": ["Read(./src/**)"] + ["Read(./docs/%03d/**)" % i for i in range(40)]},
     "hooks": {"PreToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "my-formatter --check"}]}]},
     "model": "sonnet"}
open(sys.argv[1], "w").write(json.dumps(s))
PY
# The files install and uninstall write, made without the layer.
cp "$T/old.json" "$T/ref/settings.json"
"$L" hook install --settings "$T/ref/settings.json" > /dev/null || { fail "install without the layer failed"; exit 1; }
cp "$T/ref/settings.json" "$T/new.json"
"$L" hook uninstall --settings "$T/ref/settings.json" > /dev/null || { fail "uninstall without the layer failed"; exit 1; }
cp "$T/ref/settings.json" "$T/undone.json"
if cmp -s "$T/old.json" "$T/new.json" || cmp -s "$T/new.json" "$T/undone.json" || cmp -s "$T/old.json" "$T/undone.json"; then
  fail "the old, installed and uninstalled settings files are not three different files"; exit 1
fi

# run VERB START MODE CUT ATEXIT SEED NOSYNC: VERB (install, uninstall) on a settings file
# that holds START, under the layer; sets rc
run() {
  rm -rf "$T/shadow" "$D"; mkdir -p "$T/shadow" "$D"
  cp "$T/$2" "$S"
  # the braces keep bash's "Killed" job message out of the TAP output
  { LD_PRELOAD="$SO" POWERCUT_DIR="$D" POWERCUT_SHADOW="$T/shadow" POWERCUT_MODE="$3" POWERCUT_AFTER="$4" \
      POWERCUT_AT_EXIT="$5" POWERCUT_SEED="$6" POWERCUT_NOSYNC="$7" POWERCUT_STATS="$T/stats" \
      "$L" hook "$1" --settings "$S" > "$T/out" 2> "$T/err"; } 2>/dev/null
  rc=$?
}

# state: which file the settings file is now: old, new, undone, missing or other
state() {
  if [ ! -e "$S" ]; then echo missing; return; fi
  for f in old new undone; do cmp -s "$S" "$T/$f.json" && { echo "$f"; return; }; done
  echo "other ($(wc -c < "$S") bytes)"
}

# calibration: an uncut run counts the writes to the tracked directory
rm -f "$T/stats"
run install old.json drop 0 0 1 0
W=$(awk '/^writes/ { print $2 }' "$T/stats" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "${W:-0}" -ge 1 ] && [ "$(state)" = new ]; then
  ok "an uncut install under the layer writes the new file ($W writes)"
else
  fail "an uncut install under the layer: rc $rc, ${W:-no} writes, the settings file is $(state): $(head -c 300 "$T/err")"
  W=1
fi

# a cut at each write of the run: old or new, whole
for mode in drop tear; do
  bad=""
  for cut in $(seq 1 "$W"); do
    for seed in 1 2 3; do
      run install old.json "$mode" "$cut" 0 "$seed" "$NOSYNC"
      st=$(state)
      [ "$st" = old ] || [ "$st" = new ] || bad="$bad write $cut seed $seed: rc $rc, $st;"
    done
  done
  check "install cut at each of its $W writes ($mode): the settings file is the old one or the new one, whole${bad:+ —$bad}" '[ -z "$bad" ]'
done

# the cut as the command exits, after it reported success: the new file, whole
for verb in install uninstall; do
  start=old.json want=new
  [ "$verb" = uninstall ] && start=new.json want=undone
  bad=""
  run "$verb" "$start" drop 0 1 1 "$NOSYNC"
  st=$(state)
  [ "$rc" -eq 0 ] && [ "$st" = "$want" ] || bad=" drop: rc $rc, $st;"
  for seed in 1 2 3 4 5 6 7 8; do
    run "$verb" "$start" tear 0 1 "$seed" "$NOSYNC"
    st=$(state)
    [ "$rc" -eq 0 ] && [ "$st" = "$want" ] || bad="$bad tear seed $seed: rc $rc, $st;"
  done
  check "$verb, then the power cut as it exits: the settings file is the $want one, whole (drop, and tear with 8 seeds)${bad:+ —$bad}" '[ -z "$bad" ]'
done

# control: without the fsyncs, the cut at exit loses what install reported
run install old.json drop 0 1 1 1
st=$(state)
if [ "$rc" -eq 0 ] && [ "$st" != new ]; then
  ok "control: with fsync disabled the power cut at exit leaves the settings file $st, not the installed one"
else
  fail "control: with fsync disabled the cut at exit left rc $rc, $st (the test cannot see a missing fsync)"
fi
done_testing

#!/usr/bin/env bash
# perfgate.sh — the CI performance gate (issue 15 part 7): instructions per unit of work,
# counted by valgrind's callgrind on a fixed, committed mix of requests, compared with the
# committed baseline bench/perf-baseline.txt. Instruction counts do not move with the
# machine's other load, so noise cannot fail the gate, and a real slowdown cannot hide.
#
#   scripts/perfgate.sh [--build DIR]                 measure, compare; exit 1 on a regression
#   scripts/perfgate.sh [--build DIR] --update REASON measure and rewrite the baseline
#   scripts/perfgate.sh --compare BASELINE MEASURED   the compare step alone, on two files
#   scripts/perfgate.sh [--build DIR] --measure FILE  measure only, into FILE
#
# The figures (instructions per unit; docs/architecture.md, "The performance gate"):
#   engine.uncached   per decision, cache bypassed (bench/perf_driver engine; only inside
#                     lh_engine_decide, --toggle-collect)
#   engine.cached     per decision answered from the cache (the same run)
#   bridge.validate   per POST /v1/validate through the real bridge (lighthouse serve under
#                     callgrind, one keep-alive connection, scripts/perfgate_client.py):
#                     what runs inside the bridge's two libmicrohttpd callbacks, onRequest
#                     and onCompleted (--toggle-collect): routing, the token check, the
#                     body's checks, the request's parse, the engine (the mix repeats, so
#                     its cache answers), the decision.made event made ready for the store,
#                     the reply. Not libmicrohttpd's own loop (its count moves by ~0.7%
#                     between runs with how often a worker wakes), nor the store's writer
#   store.append      per durable append of one decision.made event to SQLite on tmpfs:
#                     the caller's lh_store_append and the writer's group (one commit each),
#                     100 of them, too few to wake the background WAL checkpointer
# Each phase is counted after a warm-up, from zeroed counters, and divided by its count,
# so a figure does not depend on the count. Everything is measured twice; the two must
# agree within 1% (else the gate fails: the measurement is not deterministic).
#
# Compare: a figure more than 10% over its baseline fails, naming the figure, the
# baseline, the value and the ratio; more than 10% under passes with a hint to update the
# baseline. A figure measured but not in the baseline, or in the baseline but not
# measured, fails; a malformed baseline is an error that says which line. Exit codes:
# 0 pass, 1 a regression (or a missing figure), 2 bad usage, a malformed file, or a
# measurement that failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
BASELINE="$ROOT/bench/perf-baseline.txt"
MIX="$ROOT/bench/perf-mix.jsonl"
LIMIT_UP=1.10 LIMIT_DOWN=0.90 AGREE=0.01
N_ENGINE=${PERFGATE_N_ENGINE:-400}
N_BRIDGE=${PERFGATE_N_BRIDGE:-200} WARM_BRIDGE=40
# 50 warm-up appends and 100 counted ones write ~850 WAL frames: under the 1,000 that wake
# the store's checkpointer (src/store/sqlite.c, CKPT_FRAMES), whose WAL reset changes the
# writer's later work (with 200, one run in a few was 1.7% apart from the others)
N_STORE=${PERFGATE_N_STORE:-100}

die() { echo "perfgate: $*" >&2; exit 2; }

# ---- compare ---------------------------------------------------------------------------

# parse_figures FILE [meta]: "NAME VALUE" lines on stdout, and the metadata as "@commit X"
# etc.; exit 2 with the line's number and what is wrong on anything else. With "meta" (a
# baseline) commit:, date: and reason: are required.
parse_figures() {
  awk -v f="$1" -v needmeta="${2:-}" '
    function bad(why) { printf "perfgate: %s:%d: %s\n", f, NR, why > "/dev/stderr"; err = 1; exit 2 }
    /^[[:space:]]*(#|$)/ { next }
    /^(commit|date|reason):/ {
      key = $1; sub(/:$/, "", key); val = $0; sub(/^[a-z]+:[[:space:]]*/, "", val)
      if (val == "") bad(key " is empty")
      if (key in meta) bad(key " given twice")
      meta[key] = val; print "@" key " " val; next
    }
    NF != 2 { bad("expected \"FIGURE VALUE\" or commit:/date:/reason:, got: " $0) }
    $1 !~ /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/ { bad("bad figure name \"" $1 "\"") }
    $2 !~ /^[0-9]+(\.[0-9]+)?$/ || $2 + 0 <= 0 { bad("figure " $1 ": value \"" $2 "\" is not a positive number") }
    $1 in seen { bad("figure " $1 " given twice") }
    { seen[$1] = 1; print $1, $2; n++ }
    END {
      if (err) exit 2
      if (!n) { printf "perfgate: %s: no figures\n", f > "/dev/stderr"; exit 2 }
      if (needmeta && (!("commit" in meta) || !("date" in meta) || !("reason" in meta))) {
        printf "perfgate: %s: commit:, date: and reason: are required (scripts/perfgate.sh --update REASON writes them)\n", f > "/dev/stderr"; exit 2
      }
    }' "$1"
}

# compare BASELINE MEASURED: exit 0 pass, 1 fail, 2 malformed input.
compare() {
  local base measured
  [ -r "$1" ] || die "no baseline $1"
  [ -r "$2" ] || die "no measurement $2"
  base=$(parse_figures "$1" meta) || exit 2
  measured=$(parse_figures "$2") || exit 2
  awk -v up="$LIMIT_UP" -v down="$LIMIT_DOWN" '
    FNR == 1 { file++ }
    file == 1 && /^@/ { m = $0; sub(/^@[a-z]+ /, "", m); meta[substr($1, 2)] = m; next }
    /^@/ { next }
    file == 1 { b[$1] = $2; order[++nb] = $1; next }
    { v[$1] = $2; if (!($1 in b)) extra[++ne] = $1 }
    END {
      fail = 0
      set = "set at " meta["commit"] " on " meta["date"] ": " meta["reason"]
      for (i = 1; i <= nb; i++) {
        k = order[i]
        if (!(k in v)) { printf "perfgate: FAIL %s: in the baseline (%s) but not measured\n", k, b[k]; fail = 1; continue }
        r = v[k] / b[k]
        if (r > up) {
          printf "perfgate: FAIL %s: %s instructions, baseline %s (%s), ratio %.3f (limit %.2f)\n", k, v[k], b[k], set, r, up
          fail = 1
        } else if (r < down) {
          printf "perfgate: ok   %s: %s instructions, baseline %s, ratio %.3f: more than %d%% better; if this is meant, update the baseline: scripts/perfgate.sh --update \"why\"\n", k, v[k], b[k], r, (1 - down) * 100 + .5
        } else {
          printf "perfgate: ok   %s: %s instructions, baseline %s, ratio %.3f\n", k, v[k], b[k], r
        }
      }
      for (i = 1; i <= ne; i++) {
        printf "perfgate: FAIL %s: measured (%s) but not in the baseline; add it with scripts/perfgate.sh --update \"why\"\n", extra[i], v[extra[i]]
        fail = 1
      }
      exit fail
    }' <(printf '%s\n' "$base") <(printf '%s\n' "$measured")
}

# ---- measure ---------------------------------------------------------------------------

# summary FILE [totals]: the instruction count of one callgrind dump. "summary:" is what
# callgrind collected; with one thread toggled (the engine, the bridge's callbacks) it does
# not depend on the count (the engine at 100 and 400 decisions: 19,911.3 both). With two
# threads toggled (the store's caller and writer) it also took ~5.1 M instructions of the
# writer's wait loop once per dump, so the store reads "totals:", the sum of the dump's cost
# lines, which holds only the toggled functions (106,202 an append at 50, 106,471 at 100).
summary() { awk -v k="${2:-summary}:" '$1 == k { print $2; found = 1 } END { if (!found) exit 1 }' "$1"; }

# per COUNT INSTRUCTIONS: instructions per unit, rounded.
per() { awk -v n="$1" -v i="$2" 'BEGIN { printf "%.0f\n", i / n }'; }

VG=(valgrind --tool=callgrind --dump-instr=no --compress-strings=no --compress-pos=no)

measure_engine() { # OUT T
  "${VG[@]}" --toggle-collect=lh_engine_decide --callgrind-out-file="$2/engine" \
    "$BUILD/bench/perf_driver" engine "$MIX" "$N_ENGINE" >"$2/engine.log" 2>&1 \
    || { cat "$2/engine.log" >&2; die "the engine's run failed"; }
  local unc cac
  unc=$(summary "$2/engine.1") && cac=$(summary "$2/engine.2") || die "no callgrind dumps from the engine's run ($2)"
  grep -q 'engine.uncached' "$2/engine.1" && grep -q 'engine.cached' "$2/engine.2" || die "the engine's dumps are not the phases expected"
  echo "engine.uncached $(per "$N_ENGINE" "$unc")" >>"$1"
  echo "engine.cached $(per "$N_ENGINE" "$cac")" >>"$1"
}

measure_store() { # OUT T
  mkdir "$2/store"
  # the caller's lh_store_append and the writer's groups (groupq.c's runGroup: the commit);
  # not the writer's idle timer, nor the background WAL checkpointer (not woken: N_STORE)
  "${VG[@]}" --toggle-collect=lh_store_append '--toggle-collect=runGroup*' --callgrind-out-file="$2/store.cg" \
    "$BUILD/bench/perf_driver" store "$2/store" "$N_STORE" \
    >"$2/store.log" 2>&1 || { cat "$2/store.log" >&2; die "the store's run failed"; }
  local s
  s=$(summary "$2/store.cg.1" totals) || die "no callgrind dump from the store's run"
  grep -q '^fn=.*lh_store_append$' "$2/store.cg.1" && grep -q '^fn=.*runGroup' "$2/store.cg.1" \
    || die "lh_store_append or runGroup was not counted: renamed? (src/store/store.c, groupq.c)"
  echo "store.append $(per "$N_STORE" "$s")" >>"$1"
}

measure_bridge() { # OUT T
  local d="$2/bridge" url="" pid tok hp s
  mkdir -p "$d"
  "${VG[@]}" --toggle-collect=onRequest --toggle-collect=onCompleted --callgrind-out-file="$d/cg" \
    "$BUILD/lighthouse" serve --listen 127.0.0.1:0 --data "$d/data" --rate-limit 0 >"$d/out" 2>"$d/err" &
  pid=$! BRIDGE_PID=$!
  for _ in $(seq 300); do
    url=$(grep -o 'http://[0-9.:]*' "$d/out" 2>/dev/null | head -1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid"; cat "$d/err" >&2; die "the bridge did not start under callgrind"; fi
  tok=$("$BUILD/lighthouse" token create --agent perf-1 --role builder --data "$d/data" 2>/dev/null)
  hp=${url#http://}
  if ! python3 "$ROOT/scripts/perfgate_client.py" "${hp%:*}" "${hp#*:}" "$tok" "$MIX" "$WARM_BRIDGE" "$N_BRIDGE" "$pid" >"$d/client.log" 2>&1; then
    kill -TERM "$pid" 2>/dev/null; wait "$pid"; cat "$d/client.log" >&2; die "the client batch failed"
  fi
  kill -TERM "$pid" && wait "$pid"
  BRIDGE_PID=
  # the dump the client asked for (cg.1): only what ran inside the two callbacks
  s=$(summary "$d/cg.1") || die "no callgrind dump from the bridge's run ($d)"
  grep -q '^fn=.*onRequest$' "$d/cg.1" && [ "$s" -gt 0 ] || die "nothing was counted inside onRequest: was it renamed? (src/bridge/server.c)"
  echo "bridge.validate $(per "$N_BRIDGE" "$s")" >>"$1"
}

# measure OUT: every figure, into OUT ("NAME VALUE" lines).
measure() {
  local t
  t=$(mktemp -d -p /dev/shm perfgate.XXXXXX 2>/dev/null || mktemp -d)
  WORK="$WORK $t"
  : >"$1"
  measure_engine "$1" "$t"
  measure_bridge "$1" "$t"
  measure_store "$1" "$t"
  rm -rf "$t"
}

# measure_twice OUT: measure twice; the figures must agree within AGREE; OUT gets the means.
measure_twice() {
  local a b
  a=$(mktemp) b=$(mktemp)
  measure "$a"
  measure "$b"
  awk -v agree="$AGREE" '
    FNR == 1 { file++ }
    file == 1 { a[$1] = $2; order[++n] = $1; next }
    { b[$1] = $2 }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; lo = a[k] < b[k] ? a[k] : b[k]; hi = a[k] < b[k] ? b[k] : a[k]
        if (!(k in b) || (hi - lo) / lo > agree) {
          printf "perfgate: %s: two runs gave %s and %s: more than %.0f%% apart, so the count is not deterministic\n", k, a[k], b[k], agree * 100 > "/dev/stderr"
          bad = 1
        }
        printf "%s %.0f\n", k, (a[k] + b[k]) / 2
        printf "perfgate: measured %s: %s and %s\n", k, a[k], b[k] > "/dev/stderr"
      }
      exit bad ? 2 : 0
    }' "$a" "$b" >"$1"
  local rc=$?
  rm -f "$a" "$b"
  return $rc
}

need_tools() {
  command -v valgrind >/dev/null || die "valgrind is missing (scripts/deps.sh installs it)"
  command -v callgrind_control >/dev/null || die "callgrind_control is missing (Debian's valgrind package)"
  command -v python3 >/dev/null || die "python3 is missing"
  [ -x "$BUILD/lighthouse" ] || die "no $BUILD/lighthouse: run make first"
  [ -x "$BUILD/bench/perf_driver" ] || die "no $BUILD/bench/perf_driver: run make perfgate"
}

# ---- main ------------------------------------------------------------------------------

mode=gate reason="" out=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) [ $# -ge 2 ] || die "--build needs a directory"; BUILD=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --update) [ $# -ge 2 ] && [ -n "$2" ] || die "--update needs a reason: scripts/perfgate.sh --update \"why the figures moved\""
              mode=update reason=$2; shift 2 ;;
    --compare) [ $# -eq 3 ] || die "usage: scripts/perfgate.sh --compare BASELINE MEASURED"; compare "$2" "$3"; exit $? ;;
    --measure) [ $# -ge 2 ] || die "--measure needs a file"; mode=measure out=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the comment at the top of scripts/perfgate.sh)" ;;
  esac
done
case $reason in *$'\n'*) die "--update: the reason is one line" ;; esac

need_tools
m=$(mktemp)
# on any exit (die included): stop a bridge still under callgrind, remove the scratch dirs
BRIDGE_PID='' WORK=''
cleanup() {
  if [ -n "$BRIDGE_PID" ]; then kill -TERM "$BRIDGE_PID" 2>/dev/null; wait "$BRIDGE_PID" 2>/dev/null; fi
  # shellcheck disable=SC2086
  rm -rf "$m" $WORK
}
trap cleanup EXIT
measure_twice "$m" || exit 2
case $mode in
  measure) cp "$m" "$out" ;;
  update)
    {
      echo "# bench/perf-baseline.txt: the CI performance gate's baseline (scripts/perfgate.sh)."
      echo "# Instructions per unit of work, counted by callgrind on bench/perf-mix.jsonl."
      echo "# The gate fails a figure more than 10% over its value here. Rewrite this file only with"
      echo "# scripts/perfgate.sh --update \"reason\", in a reviewed commit that says why."
      echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src bench 2>/dev/null || echo ' (with uncommitted changes)')"
      echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
      echo "reason: $reason"
      cat "$m"
    } >"$BASELINE.tmp" && mv "$BASELINE.tmp" "$BASELINE"
    echo "perfgate: wrote $BASELINE; commit it with its reason"
    cat "$BASELINE" ;;
  gate)
    [ -f "$BASELINE" ] || die "no baseline $BASELINE: make one with scripts/perfgate.sh --update \"first baseline\""
    compare "$BASELINE" "$m" ;;
esac

#!/usr/bin/env bash
# load_baseline.sh — `lighthouse load --baseline FILE` checks the whole file before the run
# (docs/load.md, "Baselines"): not JSON, duplicate keys, not a baseline, or a metric that is
# missing or malformed is refused with exit 2 and a message naming the metric, and nothing
# is sent. A well-formed baseline is accepted: the run then goes on (here against a port
# where nothing listens, so it fails as a run, exit 1, not as bad input). No bridge needed.
set -u
. "$(dirname "$0")/tap.bash"
R="${LH_ROOT:?}"
LH="${LH_BUILD:?}/lighthouse"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# a port where nothing listens: bound, never listened on, released at exit
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUN=("$LH" load --target "http://127.0.0.1:$PORT/v1/validate" --token not-a-real-token --no-history --quiet
     --corpus "$R/data/load/commands.jsonl" --duration 1 --rate 10 --agents 2)

# good FILE [JQ-EDIT]: a well-formed baseline (six metrics, 6 samples each), edited by jq
good() {
  jq -n '{lighthouse_load_baseline: 1, summary: {}, pattern: {}, seed: 1, metrics:
          ([ "p99_ms", "p95_ms", "avg_ms", "rps", "memory_peak_bytes", "cpu_peak_percent" ]
           | map({key: ., value: {run: 5, per_second: [5, 5, 6, 5, 4, 5]}}) | from_entries)}' \
    | jq "${2:-.}" >"$1"
}

# refused NAME FILE WHAT: exit 2, the message names WHAT, and no run started
refused() {
  "${RUN[@]}" --baseline "$2" >"$T/out" 2>"$T/err"; rc=$? what=$3
  check "$1: exit 2 naming $3 (rc $rc: $(head -c 200 "$T/err" | tr '\n' ' '))" \
    '[ $rc = 2 ] && grep -qF -- "$what" "$T/err" && ! grep -q "target_reachable\|NO-GO" "$T/out" "$T/err"'
}

good "$T/p99.json" '.metrics.p99_ms.run = "x"'
refused "a metric whose run is not a number" "$T/p99.json" "metrics.p99_ms is missing or malformed"
good "$T/cpu.json" 'del(.metrics.cpu_peak_percent)'
refused "a baseline without one of the six metrics" "$T/cpu.json" "metrics.cpu_peak_percent is missing or malformed"
good "$T/ps.json" '.metrics.rps.per_second[2] = "fast"'
refused "a per-second sample that is not a number" "$T/ps.json" "metrics.rps is missing or malformed"
good "$T/ok.json"
jq -c . "$T/ok.json" | sed 's/"seed":1/"seed":1,"seed":2/' >"$T/dup.json"
refused "a baseline with a duplicate key" "$T/dup.json" "duplicate object key"
printf '{"lighthouse_load_baseline": 1, "metrics": ' >"$T/cut.json"
refused "a baseline cut short" "$T/cut.json" "baseline $T/cut.json"
echo '{"something": "else"}' >"$T/other.json"
refused "a JSON file that is not a baseline" "$T/other.json" "not a lighthouse load baseline"

"${RUN[@]}" --baseline "$T/ok.json" --report "$T/r.json" >"$T/out" 2>"$T/err"; rc=$?
check "a well-formed baseline is accepted and the run goes on (exit 1: nothing listens; rc $rc)" \
  '[ $rc = 1 ] && jq -e ".summary.verdict == \"NO-GO\"" "$T/r.json" >/dev/null'

done_testing

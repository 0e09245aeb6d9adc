#!/usr/bin/env bash
# prometheus.sh — deploy/prometheus and deploy/grafana against a real Prometheus (Debian's
# package) on loopback, scraping a real bridge every second:
#   - promtool checks the config and the rules, and runs their unit tests;
#   - every metric the rules and the dashboard use is in a real /metrics scrape;
#   - after a short `lighthouse load`, every dashboard panel's query parses and returns data;
#   - a real store fault (fsync fails with EIO, the fault shim of bridge_lib.bash) takes the
#     LighthouseEventStoreFailure alert pending → firing, and it resolves after recovery;
#   - a second bridge on a PostgreSQL of this test's own (scripts/test-services.sh, so
#     stopping it disturbs no other test): PostgreSQL stopped takes LighthouseStoreConnectionDown
#     pending → firing, started again resolves it.
# The test's rules are the committed ones; only the two store alerts' `for` (3 s) and
# LighthouseEventStoreFailure's window (20 s) are shortened. The checks wait on the order of
# states, with generous caps, never on timings.
set -u
. "$(dirname "$0")/bridge_lib.bash"
ROOT=${LH_ROOT:-.}
P="$ROOT/deploy/prometheus"
DASH="$ROOT/deploy/grafana/lighthouse.json"
PL="python3 $(dirname "$0")/prom_lib.py"

command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 ||
  skip_all "prometheus is not installed (scripts/deps.sh installs it)"

check "promtool check config accepts deploy/prometheus/prometheus.yml and its rules" \
  'promtool check config "$P/prometheus.yml" >"$T/pc.out" 2>&1'
check "promtool check rules accepts lighthouse.rules.yml" 'promtool check rules "$P/lighthouse.rules.yml" >"$T/pr.out" 2>&1'
promtool test rules "$P/lighthouse.rules.test.yml" >"$T/pt.out" 2>&1; rc=$?
check "promtool test rules: the unit tests of the alerts pass" '[ $rc = 0 ]' || sed 's/^/#   /' "$T/pt.out"
alerts=$(grep -c '^ *- alert:' "$P/lighthouse.rules.yml")
tested=$(grep -o 'alertname: [A-Za-z]*' "$P/lighthouse.rules.test.yml" | sort -u | wc -l)
check "every alert ($alerts) has a unit test ($tested alerts tested)" '[ "$alerts" -gt 0 ] && [ "$alerts" = "$tested" ]'
check "the dashboard is valid JSON with panels" 'jq -e ".panels | length > 0" "$DASH" >/dev/null'

build_fault_shim || { done_testing; exit 1; }
LD_PRELOAD="$FAULT_SO" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
  start_bridge prom --rate-limit 0 || { fail "bridge starts"; done_testing; exit 1; }
TARGET=${URL#http://}
BT=$(token prom-agent builder)
SURL=$URL

# the second bridge, on a PostgreSQL of this test's own
unset LH_TEST_PG LH_TEST_PG_DIR
# shellcheck disable=SC1091
if ! source "$ROOT/scripts/test-services.sh"; then
  fail "start a PostgreSQL of this test's own (scripts/test-services.sh)"; done_testing; exit 1
fi
trap 'cleanup; lh_services_stop' EXIT
PGPORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$LH_TEST_PG")
pg_stop() { lh__pg_as "$lh__pg_bin/pg_ctl" -D "$LH_TEST_PG_DIR/data" -m fast -w -t 120 stop >/dev/null 2>&1; }
pg_start() {
  lh__pg_as "$lh__pg_bin/pg_ctl" -D "$LH_TEST_PG_DIR/data" -l "$LH_TEST_PG_DIR/run/server.log" -w -t 120 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $LH_TEST_PG_DIR/run -c max_connections=200" start >/dev/null 2>&1
}
mkdir -p "$T/pgdata"
PT=$("$LH" token create --agent prom-pg --role builder --data "$T/pgdata" --store postgres --pg "$LH_TEST_PG" 2>"$T/tok.err")
[ -n "$PT" ] || { fail "token create on PostgreSQL: $(head -2 "$T/tok.err")"; done_testing; exit 1; }
start_bridge pg --data "$T/pgdata" --store postgres --pg "$LH_TEST_PG" --rate-limit 0 ||
  { fail "the bridge starts on PostgreSQL"; done_testing; exit 1; }
PGURL=$URL
URL=$SURL

# ---- a real Prometheus -----------------------------------------------------------------
mkdir -p "$T/prom"
$PL config "$P/lighthouse.rules.yml" "$P/prometheus.yml" "$TARGET,${PGURL#http://}" "$T/prom"
PROMPID=
for _try in 1 2 3; do
  PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom/out" 2>&1 &
  PROMPID=$!
  PURL="http://127.0.0.1:$PPORT"
  for _ in $(seq 1200); do
    curl -sf --max-time 5 "$PURL/-/ready" >/dev/null 2>&1 && break
    kill -0 "$PROMPID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$PROMPID" 2>/dev/null && break   # else the port was taken: try another
done
stop_prom() { [ -n "$PROMPID" ] && kill -TERM "$PROMPID" 2>/dev/null && wait "$PROMPID" 2>/dev/null; PROMPID=; }
tap_before_plan() { stop_prom; stop_bridges; }
trap 'stop_prom; cleanup; lh_services_stop' EXIT
trap 'exit 143' TERM INT   # run-tests.sh's timeout: the EXIT trap still stops prometheus
check "prometheus starts on loopback" 'curl -sf --max-time 5 "$PURL/-/ready" >/dev/null' ||
  { sed 's/^/#   /' "$T/prom/out" | tail -20; done_testing; exit 1; }

# pq EXPR → the JSON answer of an instant query (sets pq_out)
pq() { pq_out=$(curl -s --max-time 10 --data-urlencode "query=$1" "$PURL/api/v1/query"); }
# has_data EXPR: the query succeeds with at least one series whose value is a number (not
# NaN: a histogram_quantile or a ratio over a window without samples gives NaN)
has_data() { pq "$1"; jq -e '.status == "success" and ([.data.result[].value[1] | select(. != "NaN")] | length > 0)' <<<"$pq_out" >/dev/null 2>&1; }
check "Prometheus scrapes both bridges: up{job=\"lighthouse\"} is 1 for each" \
  'wait_for "pq \"up{job=\\\"lighthouse\\\"} == 1\"; jq -e \".data.result | length == 2\" <<<\"\$pq_out\" >/dev/null 2>&1"'

# ---- a short load, then every metric name and every panel -------------------------------
"$LH" load --target "$URL" --token "$BT" --history "$T/history.db" --pattern scale_test --agents 20 \
  --duration 3 --seed 7 --report "$T/load.json" >"$T/load.out" 2>"$T/load.err"
check "lighthouse load ran against the bridge ($(jq -r .summary.requests_total "$T/load.json" 2>/dev/null) requests)" \
  'jq -e ".summary.requests_total > 0" "$T/load.json" >/dev/null 2>&1'
curl -s --max-time 10 "$URL/metrics" >"$T/metrics"
curl -s --max-time 10 "$PGURL/metrics" >>"$T/metrics"
# Prometheus has scraped the load once its counter reaches the bridge's value
dec=$(curl -s --max-time 10 "$URL/metrics" | awk '/^lighthouse_bridge_decisions_total/ {s+=$2} END {print s+0}')
check "Prometheus has scraped the load's $dec decisions" \
  'wait_for "pq \"sum(lighthouse_bridge_decisions_total) >= $dec\"; jq -e \".data.result | length == 1\" <<<\"\$pq_out\" >/dev/null 2>&1"'

$PL names "$P/lighthouse.rules.yml" "$DASH" "$T/metrics" >"$T/names"
while read -r st name; do
  case $st in
    ok) ok "metric $name is used and exported" ;;
    cond) check "metric $name (only in some setups) is printed by the bridge's sources" \
            'grep -rqF "$name" "$ROOT/src/bridge"' ;;
    *) fail "metric $name is used by the rules or the dashboard but not exported by the bridge (or not recorded)" ;;
  esac
done <"$T/names"
check "the name check saw the rules' and the dashboard's metrics" '[ "$(wc -l <"$T/names")" -gt 15 ]'

# Every panel query: it parses now; data may need one more evaluation of a recording rule
# or one more scrape of a rate's second sample, so wait for data with a cap.
while IFS=$'\t' read -r title expr; do
  pq "$expr"
  if ! jq -e '.status == "success"' <<<"$pq_out" >/dev/null 2>&1; then
    fail "panel \"$title\": the query parses: $expr"; echo "#   $(jq -r .error <<<"$pq_out" 2>/dev/null)"; continue
  fi
  conds=$(grep '^cond ' "$T/names" | awk '{print $2}' | while read -r c; do grep -qF "$c" <<<"$expr" && echo "$c"; done)
  if [ -n "$conds" ]; then
    skip "panel \"$title\" returns data" "its series ($conds) exist only once a lighthouse mount connected"
    continue
  fi
  if wait_for 'has_data "$expr"'; then ok "panel \"$title\" parses and returns data: $expr"
  else fail "panel \"$title\" returns data: $expr"; fi
done < <($PL queries "$DASH")

# ---- the store fault: pending → firing → resolved ----------------------------------------
v='{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}'
# astate NAME: the alert's state now in /api/v1/alerts (firing wins over pending), or inactive
astate() {
  curl -s --max-time 10 "$PURL/api/v1/alerts" >"$T/alerts.json"
  jq -r --arg n "$1" '[.data.alerts[] | select(.labels.alertname == $n) | .state] |
    if index("firing") then "firing" elif index("pending") then "pending" else "inactive" end' "$T/alerts.json" 2>/dev/null ||
    echo error
}
state() { astate LighthouseEventStoreFailure; }
# order NAME SINCE: the states the alert went through since the Unix time SINCE, from the
# ALERTS series Prometheus writes at each evaluation (so a slow poll cannot miss one).
# The sample of a new state lands just after /api/v1/alerts shows it: wait for "firing" there.
order() {
  curl -s --max-time 10 --data-urlencode "query=ALERTS{alertname=\"$1\"}" --data-urlencode "start=$2" \
    --data-urlencode "end=$(date +%s.%N)" --data-urlencode step=1 "$PURL/api/v1/query_range" >"$T/range.json"
  $PL history "$T/range.json"
}
check "before the fault, LighthouseEventStoreFailure is inactive" '[ "$(state)" = inactive ]'
since=$(date +%s)
touch "$LH_FAULT_FILE"
post_json /v1/validate "$BT" "$v"
check "the store fault is real: a decision is refused with 503 store_unavailable" '[ "$code" = 503 ] && is_error store_unavailable'
# the fault lasts: a background client keeps asking (a failing append may take a while, so
# the poll below does not wait on it and sees every state Prometheus goes through)
printf '%s' "$v" >"$T/v.json"
# client URL TOKEN FILE: ask for a decision every 0.2 s while FILE exists (in the background)
client() {
  ( while [ -e "$3" ]; do
      curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
        --data-binary @"$T/v.json" "$1/v1/validate"
      sleep 0.2
    done ) &
  CLIENT=$!
}
client "$URL" "$BT" "$LH_FAULT_FILE"
seen=""
for _ in $(seq 1200); do   # up to 60 s; every state change is recorded in order
  s=$(state)
  [ "${seen##* }" != "$s" ] && seen="$seen $s"
  [ "$s" = firing ] && break
  sleep 0.05
done
wait_for 'hist=$(order LighthouseEventStoreFailure "$since"); [[ "$hist" == *firing ]]'
check "the alert went pending, then firing (Prometheus's ALERTS series: $hist; the poll saw:$seen)" \
  '[ "$hist" = "pending firing" ] && [ "$s" = firing ]'
check "/api/v1/rules shows the rule firing" \
  'curl -s --max-time 10 "$PURL/api/v1/rules?type=alert" | jq -e "[.data.groups[].rules[] | select(.name == \"LighthouseEventStoreFailure\")][0].state == \"firing\"" >/dev/null'
rm -f "$LH_FAULT_FILE"
wait "$CLIENT"
post_json /v1/validate "$BT" "$v"
check "after recovery a decision is answered 200 again" '[ "$code" = 200 ]'
for _ in $(seq 2400); do   # the 20 s window must slide past the last failure
  s=$(state)
  [ "${seen##* }" != "$s" ] && seen="$seen $s"
  [ "$s" = inactive ] && break
  sleep 0.05
done
check "then it resolved (the poll saw:$seen)" '[[ "$seen" == *" firing inactive" ]]'
check "/api/v1/rules shows the rule inactive" \
  'curl -s --max-time 10 "$PURL/api/v1/rules?type=alert" | jq -e "[.data.groups[].rules[] | select(.name == \"LighthouseEventStoreFailure\")][0].state == \"inactive\"" >/dev/null'

# ---- PostgreSQL stopped: pending → firing → resolved --------------------------------------
pgstate() { astate LighthouseStoreConnectionDown; }
URL=$PGURL
post_json /v1/validate "$PT" "$v"
check "the PostgreSQL bridge decides (200) and LighthouseStoreConnectionDown is inactive" '[ "$code" = 200 ] && [ "$(pgstate)" = inactive ]'
check "pg_ctl stop" 'pg_stop'
since=$(date +%s)
touch "$T/pg-client"
client "$PGURL" "$PT" "$T/pg-client"
seen=""
for _ in $(seq 1200); do
  s=$(pgstate)
  [ "${seen##* }" != "$s" ] && seen="$seen $s"
  [ "$s" = firing ] && break
  sleep 0.05
done
post_json /v1/validate "$PT" "$v"
check "PostgreSQL stopped: decisions are refused (reply $code)" '[ "$code" = 503 ]'
wait_for 'hist=$(order LighthouseStoreConnectionDown "$since"); [[ "$hist" == *firing ]]'
check "LighthouseStoreConnectionDown went pending, then firing (Prometheus's ALERTS series: $hist; the poll saw:$seen)" \
  '[ "$hist" = "pending firing" ] && [ "$s" = firing ]'
check "pg_ctl start" 'pg_start'
for _ in $(seq 2400); do   # the bridge reconnects at its next append
  s=$(pgstate)
  [ "${seen##* }" != "$s" ] && seen="$seen $s"
  [ "$s" = inactive ] && break
  sleep 0.05
done
rm -f "$T/pg-client"
wait "$CLIENT"
post_json /v1/validate "$PT" "$v"
check "PostgreSQL back: decisions are answered again (reply $code)" '[ "$code" = 200 ]'
check "then it resolved (the poll saw:$seen)" '[[ "$seen" == *" firing inactive" ]]'
check "/api/v1/rules shows the rule inactive" \
  'curl -s --max-time 10 "$PURL/api/v1/rules?type=alert" | jq -e "[.data.groups[].rules[] | select(.name == \"LighthouseStoreConnectionDown\")][0].state == \"inactive\"" >/dev/null'

done_testing

#!/usr/bin/env bash
# replicas.sh — three bridges on one PostgreSQL (issue 15 part 1), all on loopback, each
# with its own data dir holding the same store key and token key:
#   - exactly one replica acts on an SLA violation (first, before any other decision):
#     see below; then the replicas are restarted with the SLA monitor off;
#   - three replicas behind haproxy (health checks on /ready): decisions are spread over
#     all three and land in one chain; one SIGKILLed under load (chaos.py load counting
#     each acknowledged decision with its seq): the load goes on through the others, the
#     replica rejoins when restarted, every acknowledged seq is in the store with its id
#     and decision, and `events verify` passes;
#   - a policy pushed through replica A decides on B and C (the watcher installs it from
#     the store: LISTEN lighthouse_events, policy.* re-read every round), and a token
#     revoked through A is refused by B and C; the delays are measured and printed;
#     the waits are capped at 30 s (a hang guard; the 1 s goal is a printed figure);
#   - the SLA part: every replica publishes its SLA counters, the leader merges them
#     (docs/sla.md, "Replicas"). A slow revision is served only by the two replicas that
#     are not the SLA leader, addressed directly (the leader sees none of it): first to one
#     client alone, spread over both, which violates p99 in the merged figures but rolls
#     nothing back (one agent alone); then to a second client too, and the leader rolls
#     back exactly once, saying so in policy.rolled_back (scope cluster, its replica
#     name); every replica follows; the leader SIGKILLed, another takes the role (its
#     lock session ended) and merges the two live replicas only (the dead one's row is
#     stale);
# Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"
unset LIGHTHOUSE_SECRET
export LIGHTHOUSE_RATE_LIMIT=0

if [ -z "${LH_TEST_PG:-}" ]; then
  fail "LH_TEST_PG is not set (scripts/test-services.sh starts PostgreSQL)"; done_testing; exit 1
fi
DB="lh_replicas_$$"
psql "$LH_TEST_PG" -qc "CREATE DATABASE $DB" >/dev/null 2>&1 || { fail "create database $DB"; done_testing; exit 1; }
PG="$LH_TEST_PG dbname=$DB"
HPID= LPID=
# haproxy and the load client are ours to stop, also when the script ends early
trap '[ -n "$LPID" ] && kill "$LPID" 2>/dev/null; [ -n "$HPID" ] && kill "$HPID" 2>/dev/null
      cleanup; psql "$LH_TEST_PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1' EXIT

cat > "$T/sla.yaml" <<'Y'
rate_limit: 0
sla_window_s: 3
sla_eval_interval_s: 0.25
sla_resolve_hold_s: 1
sla_canary_window_s: 600
sla_p99_response_time_ms_grace_s: 1
sla_compliance_rate_grace_s: 1
sla_avg_response_time_ms_grace_s: 1
sla_min_requests: 1
sla_rollback_min_requests: 3
Y
cat > "$T/base.yaml" <<'Y'
version: 1
revision: rep-base
rules: []
Y
cat > "$T/strict.yaml" <<'Y'
version: 1
revision: rep-strict
rules:
  - id: rep.no-ls
    action: deny
    reason: ls is off on every replica
    match: {program: ls}
Y

# start_replica NAME → URL_<NAME>, PID_<NAME>; the keys come from replica a's data dir.
start_replica() {
  local nm=$1; shift
  if [ "$nm" != a ]; then
    mkdir -p "$T/$nm"
    cp "$T/a/secret" "$T/a/token.key" "$T/$nm/"
  fi
  start_bridge "$nm" --store postgres --pg "$PG" --policy "$T/base.yaml" --config "$T/cfg.yaml" "$@" || return 1
  printf -v "URL_$nm" '%s' "$URL"
  printf -v "PID_$nm" '%s' "$PID"
}
cp "$T/sla.yaml" "$T/cfg.yaml"
for r in a b c; do
  start_replica "$r" || { fail "replica $r starts on PostgreSQL"; done_testing; exit 1; }
done
ok "three replicas run on one PostgreSQL ($URL_a $URL_b $URL_c)"
BT=$("$LH" token create --agent rep-builder --role builder --data "$T/a" --store postgres --pg "$PG" 2>/dev/null)
AT=$("$LH" token create --agent rep-admin --role admin --data "$T/a" --store postgres --pg "$PG" 2>/dev/null)
check "tokens are created on the shared store" '[ -n "$BT" ] && [ -n "$AT" ]'

now_ms() { date +%s%3N; }
# rule_on URL → the rule that decided `ls` there (or "code:NNN")
rule_on() {
  local u=$1 c
  printf '%s' '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp/p"}' >"$T/ls.json"
  c=$(curl -s -o "$T/rb" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $BT" \
      -H 'Content-Type: application/json' --data-binary "@$T/ls.json" "$u/v1/validate")
  if [ "$c" = 200 ]; then jq -r '.rule // "none"' "$T/rb"; else echo "code:$c"; fi
}
# wait_ms COND → the milliseconds until COND held (polled every 10 ms), or nothing after 30 s (a hang guard).
# Always status 0: a failing command substitution must not end the script.
wait_ms() {
  local t0
  t0=$(now_ms)
  while [ $(( $(now_ms) - t0 )) -lt 30000 ]; do
    if eval "$1"; then echo $(( $(now_ms) - t0 )); return 0; fi
    sleep 0.01
  done
  return 0
}

# ---- exactly one replica acts on an SLA violation ------------------------------------
# The slow revision of sla_rollback.sh: backtracking regexes, about a millisecond of PCRE2
# work per rule and decision, so decisions get slow for real.
{
  printf 'version: 1\nrevision: rep-slow\nrules:\n'
  for i in $(seq 200); do
    printf '  - id: audit.ident-%d\n    action: allow\n    risk: low\n    reason: audit rule %d\n    match: {regex: '"'"'([a-z_]|\\w)+$'"'"'}\n' "$i" "$i"
  done
} > "$T/slow.yaml"
SLOWCMD=run_the_nightly_build_for_module_number_seventeen_of_the_pipeline_now_please
BT2=$("$LH" token create --agent rep-builder-2 --role builder --data "$T/a" --store postgres --pg "$PG" 2>/dev/null)
leader_of() { curl -s --max-time 10 "$1/metrics" | awk '$1 == "lighthouse_bridge_sla_leader" {print $2}'; }
leaders() { local r u out=""; for r in "$@"; do u="URL_$r"; [ "$(leader_of "${!u}")" = 1 ] && out="$out$r"; done; echo "$out"; }
wait_until() { # SECONDS CMD (a hang guard)
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do eval "$2" && return 0; sleep 0.2; done
  return 1
}
wait_until 60 '[ "$(leaders a b c | wc -c)" = 2 ]'
L=$(leaders a b c)
check "exactly one replica is the SLA leader ($L), in /metrics lighthouse_bridge_sla_leader" '[ "${#L}" = 1 ]'
[ "${#L}" = 1 ] || L=a
F=""; for r in a b c; do [ "$r" != "$L" ] && F="$F $r"; done
URL_L="URL_$L"; URL_F="URL_$(echo $F | cut -d' ' -f1)"
sla_leader_status() { curl -s --max-time 10 -H "Authorization: Bearer $AT" "$1/v1/status" | jq -r .sla.leader; }
check "its /v1/status says sla.leader true, a follower's says false" \
  '[ "$(sla_leader_status "${!URL_L}")" = true ] && [ "$(sla_leader_status "${!URL_F}")" = false ]'

DRIVERS=()
drive() { # NAME "K..." REPLICA...: client K (1: rep-builder, 2: rep-builder-2) sends slow decisions to each REPLICA until $T/NAME.stop
  local name=$1 ks=$2 r k; shift 2
  rm -f "$T/$name.stop"
  for r in "$@"; do
    for k in $ks; do
      (
        u="URL_$r"; tok=$BT; [ "$k" = 2 ] && tok=$BT2; i=0
        while [ -d "$T" ] && [ ! -e "$T/$name.stop" ]; do
          i=$((i+1))
          printf '{"tool":"Bash","input":{"command":"echo %s done %s-%d-%d"},"cwd":"/tmp/p"}' "$SLOWCMD" "$r" "$k" "$i" > "$T/$name.$r.$k.json"
          curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
            --data-binary "@$T/$name.$r.$k.json" "${!u}/v1/validate"
        done
      ) &
      DRIVERS+=($!)
    done
  done
}
stop_drive() { local x; for x in "$@"; do touch "$T/$x.stop"; done; wait "${DRIVERS[@]}"; DRIVERS=(); }
sla_json() { local u="URL_$1"; curl -s --max-time 10 -H "Authorization: Bearer $AT" "${!u}/v1/sla"; }
local_p99() { # REPLICA → p99's state and action in the replica's own figures
  sla_json "$1" | jq -r '.metrics[] | select(.metric == "p99_response_time_ms") | "\(.state) \(.action // "")"'
}
cluster_p99() { # REPLICA → p99's state and action in the merged figures (the leader's)
  sla_json "$1" | jq -r '(.cluster.metrics // [])[] | select(.metric == "p99_response_time_ms") | "\(.state) \(.action // "")"'
}
events_of() { # TYPE → the shared chain's events of that type (JSON array)
  curl -s --max-time 10 -H "Authorization: Bearer $AT" "$URL_a/v1/events?type=$1&limit=1000" | jq -c '.events // []'
}
rolled_back() { events_of policy.rolled_back | jq '[.[] | select(.data.trigger == "sla")] | length'; }
cluster_violations() { # → the merged figures' p99 violations: "one_agent replicas replica" each
  events_of sla.violated | jq -r '.[] | select(.data.scope == "cluster" and .data.metric == "p99_response_time_ms")
    | "\(.data.one_agent) \(.data.replicas | length) \(.data.replica)"'
}
active_on() { local u="URL_$1"; curl -s --max-time 10 -H "Authorization: Bearer $AT" "${!u}/v1/policy/history" | jq -r .active; }
PL="PID_$L"; LPIDNUM=${!PL}

# No decision before the slow revision: no figure of rep-base's own to be slow on a loaded
# machine (a violation raised under it would stay as it was); the threshold is the baseline.
URL=$URL_a
req POST /v1/policy "$AT" application/yaml "$T/slow.yaml"
check "the slow revision is pushed through a" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = rep-slow ]'
for r in b c; do wait_until 30 '[ "$(active_on $r)" = rep-slow ]'; done

# One client alone, spread over the two followers: the merged p99 is violated, by one agent.
drive one 1 $F
wait_until 120 '[ -n "$(cluster_violations)" ]'
CV=$(cluster_violations | head -1)
check "the leader ($L) raises p99 on the merged figures of the followers' traffic (one_agent, rows merged, by: $CV)" \
  '[[ "$CV" == *":$LPIDNUM" ]]'
check "one client spread over the replicas is one agent alone there: rep-builder ($CV)" '[[ "$CV" == "rep-builder "* ]]'
wait_until 60 '[[ "$(cluster_p99 "$L")" == violated*"one agent alone"* ]]'
check "the leader waits for evidence beyond one agent ($(cluster_p99 "$L" | head -c 200))" \
  '[[ "$(cluster_p99 "$L")" == violated*"one agent alone"* ]]'
for r in $F; do
  wait_until 60 '[[ "$(local_p99 $r)" == violated* ]]'
  check "follower $r: p99 violated in its own figures, the decision left to the leader's merged ones ($(local_p99 $r | head -c 160))" \
    '[[ "$(local_p99 $r)" == violated*"merged figures of all replicas"* ]]'
done
check "no rollback for one client alone ($(rolled_back) policy.rolled_back)" '[ "$(rolled_back)" = 0 ]'
check "every replica still runs the slow revision" '[ "$(active_on a)$(active_on b)$(active_on c)" = rep-slowrep-slowrep-slow ]'

# A second client's decisions turn slow too, still only on the followers: the leader rolls back.
drive two 2 $F
wait_until 120 '[ "$(rolled_back)" -ge 1 ]'
for r in a b c; do wait_until 30 '[ "$(active_on $r)" = rep-base ]'; done
stop_drive one two
check "the leader ($L) rolled back on the followers' traffic: every replica runs rep-base again" \
  '[ "$(active_on a)$(active_on b)$(active_on c)" = rep-baserep-baserep-base ]'
RB=$(events_of policy.rolled_back | jq -c '[.[] | select(.data.trigger == "sla")][0].data | {scope, replica, from, revision}')
check "exactly one policy.rolled_back in the shared chain ($(rolled_back)), made by the leader on the merged figures ($RB)" \
  '[ "$(rolled_back)" = 1 ] && [ "$(jq -r .scope <<<"$RB")" = cluster ] && [[ "$(jq -r .replica <<<"$RB")" == *":$LPIDNUM" ]] &&
   [ "$(jq -r .from <<<"$RB")" = rep-slow ] && [ "$(jq -r .revision <<<"$RB")" = rep-base ]'
check "the leader served none of that traffic itself (its own p99: $(local_p99 "$L" | cut -d" " -f1))" \
  '[ "$(local_p99 "$L" | cut -d" " -f1)" = no_data ]'

# the leader dies: its lock session ends, another replica takes the role
kill -KILL "$LPIDNUM"; wait "$LPIDNUM" 2>/dev/null
FL=$(echo $F)
wait_until 60 '[ "$(leaders $FL | wc -c)" = 2 ]'
NL=$(leaders $FL)
check "the leader SIGKILLed: exactly one of the others takes the role ($NL)" '[ "${#NL}" = 1 ]'
merged_n() { sla_json "$1" | jq -r '.cluster.replicas | length'; }
wait_until 60 '[ "$(merged_n "$NL")" = 2 ]'
check "the new leader merges the two live replicas, not the dead one's stale row ($(sla_json "$NL" | jq -c .cluster.replicas))" \
  '[ "$(merged_n "$NL")" = 2 ] && ! sla_json "$NL" | jq -r ".cluster.replicas[]" | grep -q ":$LPIDNUM\$"'

# ---- the replicas again, without the SLA monitor ------------------------------------
# (so a slow decision of a loaded machine cannot roll back the policies pushed below)
for r in a b c; do u="PID_$r"; term_wait "${!u}"; done
# keep their stderr for the sanitizer check at the end (a restart writes $T/NAME.err anew)
for r in a b c; do cp "$T/$r.err" "$T/$r-first.err"; done
printf 'rate_limit: 0\nsla_enabled: false\n' > "$T/cfg.yaml"
for r in a b c; do
  start_replica "$r" || { fail "replica $r starts again"; done_testing; exit 1; }
done
ok "the three replicas start again on the same chain, the SLA monitor off"

# ---- a policy pushed through A decides on B and C -----------------------------------
for r in b c; do
  u="URL_$r"
  check "before the push, $r does not deny ls ($(rule_on "${!u}"))" '[ "$(rule_on "${!u}")" != rep.no-ls ]'
done
URL=$URL_a
req POST /v1/policy "$AT" application/yaml "$T/strict.yaml"
check "the policy is pushed through replica a" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = rep-strict ]'
for r in b c; do
  u="URL_$r"
  ms=$(wait_ms '[ "$(rule_on "${!u}")" = rep.no-ls ]')
  check "replica $r decides with the policy pushed through a (after ${ms:-more than 10000} ms; goal 1000)" '[ -n "$ms" ]'
  echo "# policy propagation a -> $r: ${ms:-timeout} ms"
done
req POST /v1/policy/rollback "$AT"
check "a rollback through a" '[ "$code" = 200 ] && [ "$(jq -r .revision <<<"$body")" = rep-base ]'
for r in b c; do
  u="URL_$r"
  ms=$(wait_ms '[ "$(rule_on "${!u}")" != rep.no-ls ]')
  check "replica $r follows the rollback made on a (after ${ms:-more than 10000} ms)" '[ -n "$ms" ]'
done
URL=$URL_b
req GET /v1/policy/history "$AT"
check "b's active revision is the rolled-back one, and the history is the shared one" \
  '[ "$(jq -r .active <<<"$body")" = rep-base ] && [ "$(jq -r ".history[0].type" <<<"$body")" = policy.rolled_back ]'

# ---- a token revoked through A is refused by B and C ----------------------------------
URL=$URL_a
post_json /v1/tokens "$AT" '{"agent":"rep-victim","role":"builder","ttl_s":3600}'
VT=$(jq -r '.tokens[0].token' <<<"$body"); VID=$(jq -r '.tokens[0].token_id' <<<"$body")
code_with() { # URL TOKEN → HTTP status of a decision
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' --data-binary "@$T/ls.json" "$1/v1/validate"
}
for r in b c; do
  u="URL_$r"
  check "the victim's token works on $r before the revocation" '[ "$(code_with "${!u}" "$VT")" = 200 ]'
done
URL=$URL_a
post_json /v1/tokens/revoke "$AT" "{\"token_id\":\"$VID\"}"
check "the token ($VID) is revoked through a" '[ "$code" = 200 ] && [ "$(jq -r .revoked <<<"$body")" = 1 ]'
for r in b c; do
  u="URL_$r"
  ms=$(wait_ms '[ "$(code_with "${!u}" "$VT")" = 401 ]')
  check "replica $r refuses the token revoked on a (after ${ms:-more than 10000} ms; goal 1000)" '[ -n "$ms" ]'
  echo "# revocation propagation a -> $r: ${ms:-timeout} ms"
done

# ---- the LISTEN connections dropped: changes still arrive -------------------------------
# Every replica's LISTEN backend is terminated (its last statement is the LISTEN); the
# watcher reads changes from the store each round, and reconnects its LISTEN.
killed=$(psql "$LH_TEST_PG" -Atc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
  WHERE datname = '$DB' AND query LIKE 'LISTEN%'")
check "the replicas' LISTEN connections are terminated ($killed)" '[ "${killed:-0}" -ge 3 ]'
URL=$URL_a
req POST /v1/policy "$AT" application/yaml "$T/strict.yaml"
check "a policy pushed through a after that" '[ "$code" = 200 ]'
for r in b c; do
  u="URL_$r"
  ms=$(wait_ms '[ "$(rule_on "${!u}")" = rep.no-ls ]')
  check "replica $r still follows it without its LISTEN connection (after ${ms:-more than 30000} ms)" '[ -n "$ms" ]'
done
req POST /v1/policy/rollback "$AT"

# ---- three replicas behind haproxy ------------------------------------------------------
# Debian's haproxy on loopback, health checks on /ready; a load client (chaos.py load,
# four keep-alive connections) counts every acknowledged decision with its seq.
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_haproxy() {
  {
    printf 'global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n'
    printf '  timeout server 60s\n  retries 3\n  option redispatch\n'
    printf 'frontend lh\n  bind 127.0.0.1:%s\n  default_backend replicas\n' "$HPORT"
    printf 'backend replicas\n  balance roundrobin\n  option httpchk GET /ready\n  http-check expect status 200\n'
    printf '  default-server inter 200ms fall 2 rise 2\n'
    for r in a b c; do u="URL_$r"; printf '  server %s %s check\n' "$r" "${!u#http://}"; done
  } > "$T/haproxy.cfg"
}
write_haproxy
if ! "$HAPROXY" -c -f "$T/haproxy.cfg" >"$T/haproxy.check" 2>&1; then
  fail "haproxy -c accepts the config: $(tail -3 "$T/haproxy.check")"
else
  ok "haproxy -c accepts the config (three servers, health checks on /ready)"
fi
"$HAPROXY" -db -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1 &
HPID=$!
HURL="http://127.0.0.1:$HPORT"
wait_until 30 '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$HURL/ready")" = 200 ]'
check "haproxy answers /ready through the replicas" '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$HURL/ready")" = 200 ]'

# decisions through haproxy are spread over the replicas and land in one chain
declare -A served=()
for i in $(seq 30); do
  printf '{"tool":"Bash","input":{"command":"echo through-haproxy %d"},"cwd":"/tmp/p"}' "$i" > "$T/h.json"
  curl -s -o "$T/hb" -D "$T/hh" --max-time 10 -H "Authorization: Bearer $BT" -H 'Content-Type: application/json' \
    --data-binary "@$T/h.json" "$HURL/v1/validate" >/dev/null
done
for r in a b c; do
  u="URL_$r"
  served[$r]=$(curl -s --max-time 10 "${!u}/metrics" | awk '$1 ~ /^lighthouse_bridge_requests_total/ && $1 ~ /validate/ && $1 ~ /"200"/ {s+=$2} END {print s+0}')
done
check "haproxy spreads decisions over all three replicas (a ${served[a]}, b ${served[b]}, c ${served[c]})" \
  '[ "${served[a]}" -gt 0 ] && [ "${served[b]}" -gt 0 ] && [ "${served[c]}" -gt 0 ]'

echo "$HURL" > "$T/hurl"
LOAD="$T/load.jsonl"
python3 "$(dirname "$0")/chaos.py" load "$T/hurl" "$BT" "$LOAD" "$T/load.stop" 4 &
LPID=$!
acks() { local c; c=$(grep -c '"status": 200' "$LOAD" 2>/dev/null); echo "${c:-0}"; }
wait_until 60 '[ "$(acks)" -ge 100 ]'
check "the load gets decisions through haproxy ($(acks) acknowledged)" '[ "$(acks)" -ge 100 ]'
# one replica SIGKILLed under load: haproxy routes around it
K=b
PK="PID_$K"
kill -KILL "${!PK}"; wait "${!PK}" 2>/dev/null
before=$(acks)
wait_until 60 '[ "$(acks)" -ge $((before + 200)) ]'
check "after replica $K was SIGKILLed the load still gets decisions ($(( $(acks) - before )) more)" '[ "$(acks)" -ge $((before + 200)) ]'
# it rejoins when restarted on its address: haproxy's health check puts it back
KADDR=${URL_b#http://}
cp "$T/$K.err" "$T/$K-killed.err"
start_replica "$K" --listen "$KADDR" || fail "replica $K starts again on $KADDR"
served_by() { local u="URL_$1"; curl -s --max-time 10 "${!u}/metrics" |
  awk '$1 ~ /^lighthouse_bridge_requests_total/ && $1 ~ /validate/ && $1 ~ /"200"/ {s+=$2} END {print s+0}'; }
wait_until 60 '[ "$(served_by $K)" -gt 0 ]'
check "replica $K rejoins: haproxy sends it decisions again ($(served_by $K) since its restart)" '[ "$(served_by $K)" -gt 0 ]'
touch "$T/load.stop"; wait "$LPID"; LPID=
kill -TERM "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null; HPID=
if "$LH" events export --data "$T/a" --store postgres --pg "$PG" >"$T/export.jsonl" 2>"$T/export.err"; then
  sum=$(python3 "$(dirname "$0")/chaos.py" acked "$LOAD" "$T/export.jsonl"); arc=$?
  echo "# $sum"
  acked=$(jq -r .acked <<<"$sum"); missing=$(jq -r .missing <<<"$sum")
  check "no acknowledged decision is lost: each of the $acked acknowledged seqs is in the store with its id and decision ($missing missing)" \
    "[ $arc -eq 0 ] && [ ${acked:-0} -gt 0 ]"
else
  fail "events export: $(head -2 "$T/export.err")"
fi
vout=$("$LH" events verify --data "$T/a" --store postgres --pg "$PG" 2>&1) && ok "events verify passes on the one chain of all replicas" ||
  fail "events verify: $vout"

done_testing

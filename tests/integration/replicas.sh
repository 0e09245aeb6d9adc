#!/usr/bin/env bash
# replicas.sh — three bridges on one PostgreSQL (issue 15 part 1), all on loopback, each
# with its own data dir holding the same store key and token key:
#   - a policy pushed through replica A decides on B and C (the watcher installs it from
#     the store: LISTEN lighthouse_events, policy.* re-read every round), and a token
#     revoked through A is refused by B and C; the delays are measured and printed;
#     the waits are capped at 30 s (a hang guard; the 1 s goal is a printed figure);
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
trap 'cleanup; psql "$LH_TEST_PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1' EXIT

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
  local nm=$1
  if [ "$nm" != a ]; then
    mkdir -p "$T/$nm"
    cp "$T/a/secret" "$T/a/token.key" "$T/$nm/"
  fi
  start_bridge "$nm" --store postgres --pg "$PG" --policy "$T/base.yaml" || return 1
  printf -v "URL_$nm" '%s' "$URL"
  printf -v "PID_$nm" '%s' "$PID"
}
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

done_testing

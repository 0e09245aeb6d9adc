#!/usr/bin/env bash
# cli.sh — the operator's view of the `lighthouse` program: every subcommand answers
# --help, token create/revoke name what is wrong, commands that fall back to the default
# data dir say which one, `load history` lives under the data dir. Prints TAP lines.
set -u
B=${LH_BUILD:-build}
LH="$B/lighthouse"
case "$LH" in /*) ;; *) LH="$PWD/$LH" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
ok()   { n=$((n+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
unset LIGHTHOUSE_DATA LIGHTHOUSE_LOAD_HISTORY LIGHTHOUSE_CONFIG

# ---- every subcommand answers --help (exit 0, a usage on stdout, nothing done) -----------------
for c in "serve" "check" "hook" "hook install" "hook uninstall" "token" "token create" "token revoke" \
         "policy" "policy lint" "policy test" "events" "events query" "events verify" "events export" \
         "load" "load history" "load patterns" "version"; do
  # shellcheck disable=SC2086
  (cd "$T" && timeout 10 "$LH" $c --help > "$T/out" 2> "$T/err"); rc=$?
  check "lighthouse $c --help: exit 0 with a usage" '[ $rc -eq 0 ] && grep -qiE "usage|lighthouse [0-9]" "$T/out"'
done
check "--help created no data dir in the cwd" '[ ! -e "$T/lighthouse-data" ]'

# ---- token create names the missing argument, --role lists the roles -------------------------
D="$T/data"
"$LH" token create --role builder --data "$D" > "$T/out" 2> "$T/err"; rc=$?
check "token create without --agent: exit 2, names --agent" '[ $rc -eq 2 ] && grep -q "\-\-agent NAME is missing" "$T/err" && [ ! -s "$T/out" ]'
"$LH" token create --agent a1 --data "$D" > "$T/out" 2> "$T/err"; rc=$?
check "token create without --role: exit 2, names --role and lists the roles" '[ $rc -eq 2 ] && grep -q "\-\-role is missing" "$T/err" && grep -q "builder, expert and admin" "$T/err"'
"$LH" token create --agent a1 --role boss --data "$D" > "$T/out" 2> "$T/err"; rc=$?
check "token create --role boss: exit 2, lists the roles" '[ $rc -eq 2 ] && grep -q "boss" "$T/err" && grep -q "builder, expert and admin" "$T/err"'
"$LH" token create --agent a1 --data > "$T/out" 2> "$T/err"; rc=$?
check "token create --data without a value: exit 2, says so" '[ $rc -eq 2 ] && grep -q "\-\-data needs a value" "$T/err"'

# ---- token revoke of an id that never existed fails --------------------------------------------
tok=$("$LH" token create --agent a1 --role builder --data "$D" 2> "$T/err")
tid=$(grep -o "token [0-9a-f]*" "$T/err" | awk '{print $2}')
check "token create with --data prints a token and no default-dir note" '[ -n "$tok" ] && ! grep -q "default data dir" "$T/err"'
"$LH" token revoke --id 0123456789abcdef --data "$D" > "$T/out" 2> "$T/err"; rc=$?
check "token revoke of an id never issued: exit 1, says so" '[ $rc -eq 1 ] && grep -q "no token with id 0123456789abcdef" "$T/err"'
"$LH" events query --data "$D" --type token.revoked > "$T/out" 2>/dev/null
check "... and records no token.revoked event" '! grep -q 0123456789abcdef "$T/out"'
"$LH" token revoke --id "$tid" --data "$D" > "$T/out" 2> "$T/err"; rc=$?
check "token revoke of an issued id: exit 0" '[ $rc -eq 0 ] && grep -q "revoked" "$T/err"'

# ---- the default data dir is named -------------------------------------------------------------
mkdir -p "$T/cwd"
(cd "$T/cwd" && "$LH" token create --agent a2 --role builder > "$T/out" 2> "$T/err"); rc=$?
check "token create with the default data dir prints the path it used" \
  '[ $rc -eq 0 ] && grep -q "default data dir $T/cwd/lighthouse-data" "$T/err"'
(cd "$T/cwd" && LIGHTHOUSE_DATA="$D" "$LH" token create --agent a3 --role builder > "$T/out" 2> "$T/err"); rc=$?
check "with LIGHTHOUSE_DATA there is no default-dir note" '[ $rc -eq 0 ] && ! grep -q "default data dir" "$T/err"'
echo "1..$n"

#!/usr/bin/env bash
# hook.sh — the real lighthouse-hook and `lighthouse check` programs, end to end:
# the hook protocol, fail-closed on bad input, fail-open when asked, install merging.
# Prints TAP lines.
set -u
B=${LH_BUILD:-build}
HOOK="$B/lighthouse-hook"
LH="$B/lighthouse"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
ok()   { n=$((n+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

payload() { # tool input-json
  printf '{"session_id":"s1","transcript_path":"/tmp/t.jsonl","cwd":"/home/dev/project","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"%s","tool_input":%s,"tool_use_id":"t1"}' "$1" "$2"
}
run_hook() { # stdin-file → sets out, err, rc
  "$HOOK" pre-tool-use < "$1" > "$T/out" 2> "$T/err"; rc=$?
  out=$(cat "$T/out"); err=$(cat "$T/err")
}
decision() { jq -r '.hookSpecificOutput.permissionDecision' <<<"$out" 2>/dev/null; }
export HOME=/home/dev

# ---- decisions through the hook protocol ----------------------------------------------
payload Bash '{"command":"rm -rf /"}' > "$T/p"; run_hook "$T/p"
check "rm -rf / is denied with exit 0 and JSON" '[ $rc -eq 0 ] && [ "$(decision)" = deny ]'
check "deny reason names the rule and a safer alternative" \
  'jq -e ".hookSpecificOutput.permissionDecisionReason | test(\"rm\\\\.\") and test(\"Instead\")" <<<"$out" >/dev/null'
check "hookEventName is PreToolUse" '[ "$(jq -r .hookSpecificOutput.hookEventName <<<"$out")" = PreToolUse ]'

payload Bash '{"command":"ls -la && git status"}' > "$T/p"; run_hook "$T/p"
check "ls && git status: no opinion by default (exit 0, no output: the user's permission settings apply)" '[ $rc -eq 0 ] && [ -z "$out" ]'
LIGHTHOUSE_HOOK_ALLOW=approve "$HOOK" pre-tool-use < "$T/p" > "$T/out" 2> "$T/err"; rc=$?; out=$(cat "$T/out")
check "LIGHTHOUSE_HOOK_ALLOW=approve: ls && git status is approved explicitly" '[ $rc -eq 0 ] && [ "$(decision)" = allow ]'
printf 'listen: 127.0.0.1:8765\nhook_allow: approve   # explicit approval\n' > "$T/cfg.yaml"
LIGHTHOUSE_CONFIG="$T/cfg.yaml" "$HOOK" pre-tool-use < "$T/p" > "$T/out" 2> "$T/err"; rc=$?; out=$(cat "$T/out")
check "hook_allow: approve in \$LIGHTHOUSE_CONFIG approves explicitly" '[ $rc -eq 0 ] && [ "$(decision)" = allow ]'
LIGHTHOUSE_CONFIG="$T/cfg.yaml" LIGHTHOUSE_HOOK_ALLOW=default "$HOOK" pre-tool-use < "$T/p" > "$T/out" 2> "$T/err"; rc=$?
check "LIGHTHOUSE_HOOK_ALLOW=default wins over the config file" '[ $rc -eq 0 ] && [ ! -s "$T/out" ]'
LIGHTHOUSE_HOOK_ALLOW=yes "$HOOK" pre-tool-use < "$T/p" > "$T/out" 2> "$T/err"; rc=$?
check "a bad LIGHTHOUSE_HOOK_ALLOW blocks (exit 2) and names the values" '[ $rc -eq 2 ] && grep -q "approve or default" "$T/err"'
printf 'hook_allow: approve\n' > "$T/cfg2.yaml"
"$LH" serve --config "$T/cfg2.yaml" --listen 127.0.0.1:0 --data "$T/nodata" --bogus-flag > /dev/null 2> "$T/err"
check "serve accepts hook_allow in its config (only the bogus flag is refused)" '! grep -q hook_allow "$T/err" && grep -q bogus "$T/err"'

payload Bash '{"command":"echo \"rm -rf /\""}' > "$T/p"; run_hook "$T/p"
check "echo of a dangerous string is not refused (no output)" '[ $rc -eq 0 ] && [ -z "$out" ]'

payload Bash '{"command":"systemctl restart nginx"}' > "$T/p"; run_hook "$T/p"
check "systemctl restart escalates to ask" '[ $rc -eq 0 ] && [ "$(decision)" = ask ]'

payload Write '{"file_path":"/etc/passwd","content":"x"}' > "$T/p"; run_hook "$T/p"
check "Write to /etc/passwd is denied" '[ "$(decision)" = deny ]'

payload Write '{"file_path":"/home/dev/project/src/a.c","content":"rm -rf /"}' > "$T/p"; run_hook "$T/p"
check "Write inside the project is not refused (no output)" '[ $rc -eq 0 ] && [ -z "$out" ]'

payload NoSuchTool '{"x":1}' > "$T/p"; run_hook "$T/p"
check "an unknown tool is escalated (ask)" '[ $rc -eq 0 ] && [ "$(decision)" = ask ]'

payload Read '{"file_path":"/home/dev/.ssh/id_rsa"}' > "$T/p"; run_hook "$T/p"
check "Read of a secret asks" '[ "$(decision)" = ask ]'

# ---- bad input fails closed (exit 2, message on stderr, no crash) ------------------------
: > "$T/empty"; run_hook "$T/empty"
check "empty stdin exits 2 with a message" '[ $rc -eq 2 ] && [ -n "$err" ] && [ -z "$out" ]'
echo 'not json' > "$T/p"; run_hook "$T/p"
check "non-JSON exits 2" '[ $rc -eq 2 ] && grep -q "JSON" "$T/err"'
payload Bash '{"command":"ls"}' | head -c 40 > "$T/p"; run_hook "$T/p"
check "truncated JSON exits 2" '[ $rc -eq 2 ]'
printf '{"tool_name":"Bash","tool_input":{"command":"ls \xff\xfe"},"cwd":"/tmp"}' > "$T/p"; run_hook "$T/p"
check "invalid UTF-8 exits 2" '[ $rc -eq 2 ]'
printf '{"tool_name":"Bash","tool_input":{"command":"ls\\u0000rm -rf /"},"cwd":"/tmp"}' > "$T/p"; run_hook "$T/p"
check "a NUL byte in the command is refused (exit 2 or deny)" '[ $rc -eq 2 ] || [ "$(decision)" = deny ]'
payload Bash '{}' > "$T/p"; run_hook "$T/p"
check "Bash without a command exits 2" '[ $rc -eq 2 ] && grep -q command "$T/err"'
{ printf '{"tool_name":"Bash","cwd":"/tmp","tool_input":{"command":"echo '; head -c 10485760 /dev/zero | tr '\0' a; printf '"}}'; } > "$T/big"
run_hook "$T/big"
check "a 10 MB command is refused (exit 2)" '[ $rc -eq 2 ] && grep -q limit "$T/err"'
{ printf '{"tool_name":"Bash","cwd":"/tmp","tool_input":{"command":"'; for i in $(seq 10000); do printf '$('; done; printf '"}}'; } > "$T/deep"
run_hook "$T/deep"
check "10,000 nested \$( is denied, not a crash" '[ $rc -eq 0 ] && [ "$(decision)" = deny ]'
{ printf '{"tool_name":"Bash","cwd":"/tmp","tool_input":{"command":"'; head -c 300000 /dev/zero | tr '\0' a; printf '"}}'; } > "$T/long"
run_hook "$T/long"
check "a 300 KB command is denied as too complex" '[ "$(decision)" = deny ] && grep -q too-complex "$T/out"'
printf '[1,2,3]' > "$T/p"; run_hook "$T/p"
check "a JSON array exits 2" '[ $rc -eq 2 ]'
python3 -c 'print("{\"a\":" * 100000 + "1" + "}" * 100000)' > "$T/p" 2>/dev/null || printf '{"a":{"a":{"a":1}}}' > "$T/p"
run_hook "$T/p"
check "deeply nested JSON exits 2" '[ $rc -eq 2 ]'

# ---- fail-open when the operator chose it -------------------------------------------------
LIGHTHOUSE_FAIL_OPEN=1 "$HOOK" pre-tool-use < "$T/empty" > "$T/out" 2> "$T/err"; rc=$?
check "LIGHTHOUSE_FAIL_OPEN=1 turns bad input into exit 0 with no decision" '[ $rc -eq 0 ] && [ ! -s "$T/out" ]'

# ---- policy errors fail closed --------------------------------------------------------------
printf 'rules:\n  - id: x\n    action: [nope\n' > "$T/bad.yaml"
payload Bash '{"command":"ls"}' > "$T/p"
LIGHTHOUSE_POLICY="$T/bad.yaml" "$HOOK" pre-tool-use < "$T/p" > "$T/out" 2> "$T/err"; rc=$?
check "a policy file with a syntax error exits 2 and names the line" '[ $rc -eq 2 ] && grep -q "bad.yaml:[0-9]" "$T/err"'

# ---- post-tool-use ------------------------------------------------------------------------------
printf '{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{},"tool_response":{}}' | "$HOOK" post-tool-use > "$T/out"; rc=$?
check "post-tool-use accepts its payload and exits 0" '[ $rc -eq 0 ]'
echo nope | "$HOOK" post-tool-use >/dev/null 2>&1; rc=$?
check "post-tool-use with bad input exits 2" '[ $rc -eq 2 ]'
"$HOOK" bogus >/dev/null 2>&1; rc=$?
check "an unknown hook event exits 2" '[ $rc -eq 2 ]'

# ---- lighthouse hook is the same code ---------------------------------------------------------
payload Bash '{"command":"git push --force origin main"}' > "$T/p"
a=$("$HOOK" pre-tool-use < "$T/p"); b=$("$LH" hook pre-tool-use < "$T/p")
check "lighthouse hook and lighthouse-hook give the same answer" '[ "$a" = "$b" ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$a")" = deny ]'

# ---- install merges without clobbering ----------------------------------------------------------
S="$T/settings.json"
cat > "$S" <<'JSON'
{"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-guard"}]}]}, "permissions": {"allow": ["Bash(ls:*)"]}}
JSON
"$LH" hook install --settings "$S" > /dev/null; rc=$?
check "install succeeds" '[ $rc -eq 0 ]'
check "install keeps existing settings and hooks" \
  'jq -e ".model == \"opus\" and .permissions.allow[0] == \"Bash(ls:*)\" and ([.hooks.PreToolUse[].hooks[].command] | index(\"other-guard\") != null)" "$S" >/dev/null'
check "install adds a PreToolUse entry running lighthouse-hook" \
  'jq -e "[.hooks.PreToolUse[].hooks[].command | select(test(\"lighthouse-hook pre-tool-use\"))] | length == 1" "$S" >/dev/null'
"$LH" hook install --settings "$S" > /dev/null
check "install twice adds nothing twice" \
  'jq -e "([.hooks.PreToolUse[].hooks[].command | select(test(\"lighthouse-hook\"))] | length == 1) and ([.hooks.PostToolUse[].hooks[].command | select(test(\"lighthouse-hook\"))] | length == 1)" "$S" >/dev/null'
cmd=$(jq -r '[.hooks.PreToolUse[].hooks[].command | select(test("lighthouse-hook"))][0]' "$S")
check "the installed command path exists and runs" '[ -x "${cmd% pre-tool-use}" ]'
echo '{"broken": ' > "$T/bad.json"
"$LH" hook install --settings "$T/bad.json" > /dev/null 2>&1; rc=$?
check "install refuses to touch an invalid settings file" '[ $rc -eq 2 ] && [ "$(cat "$T/bad.json")" = "{\"broken\": " ]'
"$LH" hook install --settings "$T/new.json" > /dev/null; rc=$?
check "install creates a missing settings file" '[ $rc -eq 0 ] && jq -e .hooks.PreToolUse "$T/new.json" >/dev/null'
"$LH" hook install --settings "$T/a/b/settings.json" > "$T/out"; rc=$?
check "install --settings creates missing directories" '[ $rc -eq 0 ] && jq -e .hooks.PostToolUse "$T/a/b/settings.json" >/dev/null'
check "install says it adds a PreToolUse and a PostToolUse hook" 'grep -q PreToolUse "$T/out" && grep -q PostToolUse "$T/out"'
cat > "$T/orig.json" <<'JSON'
{"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-guard"}]}], "Stop": []}, "permissions": {"allow": ["Bash(ls:*)"]}}
JSON
cp "$T/orig.json" "$T/u.json"
"$LH" hook install --settings "$T/u.json" > /dev/null && "$LH" hook uninstall --settings "$T/u.json" > "$T/out"; rc=$?
check "uninstall removes exactly what install added" '[ $rc -eq 0 ] && [ "$(jq -S . "$T/u.json")" = "$(jq -S . "$T/orig.json")" ] && grep -q "removed 2" "$T/out"'
"$LH" hook uninstall --settings "$T/new.json" > /dev/null; rc=$?
check "uninstall of a file install created leaves no hooks behind" '[ $rc -eq 0 ] && [ "$(jq -c . "$T/new.json")" = "{}" ]'
"$LH" hook uninstall --settings "$T/u.json" > "$T/out"; rc=$?
check "uninstall with nothing installed changes nothing and says so" '[ $rc -eq 0 ] && grep -q "nothing to uninstall" "$T/out" && [ "$(jq -S . "$T/u.json")" = "$(jq -S . "$T/orig.json")" ]'
"$LH" hook --help > "$T/out"; rc=$?
check "lighthouse hook --help answers" '[ $rc -eq 0 ] && grep -q uninstall "$T/out"'
"$LH" hook install --help > "$T/out"; rc=$?
check "lighthouse hook install --help answers without installing" '[ $rc -eq 0 ] && grep -q "usage" "$T/out"'

# ---- lighthouse check ------------------------------------------------------------------------------
"$LH" check --cwd /home/dev/project -- rm -rf / > "$T/out"; rc=$?
check "check exits 1 on deny and says why" '[ $rc -eq 1 ] && grep -q "^deny" "$T/out"'
"$LH" check --cwd /home/dev/project -- ls -la > "$T/out"; rc=$?
check "check exits 0 on allow" '[ $rc -eq 0 ] && grep -q "^allow" "$T/out"'
"$LH" check --json --cwd /home/dev/project -- git reset --hard > "$T/out"
check "check --json follows the decision contract" \
  'jq -e "(.decision == \"deny\") and (.rule|type==\"string\") and (.reason|type==\"string\") and (.tier == \"analysis\") and (.risk|type==\"string\") and (.policy_revision|type==\"string\") and (.latency_us|type==\"number\")" "$T/out" >/dev/null'
"$LH" check --explain --cwd /home/dev/project -- 'sudo sh -c "rm -rf /etc"' > "$T/out"
check "check --explain shows the parse, the path classes and the findings" \
  'grep -q "sh-c" "$T/out" && grep -q "/etc -> system" "$T/out" && grep -q "findings:" "$T/out"'
"$LH" check --json --explain --cwd /home/dev/project -- 'cat x | sh' > "$T/out"
check "check --json --explain adds an explain object" 'jq -e ".explain.commands | length == 2" "$T/out" >/dev/null'
payload Bash '{"command":"terraform destroy -auto-approve"}' | "$LH" check --json > "$T/out"; rc=$?
check "check reads a hook payload on stdin" '[ $rc -eq 1 ] && [ "$(jq -r .decision "$T/out")" = deny ]'
printf '%s\n' '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}' 'garbage' \
  '{"tool":"Bash","input":{"command":"rm -rf ~"},"cwd":"/tmp","home":"/home/dev"}' \
  '{"tool":"Write","input":{"file_path":"/etc/shadow","content":""},"cwd":"/tmp"}' | "$LH" check --batch > "$T/out"; rc=$?
check "check --batch answers each line in order, errors inline" \
  '[ "$(jq -r ".decision // .error.code" "$T/out" | tr "\n" " ")" = "allow bad_request deny deny " ] && [ $rc -eq 2 ]'
"$LH" check --bogus > /dev/null 2>&1; rc=$?
check "check with an unknown option exits 2" '[ $rc -eq 2 ]'
"$LH" check --policy "$T/bad.yaml" -- ls > /dev/null 2> "$T/err"; rc=$?
check "check with a broken policy exits 2 with file:line:col" '[ $rc -eq 2 ] && grep -q "bad.yaml:[0-9]*:[0-9]*:" "$T/err"'

# ---- the slim hook stays slim -----------------------------------------------------------------------
libs=$(ldd "$HOOK" | grep -cE 'microhttpd|curl|sqlite|libpq|libcrypto|libssl|fuse')
check "lighthouse-hook links none of the bridge's libraries" '[ "$libs" -eq 0 ]'
. "$(dirname "$0")/tap.bash"; done_testing

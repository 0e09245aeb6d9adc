#!/usr/bin/env bash
# policy_cli.sh — `lighthouse policy lint` and `lighthouse policy test` through the real
# binary: good and broken bundles, good and broken case files, the shipped default.
# Prints TAP lines ("ok - …" / "not ok - …"). Needs $LH_BUILD/lighthouse and $LH_ROOT.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/tap.bash"
LH_ROOT=${LH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
LH_BUILD=${LH_BUILD:-$LH_ROOT/build}
LH="$LH_BUILD/lighthouse"
cd "$LH_ROOT" || exit 1

if [ ! -x "$LH" ]; then
  fail "$LH is missing: run make first"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME WANT_RC PATTERN CMD... : CMD must exit WANT_RC and print (stdout+stderr) a line
# matching the extended regex PATTERN ("" skips the output check).
run() {
  local name=$1 want=$2 pat=$3
  shift 3
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name (exit $rc, want $want)"
    sed 's/^/#   /' "$tmp/out" | head -20
    return
  fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$tmp/out"; then
    fail "$name (no line matching /$pat/)"
    sed 's/^/#   /' "$tmp/out" | head -20
    return
  fi
  ok "$name"
}

# ---- lint ------------------------------------------------------------------------

run "lint: the default bundle is clean" 0 '^ok: [0-9]+ rules?, revision sha256:[0-9a-f]{16}$' \
  "$LH" policy lint policies/default.yaml

cat >"$tmp/good.yaml" <<'EOF'
revision: team-7
settings:
  unknown_tool: deny
rules:
  - id: no-terraform
    action: deny
    reason: terraform runs in CI only
    instead: open a pull request
    match:
      program: terraform
  - id: ops-restart
    action: allow
    match: {program: systemctl, subcommand: restart, agent: "ops-*"}
    overrides: [svc.systemctl]
  - id: slack-ok
    action: allow
    match: {tool: "mcp__slack__*"}
EOF
run "lint: a good bundle reports its rules and named revision" 0 '^ok: 3 rules, revision team-7$' \
  "$LH" policy lint "$tmp/good.yaml"

printf 'rules:\n  - id: a\n    action: [allow\n' >"$tmp/syntax.yaml"
run "lint: a YAML syntax error has file:line:column" 2 "^$tmp/syntax.yaml:4:1: YAML syntax error" \
  "$LH" policy lint "$tmp/syntax.yaml"

cat >"$tmp/keys.yaml" <<'EOF'
rules:
  - id: a
    action: deny
    reason: x
    match:
      programme: rm
EOF
run "lint: an unknown key is named with its position" 2 "^$tmp/keys.yaml:6:7: unknown key 'programme' in match" \
  "$LH" policy lint "$tmp/keys.yaml"

cat >"$tmp/regex.yaml" <<'EOF'
rules:
  - id: a
    action: deny
    reason: x
    match: {regex: "rm (-rf"}
EOF
run "lint: a bad regex is reported where it fails" 2 "^$tmp/regex.yaml:5:28: regex error at offset 7" \
  "$LH" policy lint "$tmp/regex.yaml"

cat >"$tmp/dup.yaml" <<'EOF'
rules:
  - {id: a, action: allow, match: {tool: Read}}
  - {id: a, action: allow, match: {tool: LS}}
EOF
run "lint: duplicate rule ids" 2 "^$tmp/dup.yaml:3:5: duplicate rule id 'a' \(first at line 2\)" \
  "$LH" policy lint "$tmp/dup.yaml"

cat >"$tmp/enum.yaml" <<'EOF'
rules:
  - id: a
    action: block
    risk: huge
    match: {tool: Read, sudo: perhaps}
EOF
run "lint: bad enum values (action)" 2 "^$tmp/enum.yaml:3:13: action must be allow, deny or escalate" \
  "$LH" policy lint "$tmp/enum.yaml"
run "lint: bad enum values (risk)" 2 "^$tmp/enum.yaml:4:11: risk must be low, medium, high or critical" \
  "$LH" policy lint "$tmp/enum.yaml"
run "lint: wrong types (sudo)" 2 "^$tmp/enum.yaml:5:31: sudo must be true or false" \
  "$LH" policy lint "$tmp/enum.yaml"

cat >"$tmp/an.yaml" <<'EOF'
rules:
  - {id: a, action: allow, match: {tool: Bash}, overrides: [no.such-analyzer]}
analyzers:
  also.missing: {enabled: false}
  shell.parse-error: {enabled: false}
EOF
run "lint: unknown analyzer ids in overrides" 2 "^$tmp/an.yaml:2:61: unknown analyzer id 'no.such-analyzer'" \
  "$LH" policy lint "$tmp/an.yaml"
run "lint: unknown analyzer ids in analyzers" 2 "^$tmp/an.yaml:4:3: unknown analyzer id 'also.missing'" \
  "$LH" policy lint "$tmp/an.yaml"
run "lint: the fail-closed analyzers cannot be disabled" 2 "^$tmp/an.yaml:5:32: 'shell.parse-error' .*cannot be disabled" \
  "$LH" policy lint "$tmp/an.yaml"
run "lint: the error count closes the report" 2 "^$tmp/an.yaml: 3 errors; the policy does not load$" \
  "$LH" policy lint "$tmp/an.yaml"

: >"$tmp/empty.yaml"
run "lint: an empty file" 2 "^$tmp/empty.yaml:1:1: the policy is empty" "$LH" policy lint "$tmp/empty.yaml"
run "lint: a missing file" 2 "nope.yaml" "$LH" policy lint "$tmp/nope.yaml"
head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$tmp/huge.yaml"
run "lint: a file over the size bound" 2 "huge.yaml" "$LH" policy lint "$tmp/huge.yaml"
printf 'rules: []\nx: "\377\376"\n' >"$tmp/utf8.yaml"
run "lint: invalid UTF-8" 2 "^$tmp/utf8.yaml:[0-9]+:[0-9]+: " "$LH" policy lint "$tmp/utf8.yaml"
run "lint: no file given is bad usage" 2 "usage" "$LH" policy lint
run "policy: an unknown subcommand is bad usage" 2 "unknown subcommand" "$LH" policy frob

# ---- test ------------------------------------------------------------------------

run "test: the default bundle passes its own cases" 0 '^[0-9]+ cases: [0-9]+ passed, 0 failed$' \
  "$LH" policy test policies/default.yaml policies/default.cases.yaml

cat >"$tmp/good.cases.yaml" <<'EOF'
cases:
  - name: terraform is denied by the operator rule
    command: terraform apply -auto-approve
    expect: deny
    rule: no-terraform
  - name: ops agents may restart services
    command: systemctl restart nginx
    agent: ops-1
    expect: allow
    rule: ops-restart
  - name: slack tools are trusted
    tool: mcp__slack__post_message
    input: {channel: general, text: hi}
    expect: allow
    rule: slack-ok
  - name: unknown tools are denied by settings
    tool: Teleport
    expect: deny
    rule: tool.unknown
  - name: plain listing is allowed
    command: ls -la
    expect: allow
  - name: Write in the project
    tool: Write
    file_path: /home/dev/project/src/x.c
    expect: allow
EOF
run "test: every case passes" 0 '^6 cases: 6 passed, 0 failed$' \
  "$LH" policy test "$tmp/good.yaml" "$tmp/good.cases.yaml"

cat >"$tmp/bad.cases.yaml" <<'EOF'
cases:
  - name: terraform allowed (wrong on purpose)
    command: terraform plan
    expect: allow
  - name: wrong deciding rule
    command: terraform plan
    expect: deny
    rule: some-other-rule
  - name: this one passes
    command: pwd
    expect: allow
EOF
run "test: a mismatch exits 1" 1 "" "$LH" policy test "$tmp/good.yaml" "$tmp/bad.cases.yaml"
run "test: a mismatch names the case, the expectation, the result and the rule" 1 \
  "^FAIL terraform allowed \(wrong on purpose\) \($tmp/bad.cases.yaml:2\): expected allow, got deny by rule no-terraform" \
  "$LH" policy test "$tmp/good.yaml" "$tmp/bad.cases.yaml"
run "test: a wrong deciding rule is a mismatch" 1 \
  "^FAIL wrong deciding rule .*expected deny by rule some-other-rule, got deny by rule no-terraform" \
  "$LH" policy test "$tmp/good.yaml" "$tmp/bad.cases.yaml"
run "test: the summary counts passes and failures" 1 '^3 cases: 1 passed, 2 failed$' \
  "$LH" policy test "$tmp/good.yaml" "$tmp/bad.cases.yaml"

cat >"$tmp/broken.cases.yaml" <<'EOF'
cases:
  - name: typo
    comand: ls
    expect: allow
  - name: bad expect
    command: ls
    expect: maybe
EOF
run "test: a broken cases file is bad input (unknown key)" 2 "^$tmp/broken.cases.yaml:3:5: unknown key 'comand'" \
  "$LH" policy test "$tmp/good.yaml" "$tmp/broken.cases.yaml"
run "test: a broken cases file is bad input (bad expect)" 2 "^$tmp/broken.cases.yaml:7:13: expect must be allow, deny or escalate" \
  "$LH" policy test "$tmp/good.yaml" "$tmp/broken.cases.yaml"
printf 'cases:\n  - name: x\n    command: "ls\n' >"$tmp/syntax.cases.yaml"
run "test: a cases file with a YAML error is bad input" 2 "^$tmp/syntax.cases.yaml:[0-9]+:[0-9]+: YAML syntax error" \
  "$LH" policy test "$tmp/good.yaml" "$tmp/syntax.cases.yaml"
run "test: a broken policy is bad input" 2 "^$tmp/keys.yaml:6:7: unknown key" \
  "$LH" policy test "$tmp/keys.yaml" "$tmp/good.cases.yaml"
run "test: missing arguments are bad usage" 2 "usage" "$LH" policy test "$tmp/good.yaml"

# ---- the policy in a real decision -------------------------------------------------

run "check --policy: an operator rule decides and is named" 1 "no-terraform" \
  "$LH" check --json --policy "$tmp/good.yaml" --cwd /home/dev/project -- terraform plan

# ---- the docs list every analyzer an operator can name ---------------------------

# The ids are read first and counted: an empty list (rules.def moved, the pattern out of
# date) must fail the check, not pass it with nothing missing.
ids=$(grep -o 'RULE([A-Z_0-9]*, *"[^"]*"' src/engine/rules.def | sed 's/.*"\(.*\)"$/\1/' | grep -vx none)
nids=$(grep -c . <<<"$ids")
nrules=$(grep -c "RULE(" src/engine/rules.def); nrules=${nrules:-0}
missing=$(while read -r id; do [ -z "$id" ] || grep -qF "\`$id\`" docs/policy.md || echo "$id"; done <<<"$ids")
if [ "$nids" -eq 0 ] || [ "$nids" -lt $((nrules - 1)) ]; then
  fail "read the analyzer ids of rules.def: $nids ids from $nrules RULE( lines"
elif [ -z "$missing" ]; then
  ok "docs/policy.md lists every analyzer id of rules.def ($nids ids)"
else
  fail "docs/policy.md does not list: $(echo $missing)"
fi

# ---- the web-cache example of docs/policy.md: an exception and an override ---------

cat >"$tmp/cache.yaml" <<'EOF2'
rules:
  - id: logs-cleanup
    action: allow
    reason: the app's logs are disposable
    match: {program: rm, path: "/var/log/app/**"}
    overrides: ["rm.*"]
analyzers:
  "rm.*":
    except:
      - path: "/var/www/app/cache/**"
EOF2
cat >"$tmp/cache.cases.yaml" <<'EOF2'
cases:
  - name: the cache itself may go
    command: rm -rf /var/www/app/cache
    expect: allow
  - name: a glob inside the cache may go
    command: sudo rm -rf /var/www/app/cache/sessions/*
    expect: allow
  - name: the exception does not cover a second path
    command: rm -rf /var/www/app/cache /etc
    expect: deny
    rule: rm.system
  - name: the exception does not cover the parent
    command: rm -rf /var/www/app
    expect: deny
  - name: the allow rule overrides the analyzers it names
    command: rm -rf /var/log/app/2024
    expect: allow
    rule: logs-cleanup
  - name: an allow rule needs every path to match
    command: rm -rf /var/log/app/2024 /var/log/syslog
    expect: deny
  - name: an allow rule covers only the command it matched
    command: rm -rf /var/log/app/2024; rm -rf /usr/lib
    expect: deny
  - name: without the policy the analyzers decide
    command: rm -rf /var/lib/postgresql
    expect: deny
EOF2
run "test: analyzer exceptions and allow overrides decide as documented" 0 '^8 cases: 8 passed, 0 failed$' \
  "$LH" policy test "$tmp/cache.yaml" "$tmp/cache.cases.yaml"
run "check --policy: an allow by exception names the exception" 0 '"rule": ?"exception:rm\.[a-z.-]+"' \
  "$LH" check --json --policy "$tmp/cache.yaml" --cwd /home/dev/project -- rm -rf /var/www/app/cache/old
done_testing

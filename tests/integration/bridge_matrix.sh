#!/usr/bin/env bash
# bridge_matrix.sh — nothing a client sends becomes a server fault (docs/sla.md, "Outcomes").
#
# The whole bad-input matrix goes to every route: malformed JSON, invalid UTF-8, nesting,
# empty bodies, missing and oversized fields, a session (or hook session_id) with a control
# character or past the store's aggregate limit, a relative cwd, the wrong content type,
# the wrong method, too large a body, no token. Every answer must be 4xx, /ready must stay
# true, and the server-fault counter of every route must stay 0. Then clients that reset
# the connection before the reply: counted as client_gone, never as a 500. Checks depend on
# counts, never on timing. Prints TAP lines.
# run-tests: parallel (scripts/run-tests.sh: it may run beside another such script)
set -u
. "$(dirname "$0")/bridge_lib.bash"

printf 'rate_limit: 0\nbody_limit: 65536\n' > "$T/cfg.yaml"
start_bridge m --config "$T/cfg.yaml" || { fail "bridge starts"; exit 1; }
AT=$(token admin-m admin); BT=$(token builder-m builder)
ok "bridge starts ($URL)"

# ---- the bodies (files, so that bytes such as invalid UTF-8 go as they are) ------------
python3 - "$T" <<'P'
import json, os, sys
d = os.path.join(sys.argv[1], "bad")
os.makedirs(d)
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
cmd = {"command": "ls -l"}
native = lambda **kw: json.dumps(dict({"tool": "Bash", "input": cmd, "cwd": "/tmp/p"}, **kw))
hook = lambda **kw: json.dumps(dict({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": cmd,
                                     "cwd": "/tmp/p"}, **kw))
opa = lambda body: '{"input":' + body + '}'
cases = {
    "session-bell": native(session="s\u0007x"),
    "session-newline": native(session="line1\nline2"),
    "session-del": native(session="a\u007fb"),
    "session-long": native(session="s" * 249),
    "session-long-utf8": native(session="\u00e9" * 125),
    "hook-session-bell": hook(session_id="s\u0001x"),
    "hook-session-long": hook(session_id="h" * 300),
    "hook-session-esc": hook(session_id="\u001b[31mred"),
    "not-json": "tool=Bash",
    "truncated": '{"tool":"Bash","input":{"command":"ls"',
    "array": "[1,2,3]",
    "empty": "",
    "bad-utf8": b'{"tool":"Bash","input":{"command":"ls \xff"},"cwd":"/tmp/p"}',
    "lone-surrogate": '{"tool":"Bash","input":{"command":"ls \\ud800"},"cwd":"/tmp/p"}',
    "nul-escape": '{"tool":"Bash","input":{"command":"ls \\u0000"},"cwd":"/tmp/p"}',
    "deep": '{"tool":"Bash","input":' + "[" * 100 + "]" * 100 + "}",
    "no-tool": json.dumps({"input": cmd, "cwd": "/tmp/p"}),
    "tool-long": native(tool="T" * 300),
    "tool-number": json.dumps({"tool": 7, "input": cmd}),
    "input-string": json.dumps({"tool": "Bash", "input": "ls", "cwd": "/tmp/p"}),
    "no-command": json.dumps({"tool": "Bash", "input": {}, "cwd": "/tmp/p"}),
    "relative-cwd": native(cwd="tmp/p"),
    "cwd-number": native(cwd=5),
    "dup-key": '{"tool":"Bash","tool":"Read","input":{"command":"ls"},"cwd":"/tmp/p"}',
    "path-long": json.dumps({"tool": "Read", "input": {"file_path": "/" + "p" * 9000}, "cwd": "/tmp/p"}),
    "too-large": native(pad="x" * 70000),
}
for k, v in cases.items():
    w(k + ".json", v)
    if isinstance(v, str) and v.startswith("{"):
        w(k + ".opa.json", opa(v))
w("good.json", native(session="s-good"))
w("good-hook.json", hook(session_id="s-good"))
w("good-long-session.json", native(session="s" * 248))
P
ls "$T/bad" | grep -v opa | sed 's/\.json$//' > "$T/cases"
check "the matrix has its cases" '[ "$(wc -l < "$T/cases")" -ge 25 ]'

sf_sum() { # the server faults of every route
  curl -s "$URL/metrics" | awk '/^lighthouse_bridge_outcomes_total\{.*class="server_fault"/ {s += $2} END {print s + 0}'
}
ready() { curl -s -o /dev/null -w '%{http_code}' "$URL/ready"; }

# ---- the good requests are answered (the matrix below is refused for its input only) ---
req POST /v1/validate "$BT" application/json "$T/bad/good.json"
check "a good request: 200" '[ "$code" = 200 ]'
req POST /v1/validate "$BT" application/json "$T/bad/good-long-session.json"
check "a session of exactly 248 bytes (the store's limit less \"session:\"): 200" '[ "$code" = 200 ]'
req POST /v1/hooks/claude-code "$BT" application/json "$T/bad/good-hook.json"
check "a good hook payload: 200" '[ "$code" = 200 ]'

# ---- every bad body at every decision route ----------------------------------------------
bad=""
total=0
while read -r k; do
  case $k in good*) continue ;; esac
  for route in /v1/validate /v1/hooks/claude-code /v1/data/lighthouse/decision; do
    f="$T/bad/$k.json"
    [ "$route" = /v1/data/lighthouse/decision ] && [ -f "$T/bad/$k.opa.json" ] && f="$T/bad/$k.opa.json"
    req POST "$route" "$BT" application/json "$f"
    total=$((total+1))
    case $code in 4??) ;; *) bad="$bad $route:$k=$code" ;; esac
  done
done < "$T/cases"
check "every bad body at every decision route ($total requests) is answered 4xx${bad:+ (not:$bad)}" '[ -z "$bad" ]'
req POST /v1/validate "$BT" application/json "$T/bad/session-bell.json"
check "a session with a control character: 400 bad_request naming the session" \
  '[ "$code" = 400 ] && is_error bad_request && jq -e ".error.message | test(\"session\")" <<<"$body" >/dev/null'
req POST /v1/hooks/claude-code "$BT" application/json "$T/bad/hook-session-long.json"
check "a hook session_id past 248 bytes: 400 naming the limit" \
  '[ "$code" = 400 ] && jq -e ".error.message | test(\"at most 248\")" <<<"$body" >/dev/null'

# ---- the other routes: wrong method, content type, token, bad arguments and bodies ---------
bad=""
for spec in "GET /v1/validate $BT" "PUT /v1/hooks/claude-code $BT" "GET /v1/data/lighthouse/decision $BT" \
            "POST /v1/events $AT" "POST /v1/status $AT" "POST /v1/sla $AT" "GET /v1/policy/rollback $AT" \
            "DELETE /v1/policy $AT" "POST /metrics $AT" "POST /health $AT" "POST /v1/policy/history $AT" \
            "GET /nope $AT" "GET /v1/events?after=-1 $AT" "GET /v1/events?limit=0 $AT" "GET /v1/events?limit=abc $AT" \
            "GET /v1/status -" "GET /v1/events -" "GET /v1/sla $BT" "GET /v1/events $BT" "GET /v1/policy/history $BT"; do
  set -- $spec
  tok=$3; [ "$tok" = - ] && tok=""
  req "$1" "$2" "$tok"
  case $code in 4??) ;; *) bad="$bad $1:$2=$code" ;; esac
done
for f in not-json empty bad-utf8 deep array session-bell; do
  req POST /v1/policy "$AT" application/json "$T/bad/$f.json"
  case $code in 4??) ;; *) bad="$bad policy:$f=$code" ;; esac
  req POST /v1/policy/rollback "$AT" application/json "$T/bad/$f.json"
  case $code in 4??) ;; *) bad="$bad rollback:$f=$code" ;; esac
  req POST /v1/policy "$BT" application/json "$T/bad/$f.json"
  case $code in 4??) ;; *) bad="$bad policy-builder:$f=$code" ;; esac
done
req POST /v1/validate "$BT" text/plain "$T/bad/good.json"
case $code in 4??) ;; *) bad="$bad text-plain=$code" ;; esac
req POST /v1/validate "" application/json "$T/bad/good.json"
case $code in 4??) ;; *) bad="$bad no-token=$code" ;; esac
req POST /v1/validate "not.a.token" application/json "$T/bad/good.json"
case $code in 4??) ;; *) bad="$bad forged-token=$code" ;; esac
check "wrong methods, routes, arguments, content types, tokens and policy bodies: every answer 4xx${bad:+ (not:$bad)}" '[ -z "$bad" ]'

check "after the whole matrix /ready is still 200" '[ "$(ready)" = 200 ]'
check "... no route has a server fault (outcomes_total{class=\"server_fault\"} all 0)" '[ "$(sf_sum)" = 0 ]'
curl -s "$URL/metrics" > "$T/metrics"
check "... errors_total{kind=internal} and {kind=store_unavailable} are 0" \
  'grep -q "^lighthouse_bridge_errors_total{kind=\"internal\"} 0$" "$T/metrics" && grep -q "^lighthouse_bridge_errors_total{kind=\"store_unavailable\"} 0$" "$T/metrics"'
check "... and the client errors are counted as client_error on the decision routes" \
  'awk "/^lighthouse_bridge_outcomes_total\\{route=\"\\/v1\\/validate\",class=\"client_error\"\\}/ {exit !(\$2 >= 25)}" "$T/metrics"'
req POST /v1/validate "$BT" application/json "$T/bad/good.json"
check "a good request after the matrix: 200 (the store took every event)" '[ "$code" = 200 ]'

# ---- clients that reset the connection before the reply --------------------------------
hp=${URL#http://}
python3 - "${hp%:*}" "${hp##*:}" "$BT" <<'P'
import socket, struct, sys
host, port, tok = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = b'{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp/p"}'
for i in range(5):
    s = socket.create_connection((host, port))
    head = ("POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nExpect: 100-continue\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (tok, len(body))).encode()
    s.sendall(head)
    # "100 Continue": the bridge has the request (an order of events, not a delay). Then
    # part of the body, and a reset (SO_LINGER 0) before the rest: no reply can be given.
    got = b""
    while b"\r\n\r\n" not in got:
        k = s.recv(256)
        if not k:
            break
        got += k
    if not got.startswith(b"HTTP/1.1 100"):
        sys.exit("expected 100 Continue, got %r" % got[:80])
    s.sendall(body[:10])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
P
gone() { curl -s "$URL/metrics" | awk '$1 == "lighthouse_bridge_outcomes_total{route=\"/v1/validate\",class=\"client_gone\"}" {print $2}'; }
wait_for '[ "$(gone)" = 5 ]'
check "5 resets before the reply: outcomes_total{route=/v1/validate,class=client_gone} = 5" '[ "$(gone)" = 5 ]'
check "... no server fault, no 500 in requests_total, errors_total{kind=internal} 0" \
  '[ "$(sf_sum)" = 0 ] && ! curl -s "$URL/metrics" | grep -q "^lighthouse_bridge_requests_total{route=\"/v1/validate\",code=\"500\"}" && curl -s "$URL/metrics" | grep -q "^lighthouse_bridge_errors_total{kind=\"internal\"} 0$"'
check "... /ready is still 200" '[ "$(ready)" = 200 ]'
# An event stream whose client resets: the next event it is sent fails to go out. That is
# the client going away, not an error of the bridge's: nothing on stderr says so.
ET=$(token expert-m expert)
python3 - "${hp%:*}" "${hp##*:}" "$ET" <<'P'
import socket, struct, sys
host, port, tok = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.sendall(("GET /v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % tok).encode())
got = b""
while b"\r\n\r\n" not in got:
    k = s.recv(256)
    if not k:
        break
    got += k
if not got.startswith(b"HTTP/1.1 200"):
    sys.exit("expected 200, got %r" % got[:80])
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
P
streams() { curl -s "$URL/metrics" | awk '$1 ~ /^lighthouse_bridge_outcomes_total\{route="\/v1\/events\/stream"/ {s += $2} END {print s + 0}'; }
for _ in $(seq 200); do   # events until the stream's send fails and its request completes
  post_json /v1/validate "$BT" '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp/p"}'
  [ "$(streams)" -ge 1 ] && break
  sleep 0.1
done
check "a reset event-stream client: its request completes, not as a server fault" \
  '[ "$(streams)" = 1 ] && [ "$(sf_sum)" = 0 ]'
check "... and nothing on the bridge's stderr calls it an error" '! grep -qiE "error|failed" "$T/m.err"'
check "promtool check metrics passes with outcomes_total" 'curl -s "$URL/metrics" | promtool check metrics >/dev/null 2>&1'

curl -s "$URL/metrics" | grep "outcomes_total{route=\"/v1/validate\"" | sed "s/^/# /"
kill -TERM "$PID"; wait "$PID"; rc=$?
check "the bridge stops cleanly (exit 0)" '[ $rc = 0 ]'
check "lighthouse events verify passes on its log" '"$LH" events verify --data "$DATA" >/dev/null 2>&1'
done_testing

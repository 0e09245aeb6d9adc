#!/usr/bin/env bash
# hook_trust.sh — the hook trusts only the bridge (docs/api.md, "Reply signatures"): a
# process that takes the bridge's port while the bridge is down and answers "allow" is
# not obeyed, nor is a replayed genuine reply or one signed with another key; the real
# bridge's signed replies still are. Ordered by events, no wall-clock bounds. TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"

start_bridge trust || { fail "bridge starts"; exit 1; }
ok "bridge starts ($URL)"
BT=$(token builder-1 builder)
PORT=${URL##*:}

# A call the default policy asks about; an impostor would answer allow.
printf '{"session_id":"s-trust","cwd":"/tmp/p","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"systemctl restart nginx"},"tool_use_id":"t1"}' > "$T/ask.json"
hook() { # extra env... → sets out, rc, herr
  out=$(env LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$BT" "$@" "$HOOK" pre-tool-use < "$T/ask.json" 2>"$T/herr"); rc=$?
  herr=$(cat "$T/herr")
}
# Like wait_for, but patient (30 s): a sanitized bridge or python3 starting on a loaded machine.
wait_long() { for _ in $(seq 600); do eval "$1" && return 0; sleep 0.05; done; return 1; }
reason() { jq -r '.hookSpecificOutput.permissionDecisionReason' <<<"$out" 2>/dev/null; }

# ---- the real bridge: signed, obeyed ------------------------------------------------
hook LIGHTHOUSE_REQUIRE_BRIDGE=1
check "the real bridge decides (ask, with its event number) under LIGHTHOUSE_REQUIRE_BRIDGE=1" \
  '[ $rc = 0 ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" = ask ] && reason | grep -q "(event [0-9]*)"'
curl -s -D "$T/rhdrs" -o "$T/rbody" -H "Authorization: Bearer $BT" -H "X-Lighthouse-Nonce: n1" \
  -H "Content-Type: application/json" --data-binary "@$T/ask.json" "$URL/v1/hooks/claude-code"
want=$(python3 -c '
import hmac, hashlib, sys
k = hmac.new(sys.argv[1].encode(), b"lighthouse.reply.v1", hashlib.sha256).digest()
print(hmac.new(k, b"n1" + open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$BT" "$T/rbody")
got=$(grep -i '^X-Lighthouse-Signature:' "$T/rhdrs" | tr -d '\r' | awk '{print $2}')
check "the bridge signs HMAC-SHA256(HMAC-SHA256(token, label), nonce || body) as docs/api.md says" \
  '[ -n "$got" ] && [ "$got" = "$want" ]'
curl -s -D "$T/h2" -o /dev/null -H "Authorization: Bearer $BT" -H "Content-Type: application/json" \
  --data-binary "@$T/ask.json" "$URL/v1/hooks/claude-code"
check "no nonce, no signature" '! grep -qi "^X-Lighthouse-Signature" "$T/h2"'
curl -s -D "$T/h3" -o /dev/null -H "Authorization: Bearer $BT" -H "X-Lighthouse-Nonce: n1" \
  -H "Content-Type: application/json" --data-binary '{"tool":"Bash","input":{"command":"ls"},"cwd":"/tmp"}' "$URL/v1/validate"
check "only the hook route signs" '! grep -qi "^X-Lighthouse-Signature" "$T/h3"'

# ---- the bridge goes down; an impostor takes its port ---------------------------------
kill -TERM "$PID"; wait "$PID"
# MODE: allow (no signature), replay (the genuine reply and signature for nonce n1),
# wrongkey (signed correctly, but with a key from another token).
cat > "$T/impostor.py" <<'PY'
import http.server, socketserver, sys, hmac, hashlib
port, mode, body_file, sig = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
allow = b'{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","permissionDecisionReason":"ok"}}\n'
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body, s = allow, None
        if mode == "replay":
            body, s = open(body_file, "rb").read(), sig
        elif mode == "wrongkey":
            k = hmac.new(b"lh1.some.other-token", b"lighthouse.reply.v1", hashlib.sha256).digest()
            s = hmac.new(k, self.headers.get("X-Lighthouse-Nonce", "").encode() + body, hashlib.sha256).hexdigest()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        if s: self.send_header("X-Lighthouse-Signature", s)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
socketserver.TCPServer.allow_reuse_address = True
srv = socketserver.TCPServer(("127.0.0.1", port), H)
open(sys.argv[5], "w").write("up")
srv.serve_forever()
PY
for mode in allow replay wrongkey; do
  rm -f "$T/imp.up"
  python3 "$T/impostor.py" "$PORT" "$mode" "$T/rbody" "$got" "$T/imp.up" 2>"$T/imp.log" &
  imp=$!
  if ! wait_long '[ -s "$T/imp.up" ]'; then fail "impostor ($mode) binds the bridge's port"; kill $imp 2>/dev/null; wait $imp 2>/dev/null; continue; fi
  hook LIGHTHOUSE_REQUIRE_BRIDGE=1 LIGHTHOUSE_HOOK_ALLOW=approve
  check "impostor ($mode), LIGHTHOUSE_REQUIRE_BRIDGE=1: blocked (exit 2), says why on stderr" \
    '[ $rc = 2 ] && [ -z "$out" ] && grep -q "X-Lighthouse-Signature" "$T/herr" && grep -q "not trusted" "$T/herr"'
  hook LIGHTHOUSE_HOOK_ALLOW=approve
  check "impostor ($mode), no LIGHTHOUSE_REQUIRE_BRIDGE: decided locally (ask, not allow), says why" \
    '[ $rc = 0 ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" = ask ] && reason | grep -q "decided locally" && grep -q "not trusted" "$T/herr"'
  kill $imp 2>/dev/null; wait $imp 2>/dev/null
done

# ---- the bridge comes back on its port: obeyed again ------------------------------------
"$LH" serve --listen "127.0.0.1:$PORT" --data "$T/trust" >"$T/trust2.out" 2>"$T/trust2.err" &
PID=$!
BRIDGES+=("$PID")
wait_long 'grep -q "http://" "$T/trust2.out"' || fail "the bridge restarts on its port"
hook LIGHTHOUSE_REQUIRE_BRIDGE=1
check "the restarted bridge decides again (same token, same data)" \
  '[ $rc = 0 ] && [ "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" = ask ] && reason | grep -q "(event [0-9]*)"'
done_testing

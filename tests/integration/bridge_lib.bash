# bridge_lib.bash — shared by tests/integration/bridge_*.sh (sourced; not a test itself).
# Starts the real `lighthouse serve` on a free loopback port (--listen 127.0.0.1:0; the
# bridge prints the port it bound) with a temporary data dir, and talks to it with curl.
B=${LH_BUILD:-build}
LH="$B/lighthouse"
HOOK="$B/lighthouse-hook"
T=$(mktemp -d)
# TAP lines, skip, done_testing (the closing plan): tests/integration/tap.bash.
. "$(dirname "${BASH_SOURCE[0]}")/tap.bash"
# check NAME CONDITION, as in tap.bash, and a failure shows the last HTTP body.
check() { if eval "$2"; then ok "$1"; else fail "$1"; [ -n "${body:-}" ] && echo "#   last body: ${body:0:300}"; fi; }

BRIDGES=()
# In a sanitizer build (make check) a bridge reports what ASan, LeakSanitizer and UBSan find
# on its stderr, which nobody reads while the test talks HTTP to it; its leaks only at exit.
# So once every bridge has stopped, each stderr is searched, and a report is a failure.
SANITIZED=
if grep -qaE '__asan_init|__ubsan_handle' "$LH" 2>/dev/null; then SANITIZED=1; fi
sanitizer_reports() {
  local f found=0
  for f in "$T"/*.err; do
    [ -f "$f" ] || continue
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
      found=1
      fail "sanitizer report in the stderr of bridge $(basename "$f" .err)"
      grep -m1 -A12 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | sed 's/^/#   /'
    fi
  done
  [ "$found" = 0 ] && ok "no sanitizer report in the stderr of any bridge ($(ls "$T"/*.err 2>/dev/null | wc -l) bridges)"
}
# stop_bridges: SIGTERM every bridge started, wait for it (up to 60 s; KILL after), then,
# in a sanitizer build, report what their stderr says. Once: done_testing calls it before
# the plan (so the sanitizer checks are counted), and the EXIT trap after an early exit.
STOPPED=
stop_bridges() {
  [ -n "$STOPPED" ] && return 0
  STOPPED=1
  for p in "${BRIDGES[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${BRIDGES[@]}"; do for _ in $(seq 1200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done; kill -KILL "$p" 2>/dev/null; done
  [ -n "${HOOKPID:-}" ] && kill "$HOOKPID" 2>/dev/null
  if [ -n "$SANITIZED" ]; then sanitizer_reports; fi
}
tap_before_plan() { stop_bridges; }
cleanup() {
  stop_bridges
  rm -rf "$T"
}
trap cleanup EXIT

# start_bridge NAME [serve flags...] → sets PID, URL, DATA (data dir $T/NAME)
start_bridge() {
  local name=$1; shift
  DATA="$T/$name"
  mkdir -p "$DATA"
  "$LH" serve --listen 127.0.0.1:0 --data "$DATA" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  PID=$!
  BRIDGES+=("$PID")
  URL=
  for _ in $(seq 1200); do   # up to 60 s (a sanitizer build on a busy machine starts slowly)
    URL=$(grep -o 'http://[0-9.:]*' "$T/$name.out" 2>/dev/null | head -1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$URL" ]; then echo "# bridge $name did not start:"; sed 's/^/#   /' "$T/$name.err"; return 1; fi
}

# start_webhook → a local webhook receiver (HOOKPID, HOOKURL): saves each POST body as
# $T/hook/N.json and answers 200; hooks prints what it got as a JSON array.
start_webhook() {
  mkdir -p "$T/hook"
  cat > "$T/hook.py" <<'P'
import http.server, os, sys, threading
d = sys.argv[1]
n = [0]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            n[0] += 1
            k = n[0]
        with open(os.path.join(d, "%d.tmp" % k), "wb") as f:
            f.write(body)
        os.rename(os.path.join(d, "%d.tmp" % k), os.path.join(d, "%d.json" % k))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(os.path.join(d, "port"), "w").write(str(s.server_address[1]))
s.serve_forever()
P
  python3 "$T/hook.py" "$T/hook" & HOOKPID=$!
  for _ in $(seq 100); do [ -s "$T/hook/port" ] && break; sleep 0.05; done
  HOOKURL="http://127.0.0.1:$(cat "$T/hook/port")/alerts"
}
hooks() { cat "$T"/hook/*.json 2>/dev/null | jq -sc .; }

token() { # agent role [data] [ttl]
  "$LH" token create --agent "$1" --role "$2" --data "${3:-$DATA}" --ttl "${4:-1d}" 2>/dev/null
}

# req METHOD PATH TOKEN [CONTENT_TYPE BODY_FILE] → sets code, body, hdrs
req() {
  local m=$1 p=$2 tok=$3 ct=${4:-} f=${5:-}
  local args=(-s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' -X "$m" --max-time 10)
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ -n "$ct" ] && args+=(-H "Content-Type: $ct")
  [ -n "$f" ] && args+=(--data-binary "@$f")
  code=$(curl "${args[@]}" "$URL$p")
  # $(<FILE) is $(cat FILE) without starting cat (bash 5.2 reads it in the shell itself):
  # a test makes hundreds of requests, and each process costs tens of ms on a busy machine.
  body=; [ -f "$T/body" ] && body=$(<"$T/body")
  hdrs=; [ -f "$T/hdrs" ] && hdrs=$(<"$T/hdrs")
}

# post_json PATH TOKEN JSON
post_json() { printf '%s' "$3" > "$T/req.json"; req POST "$1" "$2" application/json "$T/req.json"; }

is_error() { # code-string: body is {"error":{"code":C,"message":...}}
  jq -e --arg c "$1" '.error.code == $c and (.error.message | type == "string")' <<<"$body" >/dev/null 2>&1
}

# wait_for CMD: retry CMD every 50 ms until it succeeds (for effects that cross processes,
# such as a revocation recorded by `lighthouse token revoke` reaching the running bridge).
# It gives up after 60 s: that fails a test that hangs, never one on a slow, loaded machine.
wait_for() { for _ in $(seq 1200); do eval "$1" && return 0; sleep 0.05; done; return 1; }

# term_wait PID: SIGTERM the bridge PID and wait for it to exit; sets rc to its exit status.
# After 60 s (a hang guard, never a bound on speed) it is killed, and rc is 137.
term_wait() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1200); do
    [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || break
    sleep 0.05
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1"; rc=$?
}

# metric NAME → the value of an unlabelled series of the current bridge's /metrics ("" if none)
metric_now() { curl -s --max-time 10 "$URL/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

# build_fault_shim → builds $T/fault.so and sets FAULT_SO and LH_FAULT_FILE. Real I/O
# failure for the event store: preloaded (LD_PRELOAD="$FAULT_SO"), it makes fsync and
# fdatasync fail with EIO while the file $LH_FAULT_FILE exists. Returns 1 (and says why
# on stdout as a TAP failure) when it cannot be built.
build_fault_shim() {
  cat > "$T/fault.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
static int failing(void) { const char *f = getenv("LH_FAULT_FILE"); return f && access(f, F_OK) == 0; }
int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (failing()) { errno = EIO; return -1; }
    return real(fd);
}
int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (failing()) { errno = EIO; return -1; }
    return real(fd);
}
C
  if ! cc -shared -fPIC -o "$T/fault.so" "$T/fault.c" -ldl 2>"$T/cc.err"; then
    fail "build the fault-injection shim: $(head -1 "$T/cc.err")"; return 1
  fi
  FAULT_SO="$T/fault.so"
  export LH_FAULT_FILE="$T/fail-now"
}

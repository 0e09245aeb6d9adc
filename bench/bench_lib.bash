# bench_lib.bash — what the benchmark scripts share: a temp dir cleaned on exit, a bridge
# on a free loopback port with builder tokens, and nginx serving a fixed 200 as our own
# process. Sourced by bench/*.sh (not run by itself: run-bench.sh runs only *.sh).
#
#   bench_setup NAME TOOL…          checks the tools, raises the fd limit, sets T, traps cleanup
#   bench_start_bridge AGENT_PREFIX [DATA_DIR]   sets URL, BPID and TOK (16 comma-separated
#                                   tokens); the data dir defaults to $T/data
#   bench_start_nginx WORKERS BODY [LISTEN_OPTS]   sets NPORT and NPID

B=${LH_BUILD:-build}
LH="$B/lighthouse"
ROOT=${LH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BPID= NPID= BPIDS= BDIRS=

bench_cleanup() {
  for p in $BPIDS; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "$NPID" ] && kill -QUIT "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
  rm -rf "$T" $BDIRS
}

bench_setup() {
  BENCH_NAME=$1; shift
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "bench $BENCH_NAME: $t is missing (scripts/deps.sh installs it)"; exit 1; }
  done
  T=$(mktemp -d)
  trap bench_cleanup EXIT
}

bench_start_bridge() {
  local data=${2:-$T/data}
  URL=
  "$LH" serve --listen 127.0.0.1:0 --data "$data" --rate-limit 0 >"$T/$1.out" 2>"$T/$1.err" &
  BPID=$!
  BPIDS="$BPIDS $BPID"
  for _ in $(seq 200); do URL=$(grep -o 'http://[0-9.:]*' "$T/$1.out" | head -1); [ -n "$URL" ] && break; sleep 0.05; done
  [ -n "${URL:-}" ] || { echo "bench $BENCH_NAME: the bridge did not start"; cat "$T/$1.err"; exit 1; }
  TOK=""
  for i in $(seq 16); do TOK="$TOK,$("$LH" token create --agent "$1-$i" --role builder --data "$data" 2>/dev/null)"; done
  TOK=${TOK#,}
}

bench_start_nginx() { # WORKERS BODY [LISTEN_OPTS]
  NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$T/nginx"
  cat > "$T/nginx/nginx.conf" <<NG
worker_processes $1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$NPORT ${3:-} backlog=4096;
    location / { default_type application/json; return 200 '$2'; }
  }
}
NG
  nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/stderr" &
  NPID=$!
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$NPORT/" >/dev/null && break; sleep 0.05; done
}

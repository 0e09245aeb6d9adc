#!/usr/bin/env bash
# replicas.sh — decisions/s for 1, 2 and 3 bridges on one PostgreSQL behind haproxy (issue
# 15 part 1), and where the time goes. Prints figures; never fails on time.
#
# Three replicas run on a fresh database of the test PostgreSQL (LH_TEST_PG, started by
# run-bench.sh), each with its own data dir and the same keys. For N = 1, 2, 3 haproxy
# (Debian's, on loopback, round robin) is given the first N, and wrk (2 threads, 64
# connections, bench/validate.lua's mix) posts decisions through it. Each decision is
# durable in PostgreSQL (group commit, synchronous_commit on) before its reply.
#
# Where the time goes, per decision, from the run's deltas: CPU of the bridges, of
# PostgreSQL (the postmaster's children: backends, WAL writer) and of haproxy
# (/proc/PID/stat utime+stime), and PostgreSQL commits (pg_stat_database.xact_commit):
# decisions per commit is what group commit buys. CPU per decision × decisions/s against
# the machine's CPUs says whether the run was CPU-bound or waiting (commit round trips
# and WAL flushes).
set -u
source "$(dirname "$0")/bench_lib.bash"
LUA="$ROOT/bench/validate.lua"
DUR=${BENCH_DURATION:-10}
bench_setup replicas wrk haproxy psql python3
[ -n "${LH_TEST_PG:-}" ] || { echo "bench replicas: LH_TEST_PG is not set (run-bench.sh starts PostgreSQL)"; exit 1; }
DB="lh_bench_replicas_$$"
psql "$LH_TEST_PG" -qc "CREATE DATABASE $DB" >/dev/null || { echo "bench replicas: cannot create $DB"; exit 1; }
PG="$LH_TEST_PG dbname=$DB"
HPID=
cleanup_all() {
  [ -n "$HPID" ] && kill -TERM "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
  bench_cleanup
  psql "$LH_TEST_PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup_all EXIT

ADDRS=() PIDS=()
for r in a b c; do
  mkdir -p "$T/$r"
  [ "$r" != a ] && cp "$T/a/secret" "$T/a/token.key" "$T/$r/"
  "$LH" serve --listen 127.0.0.1:0 --data "$T/$r" --store postgres --pg "$PG" --rate-limit 0 >"$T/$r.out" 2>"$T/$r.err" &
  p=$!; BPIDS="$BPIDS $p"; PIDS+=("$p")
  u=
  for _ in $(seq 400); do u=$(grep -o 'http://[0-9.:]*' "$T/$r.out" | head -1); [ -n "$u" ] && break; sleep 0.05; done
  [ -n "$u" ] || { echo "bench replicas: replica $r did not start"; cat "$T/$r.err"; exit 1; }
  ADDRS+=("${u#http://}")
done
TOK=""
for i in $(seq 16); do
  TOK="$TOK,$("$LH" token create --agent "bench-rep-$i" --role builder --data "$T/a" --store postgres --pg "$PG" 2>/dev/null)"
done
export LH_TOKENS=${TOK#,}

HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_haproxy() { # N: the first N replicas
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n'
    printf 'frontend lh\n  bind 127.0.0.1:%s\n  default_backend replicas\n' "$HPORT"
    printf 'backend replicas\n  balance roundrobin\n  http-reuse always\n'
    for i in $(seq 0 $(($1 - 1))); do printf '  server r%d %s\n' "$i" "${ADDRS[$i]}"; done
  } >"$T/haproxy.cfg"
  haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1 &
  HPID=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/health")" = 200 ] && return 0
    sleep 0.05
  done
  echo "bench replicas: haproxy did not answer"; cat "$T/haproxy.out"; exit 1
}
stop_haproxy() { kill -TERM "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null; HPID=; }

ticks() { # PID... → their utime+stime in clock ticks
  local s=0 p v
  for p in "$@"; do v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null); s=$((s + ${v:-0})); done
  echo "$s"
}
pg_pids() { # the postmaster and its children
  local pm
  pm=$(head -1 "$LH_TEST_PG_DIR/data/postmaster.pid" 2>/dev/null)
  [ -n "$pm" ] && echo "$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
}
commits() { psql "$LH_TEST_PG" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"; }
HZ=$(getconf CLK_TCK)

echo "replicas on one PostgreSQL behind haproxy; wrk 2 threads, 64 connections, ${DUR}s runs, $(nproc) CPUs shared by all"
echo "machine load before the run (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg) -- other work on the machine moves every figure below"
printf '  %-10s %12s %9s %9s %12s %12s %12s %12s %10s\n' replicas 'decisions/s' p50 p99 'bridge us/d' 'pg us/d' 'haproxy us/d' 'decis/commit' 'cpu busy'
for n in 1 2 3; do
  start_haproxy "$n"
  wrk -t2 -c64 -d2s -s "$LUA" "http://127.0.0.1:$HPORT/v1/validate" >/dev/null 2>&1   # warm
  PGP=$(pg_pids)
  b0=$(ticks "${PIDS[@]}"); g0=$(ticks $PGP); h0=$(ticks "$HPID"); c0=$(commits)
  out=$(wrk -t2 -c64 -d"$DUR"s --timeout 5s --latency -s "$LUA" "http://127.0.0.1:$HPORT/v1/validate" 2>&1)
  b1=$(ticks "${PIDS[@]}"); g1=$(ticks $PGP); h1=$(ticks "$HPID"); c1=$(commits)
  stop_haproxy
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(grep -E "Socket errors|Non-2xx" <<<"$out" | tr -s ' ' | tr '\n' ';')
  python3 - "$n" "$rps" "$reqs" "$p50" "$p99" "$((b1 - b0))" "$((g1 - g0))" "$((h1 - h0))" "$((c1 - c0))" "$HZ" "$DUR" "$(nproc)" "$errs" <<'P'
import sys
n, rps, reqs, p50, p99, b, g, h, c, hz, dur, cpus, errs = sys.argv[1:]
rps = float(rps or 0); reqs = max(int(reqs or 0), 1); hz = float(hz)
us = lambda t: 1e6 * int(t) / hz / reqs
busy = (int(b) + int(g) + int(h)) / hz / float(dur) / float(cpus) * 100
per = reqs / max(int(c), 1)
print("  %-10s %12.0f %9s %9s %12.1f %12.1f %12.1f %12.1f %9.0f%%  %s" % (n, rps, p50, p99, us(b), us(g), us(h), per, busy, errs))
P
done
echo "  (us/d: CPU microseconds per decision; cpu busy: bridges + PostgreSQL + haproxy CPU over the run as a share of all"
echo "   CPUs, the rest is wrk, other work, or idle while decisions wait on commits)"

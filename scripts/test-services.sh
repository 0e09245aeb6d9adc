#!/usr/bin/env bash
# test-services.sh — SOURCED by scripts/run-tests.sh and scripts/run-bench.sh.
#
# Starts a throw-away PostgreSQL 15 for the tests: a fresh data directory under /tmp,
# listening only on 127.0.0.1 on a free port, run as the postgres user (or as the current
# user when not root). Exports LH_TEST_PG (a libpq conninfo string) and defines
# lh_services_stop, which stops the server and removes the directory.
#
# Idempotent: when LH_TEST_PG is already set and answers, nothing is started. Quiet on
# success. When PostgreSQL cannot start it says why on stderr and returns 1: the PG tests
# then fail; they never skip.

lh__pg_bin=${LH_PG_BIN:-/usr/lib/postgresql/15/bin}

lh__pg_fail() {
  echo "test-services: $*" >&2
  [ -n "${lh__pg_dir:-}" ] && cat "$lh__pg_dir/log" "$lh__pg_dir/run/server.log" 2>/dev/null | tail -20 |
    sed 's/^/  postgres: /' >&2
  [ -n "${lh__pg_dir:-}" ] && rm -rf "$lh__pg_dir"
  unset lh__pg_dir
  return 1
}

lh__pg_as() { # run a command as the server's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

lh__pg_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

lh__pg_start() {
  if [ -n "${LH_TEST_PG:-}" ] && "$lh__pg_bin/pg_isready" -q -d "$LH_TEST_PG" 2>/dev/null; then
    return 0
  fi
  [ -x "$lh__pg_bin/postgres" ] || { lh__pg_fail "no PostgreSQL 15 in $lh__pg_bin (run scripts/deps.sh)"; return 1; }
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    lh__pg_fail "no postgres user (is the postgresql package installed?)"; return 1
  fi
  lh__pg_dir=$(mktemp -d /tmp/lh-pg.XXXXXX) || { lh__pg_fail "mktemp failed"; return 1; }
  chmod 755 "$lh__pg_dir"
  mkdir -p "$lh__pg_dir/data" "$lh__pg_dir/run"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$lh__pg_dir/data" "$lh__pg_dir/run"
  if ! lh__pg_as "$lh__pg_bin/initdb" -D "$lh__pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$lh__pg_dir/log" 2>&1; then
    lh__pg_fail "initdb failed"; return 1
  fi
  local port tries=0
  while :; do
    port=$((20000 + RANDOM % 30000))
    tries=$((tries + 1))
    if lh__pg_port_free "$port"; then
      if lh__pg_as "$lh__pg_bin/pg_ctl" -D "$lh__pg_dir/data" -l "$lh__pg_dir/run/server.log" -w -t 30 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $lh__pg_dir/run -c max_connections=200" \
          start >/dev/null 2>&1; then
        break
      fi
    fi
    [ "$tries" -ge 5 ] && { lh__pg_fail "PostgreSQL did not start (5 ports tried)"; return 1; }
  done
  export LH_TEST_PG="host=127.0.0.1 port=$port user=postgres dbname=postgres"
  export LH_TEST_PG_DIR="$lh__pg_dir"
  if ! "$lh__pg_bin/pg_isready" -q -d "$LH_TEST_PG" -t 10; then
    lh_services_stop; lh__pg_fail "PostgreSQL started but does not answer on port $port"; return 1
  fi
  return 0
}

lh_services_stop() {
  if [ -n "${lh__pg_dir:-}" ] && [ -d "$lh__pg_dir" ]; then
    lh__pg_as "$lh__pg_bin/pg_ctl" -D "$lh__pg_dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
    rm -rf "$lh__pg_dir"
  fi
  unset lh__pg_dir LH_TEST_PG LH_TEST_PG_DIR
}

lh__pg_start

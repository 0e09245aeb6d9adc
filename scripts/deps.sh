#!/usr/bin/env bash
# Install the Debian packages Lighthouse needs to build, test and benchmark.
# Idempotent: when every package is present it does nothing and prints nothing.
set -euo pipefail

pkgs=(
  build-essential pkg-config
  libjansson-dev libyaml-dev libpcre2-dev libssl-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql
  libmicrohttpd-dev libfuse3-dev fuse3 libcurl4-openssl-dev
  libcmocka-dev
  valgrind wrk nginx-light hyperfine prometheus jq python3 clang
  chromium   # tests/integration/load_html.sh: the HTML report rendered headless (no network)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The prometheus and nginx packages start services we do not want; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus nginx >/dev/null 2>&1 || true
fi

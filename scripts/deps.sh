#!/usr/bin/env bash
# Install the Debian packages Lighthouse needs to build, test and benchmark, and the npm
# packages of the node tests (tests/diff/, tests/ui/, tests/mcp/). Idempotent: when every package is present it does nothing and prints nothing.
set -euo pipefail

pkgs=(
  build-essential pkg-config
  libjansson-dev libyaml-dev libpcre2-dev libssl-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql
  libmicrohttpd-dev libfuse3-dev fuse3 libcurl4-openssl-dev
  libcmocka-dev
  valgrind wrk nginx-light hyperfine prometheus jq python3 clang nodejs
  faketime   # tests/integration/chaos_clock.sh: libfaketime moves the bridge's wall clock
  clang-tools clang-tidy   # make static: scan-build and clang-tidy (scripts/static.sh)
  chromium   # tests/integration/load_html.sh (the HTML report) and ui.sh (the review console), headless
  haproxy    # tests/integration/replicas.sh, bench/replicas.sh: three bridges behind it
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm comes with some nodejs builds and is a package of its own in Debian's.
command -v npm >/dev/null 2>&1 || missing+=(npm)
# tests/integration/k8s.sh renders deploy/k8s with `kubectl kustomize`: any kubectl will do,
# Debian's is kubernetes-client.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)

# The npm packages of the project's node tests, each pinned by its package-lock.json, go
# into DIR/node_modules, from npm's cache when they are there:
#   tests/diff  the independent shell parser of the differential test
#   tests/ui    puppeteer-core for the review console's browser test (ui.sh)
#   tests/mcp   the MCP SDK client and conformance suite (mcp.sh)
#   tests/k8s   kubernetes-models: the Kubernetes and prometheus-operator schemas (k8s.sh)
npm_dir() {   # npm_dir DIR MARKER WHAT-FAILS
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/$1"
  [ -f "$dir/node_modules/$2" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "deps: installing $1's npm packages" >&2
  (cd "$dir" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                  npm ci --no-audit --no-fund >&2; }) ||
    echo "deps: npm ci failed in $1; $3" >&2
}
npm_all() {
  npm_dir tests/diff mvdan-sh/index.js "the differential shell test will skip"
  npm_dir tests/ui puppeteer-core/package.json "tests/integration/ui.sh will fail"
  npm_dir tests/mcp @modelcontextprotocol/conformance/dist/index.js "the MCP SDK and conformance tests will skip"
  npm_dir tests/k8s @kubernetes-models/prometheus-operator/package.json "tests/integration/k8s.sh will fail"
}

if [ ${#missing[@]} -eq 0 ]; then npm_all; exit 0; fi

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
npm_all

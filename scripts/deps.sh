#!/usr/bin/env bash
# Install the Debian packages Lighthouse needs to build, test and benchmark, and the npm
# packages of the differential shell test (tests/diff/) and of the console test (tests/ui/). Idempotent: when every package is present it does nothing and prints nothing.
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

# The independent shell parser of the differential test (tests/diff/, pinned by its
# package-lock.json) goes into tests/diff/node_modules, from npm's cache when it is there.
npm_diff() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/diff"
  [ -f "$dir/node_modules/mvdan-sh/index.js" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "deps: installing tests/diff's npm packages" >&2
  (cd "$dir" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                  npm ci --no-audit --no-fund >&2; }) ||
    echo "deps: npm ci failed in tests/diff; the differential shell test will skip" >&2
}

# puppeteer-core for the review console's browser test (tests/ui/, tests/integration/ui.sh).
npm_ui() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/ui"
  [ -f "$dir/node_modules/puppeteer-core/package.json" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "deps: installing tests/ui's npm packages" >&2
  (cd "$dir" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                  npm ci --no-audit --no-fund >&2; }) ||
    echo "deps: npm ci failed in tests/ui; tests/integration/ui.sh will fail" >&2
}

# kubernetes-models for tests/integration/k8s.sh (tests/k8s/: the Kubernetes and
# prometheus-operator schemas, offline).
npm_k8s() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/k8s"
  [ -f "$dir/node_modules/@kubernetes-models/prometheus-operator/package.json" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "deps: installing tests/k8s's npm packages" >&2
  (cd "$dir" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                  npm ci --no-audit --no-fund >&2; }) ||
    echo "deps: npm ci failed in tests/k8s; tests/integration/k8s.sh will fail" >&2
}

if [ ${#missing[@]} -eq 0 ]; then npm_diff; npm_ui; npm_k8s; exit 0; fi

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
npm_diff
npm_ui
npm_k8s

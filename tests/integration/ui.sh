#!/usr/bin/env bash
# ui.sh — the review console (/ui/) in Debian's headless chromium, driven by puppeteer-core
# (tests/ui/console.test.mjs, its packages pinned by tests/ui/package-lock.json and
# installed by scripts/deps.sh): sign in with an expert token, see a builder's escalation
# arrive live, deny it with a reason, and see the builder's waiting request get the deny;
# a wrong token shows an error; no token ever appears in a URL. Also the console's files
# over plain HTTP: types, CSP, caching, the open route, the revision route's roles.
# Skips (with the reason) only when chromium cannot start here. Prints TAP.
set -u
. "$(dirname "$0")/bridge_lib.bash"
HERE=$(cd "$(dirname "$0")" && pwd)
CONSOLE="$HERE/../../ui"   # the console's files (tests/ui holds its browser test)

start_bridge ui --policy "$HERE/review.policy.yaml" || { fail "bridge starts"; done_testing; exit 1; }
ET=$(token sec-1 expert)
BT=$(token builder-1 builder)
AT=$(token admin-1 admin)

# ---- the files over HTTP ----
req GET /ui/ ""
check "GET /ui/ is open: the page, as HTML, never cached, with a strict CSP" \
  '[ "$code" = 200 ] && grep -qi "^content-type: text/html; charset=utf-8" <<<"$hdrs" && grep -qi "^cache-control: no-store" <<<"$hdrs" && grep -qi "^content-security-policy: default-src '"'"'none'"'"'; script-src '"'"'self'"'"'" <<<"$hdrs" && grep -qi "^x-content-type-options: nosniff" <<<"$hdrs" && grep -q "<title>Lighthouse review console</title>" <<<"$body"'
req GET /ui/js/app.js ""
check "a module is served as JavaScript" '[ "$code" = 200 ] && grep -qi "^content-type: text/javascript" <<<"$hdrs" && grep -q "signIn" <<<"$body"'
req GET /ui/style.css ""
check "the stylesheet as CSS" '[ "$code" = 200 ] && grep -qi "^content-type: text/css" <<<"$hdrs"'
req GET /ui ""
check "/ui redirects to /ui/" '[ "$code" = 308 ] && grep -qi "^location: /ui/" <<<"$hdrs"'
req GET /ui/missing.js ""
check "an unknown file is a JSON 404" '[ "$code" = 404 ] && is_error not_found'
code=$(curl -s --path-as-is -o "$T/dots" -w '%{http_code}' "$URL/ui/../ui/index.html")
check "a path with .. names no file (sent as is: $code)" '[ "$code" = 404 ] && ! grep -q "<title>" "$T/dots"'
req POST /ui/ ""
check "POST /ui/ is 405" '[ "$code" = 405 ]'
check "no file of the console uses innerHTML, eval or an outside URL" \
  '! grep -rnE "innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|https?://" "$CONSOLE" --include=*.js --include=*.html --include=*.css'

# ---- GET /v1/policy/revisions/{rev} ----
req GET /v1/policy/history "$ET"
REV=$(jq -r .active <<<"$body")
req GET "/v1/policy/revisions/$REV" "$ET"
check "an expert reads the active revision's text" '[ "$code" = 200 ] && jq -e --arg r "$REV" ".revision == \$r and (.policy | test(\"review.deploy\"))" <<<"$body" >/dev/null'
req GET "/v1/policy/revisions/$REV" "$BT"
check "a builder may not (403)" '[ "$code" = 403 ] && is_error forbidden'
req GET "/v1/policy/revisions/$REV" ""
check "without a token: 401" '[ "$code" = 401 ]'
req GET "/v1/policy/revisions/sha256:0000000000000000" "$AT"
check "an unknown revision: 404" '[ "$code" = 404 ] && is_error not_found'

# ---- the console's line diff, in node ----
node "$HERE/../ui/diff.test.mjs" >"$T/diff.out" 2>&1; rc=$?
while IFS= read -r line; do
  case "$line" in "ok - "*) ok "diff.js: ${line#ok - }" ;; "not ok - "*) fail "diff.js: ${line#not ok - }" ;; esac
done <"$T/diff.out"
check "diff.test.mjs ran (rc $rc)" '[ $rc = 0 ] && grep -q "^ok - 300 random" "$T/diff.out"'

# ---- the browser ----
PROFILE=$(mktemp -d "$T/profile.XXXXXX")
if ! timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
     --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$PROFILE/probe" \
     --dump-dom about:blank >"$T/probe.out" 2>"$T/probe.err"; then
  skip "the console in headless chromium" "chromium cannot start here: $(grep -v '^\s*$' "$T/probe.err" | tail -1 | head -c 200)"
  done_testing; exit 0
fi
if [ ! -f "$HERE/../ui/node_modules/puppeteer-core/package.json" ]; then
  (cd "$HERE/../ui" && npm ci --offline --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund >&2)
fi
check "puppeteer-core is installed in tests/ui (scripts/deps.sh)" '[ -f "$HERE/../ui/node_modules/puppeteer-core/package.json" ]'

LH_URL="$URL" LH_EXPERT="$ET" LH_BUILDER="$BT" LH_ADMIN="$AT" LH_POLICY="$HERE/review.policy.yaml" \
  LH_PROFILE="$PROFILE/run" node "$HERE/../ui/console.test.mjs" >"$T/ui.out" 2>"$T/ui.err"; rc=$?
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) fail "${line#not ok - }" ;;
    "#"*) echo "$line" ;;
  esac
done <"$T/ui.out"
check "the browser test ran to its end (rc $rc)" '[ $rc = 0 ] && [ "$(grep -c "^ok - " "$T/ui.out")" -ge 14 ]'
[ $rc = 0 ] || { echo "# stderr:"; tail -20 "$T/ui.err" | sed 's/^/#   /'; }

# The bridge's view: the escalation was decided by the expert, audited.
req GET "/v1/events?type=escalation.decided" "$AT"
check "the deny is an escalation.decided event" 'jq -e "[.events[] | select(.data.decision == \"deny\")] | length >= 1" <<<"$body" >/dev/null'
req GET /metrics ""
check "the console's routes are counted, and promtool accepts the metrics" \
  'grep -q "lighthouse_bridge_requests_total{route=\"/ui/\",code=\"200\"}" <<<"$body" && grep -q "route=\"/v1/policy/revisions/{rev}\"" <<<"$body" && promtool check metrics <<<"$body" >/dev/null 2>&1'
done_testing

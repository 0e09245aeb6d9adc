#!/usr/bin/env bash
# load_html.sh — the HTML report of `lighthouse load` as a reader sees it: two short runs
# against the real bridge (a baseline, then a run compared with it), the second's report
# rendered in headless Chromium over the DevTools protocol (html_render.py: no network),
# a screenshot taken, and checked: no console errors, every chart holds data, no label
# sticks out of its chart, the baseline is overlaid, failed objectives link to a chart
# that exists, numbers are rounded for people. Needs Debian's chromium (scripts/deps.sh);
# without it the test fails, it does not skip. Prints TAP lines.
set -u
. "$(dirname "$0")/bridge_lib.bash"
HERE=$(cd "$(dirname "$0")" && pwd)

start_bridge html || { fail "bridge starts"; exit 1; }
RUN=("$LH" load --target "$URL" --data "$DATA" --no-history --agents 40 --rate 40 --duration 6)
"${RUN[@]}" --seed 1 --save-baseline "$T/base.json" >"$T/a.out" 2>&1
"${RUN[@]}" --seed 2 --baseline "$T/base.json" --confirm 0 --html "$T/r.html" --report "$T/r.json" >"$T/b.out" 2>&1; rc=$?
check "two runs and an HTML report (rc $rc)" '[ -s "$T/r.html" ] && jq -e .summary "$T/r.json" >/dev/null'

# A report with failed objectives: a bridge limiting its one agent, so most requests fail.
start_bridge tight --rate-limit 2 --rate-burst 2 || { fail "second bridge starts"; exit 1; }
TTOK=$(token one-agent builder)
"$LH" load --target "$URL" --token "$TTOK" --no-history --agents 10 --rate 30 --duration 3 --network-errors 0 \
  --html "$T/f.html" --report "$T/f.json" >"$T/f.out" 2>&1

command -v chromium >/dev/null || command -v chromium-browser >/dev/null
check "chromium is installed (scripts/deps.sh)" '[ $? = 0 ]'

python3 "$HERE/html_render.py" "$T/r.html" "$T/r.png" > "$T/render.json" 2>"$T/render.err"; rc=$?
echo "# render: $(head -c 600 "$T/render.json")"
check "chromium renders the report and takes a screenshot (rc $rc)" \
  '[ $rc = 0 ] && jq -e ".screenshot_bytes > 20000 and .width == 900 and .height > 1500" "$T/render.json" >/dev/null'
check "no console errors" 'jq -e ".console_errors == []" "$T/render.json" >/dev/null'
# data, not just a frame: line charts have points (one a second), bar charts more bars
# than their legend's swatches (6 in the outcomes chart)
check "every chart is there and holds data" \
  'jq -e ".charts | .latency.points >= 8 and .throughput.points >= 8 and .\"resources-cpu\".points >= 4 and .\"resources-memory\".points >= 4 and .histogram.rects >= 3 and .outcomes.rects > 6 + 3 and .tiers.rects >= 5" "$T/render.json" >/dev/null'
check "no label sticks out of its chart ($(jq -c .clipped "$T/render.json" | head -c 200))" 'jq -e ".clipped == []" "$T/render.json" >/dev/null'
check "the latency chart overlays the baseline's p99, dashed" 'grep -q "baseline p99" "$T/r.html" && grep -q "stroke-dasharray" "$T/r.html"'
check "axes have ticks and units" \
  'grep -q "time since the start of the load (s)" "$T/r.html" && grep -q "latency (ms)" "$T/r.html" && grep -q "requests per second" "$T/r.html" && [ "$(grep -c "text-anchor=\"middle\">[0-9.]*</text>" "$T/r.html")" -gt 20 ]'
check "numbers are rounded for people (no 9+ decimal digits, no quoted strings)" \
  '! grep -qE "[0-9]\.[0-9]{7,}" "$T/r.html" && ! grep -qE "<td>&quot;|<td>\"" "$T/r.html"'

python3 "$HERE/html_render.py" "$T/f.html" "$T/f.png" > "$T/frender.json" 2>/dev/null; rc=$?
check "a NO-GO report renders too, with no console errors" '[ $rc = 0 ] && jq -e ".console_errors == []" "$T/frender.json" >/dev/null'
nfail=$(jq '.summary.failed_objectives | length' "$T/f.json")
check "each failed objective ($nfail) links to a chart that exists" \
  '[ "$nfail" -gt 0 ] && jq -e --argjson n "$nfail" "([.links[] | select(.exists)] | length) >= \$n and ([.links[] | select(.exists | not)] | length) == 0" "$T/frender.json" >/dev/null'
check "the outcomes chart shows the throttled requests" 'grep -q "throttled 429</title>" "$T/f.html"'
done_testing

#!/usr/bin/env bash
# mount.sh — read latency through `lighthouse mount` (docs/shadows.md): open + read +
# close of a 4 KiB file under current/, timed per file by a Python reader, p50 and p99.
#
#   uncached   the first read of each file: its blob is fetched from the bridge over HTTP
#              (and the head's tree, when its one-second TTL has run out)
#   cached     the same files again: the blob comes from the mount's cache (the first
#              open of a name in current/ is direct_io, so this read crosses FUSE into
#              the mount process once more, and fills the kernel's page cache).
#   kernel     current/ a third time: the name shows the same blob as its size and its
#              last open, so the kernel keeps its pages (keep_cache): only the open
#              crosses FUSE.
#   history    a file under history/<seq>/ read twice: the kernel's page cache keeps it
#              (a historical version never changes), so the second read stays in the kernel.
# Prints figures; never fails on time. Skips (exit 0, with the reason) without FUSE.
set -u
source "$(dirname "$0")/bench_lib.bash"
N=${BENCH_MOUNT_FILES:-300}
bench_setup mount python3 curl jq
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then echo "mount bench: skipped (no /dev/fuse or fusermount3)"; exit 0; fi
bench_start_bridge mount-bench
BT=${TOK%%,*}
ET=$("$LH" token create --agent mount-bench-expert --role expert --data "$T/data" 2>/dev/null)
python3 - "$URL" "$BT" "$N" <<'PY'
import base64, json, os, sys, urllib.request
url, tok, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    body = json.dumps({"op": "update", "project": "/bench", "path": "src/f%04d.txt" % i,
                       "content_b64": base64.b64encode(os.urandom(4096)).decode(), "tool": "Write"}).encode()
    req = urllib.request.Request(url + "/v1/shadows", body, {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
PY
M="$T/mnt"
mkdir -p "$M"
LIGHTHOUSE_URL="$URL" LIGHTHOUSE_TOKEN="$ET" "$LH" mount "$M" 2>"$T/mount.err" &
MP=$!
for _ in $(seq 400); do grep -qF " $M fuse" /proc/mounts && break; sleep 0.05; done
if ! grep -qF " $M fuse" /proc/mounts; then echo "mount bench: the mount did not start:"; cat "$T/mount.err"; kill "$MP" 2>/dev/null; exit 1; fi
SEQ=$(curl -s -H "Authorization: Bearer $ET" "$URL/v1/shadows/tree" | jq .at_seq)
python3 - "$M" "$N" "$SEQ" <<'PY'
import os, sys, time
m, n, seq = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def timed(paths):
    out = []
    for p in paths:
        t = time.perf_counter_ns()
        with open(p, "rb") as f:
            data = f.read()
        out.append(time.perf_counter_ns() - t)
        assert len(data) == 4096
    out.sort()
    return out
def show(name, xs):
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] / 1000
    print("mount read %-9s %5d files  p50 %8.1f us  p99 %8.1f us" % (name, len(xs), pick(0.5), pick(0.99)))
cur = ["%s/current/src/f%04d.txt" % (m, i) for i in range(n)]
hist = ["%s/history/%s/src/f%04d.txt" % (m, seq, i) for i in range(n)]
show("uncached", timed(cur))
show("cached", timed(cur))
show("kernel", timed(cur))
timed(hist)
show("history", timed(hist))
PY
kill -TERM "$MP"; wait "$MP"
echo "mount bench: target p99 <= 200 us cached (issue 14); the seed asked < 5 ms"

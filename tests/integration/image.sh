#!/usr/bin/env bash
# image.sh — the container image of `make image` (scripts/image.sh), when it exists: podman
# starts it read-only, with every capability dropped and no network but its loopback; the
# bridge in it answers /health and /ready (asked with the image's own curl, through
# `podman exec`), its HEALTHCHECK passes (`podman healthcheck run`), it runs as uid 10001,
# not root, and the image holds no shell. Prints the image's size. `make image` takes
# minutes (mmdebstrap), so it is not part of `make test`: without the image this script
# skips with the printed reason. Where `podman run` does not work on this machine (a
# sandbox that refuses the container's setrlimit), those checks skip with the reason, and
# the image's exported root filesystem is run with chroot instead, as uid 10001: its own
# libraries start the bridge, and its own curl (the HEALTHCHECK's command) gets /health.
# Prints TAP.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.bash"
IMAGE=${LH_IMAGE:-localhost/lighthouse:latest}

command -v podman >/dev/null 2>&1 || skip_all "podman is not installed (apt-get install podman; the image: make image)"
podman image exists "$IMAGE" 2>/dev/null || skip_all "no image $IMAGE here: run make image (it takes minutes, so make test does not)"
ARCHIVE=${LH_IMAGE_ARCHIVE:-${LH_BUILD:-build}/lighthouse-image.tar}
[ -f "$ARCHIVE" ] || skip_all "no $ARCHIVE (make image saves it with the image, for BUILD=${LH_BUILD:-build})"
name="lh-image-test-$$"
cleanup() { podman rm -f -t 0 "$name" >/dev/null 2>&1; }
trap cleanup EXIT
echo "# image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"
hc=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" 2>/dev/null)
check "the image declares a HEALTHCHECK: the image's curl on /health" \
  'jq -e ".Test == [\"CMD\",\"/usr/bin/curl\",\"-fsS\",\"-o\",\"/dev/null\",\"--max-time\",\"2\",\"http://127.0.0.1:8765/health\"]" <<<"$hc" >/dev/null'
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE" 2>/dev/null)
check "the image's USER is 10001:10001, not root" '[ "$user" = 10001:10001 ]'

# The root filesystem: the layers of the archive `make image` saved with the image.
T=$(mktemp -d)
trap 'cleanup; rm -rf "$T"' EXIT
mkdir "$T/rootfs"
python3 - "$ARCHIVE" "$T/rootfs" <<'PY' || echo "# cannot unpack $ARCHIVE"
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as a:
    for layer in json.load(a.extractfile("manifest.json"))[0]["Layers"]:
        with tarfile.open(fileobj=a.extractfile(layer)) as l:
            l.extractall(sys.argv[2], members=[m for m in l if not (m.isdev() or m.ischr() or m.isblk())])
PY
check "the image holds the two programs and no shell, apt or dpkg" \
  '[ -x "$T/rootfs/usr/bin/lighthouse" ] && [ -x "$T/rootfs/usr/bin/lighthouse-hook" ] && ! [ -e "$T/rootfs/bin/sh" ] && ! [ -e "$T/rootfs/usr/bin/sh" ] && ! [ -e "$T/rootfs/usr/bin/apt" ] && ! [ -e "$T/rootfs/usr/bin/dpkg" ]'
check "the image's /etc/passwd names lighthouse 10001 with no login shell" \
  'grep -qx "lighthouse:x:10001:10001:lighthouse:/var/lib/lighthouse:/usr/sbin/nologin" "$T/rootfs/etc/passwd"'

podman_out=$(podman run -d --name "$name" --network none --read-only --cap-drop ALL \
             --security-opt no-new-privileges --ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" \
             --health-interval disable "$IMAGE" 2>&1)
if [ $? -ne 0 ]; then
  why="podman run does not work on this machine: $(grep -v 'level=' <<<"$podman_out" | tail -1)"
  echo "# $why"
  for c in "the container's bridge answers GET /health" "GET /ready is true" "its HEALTHCHECK passes (podman healthcheck run)" \
           "it runs as uid 10001" "the image holds no shell (podman exec)"; do skip "$c" "$why"; done
  # the same root filesystem with chroot, as uid 10001: its libraries, its curl
  if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
    mkdir -p "$T/rootfs/tmp/data" && chown 10001:10001 "$T/rootfs/tmp/data"
    chroot --userspec=10001:10001 "$T/rootfs" /usr/bin/lighthouse serve --listen 127.0.0.1:0 --data /tmp/data/d \
      >"$T/serve.out" 2>"$T/serve.err" &
    spid=$!
    url=
    for _ in $(seq 1200); do
      url=$(grep -o 'http://[0-9.:]*' "$T/serve.out" 2>/dev/null | head -1); [ -n "$url" ] && break
      kill -0 "$spid" 2>/dev/null || break; sleep 0.05
    done
    check "chroot: the image's bridge starts as uid 10001 with only the image's libraries (${url:-did not start})" '[ -n "$url" ]'
    [ -n "$url" ] || sed 's/^/#   /' "$T/serve.err"
    check "chroot: the image's curl (the HEALTHCHECK's program; no /dev/null in a bare chroot) gets /health" \
      '[ -n "$url" ] && chroot --userspec=10001:10001 "$T/rootfs" /usr/bin/curl -fsS -o /tmp/health.out --max-time 2 "$url/health"'
    r=$(curl -s --max-time 5 "$url/ready")
    check "chroot: /ready is true" 'grep -q "\"ready\":true" <<<"$r"'
    kill -TERM "$spid" 2>/dev/null; wait "$spid"; src=$?
    check "chroot: SIGTERM stops it cleanly (exit 0)" '[ "$src" = 0 ]'
  else
    skip "chroot: the image's root filesystem runs the bridge" "not root here"
  fi
  done_testing
  exit 0
fi

# wait for the bridge: /health through the image's curl (a hang guard, not a speed bound)
up=
for _ in $(seq 600); do
  if podman exec "$name" /usr/bin/curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8765/health 2>/dev/null; then up=1; break; fi
  [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || break
  sleep 0.1
done
check "the container's bridge answers GET /health" '[ -n "$up" ]'
[ -n "$up" ] || podman logs "$name" 2>&1 | tail -5 | sed 's/^/#   /'
ready=$(podman exec "$name" /usr/bin/curl -sS --max-time 2 http://127.0.0.1:8765/ready 2>&1)
check "GET /ready is true (the store in /var/lib/lighthouse appends)" 'grep -q "\"ready\":true" <<<"$ready"'
check "its HEALTHCHECK passes (podman healthcheck run)" 'podman healthcheck run "$name" >/dev/null 2>&1'
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
check "it runs as uid 10001 (process uid ${uid:-unknown})" '[ "$uid" = 10001 ]'
check "the image holds no shell (podman exec)" '! podman exec "$name" /bin/sh -c true >/dev/null 2>&1 && ! podman exec "$name" /bin/bash -c true >/dev/null 2>&1'
logs=$(podman logs "$name" 2>&1)
check "it says where it listens and that the store is SQLite under /var/lib/lighthouse" \
  'grep -q "listening on http://0.0.0.0:8765" <<<"$logs" && grep -q "data: /var/lib/lighthouse/data (sqlite store)" <<<"$logs"'
done_testing

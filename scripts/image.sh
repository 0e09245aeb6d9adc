#!/usr/bin/env bash
# image.sh BUILD_DIR — `make image`: the OCI image `localhost/lighthouse:latest`, built
# offline from Debian packages (docs/operations.md, "Container image").
#
# 1. mmdebstrap makes a minimal root filesystem from this machine's apt sources (the
#    variant "extract": no shell, no apt, no dpkg): only the runtime
#    libraries of build/lighthouse and build/lighthouse-hook and curl (the HEALTHCHECK's
#    probe of /health), unpacked; this machine's CA bundle (HTTPS alert sinks);
# 2. it adds the two programs, an /etc/passwd with the user lighthouse (uid 10001), and
#    /var/lib/lighthouse owned by it;
# 3. buildah commits it as an OCI image with USER 10001, a HEALTHCHECK, the port and the
#    entrypoint `lighthouse serve`, in the Docker v2 manifest format (the OCI format has no
#    HEALTHCHECK field, buildah drops it there). It is saved as BUILD_DIR/lighthouse-image.tar
#    too (`podman load -i`), and its size printed.
# Needs root (or rootless buildah with subuids), mmdebstrap and buildah: installed here
# when missing (they are large, so scripts/deps.sh, which every build runs, leaves them out).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
IMAGE=${LH_IMAGE:-localhost/lighthouse:latest}
if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "image: installing mmdebstrap, buildah, podman and uidmap" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap buildah podman uidmap >&2 ||
    { echo "image: could not install mmdebstrap and buildah (apt-get install mmdebstrap buildah podman uidmap)" >&2; exit 2; }
fi
for p in lighthouse lighthouse-hook; do
  [ -x "$BUILD/$p" ] || { echo "image: $BUILD/$p is not built (make)" >&2; exit 2; }
done

# The Debian packages that own the libraries the programs load (ldd), whatever they are.
libs=$(ldd "$BUILD/lighthouse" "$BUILD/lighthouse-hook" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
pkgs=()
for l in $libs; do
  real=$(readlink -f "$l")
  p=$(dpkg -S "$l" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$l" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null) ||
    { echo "image: no Debian package owns $l" >&2; exit 2; }
  pkgs+=("${p%%:*}")
done
pkgs+=(curl)
include=$(printf '%s\n' "${pkgs[@]}" | sort -u | paste -sd, -)
echo "image: packages: $include" >&2

# The host's apt sources (deb822 or one-line), so the image's libraries are the ones the
# programs were built against.
src=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  [ -s "$f" ] && { src=$f; break; }
done
[ -n "$src" ] || { echo "image: no apt sources on this machine" >&2; exit 2; }
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")

W=$(mktemp -d "$ROOT/$BUILD/image.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/add/usr/bin" "$W/add/etc" "$W/add/var/lib/lighthouse" "$W/add/tmp"
install -m 0755 "$BUILD/lighthouse" "$BUILD/lighthouse-hook" "$W/add/usr/bin/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nlighthouse:x:10001:10001:lighthouse:/var/lib/lighthouse:/usr/sbin/nologin\n' >"$W/add/etc/passwd"
printf 'root:x:0:\nlighthouse:x:10001:\n' >"$W/add/etc/group"
chmod 1777 "$W/add/tmp"
chmod 0700 "$W/add/var/lib/lighthouse"

# The CA bundle of this machine's ca-certificates (HTTPS alert sinks), without the package:
# it would bring openssl, debconf and perl-base, and its bundle is made by a maintainer script.
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$W/add/etc/ssl/certs"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$W/add/etc/ssl/certs/"
fi

# "extract": the packages (and the libraries they depend on) are unpacked, no maintainer
# script runs, and no dpkg, apt or shell is in the image. Docs, manuals and locales are
# taken out of the tar afterwards.
nice mmdebstrap --variant=extract --include="$include" \
  "$suite" "$W/rootfs.tar" "$src" >&2
tar --wildcards --delete -f "$W/rootfs.tar" './usr/share/doc/*' './usr/share/man/*' \
  './usr/share/locale/*' './usr/share/lintian/*' './usr/share/info/*' 2>/dev/null || true

# Docker v2 format throughout: the OCI format has no HEALTHCHECK.
export BUILDAH_FORMAT=docker
ctr=$(buildah from --quiet scratch)
cleanup_ctr() { buildah rm "$ctr" >/dev/null 2>&1 || true; }
trap 'cleanup_ctr; rm -rf "$W"' EXIT
buildah add --quiet "$ctr" "$W/rootfs.tar" /
buildah copy "$ctr" "$W/add/usr/bin" /usr/bin >/dev/null
buildah copy "$ctr" "$W/add/etc" /etc >/dev/null
buildah copy --chown 10001:10001 "$ctr" "$W/add/var/lib/lighthouse" /var/lib/lighthouse >/dev/null
buildah config \
  --user 10001:10001 \
  --workingdir /var/lib/lighthouse \
  --port 8765/tcp \
  --env LIGHTHOUSE_LISTEN=0.0.0.0:8765 \
  --env LIGHTHOUSE_DATA=/var/lib/lighthouse/data \
  --volume /var/lib/lighthouse \
  --entrypoint '["/usr/bin/lighthouse"]' \
  --cmd 'serve' \
  --healthcheck 'CMD /usr/bin/curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8765/health' \
  --healthcheck-interval 10s --healthcheck-timeout 3s --healthcheck-retries 3 --healthcheck-start-period 30s \
  --label org.opencontainers.image.title=lighthouse \
  --label org.opencontainers.image.description="Lighthouse validation bridge (lighthouse serve)" \
  "$ctr"
buildah commit --quiet --format docker --rm "$ctr" "$IMAGE" >/dev/null
trap 'rm -rf "$W"' EXIT
rm -f "$BUILD/lighthouse-image.tar"
buildah push --quiet "$IMAGE" "docker-archive:$BUILD/lighthouse-image.tar:lighthouse:latest"
size=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
echo "image: $IMAGE built: $size (root filesystem tar $(du -h "$W/rootfs.tar" | cut -f1); archive $BUILD/lighthouse-image.tar $(du -h "$BUILD/lighthouse-image.tar" | cut -f1))"

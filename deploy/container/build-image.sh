#!/bin/sh
# make image: the gateway's container image, built by buildah from
# deploy/container/Containerfile (as docker or podman would build it), tagged
# NAME:VERSION and NAME:latest, and saved as a docker-archive for `docker load`
# / `podman load` into OUT_DIR.
# Usage: build-image.sh NAME VERSION [OUT_DIR]   (root)
set -eu
cd "$(dirname "$0")/../.."
NAME=$1 VERSION=$2 OUT=${3:-build/image}
command -v buildah >/dev/null || {
  [ "$(id -u)" = 0 ] || { echo "image: buildah is missing (apt-get install buildah)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >/dev/null
}
mkdir -p "$OUT"
echo "image: building $NAME:$VERSION (log: $OUT/build.log)"
start=$(date +%s)
# --format docker keeps HEALTHCHECK (the OCI format has no such field);
# --isolation chroot: RUN steps work without a container runtime's rlimits.
if ! buildah bud --isolation chroot --format docker --layers --pull=missing \
    -f deploy/container/Containerfile -t "$NAME:$VERSION" -t "$NAME:latest" . >"$OUT/build.log" 2>&1; then
  tail -30 "$OUT/build.log" >&2
  echo "image: build failed (log: $OUT/build.log)" >&2
  exit 1
fi
archive=$OUT/livestore-gateway-$VERSION.tar
rm -f "$archive"
buildah push --quiet "$NAME:$VERSION" "docker-archive:$archive:$NAME:$VERSION" >/dev/null
echo "image: $NAME:$VERSION in $(( $(date +%s) - start )) s, $(buildah images --format '{{.Size}}' "$NAME:$VERSION" | head -1); saved as $archive"

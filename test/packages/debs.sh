#!/usr/bin/env bash
# The Debian packages on a clean Debian 12: a new container from the
# debootstrap-built debian:bookworm-slim (buildah, chroot isolation, the
# host's network for Debian's archive), the debs installed with apt-get
# (PostgreSQL 15 comes from the archive), then test/packages/in-debian.sh
# inside it: debian/tests/smoke (as autopkgtest runs it), CREATE EXTENSION in
# a cluster, and the gateway started from the installed unit's command line,
# as systemd would start it (no systemd runs in a container).
# Usage: debs.sh [DEB_DIR]   (root; after `make deb` and `make base-image`)
set -euo pipefail
cd "$(dirname "$0")/../.."
DEBS=${1:-build/deb}
BASE=${BASE_TAG:-docker.io/library/debian:bookworm-slim}
source test/lib/ports.sh
shopt -s nullglob
debs=("$DEBS"/postgresql-*-livestore_*.deb "$DEBS"/livestore-gateway_*.deb)
[ ${#debs[@]} -ge 2 ] || { echo "debs: no packages in $DEBS (make deb)" >&2; exit 1; }
ctr=$(buildah from --pull=never "$BASE")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah run --isolation chroot "$ctr" -- mkdir -p /tmp/debs /tmp/debian-tests
buildah copy --quiet "$ctr" "${debs[@]}" /tmp/debs/
buildah copy --quiet "$ctr" debian/tests /tmp/debian-tests
buildah copy --quiet "$ctr" test/packages/in-debian.sh /tmp/in-debian.sh
PGPORT=$(free_port $((20000 + RANDOM % 20000)))
GWPORT=$(free_port $((PGPORT + 1)))
buildah run --isolation chroot --network host --env TEST_PGPORT="$PGPORT" --env TEST_GWPORT="$GWPORT" \
  "$ctr" -- bash /tmp/in-debian.sh

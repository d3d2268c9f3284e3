#!/bin/sh
# Builds the base image the Containerfile starts from, debian:bookworm-slim,
# from Debian's own archive with debootstrap, and tags it as the official one
# is tagged (docker.io/library/debian:bookworm-slim). Where a registry is
# reachable this is not needed: the same Containerfile pulls the official
# image. The image is a minbase Debian 12 slimmed the way Debian's official
# images are (debuerreotype's slimify: no docs, man pages or translations),
# with the same apt sources (bookworm, bookworm-updates, bookworm-security).
#
# Usage: build-base.sh [WORK_DIR]   (root; needs debootstrap and buildah)
# Env:   DEBIAN_MIRROR (default http://deb.debian.org/debian),
#        BASE_TAG (default docker.io/library/debian:bookworm-slim), FORCE=1 to rebuild.
set -eu
WORK=${1:-build/base}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TAG=${BASE_TAG:-docker.io/library/debian:bookworm-slim}
if [ "${FORCE:-0}" != 1 ] && command -v buildah >/dev/null && buildah inspect --type image "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG exists (FORCE=1 rebuilds it)"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build-base.sh: run as root (debootstrap)" >&2; exit 1; }
missing=""
for tool in debootstrap buildah; do command -v $tool >/dev/null || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  echo "build-base.sh: installing$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
mkdir -p "$WORK"
ROOTFS=$WORK/rootfs
rm -rf "$ROOTFS"
echo "debootstrap: minbase bookworm from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --components=main bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }

# As debuerreotype does for the official images.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# as in Debian's official container images (debuerreotype slimify)
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
CFG
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-gzip-indexes" <<'CFG'
Acquire::GzipIndexes "true";
CFG
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'CFG'
Apt::AutoRemove::SuggestsImportant "false";
CFG
rm -f "$ROOTFS/etc/apt/sources.list"
cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<'CFG'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
(cd "$ROOTFS" && find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null;
 find usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null;
 rm -rf usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* usr/share/linda/*;
 find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +;
 rm -rf var/cache/apt/*.bin var/cache/apt/archives/*.deb var/lib/apt/lists/* var/log/*.log var/log/apt/* tmp/*;
 : >etc/machine-id; rm -f etc/hostname etc/resolv.conf)

echo "importing $ROOTFS as $TAG"
tar -C "$ROOTFS" --numeric-owner -cf "$WORK/rootfs.tar" .
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$WORK/rootfs.tar" / >/dev/null
buildah config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --os linux --arch "$(dpkg --print-architecture)" --label org.opencontainers.image.source=debootstrap "$ctr"
buildah commit --rm "$ctr" "$TAG" >/dev/null
trap - EXIT
rm -f "$WORK/rootfs.tar"
echo "built $TAG ($(buildah images --format '{{.Size}}' "$TAG" 2>/dev/null | head -1))"

#!/bin/sh
# make deb: the Debian packages (postgresql-NN-livestore for each PostgreSQL in
# debian/pgversions, and livestore-gateway), built with Debian's own tooling
# (dpkg-buildpackage, debhelper, pg_buildext) from a clean copy of the source,
# into OUT_DIR; then lintian on them. Installs missing build dependencies when
# run as root.
# Usage: deploy/deb/build.sh [OUT_DIR]  (default build/deb)
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${1:-build/deb}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

need="dpkg-dev debhelper postgresql-server-dev-all help2man lintian"
missing=""
for p in $need; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || { echo "deb: missing Debian packages:$missing" >&2; exit 1; }
  echo "deb: installing$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! dpkg-checkbuilddeps 2>/dev/null; then
  [ "$(id -u)" = 0 ] || { dpkg-checkbuilddeps; exit 1; }
  echo "deb: installing the build dependencies"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq . >/dev/null
fi
# debian/control is generated from control.in (pg_buildext): it must be current.
pg_buildext checkcontrol >/dev/null || { echo "deb: run 'pg_buildext updatecontrol' and commit debian/control" >&2; exit 1; }

VERSION=$(dpkg-parsechangelog -S Version)
UPSTREAM=${VERSION%-*}
CONTROL_VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" livestore.control)
[ "$UPSTREAM" = "$CONTROL_VERSION" ] ||
  { echo "deb: debian/changelog says $UPSTREAM, livestore.control $CONTROL_VERSION: add a changelog entry (dch -v $CONTROL_VERSION-1)" >&2; exit 1; }

rm -rf "$OUT"
SRC=$OUT/src/livestore-$UPSTREAM
mkdir -p "$SRC"
sh deploy/source-files.sh | tar --null -T - -cf - | tar -C "$SRC" -xf -
echo "deb: building $VERSION in $SRC (log: $OUT/build.log)"
start=$(date +%s)
opts="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
if ! (cd "$SRC" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log" >&2
  echo "deb: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
  exit 1
fi
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"
echo "deb: built in $(( $(date +%s) - start )) s:"
ls -l "$OUT"/*.deb | awk '{ print "  " $NF " (" $5 " bytes)" }'

# lintian on the binary packages: errors fail, warnings are shown.
lintian --fail-on error --display-info "$OUT"/*.changes >"$OUT/lintian.txt" 2>&1 && rc=0 || rc=$?
echo "deb: lintian: $(grep -c '^E: ' "$OUT/lintian.txt" || true) errors, $(grep -c '^W: ' "$OUT/lintian.txt" || true) warnings, $(grep -c '^I: ' "$OUT/lintian.txt" || true) info ($OUT/lintian.txt)"
grep -E '^(E|W): ' "$OUT/lintian.txt" | sed 's/^/  /' || true
exit $rc

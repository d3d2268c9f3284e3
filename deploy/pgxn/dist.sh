#!/bin/sh
# make dist: the PGXN release, OUT_DIR/livestore-VERSION.zip, one top folder
# livestore-VERSION/ with META.json, the PGXS Makefile, the control file, the
# extension's sources and install/upgrade scripts, and its regression tests
# (`make installcheck`). The gateway is not in it: PGXN's client runs `make
# && make install`, which then builds the extension only (WITH_GATEWAY
# follows gateway/Makefile's presence). Upload the zip at manager.pgxn.org.
# Usage: deploy/pgxn/dist.sh [OUT_DIR]   (default build/dist)
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-build/dist}
control=$(sed -n "s/^default_version = '\(.*\)'/\1/p" livestore.control)
meta=$(sed -n 's/^   "version": "\(.*\)",$/\1/p' META.json)
provides=$(sed -n 's/^         "version": "\(.*\)"$/\1/p' META.json)
[ "$meta" = "$control" ] && [ "$provides" = "$control" ] ||
  { echo "dist: META.json says $meta/$provides, livestore.control $control: update META.json" >&2; exit 1; }
[ -f "extension/sql/livestore--$control.sql" ] || { echo "dist: no extension/sql/livestore--$control.sql" >&2; exit 1; }
command -v zip >/dev/null && command -v unzip >/dev/null || {
  [ "$(id -u)" = 0 ] || { echo "dist: zip or unzip is missing (apt-get install zip unzip)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zip unzip >/dev/null
}
name=livestore-$control
stage=$OUT/stage
rm -rf "$stage" "$OUT/$name.zip"
mkdir -p "$stage/$name"
sh deploy/source-files.sh | tr '\0' '\n' |
  grep -E '^(META\.json|Makefile|livestore\.control|README\.md|SECURITY\.md|extension/|sql/|expected/|specs/|test/regress\.conf$)' |
  tr '\n' '\0' | tar --null -T - -cf - | tar -C "$stage/$name" -xf -
(cd "$stage" && zip -qrX "../$name.zip" "$name")
rm -rf "$stage"
echo "dist: $OUT/$name.zip ($(unzip -Z1 "$OUT/$name.zip" | grep -vc '/$') files)"

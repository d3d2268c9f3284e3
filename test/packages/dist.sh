#!/usr/bin/env bash
# The PGXN release as PGXN's client uses it: unpack the zip, check META.json
# (the spec's required fields, versions equal to livestore.control's, the
# provided file present), then `make` and `make install` with PGXS into a
# staging folder: the extension's files, and nothing of the gateway.
# Usage: dist.sh [ZIP]   (default: build/dist/livestore-VERSION.zip)
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" livestore.control)
ZIP=${1:-build/dist/livestore-$VERSION.zip}
TMP=$(mktemp -d /tmp/livestore-dist.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
unzip -q "$ZIP" -d "$TMP"
DIR=$TMP/livestore-$VERSION
[ -d "$DIR" ] || { echo "dist: no top folder livestore-$VERSION in $ZIP" >&2; exit 1; }
node -e '
  const [dir, version] = process.argv.slice(1)
  const m = JSON.parse(require("fs").readFileSync(dir + "/META.json", "utf8"))
  for (const k of ["name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"])
    if (m[k] === undefined) throw new Error("META.json: no " + k)
  if (m.name !== "livestore" || m.version !== version) throw new Error(`META.json: ${m.name} ${m.version}, expected livestore ${version}`)
  for (const [ext, p] of Object.entries(m.provides)) {
    if (!/^\d+\.\d+\.\d+$/.test(p.version) || !p.file || !p.abstract) throw new Error("META.json: provides." + ext + " incomplete")
    require("fs").accessSync(dir + "/" + p.file)
  }
  if (m["meta-spec"].version !== "1.0.0") throw new Error("META.json: meta-spec " + m["meta-spec"].version)
  console.log(`  META.json: ${m.name} ${m.version}, provides ${Object.keys(m.provides).join(", ")}`)
' "$DIR" "$VERSION"
[ ! -e "$DIR/gateway" ] || { echo "dist: the zip holds the gateway" >&2; exit 1; }
echo "  make && make install (PGXS) in the unpacked release"
make -s -C "$DIR" >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; exit 1; }
make -s -C "$DIR" install DESTDIR="$TMP/root" >>"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; exit 1; }
libdir=$(pg_config --pkglibdir) sharedir=$(pg_config --sharedir)
for f in "$libdir/livestore.so" "$sharedir/extension/livestore.control" "$sharedir/extension/livestore--$VERSION.sql"; do
  [ -f "$TMP/root$f" ] || { echo "dist: make install did not install $f" >&2; exit 1; }
done
! find "$TMP/root" -name 'livestore-gateway*' | grep -q . || { echo "dist: make install installed the gateway" >&2; exit 1; }
echo "  installed: $(cd "$TMP/root" && find . -type f | sort | tr '\n' ' ')"

#!/usr/bin/env bash
# `make test-packages`: what operators install, built and tried the way they
# would (about 10-15 minutes on 2 cores; not part of `make test`):
#   make deb      Debian packages (debhelper, pg_buildext), lintian without errors
#   make image    the gateway's image (buildah; base from debootstrap when no registry has it)
#   make dist     the PGXN zip
# then the debs on a clean Debian 12 (CREATE EXTENSION, the gateway from its
# unit), the image with real LiveStore clients, and the PGXN zip built by PGXS.
# Needs root (debootstrap, buildah). One closing line: N passed, N failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
[ "$(id -u)" = 0 ] || { echo "make test-packages: run as root (debootstrap, buildah, dpkg-buildpackage)" >&2; exit 1; }
sh test/install-deps.sh || exit 1
source test/lib/cluster.sh
let_postgres_reach "$ROOT"

passed=0 failed=0 failures=""
suite() {  # suite NAME COMMAND...
  local name="$1" t0=$SECONDS; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures, $name"; fi
  echo "    ($((SECONDS - t0)) s)"
}

# The image test's Postgres runs the extension of this tree, as in `make test`.
echo "=== build"
make -s WERROR=-Werror || exit 1
make -s install >/dev/null || exit 1
if [ ! -d test/e2e/node_modules ] || [ test/e2e/package-lock.json -nt test/e2e/node_modules/.package-lock.json ]; then
  (cd test/e2e && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

suite "make deb (dpkg-buildpackage; lintian: no error)" timeout 1800 make -s deb
suite "make image (buildah; debian:bookworm-slim from debootstrap)" timeout 1800 make -s image
suite "make dist (PGXN zip)" timeout 300 make -s dist
suite "debs on a clean Debian 12: smoke, CREATE EXTENSION, the gateway from its unit" timeout 900 bash test/packages/debs.sh build/deb
suite "image: the gateway with real LiveStore clients, HEALTHCHECK" timeout 600 node --test --test-concurrency=1 test/packages/
suite "PGXN zip: META.json, make && make install" timeout 600 bash test/packages/dist.sh
suite "compose.yaml, and its Electric variant (docker-compose config)" timeout 300 bash test/packages/compose.sh

echo
[ "$failed" -gt 0 ] && echo "failed suites: ${failures#, }"
echo "make test-packages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# `make test`: every test the project has, on a fresh machine. Installs what
# is missing (Debian packages as root, npm packages from the lock file),
# builds with -Werror, then runs each suite and prints one closing line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
sh test/install-deps.sh || exit 1
source test/lib/cluster.sh
let_postgres_reach "$ROOT"  # pg_regress reads sql/ and expected/ as postgres

passed=0 failed=0 failures=""
suite() {  # suite NAME COMMAND...
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $name"; fi
}

echo "=== build"
make -s WERROR=-Werror || exit 1
make -s install >/dev/null || exit 1
for pkg in test/e2e test/electric-sim test/electric-client examples/worker; do
  if [ ! -d $pkg/node_modules ] || [ $pkg/package-lock.json -nt $pkg/node_modules/.package-lock.json ]; then
    (cd $pkg && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
done
sh test/browser/setup.sh || exit 1

suite "gateway unit tests" make -s -C gateway unit-test
suite "gateway fuzz smoke (libFuzzer)" make -s -C gateway fuzz-smoke
suite "extension (pg_regress, isolation, append race)" bash test/extension/run.sh
suite "gateway over HTTP" node --test --test-concurrency=1 test/gateway/
# The new library under the previous release's SQL (a package upgrade before
# ALTER EXTENSION): the gateway LISTENs and hooks' stores must still NOTIFY.
suite "gateway on extension 0.2.0 SQL (before ALTER EXTENSION UPDATE)" \
  env LIVESTORE_TEST_EXTENSION_VERSION=0.2.0 node --test --test-concurrency=1 test/gateway/hooks.test.mjs test/gateway/push.test.mjs
suite "end to end (real LiveStore client)" node --test --test-concurrency=1 test/e2e/
suite "/v1/shape with the official Electric client" node --test --test-concurrency=1 test/electric-client/
suite "worker example (exactly once across SIGKILLs)" node --test --test-concurrency=1 examples/worker/test/
suite "fault injection (kill -9, Postgres restarts, terminated backends, Electric faults)" node --test --test-concurrency=1 test/faults/
suite "browser (TodoMVC example, headless chromium)" node --test --test-concurrency=1 test/browser/

echo
[ "$failed" -gt 0 ] && echo "failed suites:$failures"
echo "make test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

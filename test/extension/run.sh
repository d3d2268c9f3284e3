#!/usr/bin/env bash
# Every test of the extension: build and install it, pg_regress and the
# isolation specs (make installcheck, on temporary instances), a crash scan
# of their server logs, the libpq race test on a throwaway cluster, and the
# upgrade path from the oldest released version (upgrade.sh), and
# import_rows of 1,000,000 rows with bounded memory (import_million.sh).
# Run as root (the clusters then run as `postgres`) or as a user who can
# `make install`. Ends with `extension: N passed, N failed` (suites).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
source test/lib/cluster.sh
source test/lib/ports.sh

OUT=${TEST_OUT:-$ROOT/build/test}    # TEST_OUT of the Makefile; set it to run twice at once
RACE_DIR=$OUT/race
passed=0 failed=0

suite() {  # suite NAME COMMAND...: runs one suite and counts it
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); echo "--- $name: ok"
  else failed=$((failed + 1)); echo "--- $name: FAILED"; fi
}

summary() {
  echo "extension: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit
}

# The gateway has its own tests: a broken gateway build must not stop these.
build() {
  make -o gateway -o install-gateway && make -o gateway -o install-gateway install >/dev/null &&
    make -C test/extension OUT="$OUT/extension"
}

# pg_regress writes only below $OUT, which the postgres user must own.
prepare_out() {
  cluster_stop "$RACE_DIR"   # left running by an interrupted run
  cluster_stop "$OUT/upgrade"
  cluster_stop "$OUT/import"
  rm -rf "$OUT/regress" "$OUT/isolation" "$RACE_DIR" "$OUT/upgrade" "$OUT/import"
  mkdir -p "$OUT"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$OUT"; fi
}

# installcheck_part regress|isolation: one half of `make installcheck`.
installcheck_part() {
  local part=$1 only
  if [ "$part" = regress ]; then only=(ISOLATION=); else only=(REGRESS=); fi
  as_pg make --no-print-directory installcheck "${only[@]}" TEST_OUT="$OUT" && return 0
  cat "$OUT/$part/regression.diffs" 2>/dev/null
  return 1
}

crash_scan() {
  local log rc=0
  for log in "$OUT"/regress/log/postmaster.log "$OUT"/isolation/log/postmaster.log; do
    if [ -f "$log" ]; then cluster_crash_scan "$log" || rc=1; else echo "missing $log"; rc=1; fi
  done
  return $rc
}

# The race test checks logic, not durability: fsync off keeps it well inside
# its 120 s limit.
race() {
  local port rc
  port=$(free_port $((20000 + RANDOM % 30000))) || return 1  # random start: parallel runs
  PG_FSYNC=off cluster_start "$RACE_DIR" "$port" || return 1
  trap 'cluster_stop "$RACE_DIR"' EXIT
  "$OUT/extension/append_race" "host=$RACE_DIR port=$port user=postgres dbname=postgres"
  rc=$?
  cluster_stop "$RACE_DIR"
  trap - EXIT
  cluster_crash_scan "$RACE_DIR/postgres.log" || rc=1
  return $rc
}

suite build build
[ "$failed" = 0 ] || summary
prepare_out
suite regress installcheck_part regress
suite isolation installcheck_part isolation
suite crash-scan crash_scan
suite race race
suite upgrade bash test/extension/upgrade.sh "$OUT"
suite import-1M bash test/extension/import_million.sh "$OUT"
summary

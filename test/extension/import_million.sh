#!/usr/bin/env bash
# import_rows of 1,000,000 rows, in one transaction with capture as the
# README recommends: the importing backend's private memory stays that of a
# batch (sampled from /proc while it runs), and the store holds every row
# exactly once, in primary-key order, chained 1..1,000,000.
# Usage: import_million.sh OUT_DIR [ROWS]
set -u
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/ports.sh
OUT=$1
ROWS=${2:-1000000}
LIMIT_KB=${IMPORT_RSS_LIMIT_KB:-65536}  # private memory; one batch of 1,000 rows is well under 1 MB
DIR=$OUT/import
cluster_stop "$DIR"
rm -rf "$DIR"
mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$OUT" "$DIR"
PORT=$(free_port $((20000 + RANDOM % 30000)))
PG_FSYNC=off cluster_start "$DIR" "$PORT" || exit 1
trap 'cluster_stop "$DIR"' EXIT
q() { as_pg "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres "$@"; }
fail() { echo "import: $*" >&2; exit 1; }

q -c "CREATE EXTENSION livestore" \
  -c "CREATE TABLE legacy_orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)" \
  -c "INSERT INTO legacy_orders SELECT g, 'customer ' || (g % 977), (g % 10000) / 100.0 FROM generate_series(1, $ROWS) g" \
  -c "VACUUM ANALYZE legacy_orders" || fail "setup failed"

# The import runs in the background; its backend is sampled meanwhile.
q -c "SELECT pg_backend_pid()" -c "BEGIN" \
  -c "SELECT livestore.capture('legacy_orders', 'orders', 'v1.Order')" \
  -c "SELECT livestore.import_rows('legacy_orders', 'orders', 'v1.Order', 1000)" \
  -c "COMMIT" >"$DIR/import.out" 2>&1 &
job=$!
pid=""
for _ in $(seq 1 100); do pid=$(head -1 "$DIR/import.out" 2>/dev/null); [ -n "$pid" ] && break; sleep 0.1; done
[ -n "$pid" ] || fail "no backend pid"
start=$(date +%s.%N) peak=0 samples=0
while kill -0 "$job" 2>/dev/null; do
  kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  if [ -n "$kb" ]; then samples=$((samples + 1)); [ "$kb" -gt "$peak" ] && peak=$kb; fi
  sleep 0.5
done
wait "$job" || { cat "$DIR/import.out"; fail "import failed"; }
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
imported=$(sed -n 3p "$DIR/import.out")
[ "$imported" = "$ROWS" ] || { cat "$DIR/import.out"; fail "import_rows returned '$imported', not $ROWS"; }
echo "imported $ROWS rows in $secs s ($(awk -v n="$ROWS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') rows/s); backend private memory peak ${peak} kB over $samples samples"
[ "$samples" -ge 3 ] || fail "too few memory samples ($samples)"
[ "$peak" -lt "$LIMIT_KB" ] || fail "backend private memory reached ${peak} kB (limit ${LIMIT_KB} kB)"

# Exactly once, in key order, no gap; then a change follows the import.
check=$(q -c "SELECT livestore.head('orders')" -c "
  SELECT count(*), count(DISTINCT (args->'new'->>'id')),
         count(*) FILTER (WHERE (args->'new'->>'id')::bigint <> \"seqNum\"),
         count(*) FILTER (WHERE \"parentSeqNum\" <> \"seqNum\" - 1 OR name <> 'v1.OrderInserted')
    FROM eventlog_6_orders" \
  -c "UPDATE legacy_orders SET total = 0 WHERE id = 42" \
  -c "SELECT name, args->'new'->>'id' FROM eventlog_6_orders WHERE \"seqNum\" = $((ROWS + 1))")
expected="$ROWS
$ROWS|$ROWS|0|0
v1.OrderUpdated|42"
[ "$check" = "$expected" ] || { echo "got:"; echo "$check"; echo "expected:"; echo "$expected"; fail "the store does not hold every row once, in order"; }
cluster_crash_scan "$DIR/postgres.log" || exit 1
echo "import: ok ($ROWS events 1..$ROWS, one per row in key order, then the captured change)"

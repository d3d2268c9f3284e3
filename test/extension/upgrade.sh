#!/usr/bin/env bash
# The extension's upgrade path, as users meet it: a database at the oldest
# released version holding stores (one of them an adopted reference-server
# table), the new library loaded under the old SQL, then
# `ALTER EXTENSION livestore UPDATE` step by step to the newest version; and
# a second database the same from the previous release (its last step alone).
# Checks: no data touched (heads, handles, rows), the upgraded catalog equals
# a fresh install's object for object, then the whole pg_regress suite runs
# against the upgraded database.
# Usage: upgrade.sh OUT_DIR (a folder the postgres user may write).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
source test/lib/cluster.sh
source test/lib/ports.sh
OUT=$1
DIR=$OUT/upgrade
cluster_stop "$DIR"
rm -rf "$DIR"
mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$OUT" "$DIR"
PORT=$(free_port $((20000 + RANDOM % 30000)))
PG_FSYNC=off cluster_start "$DIR" "$PORT" || exit 1
trap 'cluster_stop "$DIR"' EXIT
psql_as() {  # psql_as DB [psql args...]
  local db=$1; shift
  as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d "$db" "$@"
}
fail() { echo "upgrade: $*" >&2; exit 1; }

versions=$(ls extension/sql/ | sed -nE 's/^livestore--([0-9.]+)\.sql$/\1/p' | sort -V)
oldest=$(echo "$versions" | head -1)
newest=$(sed -nE "s/^default_version = '(.*)'/\1/p" livestore.control)
echo "install scripts: $(echo $versions); upgrading $oldest -> $newest"

previous=$(echo "$versions" | grep -vx "$newest" | tail -1)
psql_as postgres -c "CREATE DATABASE upgraded" -c "CREATE DATABASE fresh" -c "CREATE DATABASE from_previous" || exit 1
fill() {  # fill DB VERSION: stores with events, an adopted reference table
psql_as "$1" <<SQL >"$DIR/fill-$1.out" || { cat "$DIR/fill-$1.out"; fail "filling the $2 database $1 failed"; }
CREATE EXTENSION livestore VERSION '$2';
-- A log the reference JavaScript server made, adopted in place.
CREATE TABLE public.eventlog_6_ref ("seqNum" integer PRIMARY KEY, "parentSeqNum" integer, "name" text NOT NULL,
  "args" jsonb NOT NULL, "clientId" text NOT NULL, "sessionId" text NOT NULL);
INSERT INTO eventlog_6_ref SELECT s, s - 1, 'v1.Ref', jsonb_build_object('n', s), 'ref', 'ref' FROM generate_series(1, 250) s;
SELECT livestore.create_store('ref');
SELECT livestore.create_store('todos-1');
SELECT livestore.append('todos-1', (SELECT jsonb_agg(jsonb_build_object('name', 'v1.TodoCreated',
  'args', jsonb_build_object('id', s, 'text', 'item ' || s), 'seqNum', s, 'parentSeqNum', s - 1,
  'clientId', 'c', 'sessionId', 's') ORDER BY s) FROM generate_series(1, 1000) s));
SELECT livestore.create_store('empty');
SQL
}
fill upgraded "$oldest"
fill from_previous "$previous"

snapshot() {  # the data the upgrade must not touch (in database ${1:-upgraded})
  psql_as "${1:-upgraded}" -At -c "SELECT store_id, table_name, livestore.head(store_id), handle, created_at FROM livestore.stores ORDER BY 1" \
    -c "SELECT md5(string_agg(e::text, '|' ORDER BY \"seqNum\")) FROM eventlog_6_ref e" \
    -c "SELECT md5(string_agg(e::text, '|' ORDER BY \"seqNum\")) FROM eventlog_6_todos_1 e"
}
before=$(snapshot) || fail "snapshot failed"

# The new library under the old SQL (what a package upgrade does before
# anyone runs ALTER EXTENSION): appends keep working, no hooks are looked for.
psql_as upgraded -At -c "SELECT livestore.append('ref', '[{\"name\":\"v1.Old\",\"args\":{},\"seqNum\":251,\"parentSeqNum\":250,\"clientId\":\"c\",\"sessionId\":\"s\"}]')" \
  | grep -qx 251 || fail "append with the new library under $oldest SQL failed"
before=$(snapshot)

prev=$oldest
for v in $versions; do
  [ "$(printf '%s\n%s\n' "$v" "$prev" | sort -V | head -1)" = "$v" ] && continue  # not newer
  psql_as upgraded -c "ALTER EXTENSION livestore UPDATE TO '$v'" || fail "ALTER EXTENSION UPDATE TO $v failed"
  echo "updated $prev -> $v"
  prev=$v
done
[ "$prev" = "$newest" ] || fail "reached $prev, not the default version $newest"
got=$(psql_as upgraded -At -c "SELECT extversion FROM pg_extension WHERE extname = 'livestore'")
[ "$got" = "$newest" ] || fail "extversion is $got after the update"
after=$(snapshot)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "the update changed stored data"; }
echo "data unchanged: $(echo "$before" | wc -l) lines compared (stores, heads, handles, row checksums)"

# events() (C since 0.4.0) reads the upgraded logs, the adopted one too, as
# they are stored: every row, in order, by pages.
events_match() {  # events_match DB
  psql_as "$1" -At <<'SQL'
SELECT s.store_id || ' ' || ((SELECT count(*) FROM livestore.events(s.store_id, 0, 100000))::text) || ' '
       || ((SELECT md5(coalesce(string_agg(e::text, '|' ORDER BY e."seqNum"), '')) FROM livestore.events(s.store_id, 0, 100000) e)
           = (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p."seqNum"), ''))
                FROM generate_series(0, 1100, 100) a, LATERAL livestore.events(s.store_id, a, 100) p))::text
  FROM livestore.stores s ORDER BY 1;
SELECT md5(string_agg(e::text, '|' ORDER BY "seqNum")) FROM livestore.events('ref', 0, 100000) e;
SELECT md5(string_agg(e::text, '|' ORDER BY "seqNum")) FROM eventlog_6_ref e;
SQL
}
check_events() {  # check_events DB REF_ROWS
  local out
  out=$(events_match "$1") || fail "events() on the upgraded database $1 failed"
  [ "$(echo "$out" | head -3 | tr '\n' ' ')" = "empty 0 true ref $2 true todos-1 1000 true " ] \
    && [ "$(echo "$out" | sed -n 4p)" = "$(echo "$out" | sed -n 5p)" ] \
    || { echo "$out"; fail "events() on the upgraded database $1 does not read the logs as stored"; }
  echo "events() on $1 after the update: every store's rows, in order, whole and by pages of 100"
}
check_events upgraded 251

# From the previous release: its one update step, the same data after it.
before_prev=$(snapshot from_previous) || fail "snapshot failed"
psql_as from_previous -c "ALTER EXTENSION livestore UPDATE" || fail "ALTER EXTENSION UPDATE from $previous failed"
[ "$(psql_as from_previous -At -c "SELECT extversion FROM pg_extension WHERE extname = 'livestore'")" = "$newest" ] \
  || fail "from_previous did not reach $newest"
[ "$before_prev" = "$(snapshot from_previous)" ] || fail "the update from $previous changed stored data"
check_events from_previous 250
echo "updated $previous -> $newest on a second database: data unchanged, events() reads it"

# The upgraded catalog equals a fresh install's.
psql_as fresh -c "CREATE EXTENSION livestore" || fail "fresh install failed"
catalog() {
  psql_as "$1" -At <<'SQL'
SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'livestore') ORDER BY 1;
SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_function_result(p.oid) || ' ' || p.provolatile::text
       || p.proisstrict || p.prosecdef || ' ' || coalesce(p.proconfig::text, '') || ' ' || coalesce(p.proacl::text, '')
       || ' ' || md5(p.prosrc)
  FROM pg_proc p WHERE p.pronamespace = 'livestore'::regnamespace ORDER BY 1;
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
       || a.attnotnull || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '') || ' ' || a.attidentity::text
  FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'livestore'::regnamespace AND relkind = 'r')
   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1;
SELECT 'acl ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '') FROM pg_class c
 WHERE c.relnamespace = 'livestore'::regnamespace ORDER BY 1;
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'livestore'::regnamespace ORDER BY 1;
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger
 WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'livestore'::regnamespace) ORDER BY 1;
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regproc || ' ' || evtenabled::text
  FROM pg_event_trigger ORDER BY 1;
SELECT 'config ' || extconfig::regclass[]::text FROM pg_extension WHERE extname = 'livestore';
SQL
}
catalog fresh > "$DIR/catalog.fresh" && catalog upgraded > "$DIR/catalog.upgraded" || fail "reading the catalogs failed"
diff "$DIR/catalog.fresh" "$DIR/catalog.upgraded" > "$DIR/catalog.diff" \
  || { cat "$DIR/catalog.diff"; fail "the upgraded catalog differs from a fresh install (< fresh, > upgraded)"; }
catalog from_previous > "$DIR/catalog.from_previous" || fail "reading the catalogs failed"
diff "$DIR/catalog.fresh" "$DIR/catalog.from_previous" \
  || fail "the catalog updated from $previous differs from a fresh install (< fresh, > updated)"
echo "catalog equal to a fresh install: $(wc -l < "$DIR/catalog.fresh") objects and properties compared (from $oldest and from $previous)"

# The upgraded extension works on the upgraded data: appends on the old
# heads, emit, hooks.
psql_as upgraded -At <<'SQL' > "$DIR/use.out" || { cat "$DIR/use.out"; fail "using the upgraded extension failed"; }
CREATE TABLE ref_count (store text PRIMARY KEY, n int);
CREATE FUNCTION count_events(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO ref_count VALUES (store_id, jsonb_array_length(events))
  ON CONFLICT (store) DO UPDATE SET n = ref_count.n + excluded.n $$;
SELECT livestore.add_hook('%', 'count_events(text, jsonb)');
SELECT livestore.append('todos-1', '[{"name":"v1.TodoCompleted","args":{"id":1},"seqNum":1001,"parentSeqNum":1000,"clientId":"c","sessionId":"s"}]');
SELECT livestore.emit('ref', '[{"name":"v1.FromSql"}]');
SELECT string_agg(store || '=' || n, ',' ORDER BY store) FROM ref_count;
SELECT livestore.drop_hook('%', 'count_events(text, jsonb)');
SQL
[ "$(grep -v '^$' "$DIR/use.out" | tr '\n' ' ')" = "1001 252 ref=1,todos-1=1 " ] \
  || { cat "$DIR/use.out"; fail "unexpected results on the upgraded database"; }
echo "upgraded database: append on the old head, emit and a hook work"

# The whole regression suite against the upgraded database (its own stores
# and helpers dropped first: the suite expects an empty extension).
psql_as upgraded -c "SELECT livestore.drop_store(store_id) FROM livestore.stores" \
  -c "DROP FUNCTION count_events(text, jsonb)" -c "DROP TABLE ref_count" >/dev/null || fail "cleanup failed"
REGRESS=$(ls sql/*.sql | sed -E 's|sql/(.*)\.sql|\1|' | sort)
mkdir -p "$DIR/regress"
[ "$(id -u)" = 0 ] && chown postgres: "$DIR/regress"
if ! as_pg "$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" --use-existing --dbname=upgraded \
     --host="$DIR" --port="$PORT" --user=postgres --inputdir="$ROOT" --outputdir="$DIR/regress" $REGRESS; then
  cat "$DIR/regress/regression.diffs" 2>/dev/null
  fail "the regression suite fails on the upgraded database"
fi
cluster_crash_scan "$DIR/postgres.log" || exit 1
echo "upgrade: ok"

#!/usr/bin/env bash
# Existing tables as event sources, and workers (issue 10), on a throwaway
# cluster (fsync on; max_wal_size=4GB, checkpoint_timeout=30min, and a
# CHECKPOINT before every measured run, so that checkpoints stay out of the
# measured windows). Three parts, each side measured in every round, the sides
# alternating (the order reversed every other round), each side's median
# reported with the ratio of the medians:
#
#  capture  pgbench INSERTs of 1 and 100 rows per statement into a
#           TodoMVC-like legacy table (id bigserial PRIMARY KEY, title text,
#           completed boolean): rows/s into a plain table against rows/s into
#           the same kind of table captured by livestore.capture(tbl, store,
#           'v1.Legacy'). Every client has its own table (and its own store),
#           so captures of different clients do not wait for each other; the
#           "one table" rows put every client on ONE captured table (and one
#           plain table): writers of one captured table serialize on its
#           store's write lock, which is the worst case. livestore.notify is on,
#           the extension's default (a legacy backend's sessions run it so);
#           BENCH_NOTIFY="on off" adds the captured side with it off (Postgres
#           serializes notifying commits database-wide: this shows that part).
#  import   a table of BENCH_IMPORT_ROWS rows: livestore.import_rows(tbl,
#           store, 'v1.Row', 1000) into a new store, against COPY tbl TO
#           STDOUT (psql, output to /dev/null: reading the rows) and against
#           INSERT INTO a copy SELECT * FROM tbl (writing the same number of
#           rows elsewhere, primary key included). Times from psql's \timing.
#  consume  BENCH_CONSUME_EVENTS events emitted over BENCH_CONSUME_STORES
#           stores, then consumed by 1 and by 4 concurrent workers of a new
#           consumer, each a psql session looping (a DO block, one
#           transaction per iteration) `INSERT INTO processed SELECT store_id,
#           "seqNum" FROM livestore.consume(consumer, 'work\_%', 1000);
#           COMMIT` until the consumer has caught up with every store
#           (events/s from the workers' start to the last one's end). The
#           baseline: one INSERT ... SELECT of the same (store_id, seqNum)
#           pairs straight from the logs into such a table (no consumer, one
#           transaction). processed has UNIQUE (store_id, "seqNum"), so a
#           double fails the worker.
#
# Audits afterwards: every log is 1..max, chained; every captured store holds
# exactly one v1.LegacyInserted event per row of its table, with the row as it
# is in the table; every import store holds one v1.RowInserted per source row,
# likewise, and every copy all the rows; every consumer run processed exactly
# the events emitted, and its consumer is at the head of every store.
# Prints Markdown tables and keeps them in bench/results/ (sql-capture-<stamp>.md).
#
#   BENCH_QUICK=1          short defaults (in brackets below)
#   BENCH_SECONDS          per pgbench run (5 [1])
#   BENCH_ROUNDS           rounds of every capture point and consumer side (3 [1])
#   BENCH_ROWS             rows per INSERT statement ("1 100")
#   BENCH_CLIENTS          pgbench clients, one table and store each ("1 8")
#   BENCH_SHARED_CLIENTS   pgbench clients all on one table ("8"; "" skips)
#   BENCH_NOTIFY           livestore.notify of the captured side ("on"; "on off" adds a side)
#   BENCH_IMPORT_ROWS      rows of the imported table (1000000 [200000])
#   BENCH_IMPORT_BATCH     import_rows' batch_size (1000)
#   BENCH_IMPORT_ROUNDS    import rounds (BENCH_ROUNDS)
#   BENCH_CONSUME_EVENTS   events to consume (200000 [50000])
#   BENCH_CONSUME_STORES   stores they are spread over (20)
#   BENCH_CONSUME_BATCH    max_events per consume call (1000)
#   BENCH_WORKERS          concurrent workers ("1 4")
#   BENCH_PARTS            which parts ("capture import consume")
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sql/lib.sh

QUICK=${BENCH_QUICK:-0}
q() { if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }
SECS=${BENCH_SECONDS:-$(q 1 5)}
ROUNDS=${BENCH_ROUNDS:-$(q 1 3)}
ROWS=${BENCH_ROWS:-1 100}
CLIENTS=${BENCH_CLIENTS:-1 8}
SHARED=${BENCH_SHARED_CLIENTS-8}
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-$(q 200000 1000000)}
IMPORT_BATCH=${BENCH_IMPORT_BATCH:-1000}
IMPORT_ROUNDS=${BENCH_IMPORT_ROUNDS:-$ROUNDS}
EVENTS=${BENCH_CONSUME_EVENTS:-$(q 50000 200000)}
STORES=${BENCH_CONSUME_STORES:-20}
CONSUME_BATCH=${BENCH_CONSUME_BATCH:-1000}
WORKERS=${BENCH_WORKERS:-1 4}
NOTIFY=${BENCH_NOTIFY:-on}
PARTS=${BENCH_PARTS:-capture import consume}
for m in $NOTIFY; do [ "$m" = on ] || [ "$m" = off ] || { echo "BENCH_NOTIFY: on and/or off, not $m" >&2; exit 2; }; done
part() { [[ " $PARTS " == *" $1 "* ]]; }
for n in "$IMPORT_ROWS" "$IMPORT_BATCH" "$IMPORT_ROUNDS" "$EVENTS" "$STORES" "$CONSUME_BATCH" "$ROUNDS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $n" >&2; exit 2; }
done
[ "$EVENTS" -ge "$STORES" ] || { echo "BENCH_CONSUME_EVENTS must be at least BENCH_CONSUME_STORES" >&2; exit 2; }
log() { echo "[capture $(date +%H:%M:%S)] $*" >&2; }

bench_cluster sql-capture max_wal_size=4GB checkpoint_timeout=30min
sql -c 'CREATE EXTENSION livestore'

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per_s() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }  # ROWS MS
# Runs one statement after a CHECKPOINT; prints its server round trip in ms
# (psql's \timing; a COPY's rows go to /dev/null through psql).
timed_ms() {
  local out
  sql -c CHECKPOINT
  out=$(sql -o /dev/null -c '\timing on' -c "$1") || return 1
  sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | tail -1
}
report="# livestore capture, import and consumers (issue 10; pgbench and psql, fsync on)

$(run_context | sed "s/median of $ROUNDS run(s) of $SECS s per point/median of $ROUNDS round(s) per side/")
"

# ---- capture ---------------------------------------------------------------
# legacy_table NAME: the TodoMVC-like table an old backend writes.
legacy_table() { echo "CREATE TABLE $1 (id bigserial PRIMARY KEY, title text, completed boolean);"; }
# insert_script TABLE N: one INSERT of N rows, as an app writes them.
insert_script() {
  local i items=()
  for i in $(seq "$2"); do items+=("('todo $i buy some milk', $([ $((i % 3)) = 0 ] && echo true || echo false))"); done
  (IFS=,; echo "INSERT INTO $1 (title, completed) VALUES ${items[*]};")
}
if part capture; then
  table="| rows per INSERT | clients | tables | livestore.notify | plain INSERT rows/s | captured INSERT rows/s | captured / plain |
|---:|---:|:---|:---:|---:|---:|---:|"
  points=()  # rows:clients:own|one
  for b in $ROWS; do
    for c in $CLIENTS; do points+=("$b:$c:own"); done
    for c in $SHARED; do points+=("$b:$c:one"); done
  done
  for p in "${points[@]}"; do
    IFS=: read -r b c mode <<<"$p"
    point="b${b}_c${c}_$mode"
    if [ "$mode" = own ]; then
      {
        for i in $(seq 0 $((c - 1))); do
          legacy_table "plain_${point}_$i"; legacy_table "cap_${point}_$i"
          echo "SELECT livestore.capture('cap_${point}_$i', 'cap_${point}_$i', 'v1.Legacy');"
        done
      } | sql >/dev/null
      insert_script "plain_${point}_:client_id" "$b" >"$DIR/scripts/plain_$point.sql"
      insert_script "cap_${point}_:client_id" "$b" >"$DIR/scripts/cap_$point.sql"
    else
      { legacy_table "plain_$point"; legacy_table "cap_$point"
        echo "SELECT livestore.capture('cap_$point', 'cap_$point', 'v1.Legacy');"; } | sql >/dev/null
      insert_script "plain_$point" "$b" >"$DIR/scripts/plain_$point.sql"
      insert_script "cap_$point" "$b" >"$DIR/scripts/cap_$point.sql"
    fi
    sides=(plain); for m in $NOTIFY; do sides+=("cap_$m"); done
    declare -A runs=()
    for r in $(seq "$ROUNDS"); do
      order=("${sides[@]}")
      if [ $((r % 2)) = 0 ]; then order=(); for s in "${sides[@]}"; do order=("$s" "${order[@]}"); done; fi
      for side in "${order[@]}"; do
        opts=""; [ "$side" = cap_off ] && opts="-c livestore.notify=off"
        v=$(run_point "$DIR/scripts/${side%_*}_$point.sql" "$b" "$c" "$opts")
        runs[$side]+="$v"$'\n'
        log "round $r, $b rows per INSERT, $c clients, $([ "$mode" = own ] && echo "a table each" || echo "one table"), $side: $v rows/s"
      done
    done
    plain=$(median <<<"${runs[plain]%$'\n'}")
    for m in $NOTIFY; do
      cap=$(median <<<"${runs[cap_$m]%$'\n'}")
      table+=$'\n'"| $b | $c | $([ "$mode" = own ] && echo "one per client" || echo "one for all") | $m | $plain | $cap | $(ratio "$cap" "$plain") |"
    done
    unset runs
  done
  report+="
## Capture: INSERT into a captured table against a plain one

pgbench, $SECS s per run; every row becomes one v1.LegacyInserted event (one emit per statement). \"one per
client\": each client inserts into a table of its own, captured into a store of its own; \"one for all\": every
client inserts into the same table (captured writers then commit one after the other: the store's write lock).
livestore.notify as the captured writers' sessions set it (the plain side sends no NOTIFY either way).

$table
"
fi

# ---- import ------------------------------------------------------------------
if part import; then
  log "import: building a table of $IMPORT_ROWS rows"
  sql >/dev/null <<EOF
$(legacy_table legacy_import | sed 's/bigserial/bigint/')
INSERT INTO legacy_import SELECT g, 'todo number ' || g || ' buy some milk', g % 3 = 0 FROM generate_series(1, $IMPORT_ROWS) g;
VACUUM ANALYZE legacy_import;
SELECT count(*) FROM legacy_import;
EOF
  declare -A runs=([imp]="" [copy]="" [ins]="")
  for r in $(seq "$IMPORT_ROUNDS"); do
    sql -c "CREATE TABLE copy_r$r (LIKE legacy_import INCLUDING ALL)"
    if [ $((r % 2)) = 1 ]; then iorder="imp copy ins"; else iorder="ins copy imp"; fi
    for side in $iorder; do
      case $side in
        imp) ms=$(timed_ms "SELECT livestore.import_rows('legacy_import', 'import_r$r', 'v1.Row', $IMPORT_BATCH)") ;;
        copy) ms=$(timed_ms "COPY legacy_import TO STDOUT") ;;
        ins) ms=$(timed_ms "INSERT INTO copy_r$r SELECT * FROM legacy_import") ;;
      esac
      [ -n "$ms" ] || { echo "import round $r, $side: no time measured" >&2; exit 1; }
      runs[$side]+="$(per_s "$IMPORT_ROWS" "$ms")"$'\n'
      log "import round $r, $side: $ms ms, $(per_s "$IMPORT_ROWS" "$ms") rows/s"
    done
  done
  imp=$(median <<<"${runs[imp]%$'\n'}") copy=$(median <<<"${runs[copy]%$'\n'}") ins=$(median <<<"${runs[ins]%$'\n'}")
  unset runs
  imp_s=$(awk -v n="$IMPORT_ROWS" -v r="$imp" 'BEGIN { printf "%.1f", n / r }')
  report+="
## Import: import_rows against COPY and INSERT ... SELECT

A table of $IMPORT_ROWS rows (id bigint PRIMARY KEY, title, completed), median of $IMPORT_ROUNDS round(s), the
sides alternating; import_rows emits into a new store each round, batch_size $IMPORT_BATCH. COPY TO STDOUT reads
the rows (through psql, to /dev/null); INSERT ... SELECT writes the same rows into an empty copy of the table.

| rows | batch | import_rows rows/s | import_rows s | COPY TO STDOUT rows/s | INSERT ... SELECT rows/s | import / COPY | import / INSERT |
|---:|---:|---:|---:|---:|---:|---:|---:|
| $IMPORT_ROWS | $IMPORT_BATCH | $imp | $imp_s | $copy | $ins | $(ratio "$imp" "$copy") | $(ratio "$imp" "$ins") |
"
fi

# ---- consume -------------------------------------------------------------------
consume_worker() {  # CONSUMER TABLE: one worker, until the consumer has caught up
  sql <<EOF
DO \$\$
DECLARE n bigint; total bigint := 0; calls integer := 0; empty integer := 0;
BEGIN
  LOOP
    INSERT INTO $2 SELECT store_id, "seqNum" FROM livestore.consume('$1', 'work\\_%', $CONSUME_BATCH);
    GET DIAGNOSTICS n = ROW_COUNT;
    COMMIT;
    calls := calls + 1;
    total := total + n;
    IF n = 0 THEN
      -- Nothing for this worker: done if the consumer is at every head, or
      -- another worker holds what is left (or is creating the positions).
      EXIT WHEN (SELECT count(*) FROM livestore.list_consumers() c
                  WHERE c.consumer = '$1' AND c.store_id LIKE 'work\\_%' AND c.behind = 0) = $STORES;
      empty := empty + 1;
      PERFORM pg_sleep(0.002);
    END IF;
  END LOOP;
  RAISE NOTICE 'worker: % events in % calls (% empty)', total, calls, empty;
END \$\$;
EOF
}
if part consume; then
  log "consume: emitting $EVENTS events into $STORES stores"
  sql >/dev/null <<EOF
DO \$\$
DECLARE s integer; k integer; n integer;
BEGIN
  FOR s IN 1..$STORES LOOP
    n := $EVENTS / $STORES + CASE WHEN s <= $EVENTS % $STORES THEN 1 ELSE 0 END;
    k := 0;
    WHILE k < n LOOP
      PERFORM livestore.emit('work_' || s, (
        SELECT jsonb_agg(jsonb_build_object('name', 'v1.TodoCreated',
                 'args', jsonb_build_object('id', 'todo-' || s || '-' || g, 'text', 'buy some milk')) ORDER BY g)
          FROM generate_series(k + 1, least(k + 1000, n)) g));
      COMMIT;
      k := k + 1000;
    END LOOP;
  END LOOP;
END \$\$;
VACUUM ANALYZE;
EOF
  [ "$(sql -c "SELECT sum(livestore.head(store_id)) FROM livestore.stores WHERE store_id LIKE 'work\\_%'")" = "$EVENTS" ] ||
    { echo "consume: the stores do not hold $EVENTS events" >&2; exit 1; }
  all_events=$(sql -c "SELECT string_agg(format('SELECT %L, \"seqNum\" FROM %I.%I', store_id, schema_name, table_name),
    ' UNION ALL ') FROM livestore.stores WHERE store_id LIKE 'work\\_%'")
  processed_table() { sql -c "CREATE TABLE $1 (store_id text NOT NULL, \"seqNum\" integer NOT NULL, UNIQUE (store_id, \"seqNum\"))"; }
  sides=(base); for w in $WORKERS; do sides+=("w$w"); done
  declare -A runs=()
  for r in $(seq "$ROUNDS"); do
    order=("${sides[@]}")
    if [ $((r % 2)) = 0 ]; then order=(); for s in "${sides[@]}"; do order=("$s" "${order[@]}"); done; fi
    for side in "${order[@]}"; do
      processed_table "processed_${side}_r$r"
      if [ "$side" = base ]; then
        ms=$(timed_ms "INSERT INTO processed_${side}_r$r $all_events")
      else
        w=${side#w}
        sql -c CHECKPOINT
        pids=()
        t0=$(date +%s%N)
        for _ in $(seq "$w"); do consume_worker "bench_${side}_r$r" "processed_${side}_r$r" & pids+=($!); done
        for pid in "${pids[@]}"; do wait "$pid" || { echo "consume: a worker failed ($side, round $r)" >&2; exit 1; }; done
        ms=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
      fi
      got=$(sql -c "SELECT count(*) FROM processed_${side}_r$r")
      [ "$got" = "$EVENTS" ] || { echo "consume: $side, round $r processed $got events of $EVENTS" >&2; exit 1; }
      runs[$side]+="$(per_s "$EVENTS" "$ms")"$'\n'
      log "consume round $r, $side: $ms ms, $(per_s "$EVENTS" "$ms") events/s"
    done
  done
  base=$(median <<<"${runs[base]%$'\n'}")
  w1=""
  table="| events | stores | max_events | workers | events/s | one INSERT ... SELECT of the same events, rows/s | workers / INSERT | workers / 1 worker |
|---:|---:|---:|---:|---:|---:|---:|---:|"
  for w in $WORKERS; do
    v=$(median <<<"${runs[w$w]%$'\n'}")
    [ "$w" = 1 ] && w1=$v
    table+=$'\n'"| $EVENTS | $STORES | $CONSUME_BATCH | $w | $v | $base | $(ratio "$v" "$base") | $([ -n "$w1" ] && ratio "$v" "$w1" || echo —) |"
  done
  unset runs
  report+="
## Consumers: workers of one consumer draining a backlog

$EVENTS events (v1.TodoCreated) over $STORES stores; each run is a new consumer, its workers psql sessions looping
\`INSERT INTO processed SELECT store_id, \"seqNum\" FROM livestore.consume(consumer, 'work\\_%', $CONSUME_BATCH); COMMIT\`
until the consumer is at every store's head (events/s from their start to the last one's end); processed has
UNIQUE (store_id, \"seqNum\"). The baseline writes the same pairs from the logs in one statement. Median of
$ROUNDS round(s), the sides alternating.

$table
"
fi

# ---- audits ------------------------------------------------------------------------
log "audits"
check_logs
sql <<EOF
DO \$\$
DECLARE c record; rows bigint; events bigint; misnamed bigint; unmatched bigint; n integer := 0;
BEGIN
  -- Captured tables: one v1.LegacyInserted per row, carrying the row as it is.
  -- Import stores: one v1.RowInserted per source row, likewise.
  FOR c IN SELECT l.source::text AS source, 'v1.LegacyInserted' AS name, s.schema_name, s.table_name
             FROM livestore.list_captures() l JOIN livestore.stores s ON s.store_id = l.store_id
           UNION ALL
           SELECT 'legacy_import', 'v1.RowInserted', s.schema_name, s.table_name
             FROM livestore.stores s WHERE s.store_id LIKE 'import\\_r%' LOOP
    EXECUTE format('SELECT (SELECT count(*) FROM %1\$s), (SELECT count(*) FROM %2\$I.%3\$I), '
                   '(SELECT count(*) FROM %2\$I.%3\$I WHERE name <> %4\$L), '
                   '(SELECT count(*) FROM %1\$s t FULL JOIN %2\$I.%3\$I e ON e.args -> ''new'' = to_jsonb(t) '
                   '  WHERE t IS NULL OR e IS NULL)', c.source, c.schema_name, c.table_name, c.name)
      INTO rows, events, misnamed, unmatched;
    IF rows = 0 OR rows <> events OR misnamed <> 0 OR unmatched <> 0 THEN
      RAISE EXCEPTION '%: % rows; %.%: % events, % not named %, % unmatched',
        c.source, rows, c.schema_name, c.table_name, events, misnamed, c.name, unmatched;
    END IF;
    n := n + 1;
  END LOOP;
  -- Copies: every row.
  FOR c IN SELECT relname FROM pg_class WHERE relname LIKE 'copy\\_r%' AND relkind = 'r' LOOP
    EXECUTE format('SELECT count(*) FROM %I', c.relname) INTO rows;
    IF rows <> (SELECT count(*) FROM legacy_import) THEN
      RAISE EXCEPTION '%: % rows', c.relname, rows;
    END IF;
  END LOOP;
  -- Consumers: at the head of every store.
  IF EXISTS (SELECT 1 FROM livestore.list_consumers() WHERE behind <> 0) THEN
    RAISE EXCEPTION 'a consumer is behind: %', (SELECT jsonb_agg(to_jsonb(c)) FROM livestore.list_consumers() c WHERE behind <> 0);
  END IF;
  RAISE NOTICE 'audited % captured or imported stores', n;
END \$\$;
EOF

echo "$report" | tee "$RESULTS/sql-capture-$(date -u +%Y%m%dT%H%M%S).md"

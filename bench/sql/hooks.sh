#!/usr/bin/env bash
# pgbench on a throwaway cluster (fsync on): what hooks and emit() cost
# (issue 9). events/s of, for each batch size and client count, every client
# on its own store, with the same TodoMVC-like events on every side:
#   append    livestore.append, no hook anywhere in its database (the baseline)
#   no-op     livestore.append with a no-op hook (PL/pgSQL `BEGIN END`) on '%'
#   project   livestore.append with a projection hook on '%': one SQL upsert of
#             per-store counts (open, done, events, last seqNum) into bench_stats
#   emit      livestore.emit of the same events without seqNums (no hooks; no
#             head query either: emit numbers them after the head itself)
# Each hook setup is its own database in the cluster, so the baseline's
# database has no hook registered at all. The sides alternate within each
# round (the order reversed every other round); each side's median is
# reported with its ratio to append's. Afterwards every log must be 1..max,
# chained, and every projection must count exactly the events of its log.
# livestore.notify is on, the extension's default (an app that appends from
# SQL runs it that way); BENCH_NOTIFY="on off" adds every side again with
# livestore.notify = off (as the gateway appends). Prints a Markdown table and
# keeps it in bench/results/ (sql-hooks-<stamp>.md).
#   BENCH_SECONDS (5) per run, BENCH_SIZES ("1 10 50"), BENCH_CLIENTS ("1 8"),
#   BENCH_ROUNDS (3) runs per side and point, BENCH_NOTIFY ("on").
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sql/lib.sh

SECS=${BENCH_SECONDS:-5}
SIZES=${BENCH_SIZES:-1 10 50}
CLIENTS=${BENCH_CLIENTS:-1 8}
ROUNDS=${BENCH_ROUNDS:-3}
NOTIFY=${BENCH_NOTIFY:-on}
for m in $NOTIFY; do [ "$m" = on ] || [ "$m" = off ] || { echo "BENCH_NOTIFY: on and/or off, not $m" >&2; exit 2; }; done

bench_cluster sql-hooks
SIDES=(app nop prj emt)
db_of() { case $1 in app | emt) echo plain ;; nop) echo noop ;; prj) echo proj ;; esac; }
for db in plain noop proj; do
  sql -c "CREATE DATABASE $db"
  sql_in $db -c 'CREATE EXTENSION livestore'
done
sql_in noop <<'EOF'
CREATE FUNCTION bench_noop(store text, batch jsonb) RETURNS void LANGUAGE plpgsql AS $$BEGIN END$$;
SELECT livestore.add_hook('%', 'bench_noop(text,jsonb)');
EOF
# A TodoMVC-style read model, small but real: per list, todos open and done.
sql_in proj <<'EOF'
CREATE TABLE bench_stats (
  store_id   text        PRIMARY KEY,
  open       integer     NOT NULL,
  done       integer     NOT NULL,
  events     integer     NOT NULL,
  last_seq   integer     NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE FUNCTION bench_project(store text, batch jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO bench_stats AS s (store_id, open, done, events, last_seq, updated_at)
  SELECT store,
         count(*) FILTER (WHERE e.value->>'name' = 'v1.TodoCreated') - count(*) FILTER (WHERE e.value->>'name' = 'v1.TodoCompleted'),
         count(*) FILTER (WHERE e.value->>'name' = 'v1.TodoCompleted'),
         count(*),
         max((e.value->>'seqNum')::integer),
         now()
    FROM jsonb_array_elements(batch) AS e
  ON CONFLICT ON CONSTRAINT bench_stats_pkey DO UPDATE
    SET open = s.open + excluded.open, done = s.done + excluded.done, events = s.events + excluded.events,
        last_seq = excluded.last_seq, updated_at = excluded.updated_at
$$;
SELECT livestore.add_hook('%', 'bench_project(text,jsonb)');
EOF

# Odd events create a todo, even ones complete the todo created just before.
todo() {
  if [ $(($1 % 2)) = 1 ]; then
    printf '"name":"v1.TodoCreated","args":{"id":"todo-%04d","text":"buy some milk"}' "$1"
  else
    printf '"name":"v1.TodoCompleted","args":{"id":"todo-%04d"}' $(($1 - 1))
  fi
}
parent() { if [ "$1" = 1 ]; then echo ":h"; else echo ":s$(($1 - 1))"; fi; }
append_event() { echo "{$(todo "$1"),\"seqNum\": :s$1,\"parentSeqNum\": $(parent "$1"),\"clientId\":\"bench\",\"sessionId\":\"bench-1\"}"; }
emit_event() { echo "{$(todo "$1"),\"clientId\":\"bench\",\"sessionId\":\"bench-1\"}"; }

# The projection must have counted exactly the events of every log.
check_projection() {
  sql_in proj <<'EOF'
DO $$
DECLARE s record; st bench_stats; n bigint; m integer; created bigint; completed bigint; stores bigint := 0;
BEGIN
  FOR s IN SELECT store_id, schema_name, table_name FROM livestore.stores LOOP
    EXECUTE format('SELECT count(*), coalesce(max("seqNum"), 0), count(*) FILTER (WHERE name = %L), '
                   'count(*) FILTER (WHERE name = %L) FROM %I.%I', 'v1.TodoCreated', 'v1.TodoCompleted',
                   s.schema_name, s.table_name)
      INTO n, m, created, completed;
    SELECT * INTO st FROM bench_stats b WHERE b.store_id = s.store_id;
    IF NOT FOUND OR st.events <> n OR st.last_seq <> m OR st.done <> completed OR st.open <> created - completed THEN
      RAISE EXCEPTION 'store %: % events, head %, % created, % completed; bench_stats: %',
        s.store_id, n, m, created, completed, to_jsonb(st);
    END IF;
    stores := stores + 1;
  END LOOP;
  IF stores = 0 OR stores <> (SELECT count(*) FROM bench_stats) THEN
    RAISE EXCEPTION '% stores, % rows in bench_stats', stores, (SELECT count(*) FROM bench_stats);
  END IF;
END $$;
EOF
}

table="| batch | clients | livestore.notify | append (no hooks) | append + no-op hook | append + projection hook | emit | no-op hook / append | projection hook / append | emit / append |
|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $CLIENTS; do
  for b in $SIZES; do
    keys=()  # side_mode, e.g. prj_off
    for m in $NOTIFY; do
      for side in "${SIDES[@]}"; do
        k=${side}_$m; keys+=("$k")
        prefix="${k}_b${b}_c${c}_"
        sql_in "$(db_of $side)" -c "SELECT livestore.create_store('$prefix' || i) FROM generate_series(0, $((c - 1))) i" >/dev/null
        if [ $side = emt ]; then
          write_script "$b" "" emit_event "SELECT livestore.emit('$prefix:client_id', '[" "]')"
        else
          write_script "$b" "SELECT livestore.head('$prefix:client_id') AS h" append_event \
            "SELECT livestore.append('$prefix:client_id', '[" "]')"
        fi >"$DIR/scripts/$prefix.sql"
      done
    done
    declare -A runs=()
    for r in $(seq "$ROUNDS"); do
      order=("${keys[@]}")
      if [ $((r % 2)) = 0 ]; then order=(); for k in "${keys[@]}"; do order=("$k" "${order[@]}"); done; fi
      for k in "${order[@]}"; do
        side=${k%_*} m=${k#*_}
        v=$(run_point "$DIR/scripts/${k}_b${b}_c${c}_.sql" "$b" "$c" "-c livestore.notify=$m" "$(db_of "$side")")
        runs[$k]+="$v"$'\n'
        echo "  round $r, batch $b, $c clients, $side, notify $m: $v events/s" >&2
      done
    done
    for m in $NOTIFY; do
      for side in "${SIDES[@]}"; do declare "$side=$(median <<<"${runs[${side}_$m]%$'\n'}")"; done
      ratios=$(awk -v a="$app" -v n="$nop" -v p="$prj" -v e="$emt" 'BEGIN { printf "%.2f | %.2f | %.2f", n / a, p / a, e / a }')
      echo "batch $b, $c clients, notify $m: append $app, no-op hook $nop, projection hook $prj, emit $emt events/s" >&2
      table+=$'\n'"| $b | $c | $m | $app | $nop | $prj | $emt | $ratios |"
    done
    unset runs
  done
done
for db in plain noop proj; do check_logs $db; done
check_projection

report="# livestore hooks and emit vs append (pgbench, fsync on)

$(run_context)

Sides alternating in each round, the order reversed every other round; the same TodoMVC-like events on every side
(odd ones v1.TodoCreated, even ones v1.TodoCompleted). append reads the head first (one more statement per batch);
emit does not need to. Hooks are registered on '%' in their own database; the baseline's database has none.

$table"
echo "$report" | tee "$RESULTS/sql-hooks-$(date -u +%Y%m%dT%H%M%S).md"

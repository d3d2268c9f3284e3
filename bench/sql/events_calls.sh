#!/usr/bin/env bash
# Backend CPU of livestore.events(), the query behind every built-in pull page
# (issue 12), on a throwaway cluster: one database at the previous extension
# version (EVENTS_OLD, default 0.3.0: events() in PL/pgSQL) and one at the
# default version (events() in C since 0.4.0), the same log of
# EVENTS_ROWS (200,000) TodoMVC-like events in both. Each side is one psql
# session making EVENTS_CALLS (1,000) calls of the gateway's own statement,
# pages of 1,000 events from `after` values spread over the log, results
# received (text format, as the gateway asks); the figure is the backend's
# CPU time (utime + stime of its process, /proc) for those calls. A third
# side runs the same pages as a plain SELECT ... ORDER BY "seqNum" LIMIT
# straight from the table (no function): the floor. Sides alternate, for
# EVENTS_ROUNDS (5) rounds; the median of each is reported. CPU time, not
# wall time, so that other work on the machine skews it less (it still
# does: caches, interrupts).
# Usage (repository root, as root or the postgres user): bash bench/sql/events_calls.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sql/lib.sh
OLD=${EVENTS_OLD:-0.3.0}
ROWS=${EVENTS_ROWS:-200000}
CALLS=${EVENTS_CALLS:-1000}
ROUNDS=${EVENTS_ROUNDS:-5}
NEW=$(sed -nE "s/^default_version = '(.*)'/\1/p" "$(pg_config --sharedir)/extension/livestore.control")

bench_cluster events shared_buffers=256MB
for db in old new; do
  sql -c "CREATE DATABASE $db"
  version=$OLD; [ "$db" = new ] && version=$NEW
  sql_in "$db" >/dev/null <<SQL
CREATE EXTENSION livestore VERSION '$version';
SELECT livestore.create_store('calls');
INSERT INTO eventlog_6_calls SELECT s, s - 1, 'v1.TodoCreated',
  jsonb_build_object('id', 'todo-' || s, 'text', 'item number ' || s, 'done', false), 'client-abc', 'session-xyz'
  FROM generate_series(1, $ROWS) s;
VACUUM ANALYZE eventlog_6_calls;
SQL
done

# One script per side: the backend's pid, CPU before, the calls, CPU after.
pages=$(( ROWS / 1000 ))
cols='"seqNum", "parentSeqNum", name, args, "clientId", "sessionId"'
script() {  # SIDE: writes $DIR/scripts/SIDE.sql
  local f=$DIR/scripts/$1.sql i after
  {
    echo "SELECT pg_backend_pid() \\g $DIR/scripts/$1.pid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$(cat $DIR/scripts/$1.pid)/stat > $DIR/scripts/$1.t0"
    for i in $(seq 0 $((CALLS - 1))); do
      after=$(( (i % pages) * 1000 ))
      if [ "$1" = direct ]; then
        echo "SELECT $cols FROM eventlog_6_calls WHERE \"seqNum\" > $after ORDER BY \"seqNum\" LIMIT 1000;"
      else
        echo "SELECT $cols FROM livestore.events('calls', $after::int, 1000::int);"
      fi
    done
    echo "\\! awk '{print \$14 + \$15}' /proc/\$(cat $DIR/scripts/$1.pid)/stat > $DIR/scripts/$1.t1"
  } > "$f"
  chmod 644 "$f"
}
for side in old new direct; do script $side; done
[ "$(id -u)" = 0 ] && chown -R postgres: "$DIR/scripts"

tck=$(getconf CLK_TCK)
declare -A cpu
for round in $(seq "$ROUNDS"); do
  for side in old new direct; do
    db=$side; [ "$side" = direct ] && db=new
    as_pg psql -X -q -At -v ON_ERROR_STOP=1 "${CONN[@]}" -d "$db" -f "$DIR/scripts/$side.sql" >/dev/null
    t=$(awk -v a="$(cat "$DIR/scripts/$side.t0")" -v b="$(cat "$DIR/scripts/$side.t1")" -v k="$tck" \
      'BEGIN { printf "%.2f", (b - a) / k }')
    cpu[$side]="${cpu[$side]:-} $t"
    echo "round $round $side: $t s"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
o=$(median <<<"${cpu[old]}") n=$(median <<<"${cpu[new]}") d=$(median <<<"${cpu[direct]}")
echo "events() backend CPU per $CALLS calls of 1,000 events (median of $ROUNDS; load average $LOAD_START at start):"
echo "  extension $OLD: $o s; extension $NEW: $n s ($(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.2f", a / b }')x);" \
     "plain SELECT from the table: $d s ($NEW at $(awk -v a="$n" -v b="$d" 'BEGIN { printf "%.2f", a / b }')x of it)"

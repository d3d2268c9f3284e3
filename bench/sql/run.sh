#!/usr/bin/env bash
# pgbench on a throwaway cluster (fsync on): events/s of livestore.append()
# with the extension's default settings against a bare multi-row INSERT of
# the same rows into a plain v6 table, for each batch size and client count,
# every client on its own store. Two more sides show what a NOTIFY per
# commit costs (Postgres serializes notifying commits database-wide): append
# with livestore.notify = on (for LISTEN-based consumers), and the bare
# INSERT plus a NOTIFY in its transaction. Prints a Markdown table and keeps
# it in bench/results/.
#   BENCH_SECONDS (10) per run, BENCH_SIZES ("1 10 50"), BENCH_CLIENTS ("1 8 16"),
#   BENCH_ROUNDS (1): runs per point, the sides' order turned every other round; the median
#   is reported, which steadies the figures on a busy machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/sql/lib.sh

SECS=${BENCH_SECONDS:-10}
SIZES=${BENCH_SIZES:-1 10 50}
CLIENTS=${BENCH_CLIENTS:-1 8 16}
ROUNDS=${BENCH_ROUNDS:-1}

bench_cluster sql
sql -c 'CREATE EXTENSION livestore'

# Both sides read the head with one statement and compute the seqNums with
# \set (write_script in lib.sh).
EVENT_ARGS='{"id":"item-0001","text":"hello world"}'
parent() { if [ "$1" = 1 ]; then echo ":h"; else echo ":s$(($1 - 1))"; fi; }
append_event() {
  echo "{\"name\":\"v1.ItemAdded\",\"args\":$EVENT_ARGS,\"seqNum\": :s$1,\"parentSeqNum\": $(parent "$1"),\"clientId\":\"bench\",\"sessionId\":\"bench-1\"}"
}
insert_row() { echo "(:s$1, $(parent "$1"), 'v1.ItemAdded', '$EVENT_ARGS', 'bench', 'bench-1')"; }

# "append" runs with the defaults (live pulls are woken through the
# extension's ring, livestore.wait_changes()): the comparison of target 1.
# The CPU columns (backend CPU per event, median) hold steadier than events/s
# when other work shares the machine.
table="| batch | clients | append events/s | INSERT events/s | append/INSERT | append CPU µs/event | INSERT CPU µs/event | append, notify on | INSERT+NOTIFY | append (notify on)/INSERT |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $CLIENTS; do
  for b in $SIZES; do
    point="b${b}_c${c}_"
    for i in $(seq 0 $((c - 1))); do
      sql -c "SELECT livestore.create_store('app_$point$i')" >/dev/null
      sql -c "SELECT livestore.create_store('aof_$point$i')" >/dev/null
      for side in ins ntf; do
        sql -c "CREATE TABLE eventlog_6_${side}_$point$i (\"seqNum\" INTEGER PRIMARY KEY, \"parentSeqNum\" INTEGER,
          \"name\" TEXT NOT NULL, \"args\" JSONB NOT NULL, \"clientId\" TEXT NOT NULL, \"sessionId\" TEXT NOT NULL)"
      done
    done
    write_script "$b" "SELECT livestore.head('app_$point:client_id') AS h" append_event \
      "SELECT livestore.append('app_$point:client_id', '[" "]')" >"$DIR/scripts/app_$point.sql"
    sed "s/app_$point/aof_$point/g" "$DIR/scripts/app_$point.sql" >"$DIR/scripts/aof_$point.sql"
    for side in ins ntf; do  # "\;" sends both statements as one implicit transaction
      notify=""; [ $side = ntf ] && notify="\\; SELECT pg_notify('livestore_events', 'bench')"
      write_script "$b" "SELECT coalesce(max(\"seqNum\"), 0) AS h FROM eventlog_6_${side}_$point:client_id" insert_row \
        "INSERT INTO eventlog_6_${side}_$point:client_id (\"seqNum\", \"parentSeqNum\", name, args, \"clientId\", \"sessionId\") VALUES " \
        "$notify" >"$DIR/scripts/${side}_$point.sql"
    done
    declare -A runs=([app]="" [aof]="" [ins]="" [ntf]="") cpus=([app]="" [ins]="")
    for r in $(seq "$ROUNDS"); do
      # The order turns every other round, so that no side always runs
      # after the same one (WAL, checkpoints and autovacuum carry over).
      order="ins ntf app aof"; [ $((r % 2)) = 0 ] && order="aof app ntf ins"
      for side in $order; do
        opts=""; [ $side = aof ] && opts="-c livestore.notify=on"
        read -r v cpu < <(run_point_cpu "$DIR/scripts/${side}_$point.sql" "$b" "$c" "$opts")
        [ -n "$v" ] || exit 1
        runs[$side]+="$v"$'\n'; cpus[$side]+="$cpu"$'\n'
      done
    done
    for side in ins ntf app aof; do declare "$side=$(median <<<"${runs[$side]%$'\n'}")"; done
    app_cpu=$(median <<<"${cpus[app]%$'\n'}") ins_cpu=$(median <<<"${cpus[ins]%$'\n'}")
    ratio=$(awk -v a="$app" -v i="$ins" 'BEGIN { printf "%.2f", a / i }')
    ratio_on=$(awk -v a="$aof" -v i="$ins" 'BEGIN { printf "%.2f", a / i }')
    echo "batch $b, $c clients: append $app ($app_cpu us/event), INSERT $ins ($ins_cpu us/event), append notify on $aof, INSERT+NOTIFY $ntf events/s" >&2
    table+=$'\n'"| $b | $c | $app | $ins | $ratio | $app_cpu | $ins_cpu | $aof | $ntf | $ratio_on |"
  done
done
check_logs

report="# livestore.append vs bare INSERT (pgbench, fsync on)

$(run_context)

$table"
echo "$report" | tee "$RESULTS/sql-$(date -u +%Y%m%dT%H%M%S).md"

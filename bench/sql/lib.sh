# The pieces the pgbench benchmarks in bench/sql/ share. Source it from the
# repository root, then call bench_cluster NAME [SETTING=VALUE...]: a throwaway
# cluster of its own (fsync on, the defaults otherwise, plus the settings given)
# in build/bench/NAME.XXXXXX on a free port, stopped on exit (the folder is kept
# when the script fails).
source test/lib/cluster.sh
source test/lib/ports.sh

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)  # other work on the machine skews figures
RESULTS=$PWD/bench/results

# A directory and port of its own: bench/run.sh may run this at the same time.
bench_cluster() {  # NAME [SETTING=VALUE...]: sets DIR (with DIR/scripts), PORT, CONN
  mkdir -p build/bench "$RESULTS"
  DIR=$(mktemp -d "$PWD/build/bench/$1.XXXXXX")
  shift
  chmod 755 "$DIR"
  mkdir "$DIR/scripts"
  PORT=$(free_port $((20000 + RANDOM % 30000)))
  cluster_start "$DIR/pg" "$PORT" "$@"
  trap 'rc=$?; cluster_stop "$DIR/pg"; if [ $rc = 0 ]; then rm -rf "$DIR"; else echo "kept $DIR" >&2; fi' EXIT
  CONN=(-h "$DIR/pg" -p "$PORT" -U postgres)
}
sql_in() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 "${CONN[@]}" -d "$db" "$@"; }
sql() { sql_in postgres "$@"; }

# write_script SIZE HEAD_QUERY ITEM_FUNCTION BEFORE AFTER: the head query,
# \set s1..sN, then one statement BEFORE item,item,... AFTER. pgbench
# substitutes :vars by plain text, also inside quoted literals (so only with
# -M simple), but skips "::"; hence the space in `": :s1`. An empty
# HEAD_QUERY writes the statement alone.
write_script() {
  local items=() i
  for i in $(seq "$1"); do items+=("$($3 "$i")"); done
  if [ -n "$2" ]; then
    echo "$2 \\gset"
    for i in $(seq "$1"); do echo "\\set s$i :h + $i"; done
  fi
  (IFS=,; echo "$4${items[*]}$5;")
}

# pgbench SCRIPT for SECS seconds on CLIENTS connections; prints pgbench's
# report. Fails on any error or aborted client.
pgbench_run() {  # SCRIPT CLIENTS [PGOPTIONS] [DATABASE]
  local out
  out=$(PGOPTIONS="${3:-}" pgbench -n -M simple -c "$2" -j "$2" -T "$SECS" -f "$1" "${CONN[@]}" "${4:-postgres}" 2>&1) ||
    { echo "$out" >&2; return 1; }
  grep -q '^number of failed transactions: 0 ' <<<"$out" || { echo "$out" >&2; return 1; }
  echo "$out"
}

# One pgbench run of SECS seconds; prints events/s.
run_point() {  # SCRIPT SIZE CLIENTS [PGOPTIONS] [DATABASE]
  local out tps
  sql -c CHECKPOINT
  out=$(pgbench_run "$1" "$3" "${4:-}" "${5:-}") || return 1
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out")
  awk -v t="$tps" -v b="$2" 'BEGIN { printf "%.0f", t * b }'
}

# Like run_point, and the CPU time the cluster's backends spent per event in
# microseconds (the postmaster's reaped children: the sessions end with the
# run): steadier than events/s on a shared machine. Prints "EVENTS/S US/EVENT".
run_point_cpu() {  # SCRIPT SIZE CLIENTS [PGOPTIONS] [DATABASE]
  local out tps n pm before after
  sql -c CHECKPOINT
  pm=$(head -1 "$DIR/pg/data/postmaster.pid")
  before=$(awk '{ print $16 + $17 }' "/proc/$pm/stat")
  out=$(pgbench_run "$1" "$3" "${4:-}" "${5:-}") || return 1
  after=$(awk '{ print $16 + $17 }' "/proc/$pm/stat")
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out")
  n=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out")
  awk -v t="$tps" -v b="$2" -v n="$n" -v c=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f %.1f\n", t * b, c * 1000000 / hz / (n * b) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Every log written must be 1..max, chained: proves the substitutions worked.
check_logs() {  # [DATABASE]
  sql_in "${1:-postgres}" <<'EOF'
DO $$
DECLARE t regclass; n bigint; m integer; bad bigint;
BEGIN
  FOR t IN SELECT c.oid FROM pg_class c WHERE c.relname LIKE 'eventlog_6_%' AND c.relkind = 'r' LOOP
    EXECUTE format('SELECT count(*), coalesce(max("seqNum"), 0), count(*) FILTER (WHERE "parentSeqNum" <> "seqNum" - 1) FROM %s', t)
      INTO n, m, bad;
    IF n = 0 OR n <> m OR bad <> 0 THEN
      RAISE EXCEPTION '%: % rows, max seqNum %, % broken links', t, n, m, bad;
    END IF;
  END LOOP;
END $$;
EOF
}

# The report's second line: when, how long, how loaded, on what.
run_context() {
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), median of $ROUNDS run(s) of $SECS s per point, load average $LOAD_START at start, $(cut -d' ' -f1 /proc/loadavg) at end, $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)),
$(pg_config --version), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
}

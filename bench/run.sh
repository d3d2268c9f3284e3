#!/bin/bash
# `make bench`: the gateway and the extension side by side with the reference
# JavaScript proxy and the machine's own limits, in one run (issue 4).
# Prints one Markdown table (every figure with its same-run baseline and the
# ratio); writes JSON, the table and a PNG of the push-latency distributions to
# bench/results/. bench/README.md explains each benchmark and the knobs:
#
#   BENCH_QUICK=1            everything, short (about 2-3 minutes)
#   BENCH_ONLY="push proxy"  a subset: ceiling sql push fanout hold pull proxy browser auth
#                            cache gateways failover storm (or their numbers, 0-12)
#   BENCH_SECONDS            measured seconds per push point and round (quick 1.5, full 5)
#   BENCH_WARMUP             unmeasured seconds before each push point (quick 0.5, full 1)
#   BENCH_ROUNDS             rounds per push point, sides in alternating order; the best round
#                            of each side is reported (quick 1, full 2)
#   BENCH_CONCURRENCY        "1 16 64"      BENCH_BATCHES  "1 50"
#   BENCH_SQL_SECONDS        per pgbench point and round of bench/sql/run.sh (quick 1, full 4)
#   BENCH_SQL_ROUNDS         its rounds, sides in turning order, the median reported (quick 1, full 3)
#   BENCH_HOOKS_SECONDS      per pgbench run of bench/sql/hooks.sh (quick 1, full 3)
#   BENCH_HOOKS_ROUNDS       its rounds per point, the median reported (quick 1, full 3)
#   BENCH_CAPTURE_SECONDS    per pgbench run of bench/sql/capture.sh (quick 1, full 3)
#   BENCH_CAPTURE_ROUNDS     its rounds per capture point and consumer side, the median reported (quick 1, full 3)
#   BENCH_IMPORT_ROWS        rows of its import_rows table (quick 200000, full 1000000)
#   BENCH_IMPORT_ROUNDS      its import rounds (1)
#   BENCH_CONSUME_EVENTS     events its consumer workers drain (quick 50000, full 200000)
#   BENCH_FANOUT_READERS     "100 1000 10000"  BENCH_FANOUT_SECONDS (quick 3, full 15)
#   BENCH_FANOUT_INTERVAL_MS between the writer's pushes (250)
#   BENCH_FANOUT_DIAG_THREADS  a diagnosis point: 1,000 readers on a gateway with --threads N ("32", the default before it followed the CPUs; "" skips)
#   BENCH_FANOUT_DIAG_HEADER_BYTES  a diagnosis point: 10,000 readers on a gateway with --max-header-bytes N ("16384"; "" skips)
#   BENCH_HOLD_CONNS         10000          BENCH_HOLD_SECONDS (quick 3, full 10; at most 25)
#   BENCH_PULL_EVENTS        events in the initial-pull store (quick 200000, full 1000000)
#   BENCH_STORM_CLIENTS      clients opening the storm store at once (quick 200, full 1000)
#   BENCH_STORM_EVENTS       events in the storm store (10000)
#   BENCH_PROXY_SECONDS      per proxy case (quick 2, full 10)
#   BENCH_AUTH_SECONDS       per auth side, push and pull each (quick 1.5, full 4)
#   BENCH_CACHE_READERS      "2000 10000" (quick "500 2000")   BENCH_CACHE_WRITES (quick 5, full 10)
#   BENCH_CACHE_INTERVAL_MS  between the cache benchmark's writes (1000)
#   BENCH_GATEWAYS_READERS   100            BENCH_GATEWAYS_SECONDS per side and round (quick 3, full 8)
#   BENCH_FAILOVER_PUSHERS   3              BENCH_FAILOVER_BEFORE_SECONDS pushing before the kill (quick 1, full 3)
#   BENCH_GATEWAY            another gateway binary to run (a before/after comparison)
#   BENCH_PROFILE=1          afterwards, perf + pg_stat_activity profiles into the results
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BENCH="$ROOT/bench"

QUICK="${BENCH_QUICK:-0}"
q() { if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }
SECS="${BENCH_SECONDS:-$(q 1.5 5)}"
ROUNDS="${BENCH_ROUNDS:-$(q 1 2)}"
WARMUP="${BENCH_WARMUP:-$(q 0.5 1)}"
CONCURRENCY="${BENCH_CONCURRENCY:-1 16 64}"
BATCHES="${BENCH_BATCHES:-1 50}"
SQL_SECONDS="${BENCH_SQL_SECONDS:-$(q 1 4)}"
SQL_ROUNDS="${BENCH_SQL_ROUNDS:-$(q 1 3)}"
HOOKS_SECONDS="${BENCH_HOOKS_SECONDS:-$(q 1 3)}"
HOOKS_ROUNDS="${BENCH_HOOKS_ROUNDS:-$(q 1 3)}"
CAPTURE_SECONDS="${BENCH_CAPTURE_SECONDS:-$(q 1 3)}"
CAPTURE_ROUNDS="${BENCH_CAPTURE_ROUNDS:-$(q 1 3)}"
IMPORT_ROWS="${BENCH_IMPORT_ROWS:-$(q 200000 1000000)}"
IMPORT_ROUNDS="${BENCH_IMPORT_ROUNDS:-1}"
CONSUME_EVENTS="${BENCH_CONSUME_EVENTS:-$(q 50000 200000)}"
FANOUT_READERS="${BENCH_FANOUT_READERS:-100 1000 10000}"
FANOUT_SECONDS="${BENCH_FANOUT_SECONDS:-$(q 3 15)}"
FANOUT_INTERVAL_MS="${BENCH_FANOUT_INTERVAL_MS:-250}"
FANOUT_DIAG_THREADS="${BENCH_FANOUT_DIAG_THREADS-32}"
FANOUT_DIAG_HEADER_BYTES="${BENCH_FANOUT_DIAG_HEADER_BYTES-16384}"
HOLD_CONNS="${BENCH_HOLD_CONNS:-10000}"
HOLD_SECONDS="${BENCH_HOLD_SECONDS:-$(q 3 10)}"
[ "${HOLD_SECONDS%.*}" -gt 25 ] 2>/dev/null && HOLD_SECONDS=25  # inside the longest long-poll timeout (40 s)
PULL_EVENTS="${BENCH_PULL_EVENTS:-$(q 200000 1000000)}"
STORM_CLIENTS="${BENCH_STORM_CLIENTS:-$(q 200 1000)}"
STORM_EVENTS="${BENCH_STORM_EVENTS:-10000}"
PROXY_SECONDS="${BENCH_PROXY_SECONDS:-$(q 2 10)}"
AUTH_SECONDS="${BENCH_AUTH_SECONDS:-$(q 1.5 4)}"
CACHE_READERS="${BENCH_CACHE_READERS:-$(q "500 2000" "2000 10000")}"
CACHE_WRITES="${BENCH_CACHE_WRITES:-$(q 5 10)}"
CACHE_INTERVAL_MS="${BENCH_CACHE_INTERVAL_MS:-1000}"
GATEWAYS_READERS="${BENCH_GATEWAYS_READERS:-100}"
GATEWAYS_SECONDS="${BENCH_GATEWAYS_SECONDS:-$(q 3 8)}"
FAILOVER_PUSHERS="${BENCH_FAILOVER_PUSHERS:-3}"
FAILOVER_BEFORE_SECONDS="${BENCH_FAILOVER_BEFORE_SECONDS:-$(q 1 3)}"
CEILING_SECONDS="$(q 1 3)"
ONLY="${BENCH_ONLY:-ceiling sql push fanout hold pull proxy browser auth cache gateways failover storm}"
TOKEN="bench-token"

want() {  # want NAME NUMBER: is this benchmark selected?
  local w
  for w in $ONLY; do [ "$w" = "$1" ] || [ "$w" = "$2" ] && return 0; done
  return 1
}
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- what the run needs ------------------------------------------------------
sh test/install-deps.sh >&2 || exit 1
if ! command -v gnuplot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    log "installing gnuplot-nox"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >&2
  else
    log "gnuplot is missing (apt-get install gnuplot-nox): no chart"
  fi
fi
log "building the extension, the gateway and the load generator"
make -s >&2 || die "make failed"
# BENCH_INSTALL=0 measures the extension already installed (a branch that
# changes only the gateway, while another build of the extension is installed).
if [ "$(id -u)" = 0 ] && [ "${BENCH_INSTALL:-1}" != 0 ]; then make -s install >/dev/null || die "make install failed"; fi
make -s -C bench/loadgen >&2 || die "building bench/loadgen failed"
if [ ! -d bench/reference/node_modules ] || [ bench/reference/package-lock.json -nt bench/reference/node_modules/.package-lock.json ]; then
  (cd bench/reference && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci in bench/reference failed"
fi
LOADGEN="$BENCH/loadgen/loadgen"

# Held polls are open sockets on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE="$(ulimit -n)"
if [ "$NOFILE" != unlimited ] && [ "$HOLD_CONNS" -gt $((NOFILE - 200)) ]; then
  log "ulimit -n is $NOFILE: holding $((NOFILE - 200)) polls instead of $HOLD_CONNS"
  HOLD_CONNS=$((NOFILE - 200))
fi

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$BENCH/results"
RUN="$RESULTS/$STAMP"
mkdir -p "$RUN"
source test/lib/cluster.sh
source test/lib/ports.sh

TMP="$(mktemp -d /tmp/livestore-bench.XXXXXX)"
chmod 755 "$TMP"
# One gateway binary for the whole run, even if the work tree is rebuilt meanwhile.
# BENCH_GATEWAY=path: another gateway binary (e.g. an older build, for a before/after comparison).
cp "${BENCH_GATEWAY:-$ROOT/gateway/livestore-gateway}" "$TMP/livestore-gateway" || die "no gateway binary"
GATEWAY="$TMP/livestore-gateway"
PIDS=()
CLUSTER=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  PIDS=()
  [ -n "$CLUSTER" ] && cluster_stop "$CLUSTER"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The run's context, for the results.
{
  echo "{\"stamp\":\"$STAMP\",\"date\":\"$(date -u '+%Y-%m-%d %H:%M UTC')\",\"quick\":$([ "$QUICK" = 1 ] && echo true || echo false),"
  echo "\"cpus\":$(nproc),\"cpu_model\":\"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)\","
  echo "\"mem_gb\":$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo),\"kernel\":\"$(uname -r)\","
  echo "\"postgres\":\"$(pg_config --version)\",\"node\":\"$(node --version)\",\"git\":\"$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo '+dirty')\","
  echo "\"loadavg_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"seconds\":$SECS,\"warmup\":$WARMUP,"
  echo "\"concurrency\":\"$CONCURRENCY\",\"batches\":\"$BATCHES\",\"fanout_interval_ms\":$FANOUT_INTERVAL_MS,\"nofile\":\"$NOFILE\"}"
} >"$RUN/context.json"

# ---- processes ---------------------------------------------------------------
wait_http() {  # wait_http URL: up to 15 s for any answer to HEAD
  for _ in $(seq 150); do
    curl -s -o /dev/null -I --max-time 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

# Flags that later gateway versions may have: switch every limit off (a
# benchmark measures throughput, not the rate limiter) when the flag exists.
GW_HELP="$("$GATEWAY" --help 2>&1)"
GW_EXTRA=()
for f in push-rate-per-store push-rate-per-ip pull-rate-per-ip drain-seconds; do
  grep -q -- "--$f " <<<"$GW_HELP" && GW_EXTRA+=("--$f" 0)  # drain-seconds: stop at once between points
done

# start_gateway NAME ARGS...: sets GW_PORT and GW_PID; log in $RUN/NAME.log.
start_gateway() {
  local name="$1"; shift
  GW_PORT="$(free_port $((21000 + RANDOM % 11000)))"  # below the ephemeral range (32768-): see PGPORT
  "$GATEWAY" --listen "127.0.0.1:$GW_PORT" --database-url "$DB" --quiet --auth-token "$TOKEN" "${GW_EXTRA[@]}" "$@" \
    >"$RUN/$name.log" 2>&1 &
  GW_PID=$!
  PIDS+=("$GW_PID")
  wait_http "http://127.0.0.1:$GW_PORT/api/electric" || die "gateway $name did not start (see $RUN/$name.log)"
}
stop_pid() {
  local p="$1" keep=() x
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  for x in "${PIDS[@]}"; do [ "$x" != "$p" ] && keep+=("$x"); done
  PIDS=("${keep[@]}")
}

lg() {  # lg OUTFILE MODE ARGS...: one loadgen run, its JSON into OUTFILE
  local out="$1"; shift
  "$LOADGEN" "$@" >"$out" 2>>"$RUN/loadgen.log" || log "loadgen $1 failed (see $RUN/loadgen.log)"
  [ -s "$out" ] || echo '{"error":"no output"}' >"$out"
}
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$DB" "$@"; }

# ---- 0: the load generator's own ceiling -------------------------------------
if want ceiling 0; then
  log "0 load generator ceiling (trivial responder in a child process)"
  for c in $CONCURRENCY; do
    for b in $BATCHES; do
      "$LOADGEN" ceiling --concurrency "$c" --batch "$b" --seconds "$CEILING_SECONDS" --warmup 0.3 \
        >"$RUN/ceiling_c${c}_b${b}.jsonl" 2>>"$RUN/loadgen.log" || log "ceiling c=$c b=$b failed"
    done
  done
fi

# ---- 1: SQL append (bench/sql, its own cluster) --------------------------------
if want sql 1; then
  if [ -x bench/sql/run.sh ] || [ -f bench/sql/run.sh ]; then
    log "1 SQL append: bench/sql/run.sh (pgbench, $SQL_ROUNDS round(s) of $SQL_SECONDS s per point)"
    # Once more after a failure: it keeps its cluster in a fixed folder, so a
    # concurrent run of it elsewhere in this work tree can stop ours.
    BENCH_SECONDS="$SQL_SECONDS" BENCH_ROUNDS="$SQL_ROUNDS" bash bench/sql/run.sh >"$RUN/sql.md" 2>>"$RUN/sql.log" ||
      { sleep 5; BENCH_SECONDS="$SQL_SECONDS" BENCH_ROUNDS="$SQL_ROUNDS" bash bench/sql/run.sh >"$RUN/sql.md" 2>>"$RUN/sql.log"; } ||
      log "bench/sql/run.sh failed (see $RUN/sql.log)"
  else
    log "1 SQL append: bench/sql/run.sh is not there, skipped"
  fi
  # Hooks and emit against append (issue 9): the same kind of cluster, after it.
  log "1 SQL append: bench/sql/hooks.sh (pgbench, $HOOKS_ROUNDS round(s) of $HOOKS_SECONDS s per side and point)"
  BENCH_SECONDS="$HOOKS_SECONDS" BENCH_ROUNDS="$HOOKS_ROUNDS" bash bench/sql/hooks.sh >"$RUN/sql-hooks.md" 2>>"$RUN/sql-hooks.log" ||
    log "bench/sql/hooks.sh failed (see $RUN/sql-hooks.log)"
  # Capture, import and consumers (issue 10): a cluster of its own again.
  log "1 SQL append: bench/sql/capture.sh (capture: $CAPTURE_ROUNDS round(s) of $CAPTURE_SECONDS s per side and point; import of $IMPORT_ROWS rows; $CONSUME_EVENTS events consumed)"
  BENCH_SECONDS="$CAPTURE_SECONDS" BENCH_ROUNDS="$CAPTURE_ROUNDS" BENCH_IMPORT_ROWS="$IMPORT_ROWS" \
    BENCH_IMPORT_ROUNDS="$IMPORT_ROUNDS" BENCH_CONSUME_EVENTS="$CONSUME_EVENTS" \
    bash bench/sql/capture.sh >"$RUN/sql-capture.md" 2>>"$RUN/sql-capture.log" ||
    log "bench/sql/capture.sh failed (see $RUN/sql-capture.log)"
fi

# ---- the cluster, the main gateway and the reference proxy -----------------------
NEED_DB=0
for w in push fanout hold pull proxy auth cache gateways storm 2 3 4 5 6 8 9 10 12; do want "$w" "$w" && NEED_DB=1; done
if [ "$NEED_DB" = 1 ]; then
  CLUSTER="$TMP/pg"
  # fsync and synchronous_commit on (the defaults); checkpoints spaced out so
  # that they fall outside the measured windows as far as possible. Ports
  # below the kernel's ephemeral range (32768-60999 by default): the
  # 10,000-reader points leave thousands of client ports in use, and a port
  # nobody listens on may still be some connection's local port. Another
  # port, up to three times.
  for try in 1 2 3; do
    PGPORT="$(free_port $((12000 + RANDOM % 8000)))"
    cluster_start "$CLUSTER" "$PGPORT" max_connections=300 max_wal_size=4GB checkpoint_timeout=30min \
      shared_buffers=256MB >&2 && break
    [ "$try" = 3 ] && die "cannot start Postgres"
  done
  DB="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
  psql_q -c "CREATE EXTENSION livestore" || die "CREATE EXTENSION livestore failed"
  psql_q -c "SHOW fsync" | grep -q on || die "fsync is not on"

  start_gateway gateway --shape-api
  MAIN_PORT="$GW_PORT" MAIN_PID="$GW_PID"
  MAIN="http://127.0.0.1:$MAIN_PORT/api/electric"
  REF_PORT="$(free_port $((21000 + RANDOM % 11000)))"
  (cd bench/reference && DATABASE_URL="$DB" ELECTRIC_URL="http://127.0.0.1:$MAIN_PORT" LISTEN="127.0.0.1:$REF_PORT" \
    AUTH_TOKEN="$TOKEN" exec node server.mjs) >"$RUN/reference.log" 2>&1 &
  REF_PID=$!
  PIDS+=("$REF_PID")
  REF="http://127.0.0.1:$REF_PORT/api/electric"
  wait_http "$REF" || die "the reference proxy did not start (see $RUN/reference.log)"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$RUN/loadavg_after_setup.txt"
fi

# ---- 2: HTTP push ----
# For every point the four sides run back to back on fresh stores: the
# database-only ceiling (the same rows as one prepared multi-row INSERT over
# libpq), livestore.append over libpq, the gateway, the reference proxy; in
# BENCH_ROUNDS rounds, the order reversed every other round.
push_side() {  # push_side SIDE C B ROUND
  local side="$1" c="$2" b="$3" r="$4" tag="c${2}_b${3}_r${4}"
  local common=(--concurrency "$c" --batch "$b" --seconds "$SECS" --warmup "$WARMUP" --samples "$RUN/cdf_${side}_$tag.dat")
  case "$side" in
    db) lg "$RUN/push_db_$tag.json" dbpush --db "$DB" --sql insert "${common[@]}" --store-prefix "ins_$tag" --label "db INSERT" ;;
    append) lg "$RUN/push_append_$tag.json" dbpush --db "$DB" --sql append "${common[@]}" --store-prefix "app_$tag" --label "db append" ;;
    gateway) lg "$RUN/push_gateway_$tag.json" push --url "$MAIN" --token "$TOKEN" "${common[@]}" --store-prefix "gw_$tag" --label gateway --pid "$MAIN_PID" ;;
    reference) lg "$RUN/push_reference_$tag.json" push --url "$REF" --token "$TOKEN" "${common[@]}" --store-prefix "ref_$tag" --label reference --pid "$REF_PID" ;;
  esac
}
if want push 2; then
  for b in $BATCHES; do
    for c in $CONCURRENCY; do
      log "2 push batch $b, concurrency $c ($ROUNDS round(s))"
      for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="db append gateway reference"; else order="reference gateway append db"; fi
        for side in $order; do push_side "$side" "$c" "$b" "$r"; done
      done
    done
  done
  # Diagnosis at one point (batch 1, the middle concurrency): livestore.append
  # with its NOTIFY inside (the extension's default, livestore.notify = on)
  # against append as the gateway runs it (notify off, then announce) and the
  # bare INSERT, back to back.
  set -- $CONCURRENCY
  DIAG_C="${2:-$1}"
  log "2 push diagnosis: NOTIFY inside the append, batch 1, concurrency $DIAG_C"
  diag=(--concurrency "$DIAG_C" --batch 1 --seconds "$SECS" --warmup "$WARMUP")
  lg "$RUN/diag_append_notify.json" dbpush --db "$DB" --sql append-notify "${diag[@]}" --store-prefix diag_an \
    --label "append, NOTIFY inside"
  lg "$RUN/diag_append.json" dbpush --db "$DB" --sql append "${diag[@]}" --store-prefix diag_ap \
    --label "append, notify off + announce"
  lg "$RUN/diag_insert.json" dbpush --db "$DB" --sql insert "${diag[@]}" --store-prefix diag_ins --label "INSERT"
  # The gateway's HEAD, the same trivial request the ceiling used.
  if want ceiling 0; then
    for c in $CONCURRENCY; do
      lg "$RUN/head_gateway_c${c}.json" get --url "$MAIN" --method HEAD --concurrency "$c" \
        --seconds "$CEILING_SECONDS" --warmup 0.3 --label "gateway HEAD"
    done
  fi
fi

# ---- 6: proxy overhead --------------------------------------------------------
# A gateway in proxy mode in front of the main gateway's /v1/shape, against the
# main gateway's built-in pull; the reference proxy in front of the same
# /v1/shape for comparison. Requests interleaved, one at a time.
if want proxy 6; then
  log "6 proxy overhead"
  start_gateway proxy --electric-url "http://127.0.0.1:$MAIN_PORT"
  PROXY_PID="$GW_PID"
  PROXY="http://127.0.0.1:$GW_PORT/api/electric"
  "$LOADGEN" push --url "$MAIN" --token "$TOKEN" --concurrency 1 --batch 50 --seconds 0.3 --warmup 0 \
    --store-prefix proxy >/dev/null 2>>"$RUN/loadgen.log"
  for kase in empty page; do
    lg "$RUN/proxy_$kase.json" compare --targets "direct=$MAIN,proxy=$PROXY,reference=$REF" --store proxy_0 \
      --token "$TOKEN" --case "$kase" --page-size 50 --seconds "$PROXY_SECONDS" --warmup 0.5 --label "$kase"
  done
  stop_pid "$PROXY_PID"
fi

# ---- 3: live fan-out ------------------------------------------------------------
# A fresh gateway per point (closed readers' polls would linger until their
# timeout); the baseline is one reader, same writer, same run.
if want fanout 3; then
  for r in 1 $FANOUT_READERS; do
    log "3 fan-out: $r readers"
    start_gateway "fanout_$r"
    lg "$RUN/fanout_$r.json" fanout --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" --readers "$r" \
      --store "fanout_$r" --seconds "$FANOUT_SECONDS" --interval-ms "$FANOUT_INTERVAL_MS" --pid "$GW_PID" \
      --label "$r readers" --samples "$RUN/cdf_fanout_$r.dat"
    stop_pid "$GW_PID"
  done
fi

# Diagnosis points (issue 12), each right after the default gateway's run at
# the same reader count. fanout_diag READERS SUFFIX FLAG VALUE: results in
# fanout_<READERS>_<SUFFIX><VALUE>.json (bench/report.mjs compares them).
fanout_diag() {
  local r="$1" suffix="$2" flag="$3" v="$4"
  log "3 fan-out diagnosis: $r readers, $flag $v"
  start_gateway "fanout_${r}_$suffix$v" "$flag" "$v"
  lg "$RUN/fanout_${r}_$suffix$v.json" fanout --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" \
    --readers "$r" --store "fanout_${r}_$suffix$v" --seconds "$FANOUT_SECONDS" --interval-ms "$FANOUT_INTERVAL_MS" \
    --pid "$GW_PID" --label "$r readers, $flag $v"
  stop_pid "$GW_PID"
}
if want fanout 3; then
  # 1,000 readers with another thread pool (32, the default before it followed
  # the CPUs: 8 on 2 CPUs): how much of the latency is the scheduling of the
  # worker threads that one notification wakes at once.
  for t in $FANOUT_DIAG_THREADS; do fanout_diag 1000 threads --threads "$t"; done
  # The largest reader count with less memory per connection: libmicrohttpd
  # zeroes all of it (--max-header-bytes, 32 KiB by default) for every request
  # of a kept-alive connection, two per reader and push.
  for m in $FANOUT_DIAG_HEADER_BYTES; do fanout_diag "${FANOUT_READERS##* }" mhb --max-header-bytes "$m"; done
fi

# ---- 4: held connections ----------------------------------------------------------
if want hold 4; then
  log "4 held long polls: $HOLD_CONNS"
  start_gateway hold --long-poll-timeout 40 --idle-timeout 600
  lg "$RUN/hold.json" hold --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" --conns "$HOLD_CONNS" \
    --store hold --hold-seconds "$HOLD_SECONDS" --pid "$GW_PID" --label "$HOLD_CONNS held"
  stop_pid "$GW_PID"
fi

# ---- 5: initial pull ----------------------------------------------------------
# A store made the way the reference server leaves one (a plain v6 table),
# then adopted by create_store; a tenth-size store shows whether the
# gateway's memory grows with the log.
make_store() {  # make_store STORE EVENTS
  psql_q <<EOF
CREATE TABLE "eventlog_6_$1" ("seqNum" INTEGER PRIMARY KEY, "parentSeqNum" INTEGER, "name" TEXT NOT NULL,
  "args" JSONB NOT NULL, "clientId" TEXT NOT NULL, "sessionId" TEXT NOT NULL);
INSERT INTO "eventlog_6_$1" SELECT g, g - 1, 'v1.TodoCreated',
  jsonb_build_object('id', '$1-' || g, 'text', 'benchmark todo number ' || g, 'completed', false),
  'bench-client-0', 'bench-client-0-s1' FROM generate_series(1, $2) g;
SELECT livestore.create_store('$1');
VACUUM ANALYZE "eventlog_6_$1";
EOF
}
if want pull 5; then
  SMALL=$((PULL_EVENTS / 10))
  log "5 initial pull: building stores of $PULL_EVENTS and $SMALL events"
  make_store pull_big "$PULL_EVENTS" >/dev/null || die "building the pull store failed"
  make_store pull_small "$SMALL" >/dev/null || die "building the small pull store failed"
  COPY_SQL='COPY (SELECT "seqNum", "parentSeqNum", "name", "args", "clientId", "sessionId" FROM "eventlog_6_pull_big" ORDER BY "seqNum") TO STDOUT'
  lg "$RUN/pull_copy_warm.json" copy --db "$DB" --sql "$COPY_SQL"  # both sides read a warm cache
  start_gateway pull
  log "5 initial pull: small store, then the big one, then COPY"
  lg "$RUN/pull_small.json" pull --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" --store pull_small \
    --expect "$SMALL" --pid "$GW_PID" --label "$SMALL events"
  lg "$RUN/pull_big.json" pull --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" --store pull_big \
    --expect "$PULL_EVENTS" --pid "$GW_PID" --label "$PULL_EVENTS events"
  lg "$RUN/pull_copy.json" copy --db "$DB" --sql "$COPY_SQL" --label "COPY TO STDOUT"
  stop_pid "$GW_PID"
fi

# ---- 9: cold-start storm ----------------------------------------------------------
# STORM_CLIENTS fresh clients open one store of STORM_EVENTS events at the
# same moment (a popular document shared): each follows the pull chain until
# caught up. A fresh gateway per side: page sharing off (--page-cache-mb 0:
# every client's page read from Postgres) and on (the default), so that the
# page queries saved show in the same run.
if want storm 12; then
  log "9 cold-start storm: $STORM_CLIENTS clients, a store of $STORM_EVENTS events"
  make_store storm "$STORM_EVENTS" >/dev/null || die "building the storm store failed"
  for side in off on; do
    if [ "$side" = off ]; then start_gateway storm_off --page-cache-mb 0; else start_gateway storm_on; fi
    lg "$RUN/storm_$side.json" storm --url "http://127.0.0.1:$GW_PORT/api/electric" --token "$TOKEN" --store storm \
      --clients "$STORM_CLIENTS" --expect "$STORM_EVENTS" --page-events 1000 --pid "$GW_PID" --label "sharing $side"
    stop_pid "$GW_PID"
  done
fi

# ---- 7: browser hops ------------------------------------------------------------
# The TodoMVC example in two headless Chromium contexts (test/browser, its own
# Postgres and gateway): time from an action in one browser to the change
# rendered in the other, cross-origin through the gateway.
if want browser 7; then
  log "7 browser per-hop latency (TodoMVC, headless chromium)"
  if sh test/browser/setup.sh >>"$RUN/browser.log" 2>&1; then
    BROWSER_HOPS_OUT="$RUN/browser_hops.json" node --test --test-concurrency=1 test/browser/ >>"$RUN/browser.log" 2>&1 ||
      log "the browser test failed (see $RUN/browser.log)"
  else
    log "browser setup failed (see $RUN/browser.log)"
  fi
fi

# ---- 8: auth: JWTs and authorization in SQL -------------------------------------
# Push (batch 1) and pull (non-live, an empty page) latency, one request at a
# time, on gateways that verify RS256 and ES256 tokens (keys from a JWKS file,
# the token in the endpoint's ?token=), and ES256 with --authorize-function
# over a memberships table, its decisions cached (60 s) and not cached (0);
# against a gateway without JWTs. Sides back to back, in BENCH_ROUNDS rounds
# with the order reversed every other round; each side's best round reported.
if want auth 8; then
  log "8 auth: push and pull latency, RS256 and ES256 tokens, an authorization function ($ROUNDS round(s))"
  AUTH="$TMP/auth"
  mkdir -p "$AUTH" && chmod 755 "$AUTH"
  node "$BENCH/auth.mjs" keys "$AUTH" || die "bench/auth.mjs keys failed"
  psql_q >/dev/null <<'EOF'
CREATE TABLE bench_members (user_id text, store_pattern text, PRIMARY KEY (user_id, store_pattern));
INSERT INTO bench_members SELECT 'user-' || g, 'other_' || g || '_%' FROM generate_series(1, 10000) g;
INSERT INTO bench_members VALUES ('bench-user', 'auth_%');
CREATE FUNCTION bench_can_access(claims jsonb, store_id text, access text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM bench_members m WHERE m.user_id = claims->>'sub' AND store_id LIKE m.store_pattern)
$$;
EOF
  JWT_FLAGS=(--jwt-jwks-file "$AUTH/jwks.json" --jwt-issuer https://bench.idp.test/ --jwt-audience livestore)
  auth_side() {  # auth_side SIDE ROUND
    local side="$1" r="$2" args=() jwt=""
    case "$side" in
      none) ;;
      rs256) args=("${JWT_FLAGS[@]}" --jwt-stores-claim app_metadata.livestore); jwt="$(cat "$AUTH/rs256.token")" ;;
      es256) args=("${JWT_FLAGS[@]}" --jwt-stores-claim app_metadata.livestore); jwt="$(cat "$AUTH/es256.token")" ;;
      authz_cached) args=("${JWT_FLAGS[@]}" --authorize-function public.bench_can_access --authorize-cache 60)
        jwt="$(cat "$AUTH/es256.token")" ;;
      authz_uncached) args=("${JWT_FLAGS[@]}" --authorize-function public.bench_can_access --authorize-cache 0)
        jwt="$(cat "$AUTH/es256.token")" ;;
    esac
    start_gateway "auth_${side}_r$r" "${args[@]}"
    local ep="http://127.0.0.1:$GW_PORT/api/electric"
    lg "$RUN/auth_push_${side}_r$r.json" push --url "$ep${jwt:+?token=$jwt}" --token "$TOKEN" --concurrency 1 --batch 1 \
      --seconds "$AUTH_SECONDS" --warmup 0.5 --store-prefix "auth_${side}_r$r" --label "$side"
    lg "$RUN/auth_pull_${side}_r$r.json" get --url "$(node "$BENCH/auth.mjs" pullurl "$ep" "auth_pull_r$r" "$TOKEN" "$jwt")" \
      --concurrency 1 --seconds "$AUTH_SECONDS" --warmup 0.5 --label "$side"
    stop_pid "$GW_PID"
  }
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="none rs256 es256 authz_cached authz_uncached"
    else order="authz_uncached authz_cached es256 rs256 none"; fi
    for side in $order; do auth_side "$side" "$r"; done
  done
fi

# ---- 9-11: beyond one machine (issue 13) ------------------------------------------
# The engines of `make test-scale`, started from deploy/ as test/scale starts
# them, by bench/scale.mjs; Debian packages installed only when selected.
scale() {  # scale MODE ARGS...: bench/scale.mjs with the run's gateway, token and loadgen
  local mode="$1"; shift
  node "$BENCH/scale.mjs" "$mode" --run "$RUN" --dir "$TMP/$mode" --gateway "$GATEWAY" --loadgen "$LOADGEN" \
    --token "$TOKEN" --gateway-args="${GW_EXTRA[*]}" "$@" 2>>"$RUN/scale.log" ||
    log "bench/scale.mjs $mode failed (see $RUN/scale.log)"
}
if want cache 9 || want gateways 10 || want failover 11; then
  sh test/scale/install-deps.sh >&2 || die "test/scale/install-deps.sh failed"
fi

# ---- 9: many live readers of one store through the nginx cache ------------------
# deploy/nginx/livestore-cache.conf in front of a fresh gateway, against the
# same readers on a fresh gateway directly, back to back per reader count:
# the loadgen's fanout readers (flagged offsets included), origin requests
# counted from the gateway's /metrics while writing.
if want cache 9; then
  fit=""
  for r in $CACHE_READERS; do
    if [ "$NOFILE" != unlimited ] && [ "$r" -gt $((NOFILE - 200)) ]; then log "9 cache: ulimit -n is $NOFILE: no $r readers"
    else fit="$fit $r"; fi
  done
  log "9 cache:$fit live readers through nginx and direct, $CACHE_WRITES writes"
  scale cache --db "$DB" --readers "$fit" --writes "$CACHE_WRITES" --interval-ms "$CACHE_INTERVAL_MS"
fi

# ---- 10: several gateways behind HAProxy -------------------------------------------
# Three gateways on the run's cluster, deploy/haproxy/haproxy.cfg in front:
# readers on one gateway, the writer on another (cross) or the same (same),
# or both through HAProxy; sides alternating over BENCH_ROUNDS rounds.
if want gateways 10; then
  log "10 gateways: $GATEWAYS_READERS readers, cross-gateway wake-up against the same gateway ($ROUNDS round(s))"
  scale gateways --db "$DB" --readers "$GATEWAYS_READERS" --seconds "$GATEWAYS_SECONDS" \
    --interval-ms "$FANOUT_INTERVAL_MS" --rounds "$ROUNDS"
fi

# ---- 11: Postgres failover with Patroni ---------------------------------------------
# etcd and two Patroni nodes (deploy/patroni), a gateway on a multi-host
# connection string, kill -9 of the primary under pushes.
if want failover 11; then
  log "11 failover: Patroni, $FAILOVER_PUSHERS pushers, kill -9 of the primary"
  scale failover --pushers "$FAILOVER_PUSHERS" --before-seconds "$FAILOVER_BEFORE_SECONDS"
fi

# ---- optional profiles -------------------------------------------------------
if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$NEED_DB" = 1 ]; then
  bash "$BENCH/profile.sh" "$RUN" "$DB" "$MAIN" "$TOKEN" "$LOADGEN" "$MAIN_PID" "$CLUSTER/data" || log "profiling failed"
fi

echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$RUN/loadavg_end.txt"
cleanup
trap - EXIT

# ---- the report ---------------------------------------------------------------
node "$BENCH/report.mjs" "$RUN" || die "the report failed"

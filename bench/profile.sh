#!/bin/bash
# Profiles behind the figures (BENCH_PROFILE=1 make bench, or by hand):
#   bash bench/profile.sh RUN_DIR DATABASE_URL GATEWAY_ENDPOINT TOKEN LOADGEN GATEWAY_PID PGDATA
# - what the database sessions wait on while the gateway and livestore.append
#   take pushes (pg_stat_activity sampled every 250 ms);
# - where the CPU goes (perf, cpu-clock, only the gateway and this cluster's
#   backends: other work on the machine stays out) during pushes, a
#   1,000-reader fan-out and an initial pull.
# Everything lands in RUN_DIR/profile_*.txt. Bounded: each step a few seconds.
set -uo pipefail
RUN="$1" DB="$2" EP="$3" TOKEN="$4" LOADGEN="$5" GW_PID="$6" PGDATA="$7"
SECS="${BENCH_PROFILE_SECONDS:-6}"
log() { echo "[profile $(date +%H:%M:%S)] $*" >&2; }

# waits LABEL: samples pg_stat_activity while the load in the background runs.
waits() {
  local label="$1" out="$RUN/profile_waits_$1.txt" n=$((SECS * 4 - 4))
  sleep 1
  for _ in $(seq "$n"); do
    psql -X -At "$DB" -c "SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, 'running')
      FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()"
    sleep 0.25
  done | sort | uniq -c | sort -rn >"$out"
  {
    echo "# $label: active client backends by wait event, $n samples every 250 ms"
    echo "# (Lock:object = the database-wide lock NOTIFY takes at commit until the commit is flushed)"
    cat "$out"
  } >"$out.tmp" && mv "$out.tmp" "$out"
}

log "waits: gateway pushes, batch 1, 16 stores"
"$LOADGEN" push --url "$EP" --token "$TOKEN" --concurrency 16 --batch 1 --seconds "$SECS" --warmup 0 \
  --store-prefix prof_gw >"$RUN/profile_push_gateway.json" 2>/dev/null &
waits gateway_push_b1_c16
wait $!
log "waits: livestore.append over libpq, batch 1, 16 stores"
"$LOADGEN" dbpush --db "$DB" --sql append --concurrency 16 --batch 1 --seconds "$SECS" --warmup 0 \
  --store-prefix prof_app >"$RUN/profile_push_append.json" 2>/dev/null &
waits append_b1_c16
wait $!
log "waits: bare INSERT over libpq, batch 1, 16 stores"
"$LOADGEN" dbpush --db "$DB" --sql insert --concurrency 16 --batch 1 --seconds "$SECS" --warmup 0 \
  --store-prefix prof_ins >"$RUN/profile_push_insert.json" 2>/dev/null &
waits insert_b1_c16
wait $!

if ! command -v perf >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null 2>&1
  fi
fi
if ! command -v perf >/dev/null 2>&1; then
  log "perf is not available: CPU profiles skipped"
  exit 0
fi

# cpu LABEL COMMAND...: perf on the gateway and the cluster's backends
# (the gateway's connections are persistent) while COMMAND runs.
cpu() {
  local label="$1"; shift
  local data="$RUN/perf_$label.data" pids
  "$@" >"$RUN/profile_$label.json" 2>/dev/null &
  local pid=$!
  sleep 1
  pids="$GW_PID,$(pgrep -d, -P "$(head -1 "$PGDATA/postmaster.pid")")"
  perf record -q -g -e cpu-clock -F 999 -p "$pids" -o "$data" -- sleep "$((SECS - 2))" >/dev/null 2>&1
  wait "$pid"
  local clean='s/ *$//; s/ *- *-$//'
  {
    echo "# $label: perf record -e cpu-clock -g on the gateway and the cluster's backends, $((SECS - 2)) s"
    echo "# share of the samples by process"
    perf report -i "$data" --stdio --no-children --sort comm -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
    echo
    echo "# postgres: inclusive time (children), named frames above 1.5%"
    perf report -i "$data" --stdio --children --comms postgres --sort symbol -g none --percent-limit 1.5 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed "$clean" | grep -v '0x0000' | head -60
    echo
    echo "# postgres: self time, top 25"
    perf report -i "$data" --stdio --no-children --comms postgres --sort dso,symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed "$clean" | head -25
    echo
    echo "# gateway threads: self time, top 25"
    perf report -i "$data" --stdio --no-children --comms MHD-worker,livestore-gatew --sort comm,dso,symbol -g none \
      2>/dev/null | grep -v '^#' | grep -v '^$' | sed "$clean" | head -25
  } >"$RUN/profile_cpu_$label.txt"
  rm -f "$data"
}

log "perf: gateway pushes, batch 50, 16 stores"
cpu push_b50_c16 "$LOADGEN" push --url "$EP" --token "$TOKEN" --concurrency 16 --batch 50 --seconds "$SECS" \
  --warmup 0 --store-prefix prof_gw50
log "perf: fan-out to 1,000 readers"
cpu fanout_1000 "$LOADGEN" fanout --url "$EP" --token "$TOKEN" --readers 1000 --store prof_fanout \
  --seconds "$((SECS + 2))" --interval-ms 250
if psql -X -At "$DB" -c "SELECT 1 FROM livestore.stores WHERE store_id = 'pull_big'" | grep -q 1; then
  log "perf: initial pull"
  cpu pull "$LOADGEN" pull --url "$EP" --token "$TOKEN" --store pull_big --timeout "$((SECS + 30))"
fi
log "profiles in $RUN/profile_*.txt"

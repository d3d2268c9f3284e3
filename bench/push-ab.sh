#!/bin/bash
# bench/push-ab.sh OLD_GATEWAY NEW_GATEWAY: HTTP push through two gateway
# binaries, livestore.append over libpq and the database-only ceiling (the
# bare INSERT over libpq, benchmark 2's), interleaved on one cluster, so that
# a change to the push path is judged by same-run ratios on a shared machine
# (bench/run.sh measures one binary per run). Uses the installed extension.
# Prints one line per side, point and round, then the medians:
#   c=16 b=1 | old: ev/s 4320 p50 3.993 p99 8.878 cpu 77.9 | new: ... | append: ... | insert: ... |
#     new/old 0.92 old/append 0.96 new/append 0.88 old/ceiling 0.66 new/ceiling 0.61
# cpu: the gateway's CPU (user + system, /proc) per answered push, in µs.
#
#   PUSH_AB_POINTS   "1:1 16:1 16:50"  concurrency:batch points
#   PUSH_AB_ROUNDS   5                 rounds; the order of the sides turns every round
#   PUSH_AB_SECONDS  3                 measured seconds per side, point and round (after 0.5 s warmup)
set -uo pipefail
OLD="${1:?usage: bench/push-ab.sh OLD_GATEWAY NEW_GATEWAY}"
NEW="${2:?usage: bench/push-ab.sh OLD_GATEWAY NEW_GATEWAY}"
POINTS="${PUSH_AB_POINTS:-1:1 16:1 16:50}"
ROUNDS="${PUSH_AB_ROUNDS:-5}"
SECS="${PUSH_AB_SECONDS:-3}"
cd "$(dirname "$0")/.."
make -s -C bench/loadgen >&2 || exit 1
LOADGEN="$PWD/bench/loadgen/loadgen"
source test/lib/cluster.sh
source test/lib/ports.sh

TMP="$(mktemp -d /tmp/livestore-push-ab.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  cluster_stop "$TMP/pg"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PGPORT="$(free_port $((12000 + RANDOM % 8000)))"
cluster_start "$TMP/pg" "$PGPORT" max_connections=300 max_wal_size=4GB checkpoint_timeout=30min shared_buffers=256MB >&2 ||
  exit 1
DB="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
psql -X -q -At -v ON_ERROR_STOP=1 "$DB" -c "CREATE EXTENSION livestore" || exit 1

declare -A PORT PID
for side in old new; do
  bin="$OLD"; [ "$side" = new ] && bin="$NEW"
  cp "$bin" "$TMP/gateway-$side" || exit 1
  PORT[$side]="$(free_port $((21000 + RANDOM % 11000)))"
  "$TMP/gateway-$side" --listen "127.0.0.1:${PORT[$side]}" --database-url "$DB" --quiet --auth-token bench-token \
    --push-rate-per-store 0 --push-rate-per-ip 0 --drain-seconds 0 >"$TMP/$side.log" 2>&1 &
  PID[$side]=$!
  PIDS+=("$!")
  for _ in $(seq 150); do curl -s -o /dev/null -I --max-time 1 "http://127.0.0.1:${PORT[$side]}/api/electric" && break; sleep 0.1; done
done

summary() {  # one JSON line of loadgen output -> "ev/s p50 p99 cpu"
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(j.events_per_s.toFixed(0), j.latency.p50_ms, j.latency.p99_ms, (j.server_cpu_us_per_request || 0).toFixed(1), j.errors)'
}
for r in $(seq "$ROUNDS"); do
  for pt in $POINTS; do
    c="${pt%:*}" b="${pt#*:}"
    order="old append insert new"; [ $((r % 2)) = 0 ] && order="new insert append old"
    for side in $order; do
      common=(--concurrency "$c" --batch "$b" --seconds "$SECS" --warmup 0.5 --store-prefix "${side}_r${r}_c${c}_b${b}")
      if [ "$side" = append ] || [ "$side" = insert ]; then
        out="$("$LOADGEN" dbpush --db "$DB" --sql "$side" "${common[@]}" 2>>"$TMP/loadgen.log" | summary)"
      else
        out="$("$LOADGEN" push --url "http://127.0.0.1:${PORT[$side]}/api/electric" --token bench-token "${common[@]}" \
          --pid "${PID[$side]}" 2>>"$TMP/loadgen.log" | summary)"
      fi
      echo "$side $r $c $b $out"
    done
  done
done | tee "$TMP/rounds.txt"

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const points = [...new Set(rows.map((r) => r[2] + ":" + r[3]))];
for (const p of points) {
  const m = {};
  for (const side of ["old", "new", "append", "insert"]) {
    const rs = rows.filter((r) => r[0] === side && r[2] + ":" + r[3] === p);
    m[side] = [4, 5, 6, 7].map((i) => med(rs.map((r) => +r[i])));
  }
  const f = (s) => `${s}: ev/s ${m[s][0]} p50 ${m[s][1].toFixed(3)} p99 ${m[s][2].toFixed(3)}` + (s === "old" || s === "new" ? ` cpu ${m[s][3]}` : "");
  const [c, b] = p.split(":");
  console.log(`c=${c} b=${b} | ${f("old")} | ${f("new")} | ${f("append")} | ${f("insert")} | new/old ${(m.new[0] / m.old[0]).toFixed(2)}` +
    ` old/append ${(m.old[0] / m.append[0]).toFixed(2)} new/append ${(m.new[0] / m.append[0]).toFixed(2)}` +
    ` old/ceiling ${(m.old[0] / m.insert[0]).toFixed(2)} new/ceiling ${(m.new[0] / m.insert[0]).toFixed(2)}`);
}' "$TMP/rounds.txt"

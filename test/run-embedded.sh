#!/bin/bash
# `make run`: the embedded default on one machine. A throwaway Postgres
# cluster under .run/ (as the postgres user when run as root), the extension
# installed, the gateway serving built-in pulls on 127.0.0.1:8787/api/electric.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source test/lib/embedded.sh
embedded_build

DIR="$ROOT/.run/postgres"
PGPORT="$(free_port 54329)"
embedded_database "$DIR" "$PGPORT"

GW_PID=""
stop() {
  trap - INT TERM EXIT
  [ -n "$GW_PID" ] && kill -TERM "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  cluster_stop "$DIR"
  echo "stopped"
}
trap stop INT TERM EXIT

LISTEN="${LISTEN:-127.0.0.1:8787}"
echo "Postgres: $DB (data in .run/postgres, removed by 'make clean-run')"
echo "LiveStore sync endpoint: http://$LISTEN/api/electric   (Ctrl-C to stop)"
"$ROOT/gateway/livestore-gateway" --listen "$LISTEN" --database-url "$DB" "$@" &
GW_PID=$!
wait "$GW_PID"

#!/bin/bash
# `make demo`: the TodoMVC example syncing through the gateway. A throwaway
# Postgres cluster (under .run/demo, removed on exit), the extension, the
# gateway on 127.0.0.1:8787 (or the next free port) and the built example on
# 127.0.0.1:5173 (or the next free port): two origins, so the browser talks to
# the gateway cross-origin (CORS preflights, exposed electric-* headers). The
# example's server-side rules (examples/todomvc/server/hooks.sql) are loaded,
# and a table written by plain SQL, todos_legacy, is captured into a list of
# its own (examples/todomvc/server/legacy.sql).
# Prints the URLs to open and psql one-liners to try; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source test/lib/embedded.sh
embedded_build
sh test/browser/setup.sh --app-only
echo "building examples/todomvc"
(cd examples/todomvc && npx vite build --logLevel warn)

DIR="$ROOT/.run/demo"
rm -rf "$DIR"
PGPORT="$(free_port 54339)"
GW_PID="" APP_PID=""
stop() {
  trap - INT TERM EXIT
  [ -n "$APP_PID" ] && kill -TERM "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
  [ -n "$GW_PID" ] && kill -TERM "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  cluster_stop "$DIR"
  rm -rf "$DIR"
  rmdir "$ROOT/.run" 2>/dev/null || true
  echo "stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

embedded_database "$DIR" "$PGPORT"
psql -X -q "$DB" -v ON_ERROR_STOP=1 -f examples/todomvc/server/hooks.sql >/dev/null
STAMP="$(date +%H%M%S)"
STORE="demo-$STAMP"
LEGACY="legacy-$STAMP"
psql -X -q "$DB" -v ON_ERROR_STOP=1 -v store="$LEGACY" -f examples/todomvc/server/legacy.sql >/dev/null

GW_PORT="$(free_port "${GATEWAY_PORT:-8787}")"
ENDPOINT="http://127.0.0.1:$GW_PORT/api/electric"
"$ROOT/gateway/livestore-gateway" --listen "127.0.0.1:$GW_PORT" --database-url "$DB" "$@" \
  >"$DIR/gateway.log" 2>&1 &
GW_PID=$!
# The gateway must answer before any page loads: a page whose first ping
# fails never syncs (see examples/todomvc/README.md).
wait_listening "$GW_PORT" "$GW_PID" "$DIR/gateway.log"

APP_PORT="$(free_port "${APP_PORT:-5173}")"
node examples/todomvc/serve.mjs --port "$APP_PORT" --gateway "$ENDPOINT" >"$DIR/app.log" 2>&1 &
APP_PID=$!
wait_listening "$APP_PORT" "$APP_PID" "$DIR/app.log"

APP="http://127.0.0.1:$APP_PORT"
cat <<MSG

LiveStore TodoMVC, synced through livestore-gateway and Postgres:

  open  $APP/?store=$STORE&user=alice
  and   $APP/?store=$STORE&user=bob     in a private window or another browser

(Two windows of one browser profile share one local LiveStore client; a private
window or a second browser is a second client that syncs through the gateway.)

  gateway   $ENDPOINT   (log: .run/demo/gateway.log)
  Postgres  $DB

Server-side rules (examples/todomvc/server/hooks.sql): a todo containing a
blocked word (spam, scam, phishing) is rejected in every browser; per-list
counts are kept in the append's transaction. Try, in another terminal:

  # a todo written in SQL: it appears in both browsers
  psql "$DB" -c "SELECT livestore.emit('$STORE', jsonb_build_array(jsonb_build_object('name', 'v1.TodoCreated', 'args', jsonb_build_object('id', gen_random_uuid(), 'text', 'written in SQL', 'createdBy', 'psql', 'createdAt', (extract(epoch FROM now()) * 1000)::bigint))))"

  # open and done todos per list, as the hook keeps them
  psql "$DB" -c "SELECT * FROM todomvc.todo_stats"

  # the list's events, the server's v1.TodoRejected included
  psql "$DB" -c "SELECT * FROM livestore.events('$STORE')"

  # one more blocked word
  psql "$DB" -c "INSERT INTO todomvc.todo_blocklist VALUES ('broccoli')"

An existing table, written by plain SQL as an old backend would: todos_legacy
is captured into its own list (examples/todomvc/server/legacy.sql); every
committed row change becomes an event, and the rows show read-only:

  open  $APP/?store=$LEGACY&user=alice
  and   $APP/?store=$LEGACY&user=bob     in a private window or another browser

  psql "$DB" -c "INSERT INTO todos_legacy (title) VALUES ('written by the old backend')"
  psql "$DB" -c "UPDATE todos_legacy SET completed = true WHERE title = 'written by the old backend'"
  psql "$DB" -c "UPDATE todos_legacy SET title = 'renamed in SQL' WHERE title = 'written by the old backend'"
  psql "$DB" -c "DELETE FROM todos_legacy WHERE title = 'renamed in SQL'"

  # the table and the list's events (v1.LegacyTodoInserted / Updated / Deleted)
  psql "$DB" -c "TABLE todos_legacy"
  psql "$DB" -c "SELECT * FROM livestore.events('$LEGACY')"

Ctrl-C to stop.
MSG
wait -n "$GW_PID" "$APP_PID"

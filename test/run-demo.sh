#!/bin/bash
# `make demo`: the TodoMVC example syncing through the gateway. A throwaway
# Postgres cluster (under .run/demo, removed on exit), the extension, the
# gateway on 127.0.0.1:8787 (or the next free port) and the built example on
# 127.0.0.1:5173 (or the next free port): two origins, so the browser talks to
# the gateway cross-origin (CORS preflights, exposed electric-* headers). The
# example's server-side rules (examples/todomvc/server/hooks.sql) are loaded,
# and a table written by plain SQL, todos_legacy, is captured into a list of
# its own (examples/todomvc/server/legacy.sql).
# Identity: a stand-in identity provider (examples/todomvc/server/idp.mjs) signs
# ES256 tokens and publishes its JWKS; the gateway verifies them and asks
# todomvc.can_access (examples/todomvc/server/memberships.sql) who may open
# which list: alice and bob share one list, each has one the other cannot open.
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
GW_PID="" APP_PID="" IDP_PID=""
stop() {
  trap - INT TERM EXIT
  [ -n "$APP_PID" ] && kill -TERM "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
  [ -n "$GW_PID" ] && kill -TERM "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  [ -n "$IDP_PID" ] && kill -TERM "$IDP_PID" 2>/dev/null && wait "$IDP_PID" 2>/dev/null || true
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
ALICE_LIST="alice-$STAMP"
BOB_LIST="bob-$STAMP"
psql -X -q "$DB" -v ON_ERROR_STOP=1 -f examples/todomvc/server/memberships.sql >/dev/null
psql -X -q "$DB" -v ON_ERROR_STOP=1 -c "INSERT INTO todomvc.memberships VALUES
  ('alice', '$STORE', 'owner'), ('bob', '$STORE', 'editor'),
  ('alice', '$ALICE_LIST', 'owner'), ('bob', '$BOB_LIST', 'owner'),
  ('alice', '$LEGACY', 'editor'), ('bob', '$LEGACY', 'editor')" >/dev/null

# The stand-in identity provider first: the gateway fetches its JWKS at start.
IDP_PORT="$(free_port "${IDP_PORT:-8788}")"
IDP="http://127.0.0.1:$IDP_PORT"
node examples/todomvc/server/idp.mjs --port "$IDP_PORT" >"$DIR/idp.log" 2>&1 &
IDP_PID=$!
wait_listening "$IDP_PORT" "$IDP_PID" "$DIR/idp.log"

GW_PORT="$(free_port "${GATEWAY_PORT:-8787}")"
ENDPOINT="http://127.0.0.1:$GW_PORT/api/electric"
"$ROOT/gateway/livestore-gateway" --listen "127.0.0.1:$GW_PORT" --database-url "$DB" \
  --jwt-jwks-url "$IDP/.well-known/jwks.json" --jwt-issuer "$IDP/" --jwt-audience todomvc \
  --authorize-function todomvc.can_access --authorize-cache 2 "$@" \
  >"$DIR/gateway.log" 2>&1 &
GW_PID=$!
# The gateway must answer before any page loads: a page whose first ping
# fails never syncs (see examples/todomvc/README.md).
wait_listening "$GW_PORT" "$GW_PID" "$DIR/gateway.log"

APP_PORT="$(free_port "${APP_PORT:-5173}")"
node examples/todomvc/serve.mjs --port "$APP_PORT" --gateway "$ENDPOINT" --idp "$IDP" >"$DIR/app.log" 2>&1 &
APP_PID=$!
wait_listening "$APP_PORT" "$APP_PID" "$DIR/app.log"

APP="http://127.0.0.1:$APP_PORT"
cat <<MSG

LiveStore TodoMVC, synced through livestore-gateway and Postgres:

  open  $APP/?store=$STORE&user=alice
  and   $APP/?store=$STORE&user=bob     in a private window or another browser

(Two windows of one browser profile share one local LiveStore client; a private
window or a second browser is a second client that syncs through the gateway.)

Who may open which list: each page signs its user in at a stand-in identity
provider ($IDP, ES256 tokens, JWKS at /.well-known/jwks.json);
the gateway verifies the token and asks todomvc.can_access, which reads
todomvc.memberships. alice and bob share the list above; each has a list of
their own that the other cannot open:

  open  $APP/?store=$ALICE_LIST&user=alice     alice's list
  open  $APP/?store=$ALICE_LIST&user=bob       refused: bob is not a member
  open  $APP/?store=$BOB_LIST&user=bob         bob's list
  open  $APP/?store=$BOB_LIST&user=alice       refused: alice is not a member

  # let bob into alice's list, then reload his page (decisions are cached 2 s)
  psql "$DB" -c "INSERT INTO todomvc.memberships VALUES ('bob', '$ALICE_LIST', 'editor')"
  psql "$DB" -c "TABLE todomvc.memberships"

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
wait -n "$GW_PID" "$APP_PID" "$IDP_PID"

#!/bin/sh
# Run once by the official postgres image on a new data directory: the
# extension in the application's database, and the gateway's role with only
# what it needs (README.md: "Installing into an existing Postgres").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v gateway_password="${LIVESTORE_GATEWAY_PASSWORD:?set LIVESTORE_GATEWAY_PASSWORD}" <<'SQL'
CREATE EXTENSION livestore;
CREATE ROLE livestore_gateway LOGIN PASSWORD :'gateway_password';
GRANT USAGE ON SCHEMA livestore TO livestore_gateway;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA livestore TO livestore_gateway;
SQL

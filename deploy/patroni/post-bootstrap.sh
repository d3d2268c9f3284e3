#!/bin/sh
# Patroni's bootstrap.post_bootstrap: runs once on the new primary, as the
# postgres user, with a connection string as $1.
set -e
psql "$1" -X -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS livestore'

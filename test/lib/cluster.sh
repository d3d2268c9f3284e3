# Throwaway Postgres clusters for `make run`, the tests and the benchmarks.
# Source this file, then: cluster_start DIR PORT; ...; cluster_stop DIR.
# Postgres refuses to run as root, so as root the cluster runs as `postgres`.
PGBIN="$(pg_config --bindir)"
PGBIN_SERVER="/usr/lib/postgresql/$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')/bin"
[ -x "$PGBIN_SERVER/initdb" ] || PGBIN_SERVER="$PGBIN"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root, the clusters run as `postgres`, which must be able to reach DIR
# (and the repo, for pg_regress): a checkout under a private folder (a home,
# mktemp -d) gets the search (x) bit on its ancestors, and DIR itself the
# read bit too (make, run as postgres there, lists it to find the Makefile).
let_postgres_reach() {
  [ "$(id -u)" = 0 ] || return 0
  local d
  d="$(cd "$1" && pwd)"
  runuser -u postgres -- test -x "$d" -a -r "$d" 2>/dev/null && return 0
  chmod o+rx "$d"
  while [ "$d" != "/" ]; do
    chmod o+x "$d"
    d="$(dirname "$d")"
  done
}

# cluster_start DIR PORT [extra postgres -c options...]
cluster_start() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir"
  let_postgres_reach "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN_SERVER/initdb" -D "$dir/data" -U postgres -A trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log"; return 1; }
  fi
  local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=${PG_FSYNC:-on}"
  for o in "$@"; do opts="$opts -c $o"; done
  as_pg "$PGBIN_SERVER/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "$opts" -w -t 60 start >/dev/null \
    || { cat "$dir/postgres.log"; return 1; }
}

cluster_stop() {
  local dir="$1"
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$PGBIN_SERVER/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

# A crash followed by an automatic restart can leave later tests green.
cluster_crash_scan() {
  local log="$1"
  if grep -E "was terminated by signal|terminating any other active server processes|TRAP:|PANIC:" "$log"; then
    echo "server crash found in $log" >&2
    return 1
  fi
}

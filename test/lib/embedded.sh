# The pieces `make run` and `make demo` share. Source from the repo root.
source test/lib/cluster.sh
source test/lib/ports.sh

# Installs what is missing, builds, installs the extension and the gateway.
embedded_build() {
  sh test/install-deps.sh
  make -s
  make -s install >/dev/null
}

# embedded_database DIR PORT: a cluster with the extension at the installed
# version (a cluster kept from an older checkout is updated); sets DB.
embedded_database() {
  cluster_start "$1" "$2"
  DB="postgresql://postgres@127.0.0.1:$2/postgres"
  psql -q "$DB" -c "CREATE EXTENSION IF NOT EXISTS livestore" -c "ALTER EXTENSION livestore UPDATE" >/dev/null
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_listening PORT PID LOG: until PORT accepts; shows LOG if PID died.
wait_listening() {
  for _ in $(seq 100); do
    listening "$1" && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3"; return 1; }
    sleep 0.1
  done
  echo "nothing listens on port $1 after 10 s" >&2
  return 1
}

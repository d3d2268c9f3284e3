#!/usr/bin/env bash
# Runs inside a clean Debian 12 container (debs.sh): installs the packages and
# checks what an operator gets. TEST_PGPORT / TEST_GWPORT: free ports on the
# host's network for the test cluster and the gateway.
set -euo pipefail
step() { echo "--- $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
: "${TEST_PGPORT:?}" "${TEST_GWPORT:?}"

step "apt-get install the packages (PostgreSQL 15 from Debian's archive)"
# No service starts in this root (policy-rc.d, as in any container).
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb curl systemd >/tmp/apt.log 2>&1 ||
  { tail -30 /tmp/apt.log; fail "apt-get install"; }
dpkg-query -W -f='  ${Package} ${Version}\n' 'postgresql-*-livestore' livestore-gateway postgresql-15

step "what the gateway package installed"
getent passwd livestore >/dev/null || fail "no system user livestore"
[ "$(stat -c '%U:%G %a' /etc/livestore/gateway.env)" = "root:livestore 640" ] ||
  fail "/etc/livestore/gateway.env is $(stat -c '%U:%G %a' /etc/livestore/gateway.env), expected root:livestore 640"
dpkg -L livestore-gateway | grep -qx /usr/share/man/man1/livestore-gateway.1.gz || fail "no man page in the package"
unit=/lib/systemd/system/livestore-gateway.service
[ -f "$unit" ] && [ -f /lib/systemd/system/livestore-gateway.socket ] || fail "systemd units missing"
systemd-analyze verify --man=no "$unit" /lib/systemd/system/livestore-gateway.socket 2>&1 | tee /tmp/verify.log
! grep -v -e '^$' /tmp/verify.log | grep -q . || fail "systemd-analyze verify complained"
livestore-gateway --version | head -1

step "debian/tests/smoke (autopkgtest)"
bash /tmp/debian-tests/smoke

step "CREATE EXTENSION livestore in a new cluster on port $TEST_PGPORT"
pg_createcluster 15 pkgtest -p "$TEST_PGPORT" >/dev/null
pg_ctlcluster 15 pkgtest start
trap 'pg_ctlcluster 15 pkgtest stop -m fast 2>/dev/null || true' EXIT
psql_pg() { runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$TEST_PGPORT" "$@"; }
psql_pg -c "CREATE DATABASE app"
# The least-privileged role of README.md, named after the system user: the
# gateway logs in by peer authentication over the local socket.
psql_pg -d app <<'SQL'
CREATE EXTENSION livestore;
CREATE ROLE livestore LOGIN;
GRANT USAGE ON SCHEMA livestore TO livestore;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA livestore TO livestore;
SQL
echo "  extension $(psql_pg -d app -c "SELECT extversion FROM pg_extension WHERE extname = 'livestore'")"

step "the gateway from the unit's command line (ExecStart, User, EnvironmentFile)"
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -1; }
exec_start=$(unit_value ExecStart)
user=$(unit_value User)
group=$(unit_value Group)
env_file=$(unit_value EnvironmentFile)
env_file=${env_file#-}
echo "  ExecStart=$exec_start User=$user Group=$group EnvironmentFile=$env_file"
# The operator's edit of the settings file.
cat >>"$env_file" <<CONF
DATABASE_URL=postgresql:///app?host=/var/run/postgresql&port=$TEST_PGPORT
LIVESTORE_LISTEN=127.0.0.1:$TEST_GWPORT
LIVESTORE_DRAIN_SECONDS=0
CONF
# EnvironmentFile= as systemd reads it: VAR=value lines, # comments, optional quotes.
env_args=()
while IFS= read -r line; do
  case $line in '' | '#'*) continue ;; esac
  value=${line#*=}
  value=${value#\"}; value=${value%\"}
  env_args+=("${line%%=*}=$value")
done <"$env_file"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${env_args[@]}" \
  setpriv --reuid="$user" --regid="$group" --init-groups -- $exec_start >/tmp/gateway.log 2>&1 &
gw=$!
url=http://127.0.0.1:$TEST_GWPORT
for _ in $(seq 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] && break
  kill -0 "$gw" 2>/dev/null || { cat /tmp/gateway.log; fail "the gateway exited"; }
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || { cat /tmp/gateway.log; fail "/healthz is not 200"; }
running_as=$(stat -c %U "/proc/$gw")
[ "$running_as" = "$user" ] || fail "the gateway runs as $running_as, not $user"
echo "  /healthz 200, running as $running_as"
batch='[{"name":"v1.ItemAdded","args":{"id":"a"},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"},
        {"name":"v1.ItemAdded","args":{"id":"b"},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]'
status=$(curl -s -o /tmp/push.out -w '%{http_code}' -H 'content-type: application/json' \
  --data "{\"_tag\":\"@livestore/sync-electric.Push\",\"storeId\":\"pkg\",\"batch\":$batch}" "$url/api/electric")
[ "$status" = 200 ] || { cat /tmp/push.out /tmp/gateway.log; fail "push answered $status"; }
head=$(psql_pg -d app -c "SELECT livestore.head('pkg')")
[ "$head" = 2 ] || fail "head is $head after the push, expected 2"
pull='{"_tag":"@livestore/sync-electric.Pull","storeId":"pkg","handle":{"_tag":"None"},"live":false}'
curl -s -G --data-urlencode "args=$pull" "$url/api/electric" | grep -q '"v1.ItemAdded"' || fail "the pull did not return the events"
echo "  push 200, head 2 (as role $user by peer authentication)"
version=$(env -i "${env_args[@]}" setpriv --reuid="$user" --regid="$group" --init-groups -- /usr/bin/livestore-gateway --version)
echo "$version" | sed 's/^/  /'
echo "$version" | grep -q '^extension: 0\.2\.0 (database "app")$' || fail "--version did not find the extension"
kill -TERM "$gw"
code=0; wait "$gw" || code=$?
[ "$code" = 0 ] || { cat /tmp/gateway.log; fail "the gateway exited $code after SIGTERM"; }
echo "  SIGTERM: exit 0"
echo "in-debian: ok"

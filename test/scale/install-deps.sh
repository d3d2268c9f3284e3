#!/bin/sh
# The engines `make test-scale` runs, from Debian 12's archive, installed
# only when missing (as root; otherwise it says what to install). The
# packages' own services are not used: the tests start each engine
# themselves on free 127.0.0.1 ports.
set -e
PKGS="haproxy pgbouncer patroni python3-etcd etcd-server nginx-light varnish"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "installing:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# The engines `make test-scale` runs, from Debian 12's archive, installed
# only when missing (as root; otherwise it says what to install). The
# packages' own services are not used: the tests start each engine
# themselves on free 127.0.0.1 ports.
set -e
. "$(dirname "$0")/../lib/apt.sh"
install_missing haproxy pgbouncer patroni python3-etcd etcd-server nginx-light varnish

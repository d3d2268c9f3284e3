#!/bin/sh
# Installs the Debian packages the build, the tests and `make run` need, when
# any is missing (only as root; otherwise it says what to install).
set -e
. "$(dirname "$0")/lib/apt.sh"
install_missing g++ make pkg-config postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev \
  libmicrohttpd-dev rapidjson-dev libcurl4-openssl-dev libssl-dev libgtest-dev \
  clang llvm libclang-rt-14-dev
# Node.js 20+ runs the end-to-end tests with the real LiveStore client.
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "Node.js 20 or newer is required for the end-to-end tests" >&2
  exit 1
fi
# systemd-socket-activate stands in for systemd in the socket-activation test.
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
  else
    echo "missing systemd-socket-activate (Debian package systemd)" >&2; exit 1
  fi
fi

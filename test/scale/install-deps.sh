#!/bin/sh
# Engines of test/scale/cache.test.mjs (not needed by make test): Debian's
# nginx-light and varnish, installed only when missing.
set -e
need=""
command -v nginx >/dev/null 2>&1 || need="$need nginx-light"
command -v varnishd >/dev/null 2>&1 || need="$need varnish"
[ -z "$need" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need

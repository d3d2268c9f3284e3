#!/bin/sh
# Prepares the browser test (test/browser/): Debian's chromium when
# /usr/bin/chromium is missing (root only), then the pinned npm packages of the
# example app and of the test (npm ci, only when the lock file is newer than
# what is installed). Run by test/run-all.sh before `node --test test/browser/`;
# the test itself installs nothing.
#   --app-only: only the example's packages (what `make demo` needs).
set -e
cd "$(dirname "$0")/../.."

dirs="examples/todomvc test/browser"
[ "${1:-}" = "--app-only" ] && dirs="examples/todomvc"

if [ "${1:-}" != "--app-only" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing (run as root, or: sudo apt-get install chromium)" >&2
    exit 1
  fi
  echo "installing: chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

for dir in $dirs; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

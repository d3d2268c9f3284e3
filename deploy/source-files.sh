#!/bin/sh
# The project's source files, NUL-separated, relative to the repository root:
# what git tracks plus new files it does not ignore (a work tree's state, not
# only the last commit), without files deleted since. Outside a git checkout:
# every file but build output and node_modules.
set -eu
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done; :' _
else
  find . -type f ! -path './build/*' ! -path '*/node_modules/*' ! -path './.git/*' ! -name '*.o' ! -name '*.so' \
    ! -path './gateway/build*' ! -name livestore-gateway -printf '%P\0'
fi

#!/bin/bash
# `make soak`: the long mixed-load run (not part of `make test`). Builds and
# installs like `make test`, then runs test/soak/soak.mjs on a throwaway
# cluster: SOAK_MINUTES (default 10) of pushes from SOAK_WRITERS (50) and live
# pulls from SOAK_READERS (200) over SOAK_STORES (25) stores, RSS sampled every
# 10 s, then an exact audit. The report (summary.txt, rss.csv, gateway.log)
# goes to build/soak/<time>/ (SOAK_OUT overrides). Other knobs: see soak.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
sh test/install-deps.sh
make -s
make -s install >/dev/null
exec node test/soak/soak.mjs

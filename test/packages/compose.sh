#!/usr/bin/env bash
# deploy/container/compose.yaml is valid compose, as written and with its
# Electric variant uncommented (docker-compose's own schema check, offline).
set -euo pipefail
cd "$(dirname "$0")/../../deploy/container"
if ! command -v docker-compose >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "compose: docker-compose is missing (apt-get install docker-compose)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
docker-compose -f compose.yaml config -q
echo "  compose.yaml: valid"
variant=.compose-electric-check.yaml
trap 'rm -f "$variant"' EXIT
sed -e 's/^  # electric:/  electric:/' -e 's/^  #   /    /' -e 's/^    # command:/    command:/' \
    -e 's/^      # ELECTRIC_/      ELECTRIC_/' -e 's/^      # electric:/      electric:/' \
    -e 's/^      #   condition:/        condition:/' compose.yaml >"$variant"
out=$(ELECTRIC_SECRET=check docker-compose -f "$variant" config)
for want in 'image: docker.io/electricsql/electric' 'ELECTRIC_URL: http://electric:3000' 'wal_level=logical'; do
  grep -q -- "$want" <<<"$out" || { echo "compose: the Electric variant lacks '$want'" >&2; exit 1; }
done
echo "  compose.yaml with Electric: valid"

#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --only berth|distribution] [-- --json] [-- --s3]
# Installs CNCF Distribution (Debian's docker-registry) when missing, then runs the harness.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/docker-registry ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "[bench] installing docker-registry (CNCF Distribution) from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y docker-registry >/dev/null || { apt-get update >/dev/null && apt-get install -y docker-registry >/dev/null; }
  else
    echo "[bench] docker-registry is not installed and we are not root: Distribution will be skipped" >&2
  fi
fi

# Measure Berth as production runs it: compiled, not through tsx.
npm run --silent build
exec npx tsx bench/main.ts "$@"

#!/usr/bin/env bash
# Runs every test, on SQLite and then on PostgreSQL, after installing what the tests need when it
# is missing: npm packages, the real registry clients (skopeo, podman, buildah, umoci, containerd's
# ctr, the docker CLI and daemon) and a running PostgreSQL. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- registry clients -------------------------------------------------------
# tool[:Debian package, when the name differs]; dockerd is the real Docker daemon of the login tests.
missing=()
for entry in skopeo podman buildah umoci containerd ctr:containerd dockerd:docker.io; do
  tool=${entry%%:*} package=${entry#*:}
  command -v "$tool" >/dev/null || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # podman as root on vfs needs no more than its recommends' core; uidmap keeps it quiet.
  apt_install "${missing[@]}" uidmap || { log "could not install ${missing[*]} (need root and Debian's apt)"; exit 1; }
fi
# docker.io brings the docker CLI too, when the machine has none.
if ! command -v docker >/dev/null; then
  log "installing docker.io (for the docker CLI)"
  apt_install docker.io || { log "could not install docker.io (need root and Debian's apt)"; exit 1; }
fi

# --- PostgreSQL -------------------------------------------------------------
export BERTH_TEST_DATABASE_URL="${BERTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
  if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing postgresql"
    apt_install postgresql postgresql-client || { log "could not install PostgreSQL"; exit 1; }
    # A cluster this script installed is a throwaway test database: trust loopback connections.
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    done
  fi
  log "starting postgresql"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then log "PostgreSQL is not reachable at 127.0.0.1:5432"; exit 1; fi
if ! psql "${BERTH_TEST_DATABASE_URL}" -qtAc 'select 1' >/dev/null 2>&1; then
  log "creating database test"
  psql "${BERTH_TEST_DATABASE_URL%/*}/postgres" -qc 'CREATE DATABASE test' >/dev/null \
    || { log "cannot connect to ${BERTH_TEST_DATABASE_URL}"; exit 1; }
fi

# --- npm packages -----------------------------------------------------------
if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
  log "installing npm packages"
  npm install --no-audit --no-fund
  touch node_modules
fi

# --- type check, then the suite on both backends ----------------------------
log "type check"
npx tsc --noEmit -p .

mkdir -p test-results
status=0
for backend in sqlite postgres; do
  log "vitest on $backend"
  BERTH_TEST_DB=$backend npx vitest run --reporter=default --reporter=json \
    --outputFile.json="test-results/$backend.json" "$@" || status=1
done

node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const backend of ["sqlite", "postgres"]) {
    try {
      const r = require(`./test-results/${backend}.json`);
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
      // A file whose setup failed fails no test of its own: count the file.
      if (r.numFailedTests === 0) failed += r.numFailedTestSuites;
    } catch { failed += 1; console.log(`no results for ${backend}`); }
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status

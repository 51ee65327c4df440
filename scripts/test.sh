#!/usr/bin/env bash
# Runs every test, on SQLite and then on PostgreSQL, then the S3-backed tests on PostgreSQL with an S3
# blob store, after installing what the tests need when it is missing: npm packages, the real registry
# clients (skopeo, podman, buildah, umoci, containerd's ctr, the docker CLI and daemon), a running
# PostgreSQL and a throwaway Ceph RADOS Gateway (scripts/rgw.sh; skipped when BERTH_TEST_S3_ENDPOINT is
# set). Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  # --no-upgrade: a package that is already installed stays at its version.
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends --no-upgrade "$@" >/dev/null
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
# CI runs on a clean clone: `npm install` must not have rewritten the committed lockfile.
if [ "${CI:-}" = true ] && command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! git diff --quiet -- package-lock.json; then
    log "npm install changed the committed package-lock.json; commit what it wrote:"
    git --no-pager diff --stat -- package-lock.json
    exit 1
  fi
fi

# --- S3: a throwaway Ceph RADOS Gateway ------------------------------------
# Stopped (and its folder removed) when this script ends, however it ends.
rgw_dir=""
stop_rgw() {
  if [ -n "$rgw_dir" ]; then bash scripts/rgw.sh stop "$rgw_dir" || true; rgw_dir=""; fi
}
trap stop_rgw EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -z "${BERTH_TEST_S3_ENDPOINT:-}" ]; then
  if ! command -v radosgw >/dev/null; then
    log "installing ceph-mon ceph-osd radosgw ceph-common (for a test S3 server)"
    apt_install ceph-mon ceph-osd radosgw ceph-common || { log "could not install Ceph (need root and Debian's apt)"; exit 1; }
  fi
  log "starting Ceph RGW"
  # Under /tmp whatever TMPDIR is: Ceph's admin socket paths must stay short.
  rgw_dir=$(mktemp -d /tmp/berth-rgw-XXXXXX)
  if ! bash scripts/rgw.sh start "$rgw_dir"; then
    # rgw.sh has said which step failed and stopped its daemons; keep its logs.
    log "could not start the test S3 server (Ceph RGW); its logs are in $rgw_dir"
    rgw_dir=""
    exit 1
  fi
  set -a
  # shellcheck source=/dev/null
  . "$rgw_dir/env"
  set +a
fi
export BERTH_TEST_S3_ENDPOINT BERTH_TEST_S3_BUCKET BERTH_TEST_S3_REGION BERTH_TEST_S3_ACCESS_KEY_ID BERTH_TEST_S3_SECRET_ACCESS_KEY

# --- type check, then the suite on both backends, then the S3 pass ----------
log "type check"
npx tsc --noEmit -p .
# The tests run berth as it ships: bin/ runs the compiled dist/.
log "build"
npm run --silent build

mkdir -p test-results
status=0
for backend in sqlite postgres; do
  log "vitest on $backend"
  rm -f "test-results/$backend.json"
  BERTH_TEST_DB=$backend npx vitest run --reporter=default --reporter=json \
    --outputFile.json="test-results/$backend.json" "$@" || status=1
done

# The tests that exercise the blob store, again with blobs in S3 .
s3_candidates=(
  test/integration/s3-blobs.test.ts
  test/unit/storage/s3-blob-store.test.ts
  test/integration/conformance.test.ts
  test/e2e/skopeo-big-image.test.ts
  test/e2e/podman.test.ts
  test/integration/gc-soak.test.ts
  test/integration/multi-node.test.ts
)
s3_files=()
for file in "${s3_candidates[@]}"; do [ -e "$file" ] && s3_files+=("$file"); done
# Arguments that name files (a path or a .ts file) narrow the S3 pass to the files they match, as
# vitest matches them; other arguments (options, -t patterns) go to it as they are.
s3_filters=() s3_args=()
for arg in "$@"; do
  if [[ $arg != -* && ( -e $arg || $arg == */* || $arg == *.ts ) ]]; then arg=${arg#"$PWD"/}; s3_filters+=("${arg#./}"); else s3_args+=("$arg"); fi
done
if [ ${#s3_filters[@]} -gt 0 ]; then
  narrowed=()
  for file in "${s3_files[@]}"; do
    for filter in "${s3_filters[@]}"; do [[ $file == *"$filter"* ]] && { narrowed+=("$file"); break; }; done
  done
  s3_files=("${narrowed[@]}")
fi
backends=(sqlite postgres)
rm -f test-results/s3.json
if [ ${#s3_files[@]} -gt 0 ]; then
  backends+=(s3)
  log "vitest on postgres with S3 blobs (${#s3_files[@]} files)"
  BERTH_TEST_DB=postgres BERTH_TEST_STORAGE=s3 npx vitest run --reporter=default --reporter=json \
    --outputFile.json=test-results/s3.json "${s3_files[@]}" "${s3_args[@]}" || status=1
else
  log "no S3 pass: the arguments select none of its files"
fi

node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const backend of process.argv.slice(1)) {
    try {
      const r = require(`./test-results/${backend}.json`);
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
      // A file whose setup failed fails no test of its own: count the file.
      if (r.numFailedTests === 0) failed += r.numFailedTestSuites;
    } catch { failed += 1; console.log(`no results for ${backend}`); }
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "${backends[@]}"
exit $status

#!/usr/bin/env bash
# A throwaway S3 server for the tests: a single-node Ceph cluster (one mon, one memstore OSD, no mgr)
# and a RADOS Gateway, on loopback only, everything in one folder.
#
#   bash scripts/rgw.sh start DIR   # DIR must be missing or empty; keep its path short (admin sockets)
#   bash scripts/rgw.sh stop DIR    # stops the daemons (rgw, osd, mon) and removes DIR
#
# start writes DIR/env (shell-sourceable BERTH_TEST_S3_* lines). Environment:
#   BERTH_RGW_PORT            S3 port (default: a free one)
#   BERTH_RGW_BUCKET          bucket to create (default berth-test)
#   BERTH_RGW_MEMSTORE_BYTES  OSD capacity, in RAM (default 3 GiB). A full memstore hangs writes.
# Needs ceph-mon, ceph-osd, radosgw and ceph-common (Debian 12: Ceph 16.2) and the npm package
# @aws-sdk/client-s3 in this checkout's node_modules.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
me="rgw.sh"
rgw_name=client.rgw.berth

say() { printf '[%s] %s\n' "$me" "$*" >&2; }
usage() { say "usage: bash scripts/rgw.sh start|stop DIR"; exit 2; }

[ $# -eq 2 ] || usage
cmd=$1
case $2 in /*) dir=$2 ;; *) dir=$PWD/$2 ;; esac
dir=${dir%/}
[ -n "$dir" ] || usage

# --- stop ---------------------------------------------------------------------

# pid_of NAME: the recorded PID of a daemon, when that process is still ours (its command line names our ceph.conf).
pid_of() {
  local file=$dir/run/$1.pid pid
  [ -s "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/ceph.conf" || return 1
  echo "$pid"
}

alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# stop_daemon NAME SECONDS: SIGTERM, wait, then SIGKILL (radosgw ignores SIGTERM when the memstore is full).
stop_daemon() {
  local name=$1 seconds=$2 pid i
  pid=$(pid_of "$name") || { rm -f "$dir/run/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    say "$name (pid $pid) did not stop in ${seconds}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$dir/run/$name.pid"
}

stop_all() {
  stop_daemon rgw 5
  stop_daemon osd 5
  stop_daemon mon 5
}

if [ "$cmd" = stop ]; then
  [ -e "$dir" ] || exit 0
  if [ ! -e "$dir/.berth-rgw" ]; then say "$dir was not made by rgw.sh start: not touching it"; exit 1; fi
  stop_all
  rm -rf -- "$dir"
  exit 0
fi
[ "$cmd" = start ] || usage

# --- start --------------------------------------------------------------------

started=$EPOCHREALTIME
checker_pid=""
made_dir=0
step=""
step_log=""
elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
# begin STEP [LOG]: the step now running and the log to show if it fails; times go to DIR/log/steps.log.
begin() {
  step=$1
  [ $# -lt 2 ] || step_log=$2
  [ ! -d "$dir/log" ] || echo "$(elapsed)s $step" >>"$dir/log/steps.log"
}

# fail MESSAGE: one clear line naming the failed step, the tail of that daemon's log, then stop what we started.
fail() {
  trap - ERR INT TERM
  [ -z "$checker_pid" ] || kill "$checker_pid" 2>/dev/null || true
  say "start failed: ${step:-setup}${1:+: $1}"
  if [ -n "$step_log" ] && [ -s "$step_log" ]; then
    say "--- last lines of $step_log"
    tail -n 25 "$step_log" >&2
    say "---"
  fi
  if [ "$made_dir" = 1 ]; then
    stop_all
    say "logs kept in $dir (remove with: bash scripts/rgw.sh stop $dir)"
  fi
  exit 1
}
trap 'fail "command failed (line $LINENO)"' ERR
trap 'fail interrupted' INT TERM

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool node; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)"
done
[ -d "$repo/node_modules/@aws-sdk/client-s3" ] || fail "@aws-sdk/client-s3 is missing from $repo/node_modules (npm install)"

step="prepare $dir"
[ ${#dir} -le 60 ] || fail "path too long for Ceph's admin sockets (keep it under 60 characters)"
if [ -e "$dir/.berth-rgw" ]; then
  # What a failed start left (its logs): reuse the folder, unless its daemons still run.
  for name in rgw osd mon; do ! pid_of "$name" >/dev/null || fail "a cluster is running there (bash scripts/rgw.sh stop $dir)"; done
  find "$dir" -mindepth 1 -delete
elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
  fail "not empty"
fi
mkdir -p "$dir"/{mon,osd/osd.0,rgw,run,log}
touch "$dir/.berth-rgw"
made_dir=1

# The S3 client of the readiness check: http endpoint, so no CA bundle; Pacific RGW needs checksums off.
s3node() {
  (cd "$repo" && AWS_CA_BUNDLE= AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true exec node -e "$1" -- "${@:2}")
}

# --- ports: mon, a small msgr range for the OSD, RGW ---------------------------------
begin "pick free ports"
msgr_count=8
# Every local TCP port in use in this network namespace (bound, listening or connected), from /proc.
declare -A used=()
for port in $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
  used[$((16#$port))]=1
done
rgw_port=${BERTH_RGW_PORT:-}
if [ -n "$rgw_port" ]; then
  [[ $rgw_port =~ ^[0-9]+$ ]] && [ "$rgw_port" -ge 1 ] && [ "$rgw_port" -le 65535 ] || fail "BERTH_RGW_PORT=$rgw_port is not a port"
  [ -z "${used[$rgw_port]:-}" ] || fail "BERTH_RGW_PORT $rgw_port is in use"
fi
mon_port=""
for ((attempt = 0; attempt < 200; attempt++)); do
  # mon, then the msgr range, then RGW; below the Linux ephemeral range (32768+), so outgoing
  # connections do not take them meanwhile.
  base=$((20000 + RANDOM % 12000)) ok=1
  for ((p = base; p <= base + msgr_count + 1; p++)); do
    if [ -n "${used[$p]:-}" ] || [ "$p" = "$rgw_port" ]; then ok=0; break; fi
  done
  if [ "$ok" = 1 ]; then mon_port=$base; break; fi
done
[ -n "$mon_port" ] || fail "no free range of $((msgr_count + 2)) ports found"
rgw_port=${rgw_port:-$((mon_port + msgr_count + 1))}
msgr_min=$((mon_port + 1)) msgr_max=$((mon_port + msgr_count))

fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
access_key=$(hex 10 | tr a-f A-F)
secret_key=$(hex 20)
bucket=${BERTH_RGW_BUCKET:-berth-test}
memstore_bytes=${BERTH_RGW_MEMSTORE_BYTES:-$((3 * 1024 * 1024 * 1024))}
conf=$dir/ceph.conf

cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind port min = $msgr_min
ms bind port max = $msgr_max
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pidfile
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
paxos propose interval = 0.1
mon data avail warn = 2
mon data avail crit = 1
ms mon client mode = crc secure

[mon]
mon data = $dir/mon/\$name

[osd]
osd data = $dir/osd/\$name
osd journal = $dir/osd/\$name/journal
osd objectstore = memstore
memstore device bytes = $memstore_bytes

[$rgw_name]
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw thread pool size = 128
rgw gc obj min wait = 30
rgw gc processor period = 30
EOF
: >"$dir/keyring"

ceph_() { timeout 20 ceph -c "$conf" --connect-timeout 15 "$@"; }

# start_daemon NAME COMMAND...: in the background, in its own session (an interrupt of the caller's
# terminal does not hit it; stop takes them down in order), PID recorded in DIR/run/NAME.pid.
start_daemon() {
  local name=$1; shift
  setsid "$@" -c "$conf" -f </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

# --- mon ------------------------------------------------------------------------
begin "create the monitor" "$dir/log/mon.a.log"
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >"$dir/log/monmaptool.out" 2>&1 \
  || { step_log=$dir/log/monmaptool.out; fail; }
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1 \
  || { step_log=$dir/log/mon-mkfs.out; fail; }
begin "start the monitor"
start_daemon mon ceph-mon -i a
mon_pid=$(<"$dir/run/mon.pid")

# The OSD's store does not need the mon: make it while the mon starts.
begin "create the OSD store" "$dir/log/osd-mkfs.out"
ceph-osd -c "$conf" -i 0 --mkfs --no-mon-config --osd-uuid "$osd_uuid" >"$step_log" 2>&1 || fail

# Until the mon listens (read from /proc: a CLI call costs ~0.4 s), so that a mon that dies fails fast.
begin "wait for the monitor to listen on port $mon_port" "$dir/log/mon.a.log"
listening() { awk -v port="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 } END { exit !found }' /proc/net/tcp; }
for ((i = 0; ; i++)); do
  listening "$mon_port" && break
  alive "$mon_pid" || fail "ceph-mon exited"
  [ "$i" -lt 400 ] || fail "not listening after 20s"
  sleep 0.05
done

begin "register the OSD with the monitor" "$dir/log/ceph-cli.out"
if ! osd_id=$(ceph_ osd new "$osd_uuid" 0 2>>"$step_log"); then
  alive "$mon_pid" || { step_log=$dir/log/mon.a.log; fail "ceph-mon exited"; }
  fail "no answer from the monitor on port $mon_port"
fi
[ "$osd_id" = 0 ] || fail "got osd id '$osd_id'"
begin "start the OSD" "$dir/log/osd.0.log"
start_daemon osd ceph-osd -i 0
osd_pid=$(<"$dir/run/osd.pid")

# The OSD logs this when the mon's map has it up (polling its log is cheaper than the CLI).
begin "wait for the OSD to be up"
for ((i = 0; ; i++)); do
  grep -q 'state: booting -> active' "$dir/log/osd.0.log" 2>/dev/null && break
  alive "$osd_pid" || fail "ceph-osd exited"
  [ "$i" -lt 400 ] || fail "osd.0 not up after 20s"
  sleep 0.05
done

# --- rgw ------------------------------------------------------------------------
# The S3 check starts now, so loading the SDK (~0.4 s) overlaps the user creation; it polls the port
# until radosgw answers a signed ListBuckets, then creates the bucket and writes and deletes an object
# (so a store that cannot take data fails here, not in the first test).
endpoint=http://127.0.0.1:$rgw_port
s3node '
  const { S3Client, ListBucketsCommand, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand } = require("@aws-sdk/client-s3");
  const { readFileSync } = require("node:fs");
  const [endpoint, accessKeyId, secretAccessKey, bucket, pidFile] = process.argv.slice(1);
  const s3 = new S3Client({
    endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED", maxAttempts: 1,
  });
  const die = (message) => { console.error(message); process.exit(1); };
  // false once radosgw has started and exited; true before it starts.
  const alive = () => {
    let pid;
    try { pid = Number(readFileSync(pidFile, "utf8")); } catch { return true; }
    try { process.kill(pid, 0); return true; } catch { return false; }
  };
  (async () => {
    const deadline = Date.now() + 90_000;
    let last = "";
    for (;;) {
      if (!alive()) die("radosgw exited");
      try { await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(3000) }); break; } catch (e) { last = `${e?.name ?? e}${e?.message ? `: ${e.message}` : ""}`; }
      if (Date.now() > deadline) die(`no signed ListBuckets in 90s (last: ${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const within = { abortSignal: AbortSignal.timeout(60_000) };
    try { await s3.send(new CreateBucketCommand({ Bucket: bucket }), within); }
    catch (e) { if (e?.name !== "BucketAlreadyOwnedByYou") die(`CreateBucket ${bucket}: ${e?.name}: ${e?.message}`); }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: ".berth-rgw-probe", Body: "ok" }), within);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: ".berth-rgw-probe" }), within);
  })().catch((e) => die(`probe object: ${e?.name}: ${e?.message}`));
' "$endpoint" "$access_key" "$secret_key" "$bucket" "$dir/run/rgw.pid" 2>"$dir/log/s3-check.out" &
checker_pid=$!

begin "create the S3 user" "$dir/log/radosgw-admin.out"
timeout 60 radosgw-admin -c "$conf" -n "$rgw_name" user create --uid=berth --display-name=berth \
  --access-key="$access_key" --secret-key="$secret_key" >"$step_log" 2>&1 || fail

begin "start radosgw" "$dir/log/$rgw_name.log"
start_daemon rgw radosgw -n "$rgw_name"

begin "wait for S3 on port $rgw_port"
wait "$checker_pid" || { checker_pid=""; fail "$(tail -n 1 "$dir/log/s3-check.out")"; }
checker_pid=""

cat >"$dir/env" <<EOF
BERTH_TEST_S3_ENDPOINT=$endpoint
BERTH_TEST_S3_BUCKET=$bucket
BERTH_TEST_S3_REGION=us-east-1
BERTH_TEST_S3_ACCESS_KEY_ID=$access_key
BERTH_TEST_S3_SECRET_ACCESS_KEY=$secret_key
EOF
trap - ERR INT TERM
begin ready
say "S3 at $endpoint, bucket $bucket, in $(elapsed)s (stop: bash scripts/rgw.sh stop $dir)"

// `npm run bench -- --s3`: Berth (BERTH_STORAGE=s3) and Distribution (its s3 driver) on one Ceph
// RGW that this run starts and stops, each under its own prefix, with RGW's own PUT/GET through
// the AWS SDK as the ceiling. The memstore is RAM: every scenario's bytes are deleted (and RGW's
// garbage collector run) before the next, a scenario that would not fit is cut down, and the
// concurrent-push memory runs get a fresh RGW each (an OSD never gives freed memstore RAM back).
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createBenchNamespace, credentialsFromEnv, ownerCredentials, type Credentials } from "./auth.js";
import { pull, pushChunked, pushMonolithic, timeInterleaved, type Transfer } from "./blob-scenarios.js";
import { ensureDiskSpace, makeBlobFiles, type BlobFile } from "./blobs.js";
import { RegistryClient } from "./http-client.js";
import type { Options, S3Sizes } from "./options.js";
import { formatMarkdown, formatTable, writeJson, type Cell, type Row } from "./report.js";
import { berthBlobKey, memstoreUsed, rawGet, rawPut, reclaim, startRgw, type Rgw } from "./rgw.js";
import { cpuSeconds, listeningPid, readMemory, samplePeakRss } from "./rss.js";
import { berthCommand, DISTRIBUTION_BIN, makeTempDir, startBerth, startDistribution, type Env, type Server } from "./servers.js";
import { makeOciLayout, skopeoAvailable, skopeoPull, skopeoPush } from "./skopeo.js";

const MiB = 1 << 20;
const BERTH_PREFIX = "berth/";
const DIST_ROOT = "distribution"; // Distribution's rootdirectory, without the leading slash S3 keys do not have
const RAW_PREFIX = "raw/";
const PREFIXES = [BERTH_PREFIX, `${DIST_ROOT}/`, RAW_PREFIX];
const KNOBS = ["BERTH_BENCH_S3_PART_MIB", "BERTH_BENCH_S3_PARTS_IN_FLIGHT"] as const;
/** Bytes the store holds per byte pushed while a push commits: Distribution's commit copies the upload. */
const STORE_FACTOR = { berth: 1, distribution: 2 } as const;

type Name = "berth" | "distribution";
type Log = (msg: string) => void;

interface Target {
  name: Name;
  server: Server;
  client: RegistryClient;
  pid: number;
  creds: Credentials | undefined;
}

const mib = (bytes: number): string => `${Math.round(bytes / MiB)} MiB`;
const errorCell = (err: unknown): Cell => ({ error: (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 200) });

/** The Berth command with the bench-only S3BlobStore knobs preloaded, when any is set. */
function berthS3Command(log: Log): string[] | string {
  const cmd = berthCommand();
  if (!cmd) return "no Berth build (dist/cli/main.js) and no BERTH_CMD";
  if (!KNOBS.some((k) => process.env[k])) return cmd;
  const knobs = KNOBS.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`).join(" ");
  if (cmd[0] !== process.execPath || !cmd.includes("dist/cli/main.js")) {
    log(`warning: ${knobs} only apply to the compiled Berth (not BERTH_CMD); ignored`);
    return cmd;
  }
  log(`Berth's S3BlobStore options from the bench knobs: ${knobs}`);
  return [cmd[0], "--import", pathToFileURL(join(import.meta.dirname, "s3-store-knobs.mjs")).href, ...cmd.slice(1)];
}

async function startTargets(names: Name[], rgw: Rgw, log: Log, skipped: Partial<Record<Name, Cell>>): Promise<Target[]> {
  const targets: Target[] = [];
  const starters: [Name, () => Promise<Server>][] = [];
  if (names.includes("berth")) {
    const cmd = berthS3Command(log);
    const env: Env = {
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: rgw.endpoint,
      BERTH_S3_BUCKET: rgw.bucket,
      BERTH_S3_REGION: rgw.region,
      BERTH_S3_PREFIX: BERTH_PREFIX,
      BERTH_S3_REDIRECT: "true",
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    };
    if (typeof cmd === "string") skipped.berth = { skipped: cmd };
    else starters.push(["berth", () => startBerth(cmd, env)]);
  }
  if (names.includes("distribution")) {
    if (!existsSync(DISTRIBUTION_BIN)) skipped.distribution = { skipped: `${DISTRIBUTION_BIN} is not installed` };
    else {
      const driver = [
        "  s3:",
        `    region: ${rgw.region}`,
        `    regionendpoint: ${rgw.endpoint}`, // with an endpoint, 2.8 sets path-style itself (it has no forcepathstyle)
        `    bucket: ${rgw.bucket}`,
        `    accesskey: ${rgw.accessKeyId}`,
        `    secretkey: ${rgw.secretAccessKey}`,
        "    secure: false",
        "    v4auth: true",
        `    rootdirectory: /${DIST_ROOT}`,
      ];
      // aws-sdk-go panics at start on AWS_CA_BUNDLE ("HTTPClient's transport unsupported type"); plain http needs none.
      starters.push(["distribution", () => startDistribution({ driver, redirect: true, env: { AWS_CA_BUNDLE: undefined } })]);
    }
  }
  for (const [name, start] of starters) {
    try {
      const server = await start();
      const creds = name === "berth" ? (credentialsFromEnv() ?? ownerCredentials(server.dataDir)) : undefined;
      if (name === "berth" && creds) await createBenchNamespace(server.baseUrl, creds);
      const pid = listeningPid(server.rootPid, server.port) ?? server.rootPid;
      log(`${name} ready on ${server.baseUrl} (serving pid ${pid}), blobs in s3://${rgw.bucket}/${name === "berth" ? BERTH_PREFIX : `${DIST_ROOT}/`}`);
      targets.push({ name, server, client: new RegistryClient(server.baseUrl, creds), pid, creds });
    } catch (err) {
      log(`could not start ${name}: ${err instanceof Error ? err.message : err}`);
      skipped[name] = { error: `did not start: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}` };
    }
  }
  return targets;
}

/** Where a registry's copy of a blob is, for RGW's own GET of the very same object. */
function storedKey(name: Name, digest: string): string {
  if (name === "berth") return berthBlobKey(BERTH_PREFIX, digest);
  const hex = digest.slice("sha256:".length);
  return `${DIST_ROOT}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}

/** Does a blob GET answer with a redirect to the object store? (The pull rows follow it either way.) */
async function redirectOf(t: Target, path: string, rgw: Rgw): Promise<string> {
  const reply = await t.client.send("GET", path);
  const loc = reply.headers.location;
  if (reply.status >= 300 && reply.status < 400 && loc) {
    return new URL(loc).origin === new URL(rgw.endpoint).origin ? `${reply.status} to RGW` : `${reply.status} to ${new URL(loc).origin}`;
  }
  return `no redirect (${reply.status})`;
}

/** An RGW and the registries on it; stopping it frees the memstore's RAM whole (glibc keeps what objects free). */
interface Cluster {
  rgw: Rgw;
  targets: Target[];
  stop(): Promise<void>;
}

async function startCluster(sizes: S3Sizes, names: Name[], log: Log, skipped: Partial<Record<Name, Cell>>): Promise<Cluster> {
  const t0 = performance.now();
  const rgw = await startRgw(sizes.memstoreBytes);
  log(`RGW at ${rgw.endpoint} (memstore ${mib(sizes.memstoreBytes)}), bucket ${rgw.bucket}, in ${((performance.now() - t0) / 1000).toFixed(1)}s (${rgw.dir})`);
  const targets = await startTargets(names, rgw, log, skipped).catch((err: unknown) => {
    rgw.stop();
    throw err;
  });
  return {
    rgw,
    targets,
    async stop() {
      for (const t of targets) {
        t.client.close();
        await t.server.stop();
      }
      rgw.stop();
    },
  };
}

/**
 * One untimed push and pull per registry before anything is measured: Berth's JIT is cold on its
 * first requests (its first 100 MiB push takes ~3× the CPU of the next), and both open their pools.
 */
async function warmUp(c: Cluster, blob: BlobFile, log: Log): Promise<void> {
  for (const t of c.targets) {
    try {
      await pushMonolithic(t.client, "bench/s3-warmup", blob);
      await pull(t.client, `/v2/bench/s3-warmup/blobs/${blob.digest}`, blob);
    } catch (err) {
      log(`${t.name} warm-up FAILED: ${err instanceof Error ? err.message : err}`);
    }
  }
  await reclaim(c.rgw, PREFIXES);
}

/** Run work while sampling the memstore's fill every 500 ms; resolves with the highest sample. */
async function sampleMemstore<T>(rgw: Rgw, work: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  let peakBytes = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    memstoreUsed(rgw)
      .then((used) => (peakBytes = Math.max(peakBytes, used)))
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 500);
  try {
    const result = await work();
    return { result, peakBytes };
  } finally {
    clearInterval(timer);
  }
}

export async function runS3Bench(opts: Options, log: Log): Promise<boolean> {
  const sizes: S3Sizes = opts.s3!;
  const busy = loadavg()[0]!;
  if (busy > 0.5) log(`warning: load average is ${busy.toFixed(1)} before we start; the numbers will be noisy`);
  const { layerBytes, layerCount, concurrentPushes: pushes, concurrentBytes } = sizes;
  ensureDiskSpace(tmpdir(), 2 * layerCount * layerBytes + layerBytes + 2 * pushes * concurrentBytes + 1024 * MiB);
  const budget = sizes.memstoreBytes - sizes.headroomBytes;
  const names: Name[] = opts.only ? [opts.only] : ["berth", "distribution"];

  const skipped: Partial<Record<Name, Cell>> = {};
  const rows: Row[] = [];
  const row = (scenario: string, unit: string): Row => {
    const r: Row = { scenario, unit, cells: { ...skipped } };
    rows.push(r);
    return r;
  };
  const notes: string[] = [];
  const blobDir = makeTempDir("s3-blobs");
  const warm = (await makeBlobFiles(blobDir, "warmup", 1, 16 * MiB))[0]!;

  // --- Part 1: both registries on one RGW, one scenario after the other, the bucket emptied between.
  log(`part 1: transfers, both registries on one RGW (at most ${mib(budget)} stored at once)`);
  const c = await startCluster(sizes, names, log, skipped);
  if (c.targets.length === 0) {
    await c.stop();
    if (Object.values(skipped).some((cell) => "error" in cell)) throw new Error("no registry started");
    log("nothing to benchmark");
    return true;
  }
  const { rgw, targets } = c;
  const byName = (n: Name): Target | undefined => targets.find((t) => t.name === n);
  const settle = async (what: string): Promise<void> => {
    const used = await reclaim(rgw, PREFIXES);
    log(`${what}: bucket emptied, RGW gc run; memstore holds ${mib(used)}`);
  };

  const startRss = row("RSS after start", "MiB");
  for (const t of targets) startRss.cells[t.name] = { value: readMemory(t.pid).rssKiB / 1024 };
  log(`RGW daemons after start: radosgw ${mib(readMemory(rgw.pids.rgw).rssKiB * 1024)}, ceph-osd ${mib(readMemory(rgw.pids.osd).rssKiB * 1024)}`);
  const berth = byName("berth");
  if (berth && KNOBS.some((k) => process.env[k])) {
    const line = /\[bench-knobs\].*/.exec(berth.server.logTail())?.[0];
    log(line ? `berth: ${line}` : "warning: the bench knobs are set but Berth's log does not show them applied");
    if (!line) notes.push("bench knobs set but not applied");
  }
  await warmUp(c, warm, log);

  const label = `${layerCount}×${layerBytes / MiB} MiB`;
  log(`generating ${2 * layerCount} × ${layerBytes / MiB} MiB blobs`);
  const monoBlobs = await makeBlobFiles(blobDir, "mono", layerCount, layerBytes);
  const chunkBlobs = await makeBlobFiles(blobDir, "chunked", layerCount, layerBytes);

  const transferRow = async (scenario: string, blobs: BlobFile[], runners: Partial<Record<Name | "ceiling", (b: BlobFile) => Promise<void>>>): Promise<Row> => {
    const r = row(scenario, "MiB/s");
    const cpu0 = new Map(targets.map((t) => [t.name, cpuSeconds(t.pid)]));
    const results = await timeInterleaved(blobs, runners, true);
    for (const [name, res] of Object.entries(results) as [Name | "ceiling", Transfer | Error][]) {
      const t = name === "ceiling" ? undefined : byName(name);
      const cpu = t ? cpuSeconds(t.pid) - cpu0.get(t.name)! : undefined;
      r.cells[name] = res instanceof Error ? errorCell(res) : { value: res.mibPerSec, detail: { ...res, ...(cpu === undefined ? {} : { serverCpuSeconds: cpu }) } };
      const how = res instanceof Error ? `FAILED ${res.message}` : `${res.mibPerSec.toFixed(1)} MiB/s, ${res.perBlobSeconds.map((x) => x.toFixed(2)).join("/")} s`;
      log(`${name === "ceiling" ? "rgw raw" : name} ${scenario}: ${how}${cpu === undefined ? "" : `, server CPU ${cpu.toFixed(2)} s`}`);
    }
    return r;
  };
  const each = (fn: (t: Target) => (b: BlobFile) => Promise<void>): Partial<Record<Name, (b: BlobFile) => Promise<void>>> =>
    Object.fromEntries(targets.map((t) => [t.name, fn(t)]));

  // (a) push: the harness's monolithic PUT, and RGW's own single PUT of the same files.
  const pushRow = await transferRow(`blob push, monolithic (${label})`, monoBlobs, {
    ...each((t) => (b) => pushMonolithic(t.client, "bench/s3-mono", b)),
    ceiling: (b) => rawPut(rgw, `${RAW_PREFIX}${b.digest}`, b),
  });

  // (b) pull through each registry's redirect, against RGW's own GET of the same object.
  const first = monoBlobs[0]!;
  for (const t of targets) {
    const how = await redirectOf(t, `/v2/bench/s3-mono/blobs/${first.digest}`, rgw).catch((err: unknown) => `check failed: ${err}`);
    log(`${t.name} blob GET: ${how}`);
    if (!how.includes("to RGW")) notes.push(`${t.name} blob GET did not redirect to RGW: ${how}`);
  }
  const rawFrom = (byName("berth") ?? targets[0]!).name;
  // Each blob three times: a pull is short, and the machine is shared.
  const pullRow = await transferRow(`blob pull via redirect + verify (${label}, each 3×)`, [...monoBlobs, ...monoBlobs, ...monoBlobs], {
    ...each((t) => (b) => pull(t.client, `/v2/bench/s3-mono/blobs/${b.digest}`, b)),
    ceiling: (b) => rawGet(rgw, storedKey(rawFrom, b.digest), b),
  });
  await settle("after push/pull");

  await transferRow(
    `blob push, ${sizes.chunkBytes / MiB} MiB chunks (${label})`,
    chunkBlobs,
    each((t) => (b) => pushChunked(t.client, "bench/s3-chunked", b, sizes.chunkBytes)),
  );
  await settle("after chunked push");
  for (const b of [...monoBlobs, ...chunkBlobs]) rmSync(b.path, { force: true });

  // A real client: skopeo copy of a one-layer image, both ways.
  let skopeoPushRow: Row | undefined;
  if (skopeoAvailable()) {
    const layout = await makeOciLayout(join(blobDir, "oci"), layerBytes);
    const scen = `skopeo copy ${Math.round(layout.layerBytes / MiB)} MiB image`;
    skopeoPushRow = row(`${scen}: push`, "MiB/s");
    const pullRowSk = row(`${scen}: pull to dir:`, "MiB/s");
    const out = join(blobDir, "pulled");
    for (const t of targets) {
      for (const [r, what, go] of [
        [skopeoPushRow, "push", () => skopeoPush(layout, t.server.baseUrl, "bench/s3-skopeo", t.creds)],
        [pullRowSk, "pull", () => skopeoPull(t.server.baseUrl, "bench/s3-skopeo", out, t.creds)],
      ] as const) {
        try {
          const seconds = await go();
          r.cells[t.name] = { value: layout.layerBytes / MiB / seconds, detail: { seconds } };
          log(`${t.name} skopeo ${what}: ${seconds.toFixed(2)} s (${(layout.layerBytes / MiB / seconds).toFixed(1)} MiB/s)`);
        } catch (err) {
          r.cells[t.name] = errorCell(err);
          log(`${t.name} skopeo ${what}: FAILED ${err instanceof Error ? err.message : err}`);
        }
      }
    }
    rmSync(layout.dir, { recursive: true, force: true });
  } else {
    notes.push("skopeo is not installed: no skopeo rows");
  }
  await c.stop();

  // --- Part 2, (c): peak RSS of each server during concurrent pushes, each on a fresh RGW of its own
  // (the same build and size), so that neither inherits the other's memstore heap.
  const concLabel = `${pushes} concurrent ${concurrentBytes / MiB} MiB pushes`;
  const rssRow = row(`peak RSS during ${concLabel}`, "MiB");
  const aggRow = row(`aggregate push rate, ${concLabel}`, "MiB/s");
  const files = new Map<number, BlobFile[]>();
  for (const name of names) {
    if (skipped[name]) continue;
    // Distribution's commit copies each upload (UploadPartCopy) before deleting it: twice the bytes at the end.
    const fit = Math.floor(budget / (pushes * STORE_FACTOR[name]) / (16 * MiB)) * 16 * MiB;
    const size = Math.min(concurrentBytes, fit);
    if (size < 16 * MiB) {
      rssRow.cells[name] = aggRow.cells[name] = { skipped: `memstore too small (${mib(budget)} usable)` };
      continue;
    }
    if (size < concurrentBytes) {
      const why =
        `${name}: ${pushes} × ${size / MiB} MiB, not ${concurrentBytes / MiB} MiB: its commit holds each upload twice in the store, and ` +
        `${pushes} × ${concurrentBytes / MiB} MiB × ${STORE_FACTOR[name]} exceeds the ${mib(budget)} this run allows the ${mib(sizes.memstoreBytes)} memstore (--s3-memstore-mib raises it)`;
      notes.push(why);
      log(why);
    }
    let blobs = files.get(size);
    if (!blobs) {
      for (const [, old] of files) for (const b of old) rmSync(b.path, { force: true });
      files.clear();
      log(`generating ${pushes} × ${size / MiB} MiB blobs`);
      blobs = await makeBlobFiles(blobDir, `conc-${size / MiB}`, pushes, size);
      files.set(size, blobs);
    }
    log(`part 2: ${name}, ${pushes} concurrent ${size / MiB} MiB pushes, on a fresh RGW`);
    const cl = await startCluster(sizes, [name], log, skipped);
    const t = cl.targets[0];
    if (!t) {
      await cl.stop();
      rssRow.cells[name] = aggRow.cells[name] = skipped[name] ?? { error: "did not start" };
      continue;
    }
    await warmUp(cl, warm, log);
    const work = blobs;
    try {
      const started = performance.now();
      const cpu0 = cpuSeconds(t.pid);
      const store = await sampleMemstore(cl.rgw, () =>
        samplePeakRss(cl.rgw.pids.osd, () =>
          samplePeakRss(cl.rgw.pids.rgw, () => samplePeakRss(t.pid, () => Promise.all(work.map((b) => pushMonolithic(t.client, "bench/s3-concurrent", b))))),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const osd = store.result;
      const radosgw = osd.result;
      const server = radosgw.result;
      const detail = {
        pid: t.pid,
        pushes,
        blobBytes: size,
        seconds,
        serverCpuSeconds: cpuSeconds(t.pid) - cpu0,
        memstorePeakMiB: store.peakBytes / MiB,
        radosgwPeakMiB: radosgw.peakKiB / 1024,
        osdPeakMiB: osd.peakKiB / 1024,
        vmHwmKiB: readMemory(t.pid).hwmKiB,
      };
      rssRow.cells[name] = { value: server.peakKiB / 1024, detail };
      aggRow.cells[name] = { value: (pushes * size) / MiB / seconds, detail };
      log(
        `${name} ${pushes} × ${size / MiB} MiB concurrent: peak RSS ${(server.peakKiB / 1024).toFixed(0)} MiB, ${seconds.toFixed(1)} s, server CPU ${detail.serverCpuSeconds.toFixed(1)} s ` +
          `(memstore peak ${mib(store.peakBytes)}, radosgw peak RSS ${(radosgw.peakKiB / 1024).toFixed(0)} MiB, ceph-osd ${(osd.peakKiB / 1024).toFixed(0)} MiB)`,
      );
      if (size !== concurrentBytes) {
        rssRow.scenario = `${rssRow.scenario} (${name}: ${pushes}×${size / MiB} MiB)`;
        aggRow.scenario = `${aggRow.scenario} (${name}: ${pushes}×${size / MiB} MiB)`;
      }
    } catch (err) {
      rssRow.cells[name] = aggRow.cells[name] = errorCell(err);
      log(`${name} concurrent pushes FAILED: ${err instanceof Error ? err.message : err}`);
    }
    await cl.stop();
  }

  // Report.
  console.log(
    `\nBerth S3 benchmark — ${cpus().length} cores, node ${process.version}, Ceph RGW (memstore) on loopback, ` +
      `Berth BERTH_S3_REDIRECT=true, Distribution redirect enabled${opts.quick ? ", QUICK sizes" : ""}`,
  );
  const knobs = KNOBS.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  if (knobs.length > 0) console.log(`Berth S3BlobStore knobs: ${knobs.join(" ")}`);
  console.log(formatTable(rows, "rgw raw"));
  console.log("\n" + formatMarkdown(rows, "RGW raw"));
  for (const n of notes) console.log(`note: ${n}`);

  const value = (cell: Cell | undefined): number | undefined => (cell && "value" in cell ? cell.value : undefined);
  /** MiB/s at the median blob time (the blobs of a row are all one size): outliers from other work on the machine drop out. */
  const median = (cell: Cell | undefined): number | undefined => {
    const d = cell && "value" in cell ? (cell.detail as Partial<Transfer> | undefined) : undefined;
    if (!d?.perBlobSeconds?.length || !d.bytes) return undefined;
    const sorted = [...d.perBlobSeconds].sort((a, b) => a - b);
    const mid = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    return d.bytes / d.perBlobSeconds.length / MiB / mid;
  };
  const medianRatio = (a: Cell | undefined, b: Cell | undefined): string => {
    const x = median(a);
    const y = median(b);
    return x !== undefined && y ? `; at median blob times ${(x / y).toFixed(2)}× — ${x.toFixed(1)} vs ${y.toFixed(1)} MiB/s` : "";
  };
  const targetLine = (what: string, got: number | undefined, ok: (x: number) => boolean, show: (x: number) => string): void => {
    if (got === undefined || !Number.isFinite(got)) console.log(`target ${what}: NOT MEASURED`);
    else console.log(`target ${what}: ${ok(got) ? "PASS" : "FAIL"} (${show(got)})`);
  };
  console.log("");
  const bPush = value(pushRow.cells.berth);
  const dPush = value(pushRow.cells.distribution);
  targetLine("Berth push ≥ 1.5× Distribution's", bPush !== undefined && dPush ? bPush / dPush : undefined, (x) => x >= 1.5, (x) => `${x.toFixed(2)}× — ${bPush?.toFixed(1)} vs ${dPush?.toFixed(1)} MiB/s${medianRatio(pushRow.cells.berth, pushRow.cells.distribution)}`);
  if (skopeoPushRow) {
    const b = value(skopeoPushRow.cells.berth);
    const d = value(skopeoPushRow.cells.distribution);
    targetLine("(skopeo) Berth push ≥ 1.5× Distribution's", b !== undefined && d ? b / d : undefined, (x) => x >= 1.5, (x) => `${x.toFixed(2)}× — ${b?.toFixed(1)} vs ${d?.toFixed(1)} MiB/s`);
  }
  const bPull = value(pullRow.cells.berth);
  const rPull = value(pullRow.cells.ceiling);
  targetLine("Berth pull via redirect ≥ 0.9× RGW's own GET", bPull !== undefined && rPull ? bPull / rPull : undefined, (x) => x >= 0.9, (x) => `${x.toFixed(2)}× — ${bPull?.toFixed(1)} vs ${rPull?.toFixed(1)} MiB/s${medianRatio(pullRow.cells.berth, pullRow.cells.ceiling)}`);
  const bRss = value(rssRow.cells.berth);
  targetLine(`Berth peak RSS < 250 MiB during ${concLabel}`, bRss, (x) => x < 250, (x) => `${x.toFixed(0)} MiB`);

  if (opts.json) {
    const path = join(import.meta.dirname, "results.json");
    writeJson(path, meta(opts, notes), rows);
    log(`wrote ${path}`);
  }
  return !rows.some((r) => Object.values(r.cells).some((cell) => "error" in cell));
}

function meta(opts: Options, notes: string[]): Record<string, unknown> {
  const version = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0]!;
    } catch {
      return "";
    }
  };
  return {
    mode: "s3",
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    loadavg: loadavg(),
    distribution: version(DISTRIBUTION_BIN, ["--version"]),
    radosgw: version("radosgw", ["--version"]),
    skopeo: version("skopeo", ["--version"]),
    knobs: Object.fromEntries(KNOBS.filter((k) => process.env[k]).map((k) => [k, process.env[k]])),
    notes,
    options: opts,
  };
}

// Berth vs CNCF Distribution vs a bare node:http ceiling, side by side on loopback.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createBenchNamespace, credentialsFromEnv, ownerCredentials } from "./auth.js";
import { ceilingPull, ceilingPut, pull, pushChunked, pushMonolithic, timeInterleaved, type Transfer } from "./blob-scenarios.js";
import { ensureDiskSpace, makeBlobFile, makeBlobFiles, type BlobFile } from "./blobs.js";
import { runCleanup } from "./cleanup.js";
import { RegistryClient } from "./http-client.js";
import { runLoad, wrkAvailable, type LoadResult } from "./load.js";
import { loadManifestPut, loadRead, manifestCheck, OCI_MANIFEST, pushImage, tagListCheck, type ReadLoad } from "./manifest-scenarios.js";
import { parseOptions } from "./options.js";
import { runS3Bench } from "./s3-bench.js";
import { formatStartup, measureStartup } from "./startup.js";
import { formatTable, writeJson, type Cell, type Row } from "./report.js";
import { listeningPid, readMemory, samplePeakRss } from "./rss.js";
import {
  berthCommand,
  DISTRIBUTION_BIN,
  makeTempDir,
  startBerth,
  startCeiling,
  startDistribution,
  type Server,
  type ServerName,
} from "./servers.js";

const MiB = 1 << 20;
const opts = parseOptions(process.argv.slice(2));
const loadTool = opts.load ?? "node";
if (loadTool === "wrk" && !wrkAvailable()) throw new Error("--load wrk: wrk is not installed (apt-get install wrk)");
const log = (msg: string): void => console.error(`[bench] ${msg}`);

type Runner = (blob: BlobFile) => Promise<void>;

interface Target {
  server: Server;
  client: RegistryClient;
  pid: number;
}

async function measure(what: string, fn: () => Promise<{ value: number; detail?: Record<string, unknown> }>): Promise<Cell> {
  try {
    const out = await fn();
    log(`${what}: ${out.value.toFixed(1)}`);
    return out;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(`${what}: FAILED ${msg}`);
    return { error: msg.split("\n")[0]!.slice(0, 200) };
  }
}

const rate = (t: Transfer) => ({ value: t.mibPerSec, detail: { ...t } });
const rps = (r: LoadResult) => ({ value: r.rps, detail: { ...r } });

async function startAll(skipped: Partial<Record<ServerName, Cell>>): Promise<Target[]> {
  const starters: [ServerName, (() => Promise<Server>) | string][] = [];
  if (opts.only !== "distribution") {
    const cmd = berthCommand();
    starters.push(["berth", cmd ? () => startBerth(cmd, {}, opts.workers) : "dist/ is not built (npm run build), and BERTH_CMD is not set"]);
  }
  if (opts.only !== "berth") {
    starters.push(["distribution", existsSync(DISTRIBUTION_BIN) ? startDistribution : `${DISTRIBUTION_BIN} is not installed`]);
  }
  starters.push(["ceiling", startCeiling]);
  const targets: Target[] = [];
  for (const [name, start] of starters) {
    if (typeof start === "string") {
      log(`skipping ${name}: ${start}`);
      skipped[name] = { skipped: start };
      continue;
    }
    try {
      const server = await start();
      const creds = name === "berth" ? (credentialsFromEnv() ?? ownerCredentials(server.dataDir)) : undefined;
      if (name === "berth" && creds) await createBenchNamespace(server.baseUrl, creds);
      const pid = listeningPid(server.rootPid, server.port) ?? server.rootPid;
      log(`${name} ready on ${server.baseUrl} (serving pid ${pid}${creds ? ", with credentials" : ""})`);
      targets.push({ server, client: new RegistryClient(server.baseUrl, creds), pid });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log(`could not start ${name}: ${msg}`);
      skipped[name] = { error: `did not start: ${msg.split("\n")[0]}` };
    }
  }
  return targets;
}

/** Resolves false when any scenario failed (skips are not failures). */
async function main(): Promise<boolean> {
  const skipped: Partial<Record<ServerName, Cell>> = {};
  const busy = loadavg()[0]!;
  if (busy > 0.5) log(`warning: load average is ${busy.toFixed(1)} before we start; something else is using the CPU and the numbers will be noisy`);
  const sourceBytes = 2 * opts.blobCount * opts.blobBytes + opts.bigLayerBytes;
  ensureDiskSpace(tmpdir(), sourceBytes * 4 + 1024 * MiB); // sources + a copy in each of three servers

  // Before any server runs: start-up times are what an idle machine gives a user.
  const startupRuns = opts.quick ? 11 : 41;
  const startup = measureStartup(startupRuns);
  for (const f of startup) log(`start-up ${f.command}: ${f.medianMs.toFixed(0)} ms (${f.ratio.toFixed(2)}×)`);

  const targets = await startAll(skipped);
  const registries = targets.filter((t) => t.server.name !== "ceiling");
  const ceiling = targets.find((t) => t.server.name === "ceiling");
  if (registries.length === 0) {
    if (Object.values(skipped).some((cell) => "error" in cell)) throw new Error("no registry started");
    log("nothing to benchmark");
    return true;
  }

  const blobDir = makeTempDir("blobs");
  log(`generating ${opts.blobCount * 2} × ${opts.blobBytes / MiB} MiB blobs and a ${opts.bigLayerBytes / MiB} MiB layer`);
  const monoBlobs = await makeBlobFiles(blobDir, "mono", opts.blobCount, opts.blobBytes);
  const chunkBlobs = await makeBlobFiles(blobDir, "chunked", opts.blobCount, opts.blobBytes);
  const bigLayer = await makeBlobFile(blobDir, "big-layer", opts.bigLayerBytes);
  const scratch = makeTempDir("scratch");

  const rows: Row[] = [];
  const row = (scenario: string, unit: string): Row => {
    const r: Row = { scenario, unit, cells: { ...skipped } };
    rows.push(r);
    return r;
  };
  const blobsLabel = `${opts.blobCount}×${opts.blobBytes / MiB} MiB`;

  // Startup memory first, before any scenario grows a heap.
  const startRss = row("RSS after start", "MiB");
  for (const t of targets) startRss.cells[t.server.name] = { value: readMemory(t.pid).rssKiB / 1024 };

  const transferRow = async (scenario: string, blobs: BlobFile[], runnerFor: (t: Target) => Runner | undefined): Promise<void> => {
    const r = row(scenario, "MiB/s");
    const runners: Partial<Record<ServerName, Runner>> = {};
    for (const t of targets) {
      const run = runnerFor(t);
      if (run) runners[t.server.name] = run;
    }
    const results = await timeInterleaved(blobs, runners);
    for (const [name, res] of Object.entries(results) as [ServerName, Transfer | Error][]) {
      r.cells[name] = res instanceof Error ? { error: res.message.slice(0, 200) } : rate(res);
      log(`${name} ${scenario}: ${res instanceof Error ? `FAILED ${res.message}` : res.mibPerSec.toFixed(1)}`);
    }
  };
  await transferRow(`blob push, monolithic (${blobsLabel})`, monoBlobs, (t) =>
    t === ceiling ? (b) => ceilingPut(t.client, b) : (b) => pushMonolithic(t.client, "bench/mono", b),
  );
  await transferRow(`blob push, ${opts.chunkBytes / MiB} MiB chunks (${blobsLabel})`, chunkBlobs, (t) =>
    t === ceiling ? undefined : (b) => pushChunked(t.client, "bench/chunked", b, opts.chunkBytes),
  );
  await transferRow(`blob pull + verify (${blobsLabel})`, monoBlobs, (t) =>
    t === ceiling ? (b) => ceilingPull(t.client, b) : (b) => pull(t.client, `/v2/bench/mono/blobs/${b.digest}`, b),
  );

  const c = opts.concurrency;
  const sec = opts.loadSeconds;
  if (ceiling) {
    // If a registry comes close to this, the load generator is the bottleneck, not the registry.
    const gen = row(`small static GET, c=${c} (generator check)`, "req/s");
    gen.cells.ceiling = await measure(`ceiling static GET (${loadTool})`, async () =>
      rps(await runLoad(loadTool, { url: ceiling.client.url("/static"), method: "GET", headers: {}, concurrency: c, seconds: sec, expectStatus: 200 }, scratch)),
    );
  }

  const manifestGet = row(`manifest GET by tag, c=${c}`, "req/s");
  const manifestHead = row(`manifest HEAD by tag, c=${c}`, "req/s");
  const manifestPut = row(`manifest PUT by tag, c=${c}`, "req/s");
  for (const t of registries) {
    const name = t.server.name;
    const image = await pushImage(t.client, "bench/manifest", ["latest"]).catch((err: unknown) => err as Error);
    if (image instanceof Error) {
      manifestGet.cells[name] = manifestHead.cells[name] = manifestPut.cells[name] = { error: `push image: ${image.message.slice(0, 200)}` };
      log(`${name} image push FAILED: ${image.message}`);
      continue;
    }
    const spec = (method: "GET" | "HEAD"): ReadLoad => ({
      path: "/v2/bench/manifest/manifests/latest",
      method,
      accept: OCI_MANIFEST,
      concurrency: c,
      seconds: sec,
      check: manifestCheck(image),
    });
    manifestGet.cells[name] = await measure(`${name} manifest GET`, async () => rps(await loadRead(t.client, loadTool, spec("GET"), scratch)));
    manifestHead.cells[name] = await measure(`${name} manifest HEAD`, async () => rps(await loadRead(t.client, loadTool, spec("HEAD"), scratch)));
    manifestPut.cells[name] = await measure(`${name} manifest PUT`, async () => rps(await loadManifestPut(t.client, loadTool, "bench/manifest", image, c, sec)));
  }

  const tags = row(`tag list (${opts.tagCount} tags), c=${c}`, "req/s");
  const tagNames = Array.from({ length: opts.tagCount }, (_, i) => `t${String(i).padStart(3, "0")}`);
  for (const t of registries) {
    tags.cells[t.server.name] = await measure(`${t.server.name} tag list`, async () => {
      await pushImage(t.client, "bench/tags", tagNames);
      const spec: ReadLoad = { path: "/v2/bench/tags/tags/list", method: "GET", concurrency: c, seconds: sec, check: tagListCheck(opts.tagCount) };
      return rps(await loadRead(t.client, loadTool, spec, scratch));
    });
  }

  const peak = row(`peak RSS pushing ${opts.bigLayerBytes / MiB} MiB layer`, "MiB");
  for (const t of targets) {
    const push = (b: BlobFile): Promise<void> => (t === ceiling ? ceilingPut(t.client, b) : pushMonolithic(t.client, "bench/big", b));
    peak.cells[t.server.name] = await measure(`${t.server.name} peak RSS`, async () => {
      const { peakKiB } = await samplePeakRss(t.pid, () => push(bigLayer));
      return { value: peakKiB / 1024, detail: { pid: t.pid, vmHwmKiB: readMemory(t.pid).hwmKiB } };
    });
  }

  console.log(`\nBerth benchmark — ${cpus().length} cores, node ${process.version}, load generator: ${loadTool === "wrk" ? "wrk (HEAD: node)" : "node"}${opts.quick ? ", QUICK sizes" : ""}`);
  console.log(formatTable(rows));
  console.log(`\n${formatStartup(startup, startupRuns)}`);
  const genCpu = rows
    .flatMap((r) => Object.values(r.cells))
    .map((cell) => (cell && "value" in cell ? cell.detail?.generatorCpu : undefined))
    .filter((x): x is number => typeof x === "number");
  if (genCpu.length > 0) {
    console.log(`node load generator used at most ${Math.round(Math.max(...genCpu) * 100)}% of a core (near 100% means it, not the server, set the pace)`);
  }
  if (opts.json) {
    const path = join(import.meta.dirname, "results.json");
    writeJson(path, { ...meta(), startup }, rows);
    log(`wrote ${path}`);
  }
  for (const t of targets) {
    t.client.close();
    await t.server.stop();
  }
  return !rows.some((r) => Object.values(r.cells).some((cell) => "error" in cell));
}

function meta(): Record<string, unknown> {
  let distribution = "";
  try {
    distribution = execFileSync(DISTRIBUTION_BIN, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // not installed
  }
  return { date: new Date().toISOString(), node: process.version, cores: cpus().length, loadavg: loadavg(), loadTool, distribution, options: opts };
}

// Last-resort bound on the whole run; each loop has its own bound too.
setTimeout(
  () => {
    console.error("[bench] run exceeded its time limit; stopping");
    runCleanup();
    process.exit(1);
  },
  (opts.quick ? 10 : 45) * 60_000,
).unref();

(opts.s3 ? runS3Bench(opts, log) : main())
  .then((ok) => {
    runCleanup();
    // A missing Berth CLI is a skip (exit 0); a scenario that failed is not.
    process.exit(ok ? 0 : 1);
  })
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    runCleanup();
    process.exit(1);
  });

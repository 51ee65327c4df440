// Starts the three servers side by side on loopback, each in its own process
// group so that one kill by group id stops npx/tsx wrappers and the real server.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { killGroup, onCleanup, removeDirOnExit } from "./cleanup.js";
import { request } from "node:http";
import { cpuSeconds, descendants } from "./rss.js";

export type ServerName = "berth" | "distribution" | "ceiling";

export interface Server {
  name: ServerName;
  baseUrl: string;
  port: number;
  /** pid of the process we spawned (may be a wrapper such as npx). */
  rootPid: number;
  dataDir: string;
  logTail(): string;
  stop(): Promise<void>;
}

export type Env = Record<string, string | undefined>;

export const DISTRIBUTION_BIN = "/usr/bin/docker-registry";
const READY_TIMEOUT_MS = 90_000; // tsx compiles Berth on first start; be patient but bounded

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-bench-${prefix}-`));
  removeDirOnExit(dir);
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The Berth command: BERTH_CMD, else bin/berth.js running the compiled build, as production runs it
 * (run.sh builds it); undefined when there is no build.
 */
export function berthCommand(): string[] | undefined {
  const override = process.env.BERTH_CMD?.trim();
  if (override) return override.split(/\s+/);
  if (!existsSync("dist/cli/main.js")) return undefined;
  return [process.execPath, "--max-semi-space-size=32", "bin/berth.js"];
}

/**
 * `env` adds settings (e.g. BERTH_STORAGE=s3 and its BERTH_S3_*); undefined removes a variable.
 * With `workers`, ready means every worker serves, not just the first.
 */
export async function startBerth(cmd: string[], env: Env = {}, workers?: string): Promise<Server> {
  const port = await freePort();
  const dataDir = makeTempDir("berth");
  const args = [...cmd.slice(1), "serve", "--data", dataDir, "--port", String(port), "--host", "127.0.0.1"];
  if (workers !== undefined) args.push("--workers", workers);
  // Quiet request logging so the logger is not what we measure (Distribution runs at level error too).
  const server = await launch("berth", cmd[0]!, args, port, dataDir, { BERTH_LOG_LEVEL: "error", ...env });
  if (workers !== undefined && workers !== "1") await workersSettled(server, workers === "auto" ? availableParallelism() : Number(workers));
  return server;
}

/**
 * Waits until the supervisor has `count` workers and none of them uses CPU any more: a worker that
 * has opened its listeners is idle, one still starting is busy loading and migrating. (At log level
 * error nothing says so; the first worker answering /v2/ says nothing of the others.)
 */
async function workersSettled(server: Server, count: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "";
  for (let calm = 0; calm < 3; ) {
    if (Date.now() > deadline) throw new Error(`berth: ${count} workers did not settle within ${READY_TIMEOUT_MS / 1000}s:\n${server.logTail()}`);
    await sleep(200);
    const workers = descendants(server.rootPid).slice(1);
    const now = workers.length === count ? workers.map((pid) => `${pid}:${cpuSeconds(pid)}`).join(",") : "";
    calm = now !== "" && now === last ? calm + 1 : 0;
    last = now;
  }
}

/** Distribution's `storage:` driver section (YAML lines indented under `storage:`); filesystem by default. */
export interface DistributionStorage {
  driver: string[];
  /** `redirect: disable:` — only meaningful for object-store drivers. */
  redirect?: boolean;
  env?: Env;
}

export async function startDistribution(storage?: DistributionStorage): Promise<Server> {
  const port = await freePort();
  const dataDir = makeTempDir("distribution");
  const config = join(dataDir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      ...(storage?.driver ?? ["  filesystem:", `    rootdirectory: ${join(dataDir, "storage")}`]),
      ...(storage?.redirect === undefined ? [] : ["  redirect:", `    disable: ${!storage.redirect}`]),
      "  delete:",
      "    enabled: true",
      "  cache:",
      "    blobdescriptor: inmemory",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "  secret: berth-bench-not-a-secret",
      "",
    ].join("\n"),
  );
  return launch("distribution", DISTRIBUTION_BIN, ["serve", config], port, dataDir, storage?.env ?? {});
}

export async function startCeiling(): Promise<Server> {
  const port = await freePort();
  const dataDir = makeTempDir("ceiling");
  // node --import tsx keeps it a single process (no npx/tsx wrapper in between).
  const script = join(import.meta.dirname, "ceiling-server.ts");
  const args = ["--import", "tsx", script, "--dir", dataDir, "--port", String(port), "--host", "127.0.0.1"];
  return launch("ceiling", process.execPath, args, port, dataDir, {});
}

async function launch(
  name: ServerName,
  bin: string,
  args: string[],
  port: number,
  dataDir: string,
  env: Env,
): Promise<Server> {
  // Server output goes to a file: piping it here would cost the harness CPU during load runs.
  const logDir = makeTempDir(`${name}-log`);
  const logPath = join(logDir, "server.log");
  const logFd = openSync(logPath, "a");
  const child: ChildProcess = spawn(bin, args, {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not spawn ${bin}`);
  onCleanup(() => killGroup(pid, "SIGKILL"));
  let exited: string | undefined;
  child.once("exit", (code, sig) => (exited = `exited with ${code ?? sig}`));
  child.once("error", (err) => (exited = `failed to start: ${err.message}`));

  const logTail = (): string => {
    try {
      return readFileSync(logPath, "utf8").slice(-4000);
    } catch {
      return "";
    }
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`${name} ${exited} before it was ready:\n${logTail()}`);
    const status = await probe(`${baseUrl}/v2/`);
    if (status === 200 || status === 401) break;
    if (Date.now() > deadline) {
      killGroup(pid, "SIGKILL");
      throw new Error(`${name} did not answer GET /v2/ within ${READY_TIMEOUT_MS / 1000}s:\n${logTail()}`);
    }
    await sleep(100);
  }

  const stop = async (): Promise<void> => {
    if (exited) return;
    killGroup(pid, "SIGTERM");
    for (let i = 0; i < 30 && !exited; i++) await sleep(100);
    if (!exited) killGroup(pid, "SIGKILL");
  };
  return { name, baseUrl, port, rootPid: pid, dataDir, logTail, stop };
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

// Closed-loop request load at fixed concurrency for a fixed time. The default
// generator is raw keep-alive sockets (raw-http.ts), within noise of wrk here;
// --load wrk uses Debian's wrk instead, for GET only: wrk 4.1 waits for a
// body after a HEAD response that carries Content-Length, and stalls; PUT
// bodies stay with the node generator too.
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { killGroup, onCleanup } from "./cleanup.js";
import { assertLoopback } from "./http-client.js";
import { encodeRequest, RawConnection } from "./raw-http.js";

export type LoadTool = "node" | "wrk";

export interface LoadSpec {
  url: URL;
  method: "GET" | "HEAD" | "PUT";
  headers: Record<string, string>;
  /** Sent with every request (a manifest PUT); the node generator only. */
  body?: Buffer;
  concurrency: number;
  seconds: number;
  expectStatus: number;
}

export interface LoadResult {
  tool: LoadTool;
  rps: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of one core the node generator used (node tool only). */
  generatorCpu?: number;
}

const MAX_REQUESTS = 5_000_000; // a hard count bound on top of the time bound
const WARMUP_SECONDS = 0.5;

export function wrkAvailable(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing; only "not found" means absent.
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

export async function runLoad(tool: LoadTool, spec: LoadSpec, scratchDir: string): Promise<LoadResult> {
  assertLoopback(spec.url);
  if (tool === "wrk" && spec.method === "GET") return runWrk(spec, scratchDir);
  await runNode({ ...spec, seconds: WARMUP_SECONDS }); // warm sockets, JIT and server caches
  return runNode(spec);
}

async function runNode(spec: LoadSpec): Promise<LoadResult> {
  const request = encodeRequest(spec.url, spec.method, spec.headers, spec.body);
  const conns = Array.from({ length: spec.concurrency }, () => new RawConnection(spec.url, request, spec.method === "HEAD"));
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  const worker = async (conn: RawConnection): Promise<void> => {
    while (performance.now() < end && latencies.length + errors < MAX_REQUESTS) {
      const t0 = performance.now();
      const status = await conn.send().catch(() => 0);
      if (status === spec.expectStatus) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(conns.map(worker));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const conn of conns) conn.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  // Near 100% here means the generator, not the server, set the pace.
  const generatorCpu = (cpu.user + cpu.system) / 1e6 / elapsed;
  return { tool: "node", rps: latencies.length / elapsed, requests: latencies.length, errors, p50Ms: pct(0.5), p99Ms: pct(0.99), generatorCpu };
}

async function runWrk(spec: LoadSpec, scratchDir: string): Promise<LoadResult> {
  // wrk has no method flag; a one-line script sets it. No per-response Lua hook:
  // that would cost wrk more than the servers we measure.
  const script = join(scratchDir, `wrk-${spec.method}.lua`);
  writeFileSync(script, `wrk.method = "${spec.method}"\n`);
  const args = (seconds: number): string[] => {
    const a = ["-t1", `-c${spec.concurrency}`, `-d${seconds}s`, "--latency", "-s", script];
    for (const [k, v] of Object.entries(spec.headers)) a.push("-H", `${k}: ${v}`);
    return [...a, spec.url.href];
  };
  await execWrk(args(1)); // warm-up
  const out = await execWrk(args(Math.max(1, Math.round(spec.seconds))));
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? 0);
  const ms = (re: RegExp): number => {
    const m = re.exec(out);
    const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
    return m ? Number(m[1]) * (scale[m[2]!] ?? NaN) : NaN;
  };
  const requests = num(/(\d+) requests in/);
  const seconds = Number(/requests in ([\d.]+)s/.exec(out)?.[1] ?? spec.seconds);
  // wrk counts 3xx as success; the caller checks the status once before the run.
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const socketErrors = [...out.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const ok = requests - non2xx;
  return {
    tool: "wrk",
    rps: ok / seconds,
    requests: ok,
    errors: non2xx + socketErrors,
    p50Ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
  };
}

async function execWrk(args: string[]): Promise<string> {
  const child = spawn("wrk", args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid!;
  onCleanup(() => killGroup(pid, "SIGKILL"));
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? -1)));
  // Bound: wrk stops itself after -d; kill it if it does not.
  const durationArg = args.find((a) => /^-d\d+s$/.test(a)) ?? "-d5s";
  const limitMs = Number(durationArg.slice(2, -1)) * 1000 + 15_000;
  const code = await Promise.race([exited, sleep(limitMs).then(() => -2)]);
  if (code === -2) {
    killGroup(pid, "SIGKILL");
    throw new Error("wrk did not finish in time");
  }
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out.slice(-500)}`);
  return out;
}

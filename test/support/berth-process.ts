import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * `berth` as a real process (`node bin/berth.js …`): what a container runtime or systemd runs.
 * Every process spawned here is remembered until it exits, so a test file can kill what a failed
 * test left behind (`killRunning`).
 */

const berthBin = join(repoRoot, 'bin/berth.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BerthProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

/** A port nobody listens on right now (bound and released; the kernel will not reuse it at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The environment of the child: ours without any BERTH_ setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('BERTH_')) env[key] = value;
  return { ...env, ...extra };
}

const running = new Set<BerthProcess>();

/** Runs `berth <args>`; `port` only names the URL (the args or env must make it listen there). */
export function spawnBerth(args: string[], env: Record<string, string> = {}, port?: number): BerthProcess {
  const child = spawn(process.execPath, [berthBin, ...args], { cwd: repoRoot, env: childEnv(env) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  const exited = new Promise<Exit>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const proc: BerthProcess = { child, url: `http://127.0.0.1:${port ?? 0}`, stdout: () => out, stderr: () => err, exited };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Both outputs of a process, for a failure message. */
export function describeProcess(proc: BerthProcess): string {
  return `--- stdout\n${proc.stdout()}\n--- stderr\n${proc.stderr()}`;
}

/** Polls /healthz until it answers; fails at once if the process exits first. */
export async function waitHealthy(proc: BerthProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`berth exited before it was healthy\n${describeProcess(proc)}`);
    try {
      const response = await fetch(`${proc.url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`berth was not healthy after ${timeoutMs} ms\n${describeProcess(proc)}`);
}

/** `berth serve --data <dataDir>` on a free port, with `env` added, once it is healthy. */
export async function startServe(dataDir: string, env: Record<string, string> = {}): Promise<BerthProcess> {
  const port = await freePort();
  const proc = spawnBerth(['serve', '--data', dataDir, '--port', String(port)], env, port);
  await waitHealthy(proc);
  return proc;
}

function isRunning(proc: BerthProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

/** SIGTERM (a graceful stop), then its exit. */
export async function stopServe(proc: BerthProcess): Promise<Exit> {
  if (isRunning(proc)) proc.child.kill('SIGTERM');
  return proc.exited;
}

/** SIGKILL, then its exit: a node that dies without a word. */
export async function killServe(proc: BerthProcess): Promise<Exit> {
  if (isRunning(proc)) proc.child.kill('SIGKILL');
  return proc.exited;
}

/** Kills every process spawned here that still runs (a failed test must not leave a server behind). */
export async function killRunning(): Promise<void> {
  await Promise.all([...running].map(killServe));
}

/** The JSON lines of stdout; every line must be JSON. */
export function logLines(proc: BerthProcess): Array<Record<string, unknown>> {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
    });
}

/** Polls `probe` until it gives a value (a log line, a pid); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

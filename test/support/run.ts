import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Killed (SIGKILL) after this long; the result then has `signal` set. Default 60 s. */
  timeoutMs?: number;
  /** Extra environment on top of this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's standard input (closed after it); without it, stdin is /dev/null. */
  input?: string | Buffer;
}

/** Runs a command without a shell, capturing its output; never throws on a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const line = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}); // a command that exits without reading its input
      child.stdin!.end(options.input);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command: line,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Date.now() - started,
      });
    });
  });
}

/** A readable account of a finished command, for assertion messages. */
export function describeRun(result: RunResult): string {
  const how = result.signal ? `killed by ${result.signal} (timeout?)` : `exit ${result.code}`;
  return `$ ${result.command}\n${how} after ${result.durationMs} ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** Runs a command that must succeed; a failure throws with the command's whole output. */
export async function runOk(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`command failed\n${describeRun(result)}`);
  return result;
}

/** The Debian package of each client the end-to-end tests drive, when its name differs. */
const PACKAGES: Record<string, string> = {
  ctr: 'containerd',
  // Debian has no client-only docker package; docker.io brings the client and the daemon.
  docker: 'docker.io --no-install-recommends',
  dockerd: 'docker.io --no-install-recommends',
};

/**
 * Fails loudly when a client binary is missing. End-to-end tests never skip: a missing tool would
 * otherwise turn a red run green (in CI above all, but locally too).
 */
export function requireTool(name: string): void {
  const found = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() !== '') return;
  const where = process.env.CI ? 'CI must install it' : 'install it';
  throw new Error(
    `end-to-end tests need "${name}" on PATH but it is missing; ${where} (apt-get install -y ${PACKAGES[name] ?? name}; scripts/test.sh does)`,
  );
}

export interface BackgroundProcess {
  pid: number;
  /** What it has printed so far (stdout and stderr interleaved; the last 64 KiB). */
  output(): string;
  running(): boolean;
  /** Resolves once it has exited (or failed to start). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to its whole process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Process groups still running, killed if this test process exits without stopping them. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Starts a long-running command (a daemon) in its own process group, so stop() ends it and its children. */
export function startBackground(command: string, args: string[], options: Omit<RunOptions, 'timeoutMs' | 'input'> = {}): BackgroundProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let output = '';
  const append = (chunk: Buffer | string) => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let running = child.pid !== undefined;
  if (child.pid !== undefined) liveGroups.add(child.pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => {
      append(`\n${command}: ${error.message}\n`);
      running = false;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => {
      running = false;
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const waitFor = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  return {
    pid: child.pid ?? -1,
    output: () => output,
    running: () => running,
    exited,
    async stop(graceMs = 5_000) {
      if (!running || child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      if (await waitFor(graceMs)) return;
      killGroup(child.pid, 'SIGKILL');
      if (!(await waitFor(5_000))) throw new Error(`${command} (pid ${child.pid}) did not exit after SIGKILL`);
    },
  };
}

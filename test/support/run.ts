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
}

/** Runs a command without a shell, capturing its output; never throws on a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const line = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
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

/**
 * Fails loudly when a client binary is missing. End-to-end tests never skip: a missing tool would
 * otherwise turn a red run green (in CI above all, but locally too).
 */
export function requireTool(name: string): void {
  const found = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() !== '') return;
  const where = process.env.CI ? 'CI must install it' : 'install it';
  throw new Error(
    `end-to-end tests need "${name}" on PATH but it is missing; ${where} (apt-get install -y skopeo podman buildah umoci)`,
  );
}

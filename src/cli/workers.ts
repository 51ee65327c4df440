import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';

/**
 * `berth serve` with several workers: this process only supervises. Each worker is a whole server
 * (a node of its own over the same database and storage, as nodes on several machines are); the
 * listening sockets are shared, and each new connection goes to one worker in turn.
 */

/** What a worker tells the supervisor once all its listeners are open. */
const READY = 'berth:ready';

/** Workers dying further apart than this are replaced at once; closer, each waits twice as long, up to the maximum. */
const CALM_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** Whether this process is a worker the supervisor started (it serves; it does not fork). */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** Tells the supervisor this worker serves. */
export function announceReady(): void {
  process.send?.({ kind: READY });
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type LogLevel = keyof typeof LEVELS;

/** Log lines in the shape the servers' logger writes, so one log holds both. */
function supervisorLog(threshold: LogLevel) {
  return (level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void => {
    if (LEVELS[level] < LEVELS[threshold]) return;
    process.stdout.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, hostname: hostname(), ...fields, msg })}\n`);
  };
}

function whenReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if ((message as { kind?: unknown } | undefined)?.kind !== READY) return;
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      resolve();
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) before it served`));
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/**
 * Starts `count` workers and keeps them running until SIGTERM or SIGINT. The first starts alone:
 * it migrates the database and, on an empty one, creates the owner (and prints the key) before any
 * other worker opens it. A worker that dies is replaced; one that cannot start stops them all, and
 * the supervisor exits 1 (for systemd or the container runtime to act on).
 */
export async function superviseWorkers(count: number, logLevel: LogLevel): Promise<never> {
  const log = supervisorLog(logLevel);
  let started = false;
  let stopping = false;
  const fork = async (): Promise<void> => whenReady(cluster.fork());
  const exitAll = (code: number) => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
    if (alive.length === 0) process.exit(code);
    let left = alive.length;
    for (const worker of alive) {
      worker.once('exit', () => {
        if (--left === 0) process.exit(code);
      });
      worker.process.kill('SIGTERM');
    }
  };

  const stop = (signal: string) => {
    if (stopping) return;
    log('info', 'shutting down: stopping the workers', { signal });
    exitAll(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A renewed certificate: every worker reloads its own.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
  // Replacements wait longer the more often workers die, so a fault that kills every worker
  // (a full disk, a bad request it cannot survive) does not turn into a busy fork loop.
  let restartDelayMs = 0;
  let lastRestart = 0;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping || !started) return;
    const now = Date.now();
    restartDelayMs = now - lastRestart > CALM_MS ? 0 : Math.min(Math.max(2 * restartDelayMs, 500), MAX_RESTART_DELAY_MS);
    lastRestart = now;
    log('error', 'a worker exited; starting another', { worker: worker.process.pid, code, signal, delayMs: restartDelayMs });
    setTimeout(() => {
      if (stopping) return;
      fork().catch((error: unknown) => {
        log('error', 'the replacement worker could not start; stopping', { err: (error as Error).message });
        exitAll(1);
      });
    }, restartDelayMs);
  });

  try {
    await fork();
    await Promise.all(Array.from({ length: count - 1 }, fork));
    started = true;
    log('info', 'workers serving', { workers: count });
  } catch (error) {
    // The worker said why on stderr; the others go too, and the start fails.
    process.stderr.write(`berth: ${(error as Error).message}\n`);
    exitAll(1);
  }
  return new Promise<never>(() => undefined);
}

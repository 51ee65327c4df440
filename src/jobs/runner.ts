import type { FastifyBaseLogger } from 'fastify';
import type { JobLeases } from './leases.js';

/** How long a job's lease lasts between renewals; a job renews it after every batch. */
const LEASE_MS = 60_000;

export interface Job {
  name: string;
  /** Time between runs (on whichever node takes the lease). */
  intervalMs: number;
  run(renew: () => Promise<void>): Promise<void>;
}

/**
 * Background jobs on every node, each run by one node at a time: at its interval a node tries the
 * job's lease and runs the job only if it got it. Stopping waits for a run in progress.
 */
export class JobRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly leases: JobLeases,
    private readonly log: FastifyBaseLogger,
  ) {}

  every(job: Job): void {
    if (job.intervalMs <= 0) return;
    const tick = () => {
      // A run still going on here holds the lease already: the next waits for the interval after it.
      if (this.stopped || this.running.has(job.name)) return;
      const run = this.leases
        .run(job.name, LEASE_MS, (renew) => job.run(renew))
        .catch((error: unknown) => this.log.warn({ err: error, job: job.name }, 'background job failed'))
        .then(() => undefined)
        .finally(() => this.running.delete(job.name));
      this.running.set(job.name, run);
    };
    const timer = setInterval(tick, job.intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.running.values());
  }
}

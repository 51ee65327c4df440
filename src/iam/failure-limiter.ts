import { IamError } from './errors.js';

interface Window {
  startedAt: number;
  failures: number;
}

/** Windows kept at most: a flood of distinct keys evicts the oldest instead of growing memory. */
const MAX_WINDOWS = 10_000;

/**
 * Counts failures per key (a client address, a credential's fingerprint) in fixed windows and
 * refuses a key that failed too often until its window ends. Per node and in memory: a cluster of
 * N nodes allows N times the rate.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly clock: () => number,
  ) {}

  /** Throws 429 when `client` used up its failures in the current window. */
  check(client: string): void {
    const refusal = this.refusal(client);
    if (refusal) throw refusal;
  }

  /** The 429 for `client` when it used up its failures in the current window. */
  refusal(client: string): IamError | undefined {
    const window = this.current(client);
    if (!window || window.failures < this.maxFailures) return undefined;
    const retryAfter = Math.ceil((window.startedAt + this.windowMs - this.clock()) / 1000);
    return new IamError(429, 'BXNIM0429E', 'Too many failed attempts. Try again later.', `retry after ${retryAfter} s`);
  }

  recordFailure(client: string): void {
    const now = this.clock();
    const window = this.current(client) ?? { startedAt: now, failures: 0 };
    window.failures += 1;
    this.windows.set(client, window);
    if (this.windows.size > MAX_WINDOWS) this.prune(now);
  }

  private current(client: string): Window | undefined {
    const window = this.windows.get(client);
    if (window && this.clock() - window.startedAt >= this.windowMs) {
      this.windows.delete(client);
      return undefined;
    }
    return window;
  }

  private prune(now: number): void {
    for (const [client, window] of this.windows) {
      if (now - window.startedAt >= this.windowMs) this.windows.delete(client);
    }
    // Still full: the oldest windows go first (a Map iterates in insertion order).
    for (const client of this.windows.keys()) {
      if (this.windows.size <= MAX_WINDOWS) break;
      this.windows.delete(client);
    }
  }
}

import { IamError } from './errors.js';

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed authentications per client (fixed windows) and refuses a client that failed too
 * often until its window ends, so API keys cannot be guessed at speed. Per node and in memory: a
 * cluster of N nodes allows N times the rate, which still makes guessing a 256-bit key hopeless.
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
    const window = this.current(client);
    if (window && window.failures >= this.maxFailures) {
      const retryAfter = Math.ceil((window.startedAt + this.windowMs - this.clock()) / 1000);
      throw new IamError(429, 'BXNIM0429E', 'Too many failed attempts. Try again later.', `retry after ${retryAfter} s`);
    }
  }

  recordFailure(client: string): void {
    const now = this.clock();
    const window = this.current(client) ?? { startedAt: now, failures: 0 };
    window.failures += 1;
    this.windows.set(client, window);
    if (this.windows.size > 10_000) this.prune(now);
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
  }
}

import { createHash } from 'node:crypto';
import { FailureLimiter } from './failure-limiter.js';

/**
 * Throttles failed logins without ever refusing a valid credential. Every attempt is checked
 * (an HMAC lookup or a signature check, cheap), and a valid one always succeeds: one failing
 * client behind a shared address (a CI runner pool, a NAT, a proxy) cannot lock the others out.
 * Failures count twice: per client address, so a client over its limit gets 429 (with the time to
 * wait) instead of its next failures, and per credential, so the same bad secret retried again and
 * again (a revoked key in a CI job) is refused at once, unchecked. Guessing stays hopeless by the
 * credentials' entropy (256-bit keys, signed tokens), not by the throttle.
 */
export class LoginThrottle {
  private readonly clients: FailureLimiter;
  private readonly credentials: FailureLimiter;

  constructor(failuresPerMinute: number, clock: () => number = Date.now) {
    this.clients = new FailureLimiter(failuresPerMinute, 60_000, clock);
    this.credentials = new FailureLimiter(failuresPerMinute, 60_000, clock);
  }

  /**
   * Runs `attempt` for `client` presenting `secret`; `isFailure` tells a refused credential from
   * other errors. Throws the limiter's 429 IamError when the credential or the client is over its limit.
   */
  async attempt<T>(client: string, secret: string | undefined, attempt: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
    // The secret itself is never kept, only a digest of it.
    const credential = secret ? createHash('sha256').update(secret).digest('base64url') : undefined;
    if (credential !== undefined) this.credentials.check(credential);
    try {
      return await attempt();
    } catch (error) {
      if (!isFailure(error)) throw error;
      // Over the limit already: this failure is answered 429, with the time to wait.
      const refusal = this.clients.refusal(client);
      this.clients.recordFailure(client);
      if (credential !== undefined) this.credentials.recordFailure(credential);
      throw refusal ?? error;
    }
  }
}

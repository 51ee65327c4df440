import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../../src/iam/failure-limiter.js';
import { LoginThrottle } from '../../../src/iam/login-throttle.js';

class Refused extends Error {}
const refused = (error: unknown) => error instanceof Refused;
const fail = async (): Promise<string> => {
  throw new Refused('bad credential');
};
const succeed = async () => 'token';

describe('LoginThrottle', () => {
  it('answers 429 to a client over its limit, yet a valid credential from it always works', async () => {
    let now = 0;
    const throttle = new LoginThrottle(3, () => now);
    for (let i = 0; i < 3; i++) await expect(throttle.attempt('10.0.0.1', `guess-${i}`, fail, refused)).rejects.toBeInstanceOf(Refused);
    await expect(throttle.attempt('10.0.0.1', 'guess-3', fail, refused)).rejects.toMatchObject({ status: 429, errorCode: 'BXNIM0429E', details: 'retry after 60 s' });
    await expect(throttle.attempt('10.0.0.1', 'the-valid-key', succeed, refused)).resolves.toBe('token');
    // Another client is not affected; the window ends after a minute.
    await expect(throttle.attempt('10.0.0.2', 'guess-4', fail, refused)).rejects.toBeInstanceOf(Refused);
    now = 60_000;
    await expect(throttle.attempt('10.0.0.1', 'guess-5', fail, refused)).rejects.toBeInstanceOf(Refused);
  });

  it('refuses the same failing secret from any address at once, without checking it again', async () => {
    const throttle = new LoginThrottle(3, () => 0);
    for (let i = 0; i < 3; i++) await expect(throttle.attempt(`10.0.1.${i}`, 'revoked-key', fail, refused)).rejects.toBeInstanceOf(Refused);
    let checked = false;
    const attempt = async () => {
      checked = true;
      return 'token';
    };
    await expect(throttle.attempt('10.0.1.9', 'revoked-key', attempt, refused)).rejects.toMatchObject({ status: 429 });
    expect(checked).toBe(false);
    await expect(throttle.attempt('10.0.1.9', 'another-key', succeed, refused)).resolves.toBe('token');
  });

  it('lets other errors (a database down) through without counting them as failures', async () => {
    const throttle = new LoginThrottle(1, () => 0);
    const broken = async (): Promise<string> => {
      throw new Error('database unavailable');
    };
    for (let i = 0; i < 3; i++) await expect(throttle.attempt('10.0.2.1', 'key', broken, refused)).rejects.toThrow('database unavailable');
    await expect(throttle.attempt('10.0.2.1', 'key', fail, refused)).rejects.toBeInstanceOf(Refused);
  });
});

describe('FailureLimiter under a flood of distinct keys', () => {
  it('keeps at most 10,000 windows, evicting the oldest', () => {
    const limiter = new FailureLimiter(1, 60_000, () => 0);
    limiter.recordFailure('first');
    for (let i = 0; i < 20_000; i++) limiter.recordFailure(`key-${i}`);
    expect(() => limiter.check('first')).not.toThrow();
    expect(() => limiter.check('key-19999')).toThrow(expect.objectContaining({ status: 429 }));
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(10_001);
  });
});

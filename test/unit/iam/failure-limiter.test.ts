import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../../src/iam/failure-limiter.js';

describe('FailureLimiter', () => {
  it('refuses a client after its failures until the window ends, and no other client', () => {
    let now = 0;
    const limiter = new FailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      limiter.check('a');
      limiter.recordFailure('a');
    }
    expect(() => limiter.check('a')).toThrow(expect.objectContaining({ status: 429, errorCode: 'BXNIM0429E' }));
    expect(() => limiter.check('b')).not.toThrow();
    now = 59_999;
    expect(() => limiter.check('a')).toThrow();
    now = 60_000;
    expect(() => limiter.check('a')).not.toThrow();
  });
});

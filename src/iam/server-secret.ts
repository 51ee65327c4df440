import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The key API key secrets are hashed under. Every node must share it: it comes from
 * `BERTH_SECRET`, or from a file made on first start (0600) in the data folder.
 */
export class ServerSecret {
  private constructor(private readonly key: Buffer) {}

  static fromValue(value: string): ServerSecret {
    if (value.length < 32) throw new Error('BERTH_SECRET must be at least 32 characters');
    return new ServerSecret(Buffer.from(value, 'utf8'));
  }

  /** Reads the secret file, creating it with fresh random bytes when it does not exist. */
  static fromFile(path: string): ServerSecret {
    try {
      return new ServerSecret(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      // 'wx': if another process made it meanwhile, use theirs.
      writeFileSync(path, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      return new ServerSecret(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return ServerSecret.fromFile(path);
    }
  }

  /** HMAC-SHA-256 of a secret, hex: what is stored and looked up instead of the secret. */
  hash(secret: string): string {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest('hex');
  }
}

/** Constant-time equality of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

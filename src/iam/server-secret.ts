import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SEALED = 'sealed:v1:';

/** A sealed value that does not open: another secret sealed it, or it was altered. */
export class UnsealError extends Error {}

/**
 * The key API key secrets are hashed under, and private keys sealed under. Every node must share it: it comes from
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

  /**
   * Encrypts `plaintext` (AES-256-GCM under a key derived for `purpose`), bound to `context` (say,
   * the row's id) so a sealed value copied to another row does not open there.
   */
  seal(plaintext: string, purpose: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.derive(purpose), iv).setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${SEALED}${[iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join(':')}`;
  }

  /** The plaintext of a value `seal` made with the same purpose and context; UnsealError otherwise. */
  unseal(sealed: string, purpose: string, context: string): string {
    const parts = sealed.startsWith(SEALED) ? sealed.slice(SEALED.length).split(':') : [];
    if (parts.length !== 3) throw new UnsealError('not a sealed value');
    const [iv, body, tag] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.derive(purpose), iv).setAAD(Buffer.from(context, 'utf8')).setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new UnsealError('the sealed value does not open under this secret');
    }
  }

  static isSealed(value: string): boolean {
    return value.startsWith(SEALED);
  }

  private derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `berth:${purpose}`, 32));
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

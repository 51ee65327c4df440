import { describe, expect, it } from 'vitest';
import { ServerSecret, UnsealError } from '../../../src/iam/server-secret.js';

describe('ServerSecret.seal', () => {
  const secret = ServerSecret.fromValue('a'.repeat(40));

  it('opens what it sealed, and the sealed text shows nothing of the plaintext', () => {
    const sealed = secret.seal('{"d":"private"}', 'signing-key', 'kid-1');
    expect(ServerSecret.isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('private');
    expect(secret.unseal(sealed, 'signing-key', 'kid-1')).toBe('{"d":"private"}');
    expect(secret.seal('x', 'signing-key', 'kid-1')).not.toBe(secret.seal('x', 'signing-key', 'kid-1'));
  });

  it('does not open under another secret, for another row or purpose, or once altered', () => {
    const sealed = secret.seal('{"d":"private"}', 'signing-key', 'kid-1');
    expect(() => ServerSecret.fromValue('b'.repeat(40)).unseal(sealed, 'signing-key', 'kid-1')).toThrow(UnsealError);
    expect(() => secret.unseal(sealed, 'signing-key', 'kid-2')).toThrow(UnsealError);
    expect(() => secret.unseal(sealed, 'other', 'kid-1')).toThrow(UnsealError);
    const parts = sealed.split(':');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => secret.unseal(parts.join(':'), 'signing-key', 'kid-1')).toThrow(UnsealError);
    expect(() => secret.unseal('{"d":"plain"}', 'signing-key', 'kid-1')).toThrow(UnsealError);
  });
});

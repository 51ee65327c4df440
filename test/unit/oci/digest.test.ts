import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf, parseDigest } from '../../../src/oci/digest.js';

const sha256Hex = createHash('sha256').update('berth').digest('hex');
const sha512Hex = createHash('sha512').update('berth').digest('hex');

describe('parseDigest', () => {
  it.each([
    ['sha256', sha256Hex],
    ['sha512', sha512Hex],
  ])('accepts a %s digest and splits it', (algorithm, hex) => {
    const result = parseDigest(`${algorithm}:${hex}`);
    expect(result).toEqual({ ok: true, digest: { algorithm, hex, value: `${algorithm}:${hex}` } });
  });

  it.each([
    ['sha256 one character short', `sha256:${sha256Hex.slice(1)}`],
    ['sha256 one character long', `sha256:${sha256Hex}0`],
    ['sha256 with a sha512-length value', `sha256:${sha512Hex}`],
    ['sha512 with a sha256-length value', `sha512:${sha256Hex}`],
    ['uppercase hex', `sha256:${sha256Hex.toUpperCase()}`],
    ['one uppercase letter', `sha256:${sha256Hex.slice(0, 63)}A`],
    ['non-hex characters of the right length', `sha256:${'g'.repeat(64)}`],
    ['base64-ish encoded of the right length', `sha256:${'a='.repeat(32)}`],
  ])('refuses %s', (_, text) => {
    const result = parseDigest(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/lowercase hex/);
  });

  it.each([
    ['md5', `md5:${'a'.repeat(32)}`],
    ['sha384', `sha384:${'a'.repeat(96)}`],
    ['a multi-component algorithm', `sha256+b64u:${'a'.repeat(64)}`],
    ['an uppercase algorithm', `SHA256:${sha256Hex}`],
  ])('refuses an unsupported algorithm (%s)', (_, text) => {
    const result = parseDigest(text);
    expect(result.ok).toBe(false);
  });

  it('names the unsupported algorithm in the reason', () => {
    const result = parseDigest(`md5:${'a'.repeat(32)}`);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('md5') });
  });

  it.each([
    ['empty', ''],
    ['no colon', sha256Hex],
    ['no algorithm', `:${sha256Hex}`],
    ['no encoded part', 'sha256:'],
    ['two colons', `sha256:${sha256Hex}:`],
    ['leading whitespace', ` sha256:${sha256Hex}`],
    ['trailing newline', `sha256:${sha256Hex}\n`],
    ['a separator at the start of the algorithm', `+sha256:${sha256Hex}`],
    ['two separators in a row', `sha..256:${sha256Hex}`],
    ['a slash in the encoded part', `sha256:${sha256Hex.slice(0, 63)}/`],
    ['a path traversal', `sha256:../../${sha256Hex.slice(6)}`],
  ])('refuses a grammar violation: %s', (_, text) => {
    expect(parseDigest(text).ok).toBe(false);
  });
});

describe('digestOf', () => {
  it('hashes bytes into the canonical string form, sha256 by default', () => {
    const bytes = Buffer.from('berth');
    expect(digestOf(bytes)).toBe(`sha256:${sha256Hex}`);
    expect(digestOf(bytes, 'sha512')).toBe(`sha512:${sha512Hex}`);
    expect(parseDigest(digestOf(bytes)).ok).toBe(true);
  });
});

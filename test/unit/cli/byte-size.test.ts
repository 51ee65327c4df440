import { describe, expect, it } from 'vitest';
import { formatBytes, formatLimit } from '../../../src/cli/byte-size.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    // A small image (issue 12 read "0.0 MB" for this one).
    [547, '547 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1500, '1.5 KiB'],
    [1229, '1.2 KiB'],
    [Math.round(3.4 * 1024 * 1024), '3.4 MiB'],
    [28 * 1024 * 1024 + 200_000, '28.2 MiB'],
    [1024 * 1024 - 1, '1 MiB'],
    [524288000, '500 MiB'],
    [5368709120, '5 GiB'],
    [1024 ** 6, '1024 PiB'],
  ])('%d bytes read %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('reads -1 as no limit', () => {
    expect(formatLimit(-1)).toBe('Unlimited');
    expect(formatLimit(104857600)).toBe('100 MiB');
  });
});

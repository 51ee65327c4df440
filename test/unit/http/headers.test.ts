import { describe, expect, it } from 'vitest';
import { parseContentRange, parseRange } from '../../../src/http/v2/headers.js';

describe('parseContentRange', () => {
  it('is undefined without a header', () => {
    expect(parseContentRange(undefined)).toBeUndefined();
  });

  it.each([
    ['0-0', { start: 0, end: 0 }],
    ['0-1023', { start: 0, end: 1023 }],
    ['1024-2047', { start: 1024, end: 2047 }],
    ['bytes 5-9', { start: 5, end: 9 }],
    ['bytes=5-9', { start: 5, end: 9 }],
    ['bytes 5-9/100', { start: 5, end: 9 }],
    ['bytes 5-9/*', { start: 5, end: 9 }],
    [' 5-9 ', { start: 5, end: 9 }],
  ])('reads %j', (header, range) => {
    expect(parseContentRange(header)).toEqual(range);
  });

  it.each(['', '5', '5-', '-9', '9-5', 'a-b', '5 - 9', '-1-5', '1.5-9', 'bytes 5-9/abc', 'items 5-9', '5-9,10-12', '99999999999999999999-99999999999999999999'])(
    'calls %j invalid',
    (header) => {
      expect(parseContentRange(header)).toBe('invalid');
    },
  );
});

describe('parseRange (RFC 9110 single byte ranges)', () => {
  const size = 100;

  it('is undefined without a header', () => {
    expect(parseRange(undefined, size)).toBeUndefined();
  });

  it.each([
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-19', { start: 10, end: 19 }],
    ['bytes=99-99', { start: 99, end: 99 }],
    ['bytes=0-99', { start: 0, end: 99 }],
  ])('serves the closed range %s', (header, range) => {
    expect(parseRange(header, size)).toEqual(range);
  });

  it('clamps a last position past the end to the last byte', () => {
    expect(parseRange('bytes=90-1000', size)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=0-99999999999999999999', size)).toEqual({ start: 0, end: 99 });
  });

  it('serves an open-ended range to the end', () => {
    expect(parseRange('bytes=0-', size)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=42-', size)).toEqual({ start: 42, end: 99 });
    expect(parseRange('bytes=99-', size)).toEqual({ start: 99, end: 99 });
  });

  it('serves a suffix range as the last bytes', () => {
    expect(parseRange('bytes=-1', size)).toEqual({ start: 99, end: 99 });
    expect(parseRange('bytes=-10', size)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-100', size)).toEqual({ start: 0, end: 99 });
  });

  it('serves a suffix longer than the blob as the whole blob', () => {
    expect(parseRange('bytes=-500', size)).toEqual({ start: 0, end: 99 });
  });

  it.each([
    ['a first position at the size', 'bytes=100-'],
    ['a first position past the size', 'bytes=150-200'],
    ['a zero-length suffix', 'bytes=-0'],
    // RFC 9110 calls last < first invalid; like Go's ServeContent and nginx we answer 416.
    ['a last position before the first', 'bytes=20-10'],
  ])('calls %s unsatisfiable', (_, header) => {
    expect(parseRange(header, size)).toBe('unsatisfiable');
  });

  it('finds nothing satisfiable in an empty blob', () => {
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-0', 0)).toBe('unsatisfiable');
  });

  it.each([
    ['several ranges', 'bytes=0-1,5-9'],
    ['several suffix ranges', 'bytes=-1,-2'],
    ['another unit', 'items=0-9'],
    ['no unit', '0-9'],
    ['no positions', 'bytes=-'],
    ['garbage', 'bytes=a-b'],
    ['a negative first position', 'bytes=-5-9'],
    ['an empty header', ''],
  ])('ignores %s (the whole blob follows)', (_, header) => {
    expect(parseRange(header, size)).toBeUndefined();
  });

  it('compares the range unit case-insensitively, as RFC 9110 requires', () => {
    expect(parseRange('Bytes=0-9', size)).toEqual({ start: 0, end: 9 });
    expect(parseRange('BYTES=-10', size)).toEqual({ start: 90, end: 99 });
  });
});

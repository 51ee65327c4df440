import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, isValidRepositoryName, isValidTag } from '../../../src/oci/names.js';

/** A valid multi-component name of exactly `length` characters (length >= 5). */
function nameOfLength(length: number): string {
  const first = Math.floor((length - 2) / 3);
  const second = first;
  const third = length - 2 - first - second;
  return `${'a'.repeat(first)}/${'b-c'.padEnd(second, 'd')}/${'e'.repeat(third)}`;
}

describe('isValidRepositoryName', () => {
  it.each([
    'a',
    'library/ubuntu',
    'a/b/c/d/e',
    'a0/9z',
    'a.b',
    'a_b',
    'a__b',
    'a-b',
    'a--b',
    'a---b',
    'a.b_c__d-e--f',
    'my-org/my.app_v2',
  ])('accepts %j', (name) => {
    expect(isValidRepositoryName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['uppercase', 'Library/ubuntu'],
    ['a double dot', 'a..b'],
    ['three underscores', 'a___b'],
    ['a dot then a dash', 'a.-b'],
    ['a leading dash', '-a'],
    ['a leading dot', '.a'],
    ['a leading underscore', '_a'],
    ['a trailing dash', 'a-'],
    ['a trailing dot', 'a.'],
    ['a trailing slash', 'a/'],
    ['a leading slash', '/a'],
    ['an empty component', 'a//b'],
    ['a component starting with a separator', 'a/-b'],
    ['a colon', 'a:b'],
    ['a space', 'a b'],
    ['an at sign', 'a@b'],
    ['a percent escape', 'a%2Fb'],
    ['a dot component', 'a/./b'],
    ['a dot-dot component', 'a/../b'],
    ['a non-ASCII letter', 'caf\u00e9'],
  ])('refuses %s (%j)', (_, name) => {
    expect(isValidRepositoryName(name)).toBe(false);
  });

  it(`accepts ${MAX_NAME_LENGTH} characters and refuses ${MAX_NAME_LENGTH + 1}`, () => {
    const longest = nameOfLength(255);
    const tooLong = nameOfLength(256);
    expect(longest).toHaveLength(255);
    expect(tooLong).toHaveLength(256);
    expect(MAX_NAME_LENGTH).toBe(255);
    expect(isValidRepositoryName(longest)).toBe(true);
    expect(isValidRepositoryName(tooLong)).toBe(false);
    expect(isValidRepositoryName('a'.repeat(255))).toBe(true);
    expect(isValidRepositoryName('a'.repeat(256))).toBe(false);
  });
});

describe('isValidTag', () => {
  it.each(['latest', 'v1.0.0', 'V1', '_', '_hidden', '0', 'a-b_c.d', 'A.B-C', 'x'.repeat(128)])('accepts %j', (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-rc1'],
    ['a colon', 'a:b'],
    ['a slash', 'a/b'],
    ['a plus', '1.0+build'],
    ['an at sign', 'a@b'],
    ['a space', 'a b'],
    ['a trailing newline', 'latest\n'],
    ['a digest', `sha256:${'a'.repeat(64)}`],
  ])('refuses %s', (_, tag) => {
    expect(isValidTag(tag)).toBe(false);
  });
});

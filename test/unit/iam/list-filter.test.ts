import { describe, expect, it } from 'vitest';
import { FilterError, parseFilter } from '../../../src/iam/list-filter.js';

const ATTRIBUTES = ['name', 'description', 'iam_id'];
const KEY = { name: 'ci-key', description: 'for "CI"', iam_id: 'iam-ServiceId-1' };

describe('list filter (SCIM-like, as IBM documents it)', () => {
  const rows: Array<[string, boolean]> = [
    ['name eq "ci-key"', true],
    ['name eq "CI-KEY"', false],
    ['name ne "ci-key"', false],
    ['name co "-k"', true],
    ['name sw "ci"', true],
    ['name ew "key"', true],
    ['name EQ ci-key', true],
    ['description eq "for \\"CI\\""', true],
    ['name eq "x" or iam_id sw "iam-"', true],
    ['name eq "x" or name eq "y" and iam_id sw "iam-"', false],
    ['name sw "ci" and iam_id sw "iam-" or name eq "x"', true],
    ['description co "absent"', false],
  ];
  it.each(rows)('%s → %s', (filter, expected) => {
    expect(parseFilter(filter, ATTRIBUTES)(KEY)).toBe(expected);
  });

  it('refuses a filter over 1024 characters', () => {
    expect(() => parseFilter(`name eq "${'x'.repeat(2000)}"`, ATTRIBUTES)).toThrow(/longer than/);
  });

  it('treats a missing field as empty', () => {
    expect(parseFilter('description eq ""', ATTRIBUTES)({ name: 'x', description: null })).toBe(true);
  });

  it.each(['', 'name', 'name eq', 'color eq "x"', 'name like "x"', 'name eq "open', 'name eq "a" name eq "b"'])(
    'refuses %j with a FilterError',
    (filter) => {
      expect(() => parseFilter(filter, ATTRIBUTES)).toThrow(FilterError);
    },
  );
});

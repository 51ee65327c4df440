import { describe, expect, it } from 'vitest';
import { namespaceNameProblem, namespaceOf } from '../../../src/registry/namespaces.js';

describe('namespace names (IBM: 4-30 of a-z 0-9 - _, letter or digit at both ends; and an OCI path component)', () => {
  it.each(['team', 'team-a', 'team_a', 'a1b2', 'x'.repeat(30), 'a--b', 'a__b', '1234'])('accepts %j', (name) => {
    expect(namespaceNameProblem(name)).toBeUndefined();
  });
  it.each(['abc', 'x'.repeat(31), 'Team', '-team', 'team-', '_team', 'team_', 'a_-b', 'a-_b', 'a___b', 'a.b', 'a/b', 'a b', ''])('refuses %j', (name) => {
    expect(namespaceNameProblem(name)).toEqual(expect.any(String));
  });
  it('takes the first component of a repository', () => {
    expect(namespaceOf('team-a/app/sub')).toBe('team-a');
    expect(namespaceOf('bare')).toBe('bare');
  });
});

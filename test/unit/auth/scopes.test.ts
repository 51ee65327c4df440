import { describe, expect, it } from 'vitest';
import { parseScopes, ScopeError } from '../../../src/auth/scopes.js';

const actions = (scopes: ReturnType<typeof parseScopes>) => scopes.map((s) => [s.type, s.name, [...s.actions].sort()]);

describe('parseScopes: Docker token scopes as clients send them', () => {
  it.each<[string, string[], unknown[]]>([
    ['pull,push', ['repository:ns/app:pull,push'], [['repository', 'ns/app', ['pull', 'push']]]],
    ['push,pull (docker daemon order)', ['repository:ns/app:push,pull'], [['repository', 'ns/app', ['pull', 'push']]]],
    ['* means every action', ['repository:ns/app:*'], [['repository', 'ns/app', ['delete', 'pull', 'push']]]],
    ['two parameters for one repository merge', ['repository:ns/app:pull', 'repository:ns/app:push'], [['repository', 'ns/app', ['pull', 'push']]]],
    ['a mount asks for its source too', ['repository:ns/dst:pull,push', 'repository:ns/src:pull'], [['repository', 'ns/dst', ['pull', 'push']], ['repository', 'ns/src', ['pull']]]],
    ['space-separated in one (OAuth2)', ['repository:ns/a:pull repository:ns/b:push'], [['repository', 'ns/a', ['pull']], ['repository', 'ns/b', ['push']]]],
    ['the catalog', ['registry:catalog:*'], [['registry', 'catalog', ['*']]]],
    ['a resource class is ignored', ['repository(plugin):ns/app:pull'], [['repository', 'ns/app', ['pull']]]],
    ['unknown actions are dropped', ['repository:ns/app:pull,metadata-read'], [['repository', 'ns/app', ['pull']]]],
    ['a login has none', [], []],
    ['empty strings are none', [''], []],
  ])('%s', (_case, values, expected) => {
    expect(actions(parseScopes(values))).toEqual(expected);
  });

  it.each(['nonsense', 'repository:ns/app', 'repository:NS/app:pull', 'repository::pull', 'registry:other:*', 'user:me:pull'])('refuses %j', (scope) => {
    expect(() => parseScopes([scope])).toThrow(ScopeError);
  });
});

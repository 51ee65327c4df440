import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Access, type Caller } from '../../../src/auth/access.js';
import { registryVerdict, type VerdictQuestion } from '../../../src/auth/verdict.js';

const pull: Access = { type: 'repository', name: 'ns/app', actions: ['pull'] };
const source: Access = { type: 'repository', name: 'ns/src', actions: ['pull'] };

function tokenCaller(requested: Record<string, string[]>, expired = false): Caller {
  const map = new Map(Object.entries(requested).map(([key, actions]) => [key, new Set(actions)]));
  return { kind: 'principal', id: 'iam-ServiceId-1', account: 'a1', token: { access: new Map(), requested: map, expired } };
}

function ask(overrides: Partial<VerdictQuestion>): Promise<ReturnType<typeof registryVerdict> extends Promise<infer V> ? V : never> {
  return registryVerdict({
    caller: ANONYMOUS,
    access: pull,
    uses: [],
    region: 'us-south',
    loginRequired: true,
    hidable: false,
    granted: async () => false,
    mayFinishOwnUpload: async () => false,
    ...overrides,
  });
}

/** The registry's one decision, as a table: the HTTP layer only renders what it answers. */
describe('registry verdict', () => {
  it('anonymous callers are told to log in: at /v2/ without a scope, elsewhere with the scope', async () => {
    await expect(ask({ access: undefined })).resolves.toEqual({ kind: 'challenge', withScope: false });
    await expect(ask({})).resolves.toEqual({ kind: 'challenge', withScope: true });
    await expect(ask({ access: undefined, loginRequired: false })).resolves.toEqual({ kind: 'allow' });
  });

  it('a token that never asked for the access is told to ask (insufficient_scope); one that asked and was refused is denied, or hidden where the route hides', async () => {
    await expect(ask({ caller: tokenCaller({}) })).resolves.toMatchObject({ kind: 'challenge', insufficientScope: true, withScope: true });
    await expect(ask({ caller: tokenCaller({ 'repository:ns/app': ['pull'] }) })).resolves.toMatchObject({ kind: 'deny', reason: expect.stringContaining('pull on ns/app') });
    await expect(ask({ caller: tokenCaller({ 'repository:ns/app': ['pull'] }), hidable: true })).resolves.toEqual({ kind: 'hide' });
  });

  it('granted access is allowed, unless the request can also use a repository its token never asked for', async () => {
    const caller = tokenCaller({ 'repository:ns/app': ['pull'] });
    await expect(ask({ caller, granted: async () => true })).resolves.toEqual({ kind: 'allow' });
    await expect(ask({ caller, granted: async () => true, uses: [source] })).resolves.toMatchObject({ kind: 'challenge', insufficientScope: true });
    await expect(ask({ caller: tokenCaller({ 'repository:ns/app': ['pull'], 'repository:ns/src': ['pull'] }), granted: async () => true, uses: [source] })).resolves.toEqual({ kind: 'allow' });
  });

  it('an expired token only finishes its own upload, and is never asked about its grants', async () => {
    let asked = false;
    const granted = async () => ((asked = true), true);
    await expect(ask({ caller: tokenCaller({}, true), granted })).resolves.toMatchObject({ kind: 'challenge', reason: 'the registry token has expired' });
    await expect(ask({ caller: tokenCaller({ 'repository:ns/app': ['pull'] }, true), granted, mayFinishOwnUpload: async () => true })).resolves.toEqual({ kind: 'allow' });
    expect(asked).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addNamespaces, ownerSession, policyBody, sdkFor, tokenFor } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface EventView {
  time: string;
  account_id: string;
  seq: number;
  action: string;
  outcome: string;
  reason: string | null;
  principal: { iam_id: string | null; name: string | null };
  target: string | null;
  namespace: string | null;
  client: string | null;
  request_id: string | null;
  hash: string;
}

interface Page {
  events: EventView[];
  limit: number;
  next?: { start: string };
}

interface IdentityErrorBody {
  context: { transaction_id: string; operation: string; url: string };
  status_code: string;
  errors: Array<{ code: string; message_code: string; message: string; details: string }>;
  trace: string;
}

/** An error in IBM's Identity API shape, carrying the request's id; answers its one error. */
async function expectIamError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as IdentityErrorBody;
  expect(body.status_code).toBe(String(status));
  expect(body.context.transaction_id).toBe(response.headers.get('x-request-id'));
  expect(body.trace).toBe(body.context.transaction_id);
  expect(body.context.url).toBe('/v1/audit/events');
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  expect(body.errors[0]!.message_code).toMatch(/^BXNIM\d{4}E$/);
  return body.errors[0]!;
}

const HASH = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f-]{36}$/;

describe('GET /v1/audit/events', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof ownerSession>>;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'audit-a', 'audit-b');
    owner = await ownerSession(server);
    // The owner's login is recorded by the batched recorder (≤100 ms later): wait for it, so that
    // no read below sees the trail grow between two pages.
    await vi.waitFor(async () => {
      const logins = (await (await owner.call('/v1/audit/events?action=iam-identity.apikey.login', { bearer: owner.token })).json()) as Page;
      if (logins.events.length === 0) throw new Error('the login is not recorded yet');
    });
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  const path = (query: Record<string, string> | string = {}) => `/v1/audit/events?${typeof query === 'string' ? query : new URLSearchParams(query)}`;
  const read = (query: Record<string, string> | string = {}, bearer: string | null = owner.token) => owner.call(path(query), { bearer });
  const page = async (query: Record<string, string> | string = {}, bearer: string = owner.token): Promise<Page> => {
    const response = await read(query, bearer);
    expect(response.status).toBe(200);
    return (await response.json()) as Page;
  };
  /** Every page of a read, following `next.start`. */
  const pages = async (query: Record<string, string>, bearer: string = owner.token): Promise<Page[]> => {
    const all: Page[] = [];
    for (let start: string | undefined; ; ) {
      const one = await page({ ...query, ...(start ? { start } : {}) }, bearer);
      all.push(one);
      if (!one.next) return all;
      start = one.next.start;
    }
  };
  /** A service ID made through the SDK (an audited change), with a token for its API key. */
  const serviceId = async (name: string) => {
    const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name, apikey: { name: `${name}-key` } })).result;
    return { iamId: sid.iam_id, id: sid.id!, token: await tokenFor(server, sid.apikey!.apikey!) };
  };
  const grant = (iamId: string, roles: string[], attributes: Record<string, string>) => owner.sdk.policies.createPolicy(policyBody(iamId, owner.accountId, roles, attributes) as never);

  it("gives the owner its account's events, oldest first, in the shape `berth audit events --output json` prints", async () => {
    const body = await page();
    expect(body.limit).toBe(100);
    expect(body.next).toBeUndefined();
    const creates = body.events.filter((event) => event.action === 'container-registry.namespace.create');
    expect(creates.map((event) => event.target)).toEqual(['audit-a', 'audit-b']);
    expect(creates[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      account_id: owner.accountId,
      seq: expect.any(Number),
      action: 'container-registry.namespace.create',
      outcome: 'success',
      reason: null,
      principal: { iam_id: owner.iamId, name: 'owner@berth.local' },
      target: 'audit-a',
      namespace: 'audit-a',
      client: '127.0.0.1',
      request_id: expect.stringMatching(UUID),
      hash: expect.stringMatching(HASH),
    });
    for (const event of body.events) expect(event.account_id).toBe(owner.accountId);
    // In order: by time, then by place in the chain.
    const order = body.events.map((event) => [Date.parse(event.time), event.seq] as const);
    expect([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(order);
    // Naming its own account changes nothing.
    expect((await page({ account_id: owner.accountId })).events).toEqual(body.events);
  });

  it('filters by action, outcome, namespace, principal, target, since and until', async () => {
    const creates = (await page({ action: 'container-registry.namespace.create' })).events;
    expect(creates.map((event) => event.target)).toEqual(['audit-a', 'audit-b']);

    const inB = (await page({ namespace: 'audit-b' })).events;
    expect(inB.length).toBeGreaterThan(0);
    for (const event of inB) expect(event.namespace).toBe('audit-b');
    expect((await page({ target: 'audit-a' })).events.map((event) => event.action)).toContain('container-registry.namespace.create');
    expect((await page({ target: 'audit-a' })).events.every((event) => event.target === 'audit-a')).toBe(true);

    const succeeded = (await page({ outcome: 'success' })).events;
    expect(succeeded.length).toBeGreaterThan(0);
    for (const event of succeeded) expect(event.outcome).toBe('success');
    for (const event of (await page({ outcome: 'failure' })).events) expect(event.outcome).toBe('failure');

    const byOwner = (await page({ principal: owner.iamId })).events;
    expect(byOwner.length).toBeGreaterThan(0);
    for (const event of byOwner) expect(event.principal.iam_id).toBe(owner.iamId);
    expect((await page({ principal: 'iam-ServiceId-nobody' })).events).toEqual([]);

    // since is inclusive, until exclusive; a duration counts back from now.
    const [first, second] = creates as [EventView, EventView];
    expect((await page({ action: first.action, since: '1h' })).events).toEqual(creates);
    expect((await page({ action: first.action, since: second.time })).events).toEqual(second.time === first.time ? creates : [second]);
    expect((await page({ action: first.action, until: second.time })).events).toEqual(second.time === first.time ? [] : [first]);
    expect((await page({ action: first.action, since: new Date(Date.now() + 3_600_000).toISOString() })).events).toEqual([]);
    const offset = new Date(Date.parse(first.time) + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, `.${first.time.slice(20, 23)}+02:00`);
    expect((await page({ action: first.action, since: offset })).events[0]).toEqual(first);
  });

  it('pages: each event once, in order, with next only while more may follow', async () => {
    for (const name of ['pager-1', 'pager-2', 'pager-3', 'pager-4', 'pager-5']) await serviceId(name);
    const query = { action: 'iam-identity.serviceid.create' };
    const whole = (await page({ ...query, limit: '1000' })).events;
    expect(whole.map((event) => event.target)).toHaveLength(5);

    const paged = await pages({ ...query, limit: '2' });
    expect(paged.map((one) => one.events.length)).toEqual([2, 2, 1]);
    for (const one of paged) expect(one.limit).toBe(2);
    expect(paged.flatMap((one) => one.events)).toEqual(whole);
    expect(new Set(whole.map((event) => event.seq)).size).toBe(5);
    expect(whole.map((event) => event.seq)).toEqual([...whole.map((event) => event.seq)].sort((a, b) => a - b));

    // A page that ends exactly on the last event has no next.
    expect((await page({ ...query, limit: '5' })).next).toBeUndefined();
    const full = await pages({ ...query, limit: '1' });
    expect(full).toHaveLength(5);
    expect(full.flatMap((one) => one.events)).toEqual(whole);
  });

  it('lets a service ID read only with a berth-audit policy; without one it gets 403', async () => {
    const robot = await serviceId('auditor');
    const refused = await expectIamError(await read({}, robot.token), 403, 'forbidden');
    expect(refused.details).toContain('berth-audit.event.read');

    // A Viewer role elsewhere grants nothing here.
    await grant(robot.iamId, ['Viewer'], { serviceName: 'iam-identity' });
    await expectIamError(await read({}, robot.token), 403, 'forbidden');

    const policy = await grant(robot.iamId, ['Viewer'], { serviceName: 'berth-audit' });
    expect(policy.status).toBe(201);
    const seen = (await page({ action: 'container-registry.namespace.create' }, robot.token)).events;
    expect(seen).toEqual((await page({ action: 'container-registry.namespace.create' })).events);
    const madeIt = (await page({ action: 'iam-identity.serviceid.create', target: robot.id }, robot.token)).events;
    expect(madeIt.map((event) => event.principal.iam_id)).toEqual([owner.iamId]);
  });

  it("never shows another account's events, whoever asks and whatever they name", async () => {
    const other = await server.berth.iam.identities.createAccount('audit-other', { name: 'o', email: 'audit-other@example.com' });
    const { secret } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId });
    const theirToken = await tokenFor(server, secret);
    const theirSid = (await sdkFor(server, secret).identity.createServiceId({ accountId: other.accountId, name: 'their-robot' })).result;

    // They read their own trail only: their change is there, nothing of ours.
    const theirs = (await pages({ limit: '1000' }, theirToken)).flatMap((one) => one.events);
    expect(theirs.map((event) => event.target)).toContain(theirSid.id);
    for (const event of theirs) expect(event.account_id).toBe(other.accountId);

    // Naming our account answers as naming none that exists; filters never reach across either.
    const ours = await expectIamError(await read({ account_id: owner.accountId }, theirToken), 404, 'not_found');
    const nobody = await expectIamError(await read({ account_id: 'f'.repeat(32) }, theirToken), 404, 'not_found');
    expect(ours.details.replace(owner.accountId, 'X')).toBe(nobody.details.replace('f'.repeat(32), 'X'));
    expect((await page({ principal: owner.iamId }, theirToken)).events).toEqual([]);
    expect((await page({ namespace: 'audit-a' }, theirToken)).events).toEqual([]);

    // And ours never holds theirs; our page token is no page of theirs.
    await expectIamError(await read({ account_id: other.accountId }), 404, 'not_found');
    const mine = (await pages({ limit: '1000' })).flatMap((one) => one.events);
    for (const event of mine) expect(event.account_id).toBe(owner.accountId);
    expect(mine.map((event) => event.target)).not.toContain(theirSid.id);
    const ourNext = (await page({ limit: '1' })).next!.start;
    const cross = await expectIamError(await read({ start: ourNext }, theirToken), 400, 'bad_request');
    expect(cross.details).toContain('start');
  });

  it('needs an access token: none, or a bad one, is a 401', async () => {
    await expectIamError(await read({}, null), 401, 'unauthorized');
    await expectIamError(await read({}, 'x.y.z'), 401, 'unauthorized');
    const raw = await fetch(`${server.url}${path()}`, { headers: { authorization: `Basic ${Buffer.from('iamapikey:x').toString('base64')}` } });
    await expectIamError(raw, 401, 'unauthorized');
  });

  it('refuses bad parameters with a 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['since=yesterday', 'since'],
      ['since=2026-02-30T00:00:00Z', 'since'],
      ['since=2026-12-01T09:00:00', 'since'],
      ['since=60', 'since'],
      ['until=soon', 'until'],
      ['since=1h&until=2h', 'since'],
      ['outcome=maybe', 'outcome'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['action=', 'action'],
      ['action=a&action=b', 'action'],
      ['acton=container-registry.image.push', 'acton'],
    ];
    for (const [query, name] of cases) {
      const error = await expectIamError(await read(query), 400, 'bad_request');
      expect(error.details, query).toContain(`query parameter ${name} `);
    }
    // The limits themselves are fine.
    expect((await page({ limit: '1000' })).limit).toBe(1000);
    expect((await page({ limit: '1' })).limit).toBe(1);
  });

  it('refuses a page token it did not issue with a 400, never a 500', async () => {
    const encode = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const garbage = [
      'garbage!',
      '%%%',
      'Zm9v',
      encode('{"at":'),
      encode([1, 2]),
      encode(null),
      encode({ at: 'x', accountId: owner.accountId, seq: 1 }),
      encode({ at: 1, accountId: '', seq: 1 }),
      encode({ at: 1, accountId: owner.accountId, seq: 0 }),
      encode({ at: 1e300, accountId: owner.accountId, seq: 1 }),
      'A'.repeat(5000),
    ];
    for (const start of garbage) {
      const error = await expectIamError(await read({ start }), 400, 'bad_request');
      expect(error.details, start).toContain('query parameter start ');
    }
    // A well-formed token positions the read (here: before every event).
    expect((await page({ start: encode({ at: 0, accountId: owner.accountId, seq: 1 }), action: 'container-registry.namespace.create' })).events).toHaveLength(2);
  });
});

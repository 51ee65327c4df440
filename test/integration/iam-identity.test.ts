import IamIdentityV1 from '@ibm-cloud/platform-services/iam-identity/v1.js';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor as tokenFrom } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/;

interface IdentityErrorBody {
  context: { transaction_id: string; operation: string; url: string };
  status_code: string;
  errors: { code: string; message_code: string; message: string; details: string }[];
  trace: string;
}

/** Asserts IBM's Identity API error shape and returns its one error. */
async function expectIdentityError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as IdentityErrorBody;
  expect(body.status_code).toBe(String(status));
  expect(body.context.transaction_id).toBeTruthy();
  expect(body.context.url).toMatch(/^\/v1\//);
  expect(body.trace).toBe(body.context.transaction_id);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  expect(body.errors[0]!.message_code).toMatch(/^BXNIM\d{4}E$/);
  return body.errors[0]!;
}

describe('IAM Identity API', () => {
  let server: TestServer;
  let identity: IamIdentityV1;
  let token: string;
  let owner: { iamId: string; accountId: string };

  /** An access token for an API key, straight from the token service; throws if the key no longer works. */
  const tokenFor = (apikey: string) => tokenFrom(server, apikey);

  function call(path: string, init: RequestInit & { bearer?: string | null } = {}): Promise<Response> {
    const { bearer = token, headers, ...rest } = init;
    return fetch(`${server.url}${path}`, {
      ...rest,
      headers: { ...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}), ...(headers as Record<string, string>) },
    });
  }

  function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
    return { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
  }

  beforeAll(async () => {
    server = await startTestServer();
    const ownerKey = server.berth.ownerApiKey!;
    identity = new IamIdentityV1({ authenticator: new IamAuthenticator({ apikey: ownerKey, url: server.url }), serviceUrl: server.url });
    token = await tokenFor(ownerKey);
    // Reading the owner's own key by value tells us who the owner is.
    const details = await identity.getApiKeysDetails({ iamApiKey: ownerKey });
    owner = { iamId: details.result.iam_id, accountId: details.result.account_id! };
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('API keys through the IBM SDK', () => {
    it('creates a key whose value is shown once and authenticates', async () => {
      const created = await identity.createApiKey({ name: 'ci', iamId: owner.iamId, description: 'for CI', expiresAt: '2049-01-02T18:30:00+0000' });
      expect(created.status).toBe(201);
      const key = created.result;
      expect(key.id).toMatch(/^ApiKey-[0-9a-f-]{36}$/);
      expect(key.apikey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(key.entity_tag).toMatch(/^1-[0-9a-f]+$/);
      expect(key.crn).toBe(`crn:v1:berth:public:iam-identity::a/${owner.accountId}::apikey:${key.id}`);
      expect(key.created_at).toMatch(TIME);
      expect(key.expires_at).toBe('2049-01-02T18:30+0000');
      expect(key).toMatchObject({ name: 'ci', description: 'for CI', iam_id: owner.iamId, account_id: owner.accountId, created_by: owner.iamId, locked: false });
      await expect(tokenFor(key.apikey)).resolves.toMatch(/^ey/);

      const read = await identity.getApiKey({ id: key.id! });
      expect(read.headers.etag).toBe(read.result.entity_tag);
      expect(read.result.apikey).toBeUndefined();
      expect((await identity.getApiKeysDetails({ iamApiKey: key.apikey })).result.id).toBe(key.id);
    });

    it('updates with If-Match, bumping the entity tag; a stale tag is a 409', async () => {
      const key = (await identity.createApiKey({ name: 'before', iamId: owner.iamId })).result;
      const etag = (await identity.getApiKey({ id: key.id! })).headers.etag as string;
      const updated = await identity.updateApiKey({ id: key.id!, ifMatch: etag, name: 'after', description: 'renamed' });
      expect(updated.result).toMatchObject({ name: 'after', description: 'renamed' });
      expect(updated.result.entity_tag).toMatch(/^2-/);
      expect(updated.result.entity_tag).not.toBe(etag);

      const stale = await call(`/v1/apikeys/${key.id}`, { method: 'PUT', ...json({ name: 'again' }, { 'if-match': etag }) });
      await expectIdentityError(stale, 409, 'conflict');
      const missing = await call(`/v1/apikeys/${key.id}`, { method: 'PUT', ...json({ name: 'again' }) });
      await expectIdentityError(missing, 428, 'precondition_required');
      const any = await identity.updateApiKey({ id: key.id!, ifMatch: '*', name: 'any' });
      expect(any.result.name).toBe('any');
    });

    it('pages through a list with pagetoken taken from next', async () => {
      const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
      for (const name of names) await identity.createApiKey({ name, iamId: owner.iamId });
      const seen: string[] = [];
      let pagetoken: string | undefined;
      let pages = 0;
      do {
        const page = (await identity.listApiKeys({ accountId: owner.accountId, iamId: owner.iamId, pagesize: 2, sort: 'name', order: 'desc', ...(pagetoken ? { pagetoken } : {}) })).result;
        pages += 1;
        expect(page.limit).toBe(2);
        expect(page.apikeys.length).toBeLessThanOrEqual(2);
        seen.push(...page.apikeys.map((k) => k.name));
        expect(page.apikeys.every((k) => k.apikey === undefined)).toBe(true);
        pagetoken = page.next ? (new URL(page.next, 'http://x').searchParams.get('pagetoken') ?? undefined) : undefined;
      } while (pagetoken && pages < 50);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort().reverse());
      expect(seen.filter((n) => n.startsWith('page-'))).toEqual([...names].reverse());
      expect(pages).toBe(Math.ceil(seen.length / 2));
    });

    it('takes a bodiless POST sent with Content-Type: application/json (as IBM\'s SDKs send lock calls)', async () => {
      const key = (await identity.createApiKey({ name: 'empty-json', iamId: owner.iamId })).result;
      for (const action of ['lock', 'unlock'] as const) {
        const response = await call(`/v1/apikeys/${key.id}/lock`, { method: action === 'lock' ? 'POST' : 'DELETE', headers: { 'content-type': 'application/json' }, ...(action === 'lock' ? { body: '' } : {}) });
        expect(response.status, action).toBe(204);
      }
      expect((await identity.getApiKey({ id: key.id! })).result.locked).toBe(false);
    });

    it('refuses a page token that is not one it issued with 400, whatever JSON it decodes to', async () => {
      for (const json of ['null', '7', '[]', '"x"', '{}', '{"offset":-1}', '{"offset":1.5}']) {
        const pagetoken = Buffer.from(json).toString('base64url');
        for (const path of [`/v1/apikeys?iam_id=${owner.iamId}&pagetoken=${pagetoken}`, `/v1/serviceids?account_id=${owner.accountId}&pagetoken=${pagetoken}`]) {
          await expectIdentityError(await call(path), 400, 'bad_request');
        }
      }
    });

    it('a locked key cannot be changed or deleted but still authenticates; unlocked, its deletion stops it at once', async () => {
      const key = (await identity.createApiKey({ name: 'locked', iamId: owner.iamId, entityLock: 'true' })).result;
      expect(key.locked).toBe(true);
      await expectIdentityError(await call(`/v1/apikeys/${key.id}`, { method: 'PUT', ...json({ name: 'x' }, { 'if-match': '*' }) }), 409, 'conflict');
      await expectIdentityError(await call(`/v1/apikeys/${key.id}`, { method: 'DELETE' }), 409, 'conflict');
      await expect(tokenFor(key.apikey)).resolves.toMatch(/^ey/);

      expect((await identity.unlockApiKey({ id: key.id! })).status).toBe(204);
      expect((await identity.getApiKey({ id: key.id! })).result.locked).toBe(false);
      expect((await identity.lockApiKey({ id: key.id! })).status).toBe(204);
      expect((await identity.getApiKey({ id: key.id! })).result.locked).toBe(true);
      await identity.unlockApiKey({ id: key.id! });
      expect((await identity.deleteApiKey({ id: key.id! })).status).toBe(204);

      await expect(tokenFor(key.apikey)).rejects.toThrow(/400/);
      await expectIdentityError(await call(`/v1/apikeys/${key.id}`), 404, 'not_found');
    });
  });

  describe('service IDs through the IBM SDK', () => {
    it('creates a service ID with a key, lists, reads, updates, locks and deletes it with its keys', async () => {
      const created = await identity.createServiceId({ accountId: owner.accountId, name: 'builder', description: 'CI', apikey: { name: 'builder-key' } });
      expect(created.status).toBe(201);
      const sid = created.result;
      expect(sid.id).toMatch(/^ServiceId-[0-9a-f-]{36}$/);
      expect(sid.iam_id).toBe(`iam-${sid.id}`);
      expect(sid.crn).toBe(`crn:v1:berth:public:iam-identity::a/${owner.accountId}::serviceid:${sid.id}`);
      const keyValue = sid.apikey!.apikey;
      expect(sid.apikey).toMatchObject({ name: 'builder-key', iam_id: sid.iam_id });
      const sidToken = await tokenFor(keyValue);

      // Without a policy a service ID sees none of its keys and may create none (it is not a user).
      const ownKeys = await call('/v1/apikeys', { bearer: sidToken });
      expect(ownKeys.status).toBe(200);
      expect(((await ownKeys.json()) as { apikeys: unknown[] }).apikeys).toEqual([]);
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', bearer: sidToken, ...json({ name: 'x', iam_id: sid.iam_id }) }), 403, 'forbidden');

      const list = (await identity.listServiceIds({ accountId: owner.accountId })).result;
      expect(list.serviceids.map((s) => s.id)).toContain(sid.id);
      expect(list.next).toBeUndefined();

      const read = await identity.getServiceId({ id: sid.id! });
      expect(read.headers.etag).toBe(read.result.entity_tag);
      const updated = await identity.updateServiceId({ id: sid.id!, ifMatch: read.headers.etag as string, name: 'builder-2' });
      expect(updated.result.name).toBe('builder-2');
      expect(updated.result.entity_tag).toMatch(/^2-/);

      await identity.lockServiceId({ id: sid.id! });
      await expectIdentityError(await call(`/v1/serviceids/${sid.id}`, { method: 'DELETE' }), 409, 'conflict');
      await identity.unlockServiceId({ id: sid.id! });
      expect((await identity.deleteServiceId({ id: sid.id! })).status).toBe(204);

      await expect(tokenFor(keyValue)).rejects.toThrow(/400/);
      await expectIdentityError(await call(`/v1/serviceids/${sid.id}`), 404, 'not_found');
    });

    it('answers create and list on the trailing-slash path too; list needs account_id', async () => {
      const created = await call('/v1/serviceids/', { method: 'POST', ...json({ account_id: owner.accountId, name: 'slash' }) });
      expect(created.status).toBe(201);
      const listed = (await (await call(`/v1/serviceids/?account_id=${owner.accountId}`)).json()) as { serviceids: { name: string }[] };
      expect(listed.serviceids.map((s) => s.name)).toContain('slash');
      await expectIdentityError(await call('/v1/serviceids'), 400, 'bad_request');
    });
  });

  describe('more of the API key and service ID surface', () => {
    it('disables and enables a key: a disabled key and its sessions stop authenticating until enabled', async () => {
      const key = (await identity.createApiKey({ name: 'toggle', iamId: owner.iamId })).result;
      const cli = await fetch(`${server.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic Yng6Yng=' },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: key.apikey }).toString(),
      });
      const { refresh_token: refresh } = (await cli.json()) as { refresh_token: string };

      expect((await identity.disableApiKey({ id: key.id! })).status).toBe(204);
      expect((await identity.getApiKey({ id: key.id! })).result.disabled).toBe(true);
      await expect(tokenFor(key.apikey)).rejects.toThrow(/400/);
      const refreshed = await fetch(`${server.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic Yng6Yng=' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
      });
      expect(refreshed.status).toBe(400);

      expect((await identity.enableApiKey({ id: key.id! })).status).toBe(204);
      expect((await identity.getApiKey({ id: key.id! })).result.disabled).toBe(false);
      await expect(tokenFor(key.apikey)).resolves.toMatch(/^ey/);
      // Disabling is what one does to a leaked key, so a lock does not stand in its way.
      await identity.lockApiKey({ id: key.id! });
      expect((await identity.disableApiKey({ id: key.id! })).status).toBe(204);
      await expectIdentityError(await call('/v1/apikeys/ApiKey-00000000-0000-4000-8000-000000000000/disable', { method: 'POST' }), 404, 'not_found');
    });

    it('returns history and activity when asked', async () => {
      const key = (await identity.createApiKey({ name: 'audited', iamId: owner.iamId })).result;
      const etag = (await identity.getApiKey({ id: key.id! })).headers.etag as string;
      await identity.updateApiKey({ id: key.id!, ifMatch: etag, description: 'changed' });
      await identity.lockApiKey({ id: key.id! });
      await tokenFor(key.apikey);
      const read = (await identity.getApiKey({ id: key.id!, includeHistory: true, includeActivity: true })).result;
      expect(read.history!.map((h) => h.action)).toEqual(['create', 'update', 'lock']);
      expect(read.history![0]).toMatchObject({ iam_id: owner.iamId, iam_id_account: owner.accountId, timestamp: expect.stringMatching(TIME) });
      expect(read.activity).toMatchObject({ authn_count: 1, last_authn: expect.stringMatching(TIME) });
      expect((await identity.getApiKey({ id: key.id! })).result.history).toBeUndefined();
      const listed = (await identity.listApiKeys({ iamId: owner.iamId, includeHistory: true, filter: 'name eq "audited"' })).result.apikeys;
      expect(listed.map((k) => k.history!.length)).toEqual([3]);

      const sid = (await identity.createServiceId({ accountId: owner.accountId, name: 'audited-sid' })).result;
      await identity.lockServiceId({ id: sid.id! });
      const sidRead = (await identity.getServiceId({ id: sid.id!, includeHistory: true })).result;
      expect(sidRead.history!.map((h) => h.action)).toEqual(['create', 'lock']);
    });

    it('filters lists with filter, type and name', async () => {
      const sid = (await identity.createServiceId({ accountId: owner.accountId, name: 'filter-sid', description: 'blue team' })).result;
      await identity.createApiKey({ name: 'filter-sid-key', iamId: sid.iam_id });
      await identity.createApiKey({ name: 'filter-user-key', iamId: owner.iamId, description: 'blue' });
      const all = (filter: string, extra: Record<string, unknown> = {}) =>
        identity.listApiKeys({ accountId: owner.accountId, scope: 'account', filter, ...extra }).then((r) => r.result.apikeys.map((k) => k.name).sort());
      expect(await all('name sw "filter-"')).toEqual(['filter-sid-key', 'filter-user-key']);
      expect(await all('name sw "filter-"', { type: 'serviceid' })).toEqual(['filter-sid-key']);
      expect(await all('name sw "filter-"', { type: 'user' })).toEqual(['filter-user-key']);
      expect(await all('name co "sid" or description eq "blue"')).toEqual(['filter-sid-key', 'filter-user-key']);
      expect(await all('name co "sid" and description eq "blue"')).toEqual([]);
      expect(await all(`iam_id eq "${sid.iam_id}"`)).toEqual(['filter-sid-key']);
      const sids = (await identity.listServiceIds({ accountId: owner.accountId, filter: 'description co "blue"' })).result.serviceids.map((s) => s.name);
      expect(sids).toEqual(['filter-sid']);
      expect((await identity.listServiceIds({ accountId: owner.accountId, name: 'filter-sid' })).result.serviceids).toHaveLength(1);
      for (const bad of ['name', 'name xx "a"', 'color eq "red"', 'name eq "open', 'name eq "a" nand name eq "b"']) {
        await expectIdentityError(await call(`/v1/apikeys?filter=${encodeURIComponent(bad)}`), 400, 'bad_request');
      }
      await expectIdentityError(await call('/v1/apikeys?type=robot'), 400, 'bad_request');
    });

    it('takes a passthrough key value, echoes leak action, sessions and instance CRNs, and refuses store_value', async () => {
      const value = `passthrough-${'x'.repeat(40)}`;
      const key = (await identity.createApiKey({ name: 'chosen', iamId: owner.iamId, apikey: value, actionWhenLeaked: 'delete', supportSessions: true })).result;
      expect(key.apikey).toBe(value);
      expect(key).toMatchObject({ action_when_leaked: 'delete', support_sessions: true });
      await expect(tokenFor(value)).resolves.toMatch(/^ey/);
      expect((await identity.getApiKeysDetails({ iamApiKey: value })).result.id).toBe(key.id);
      const etag = (await identity.getApiKey({ id: key.id! })).headers.etag as string;
      expect((await identity.updateApiKey({ id: key.id!, ifMatch: etag, actionWhenLeaked: 'none' })).result.action_when_leaked).toBe('none');

      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'again', iam_id: owner.iamId, apikey: value }) }), 409, 'conflict');
      // Six creations of one new value at once: exactly one wins, the others are 409 (never a 500).
      const raced = `raced-${'r'.repeat(40)}`;
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => call('/v1/apikeys', { method: 'POST', ...json({ name: `race-${i}`, iam_id: owner.iamId, apikey: raced }) })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'short', iam_id: owner.iamId, apikey: 'too-short' }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'spaces', iam_id: owner.iamId, apikey: `${'y'.repeat(40)} z` }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'leak', iam_id: owner.iamId, action_when_leaked: 'panic' }) }), 400, 'bad_request');
      const stored = await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'stored', iam_id: owner.iamId, store_value: true }) }), 400, 'bad_request');
      expect(stored.details).toMatch(/store_value/);

      const crns = ['crn:v1:berth:public:container-registry:us-south:a/x::namespace:ns1'];
      const sid = (await identity.createServiceId({ accountId: owner.accountId, name: 'crns', uniqueInstanceCrns: crns, apikey: { name: 'k', apikey: `sid-${'z'.repeat(40)}` } })).result;
      expect(sid.unique_instance_crns).toEqual(crns);
      expect(sid.apikey!.apikey).toBe(`sid-${'z'.repeat(40)}`);
      const sidEtag = (await identity.getServiceId({ id: sid.id! })).headers.etag as string;
      expect((await identity.updateServiceId({ id: sid.id!, ifMatch: sidEtag, uniqueInstanceCrns: [] })).result.unique_instance_crns).toEqual([]);
      await expectIdentityError(await call('/v1/serviceids', { method: 'POST', ...json({ account_id: owner.accountId, name: 's', apikey: { name: 'k', store_value: true } }) }), 400, 'bad_request');
    });

    it('shows the message of an error whose request names an iam_id (the SDK hides those with "iam" in context.url)', async () => {
      const error = await identity.listApiKeys({ iamId: 'iam-ServiceId-00000000-0000-4000-8000-000000000000' }).catch((e: Error & { status: number }) => e);
      expect((error as { status: number }).status).toBe(404);
      expect((error as Error).message).toBe('Unable to find object');
    });
  });

  describe('authentication and bad input', () => {
    it('needs a valid Bearer token', async () => {
      await expectIdentityError(await call('/v1/apikeys', { bearer: null }), 401, 'unauthorized');
      await expectIdentityError(await call('/v1/apikeys', { bearer: 'not-a-token' }), 401, 'unauthorized');
      await expectIdentityError(await call('/v1/serviceids', { method: 'POST', bearer: null, ...json({}) }), 401, 'unauthorized');
    });

    it('answers 400 for missing fields, unknown identities, bad times and malformed JSON; 413 for oversized bodies', async () => {
      const noName = await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ iam_id: owner.iamId }) }), 400, 'bad_request');
      expect(noName.details).toMatch(/name/);
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'x', iam_id: 'BERTHid-NOBODY' }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'x', iam_id: owner.iamId, expires_at: 'tomorrow' }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'x', iam_id: owner.iamId }, { 'entity-lock': 'yes' }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys?pagesize=500'), 400, 'bad_request');
      await expectIdentityError(await call('/v1/apikeys?pagetoken=%%%'), 400, 'bad_request');
      const huge = { name: 'x', iam_id: owner.iamId, description: 'd'.repeat(100 * 1024) };
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json(huge) }), 413, 'payload_too_large');
    });
  });

  describe('another account', () => {
    it('is invisible: its keys and service IDs answer 404 as if missing, and its identities are not valid iam_ids', async () => {
      const other = await server.berth.iam.identities.createAccount('other', { name: 'o', email: 'o@example.com' });
      const { record } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'theirs', createdBy: other.ownerIamId });
      const { record: theirSid } = await server.berth.iam.serviceIds.create({ accountId: other.accountId, name: 'their-sid', createdBy: other.ownerIamId });
      const missing = await expectIdentityError(await call('/v1/apikeys/ApiKey-00000000-0000-4000-8000-000000000000'), 404, 'not_found');

      const foreign = await expectIdentityError(await call(`/v1/apikeys/${record.id}`), 404, 'not_found');
      expect(foreign.message).toBe(missing.message);
      await expectIdentityError(await call(`/v1/apikeys/${record.id}`, { method: 'DELETE' }), 404, 'not_found');
      await expectIdentityError(await call(`/v1/apikeys/${record.id}/lock`, { method: 'POST' }), 404, 'not_found');
      await expectIdentityError(await call(`/v1/apikeys/${record.id}`, { method: 'PUT', ...json({ name: 'mine' }, { 'if-match': '*' }) }), 404, 'not_found');
      await expectIdentityError(await call(`/v1/apikeys?account_id=${other.accountId}`), 404, 'not_found');
      await expectIdentityError(await call(`/v1/serviceids/${theirSid.id}`), 404, 'not_found');
      await expectIdentityError(await call(`/v1/serviceids?account_id=${other.accountId}`), 404, 'not_found');
      await expectIdentityError(await call('/v1/apikeys', { method: 'POST', ...json({ name: 'x', iam_id: other.ownerIamId }) }), 400, 'bad_request');
      await expectIdentityError(await call('/v1/serviceids', { method: 'POST', ...json({ name: 'x', account_id: other.accountId }) }), 400, 'bad_request');
      // Untouched by all of the above.
      expect((await server.berth.iam.apiKeys.get(record.id))?.version).toBe(1);
    });
  });
});

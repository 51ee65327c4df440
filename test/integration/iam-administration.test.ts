import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWith, ownerSession, policyBody, sdkFor, tokenFor } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * IAM administration authorized by policy, end to end through IBM's SDK: who may create service
 * IDs, keys of others, policies and users, with which roles (the table is in src/iam/roles.ts).
 */
describe('IAM administration is authorized by policies', () => {
  let server: TestServer & { schema?: string };
  let owner: ReturnType<typeof sdkFor>;
  let accountId: string;
  let call: ReturnType<typeof callWith>;

  /** A service ID with one API key, and that key's SDK clients and raw caller. */
  async function serviceIdWithKey(name: string) {
    const created = (await owner.identity.createServiceId({ accountId, name, apikey: { name: `${name}-key` } })).result;
    const key = created.apikey!.apikey;
    const token = await tokenFor(server, key);
    return { id: created.id!, iamId: created.iam_id, key, sdk: sdkFor(server, key), call: callWith(server, () => token) };
  }

  /** A user of the account with one API key. */
  async function userWithKey(email: string) {
    const invited = (await owner.users.inviteUsers({ accountId, users: [{ email }] })).result;
    const iamId = invited.resources![0]!.id!;
    const key = (await owner.identity.createApiKey({ name: `${email} key`, iamId })).result.apikey;
    const token = await tokenFor(server, key);
    return { iamId, key, sdk: sdkFor(server, key), call: callWith(server, () => token) };
  }

  async function grant(iamId: string, roles: string[], attributes: Record<string, string>): Promise<string> {
    return (await owner.policies.createPolicy(policyBody(iamId, accountId, roles, attributes) as never)).result.id!;
  }

  beforeAll(async () => {
    server = await startTestServer();
    ({ sdk: owner, call, accountId } = await ownerSession(server));
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  it('a service ID holding every container-registry role can create nothing in IAM', async () => {
    const robot = await serviceIdWithKey('registry-robot');
    await grant(robot.iamId, ['Reader', 'Writer', 'Manager'], { serviceName: 'container-registry' });
    const forbidden = async (response: Promise<Response>) => expect((await response).status).toBe(403);

    await forbidden(robot.call('/v1/serviceids', { method: 'POST', body: { account_id: accountId, name: 'more' } }));
    await forbidden(robot.call('/v1/apikeys', { method: 'POST', body: { name: 'mine', iam_id: robot.iamId } }));
    await forbidden(robot.call('/v1/policies', { method: 'POST', body: policyBody(robot.iamId, accountId, ['Manager'], { serviceName: 'iam-identity' }) }));
    await forbidden(robot.call(`/v2/accounts/${accountId}/users`, { method: 'POST', body: { users: [{ email: 'x@example.com' }] } }));
    await forbidden(robot.call('/v1/accounts', { method: 'POST', body: { name: 'tenant', owner_email: 'x@example.com' } }));
    await forbidden(robot.call(`/v1/serviceids/${robot.id}`, { method: 'DELETE' }));
    // What it may do in the registry is unchanged by all this.
    const access = await server.berth.iam.authorization.for({ iamId: robot.iamId, accountId, isAccountOwner: false });
    expect(access.grantedActions({ accountId, region: 'us-south', namespace: 'any' })).toEqual(['pull', 'push', 'delete']);
    // Nothing was created.
    const names = (await owner.identity.listServiceIds({ accountId })).result.serviceids.map((s) => s.name);
    expect(names).not.toContain('more');
  });

  it('Editor on iam-identity manages service IDs and their keys, but grants no access', async () => {
    const admin = await serviceIdWithKey('identity-admin');
    await grant(admin.iamId, ['Editor'], { serviceName: 'iam-identity' });

    const made = (await admin.sdk.identity.createServiceId({ accountId, name: 'made-by-admin' })).result;
    expect((made as { created_by?: string }).created_by).toBe(admin.iamId);
    const key = (await admin.sdk.identity.createApiKey({ name: 'made-key', iamId: made.iam_id })).result;
    await expect(tokenFor(server, key.apikey)).resolves.toMatch(/^ey/);
    const keys = (await admin.sdk.identity.listApiKeys({ iamId: made.iam_id })).result.apikeys;
    expect(keys.map((k) => k.id)).toEqual([key.id]);
    const etag = (await admin.sdk.identity.getServiceId({ id: made.id! })).headers.etag as string;
    expect((await admin.sdk.identity.updateServiceId({ id: made.id!, ifMatch: etag, name: 'renamed' })).result.name).toBe('renamed');

    const grantIt = await admin.call('/v1/policies', { method: 'POST', body: policyBody(made.iam_id, accountId, ['Writer'], { serviceName: 'container-registry' }) });
    expect(grantIt.status).toBe(403);
    expect(((await grantIt.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('insufficent_permissions');
    // A user's keys are that user's credentials: Editor may see the owner's, not make or change them.
    const ownerIamId = (await owner.identity.listApiKeys({})).result.apikeys[0]!.iam_id;
    const ownerKeys = (await admin.sdk.identity.listApiKeys({ iamId: ownerIamId })).result.apikeys;
    expect(ownerKeys.length).toBeGreaterThan(0);
    expect((await admin.call('/v1/apikeys', { method: 'POST', body: { name: 'takeover', iam_id: ownerIamId } })).status).toBe(403);
    expect((await admin.call(`/v1/apikeys/${ownerKeys[0]!.id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await admin.call(`/v1/apikeys/${ownerKeys[0]!.id}/disable`, { method: 'POST' })).status).toBe(403);
    expect((await admin.sdk.identity.deleteServiceId({ id: made.id! })).status).toBe(204);
    await expect(tokenFor(server, key.apikey)).rejects.toThrow(/400/);
  });

  it('a policy on one service ID covers that service ID and its keys only', async () => {
    const target = await serviceIdWithKey('scoped-target');
    const other = await serviceIdWithKey('scoped-other');
    const keeper = await serviceIdWithKey('scoped-keeper');
    await grant(keeper.iamId, ['Editor'], { serviceName: 'iam-identity', resourceType: 'serviceid', resource: target.id });

    const listed = (await keeper.sdk.identity.listServiceIds({ accountId })).result.serviceids.map((s) => s.id);
    expect(listed).toEqual([target.id]);
    const rotated = (await keeper.sdk.identity.createApiKey({ name: 'rotated', iamId: target.iamId })).result;
    await expect(tokenFor(server, rotated.apikey)).resolves.toMatch(/^ey/);
    expect((await keeper.call(`/v1/serviceids/${other.id}`)).status).toBe(403);
    expect((await keeper.call('/v1/apikeys', { method: 'POST', body: { name: 'x', iam_id: other.iamId } })).status).toBe(403);
    expect((await keeper.call('/v1/serviceids', { method: 'POST', body: { account_id: accountId, name: 'new' } })).status).toBe(403);
    expect((await keeper.call(`/v1/apikeys?iam_id=${other.iamId}`)).status).toBe(403);
  });

  it('ServiceIdCreator creates service IDs and nothing more', async () => {
    const creator = await serviceIdWithKey('creator');
    await grant(creator.iamId, ['crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator'], { serviceName: 'iam-identity' });
    const made = await creator.call('/v1/serviceids', { method: 'POST', body: { account_id: accountId, name: 'by-creator' } });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    expect((await creator.call(`/v1/serviceids/${id}`)).status).toBe(403);
  });

  it('a user always manages their own API keys and nobody else’s', async () => {
    const dev = await userWithKey('dev@example.com');
    const own = (await dev.sdk.identity.createApiKey({ name: 'laptop', iamId: dev.iamId })).result;
    const etag = (await dev.sdk.identity.getApiKey({ id: own.id! })).headers.etag as string;
    expect((await dev.sdk.identity.updateApiKey({ id: own.id!, ifMatch: etag, description: 'mine' })).result.description).toBe('mine');
    await dev.sdk.identity.lockApiKey({ id: own.id! });
    await dev.sdk.identity.unlockApiKey({ id: own.id! });
    const mine = (await dev.sdk.identity.listApiKeys({})).result.apikeys.map((k) => k.name).sort();
    expect(mine).toEqual([`dev@example.com key`, 'laptop']);
    // scope=account lists what the caller may see: still only their own.
    const everything = (await dev.sdk.identity.listApiKeys({ accountId, scope: 'account' })).result.apikeys;
    expect(everything.every((k) => k.iam_id === dev.iamId)).toBe(true);
    expect((await dev.sdk.identity.deleteApiKey({ id: own.id! })).status).toBe(204);

    const ownerKeys = (await owner.identity.listApiKeys({})).result.apikeys;
    expect((await dev.call(`/v1/apikeys/${ownerKeys[0]!.id}`)).status).toBe(403);
    expect((await dev.call('/v1/apikeys', { method: 'POST', body: { name: 'x', iam_id: ownerKeys[0]!.iam_id } })).status).toBe(403);
    expect((await dev.call(`/v1/serviceids?account_id=${accountId}`)).status).toBe(200);
    expect(((await (await dev.call(`/v1/serviceids?account_id=${accountId}`)).json()) as { serviceids: unknown[] }).serviceids).toEqual([]);
  });

  it('Administrator on a namespace grants access to that namespace only', async () => {
    const lead = await userWithKey('lead@example.com');
    const leadsOwn = await grant(lead.iamId, ['Administrator'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-a' });
    const pusher = await serviceIdWithKey('team-a-pusher');
    const elsewhere = await grant(pusher.iamId, ['Reader'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-b' });

    const onTeamA = policyBody(pusher.iamId, accountId, ['Writer'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-a' });
    const created = (await lead.sdk.policies.createPolicy(onTeamA as never)).result;
    expect(created.created_by_id).toBe(lead.iamId);
    const access = await server.berth.iam.authorization.for({ iamId: pusher.iamId, accountId, isAccountOwner: false });
    expect(access.grantedActions({ accountId, region: 'us-south', namespace: 'team-a' })).toEqual(['pull', 'push', 'delete']);

    for (const attributes of <Array<Record<string, string>>>[
      { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-b' },
      { serviceName: 'container-registry' },
      { serviceType: 'service' },
      { serviceName: 'iam-identity' },
    ]) {
      const response = await lead.call('/v1/policies', { method: 'POST', body: policyBody(pusher.iamId, accountId, ['Writer'], attributes) });
      expect(response.status, JSON.stringify(attributes)).toBe(403);
    }
    // Widening its own policy is a write on what it does not administer.
    const widened = policyBody(pusher.iamId, accountId, ['Writer'], { serviceName: 'container-registry' });
    expect((await lead.call(`/v1/policies/${created.id}`, { method: 'PUT', body: widened, headers: { 'if-match': '*' } })).status).toBe(403);
    // It reads what it may write, and what names it; not the others'.
    const listed = (await lead.sdk.policies.listPolicies({ accountId })).result.policies.map((p) => p.id);
    expect(listed.sort()).toEqual([leadsOwn, created.id].sort());
    expect((await lead.call(`/v1/policies/${elsewhere}`)).status).toBe(403);
    expect((await lead.sdk.policies.deletePolicy({ policyId: created.id! })).status).toBe(204);
    const after = await server.berth.iam.authorization.for({ iamId: pusher.iamId, accountId, isAccountOwner: false });
    expect(after.grantedActions({ accountId, region: 'us-south', namespace: 'team-a' })).toEqual([]);
  });

  it('a role on iam-access-management reads every policy of the account', async () => {
    const auditor = await serviceIdWithKey('auditor');
    const someone = await serviceIdWithKey('someone');
    const theirs = await grant(someone.iamId, ['Reader'], { serviceName: 'container-registry' });
    expect((await auditor.call(`/v1/policies/${theirs}`)).status).toBe(403);
    await grant(auditor.iamId, ['Viewer'], { serviceName: 'iam-access-management' });
    expect((await auditor.call(`/v1/policies/${theirs}`)).status).toBe(200);
    const all = (await owner.policies.listPolicies({ accountId })).result.policies.map((p) => p.id).sort();
    const seen = (await auditor.sdk.policies.listPolicies({ accountId })).result.policies.map((p) => p.id).sort();
    expect(seen).toEqual(all);
    expect((await auditor.call(`/v1/policies/${theirs}`, { method: 'DELETE' })).status).toBe(403);
  });

  it('a policy change on one node decides the next request on every node', async () => {
    const second = await startTestServer({ dataDir: server.dataDir, ...(server.schema ? { schema: server.schema } : {}) });
    try {
      const worker = await serviceIdWithKey('two-nodes');
      const onSecond = callWith(second, () => workerToken);
      const workerToken = await tokenFor(second, worker.key);
      const create = () => onSecond('/v1/serviceids', { method: 'POST', body: { account_id: accountId, name: 'via-second' } });

      expect((await create()).status).toBe(403);
      const policy = await grant(worker.iamId, ['Editor'], { serviceName: 'iam-identity' });
      expect((await create()).status).toBe(201);
      // Decided, and so cached, on the second node; deleted on the first.
      await owner.policies.deletePolicy({ policyId: policy });
      expect((await create()).status).toBe(403);
      expect(await second.serverErrors()).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('answers 401 for a token whose identity was deleted since it was issued', async () => {
    const gone = await serviceIdWithKey('short-lived');
    const token = await tokenFor(server, gone.key);
    await owner.identity.deleteServiceId({ id: gone.id });
    for (const path of ['/v1/apikeys', `/v1/policies?account_id=${accountId}`, `/v2/accounts/${accountId}/users`, '/v1/accounts']) {
      expect((await call(path, { bearer: token })).status, path).toBe(401);
    }
  });
});

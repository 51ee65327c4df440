import UserManagementV1 from '@ibm-cloud/platform-services/user-management/v1.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchemaName, testBackend } from '../support/database.js';
import { callWith, ownerSession, policyBody, sdkFor, tokenFor } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface IdentityErrorBody {
  status_code: string;
  errors: { code: string; message: string; details: string }[];
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as IdentityErrorBody;
  expect(body.status_code).toBe(String(status));
  expect(body.errors[0]!.code).toBe(code);
  return body.errors[0]!;
}

describe('users (IBM User Management) and accounts (the operator’s API)', () => {
  let server: TestServer;
  let owner: ReturnType<typeof sdkFor>;
  let accountId: string;
  let ownerIamId: string;
  let call: ReturnType<typeof callWith>;

  beforeAll(async () => {
    server = await startTestServer();
    ({ sdk: owner, call, accountId, iamId: ownerIamId } = await ownerSession(server));
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('users through UserManagementV1', () => {
    it('invites users with a policy, lists them with the pager, reads, updates and removes them', async () => {
      const invited = await owner.users.inviteUsers({
        accountId,
        users: [{ email: 'ana@example.com', account_role: 'Member' }, { email: 'bo@example.com' }],
        iamPolicy: [{ type: 'access', roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }], resources: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'container-registry' }] }] }],
      });
      expect(invited.status).toBe(202);
      const [ana, bo] = invited.result.resources!;
      expect(ana).toMatchObject({ email: 'ana@example.com', state: 'ACTIVE', id: expect.stringMatching(/^BERTHid-/) });
      // Each got the policy, so each may pull.
      for (const user of [ana!, bo!]) {
        const access = await server.berth.iam.authorization.for({ iamId: user.id!, accountId, isAccountOwner: false });
        expect(access.grantedActions({ accountId, region: 'us-south', namespace: 'ns' })).toEqual(['pull']);
      }

      const pager = new UserManagementV1.UsersPager(owner.users, { accountId, limit: 2 });
      const everyone = await pager.getAll();
      expect(everyone.map((u) => u.email)).toEqual(['owner@berth.local', 'ana@example.com', 'bo@example.com']);
      const first = (await owner.users.listUsers({ accountId, limit: 2 })).result;
      expect(first).toMatchObject({ total_results: 3, limit: 2 });
      expect(first.next_url).toContain('_start=2');

      const profile = (await owner.users.getUserProfile({ accountId, iamId: ana!.id! })).result;
      expect(profile).toMatchObject({ iam_id: ana!.id, email: 'ana@example.com', user_id: 'ana@example.com', account_id: accountId, state: 'ACTIVE', realm: 'BERTHid' });
      expect((await owner.users.updateUserProfile({ accountId, iamId: ana!.id!, firstname: 'Ana', lastname: 'Lima', state: 'VPN_ONLY' })).status).toBe(204);
      expect((await owner.users.getUserProfile({ accountId, iamId: ana!.id! })).result).toMatchObject({ firstname: 'Ana', lastname: 'Lima', state: 'VPN_ONLY' });

      // A user with a key loses it, and their sessions and policies, when removed.
      const key = (await owner.identity.createApiKey({ name: 'bo', iamId: bo!.id! })).result.apikey;
      const boToken = await tokenFor(server, key);
      expect((await owner.users.removeUser({ accountId, iamId: bo!.id! })).status).toBe(204);
      await expect(tokenFor(server, key)).rejects.toThrow(/400/);
      expect((await call(`/v2/accounts/${accountId}/users/${ana!.id}`, { bearer: boToken })).status).toBe(401);
      await expectError(await call(`/v2/accounts/${accountId}/users/${bo!.id}`), 404, 'not_found');
      expect((await owner.policies.listPolicies({ accountId, iamId: bo!.id! })).result.policies).toEqual([]);
      const retired = await server.berth.iam.authorization.for({ iamId: bo!.id!, accountId, isAccountOwner: false });
      expect(retired.grantedActions({ accountId, region: 'us-south', namespace: 'ns' })).toEqual([]);
    });

    it('refuses bad invitations, the owner’s removal, and unknown profile fields', async () => {
      const users = `/v2/accounts/${accountId}/users`;
      await expectError(await call(users, { method: 'POST', body: { users: [] } }), 400, 'bad_request');
      await expectError(await call(users, { method: 'POST', body: { users: [{ email: 'not-an-email' }] } }), 400, 'bad_request');
      await expectError(await call(users, { method: 'POST', body: { users: [{ email: 'd@example.com' }, { email: 'd@example.com' }] } }), 400, 'bad_request');
      await expectError(await call(users, { method: 'POST', body: { users: [{ email: 'owner@berth.local' }] } }), 409, 'conflict');
      await expectError(await call(users, { method: 'POST', body: { users: [{ email: 'g@example.com' }], access_groups: ['AccessGroupId-1'] } }), 400, 'bad_request');
      const badPolicy = await call(users, { method: 'POST', body: { users: [{ email: 'p@example.com' }], iam_policy: [{ type: 'access', roles: [{ role_id: 'nope' }], resources: [] }] } });
      await expectError(badPolicy, 400, 'invalid_body');
      // Nobody was created by the refused invitations.
      const emails = (await owner.users.listUsers({ accountId })).result.resources!.map((u) => u.email);
      expect(emails.filter((e) => ['d@example.com', 'g@example.com', 'p@example.com'].includes(e!))).toEqual([]);

      await expectError(await call(`${users}/${ownerIamId}`, { method: 'DELETE' }), 409, 'conflict');
      await expectError(await call(`${users}/${ownerIamId}`, { method: 'PATCH', body: { phonenumber: '123' } }), 400, 'bad_request');
      await expectError(await call(`${users}/${ownerIamId}`, { method: 'PATCH', body: { state: 'PENDING' } }), 400, 'bad_request');
      await expectError(await call(`${users}/BERTHid-NOBODY`), 404, 'not_found');
      await expectError(await call(`${users}?_start=-4`), 400, 'bad_request');
    });

    it('needs a user-management role; service IDs never invite; another account is not found', async () => {
      const invited = (await owner.users.inviteUsers({ accountId, users: [{ email: 'plain@example.com' }] })).result.resources![0]!;
      const plainKey = (await owner.identity.createApiKey({ name: 'plain', iamId: invited.id! })).result.apikey;
      const plainToken = await tokenFor(server, plainKey);
      const plain = callWith(server, () => plainToken);
      await expectError(await plain(`/v2/accounts/${accountId}/users`), 403, 'forbidden');
      // Their own profile they may read and rename, but not change their state.
      expect((await plain(`/v2/accounts/${accountId}/users/${invited.id}`)).status).toBe(200);
      expect((await plain(`/v2/accounts/${accountId}/users/${invited.id}`, { method: 'PATCH', body: { firstname: 'Plain' } })).status).toBe(204);
      await expectError(await plain(`/v2/accounts/${accountId}/users/${invited.id}`, { method: 'PATCH', body: { state: 'ACTIVE' } }), 403, 'forbidden');

      await owner.policies.createPolicy(policyBody(invited.id!, accountId, ['Editor'], { serviceName: 'user-management' }) as never);
      expect((await plain(`/v2/accounts/${accountId}/users`)).status).toBe(200);
      const byEditor = await plain(`/v2/accounts/${accountId}/users`, { method: 'POST', body: { users: [{ email: 'via-editor@example.com' }] } });
      expect(byEditor.status).toBe(202);
      // Granting access with an invitation still needs Administrator on what it grants.
      const withPolicy = await plain(`/v2/accounts/${accountId}/users`, {
        method: 'POST',
        body: { users: [{ email: 'escalate@example.com' }], iam_policy: [{ type: 'access', roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Manager' }], resources: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'container-registry' }] }] }] },
      });
      await expectError(withPolicy, 403, 'insufficent_permissions');

      const robot = (await owner.identity.createServiceId({ accountId, name: 'inviter', apikey: { name: 'k' } })).result;
      await owner.policies.createPolicy(policyBody(robot.iam_id, accountId, ['Administrator'], { serviceName: 'user-management' }) as never);
      const robotToken = await tokenFor(server, robot.apikey!.apikey);
      await expectError(await call(`/v2/accounts/${accountId}/users`, { method: 'POST', bearer: robotToken, body: { users: [{ email: 'r@example.com' }] } }), 403, 'forbidden');
      expect((await call(`/v2/accounts/${accountId}/users`, { bearer: robotToken })).status).toBe(200);

      const other = await server.berth.iam.identities.createAccount('elsewhere', { name: 'e', email: 'e@example.com' });
      const missing = await expectError(await plain(`/v2/accounts/00000000000000000000000000000000/users`), 404, 'not_found');
      const foreign = await expectError(await plain(`/v2/accounts/${other.accountId}/users`), 404, 'not_found');
      expect(foreign.message).toBe(missing.message);
      await expectError(await plain(`/v2/accounts/${other.accountId}/users/${other.ownerIamId}`), 404, 'not_found');
    });
  });

  describe('accounts', () => {
    it('the operator creates a tenant whose owner runs it and sees nothing of the operator’s account', async () => {
      const created = await call('/v1/accounts', { method: 'POST', body: { name: 'team-b', owner_email: 'lead@team-b.example', owner_name: 'Lead B' } });
      expect(created.status).toBe(201);
      const account = (await created.json()) as { id: string; name: string; owner_iam_id: string; operator: boolean; owner_apikey: { apikey: string; iam_id: string } };
      expect(account).toMatchObject({ name: 'team-b', operator: false, owner_apikey: { iam_id: account.owner_iam_id } });
      expect(account.id).toMatch(/^[0-9a-f]{32}$/);

      const tenant = sdkFor(server, account.owner_apikey.apikey);
      const tenantToken = await tokenFor(server, account.owner_apikey.apikey);
      const asTenant = callWith(server, () => tenantToken);
      const sid = (await tenant.identity.createServiceId({ accountId: account.id, name: 'b-robot' })).result;
      expect(sid.account_id).toBe(account.id);
      expect((await tenant.users.listUsers({ accountId: account.id })).result.resources!.map((u) => u.email)).toEqual(['lead@team-b.example']);
      expect((await asTenant(`/v2/accounts/${accountId}/users`)).status).toBe(404);
      expect((await asTenant(`/v1/serviceids?account_id=${accountId}`)).status).toBe(404);
      expect((await asTenant(`/v1/accounts/${accountId}`)).status).toBe(404);
      expect(((await (await asTenant('/v1/accounts')).json()) as { accounts: { id: string }[] }).accounts.map((a) => a.id)).toEqual([account.id]);
      await expectError(await asTenant('/v1/accounts', { method: 'POST', body: { name: 'nested', owner_email: 'x@example.com' } }), 403, 'forbidden');

      // The operator sees every account and can manage users in the new one.
      const all = ((await (await call('/v1/accounts')).json()) as { accounts: { id: string; operator: boolean }[] }).accounts;
      expect(all.find((a) => a.id === accountId)?.operator).toBe(true);
      expect(all.map((a) => a.id)).toContain(account.id);
      expect((await call(`/v1/accounts/${account.id}`)).status).toBe(200);
      expect((await owner.users.inviteUsers({ accountId: account.id, users: [{ email: 'second@team-b.example' }] })).status).toBe(202);

      await expectError(await call('/v1/accounts', { method: 'POST', body: { name: '' , owner_email: 'x@example.com' } }), 400, 'bad_request');
      await expectError(await call('/v1/accounts', { method: 'POST', body: { name: 'n', owner_email: 'nope' } }), 400, 'bad_request');
      await expectError(await call('/v1/accounts/00000000000000000000000000000000'), 404, 'not_found');
    });
  });
});

describe('the first start on one empty database, by several nodes at once', () => {
  it('creates exactly one account, owner and owner key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-bootstrap-'));
    const schema = testBackend() === 'postgres' ? { schema: freshSchemaName() } : {};
    const nodes = await Promise.all([1, 2, 3].map(() => startTestServer({ dataDir, ...schema })));
    try {
      const keys = nodes.map((node) => node.berth.ownerApiKey).filter((key) => key !== undefined);
      expect(keys).toHaveLength(1);
      expect(await nodes[0]!.berth.iam.identities.accounts()).toHaveLength(1);
      expect((await readFile(join(dataDir, 'owner-apikey'), 'utf8')).trim()).toBe(keys[0]);
      await expect(tokenFor(nodes[2]!, keys[0]!)).resolves.toMatch(/^ey/);
    } finally {
      for (const node of nodes) await node.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import IamPolicyManagementV1 from '@ibm-cloud/platform-services/iam-policy-management/v1.js';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWith, tokenFor as tokenFrom, type CallOptions } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WRITER = 'crn:v1:bluemix:public:iam::::serviceRole:Writer';

interface PolicyErrorBody {
  trace: string;
  status_code: number;
  errors: { code: string; message: string }[];
}

/** Asserts IBM's Policy API error shape (§3.3) and returns its one error. */
async function expectPolicyError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as PolicyErrorBody & { context?: unknown };
  expect(body.status_code).toBe(status);
  expect(body.trace).toMatch(/^[0-9a-f]{32}$/);
  expect(body.context).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  expect(body.errors[0]!.message).toBeTruthy();
  return body.errors[0]!;
}

describe('IAM Policy Management v1', () => {
  let server: TestServer;
  let policies: IamPolicyManagementV1;
  let token: string;
  let owner: { iamId: string; accountId: string };
  let serviceIamId: string;

  const tokenFor = (apikey: string) => tokenFrom(server, apikey);
  const call = (path: string, init: CallOptions = {}) => callWith(server, () => token)(path, init);

  /** The policy of the round trip: subject attribute order and resource operators exactly as a client sends them. */
  function writerOnNs1(iamId: string, accountId = owner.accountId) {
    return {
      type: 'access',
      description: 'push to ns1',
      subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
      roles: [{ role_id: WRITER }],
      resources: [
        {
          attributes: [
            { name: 'accountId', value: accountId, operator: 'stringEquals' },
            { name: 'serviceName', value: 'container-registry', operator: 'stringEquals' },
            { name: 'region', value: 'us-south', operator: 'stringEquals' },
            { name: 'resourceType', value: 'namespace' },
            { name: 'resource', value: 'ns1', operator: 'stringEquals' },
          ],
        },
      ],
    };
  }

  beforeAll(async () => {
    server = await startTestServer();
    const ownerKey = server.berth.ownerApiKey!;
    policies = new IamPolicyManagementV1({ authenticator: new IamAuthenticator({ apikey: ownerKey, url: server.url }), serviceUrl: server.url });
    token = await tokenFor(ownerKey);
    // The owner's own token says who the owner is.
    const subject = await server.berth.iam.verifier.verify(token);
    owner = { iamId: subject.iamId, accountId: subject.accountId };
    const { record } = await server.berth.iam.serviceIds.create({ accountId: owner.accountId, name: 'pusher', createdBy: owner.iamId });
    serviceIamId = record.iam_id;
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  it('round-trips a Writer policy for a service ID on ns1 in us-south through the IBM SDK', async () => {
    const request = writerOnNs1(serviceIamId);
    const created = await policies.createPolicy(request);
    expect(created.status).toBe(201);
    const policy = created.result;
    expect(policy.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Deep equality with what was sent, order and absent operators included (§3.2 "echo exactly").
    expect(policy.subjects).toEqual(request.subjects);
    expect(JSON.stringify(policy.resources)).toBe(JSON.stringify(request.resources));
    expect(policy.roles).toEqual([expect.objectContaining({ role_id: WRITER, display_name: 'Writer' })]);
    expect(policy).toMatchObject({ type: 'access', description: 'push to ns1', state: 'active', created_by_id: owner.iamId, last_modified_by_id: owner.iamId });
    expect(policy.href).toBe(`${server.url}/v1/policies/${policy.id}`);
    expect(policy.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const read = await policies.getPolicy({ policyId: policy.id! });
    expect(read.headers.etag).toMatch(/^1-[0-9a-f]{32}$/);
    expect(read.result).toEqual(policy);

    const listed = await policies.listPolicies({ accountId: owner.accountId, iamId: serviceIamId, sort: '-created_at', format: 'include_last_permit' });
    expect(listed.result.policies).toEqual([policy]);
    // The Node SDK has no service_name parameter; the CLI and terraform send it.
    const byService = await call(`/v1/policies?account_id=${owner.accountId}&service_name=container-registry`);
    expect(((await byService.json()) as { policies: unknown[] }).policies).toEqual([policy]);
    const otherService = await call(`/v1/policies?account_id=${owner.accountId}&service_name=kms`);
    expect(await otherService.json()).toEqual({ policies: [] });
    expect((await policies.listPolicies({ accountId: owner.accountId, iamId: owner.iamId })).result.policies).toEqual([]);
    expect((await policies.listPolicies({ accountId: owner.accountId, type: 'authorization' })).result.policies).toEqual([]);

    const replaced = await policies.replacePolicy({
      ...request,
      policyId: policy.id!,
      ifMatch: read.headers.etag as string,
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }],
    });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.etag).toMatch(/^2-/);
    expect(replaced.result.roles.map((r) => r.role_id)).toEqual(['crn:v1:bluemix:public:iam::::serviceRole:Reader']);
    expect(replaced.result.created_at).toBe(policy.created_at);

    const stale = await call(`/v1/policies/${policy.id}`, { method: 'PUT', body: request, headers: { 'if-match': read.headers.etag as string } });
    await expectPolicyError(stale, 409, 'policy_conflict_error');
    await expectPolicyError(await call(`/v1/policies/${policy.id}`, { method: 'PUT', body: request }), 428, 'request_not_processed');

    expect((await policies.deletePolicy({ policyId: policy.id! })).status).toBe(204);
    // A deleted policy stays readable (state deleted) and listable with state=deleted, but not twice deletable.
    const gone = await policies.getPolicy({ policyId: policy.id! });
    expect(gone.result.state).toBe('deleted');
    await expectPolicyError(await call(`/v1/policies/${policy.id}`, { method: 'DELETE' }), 404, 'policy_not_found');
    expect((await policies.listPolicies({ accountId: owner.accountId })).result.policies).toEqual([]);
    expect((await policies.listPolicies({ accountId: owner.accountId, state: 'deleted' })).result.policies.map((p) => p.id)).toEqual([policy.id]);

    // PATCH state brings it back, with If-Match like every write.
    await expectPolicyError(await call(`/v1/policies/${policy.id}`, { method: 'PATCH', body: { state: 'active' } }), 428, 'request_not_processed');
    await expectPolicyError(await call(`/v1/policies/${policy.id}`, { method: 'PATCH', body: { state: 'gone' }, headers: { 'if-match': '*' } }), 400, 'invalid_body');
    const restored = await policies.updatePolicyState({ policyId: policy.id!, ifMatch: gone.headers.etag as string, state: 'active' });
    expect(restored.status).toBe(200);
    expect(restored.result.state).toBe('active');
    expect(restored.result.roles.map((r) => r.role_id)).toEqual(['crn:v1:bluemix:public:iam::::serviceRole:Reader']);
    // Setting active on an active policy is allowed, as IBM's own example does.
    const again = await policies.updatePolicyState({ policyId: policy.id!, ifMatch: restored.headers.etag as string, state: 'active' });
    expect(again.result.state).toBe('active');
    const deleted = await policies.updatePolicyState({ policyId: policy.id!, ifMatch: again.headers.etag as string, state: 'deleted' });
    expect(deleted.result.state).toBe('deleted');
    expect((await policies.listPolicies({ accountId: owner.accountId })).result.policies).toEqual([]);
  });

  it('restoring a deleted policy is refused while an active one grants the same (409)', async () => {
    const first = (await policies.createPolicy(writerOnNs1(serviceIamId))).result;
    await policies.deletePolicy({ policyId: first.id! });
    const second = (await policies.createPolicy(writerOnNs1(serviceIamId))).result;
    await expectPolicyError(await call(`/v1/policies/${first.id}`, { method: 'PATCH', body: { state: 'active' }, headers: { 'if-match': '*' } }), 409, 'policy_conflict_error');
    await policies.deletePolicy({ policyId: second.id! });
  });

  it('pages with limit and next.start when asked, and the SDK pager reads every page', async () => {
    const created: string[] = [];
    for (const ns of ['pa', 'pb', 'pc', 'pd', 'pe']) {
      const body = writerOnNs1(serviceIamId);
      body.resources[0]!.attributes[4]!.value = ns;
      created.push((await policies.createPolicy(body)).result.id!);
    }
    const page = (await policies.listPolicies({ accountId: owner.accountId, iamId: serviceIamId, limit: 2 })).result;
    expect(page.limit).toBe(2);
    expect(page.policies).toHaveLength(2);
    expect(page.first?.href).toContain('/v1/policies?');
    expect(page.next?.start).toBeTruthy();
    const pager = new IamPolicyManagementV1.PoliciesPager(policies, { accountId: owner.accountId, iamId: serviceIamId, limit: 2 });
    const all = await pager.getAll();
    expect(all.map((p) => p.id)).toEqual(created);
    const last = (await policies.listPolicies({ accountId: owner.accountId, iamId: serviceIamId, limit: 2, start: page.next!.start! })).result;
    expect(last.previous?.start).toBeTruthy();
    await expectPolicyError(await call(`/v1/policies?account_id=${owner.accountId}&limit=0`), 400, 'invalid_body');
    await expectPolicyError(await call(`/v1/policies?account_id=${owner.accountId}&limit=101`), 400, 'invalid_body');
    await expectPolicyError(await call(`/v1/policies?account_id=${owner.accountId}&start=nonsense`), 400, 'invalid_body');
    for (const id of created) await policies.deletePolicy({ policyId: id });
  });

  it('refuses a second policy for the same subject and resources (409), naming the one that exists', async () => {
    const first = (await policies.createPolicy(writerOnNs1(serviceIamId))).result;
    const again = writerOnNs1(serviceIamId);
    again.resources[0]!.attributes.reverse();
    again.roles = [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }];
    const response = await call('/v1/policies', { method: 'POST', body: again });
    await expectPolicyError(response.clone(), 409, 'policy_conflict_error');
    const body = (await response.json()) as { errors: { details: { conflicts_with: { etag: string; policy: { id: string } } } }[] };
    expect(body.errors[0]!.details.conflicts_with).toMatchObject({ etag: expect.stringMatching(/^1-/), policy: { id: first.id } });
    await policies.deletePolicy({ policyId: first.id! });
  });

  describe('GET /v2/roles', () => {
    it('resolves role names to CRNs with their actions, as the CLI and SDK look them up', async () => {
      const roles = (await policies.listRoles({ accountId: owner.accountId, serviceName: 'container-registry' })).result;
      expect(roles.custom_roles).toEqual([]);
      expect(roles.service_roles.map((r) => [r.display_name, r.crn])).toEqual([
        ['Reader', 'crn:v1:bluemix:public:iam::::serviceRole:Reader'],
        ['Writer', WRITER],
        ['Manager', 'crn:v1:bluemix:public:iam::::serviceRole:Manager'],
      ]);
      const writer = roles.service_roles.find((r) => r.display_name === 'Writer')!;
      expect(writer.actions).toContain('container-registry.image.push');
      expect(writer.actions).not.toContain('container-registry.image.list');
      expect(roles.system_roles.map((r) => r.crn)).toEqual(['Viewer', 'Operator', 'Editor', 'Administrator'].map((r) => `crn:v1:bluemix:public:iam::::role:${r}`));
      expect(roles.system_roles.find((r) => r.display_name === 'Administrator')!.actions).toContain('iam.policy.assign');

      const iam = (await policies.listRoles({ accountId: owner.accountId, serviceGroupId: 'IAM' })).result;
      expect(iam.service_roles.map((r) => r.crn)).toContain('crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator');
      const identity = (await policies.listRoles({ serviceName: 'iam-identity' })).result;
      expect(identity.system_roles.find((r) => r.display_name === 'Editor')!.actions).toContain('iam-identity.serviceid.create');
      // A misspelt service is refused with the services there are, not answered with the system roles alone.
      const unknown = await expectPolicyError(await call('/v2/roles?service_name=container-registy'), 400, 'invalid_body');
      expect(unknown.message).toContain('container-registy');
      expect((unknown as { details?: unknown }).details).toEqual({
        service_name: 'container-registy',
        known_services: ['container-registry', 'iam-identity', 'iam-access-management', 'user-management', 'berth-audit'],
      });
      await expect(policies.listRoles({ serviceName: 'no-such-service' })).rejects.toMatchObject({ status: 400 });

      await expectPolicyError(await call('/v2/roles', { bearer: null }), 401, 'invalid_token');
      await expectPolicyError(await call('/v2/roles?account_id=00000000000000000000000000000000'), 403, 'insufficent_permissions');
    });

    it('leaves the registry its /v2 paths, a repository called roles included', async () => {
      const tags = await fetch(`${server.url}/v2/roles/tags/list`);
      expect(tags.status).toBe(404);
      expect(((await tags.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NAME_UNKNOWN');
      expect((await fetch(`${server.url}/v2/roles`, { method: 'DELETE' })).status).toBe(404);
    });

    it('accepts the policy shapes of IBM\'s own examples: made-up subjects, serviceType and access tags', async () => {
      const example = {
        type: 'access',
        subjects: [{ attributes: [{ name: 'iam_id', value: 'IBMid-user1' }] }],
        roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }],
        resources: [
          {
            attributes: [
              { name: 'accountId', value: owner.accountId, operator: 'stringEquals' },
              { name: 'serviceType', value: 'service', operator: 'stringEquals' },
            ],
            tags: [{ name: 'project', operator: 'stringEquals', value: 'prototype' }],
          },
        ],
      };
      const created = (await policies.createPolicy(example as never)).result;
      expect(created.subjects).toEqual(example.subjects);
      expect(JSON.stringify(created.resources)).toBe(JSON.stringify(example.resources));
      const listed = (await policies.listPolicies({ accountId: owner.accountId, iamId: 'IBMid-user1', format: 'include_last_permit' })).result.policies;
      expect(listed.map((p) => p.id)).toEqual([created.id]);
      await policies.deletePolicy({ policyId: created.id! });
    });
  });

  describe('errors', () => {
    it('answers 401 without a token and 400 without account_id', async () => {
      await expectPolicyError(await call('/v1/policies?account_id=x', { bearer: null }), 401, 'invalid_token');
      await expectPolicyError(await call('/v1/policies', { method: 'POST', body: writerOnNs1(serviceIamId), bearer: 'nonsense' }), 401, 'invalid_token');
      await expectPolicyError(await call('/v1/policies'), 400, 'missing_required_query_parameter');
    });

    it('rejects unknown roles, foreign or missing accountId, unknown subjects and access groups', async () => {
      const bad = (change: (body: ReturnType<typeof writerOnNs1>) => unknown) => {
        const body = writerOnNs1(serviceIamId);
        return call('/v1/policies', { method: 'POST', body: change(body) ?? body });
      };
      await expectPolicyError(await bad((b) => void (b.roles = [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Owner' }])), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.resources[0]!.attributes = b.resources[0]!.attributes.slice(1))), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.resources[0]!.attributes[0]!.value = 'someone-else')), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.subjects = [{ attributes: [{ name: 'iam_id', value: 'has spaces' }] }])), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.subjects = [{ attributes: [{ name: 'iam_id', value: 'x', operator: 'stringMatch' }] }] as never)), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.subjects = [{ attributes: [{ name: 'access_group_id', value: 'AccessGroupId-1' }] }])), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.resources[0]!.attributes.push({ name: 'serviceInstance', value: 'x', operator: 'stringEquals' }))), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.resources[0]!.attributes[1] = { name: 'serviceType', value: 'everything', operator: 'stringEquals' })), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void (b.resources[0]!.attributes[0]!.operator = 'stringMatch')), 400, 'invalid_body');
      await expectPolicyError(await bad((b) => void ((b.resources[0] as { tags?: unknown }).tags = [{ name: 'env' }])), 400, 'invalid_body');
      await expectPolicyError(await bad(() => 'not an object'), 400, 'invalid_body');
      const broken = await fetch(`${server.url}/v1/policies`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{' });
      await expectPolicyError(broken, 400, 'invalid_body');
    });

    it('hides another account: its policies are 404 and list empty, its principals cannot be subjects', async () => {
      const other = await server.berth.iam.identities.createAccount('other', { name: 'o', email: 'o@example.com' });
      const { record: theirSid } = await server.berth.iam.serviceIds.create({ accountId: other.accountId, name: 'their-sid', createdBy: other.ownerIamId });
      const theirs = await server.berth.iam.policies.create(
        other.accountId,
        { type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: theirSid.iam_id }] }], subjectIamId: theirSid.iam_id, roleIds: [WRITER], resources: [] },
        other.ownerIamId,
      );
      await expectPolicyError(await call(`/v1/policies/${theirs.id}`), 404, 'policy_not_found');
      await expectPolicyError(await call(`/v1/policies/${theirs.id}`, { method: 'DELETE' }), 404, 'policy_not_found');
      await expectPolicyError(await call(`/v1/policies/${theirs.id}`, { method: 'PUT', body: writerOnNs1(serviceIamId), headers: { 'if-match': '*' } }), 404, 'policy_not_found');
      const list = await call(`/v1/policies?account_id=${other.accountId}`);
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual({ policies: [] });
      // Naming their service ID is allowed, as any well-formed iam_id is, and grants it nothing here.
      const naming = await policies.createPolicy(writerOnNs1(theirSid.iam_id));
      expect(naming.status).toBe(201);
      const theirSubject = { iamId: theirSid.iam_id, accountId: other.accountId, isAccountOwner: false };
      const access = await server.berth.iam.authorization.for(theirSubject);
      expect(access.grantedActions({ accountId: owner.accountId, region: 'us-south', namespace: 'ns1' })).toEqual([]);
      expect(access.grantedActions({ accountId: other.accountId, region: 'us-south', namespace: 'ns1' })).toEqual([]);
      await policies.deletePolicy({ policyId: naming.result.id! });
      expect((await server.berth.iam.policies.get(theirs.id))?.version).toBe(1);
    });

    it('lets a service ID without IAM roles read only its own policies and write none (403)', async () => {
      const { record: sid, apiKey } = await server.berth.iam.serviceIds.create({ accountId: owner.accountId, name: 'reader', createdBy: owner.iamId, apiKey: { name: 'k' } });
      const theirToken = await tokenFor(apiKey!.secret);
      const others = (await policies.createPolicy(writerOnNs1(serviceIamId))).result;
      const theirs = (await policies.createPolicy(writerOnNs1(sid.iam_id))).result;
      await expectPolicyError(await call('/v1/policies', { method: 'POST', body: writerOnNs1(sid.iam_id), bearer: theirToken }), 403, 'insufficent_permissions');
      await expectPolicyError(await call(`/v1/policies/${theirs.id}`, { method: 'DELETE', bearer: theirToken }), 403, 'insufficent_permissions');
      await expectPolicyError(await call(`/v1/policies/${others.id}`, { bearer: theirToken }), 403, 'insufficent_permissions');
      expect((await call(`/v1/policies/${theirs.id}`, { bearer: theirToken })).status).toBe(200);
      const listed = (await (await call(`/v1/policies?account_id=${owner.accountId}`, { bearer: theirToken })).json()) as { policies: { id: string }[] };
      expect(listed.policies.map((p) => p.id)).toEqual([theirs.id]);
      await policies.deletePolicy({ policyId: others.id! });
      await policies.deletePolicy({ policyId: theirs.id! });
    });

    it('refuses a user who is not the owner (403), while the policy may name that user', async () => {
      const userIamId = await server.berth.iam.identities.createUser(owner.accountId, { name: 'dev', email: 'dev@example.com' });
      const { secret } = await server.berth.iam.apiKeys.create({ accountId: owner.accountId, iamId: userIamId, name: 'dev', createdBy: owner.iamId });
      const userToken = await tokenFor(secret);
      await expectPolicyError(await call('/v1/policies', { method: 'POST', body: writerOnNs1(userIamId), bearer: userToken }), 403, 'insufficent_permissions');
      expect((await call('/v1/policies', { method: 'POST', body: writerOnNs1(userIamId) })).status).toBe(201);
    });
  });
});

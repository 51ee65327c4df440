import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { UNATTRIBUTED } from '../../src/audit/recorder.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { addNamespaces, basicAuth, ownerSession, policyBody, registryApiFor, registryToken, sdkFor } from '../support/iam.js';
import { expectOciError, MT, OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f-]{36}$/;

/** What the server records in the audit trail, read from its database. */
describe('audit events of the registry', () => {
  let server: TestServer & { schema?: string };
  let database: DatabaseHandle;
  let audit: AuditLog;
  let accountId: string;
  let iamId: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'audited', 'ci-apps', 'elsewhere');
    ({ accountId, iamId } = await ownerSession(server));
    database = await openDatabase({
      sqlitePath: join(server.dataDir, 'berth.db'),
      defaultRegion: 'us-south',
      ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: server.schema! } : {}),
    });
    audit = new AuditLog(database.db, database.dialect);
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await database.close();
    await server.close();
  });

  const events = (account = accountId) => database.db.selectFrom('audit_events').selectAll().where('account_id', '=', account).orderBy('seq').execute();
  const seqNow = async (account = accountId) => (await events(account)).length;
  /** Events after `before`, once `count` of them are there: logins, decisions and pulls are written in batches. */
  const eventsAfter = async (before: number, count: number, account = accountId) => {
    await expect.poll(async () => (await events(account)).length - before, { timeout: 5000 }).toBeGreaterThanOrEqual(count);
    // A little longer: nothing more may follow.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return (await events(account)).slice(before);
  };
  const summary = (rows: Awaited<ReturnType<typeof events>>) => rows.map((event) => [event.action, event.outcome, event.principal_id, event.target, event.reason]);

  it('creating and deleting a namespace is recorded in the account\'s chain; creating one it has already is not a change', async () => {
    const session = await ownerSession(server);
    const before = await seqNow();
    const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, session.accountId);
    await cr.createNamespace({ name: 'audited-two' });
    await cr.createNamespace({ name: 'audited-two' });
    await cr.deleteNamespace({ name: 'audited-two' });
    const changes = (await eventsAfter(before, 2)).filter((event) => event.action.startsWith('container-registry.'));
    expect(changes.map((event) => [event.action, event.target, event.namespace, event.principal_id, event.principal_name, event.outcome])).toEqual([
      ['container-registry.namespace.create', 'audited-two', 'audited-two', iamId, 'owner@berth.local', 'success'],
      ['container-registry.namespace.delete', 'audited-two', 'audited-two', iamId, 'owner@berth.local', 'success'],
    ]);
    await expect(audit.verify(accountId)).resolves.toMatchObject({ intact: true });
  });

  it('the seed flow: a service ID made with its key and a Writer policy logs in, is allowed its namespace with the policy as reason, pushes, pulls, and is denied elsewhere with the reason', async () => {
    const session = await ownerSession(server);
    const before = await seqNow();

    // The owner's IAM changes, each in its own transaction, as the SDK makes them.
    const sid = (await session.sdk.identity.createServiceId({ accountId, name: 'ci', apikey: { name: 'ci-key' } })).result;
    const policy = (
      await session.sdk.policies.createPolicy(policyBody(sid.iam_id, accountId, ['Writer'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'ci-apps' }) as never)
    ).result as { id: string };
    const iamChanges = (await eventsAfter(before, 3)).filter((event) => !event.action.endsWith('.login'));
    expect(summary(iamChanges)).toEqual([
      ['iam-identity.serviceid.create', 'success', iamId, sid.id, 'named ci'],
      ['iam-identity.apikey.create', 'success', iamId, sid.apikey!.id, `for ${sid.iam_id}`],
      ['iam-am.policy.create', 'success', iamId, policy.id, `for ${sid.iam_id}`],
    ]);
    for (const event of iamChanges) expect(event).toMatchObject({ principal_name: 'owner@berth.local', client: '127.0.0.1', request_id: expect.stringMatching(UUID) });

    // The service ID logs in for its own namespace: the login and both decisions, with the policy as the reason.
    const key = sid.apikey!.apikey;
    const mark = await seqNow();
    const allowed = await registryToken(server.url, basicAuth(key), ['repository:ci-apps/app:pull,push']);
    expect(allowed.status).toBe(200);
    const grant = `policy ${policy.id} grants`;
    const loginAndDecisions = await eventsAfter(mark, 3);
    expect(summary(loginAndDecisions)).toEqual([
      ['iam-identity.apikey.login', 'success', sid.iam_id, 'registry us-south', null],
      ['container-registry.image.pull', 'success', sid.iam_id, 'ci-apps/app', `${grant} container-registry.image.pull through Writer`],
      ['container-registry.image.push', 'success', sid.iam_id, 'ci-apps/app', `${grant} container-registry.image.push through Writer`],
    ]);
    expect(new Set(loginAndDecisions.map((event) => event.principal_name))).toEqual(new Set(['ci']));
    // The token request's id ties its events together.
    expect(new Set(loginAndDecisions.map((event) => event.request_id)).size).toBe(1);

    // It pushes with that token (one change event) and pulls the manifest back (one pull event).
    const oci = new OciClient(server.url, `Bearer ${allowed.body.token}`);
    const pushMark = await seqNow();
    const image = await oci.pushImage('ci-apps/app', 'v1');
    expect(summary(await events()).slice(pushMark)).toEqual([['container-registry.image.push', 'success', sid.iam_id, 'ci-apps/app:v1', null]]);
    expect((await oci.fetch('/v2/ci-apps/app/manifests/v1', { method: 'HEAD' })).status).toBe(200);
    expect((await oci.fetch(`/v2/ci-apps/app/manifests/${image.manifest.digest}`)).status).toBe(200);
    expect(summary(await eventsAfter(pushMark + 1, 1))).toEqual([['container-registry.image.pull', 'success', sid.iam_id, `ci-apps/app@${image.manifest.digest}`, null]]);

    // Elsewhere: logged in, both actions denied, each with the reason; the push is then refused (it asked and was denied: 403).
    const deniedMark = await seqNow();
    const denied = await registryToken(server.url, basicAuth(key), ['repository:elsewhere/app:pull,push']);
    expect(denied.status).toBe(200);
    expect(denied.claims!.access).toEqual([{ type: 'repository', name: 'elsewhere/app', actions: [] }]);
    const noPolicy = (action: string) => `no policy grants container-registry.image.${action} on serviceName=container-registry region=us-south resourceType=namespace resource=elsewhere serviceType=service in account ${accountId} to ${sid.iam_id}`;
    expect(summary(await eventsAfter(deniedMark, 3))).toEqual([
      ['iam-identity.apikey.login', 'success', sid.iam_id, 'registry us-south', null],
      ['container-registry.image.pull', 'denied', sid.iam_id, 'elsewhere/app', noPolicy('pull')],
      ['container-registry.image.push', 'denied', sid.iam_id, 'elsewhere/app', noPolicy('push')],
    ]);
    const refused = new OciClient(server.url, `Bearer ${denied.body.token}`);
    await expectOciError(await refused.putManifest('elsewhere/app', 'v1', image.bytes, MT.ociManifest), 403, 'DENIED');

    // A namespace of no account and another account's are denied alike (nothing says which).
    const foreignMark = await seqNow();
    await registryToken(server.url, basicAuth(key), ['repository:nobody-has-it/app:pull']);
    expect(summary(await eventsAfter(foreignMark, 2))[1]).toEqual([
      'container-registry.image.pull', 'denied', sid.iam_id, 'nobody-has-it/app', `account ${accountId} has no namespace nobody-has-it in us-south`,
    ]);
    await expect(audit.verify(accountId)).resolves.toMatchObject({ intact: true });
  });

  it('a request the IAM or management API refuses for want of access is recorded as denied, with the reason', async () => {
    const session = await ownerSession(server);
    const sid = (await session.sdk.identity.createServiceId({ accountId, name: 'nobody', apikey: { name: 'nobody-key' } })).result;
    const mark = await seqNow();
    const cr = registryApiFor(server.url, server.url, sid.apikey!.apikey, accountId);
    await expect(cr.createNamespace({ name: 'not-allowed' })).rejects.toMatchObject({ status: 403 });
    await expect(sdkFor(server, sid.apikey!.apikey).identity.createServiceId({ accountId, name: 'sneaky' })).rejects.toMatchObject({ status: 403 });
    const denials = (await eventsAfter(mark, 3)).filter((event) => event.outcome === 'denied');
    expect(denials.map((event) => [event.action, event.principal_id, event.principal_name, event.target])).toEqual([
      ['container-registry.namespace.create', sid.iam_id, 'nobody', 'container-registry'],
      ['iam-identity.serviceid.create', sid.iam_id, 'nobody', 'iam-identity'],
    ]);
    expect(denials[0]!.reason).toBe(`no policy grants container-registry.namespace.create on serviceName=container-registry region=us-south serviceType=service in account ${accountId} to ${sid.iam_id}`);
    for (const event of denials) expect(event.request_id).toMatch(UUID);

    // With credentials on each /v2 request (no token), the request's own decision is recorded.
    const basicMark = await seqNow();
    const answer = await new OciClient(server.url, basicAuth(sid.apikey!.apikey)).fetch('/v2/audited/app/manifests/v1');
    expect([403, 404]).toContain(answer.status);
    const refused = (await eventsAfter(basicMark, 2)).filter((event) => event.outcome === 'denied');
    expect(summary(refused)).toEqual([
      ['container-registry.image.pull', 'denied', sid.iam_id, 'audited/app', `no policy grants container-registry.image.pull on serviceName=container-registry region=us-south resourceType=namespace resource=audited serviceType=service in account ${accountId} to ${sid.iam_id}`],
    ]);
    expect(refused[0]!.request_id).toBe(answer.headers.get('x-request-id'));
  });

  it('a refused login names the kind of credential and why, never the secret; a key nobody holds goes to the unattributed chain', async () => {
    const before = await seqNow(UNATTRIBUTED);
    const secret = 'not-a-key-anyone-has-0123456789';
    expect((await registryToken(server.url, basicAuth(secret), [])).status).toBe(401);
    expect((await registryToken(server.url, basicAuth(secret, 'admin'), [])).status).toBe(401);
    const failed = await eventsAfter(before, 2, UNATTRIBUTED);
    expect(failed.map((event) => [event.action, event.outcome, event.principal_id, event.target])).toEqual([
      ['iam-identity.apikey.login', 'failure', null, 'registry us-south'],
      ['iam-identity.login', 'failure', null, 'registry us-south'],
    ]);
    expect(failed[1]!.reason).toBe('unsupported username');
    for (const event of failed) expect(JSON.stringify(event)).not.toContain(secret);
    await expect(audit.verify(UNATTRIBUTED)).resolves.toMatchObject({ intact: true });
  });

  it('a manifest push is recorded in the push\'s transaction: who, what, from where, which request', async () => {
    const oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    const pushes = async () => (await events()).filter((event) => event.action === 'container-registry.image.push' && event.namespace === 'audited');
    const image = await oci.pushImage('audited/app', 'v1');
    const [push] = await pushes();
    expect(push).toMatchObject({ action: 'container-registry.image.push', outcome: 'success', principal_id: iamId, target: 'audited/app:v1', namespace: 'audited', client: '127.0.0.1' });
    expect(push!.request_id).toMatch(UUID);
    // The namespace made in the set-up is the chain's first change (the owner's login may be written before or after it).
    expect((await events()).find((event) => event.action.startsWith('container-registry.'))).toMatchObject({ action: 'container-registry.namespace.create', target: 'audited' });

    // By digest, and a push that fails leaves no event.
    expect((await oci.putManifest('audited/app', image.manifest.digest, image.bytes, MT.ociManifest)).status).toBe(201);
    await expectOciError(await oci.putManifest('audited/app', 'broken', '{"schemaVersion":2}', MT.ociManifest), 400, 'MANIFEST_INVALID');
    expect((await pushes()).map((event) => event.target)).toEqual(['audited/app:v1', `audited/app@${image.manifest.digest}`]);
  });

  it('deletes, trash restores, quota and plan changes are recorded with who made them', async () => {
    const session = await ownerSession(server);
    const oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    const image = await oci.pushImage('audited/gone', 'v1');
    const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, session.accountId);
    const mark = await seqNow();
    await cr.deleteImage({ image: `${server.host}/audited/gone:v1` });
    await cr.restoreTags({ digest: `${server.host}/audited/gone@${image.manifest.digest}` });
    await cr.updateQuota({ storageMegabytes: 600 });
    await cr.updatePlans({ plan: 'standard' });
    const tagDelete = await oci.fetch('/v2/audited/gone/manifests/v1', { method: 'DELETE' });
    expect(tagDelete.status).toBe(202);
    const changes = (await eventsAfter(mark, 5)).filter((event) => !event.action.endsWith('.login') && event.action !== 'container-registry.image.pull');
    expect(changes.map((event) => [event.action, event.target, event.principal_id])).toEqual([
      ['container-registry.image.delete', `audited/gone@${image.manifest.digest}`, iamId],
      ['container-registry.trash.restore', `audited/gone@${image.manifest.digest}`, iamId],
      ['container-registry.quota.set', 'registry us-south', iamId],
      ['container-registry.plan.set', 'registry us-south', iamId],
      ['container-registry.image.delete', 'audited/gone:v1', iamId],
    ]);
    expect(changes[2]!.reason).toBe('storage=600 MB');
    expect(changes[3]!.reason).toMatch(/→ Standard$/);
    await expect(audit.verify(accountId)).resolves.toMatchObject({ intact: true });
  });
});

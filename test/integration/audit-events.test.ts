import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { addNamespaces, basicAuth, ownerSession, registryApiFor } from '../support/iam.js';
import { expectOciError, MT, OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** What the server records in the audit trail, read from its database. */
describe('audit events of the registry', () => {
  let server: TestServer & { schema?: string };
  let database: DatabaseHandle;
  let accountId: string;
  let iamId: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'audited');
    ({ accountId, iamId } = await ownerSession(server));
    database = await openDatabase({
      sqlitePath: join(server.dataDir, 'berth.db'),
      defaultRegion: 'us-south',
      ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: server.schema! } : {}),
    });
  });
  afterAll(async () => {
    await database.close();
    await server.close();
  });

  const events = () => database.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('seq').execute();

  it('creating and deleting a namespace is recorded in the account\'s chain; creating one it has already is not a change', async () => {
    const before = (await events()).length;
    const session = await ownerSession(server);
    const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, session.accountId);
    await cr.createNamespace({ name: 'audited-two' });
    await cr.createNamespace({ name: 'audited-two' });
    await cr.deleteNamespace({ name: 'audited-two' });
    const recorded = (await events()).slice(before);
    expect(recorded.map((event) => [event.action, event.target, event.namespace, event.principal_id, event.outcome])).toEqual([
      ['container-registry.namespace.create', 'audited-two', 'audited-two', iamId, 'success'],
      ['container-registry.namespace.delete', 'audited-two', 'audited-two', iamId, 'success'],
    ]);
    await expect(new AuditLog(database.db, database.dialect).verify(accountId)).resolves.toMatchObject({ intact: true });
  });

  it('a manifest push is recorded in the push\'s transaction: who, what, from where, which request', async () => {
    const oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    const before = (await events()).length;
    const image = await oci.pushImage('audited/app', 'v1');
    const recorded = (await events()).slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      seq: before + 1,
      action: 'container-registry.image.push',
      outcome: 'success',
      principal_id: iamId,
      target: 'audited/app:v1',
      namespace: 'audited',
      client: '127.0.0.1',
    });
    expect(recorded[0]!.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // The namespace made in the set-up is the chain's first event.
    expect((await events())[0]).toMatchObject({ seq: 1, action: 'container-registry.namespace.create', target: 'audited' });

    // By digest, and a push that fails leaves no event.
    const byDigest = await oci.putManifest('audited/app', image.manifest.digest, image.bytes, MT.ociManifest);
    expect(byDigest.status).toBe(201);
    await expectOciError(await oci.putManifest('audited/app', 'broken', '{"schemaVersion":2}', MT.ociManifest), 400, 'MANIFEST_INVALID');
    const after = (await events()).slice(before);
    expect(after.map((event) => event.target)).toEqual(['audited/app:v1', `audited/app@${image.manifest.digest}`]);
    await expect(new AuditLog(database.db, database.dialect).verify(accountId)).resolves.toEqual({ intact: true, events: before + 2 });
  });
});

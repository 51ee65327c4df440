import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { addNamespaces, basicAuth, ownerSession, registryToken } from '../support/iam.js';
import { OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * A column the server needs goes missing under it (a real failure of the real database, not a
 * mock): every surface must answer 5xx, never "not found", "denied" or "bad credentials", which
 * would tell a client something false about what exists or what it may do.
 */
describe('a database failure is never an answer about the data', () => {
  let server: TestServer & { schema?: string };
  let database: DatabaseHandle;
  let owner: string;
  let digest: string;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'dbfail');
    owner = basicAuth(server.berth.ownerApiKey!);
    digest = (await new OciClient(server.url, owner).pushImage('dbfail/app', 'v1')).manifest.digest;
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

  /**
   * Runs `check` while a column the server reads is gone, then puts it back. (Other test files'
   * servers migrating on this PostgreSQL at the same moment look only at their own schema.)
   */
  const without = async (table: string, column: string, check: () => Promise<void>) => {
    await sql`alter table ${sql.table(table)} rename column ${sql.ref(column)} to ${sql.ref(`${column}_gone`)}`.execute(database.db);
    try {
      await check();
    } finally {
      await sql`alter table ${sql.table(table)} rename column ${sql.ref(`${column}_gone`)} to ${sql.ref(column)}`.execute(database.db);
    }
  };
  const expectServerError = async (response: Response) => {
    expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(500);
    const text = await response.text();
    for (const answer of ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'DENIED', 'UNAUTHORIZED', 'BXNIM0415E', 'not_found']) expect(text).not.toContain(answer);
  };

  it('registry reads, logins and token grants answer 5xx, then work again once the column is back', async () => {
    const { token } = (await registryToken(server.url, owner, ['repository:dbfail/app:pull'])).body;
    const oci = new OciClient(server.url, `Bearer ${token}`);
    await without('tags', 'name', async () => {
      await expectServerError(await oci.fetch('/v2/dbfail/app/manifests/v1'));
      await expectServerError(await oci.fetch('/v2/dbfail/app/tags/list'));
    });
    await without('manifests', 'content', async () => expectServerError(await oci.fetch(`/v2/dbfail/app/manifests/${digest}`)));
    // A token asked for while namespaces cannot be read is not a token granting nothing.
    await without('namespaces', 'name', async () => expectServerError(await fetch(`${server.url}/oauth/token?service=registry&scope=repository:dbfail/app:pull`, { headers: { authorization: owner } })));
    await without('api_keys', 'secret_hash', async () => {
      await expectServerError(await fetch(`${server.url}/oauth/token?service=registry`, { headers: { authorization: owner } }));
      const form = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: server.berth.ownerApiKey! });
      await expectServerError(await fetch(`${server.url}/identity/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }));
    });
    const session = await ownerSession(server);
    await without('service_ids', 'account_id', async () => expectServerError(await session.call(`/v1/serviceids?account_id=${session.accountId}`)));
    await without('namespaces', 'name', async () => expectServerError(await session.call('/api/v1/namespaces', { headers: { account: session.accountId } })));

    expect((await oci.fetch('/v2/dbfail/app/manifests/v1')).status).toBe(200);
    expect((await registryToken(server.url, owner, ['repository:dbfail/app:pull'])).claims!.access[0]!.actions).toEqual(['pull']);
  });
});

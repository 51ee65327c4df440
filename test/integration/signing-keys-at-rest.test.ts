import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { OWNER_KEY_FILE } from '../../src/iam/bootstrap.js';
import { createBerth } from '../../src/server.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { tokenFor } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** The server's own database, opened beside it as a dump would read it. */
function openSame(server: TestServer & { schema?: string }): Promise<DatabaseHandle> {
  return openDatabase({
    sqlitePath: join(server.dataDir, 'berth.db'),
    defaultRegion: 'us-south',
    ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: server.schema! } : {}),
  });
}

describe('IAM signing keys at rest', () => {
  let server: TestServer & { schema?: string };
  let database: DatabaseHandle;

  beforeAll(async () => {
    server = await startTestServer();
    await tokenFor(server, server.berth.ownerApiKey!);
    database = await openSame(server);
  });
  afterAll(async () => {
    await database.close();
    await server.close();
  });

  it('are sealed in the database: a dump alone holds no private key to mint tokens with', async () => {
    const rows = await database.db.selectFrom('signing_keys').select(['kid', 'private_jwk', 'public_jwk']).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_jwk.startsWith('sealed:v1:')).toBe(true);
      expect(() => JSON.parse(row.private_jwk) as unknown).toThrow();
      expect((JSON.parse(row.public_jwk) as JWK).d).toBeUndefined();
    }
  });

  it('a key stored in plain JWK (before sealing) is sealed at the next start and still signs', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = '20250101000000-0legacy0';
    const now = Date.now();
    await database.db.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
    await database.db
      .insertInto('signing_keys')
      .values({ kid, private_jwk: JSON.stringify(await exportJWK(privateKey)), public_jwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }), created_at: now + 1, retired_at: null })
      .execute();
    server = (await server.restart()) as typeof server;
    const row = await database.db.selectFrom('signing_keys').select('private_jwk').where('kid', '=', kid).executeTakeFirstOrThrow();
    expect(row.private_jwk.startsWith('sealed:v1:')).toBe(true);
    const token = await tokenFor(server, server.berth.ownerApiKey ?? (await ownerKeyFrom(server)));
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid).toBe(kid);
  });

  it('a node with another secret refuses to start, naming BERTH_SECRET', async () => {
    const config = { ...server.config, secret: 'another-secret-another-secret-0123456789' };
    await expect(createBerth(config, server.schema ? { databaseSchema: server.schema } : {})).rejects.toThrow(/does not open under this node's secret: every node must have the same BERTH_SECRET/);
  });
});

async function ownerKeyFrom(server: TestServer): Promise<string> {
  return (await readFile(join(server.dataDir, OWNER_KEY_FILE), 'utf8')).trim();
}

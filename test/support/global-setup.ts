import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ensureBuilt } from './build.js';
import { testBackend, testDatabaseUrl, testRunId } from './database.js';

/** Marks this run, so that its schemas can be told from those of another run on the same database; builds dist/ if stale. */
export function setup(): void {
  process.env.BERTH_TEST_RUN ??= randomBytes(4).toString('hex');
  ensureBuilt();
}

/**
 * Test servers on PostgreSQL each live in a schema of their own. They are dropped here, once every
 * test file is done, and not as each server closes: Kysely's migrator scans every schema of the
 * database when a server starts, and a schema dropped under that scan fails the other server.
 */
export async function teardown(): Promise<void> {
  if (testBackend() !== 'postgres') return;
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [`berth_test_${testRunId()}_`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`);
  } finally {
    await client.end();
  }
}

import { randomBytes } from 'node:crypto';

export type TestBackend = 'sqlite' | 'postgres';

/** Which metadata engine this test run uses: `BERTH_TEST_DB=sqlite|postgres` (scripts/test.sh runs both). */
export function testBackend(): TestBackend {
  const value = process.env.BERTH_TEST_DB ?? 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres') throw new Error(`BERTH_TEST_DB must be sqlite or postgres, got ${value}`);
  return value;
}

export function testDatabaseUrl(): string {
  return process.env.BERTH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * This vitest run's mark, set by the global setup before the workers start (they inherit it): its
 * schemas carry it, so its teardown drops only them, not those of another run on the same database.
 */
export function testRunId(): string {
  return process.env.BERTH_TEST_RUN ?? 'solo';
}

/** A fresh PostgreSQL schema name; each test server gets its own so files can run in parallel. */
export function freshSchemaName(): string {
  return `berth_test_${testRunId()}_${randomBytes(6).toString('hex')}`;
}

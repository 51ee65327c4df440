import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { chainHash, GENESIS, type AuditFields } from '../../src/audit/chain.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { auditMigration } from '../../src/db/migrations/0009-audit.js';
import { auditAnchorMigration } from '../../src/db/migrations/0010-audit-anchor.js';
import { writeTransaction } from '../../src/db/transactions.js';
import { AUDIT_RETENTION_INTERVAL_MS, auditRetentionJob } from '../../src/jobs/audit-retention.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from '../support/database.js';

/**
 * A time no cutoff in these tests reaches: the events each test keeps carry it (or one after), so a
 * later test's prune (they share the database) removes only its own.
 */
const RECENT = 1e12;

function event(at: number, extra: Partial<AuditFields> = {}): AuditFields {
  return { at, action: 'container-registry.image.pull', outcome: 'success', reason: null, principalId: 'iam-ServiceId-1', principalName: 'builder', target: 'us.icr.io/ns/app:v1', namespace: 'ns', client: '10.0.0.1', requestId: `r-${at}`, ...extra };
}

/** Retention of audit events in the real database of this run: old prefixes go, chains still verify. */
describe('audit retention', () => {
  let dir: string;
  let database: DatabaseHandle;
  let audit: AuditLog;
  let schema: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-audit-retention-'));
    schema = testBackend() === 'postgres' ? freshSchemaName() : undefined;
    database = await openDatabase({
      sqlitePath: join(dir, 'berth.db'),
      defaultRegion: 'us-south',
      ...(schema !== undefined ? { url: testDatabaseUrl(), schema } : {}),
    });
    audit = new AuditLog(database.db, database.dialect);
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Appends events at these times, in one transaction (as a batch would). */
  async function chainOf(accountId: string, times: number[]): Promise<void> {
    await writeTransaction(database.db, database.dialect, async (trx) => {
      for (const at of times) await audit.append(trx, accountId, event(at));
    });
  }

  const seqsOf = async (accountId: string) =>
    (await database.db.selectFrom('audit_events').select('seq').where('account_id', '=', accountId).orderBy('seq').execute()).map((row) => Number(row.seq));

  const chainRow = (accountId: string) => database.db.selectFrom('audit_chains').selectAll().where('account_id', '=', accountId).executeTakeFirstOrThrow();

  it('removes only the old prefix of each chain, stopping at the first event not old enough', async () => {
    // Event 4 is older than event 3 (another node's clock): it stays, behind event 3.
    await chainOf('ret-a', [10, 20, RECENT, 15, RECENT + 1]);
    await chainOf('ret-b', [RECENT, 5]);
    await expect(audit.prune(25)).resolves.toBe(2);
    expect(await seqsOf('ret-a')).toEqual([3, 4, 5]);
    expect(await seqsOf('ret-b')).toEqual([1, 2]);
    const row = await chainRow('ret-a');
    const remaining = await audit.list({ accountId: 'ret-a' }, 10);
    expect({ seq: Number(row.anchor_seq), hash: row.anchor_hash }).toEqual({ seq: 2, hash: remaining.find((e) => e.seq === 3)!.prevHash });
    await expect(audit.verify('ret-a')).resolves.toEqual({ intact: true, events: 3 });
    await expect(audit.verify('ret-b')).resolves.toEqual({ intact: true, events: 2 });
    // Nothing more is old enough: a second run removes nothing.
    await expect(audit.prune(25)).resolves.toBe(0);
  });

  it('removes in batches, at most `limit` a call, and everything when everything is old', async () => {
    await chainOf('ret-big', Array.from({ length: 2100 }, (_, i) => 1000 + i));
    await expect(audit.prune(10_000, 1200)).resolves.toBe(1200);
    await expect(audit.verify('ret-big')).resolves.toEqual({ intact: true, events: 900 });
    await expect(audit.prune(10_000)).resolves.toBe(900);
    expect(await seqsOf('ret-big')).toEqual([]);
    // An empty remainder verifies: the head and the anchor are the same event.
    await expect(audit.verify('ret-big')).resolves.toEqual({ intact: true, events: 0 });
    const row = await chainRow('ret-big');
    expect([Number(row.seq), Number(row.anchor_seq), row.anchor_hash]).toEqual([2100, 2100, row.hash]);
  });

  it('goes on appending after everything was removed, and verifies from the anchor', async () => {
    await chainOf('ret-c', [1, 2, 3]);
    const before = await chainRow('ret-c');
    await expect(audit.prune(100)).resolves.toBe(3);
    const next = await audit.record('ret-c', event(RECENT));
    expect([next.seq, next.prevHash]).toEqual([4, before.hash]);
    await expect(audit.verify('ret-c')).resolves.toEqual({ intact: true, events: 1 });
    await expect(audit.prune(100)).resolves.toBe(0);
  });

  it('finds the first remaining event changed or deleted', async () => {
    await chainOf('ret-d', [1, 2, RECENT, RECENT, RECENT]);
    await audit.prune(100);
    await database.db.updateTable('audit_events').set({ outcome: 'denied' }).where('account_id', '=', 'ret-d').where('seq', '=', 3).execute();
    await expect(audit.verify('ret-d')).resolves.toEqual({ intact: false, seq: 3, why: 'its fields do not match its hash' });
    await database.db.deleteFrom('audit_events').where('account_id', '=', 'ret-d').where('seq', '=', 3).execute();
    await expect(audit.verify('ret-d')).resolves.toEqual({ intact: false, seq: 3, why: 'event 3 is missing (found 4 next)' });
  });

  it('cannot be faked: events deleted past the anchor, an anchor moved on by hand, or an event put back behind it are all found', async () => {
    await chainOf('ret-e', [1, 2, RECENT, RECENT, RECENT, RECENT]);
    await audit.prune(100);
    // Deleting more from the start, as if retention had, leaves the anchor behind.
    await database.db.deleteFrom('audit_events').where('account_id', '=', 'ret-e').where('seq', 'in', [3, 4]).execute();
    await expect(audit.verify('ret-e')).resolves.toMatchObject({ intact: false, seq: 3, why: 'event 3 is missing (found 5 next)' });
    // Moving the anchor's number on without the hash of the event it would name does not link.
    await database.db.updateTable('audit_chains').set({ anchor_seq: 4 }).where('account_id', '=', 'ret-e').execute();
    await expect(audit.verify('ret-e')).resolves.toMatchObject({ intact: false, seq: 5, why: 'it does not link to the event before it' });

    // A forged event put back where retention removed one would pass for an old one in `berth audit events`.
    await chainOf('ret-f', [1, 2, RECENT]);
    await audit.prune(100);
    const [kept] = await database.db.selectFrom('audit_events').selectAll().where('account_id', '=', 'ret-f').execute();
    await database.db.insertInto('audit_events').values({ ...kept!, seq: 1, at: 1, action: 'container-registry.namespace.delete' }).execute();
    await expect(audit.verify('ret-f')).resolves.toMatchObject({ intact: false, seq: 1, why: 'it is older than what retention removed, yet is there' });
  });

  it('finds the last event rewritten and rehashed, and an event added past the head, with or without an anchor', async () => {
    for (const [accountId, times, remaining] of [['ret-i', [RECENT, RECENT, RECENT, RECENT], 4], ['ret-j', [1, 2, RECENT, RECENT], 2]] as const) {
      await chainOf(accountId, [...times]);
      await audit.prune(100);
      const last = await database.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('seq', '=', 4).executeTakeFirstOrThrow();
      const fieldsOf = (row: typeof last): AuditFields => ({ ...event(Number(row.at)), target: row.target });
      // Rewritten with a hash that fits its fields and links to the event before: only the head knows.
      const target = 'us.icr.io/ns/other:v1';
      const hash = chainHash(accountId, 4, last.prev_hash, { ...fieldsOf(last), target });
      await database.db.updateTable('audit_events').set({ target, hash }).where('account_id', '=', accountId).where('seq', '=', 4).execute();
      await expect(audit.verify(accountId)).resolves.toEqual({ intact: false, seq: 4, why: 'it is not the event the chain head records' });
      await database.db.updateTable('audit_events').set({ target: last.target, hash: last.hash }).where('account_id', '=', accountId).where('seq', '=', 4).execute();
      await expect(audit.verify(accountId)).resolves.toEqual({ intact: true, events: remaining });
      // An event that links on from the last, added without the head.
      const extra = { ...last, seq: 5, prev_hash: last.hash, hash: chainHash(accountId, 5, last.hash, fieldsOf(last)) };
      await database.db.insertInto('audit_events').values(extra).execute();
      await expect(audit.verify(accountId)).resolves.toEqual({ intact: false, seq: 5, why: 'it is past the last event the chain head records' });
    }
  });

  it('never removes past a break: the evidence stays for verify', async () => {
    await chainOf('ret-g', [1, 2, 3, 4]);
    await database.db.deleteFrom('audit_events').where('account_id', '=', 'ret-g').where('seq', '=', 2).execute();
    await expect(audit.prune(100)).resolves.toBe(1);
    expect(await seqsOf('ret-g')).toEqual([3, 4]);
    await expect(audit.verify('ret-g')).resolves.toMatchObject({ intact: false, seq: 2, why: 'event 2 is missing (found 3 next)' });
    await expect(audit.prune(100)).resolves.toBe(0);

    // An old event whose fields were changed stops retention there too.
    await chainOf('ret-h', [1, 2, 3]);
    await database.db.updateTable('audit_events').set({ principal_name: 'someone else' }).where('account_id', '=', 'ret-h').where('seq', '=', 2).execute();
    await expect(audit.prune(100)).resolves.toBe(1);
    await expect(audit.verify('ret-h')).resolves.toMatchObject({ intact: false, seq: 2, why: 'its fields do not match its hash' });
  });

  it('keeps one chain while retention runs beside appends and verifies (on PostgreSQL from another connection, as another node)', async () => {
    // SQLite is one node's: better-sqlite3 waits for a lock synchronously, so two handles in one process would block each other.
    const other = testBackend() === 'postgres' ? await openDatabase({ sqlitePath: join(dir, 'berth.db'), defaultRegion: 'us-south', url: testDatabaseUrl(), schema: schema! }) : undefined;
    const beside = other ? new AuditLog(other.db, other.dialect) : audit;
    try {
      await chainOf('ret-busy', Array.from({ length: 30 }, (_, i) => 50 + i));
      const verdicts: Promise<unknown>[] = [];
      await Promise.all([
        ...Array.from({ length: 20 }, async (_, i) => {
          await beside.record('ret-busy', event(RECENT + i));
          verdicts.push(audit.verify('ret-busy'));
        }),
        audit.prune(100),
        beside.prune(100),
      ]);
      for (const verdict of await Promise.all(verdicts)) expect(verdict).toMatchObject({ intact: true });
      expect(await seqsOf('ret-busy')).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
      await expect(audit.verify('ret-busy')).resolves.toEqual({ intact: true, events: 20 });
    } finally {
      await other?.close();
    }
  });

  it('runs as the audit-retention job: hourly when BERTH_AUDIT_RETENTION is set, never when it is 0', async () => {
    expect(auditRetentionJob(audit, 0, { info: () => undefined }).intervalMs).toBe(0);
    const now = 10_000_000;
    await chainOf('ret-job', [now - 3000, now - 2000, now - 500]);
    const logged: unknown[] = [];
    const job = auditRetentionJob(audit, 1000, { info: (...args: unknown[]) => void logged.push(args[0]) }, () => now);
    expect([job.name, job.intervalMs]).toEqual(['audit-retention', AUDIT_RETENTION_INTERVAL_MS]);
    await job.run(async () => undefined);
    expect(await seqsOf('ret-job')).toEqual([3]);
    expect(logged).toContainEqual(expect.objectContaining({ removed: 2 }));
    await expect(audit.verify('ret-job')).resolves.toEqual({ intact: true, events: 1 });
  });
});

/** The migration itself, on a chain table as 0009 made it: rows already there get "nothing removed". */
describe('migration 0010-audit-anchor', () => {
  it('adds anchor_seq 0 and anchor_hash GENESIS to existing chains', async () => {
    const { db, close } = await bareDatabase();
    try {
      await auditMigration().up(db);
      await db.insertInto('audit_chains').values({ account_id: 'old', seq: 7, hash: 'f'.repeat(64) }).execute();
      await auditAnchorMigration().up(db);
      await db.insertInto('audit_chains').values({ account_id: 'new', seq: 0, hash: GENESIS }).execute();
      const rows = await db.selectFrom('audit_chains').selectAll().orderBy('account_id').execute();
      expect(rows.map((row) => ({ ...row, seq: Number(row.seq), anchor_seq: Number(row.anchor_seq) }))).toEqual([
        { account_id: 'new', seq: 0, hash: GENESIS, anchor_seq: 0, anchor_hash: GENESIS },
        { account_id: 'old', seq: 7, hash: 'f'.repeat(64), anchor_seq: 0, anchor_hash: GENESIS },
      ]);
    } finally {
      await close();
    }
  });
});

/** An empty database of this run's engine, with no migrations run. */
async function bareDatabase(): Promise<{ db: Kysely<any>; close(): Promise<void> }> {
  if (testBackend() === 'sqlite') {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
    return { db, close: () => db.destroy() };
  }
  const schema = freshSchemaName();
  const setup = new pg.Client({ connectionString: testDatabaseUrl() });
  await setup.connect();
  await setup.query(`CREATE SCHEMA ${schema}`);
  await setup.end();
  // The global teardown drops the schema with this run's others.
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: testDatabaseUrl(), max: 1, options: `-c search_path=${schema}` }) }) });
  return { db, close: () => db.destroy() };
}

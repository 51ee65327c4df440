import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditFields } from '../../src/audit/chain.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { spawnBerth } from '../support/berth-process.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from '../support/database.js';

function event(action: string, at: number, extra: Partial<AuditFields> = {}): AuditFields {
  return { at, action, outcome: 'success', reason: null, principalId: 'iam-ServiceId-1', principalName: 'builder', target: 'us.icr.io/ns/app:v1', namespace: 'ns', client: '10.0.0.1', requestId: `r-${at}`, ...extra };
}

/** The audit trail's hash chains in the real database of this run. */
describe('audit log', () => {
  let dir: string;
  let database: DatabaseHandle;
  let audit: AuditLog;
  let second: DatabaseHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-audit-'));
    const options = {
      sqlitePath: join(dir, 'berth.db'),
      defaultRegion: 'us-south',
      ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: freshSchemaName() } : {}),
    };
    database = await openDatabase(options);
    second = await openDatabase(options);
    audit = new AuditLog(database.db, database.dialect);
  });
  afterAll(async () => {
    await second.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('chains each account\'s events apart, numbered from 1', async () => {
    const first = await audit.record('acct-a', event('container-registry.image.push', 1));
    const next = await audit.record('acct-a', event('container-registry.image.pull', 2, { outcome: 'denied', reason: 'no Reader role on namespace ns' }));
    const other = await audit.record('acct-b', event('iam-identity.apikey.create', 3, { target: 'ApiKey-1' }));
    expect([first.seq, next.seq, other.seq]).toEqual([1, 2, 1]);
    expect(next.prevHash).toBe(first.hash);
    await expect(audit.verify('acct-a')).resolves.toEqual({ intact: true, events: 2 });
    await expect(audit.verify('acct-b')).resolves.toEqual({ intact: true, events: 1 });
    await expect(audit.verify('nobody')).resolves.toEqual({ intact: true, events: 0 });
  });

  it('keeps one chain under concurrent appends (on PostgreSQL from two connections, as two nodes)', async () => {
    // SQLite is one node's: better-sqlite3 waits for a lock synchronously, so two handles in one process would block each other.
    const fromSecond = testBackend() === 'postgres' ? new AuditLog(second.db, second.dialect) : audit;
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? audit : fromSecond).record('acct-c', event('container-registry.image.pull', 100 + i))));
    await expect(audit.verify('acct-c')).resolves.toEqual({ intact: true, events: 40 });
  });

  it('is appended in the change\'s own transaction: a rolled-back change leaves no event', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await audit.append(trx, 'acct-d', event('container-registry.namespace.create', 5));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await expect(audit.verify('acct-d')).resolves.toEqual({ intact: true, events: 0 });
  });

  it('names the first event changed, and finds events cut off the end', async () => {
    for (let i = 0; i < 5; i++) await audit.record('acct-e', event('container-registry.image.push', 200 + i));
    await database.db.updateTable('audit_events').set({ outcome: 'failure' }).where('account_id', '=', 'acct-e').where('seq', '=', 3).execute();
    await expect(audit.verify('acct-e')).resolves.toMatchObject({ intact: false, seq: 3 });
    await database.db.updateTable('audit_events').set({ outcome: 'success' }).where('account_id', '=', 'acct-e').where('seq', '=', 3).execute();
    await expect(audit.verify('acct-e')).resolves.toEqual({ intact: true, events: 5 });
    await database.db.deleteFrom('audit_events').where('account_id', '=', 'acct-e').where('seq', '=', 5).execute();
    await expect(audit.verify('acct-e')).resolves.toMatchObject({ intact: false, seq: 5, why: 'the chain records 5 events but 4 are there' });
    expect(await audit.accounts()).toEqual(expect.arrayContaining(['acct-a', 'acct-b', 'acct-c', 'acct-e']));
  });
});

describe('berth audit events and verify', () => {
  // The command's own behaviour does not depend on the database; it runs on a SQLite data folder.
  it('lists events (a table, or JSON lines to export) by filter; proves chains intact, or exits 1 naming the first broken event', async () => {
    const data = await mkdtemp(join(tmpdir(), 'berth-audit-cli-'));
    try {
      const database = await openDatabase({ sqlitePath: join(data, 'berth.db'), defaultRegion: 'us-south' });
      const log = new AuditLog(database.db, database.dialect);
      for (let i = 0; i < 3; i++) await log.record('acct-x', event('container-registry.image.push', 10 + i));
      await log.record('acct-y', event('iam-identity.apikey.create', 20));
      const ok = spawnBerth(['audit', 'verify', '--data', data]);
      expect(await ok.exited, ok.stderr()).toEqual({ code: 0, signal: null });
      expect(ok.stdout()).toBe('account acct-x: 3 events, chain intact\naccount acct-y: 1 events, chain intact\n');


      const now = Date.now();
      await log.record('acct-y', event('container-registry.image.pull', now - 1000, { outcome: 'denied', reason: 'no Reader role on namespace ns' }));
      const json = spawnBerth(['audit', 'events', '--data', data, '--output', 'json', '--outcome', 'denied']);
      expect((await json.exited).code, json.stderr()).toBe(0);
      const lines = json.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ account_id: 'acct-y', seq: 2, action: 'container-registry.image.pull', outcome: 'denied', reason: 'no Reader role on namespace ns', principal: { iam_id: 'iam-ServiceId-1', name: 'builder' } }),
      ]);
      const table = spawnBerth(['audit', 'events', '--data', data, '--since', '1h']);
      expect((await table.exited).code, table.stderr()).toBe(0);
      expect(table.stdout().split('\n')[0]).toMatch(/^TIME\s+ACCOUNT\s+ACTION\s+OUTCOME\s+PRINCIPAL\s+TARGET\s+CLIENT\s+REASON$/);
      expect(table.stdout().trim().split('\n')).toHaveLength(2);
      // Written as every CLI table writes a moment (src/cli/date-time.ts).
      expect(table.stdout().split('\n')[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\s+acct-y\s/);
      const all = spawnBerth(['audit', 'events', '--data', data, '--action', 'container-registry.image.push', '--output', 'json']);
      expect((await all.exited).code).toBe(0);
      expect(all.stdout().trim().split('\n')).toHaveLength(3);
      const bad = spawnBerth(['audit', 'events', '--data', data, '--since', 'soon']);
      expect((await bad.exited).code).toBe(1);
      expect(bad.stderr()).toBe('berth: --since must be a duration such as 30m, 1h or 7d, got "soon"\n');

      await database.db.updateTable('audit_events').set({ principal_name: 'someone else' }).where('account_id', '=', 'acct-x').where('seq', '=', 2).execute();
      await database.close();
      const broken = spawnBerth(['audit', 'verify', '--data', data, '--account', 'acct-x']);
      expect((await broken.exited).code).toBe(1);
      expect(broken.stderr()).toBe('berth: account acct-x: the audit chain is broken at event 2: its fields do not match its hash\n');
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

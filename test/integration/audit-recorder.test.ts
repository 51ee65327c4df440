import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditFields } from '../../src/audit/chain.js';
import { AuditRecorder, UNATTRIBUTED } from '../../src/audit/recorder.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from '../support/database.js';

function event(n: number): AuditFields {
  return { at: 1000 + n, action: 'container-registry.image.pull', outcome: 'success', reason: null, principalId: 'iam-ServiceId-1', principalName: 'ci', target: `ns/app:${n}`, namespace: 'ns', client: '10.0.0.1', requestId: `r-${n}` };
}

/** The batched recorder over the real database of this run. */
describe('audit recorder', () => {
  let dir: string;
  let options: Parameters<typeof openDatabase>[0];
  let database: DatabaseHandle;
  let audit: AuditLog;
  const failures: unknown[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-recorder-'));
    options = { sqlitePath: join(dir, 'berth.db'), defaultRegion: 'us-south', ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: freshSchemaName() } : {}) };
    database = await openDatabase(options);
    audit = new AuditLog(database.db, database.dialect);
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  const recorder = (db: DatabaseHandle, settings: { delayMs?: number; capacity?: number } = {}) =>
    new AuditRecorder(new AuditLog(db.db, db.dialect), db.db, db.dialect, (error) => failures.push(error), settings);
  const targets = async (account: string) => (await audit.list({ accountId: account }, 10_000)).map((e) => e.target);

  it('writes noted events after its delay, in the order noted, each account in its own chain; noting does not wait', async () => {
    const r = recorder(database, { delayMs: 50 });
    const started = Date.now();
    for (let n = 0; n < 20; n++) await r.note(n % 2 === 0 ? 'acct-even' : 'acct-odd', event(n));
    await r.note(null, event(99));
    expect(Date.now() - started).toBeLessThan(50);
    expect(await targets('acct-even')).toEqual([]);
    await expect.poll(() => targets('acct-even')).toHaveLength(10);
    expect(await targets('acct-even')).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18].map((n) => `ns/app:${n}`));
    expect(await targets('acct-odd')).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19].map((n) => `ns/app:${n}`));
    expect(await targets(UNATTRIBUTED)).toEqual(['ns/app:99']);
    for (const account of ['acct-even', 'acct-odd', UNATTRIBUTED]) await expect(audit.verify(account)).resolves.toMatchObject({ intact: true });
    await r.close();
    expect(failures).toEqual([]);
  });

  it('holds at most its capacity: a full queue makes the next note wait for the write', async () => {
    const r = recorder(database, { delayMs: 60_000, capacity: 100 });
    for (let n = 0; n < 99; n++) await r.note('acct-full', event(n));
    expect(await targets('acct-full')).toEqual([]);
    // The hundredth waits: when it resolves, all hundred are in the database although the delay is a minute.
    await r.note('acct-full', event(99));
    expect(await targets('acct-full')).toHaveLength(100);
    await r.close();
  });

  it('close writes what is queued; a note after close is written at once', async () => {
    const r = recorder(database, { delayMs: 60_000 });
    await r.note('acct-close', event(1));
    await r.close();
    expect(await targets('acct-close')).toEqual(['ns/app:1']);
    await r.note('acct-close', event(2));
    expect(await targets('acct-close')).toEqual(['ns/app:1', 'ns/app:2']);
  });

  it('two nodes batching into the same chains keep them intact (heads locked in one order)', async () => {
    // On PostgreSQL a second connection pool, as a second node has; SQLite is one writer per file.
    const other = testBackend() === 'postgres' ? await openDatabase(options) : database;
    try {
      const [a, b] = [recorder(database, { delayMs: 5 }), recorder(other, { delayMs: 5 })];
      const notes: Promise<void>[] = [];
      for (let n = 0; n < 300; n++) {
        const r = n % 2 === 0 ? a : b;
        notes.push(r.note(n % 3 === 0 ? 'acct-shared-1' : 'acct-shared-2', event(n)));
        if (n % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await Promise.all(notes);
      await Promise.all([a.close(), b.close()]);
      expect((await targets('acct-shared-1')).length + (await targets('acct-shared-2')).length).toBe(300);
      await expect(audit.verify('acct-shared-1')).resolves.toEqual({ intact: true, events: 100 });
      await expect(audit.verify('acct-shared-2')).resolves.toEqual({ intact: true, events: 200 });
      expect(failures).toEqual([]);
    } finally {
      if (other !== database) await other.close();
    }
  });
});

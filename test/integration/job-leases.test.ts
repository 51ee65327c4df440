import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { JobLeases } from '../../src/jobs/leases.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from '../support/database.js';

/** Leases in the real database of this run: what lets one node at a time run a background job. */
describe('job leases', () => {
  let dir: string;
  let database: DatabaseHandle;
  let now = 1_000_000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-leases-'));
    database = await openDatabase({
      sqlitePath: join(dir, 'berth.db'),
      defaultRegion: 'us-south',
      ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: freshSchemaName() } : {}),
    });
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('one holder at a time: the other is refused until the lease is released or lapses', async () => {
    const a = new JobLeases(database.db, () => now);
    const b = new JobLeases(database.db, () => now);
    expect(await a.acquire('gc', 60_000)).toBe(true);
    expect(await b.acquire('gc', 60_000)).toBe(false);
    // The holder renews freely.
    expect(await a.acquire('gc', 60_000)).toBe(true);
    await a.release('gc');
    expect(await b.acquire('gc', 60_000)).toBe(true);
    expect(await a.acquire('gc', 60_000)).toBe(false);
    // A holder that stops renewing (a node gone) loses the lease once it lapses.
    now += 60_001;
    expect(await a.acquire('gc', 60_000)).toBe(true);
    expect(await b.acquire('gc', 60_000)).toBe(false);
    // Leases are per job.
    expect(await b.acquire('upload-janitor', 60_000)).toBe(true);
    await a.release('gc');
    await b.release('upload-janitor');
  });

  it('run() does the work only under the lease, renews it, and stops a holder that lost it', async () => {
    const a = new JobLeases(database.db, () => now);
    const b = new JobLeases(database.db, () => now);
    let inside: string | undefined;
    const outcome = await a.run('gc', 1000, async (renew) => {
      inside = await b.run('gc', 1000, async () => 'b ran');
      await renew();
      now += 1001;
      // Lapsed and taken by another: the next renewal says so, and the work stops there.
      expect(await b.acquire('gc', 1000)).toBe(true);
      await expect(renew()).rejects.toThrow('lost the lease on job gc');
      return 'a ran';
    });
    expect(inside).toBeUndefined();
    expect(outcome).toBe('a ran');
    await b.release('gc');
    // Released after the run: the next one may take it.
    expect(await a.run('gc', 1000, async () => 'again')).toBe('again');
  });
});

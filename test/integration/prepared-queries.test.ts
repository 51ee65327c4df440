import { mkdtemp, rm } from 'node:fs/promises';
import SqliteDatabase from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { inJsonArray, PreparedQuery } from '../../src/db/prepared.js';
import { writeTransaction } from '../../src/db/transactions.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from '../support/database.js';

/** Queries compiled once and the SQLite connection queue, on this run's real database. */
describe('prepared queries and the database connection', () => {
  let dir: string;
  let database: DatabaseHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-prepared-'));
    database = await openDatabase({ sqlitePath: join(dir, 'berth.db'), defaultRegion: 'us-south', ...(testBackend() === 'postgres' ? { url: testDatabaseUrl(), schema: freshSchemaName() } : {}) });
    await database.db
      .insertInto('tags')
      .values(['b', 'a', 'c'].map((name) => ({ repository: 'us-south/ns/app', name, digest: `sha256:${name.repeat(64)}`, updated_at: 1 })))
      .execute();
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds and compiles once, then binds each call\'s values by name, constants kept', async () => {
    let builds = 0;
    const query = new PreparedQuery((db, p: { repository: string; after: string }) => {
      builds += 1;
      return db.selectFrom('tags').select('name').where('repository', '=', p.repository).where('name', '>', p.after).where('updated_at', '=', 1).orderBy('name');
    });
    expect((await query.execute(database.db, { repository: 'us-south/ns/app', after: '' })).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect((await query.execute(database.db, { repository: 'us-south/ns/app', after: 'a' })).map((r) => r.name)).toEqual(['b', 'c']);
    expect(await query.executeTakeFirst(database.db, { repository: 'us-south/ns/other', after: '' })).toBeUndefined();
    expect(builds).toBe(1);
  });

  it('binds an array by index (a multi-row insert), and runs inside a transaction, which shares the compiled form', async () => {
    let builds = 0;
    const insert = new PreparedQuery((db, p: unknown[]) => {
      builds += 1;
      return db.insertInto('tags').values([0, 1].map((row) => ({ repository: p[row * 2] as string, name: p[row * 2 + 1] as string, digest: 'sha256:' + 'd'.repeat(64), updated_at: 2 })));
    });
    await writeTransaction(database.db, database.dialect, async (trx) => {
      await insert.execute(trx, ['us-south/ns/two', 'x', 'us-south/ns/two', 'y']);
    });
    await insert.execute(database.db, ['us-south/ns/two', 'z', 'us-south/ns/three', 'x']);
    const rows = await database.db.selectFrom('tags').select(['repository', 'name']).where('updated_at', '=', 2).orderBy('repository').orderBy('name').execute();
    expect(rows).toEqual([
      { repository: 'us-south/ns/three', name: 'x' },
      { repository: 'us-south/ns/two', name: 'x' },
      { repository: 'us-south/ns/two', name: 'y' },
      { repository: 'us-south/ns/two', name: 'z' },
    ]);
    expect(builds).toBe(1);
  });

  it('takes a list of any length as one JSON parameter, with one compiled form for every length', async () => {
    let builds = 0;
    const named = new PreparedQuery((db, p: { names: string }, dialect) => {
      builds += 1;
      return db.selectFrom('tags').select('name').where('repository', '=', 'us-south/ns/app').where(inJsonArray('name', p.names, dialect)).orderBy('name');
    });
    const names = async (list: string[]) => (await named.execute(database.db, { names: JSON.stringify(list) })).map((row) => row.name);
    expect(await names([])).toEqual([]);
    expect(await names(['c'])).toEqual(['c']);
    expect(await names(['c', 'a', 'missing', "it's", 'a'])).toEqual(['a', 'c']);
    expect(await names(Array.from({ length: 40_000 }, (_, i) => (i === 39_999 ? 'b' : `n${i}`)))).toEqual(['b']);
    expect(builds).toBe(1);
  });

  // SQLite's lock is the database file's; PostgreSQL locks rows, and its pass has nothing to wait for here.
  if (testBackend() === 'sqlite') it('waits for another process\'s write lock without stopping the event loop, then writes', async () => {
    // Another connection to the file: what a second worker, another node or `berth gc` is.
    const other = new SqliteDatabase(join(dir, 'berth.db'));
    other.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const write = database.db.insertInto('tags').values({ repository: 'us-south/ns/waited', name: 'v1', digest: 'sha256:' + 'f'.repeat(64), updated_at: 4 }).execute();
    await new Promise((resolve) => setTimeout(resolve, 200));
    other.exec('COMMIT');
    other.close();
    await write;
    clearInterval(ticker);
    // SQLite's own busy wait would have slept the thread for those 200 ms: no timer would have fired.
    expect(ticks).toBeGreaterThan(10);
    expect(await database.db.selectFrom('tags').select('name').where('repository', '=', 'us-south/ns/waited').execute()).toEqual([{ name: 'v1' }]);
  });

  it('a read asked for while a write transaction is open never sees its uncommitted rows, and every waiter gets its turn', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = writeTransaction(database.db, database.dialect, async (trx) => {
      await trx.insertInto('tags').values({ repository: 'us-south/ns/pending', name: 'v1', digest: 'sha256:' + 'e'.repeat(64), updated_at: 3 }).execute();
      await held;
      throw new Error('rolled back on purpose');
    });
    const count = async () => (await database.db.selectFrom('tags').select('name').where('repository', '=', 'us-south/ns/pending').execute()).length;
    const reads = Array.from({ length: 20 }, () => count());
    // SQLite has one connection: the reads wait for the transaction; PostgreSQL reads what is committed.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await expect(transaction).rejects.toThrow('rolled back on purpose');
    expect(await Promise.all(reads)).toEqual(Array(20).fill(0));
    expect(await count()).toBe(0);
  });
});

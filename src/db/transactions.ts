import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Dialect } from './database.js';
import type { Database } from './schema.js';

const DEADLOCK = '40P01';
const DEADLOCK_ATTEMPTS = 3;

/**
 * A transaction that reads and then writes, safe against another process on the same database.
 * SQLite: `BEGIN IMMEDIATE` takes the write lock before the first read, so what the transaction
 * read is still true when it writes (a deferred transaction would fail with SQLITE_BUSY when `berth
 * gc` committed in between). PostgreSQL: READ COMMITTED, with the rows it depends on locked by
 * `locked()` so that checks made after taking the lock see every committed change.
 */
export async function writeTransaction<T>(db: Kysely<Database>, dialect: Dialect, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (dialect === 'postgres') {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute(work);
      } catch (error) {
        // A deadlock aborts one side before it changed anything outside the database (work does
        // its file moves last, after every lock is taken): that side may simply run again.
        if ((error as { code?: string }).code !== DEADLOCK || attempt >= DEADLOCK_ATTEMPTS) throw error;
      }
    }
  }
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * The rows `query` selects, locked until the transaction ends: `update` for rows about to be
 * deleted or changed, `share` for rows that must not go while the transaction relies on them.
 * SQLite has no row locks; its transactions (writeTransaction) take the whole database.
 */
export function locked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, dialect: Dialect, mode: 'update' | 'share'): SelectQueryBuilder<DB, TB, O> {
  if (dialect !== 'postgres') return query;
  return mode === 'update' ? query.forUpdate() : query.forShare();
}

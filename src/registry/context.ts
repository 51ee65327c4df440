import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/database.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Clock } from './clock.js';

/** What every registry service works with; built once per app, passed explicitly. */
export interface RegistryContext {
  db: Kysely<Database>;
  dialect: Dialect;
  store: BlobStore;
  clock: Clock;
}

/** Creates the repository row when it is missing; repositories come into being on first write. */
export async function ensureRepository(db: Kysely<Database>, name: string, now: number): Promise<void> {
  await db
    .insertInto('repositories')
    .values({ name, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function repositoryExists(db: Kysely<Database>, name: string): Promise<boolean> {
  const row = await db.selectFrom('repositories').select('name').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

/**
 * `column LIKE '<prefix>%'` with the prefix taken literally: the keys of a region or a namespace.
 * (A range would do on SQLite and on `collate "C"` columns, but most repository columns use
 * PostgreSQL's default collation, where ranges do not follow bytes.)
 */
export function keyStartsWith(column: string, prefix: string): RawBuilder<boolean> {
  const pattern = `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;
}

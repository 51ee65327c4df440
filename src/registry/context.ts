import type { Kysely } from 'kysely';
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

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The Identity API's entities with an optimistic-locking version and a lock flag. */
type VersionedTable = 'api_keys' | 'service_ids';

export interface VersionedRecord {
  id: string;
  version: number;
  locked: number;
}

/**
 * Writes `set` over exactly the version read and bumps it, so of two concurrent writers one wins
 * and the other gets `stale()` (a 409) instead of silently overwriting.
 */
export async function writeVersion(
  db: Kysely<Database>,
  table: VersionedTable,
  record: VersionedRecord,
  set: Record<string, unknown>,
  now: number,
  stale: () => Error,
): Promise<void> {
  const result = await db
    .updateTable(table as 'api_keys')
    .set({ ...set, version: record.version + 1, modified_at: now })
    .where('id', '=', record.id)
    .where('version', '=', record.version)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw stale();
}

/** The record if it exists and is not locked; a locked entity may not be changed or deleted. */
export function assertWritable<T extends VersionedRecord>(record: T | undefined, notFound: () => Error, locked: () => Error): T {
  if (!record) throw notFound();
  if (record.locked) throw locked();
  return record;
}

import type { AuditLog } from '../audit/audit-log.js';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/database.js';
import { PreparedQuery } from '../db/prepared.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Clock } from './clock.js';

/** What every registry service works with; built once per app, passed explicitly. */
export interface RegistryContext {
  db: Kysely<Database>;
  /** Where changes are recorded, in their own transactions; absent, nothing is. */
  audit?: AuditLog;
  dialect: Dialect;
  store: BlobStore;
  clock: Clock;
  /**
   * The collector's grace: how long a blob or link nothing references is kept. Clients that use
   * such a link (a HEAD before a push) renew it, so it is not collected under them.
   */
  graceMs: number;
}

const createRepository = new PreparedQuery((db, p: { name: string; now: number }) =>
  db.insertInto('repositories').values({ name: p.name, created_at: p.now, pushed_at: 0 }).onConflict((oc) => oc.column('name').doNothing()),
);
const pushRepository = new PreparedQuery((db, p: { name: string; now: number }) =>
  db.insertInto('repositories').values({ name: p.name, created_at: p.now, pushed_at: p.now }).onConflict((oc) => oc.column('name').doUpdateSet({ pushed_at: p.now })),
);

/**
 * Creates the repository row when it is missing; repositories come into being on first write.
 * `pushed` records push activity too, which also locks the row for the transaction, so the
 * collector cannot judge the repository idle while this push is going on.
 */
export async function ensureRepository(db: Kysely<Database>, name: string, now: number, pushed = false): Promise<void> {
  await (pushed ? pushRepository : createRepository).execute(db, { name, now });
}

export async function repositoryExists(db: Kysely<Database>, name: string): Promise<boolean> {
  const row = await db.selectFrom('repositories').select('name').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

/**
 * `column LIKE '<prefix>%'` with the prefix taken literally: the keys of a region or a namespace.
 * (Ranges would do as well: repository columns compare bytewise on both databases.)
 */
export function keyStartsWith(column: string, prefix: string): RawBuilder<boolean> {
  const pattern = `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;
}

/**
 * `column` within the keys under `prefix`, as a range an index serves: every key that starts with
 * `…/` sorts at or after it and before `…0` ('0' follows '/' in bytes). `prefix` ends with '/'.
 */
export function keyUnder(column: string, prefix: string): RawBuilder<boolean> {
  const end = `${prefix.slice(0, -1)}0`;
  return sql<boolean>`(${sql.ref(column)} >= ${prefix} and ${sql.ref(column)} < ${end})`;
}

/** Splits `items` into lists of at most `size` (SQL parameter limits). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

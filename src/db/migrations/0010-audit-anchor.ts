import type { Kysely } from 'kysely';

/** The first event's link before any was removed (src/audit/chain.ts's GENESIS, kept literal: a migration never changes). */
const GENESIS = '0'.repeat(64);

/**
 * Where each audit chain's remaining events start once retention removed its oldest: the number
 * and hash of the last event removed. Existing chains have lost none (0 and GENESIS). One column
 * per statement: SQLite's ALTER TABLE adds only one at a time.
 */
export function auditAnchorMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('audit_chains').addColumn('anchor_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('audit_chains').addColumn('anchor_hash', 'varchar(64)', (c) => c.notNull().defaultTo(GENESIS)).execute();
    },
  };
}

import type { Kysely } from 'kysely';

/**
 * The audit trail: events hash-chained per account (`seq` numbers them within the account), and
 * each chain's head, which an append locks so that two appends in one account never take the
 * same number or link to the same event.
 */
export function auditMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('audit_events')
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('action', 'varchar(128)', (c) => c.notNull())
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('principal_id', 'varchar(128)')
        .addColumn('principal_name', 'text')
        .addColumn('target', 'text')
        .addColumn('namespace', 'varchar(64)')
        .addColumn('client', 'varchar(64)')
        .addColumn('request_id', 'varchar(64)')
        .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_events_pk', ['account_id', 'seq'])
        .execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').columns(['account_id', 'at']).execute();
      await db.schema
        .createTable('audit_chains')
        .addColumn('account_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .execute();
    },
  };
}

import type { Kysely } from 'kysely';

/**
 * IAM access policies (v1). Subjects and resources are kept as the JSON the client sent, because
 * IBM echoes them back exactly (attribute order and all); filters over them run in code.
 */
export function policiesMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('policies')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('subjects', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('resources', 'text', (c) => c.notNull())
        .addColumn('description', 'varchar(1024)')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_by_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_modified_by_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('last_modified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('policies_account').on('policies').column('account_id').execute();
    },
  };
}

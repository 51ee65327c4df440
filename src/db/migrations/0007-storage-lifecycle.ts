import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** Repository-keyed columns that range queries (a namespace's keys) must compare bytewise. */
const REPOSITORY_COLUMNS: Array<[table: string, column: string]> = [
  ['repository_blobs', 'repository'],
  ['manifests', 'repository'],
  ['manifest_references', 'repository'],
  ['tags', 'repository'],
  ['uploads', 'repository'],
];

/**
 * What bounded storage needs: when a repository link or a blob lost its last reference (the
 * collector's grace starts there), when a repository was last pushed to, the trash, quotas and
 * plans per account and region, and leases that let one node at a time run a background job.
 *
 * Links and blobs that nothing references today start their grace now; accounts that hold
 * namespaces already keep the unlimited Standard plan they had in effect.
 */
export function storageLifecycleMigration(dialect: Dialect) {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const bytewise = dialect === 'postgres' ? sql`collate "C"` : sql``;
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        // Ranges over a namespace's keys (`us-south/team/` ≤ key < `us-south/team0`) follow bytes only in "C".
        for (const [table, column] of REPOSITORY_COLUMNS) {
          await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type varchar(320) collate "C"`.execute(db);
        }
      }
      await db.schema.alterTable('repository_blobs').addColumn('orphaned_at', 'bigint').execute();
      await db.schema.createIndex('repository_blobs_orphaned').on('repository_blobs').column('orphaned_at').execute();
      await db.schema.alterTable('blobs').addColumn('released_at', 'bigint').execute();
      await db.schema.createIndex('blobs_released').on('blobs').column('released_at').execute();
      await db.schema.alterTable('repositories').addColumn('pushed_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

      await db.schema
        .createTable('trash')
        .addColumn('repository', 'varchar(320)', (c) => c.modifyFront(bytewise).notNull())
        .addColumn('digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('subject', 'varchar(160)')
        .addColumn('artifact_type', 'varchar(255)')
        .addColumn('annotations', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('trashed_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('trash_pk', ['repository', 'digest'])
        .execute();
      await db.schema.createIndex('trash_expires').on('trash').column('expires_at').execute();

      await db.schema
        .createTable('quotas')
        .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('region', 'varchar(32)', (c) => c.notNull())
        .addColumn('plan', 'varchar(16)', (c) => c.notNull())
        .addColumn('storage_limit', 'bigint', (c) => c.notNull())
        .addColumn('traffic_limit', 'bigint', (c) => c.notNull())
        .addColumn('traffic_used', 'bigint', (c) => c.notNull())
        .addColumn('traffic_month', 'varchar(7)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('quotas_pk', ['account_id', 'region'])
        .execute();

      await db.schema
        .createTable('job_leases')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(64)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      const now = Date.now();
      await sql`update repository_blobs set orphaned_at = created_at where not exists (
        select 1 from manifest_references r where r.repository = repository_blobs.repository and r.reference_digest = repository_blobs.digest)`.execute(db);
      await sql`update blobs set released_at = ${now} where not exists (select 1 from repository_blobs l where l.digest = blobs.digest)`.execute(db);
      await sql`insert into quotas (account_id, region, plan, storage_limit, traffic_limit, traffic_used, traffic_month, updated_at)
        select distinct account_id, region, 'Standard', -1, -1, 0, '', cast(${now} as bigint) from namespaces`.execute(db);
    },
  };
}

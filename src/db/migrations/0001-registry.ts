import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** The registry's metadata: repositories, blob links, manifests, tags and upload sessions. */
export function registryMigration(dialect: Dialect) {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  // Names must sort and compare bytewise (the spec's lexical order); SQLite does so by default.
  const bytewise = dialect === 'postgres' ? sql`collate "C"` : sql``;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('repositories')
        .addColumn('name', 'varchar(255)', (c) => c.modifyFront(bytewise).primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'varchar(160)', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('repository_blobs')
        .addColumn('repository', 'varchar(255)', (c) => c.notNull())
        .addColumn('digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository', 'digest'])
        .execute();
      await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();
      await db.schema
        .createTable('manifests')
        .addColumn('repository', 'varchar(255)', (c) => c.notNull())
        .addColumn('digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('subject', 'varchar(160)')
        .addColumn('artifact_type', 'varchar(255)')
        .addColumn('annotations', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifests_pk', ['repository', 'digest'])
        .execute();
      await db.schema.createIndex('manifests_subject').on('manifests').columns(['repository', 'subject']).execute();
      await db.schema
        .createTable('manifest_references')
        .addColumn('repository', 'varchar(255)', (c) => c.notNull())
        .addColumn('manifest_digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('reference_digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_references_pk', ['repository', 'manifest_digest', 'reference_digest'])
        .execute();
      await db.schema
        .createIndex('manifest_references_target')
        .on('manifest_references')
        .columns(['repository', 'reference_digest'])
        .execute();
      await db.schema
        .createTable('tags')
        .addColumn('repository', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(128)', (c) => c.modifyFront(bytewise).notNull())
        .addColumn('digest', 'varchar(160)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository', 'name'])
        .execute();
      await db.schema.createIndex('tags_digest').on('tags').columns(['repository', 'digest']).execute();
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('repository', 'varchar(255)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}

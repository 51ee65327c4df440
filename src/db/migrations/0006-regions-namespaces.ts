import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** The tables whose repository column is the registry's repository key. */
const REPOSITORY_COLUMNS: Array<[table: string, column: string]> = [
  ['repositories', 'name'],
  ['repository_blobs', 'repository'],
  ['manifests', 'repository'],
  ['manifest_references', 'repository'],
  ['tags', 'repository'],
  ['uploads', 'repository'],
];

/**
 * Regions and namespaces. A namespace (the first component of a repository name) belongs to one
 * account in one region. The registry keys repositories by `<region>/<name>`, so the same name in
 * two regions is two repositories; the keys grow by a region prefix, so PostgreSQL's columns widen
 * (SQLite enforces no length). Repositories made before regions existed move to the default
 * region, and their namespaces go to the operator's account, so nothing pushed earlier is lost.
 * Upload sessions remember who opened them: that principal may finish them after its token expires.
 */
export function regionsMigration(dialect: Dialect, defaultRegion: string) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        for (const [table, column] of REPOSITORY_COLUMNS) {
          const collate = table === 'repositories' ? sql` collate "C"` : sql``;
          await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type varchar(320)${collate}`.execute(db);
        }
      }
      await db.schema
        .createTable('namespaces')
        .addColumn('region', 'varchar(32)', (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('resource_group', 'varchar(128)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('namespaces_pk', ['region', 'name'])
        .execute();
      await db.schema.createIndex('namespaces_account').on('namespaces').columns(['account_id', 'region']).execute();
      await db.schema.alterTable('uploads').addColumn('owner_iam_id', 'varchar(128)').execute();

      const legacy = (await db.selectFrom('repositories').select('name').execute()) as Array<{ name: string }>;
      if (legacy.length === 0) return;
      const prefix = `${defaultRegion}/`;
      for (const [table, column] of REPOSITORY_COLUMNS) {
        await db
          .updateTable(table)
          .set({ [column]: sql`${prefix} || ${sql.ref(column)}` })
          .execute();
      }
      const operator = (await db.selectFrom('accounts').select('id').where('operator', '=', 1).executeTakeFirst()) as { id: string } | undefined;
      if (!operator) return;
      const now = Date.now();
      for (const name of new Set(legacy.map((row) => row.name.split('/')[0]!))) {
        await db.insertInto('namespaces').values({ region: defaultRegion, name, account_id: operator.id, resource_group: null, created_at: now, updated_at: now }).execute();
      }
    },
  };
}

import { sql, type Kysely } from 'kysely';

/**
 * Uploads any node can carry on: the store's description of the staged bytes (`store_state`), a
 * `version` that every recorded change moves on (a request records its chunk only if nobody did
 * since it read the row), `sealed_at` once a completion has begun, and `reserved`, a counter that
 * names the files or parts each request writes, so that two requests never write the same place.
 *
 * Sessions open at the upgrade were single files `uploads/<id>` of the filesystem store (the only
 * store there was): their state says so.
 */
export function sharedUploadsMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('uploads').addColumn('store_state', 'text').execute();
      await db.schema.alterTable('uploads').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('uploads').addColumn('sealed_at', 'bigint').execute();
      await db.schema.alterTable('uploads').addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update uploads set store_state = case when size = 0 then '{"segments":[]}'
        else '{"segments":[["uploads/' || id || '",' || cast(size as text) || ']]}' end`.execute(db);
    },
  };
}

import type { Kysely } from 'kysely';

/**
 * What authorizing IAM by policy needs: each policy's subject as a column (a subject's policies
 * are looked up by it), a policy state (deleted policies stay readable, as IBM's do), a policy
 * version per account (bumped on every policy change, so every node's cache sees it), the operator
 * account, the Identity API fields IBM echoes back, an entity history, and a bootstrap marker that
 * lets only one of several nodes starting on an empty database create the first account.
 */
export function iamAdministrationMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // SQLite takes one ADD COLUMN per statement.
      await db.schema.alterTable('policies').addColumn('subject_iam_id', 'varchar(128)').execute();
      await db.schema.alterTable('policies').addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('active')).execute();
      await db.schema.createIndex('policies_subject').on('policies').columns(['subject_iam_id', 'account_id']).execute();
      const policies = (await db.selectFrom('policies').select(['id', 'subjects']).execute()) as Array<{ id: string; subjects: string }>;
      for (const { id, subjects } of policies) {
        const iamId = (JSON.parse(subjects) as Array<{ attributes?: Array<{ name?: string; value?: string }> }>)[0]?.attributes?.find(
          (attribute) => attribute.name === 'iam_id',
        )?.value;
        if (iamId !== undefined) await db.updateTable('policies').set({ subject_iam_id: iamId }).where('id', '=', id).execute();
      }

      await db.schema.alterTable('accounts').addColumn('policy_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('accounts').addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // The account made by the first start is the operator's.
      const first = (await db.selectFrom('accounts').select('id').orderBy('created_at').orderBy('id').executeTakeFirst()) as { id: string } | undefined;
      if (first) await db.updateTable('accounts').set({ operator: 1 }).where('id', '=', first.id).execute();

      await db.schema.alterTable('api_keys').addColumn('support_sessions', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('api_keys').addColumn('action_when_leaked', 'varchar(16)', (c) => c.notNull().defaultTo('none')).execute();
      await db.schema.alterTable('service_ids').addColumn('unique_instance_crns', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('users').addColumn('state', 'varchar(32)', (c) => c.notNull().defaultTo('ACTIVE')).execute();

      await db.schema
        .createTable('identity_history')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('entity_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('iam_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('iam_id_account', 'varchar(32)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('identity_history_entity').on('identity_history').columns(['entity_id', 'at']).execute();

      await db.schema
        .createTable('bootstrap')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // A database set up before this migration was bootstrapped already.
      if (first) await db.insertInto('bootstrap').values({ name: 'owner', created_at: Date.now() }).execute();
    },
  };
}

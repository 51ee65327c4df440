import type { Kysely } from 'kysely';

/**
 * IAM identities and credentials: accounts, users, service IDs, API keys (only an HMAC of the
 * secret), and the RS256 keys that sign access tokens (in the database so every node signs and
 * verifies with the same set).
 */
export function iamMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('owner_iam_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('iam_id', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('email', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_account').on('users').column('account_id').execute();
      await db.schema
        .createTable('service_ids')
        .addColumn('id', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('iam_id', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('locked', 'integer', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('service_ids_account').on('service_ids').column('account_id').execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('iam_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        // HMAC-SHA-256 of the secret under the server secret, hex: the only form the secret is kept in.
        .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('locked', 'integer', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .addColumn('last_authn_at', 'bigint')
        .addColumn('authn_count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('api_keys_iam_id').on('api_keys').column('iam_id').execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        // Set when a newer key takes over signing; the public half stays published until tokens expire.
        .addColumn('retired_at', 'bigint')
        .execute();
    },
  };
}

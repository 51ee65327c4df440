import type { Kysely } from 'kysely';

/** Refresh tokens: only an HMAC of each is kept; each belongs to the API key that started its session. */
export function refreshTokensMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('iam_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('api_key_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('client_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refresh_tokens_api_key').on('refresh_tokens').column('api_key_id').execute();
    },
  };
}

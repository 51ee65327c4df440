import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ApiKeys } from './api-keys.js';
import type { Identities } from './identities.js';

export const OWNER_KEY_FILE = 'owner-apikey';

/**
 * On an empty database: creates the first account (the operator's), its owner user and an owner
 * API key, and writes the key alone on one line to `<data>/owner-apikey` (0600). Returns the key
 * the one time it exists in the clear, so the caller can print it; undefined when IAM was already
 * set up. The bootstrap row's primary key makes this happen once even when several nodes start
 * together on one empty database: the others' inserts fail and they find it done.
 */
export async function bootstrapOwner(db: Kysely<Database>, identities: Identities, apiKeys: ApiKeys, dataDir: string): Promise<string | undefined> {
  if (await isBootstrapped(db)) return undefined;
  let secret: string;
  try {
    secret = await db.transaction().execute(async (trx) => {
      await trx.insertInto('bootstrap').values({ name: 'owner', created_at: Date.now() }).execute();
      const { accountId, ownerIamId } = await identities.createAccount(
        'default',
        { name: 'owner', email: 'owner@berth.local' },
        { operator: true, db: trx },
      );
      const key = await apiKeys.create(
        { accountId, iamId: ownerIamId, name: 'owner', description: 'created on first start', createdBy: ownerIamId },
        trx,
      );
      return key.secret;
    });
  } catch (error) {
    if (await isBootstrapped(db)) return undefined;
    throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, OWNER_KEY_FILE), `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function isBootstrapped(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('bootstrap').select('name').where('name', '=', 'owner').executeTakeFirst()) !== undefined;
}

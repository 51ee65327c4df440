import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiKeys } from './api-keys.js';
import type { Identities } from './identities.js';

export const OWNER_KEY_FILE = 'owner-apikey';

/**
 * On an empty database: creates the first account, its owner user and an owner API key, and
 * writes the key alone on one line to `<data>/owner-apikey` (0600). Returns the key the one time
 * it exists in the clear, so the caller can print it; undefined when IAM was already set up.
 */
export async function bootstrapOwner(identities: Identities, apiKeys: ApiKeys, dataDir: string): Promise<string | undefined> {
  if (await identities.hasAccounts()) return undefined;
  const { accountId, ownerIamId } = await identities.createAccount('default', { name: 'owner', email: 'owner@berth.local' });
  const { secret } = await apiKeys.create({
    accountId,
    iamId: ownerIamId,
    name: 'owner',
    description: 'created on first start',
    createdBy: ownerIamId,
  });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, OWNER_KEY_FILE), `${secret}\n`, { mode: 0o600 });
  return secret;
}

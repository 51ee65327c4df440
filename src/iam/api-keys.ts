import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ApiKeysTable } from '../db/schema.js';
import type { IamContext } from './context.js';
import { iamErrors } from './errors.js';
import { ids } from './ids.js';
import { sameDigest } from './server-secret.js';

export type ApiKeyRecord = Selectable<ApiKeysTable>;

export interface NewApiKey {
  accountId: string;
  iamId: string;
  name: string;
  description?: string;
  createdBy: string;
  expiresAt?: number;
  locked?: boolean;
  disabled?: boolean;
}

/** 32 random bytes, URL-safe: 43 characters. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * API keys: the secret is returned once, at creation, and kept only as an HMAC under the server
 * secret; a presented key is found by that HMAC.
 */
export class ApiKeys {
  constructor(private readonly ctx: IamContext) {}

  async create(key: NewApiKey): Promise<{ record: ApiKeyRecord; secret: string }> {
    const secret = newSecret();
    const now = this.ctx.clock();
    const record: ApiKeyRecord = {
      id: ids.apiKey(),
      account_id: key.accountId,
      iam_id: key.iamId,
      name: key.name,
      description: key.description ?? null,
      secret_hash: this.ctx.secret.hash(secret),
      locked: key.locked ? 1 : 0,
      disabled: key.disabled ? 1 : 0,
      expires_at: key.expiresAt ?? null,
      version: 1,
      created_by: key.createdBy,
      created_at: now,
      modified_at: now,
      last_authn_at: null,
      authn_count: 0,
    };
    await this.ctx.db.insertInto('api_keys').values(record).execute();
    return { record, secret };
  }

  /**
   * The key a secret belongs to, if it may authenticate now. Locked keys still authenticate (as in
   * IBM: locking protects a key from change); disabled and expired ones do not.
   */
  async authenticate(secret: string): Promise<ApiKeyRecord> {
    const hash = this.ctx.secret.hash(secret);
    const record = await this.ctx.db.selectFrom('api_keys').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
    // The lookup matched on the hash already; compare again in constant time, not trusting the index.
    if (!record || !sameDigest(record.secret_hash, hash)) throw iamErrors.apiKeyNotFound();
    const now = this.ctx.clock();
    if (record.disabled) throw iamErrors.apiKeyDisabled();
    if (record.expires_at !== null && record.expires_at <= now) throw iamErrors.apiKeyExpired();
    await this.ctx.db
      .updateTable('api_keys')
      .set((eb) => ({ last_authn_at: now, authn_count: eb('authn_count', '+', 1) }))
      .where('id', '=', record.id)
      .execute();
    return record;
  }
}

import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../db/schema.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { iamErrors } from './errors.js';
import { identityErrors } from './identity-errors.js';
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

export type ListSort = 'name' | 'description' | 'created_at' | 'created_by';

export interface ApiKeyQuery {
  accountId: string;
  /** Only the keys of this identity; all of the account's when absent. */
  iamId?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

export interface ApiKeyChanges {
  name?: string;
  description?: string;
  expiresAt?: number;
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

  /** `db` lets a caller create the key inside its own transaction (a service ID with its key). */
  async create(key: NewApiKey, db: Kysely<Database> = this.ctx.db): Promise<{ record: ApiKeyRecord; secret: string }> {
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
    await db.insertInto('api_keys').values(record).execute();
    return { record, secret };
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.ctx.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The key a secret belongs to, whatever its state; unlike authenticate() it counts no use. */
  async findBySecret(secret: string): Promise<ApiKeyRecord | undefined> {
    const hash = this.ctx.secret.hash(secret);
    const record = await this.ctx.db.selectFrom('api_keys').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
    return record && sameDigest(record.secret_hash, hash) ? record : undefined;
  }

  /** One page, plus whether more follow (one extra row is read to know). */
  async list(query: ApiKeyQuery): Promise<{ records: ApiKeyRecord[]; more: boolean }> {
    let select = this.ctx.db.selectFrom('api_keys').selectAll().where('account_id', '=', query.accountId);
    if (query.iamId !== undefined) select = select.where('iam_id', '=', query.iamId);
    // id breaks ties so pages neither repeat nor skip rows with equal sort values.
    const rows = await select
      .orderBy(query.sort, query.order)
      .orderBy('id', query.order)
      .offset(query.offset)
      .limit(query.limit + 1)
      .execute();
    return { records: rows.slice(0, query.limit), more: rows.length > query.limit };
  }

  /** Applies changes if the key is unlocked and If-Match names its version; bumps the version. */
  async update(id: string, ifMatch: string, changes: ApiKeyChanges): Promise<ApiKeyRecord> {
    const record = await this.writable(id);
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw identityErrors.staleVersion('API key', id);
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
    };
    await this.bump(record, set);
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    const record = await this.writable(id);
    // Conditional on the version read: a concurrent lock wins over this delete.
    const result = await this.ctx.db.deleteFrom('api_keys').where('id', '=', id).where('version', '=', record.version).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw identityErrors.locked('API key', id);
  }

  async setLocked(id: string, locked: boolean): Promise<void> {
    const record = await this.get(id);
    if (!record) throw identityErrors.notFound('API key', id);
    await this.bump(record, { locked: locked ? 1 : 0 });
  }

  private async writable(id: string): Promise<ApiKeyRecord> {
    const record = await this.get(id);
    if (!record) throw identityErrors.notFound('API key', id);
    if (record.locked) throw identityErrors.locked('API key', id);
    return record;
  }

  /** Writes the change only over the version read, so two concurrent writers cannot both win. */
  private async bump(record: ApiKeyRecord, set: Partial<ApiKeyRecord>): Promise<void> {
    const result = await this.ctx.db
      .updateTable('api_keys')
      .set({ ...set, version: record.version + 1, modified_at: this.ctx.clock() })
      .where('id', '=', record.id)
      .where('version', '=', record.version)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw identityErrors.staleVersion('API key', record.id);
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

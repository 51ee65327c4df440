import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../db/schema.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { iamErrors } from './errors.js';
import { identityErrors } from './identity-errors.js';
import { ids } from './ids.js';
import { sameDigest } from './server-secret.js';
import { assertWritable, writeVersion } from './versioned.js';

export type ApiKeyRecord = Selectable<ApiKeysTable>;

export const LEAK_ACTIONS = ['none', 'disable', 'delete'] as const;
export type LeakAction = (typeof LEAK_ACTIONS)[number];

export interface NewApiKey {
  accountId: string;
  iamId: string;
  name: string;
  description?: string;
  createdBy: string;
  expiresAt?: number;
  locked?: boolean;
  disabled?: boolean;
  /** A value the client chose (IBM's passthrough keys); a random one when absent. */
  secret?: string;
  supportSessions?: boolean;
  actionWhenLeaked?: LeakAction;
}

export type ListSort = 'name' | 'description' | 'created_at' | 'created_by';

export interface ApiKeyQuery {
  accountId: string;
  /** Only the keys of this identity; all of the account's when absent. */
  iamId?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
}

export interface ApiKeyChanges {
  name?: string;
  description?: string;
  expiresAt?: number;
  supportSessions?: boolean;
  actionWhenLeaked?: LeakAction;
}

/** 32 random bytes, URL-safe: 43 characters. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

const notFound = (id: string) => () => identityErrors.notFound('API key', id);
const locked = (id: string) => () => identityErrors.locked('API key', id);
const stale = (id: string) => () => identityErrors.staleVersion('API key', id);

/**
 * API keys: the secret is returned once, at creation, and kept only as an HMAC under the server
 * secret; a presented key is found by that HMAC.
 */
export class ApiKeys {
  constructor(private readonly ctx: IamContext) {}

  /** `db` lets a caller create the key inside its own transaction (a service ID with its key). */
  async create(key: NewApiKey, db: Kysely<Database> = this.ctx.db): Promise<{ record: ApiKeyRecord; secret: string }> {
    const secret = key.secret ?? newSecret();
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
      support_sessions: key.supportSessions ? 1 : 0,
      action_when_leaked: key.actionWhenLeaked ?? 'none',
    };
    // Inside the caller's transaction (on SQLite a query outside it would wait for it forever).
    const taken = () => db.selectFrom('api_keys').select('id').where('secret_hash', '=', record.secret_hash).executeTakeFirst();
    if (key.secret !== undefined && (await taken())) throw identityErrors.valueTaken();
    try {
      await db.insertInto('api_keys').values(record).execute();
    } catch (error) {
      // Two passthrough creations of one value racing: the unique hash lets only one in (the
      // caller's transaction, if any, is over on PostgreSQL; the error ends it on SQLite too).
      const code = String((error as { code?: unknown }).code ?? '');
      if (key.secret !== undefined && (code === '23505' || code.startsWith('SQLITE_CONSTRAINT'))) throw identityErrors.valueTaken();
      throw error;
    }
    return { record, secret };
  }

  async get(id: string, db: Kysely<Database> = this.ctx.db): Promise<ApiKeyRecord | undefined> {
    return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The key a secret belongs to, whatever its state; unlike authenticate() it counts no use. */
  async findBySecret(secret: string): Promise<ApiKeyRecord | undefined> {
    const hash = this.ctx.secret.hash(secret);
    const record = await this.ctx.db.selectFrom('api_keys').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
    return record && sameDigest(record.secret_hash, hash) ? record : undefined;
  }

  /** Every matching key in list order; callers filter by what the caller may see, then page. */
  async list(query: ApiKeyQuery): Promise<ApiKeyRecord[]> {
    let select = this.ctx.db.selectFrom('api_keys').selectAll().where('account_id', '=', query.accountId);
    if (query.iamId !== undefined) select = select.where('iam_id', '=', query.iamId);
    // id breaks ties so pages neither repeat nor skip rows with equal sort values.
    return select.orderBy(query.sort, query.order).orderBy('id', query.order).execute();
  }

  /** Applies changes if the key is unlocked and If-Match names its version; bumps the version. */
  async update(id: string, ifMatch: string, changes: ApiKeyChanges, db: Kysely<Database> = this.ctx.db): Promise<ApiKeyRecord> {
    const record = assertWritable(await this.get(id, db), notFound(id), locked(id));
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw stale(id)();
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
      ...(changes.supportSessions !== undefined ? { support_sessions: changes.supportSessions ? 1 : 0 } : {}),
      ...(changes.actionWhenLeaked !== undefined ? { action_when_leaked: changes.actionWhenLeaked } : {}),
    };
    await writeVersion(db, 'api_keys', record, set, this.ctx.clock(), stale(id));
    return (await this.get(id, db))!;
  }

  /** Deletes an unlocked key; `db` lets the caller delete it with other rows in one transaction. */
  async remove(id: string, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = assertWritable(await this.get(id, db), notFound(id), locked(id));
    // Conditional on the version read: a concurrent lock wins over this delete.
    const result = await db.deleteFrom('api_keys').where('id', '=', id).where('version', '=', record.version).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw locked(id)();
  }

  async setLocked(id: string, value: boolean, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = await this.get(id, db);
    if (!record) throw notFound(id)();
    await writeVersion(db, 'api_keys', record, { locked: value ? 1 : 0 }, this.ctx.clock(), stale(id));
  }

  /**
   * A disabled key cannot authenticate, and neither can the refresh tokens of its sessions, until
   * enabled again. A lock does not prevent it: disabling is what one does to a key that leaked.
   */
  async setDisabled(id: string, value: boolean, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = await this.get(id, db);
    if (!record) throw notFound(id)();
    await writeVersion(db, 'api_keys', record, { disabled: value ? 1 : 0 }, this.ctx.clock(), stale(id));
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
    // Bookkeeping only: a login must not fail because it could not be recorded (a full disk).
    await this.ctx.db
      .updateTable('api_keys')
      .set((eb) => ({ last_authn_at: now, authn_count: eb('authn_count', '+', 1) }))
      .where('id', '=', record.id)
      .execute()
      .catch(() => undefined);
    return record;
  }
}

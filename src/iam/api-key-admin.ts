import type { ApiKeyChanges, ApiKeyRecord, ApiKeys, LeakAction, ListSort } from './api-keys.js';
import type { Authorization, SubjectAccess } from './authorization.js';
import type { Clock } from '../registry/clock.js';
import type { IamChanges } from './changes.js';
import type { IdentityHistory } from './history.js';
import type { Identities, Identity } from './identities.js';
import { identityErrors } from './identity-errors.js';
import { identityResource } from './identity-resources.js';
import type { FilterPredicate } from './list-filter.js';
import { pageOf } from './paging.js';
import type { Principal } from './principal.js';

export interface ApiKeyRequest {
  name: string;
  iamId: string;
  description?: string;
  accountId?: string;
  expiresAt?: number;
  locked: boolean;
  disabled: boolean;
  secret?: string;
  storeValue?: boolean;
  supportSessions?: boolean;
  actionWhenLeaked?: LeakAction;
}

export interface ApiKeyListRequest {
  accountId?: string;
  iamId?: string;
  /** `entity` (default): one identity's keys, the caller's unless iam_id says otherwise; `account`: all. */
  scope: 'entity' | 'account';
  type?: 'user' | 'serviceid';
  filter?: FilterPredicate;
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** What one may do to an API key, as `iam-identity.apikey.<operation>` (roles.ts). */
type KeyOperation = 'get' | 'create' | 'update' | 'delete' | 'lock' | 'disable';

/**
 * The Identity API's API key operations with who may do them: a user always manages their own
 * keys; the keys of a service ID need an `iam-identity` role on it; another user's keys may be
 * read with such a role but created or changed by the account owner alone (who holds every
 * role). Nothing outside the caller's account exists for them (404).
 */
export class ApiKeyAdmin {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly identities: Identities,
    private readonly authorization: Authorization,
    private readonly history: IdentityHistory,
    private readonly clock: Clock,
    private readonly changes: IamChanges,
  ) {}

  async create(principal: Principal, request: ApiKeyRequest): Promise<{ record: ApiKeyRecord; secret: string }> {
    if (request.accountId !== undefined && request.accountId !== principal.accountId) {
      throw identityErrors.invalid(`account_id ${request.accountId} is not the caller's account`);
    }
    const identity = await this.identities.find(request.iamId);
    if (!identity || identity.accountId !== principal.accountId) {
      throw identityErrors.invalid(`iam_id ${request.iamId} is not a user or service ID of this account`);
    }
    this.assertMay(principal, await this.authorization.for(principal), identity, 'create');
    // Berth keeps only a keyed hash of every key; there is no value it could hand out again.
    if (request.storeValue) throw identityErrors.invalid('store_value is not supported: Berth never stores API key values');
    if (request.expiresAt !== undefined && request.expiresAt <= this.clock()) throw identityErrors.invalid('expires_at must be in the future');
    return this.changes.run(principal, async (trx, note) => {
      const created = await this.apiKeys.create({
        accountId: principal.accountId,
        iamId: request.iamId,
        name: request.name,
        ...(request.description !== undefined ? { description: request.description } : {}),
        ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
        ...(request.secret !== undefined ? { secret: request.secret } : {}),
        ...(request.supportSessions !== undefined ? { supportSessions: request.supportSessions } : {}),
        ...(request.actionWhenLeaked !== undefined ? { actionWhenLeaked: request.actionWhenLeaked } : {}),
        createdBy: principal.iamId,
        locked: request.locked,
        disabled: request.disabled,
      }, trx);
      await this.history.record(created.record.id, principal, 'create', `API key ${request.name} created`, [request.name], trx);
      note({ action: 'iam-identity.apikey.create', target: created.record.id, reason: `for ${request.iamId}` });
      return created;
    });
  }

  async list(principal: Principal, request: ApiKeyListRequest): Promise<{ records: ApiKeyRecord[]; more: boolean }> {
    const accountId = request.accountId ?? principal.accountId;
    if (accountId !== principal.accountId) throw identityErrors.notFound('account', accountId);
    const access = await this.authorization.for(principal);
    let iamId: string | undefined = request.iamId;
    if (iamId !== undefined) {
      const identity = await this.identities.find(iamId);
      if (!identity || identity.accountId !== principal.accountId) throw identityErrors.notFound('identity', iamId);
      this.assertMay(principal, access, identity, 'get');
    } else if (request.scope === 'entity') {
      iamId = principal.iamId;
    }
    const rows = await this.apiKeys.list({ accountId, ...(iamId !== undefined ? { iamId } : {}), sort: request.sort, order: request.order });
    // Identities are looked up once each, not once per key.
    const owners = new Map<string, Identity | undefined>();
    const visible: ApiKeyRecord[] = [];
    for (const row of rows) {
      if (request.type !== undefined && keyType(row) !== request.type) continue;
      if (request.filter && !request.filter({ id: row.id, name: row.name, description: row.description, iam_id: row.iam_id, created_by: row.created_by })) continue;
      if (!owners.has(row.iam_id)) owners.set(row.iam_id, await this.identities.find(row.iam_id));
      const owner = owners.get(row.iam_id);
      if (owner && this.may(principal, access, owner, 'get')) visible.push(row);
    }
    return pageOf(visible, request.offset, request.limit);
  }

  async get(principal: Principal, id: string): Promise<ApiKeyRecord> {
    return this.authorized(principal, await this.apiKeys.get(id), id, 'get');
  }

  async getBySecret(principal: Principal, secret: string): Promise<ApiKeyRecord> {
    // Never echo the value: the id of a key nobody may see is "the presented key".
    return this.authorized(principal, await this.apiKeys.findBySecret(secret), 'given in IAM-ApiKey', 'get');
  }

  async update(principal: Principal, id: string, ifMatch: string, changes: ApiKeyChanges): Promise<ApiKeyRecord> {
    await this.authorized(principal, await this.apiKeys.get(id), id, 'update');
    if (changes.expiresAt !== undefined && changes.expiresAt <= this.clock()) throw identityErrors.invalid('expires_at must be in the future');
    return this.changes.run(principal, async (trx, note) => {
      const record = await this.apiKeys.update(id, ifMatch, changes, trx);
      await this.history.record(id, principal, 'update', `API key ${record.name} updated`, Object.keys(changes), trx);
      note({ action: 'iam-identity.apikey.update', target: id, reason: Object.keys(changes).join(', ') });
      return record;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.authorized(principal, await this.apiKeys.get(id), id, 'delete');
    await this.changes.run(principal, async (trx, note) => {
      await this.apiKeys.remove(id, trx);
      await this.history.forget([id], trx);
      note({ action: 'iam-identity.apikey.delete', target: id });
    });
  }

  async setLocked(principal: Principal, id: string, locked: boolean): Promise<void> {
    await this.authorized(principal, await this.apiKeys.get(id), id, 'lock');
    await this.changes.run(principal, async (trx, note) => {
      await this.apiKeys.setLocked(id, locked, trx);
      await this.history.record(id, principal, locked ? 'lock' : 'unlock', `API key ${locked ? 'locked' : 'unlocked'}`, [], trx);
      note({ action: `iam-identity.apikey.${locked ? 'lock' : 'unlock'}`, target: id });
    });
  }

  async setDisabled(principal: Principal, id: string, disabled: boolean): Promise<void> {
    await this.authorized(principal, await this.apiKeys.get(id), id, 'disable');
    await this.changes.run(principal, async (trx, note) => {
      await this.apiKeys.setDisabled(id, disabled, trx);
      await this.history.record(id, principal, disabled ? 'disable' : 'enable', `API key ${disabled ? 'disabled' : 'enabled'}`, [], trx);
      note({ action: `iam-identity.apikey.${disabled ? 'disable' : 'enable'}`, target: id });
    });
  }

  /** The key, if it is in the caller's account (404 otherwise) and the caller may do `operation` to it (403 otherwise). */
  private async authorized(principal: Principal, record: ApiKeyRecord | undefined, id: string, operation: KeyOperation): Promise<ApiKeyRecord> {
    if (!record || record.account_id !== principal.accountId) throw identityErrors.notFound('API key', id);
    const owner = await this.identities.find(record.iam_id);
    if (!owner) throw identityErrors.notFound('API key', id);
    this.assertMay(principal, await this.authorization.for(principal), owner, operation);
    return record;
  }

  private may(principal: Principal, access: SubjectAccess, owner: Identity, operation: KeyOperation): boolean {
    if (principal.kind === 'user' && owner.iamId === principal.iamId) return true;
    // A key of a user is that user's credential: a role may let others see it, but making or
    // changing one for them (the owner's, say) would be acting as them, so only the owner may.
    if (owner.kind === 'user' && operation !== 'get') return principal.isAccountOwner;
    return access.can(`iam-identity.apikey.${operation}`, identityResource.keysOf(owner));
  }

  private assertMay(principal: Principal, access: SubjectAccess, owner: Identity, operation: KeyOperation): void {
    if (this.may(principal, access, owner, operation)) return;
    const action = `iam-identity.apikey.${operation}`;
    const resource = identityResource.keysOf(owner);
    const reason = owner.kind === 'user' && operation !== 'get' ? `only ${owner.iamId} or the account owner may ${operation} the API keys of a user` : access.decide(action, resource).reason;
    access.refused(action, resource, reason);
    throw identityErrors.forbidden(`${operation} on the API keys of ${owner.iamId} needs an iam-identity role that grants it.`);
  }
}

function keyType(record: ApiKeyRecord): 'user' | 'serviceid' {
  return record.iam_id.startsWith('iam-ServiceId-') ? 'serviceid' : 'user';
}

import type { ApiKeyChanges, ApiKeyRecord, ApiKeys, ListSort } from './api-keys.js';
import { assertSameAccount, type Caller } from './caller.js';
import type { Clock } from '../registry/clock.js';
import type { Identities } from './identities.js';
import { identityErrors } from './identity-errors.js';

export interface ApiKeyRequest {
  name: string;
  iamId: string;
  description?: string;
  accountId?: string;
  expiresAt?: number;
  locked: boolean;
  disabled: boolean;
}

export interface ApiKeyListRequest {
  accountId?: string;
  iamId?: string;
  /** `entity` (default): one identity's keys, the caller's unless iam_id says otherwise; `account`: all. */
  scope: 'entity' | 'account';
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/**
 * The Identity API's API key operations with their rules, until policies exist: the account owner
 * may do everything in the account, any other user only to their own keys; nothing outside the
 * caller's account exists for them (404).
 */
export class ApiKeyAdmin {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly identities: Identities,
    private readonly clock: Clock,
  ) {}

  async create(caller: Caller, request: ApiKeyRequest): Promise<{ record: ApiKeyRecord; secret: string }> {
    if (request.accountId !== undefined && request.accountId !== caller.accountId) {
      throw identityErrors.invalid(`account_id ${request.accountId} is not the caller's account`);
    }
    const identity = await this.identities.find(request.iamId);
    if (!identity || identity.accountId !== caller.accountId) {
      throw identityErrors.invalid(`iam_id ${request.iamId} is not a user or service ID of this account`);
    }
    this.assertMayManage(caller, request.iamId);
    if (request.expiresAt !== undefined && request.expiresAt <= this.clock()) throw identityErrors.invalid('expires_at must be in the future');
    return this.apiKeys.create({
      accountId: caller.accountId,
      iamId: request.iamId,
      name: request.name,
      ...(request.description !== undefined ? { description: request.description } : {}),
      ...(request.expiresAt !== undefined ? { expiresAt: request.expiresAt } : {}),
      createdBy: caller.iamId,
      locked: request.locked,
      disabled: request.disabled,
    });
  }

  async list(caller: Caller, request: ApiKeyListRequest): Promise<{ records: ApiKeyRecord[]; more: boolean }> {
    const accountId = request.accountId ?? caller.accountId;
    assertSameAccount(caller, accountId, 'account', accountId);
    let iamId: string | undefined = request.iamId;
    if (iamId !== undefined) {
      const identity = await this.identities.find(iamId);
      if (!identity || identity.accountId !== caller.accountId) throw identityErrors.notFound('identity', iamId);
      this.assertMayManage(caller, iamId);
    } else if (request.scope === 'account') {
      if (!caller.isOwner) throw identityErrors.forbidden('Only the account owner may list every API key of the account.');
    } else {
      iamId = caller.iamId;
    }
    return this.apiKeys.list({
      accountId,
      ...(iamId !== undefined ? { iamId } : {}),
      sort: request.sort,
      order: request.order,
      offset: request.offset,
      limit: request.limit,
    });
  }

  async get(caller: Caller, id: string): Promise<ApiKeyRecord> {
    const record = await this.apiKeys.get(id);
    return this.visible(caller, record, id);
  }

  async getBySecret(caller: Caller, secret: string): Promise<ApiKeyRecord> {
    const record = await this.apiKeys.findBySecret(secret);
    // Never echo the value: the id of a key nobody may see is "the presented key".
    return this.visible(caller, record, 'given in IAM-ApiKey');
  }

  async update(caller: Caller, id: string, ifMatch: string, changes: ApiKeyChanges): Promise<ApiKeyRecord> {
    await this.get(caller, id);
    if (changes.expiresAt !== undefined && changes.expiresAt <= this.clock()) throw identityErrors.invalid('expires_at must be in the future');
    return this.apiKeys.update(id, ifMatch, changes);
  }

  async remove(caller: Caller, id: string): Promise<void> {
    await this.get(caller, id);
    await this.apiKeys.remove(id);
  }

  async setLocked(caller: Caller, id: string, locked: boolean): Promise<void> {
    await this.get(caller, id);
    await this.apiKeys.setLocked(id, locked);
  }

  private visible(caller: Caller, record: ApiKeyRecord | undefined, id: string): ApiKeyRecord {
    if (!record) throw identityErrors.notFound('API key', id);
    assertSameAccount(caller, record.account_id, 'API key', id);
    this.assertMayManage(caller, record.iam_id);
    return record;
  }

  private assertMayManage(caller: Caller, iamId: string): void {
    if (!caller.isOwner && iamId !== caller.iamId) throw identityErrors.forbidden('Only the account owner may manage the API keys of others.');
  }
}

import type { ApiKeyRecord, ListSort } from './api-keys.js';
import { assertSameAccount, type Caller } from './caller.js';
import { identityErrors } from './identity-errors.js';
import type { ServiceIdRecord, ServiceIds } from './service-ids.js';

export interface ServiceIdRequest {
  accountId: string;
  name: string;
  description?: string;
  locked: boolean;
  apiKey?: { name: string; description?: string };
}

export interface ServiceIdListRequest {
  accountId: string;
  name?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** The Identity API's service ID operations. Until policies exist only the account owner may use them. */
export class ServiceIdAdmin {
  constructor(private readonly serviceIds: ServiceIds) {}

  async create(
    caller: Caller,
    request: ServiceIdRequest,
  ): Promise<{ record: ServiceIdRecord; apiKey?: { record: ApiKeyRecord; secret: string } }> {
    assertOwner(caller);
    if (request.accountId !== caller.accountId) throw identityErrors.invalid(`account_id ${request.accountId} is not the caller's account`);
    return this.serviceIds.create({
      accountId: caller.accountId,
      name: request.name,
      ...(request.description !== undefined ? { description: request.description } : {}),
      createdBy: caller.iamId,
      locked: request.locked,
      ...(request.apiKey ? { apiKey: request.apiKey } : {}),
    });
  }

  async list(caller: Caller, request: ServiceIdListRequest): Promise<{ records: ServiceIdRecord[]; more: boolean }> {
    assertOwner(caller);
    assertSameAccount(caller, request.accountId, 'account', request.accountId);
    return this.serviceIds.list(request);
  }

  async get(caller: Caller, id: string): Promise<ServiceIdRecord> {
    assertOwner(caller);
    const record = await this.serviceIds.get(id);
    if (!record) throw identityErrors.notFound('service ID', id);
    assertSameAccount(caller, record.account_id, 'service ID', id);
    return record;
  }

  async update(caller: Caller, id: string, ifMatch: string, changes: { name?: string; description?: string }): Promise<ServiceIdRecord> {
    await this.get(caller, id);
    return this.serviceIds.update(id, ifMatch, changes);
  }

  async remove(caller: Caller, id: string): Promise<void> {
    await this.get(caller, id);
    await this.serviceIds.remove(id);
  }

  async setLocked(caller: Caller, id: string, locked: boolean): Promise<void> {
    await this.get(caller, id);
    await this.serviceIds.setLocked(id, locked);
  }
}

function assertOwner(caller: Caller): void {
  if (!caller.isOwner) throw identityErrors.forbidden('Only the account owner may manage service IDs.');
}

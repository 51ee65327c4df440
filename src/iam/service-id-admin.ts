import type { ApiKeyRecord, ListSort } from './api-keys.js';
import type { Authorization } from './authorization.js';
import type { Clock } from '../registry/clock.js';
import type { IamChanges } from './changes.js';
import type { IdentityHistory } from './history.js';
import { identityErrors } from './identity-errors.js';
import { identityResource } from './identity-resources.js';
import type { FilterPredicate } from './list-filter.js';
import { pageOf } from './paging.js';
import type { Policies } from './policies.js';
import type { Principal } from './principal.js';
import type { NewServiceIdKey, ServiceIdChanges, ServiceIdRecord, ServiceIds } from './service-ids.js';

export interface ServiceIdRequest {
  accountId: string;
  name: string;
  description?: string;
  locked: boolean;
  uniqueInstanceCrns?: string[];
  apiKey?: NewServiceIdKey;
  /** `apikey.store_value`: refused, as Berth never stores key values. */
  storeApiKeyValue?: boolean;
}

export interface ServiceIdListRequest {
  accountId: string;
  name?: string;
  filter?: FilterPredicate;
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** What one may do to a service ID, as `iam-identity.serviceid.<operation>` (roles.ts). */
type ServiceIdOperation = 'get' | 'update' | 'delete' | 'lock';

/**
 * The Identity API's service ID operations with who may do them: creating needs
 * `iam-identity.serviceid.create` on the service; everything else the matching action on the
 * service ID (a policy may name one service ID). The account owner holds them all.
 */
export class ServiceIdAdmin {
  constructor(
    private readonly serviceIds: ServiceIds,
    private readonly policies: Policies,
    private readonly authorization: Authorization,
    private readonly history: IdentityHistory,
    private readonly clock: Clock,
    private readonly changes: IamChanges,
  ) {}

  async create(principal: Principal, request: ServiceIdRequest): Promise<{ record: ServiceIdRecord; apiKey?: { record: ApiKeyRecord; secret: string } }> {
    if (request.accountId !== principal.accountId) throw identityErrors.invalid(`account_id ${request.accountId} is not the caller's account`);
    const access = await this.authorization.for(principal);
    access.require('iam-identity.serviceid.create', identityResource.service(principal.accountId), () =>
      identityErrors.forbidden('Creating service IDs needs an iam-identity role that grants iam-identity.serviceid.create.'),
    );
    const apiKey = request.apiKey;
    if (request.storeApiKeyValue) throw identityErrors.invalid('apikey.store_value is not supported: Berth never stores API key values');
    if (apiKey?.expiresAt !== undefined && apiKey.expiresAt <= this.clock()) throw identityErrors.invalid('apikey.expires_at must be in the future');
    return this.changes.run(principal, async (trx, note) => {
      const created = await this.serviceIds.create({
        accountId: principal.accountId,
        name: request.name,
        ...(request.description !== undefined ? { description: request.description } : {}),
        ...(request.uniqueInstanceCrns !== undefined ? { uniqueInstanceCrns: request.uniqueInstanceCrns } : {}),
        createdBy: principal.iamId,
        locked: request.locked,
        ...(apiKey ? { apiKey } : {}),
      }, trx);
      await this.history.record(created.record.id, principal, 'create', `service ID ${request.name} created`, [request.name], trx);
      note({ action: 'iam-identity.serviceid.create', target: created.record.id, reason: `named ${request.name}` });
      if (created.apiKey) {
        await this.history.record(created.apiKey.record.id, principal, 'create', `API key ${created.apiKey.record.name} created`, [created.apiKey.record.name], trx);
        note({ action: 'iam-identity.apikey.create', target: created.apiKey.record.id, reason: `for ${created.record.iam_id}` });
      }
      return created;
    });
  }

  /** The account's service IDs the caller may see (others are left out, as IBM lists them). */
  async list(principal: Principal, request: ServiceIdListRequest): Promise<{ records: ServiceIdRecord[]; more: boolean }> {
    if (request.accountId !== principal.accountId) throw identityErrors.notFound('account', request.accountId);
    const access = await this.authorization.for(principal);
    const rows = await this.serviceIds.list({
      accountId: request.accountId,
      ...(request.name !== undefined ? { name: request.name } : {}),
      sort: request.sort,
      order: request.order,
    });
    const visible = rows.filter(
      (row) =>
        (!request.filter || request.filter({ id: row.id, name: row.name, description: row.description, iam_id: row.iam_id, created_by: row.created_by })) &&
        access.can('iam-identity.serviceid.get', identityResource.serviceId(row.account_id, row.id)),
    );
    return pageOf(visible, request.offset, request.limit);
  }

  async get(principal: Principal, id: string): Promise<ServiceIdRecord> {
    return this.authorized(principal, id, 'get');
  }

  async update(principal: Principal, id: string, ifMatch: string, changes: ServiceIdChanges): Promise<ServiceIdRecord> {
    await this.authorized(principal, id, 'update');
    return this.changes.run(principal, async (trx, note) => {
      const record = await this.serviceIds.update(id, ifMatch, changes, trx);
      await this.history.record(id, principal, 'update', `service ID ${record.name} updated`, Object.keys(changes), trx);
      note({ action: 'iam-identity.serviceid.update', target: id, reason: Object.keys(changes).join(', ') });
      return record;
    });
  }

  /** Deletes the service ID, its API keys, their history, and retires the policies naming it. */
  async remove(principal: Principal, id: string): Promise<void> {
    await this.authorized(principal, id, 'delete');
    await this.changes.run(principal, (trx, note) =>
      this.serviceIds.remove(
        id,
        async (inner, record, keyIds) => {
          await this.policies.retireSubject(inner, record.account_id, record.iam_id, principal.iamId);
          await this.history.forget([id, ...keyIds], inner);
          note({ action: 'iam-identity.serviceid.delete', target: id, reason: keyIds.length > 0 ? `with API keys ${keyIds.join(', ')}` : 'no API keys' });
        },
        trx,
      ),
    );
  }

  async setLocked(principal: Principal, id: string, locked: boolean): Promise<void> {
    await this.authorized(principal, id, 'lock');
    await this.changes.run(principal, async (trx, note) => {
      await this.serviceIds.setLocked(id, locked, trx);
      await this.history.record(id, principal, locked ? 'lock' : 'unlock', `service ID ${locked ? 'locked' : 'unlocked'}`, [], trx);
      note({ action: `iam-identity.serviceid.${locked ? 'lock' : 'unlock'}`, target: id });
    });
  }

  /** The service ID, if it is in the caller's account (404 otherwise) and the caller may do `operation` to it (403 otherwise). */
  private async authorized(principal: Principal, id: string, operation: ServiceIdOperation): Promise<ServiceIdRecord> {
    const record = await this.serviceIds.get(id);
    if (!record || record.account_id !== principal.accountId) throw identityErrors.notFound('service ID', id);
    const access = await this.authorization.for(principal);
    access.require(`iam-identity.serviceid.${operation}`, identityResource.serviceId(record.account_id, record.id), () =>
      identityErrors.forbidden(`${operation} on service ID ${id} needs an iam-identity role that grants it.`),
    );
    return record;
  }
}

import type { Selectable } from 'kysely';
import type { ServiceIdsTable } from '../db/schema.js';
import type { ApiKeyRecord, ApiKeys, ListSort } from './api-keys.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { identityErrors } from './identity-errors.js';
import { ids } from './ids.js';

export type ServiceIdRecord = Selectable<ServiceIdsTable>;

export interface NewServiceId {
  accountId: string;
  name: string;
  description?: string;
  createdBy: string;
  locked?: boolean;
  /** A key created in the same transaction, authenticating as the new service ID. */
  apiKey?: { name: string; description?: string };
}

export interface ServiceIdQuery {
  accountId: string;
  name?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** Service IDs: identities for programs. Deleting one deletes its API keys with it. */
export class ServiceIds {
  constructor(
    private readonly ctx: IamContext,
    private readonly apiKeys: ApiKeys,
  ) {}

  async create(input: NewServiceId): Promise<{ record: ServiceIdRecord; apiKey?: { record: ApiKeyRecord; secret: string } }> {
    const { id, iamId } = ids.serviceId();
    const now = this.ctx.clock();
    const record: ServiceIdRecord = {
      id,
      iam_id: iamId,
      account_id: input.accountId,
      name: input.name,
      description: input.description ?? null,
      locked: input.locked ? 1 : 0,
      version: 1,
      created_by: input.createdBy,
      created_at: now,
      modified_at: now,
    };
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('service_ids').values(record).execute();
      if (!input.apiKey) return { record };
      const apiKey = await this.apiKeys.create(
        {
          accountId: input.accountId,
          iamId,
          name: input.apiKey.name,
          ...(input.apiKey.description !== undefined ? { description: input.apiKey.description } : {}),
          createdBy: input.createdBy,
        },
        trx,
      );
      return { record, apiKey };
    });
  }

  async get(id: string): Promise<ServiceIdRecord | undefined> {
    return this.ctx.db.selectFrom('service_ids').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(query: ServiceIdQuery): Promise<{ records: ServiceIdRecord[]; more: boolean }> {
    let select = this.ctx.db.selectFrom('service_ids').selectAll().where('account_id', '=', query.accountId);
    if (query.name !== undefined) select = select.where('name', '=', query.name);
    const rows = await select
      .orderBy(query.sort, query.order)
      .orderBy('id', query.order)
      .offset(query.offset)
      .limit(query.limit + 1)
      .execute();
    return { records: rows.slice(0, query.limit), more: rows.length > query.limit };
  }

  async update(id: string, ifMatch: string, changes: { name?: string; description?: string }): Promise<ServiceIdRecord> {
    const record = await this.writable(id);
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw identityErrors.staleVersion('service ID', id);
    await this.bump(record, {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
    });
    return (await this.get(id))!;
  }

  /** Deletes the service ID and every API key of it at once: none of them may authenticate afterwards. */
  async remove(id: string): Promise<void> {
    const record = await this.writable(id);
    await this.ctx.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('service_ids').where('id', '=', id).where('version', '=', record.version).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw identityErrors.locked('service ID', id);
      await trx.deleteFrom('api_keys').where('iam_id', '=', record.iam_id).execute();
    });
  }

  async setLocked(id: string, locked: boolean): Promise<void> {
    const record = await this.get(id);
    if (!record) throw identityErrors.notFound('service ID', id);
    await this.bump(record, { locked: locked ? 1 : 0 });
  }

  private async writable(id: string): Promise<ServiceIdRecord> {
    const record = await this.get(id);
    if (!record) throw identityErrors.notFound('service ID', id);
    if (record.locked) throw identityErrors.locked('service ID', id);
    return record;
  }

  private async bump(record: ServiceIdRecord, set: Partial<ServiceIdRecord>): Promise<void> {
    const result = await this.ctx.db
      .updateTable('service_ids')
      .set({ ...set, version: record.version + 1, modified_at: this.ctx.clock() })
      .where('id', '=', record.id)
      .where('version', '=', record.version)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw identityErrors.staleVersion('service ID', record.id);
  }
}

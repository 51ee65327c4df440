import type { Kysely, Selectable } from 'kysely';
import type { Database, ServiceIdsTable } from '../db/schema.js';
import type { ApiKeyRecord, ApiKeys, LeakAction, ListSort } from './api-keys.js';
import { within } from './changes.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { identityErrors } from './identity-errors.js';
import { ids } from './ids.js';
import { assertWritable, writeVersion } from './versioned.js';

export type ServiceIdRecord = Selectable<ServiceIdsTable>;

export interface NewServiceIdKey {
  name: string;
  description?: string;
  secret?: string;
  expiresAt?: number;
  actionWhenLeaked?: LeakAction;
}

export interface NewServiceId {
  accountId: string;
  name: string;
  description?: string;
  createdBy: string;
  locked?: boolean;
  uniqueInstanceCrns?: string[];
  /** A key created in the same transaction, authenticating as the new service ID. */
  apiKey?: NewServiceIdKey;
}

export interface ServiceIdQuery {
  accountId: string;
  name?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
}

export interface ServiceIdChanges {
  name?: string;
  description?: string;
  uniqueInstanceCrns?: string[];
}

const notFound = (id: string) => () => identityErrors.notFound('service ID', id);
const locked = (id: string) => () => identityErrors.locked('service ID', id);
const stale = (id: string) => () => identityErrors.staleVersion('service ID', id);

/** Service IDs: identities for programs. Deleting one deletes its API keys with it. */
export class ServiceIds {
  constructor(
    private readonly ctx: IamContext,
    private readonly apiKeys: ApiKeys,
  ) {}

  async create(input: NewServiceId, db: Kysely<Database> = this.ctx.db): Promise<{ record: ServiceIdRecord; apiKey?: { record: ApiKeyRecord; secret: string } }> {
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
      unique_instance_crns: JSON.stringify(input.uniqueInstanceCrns ?? []),
    };
    return within(this.ctx, db, async (trx) => {
      await trx.insertInto('service_ids').values(record).execute();
      const key = input.apiKey;
      if (!key) return { record };
      const apiKey = await this.apiKeys.create(
        {
          accountId: input.accountId,
          iamId,
          name: key.name,
          createdBy: input.createdBy,
          ...(key.description !== undefined ? { description: key.description } : {}),
          ...(key.secret !== undefined ? { secret: key.secret } : {}),
          ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}),
          ...(key.actionWhenLeaked !== undefined ? { actionWhenLeaked: key.actionWhenLeaked } : {}),
        },
        trx,
      );
      return { record, apiKey };
    });
  }

  async get(id: string, db: Kysely<Database> = this.ctx.db): Promise<ServiceIdRecord | undefined> {
    return db.selectFrom('service_ids').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every matching service ID in list order; callers filter by what the caller may see, then page. */
  async list(query: ServiceIdQuery): Promise<ServiceIdRecord[]> {
    let select = this.ctx.db.selectFrom('service_ids').selectAll().where('account_id', '=', query.accountId);
    if (query.name !== undefined) select = select.where('name', '=', query.name);
    return select.orderBy(query.sort, query.order).orderBy('id', query.order).execute();
  }

  async update(id: string, ifMatch: string, changes: ServiceIdChanges, db: Kysely<Database> = this.ctx.db): Promise<ServiceIdRecord> {
    const record = assertWritable(await this.get(id, db), notFound(id), locked(id));
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw stale(id)();
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.uniqueInstanceCrns !== undefined ? { unique_instance_crns: JSON.stringify(changes.uniqueInstanceCrns) } : {}),
    };
    await writeVersion(db, 'service_ids', record, set, this.ctx.clock(), stale(id));
    return (await this.get(id, db))!;
  }

  /**
   * Deletes the service ID and every API key of it at once: none of them may authenticate
   * afterwards. `alsoDo` runs in the same transaction (the caller retires the service ID's
   * policies there); it gets the ids of the deleted keys.
   */
  async remove(id: string, alsoDo: (trx: Kysely<Database>, record: ServiceIdRecord, keyIds: string[]) => Promise<void>, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = assertWritable(await this.get(id, db), notFound(id), locked(id));
    await within(this.ctx, db, async (trx) => {
      const result = await trx.deleteFrom('service_ids').where('id', '=', id).where('version', '=', record.version).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw locked(id)();
      const keys = await trx.selectFrom('api_keys').select('id').where('iam_id', '=', record.iam_id).execute();
      await trx.deleteFrom('api_keys').where('iam_id', '=', record.iam_id).execute();
      await alsoDo(trx, record, keys.map((key) => key.id));
    });
  }

  async setLocked(id: string, value: boolean, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = await this.get(id, db);
    if (!record) throw notFound(id)();
    await writeVersion(db, 'service_ids', record, { locked: value ? 1 : 0 }, this.ctx.clock(), stale(id));
  }
}

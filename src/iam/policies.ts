import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { PoliciesTable } from '../db/schema.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { policyErrors } from './policy-errors.js';

export type PolicyRecord = Selectable<PoliciesTable>;

/** What a policy grants, already validated: subjects and resources as the client sent them. */
export interface PolicyContent {
  type: 'access';
  subjects: unknown[];
  roleIds: string[];
  resources: unknown[];
  description?: string;
}

export const POLICY_SORTS = ['id', 'type', 'href', 'created_at', 'created_by_id', 'last_modified_at', 'last_modified_by_id', 'state'] as const;
export type PolicySort = (typeof POLICY_SORTS)[number];

export interface PolicyQuery {
  accountId: string;
  iamId?: string;
  type?: string;
  serviceName?: string;
  state?: 'active' | 'deleted';
  sort?: { key: PolicySort; descending: boolean };
}

interface Attribute {
  name?: unknown;
  value?: unknown;
}

/** The values of the attributes called `name` in a list of `{attributes: [...]}` entries. */
export function attributeValues(entries: unknown[], name: string): unknown[] {
  return entries.flatMap((entry) => ((entry as { attributes?: Attribute[] }).attributes ?? []).filter((a) => a.name === name).map((a) => a.value));
}

/** Access policies. Deletion is final: Berth keeps no deleted policies, so `state=deleted` lists nothing. */
export class Policies {
  constructor(private readonly ctx: IamContext) {}

  async create(accountId: string, content: PolicyContent, createdBy: string): Promise<PolicyRecord> {
    const now = this.ctx.clock();
    const record: PolicyRecord = {
      id: randomUUID(),
      account_id: accountId,
      ...columns(content),
      version: 1,
      created_by_id: createdBy,
      created_at: now,
      last_modified_by_id: createdBy,
      last_modified_at: now,
    };
    await this.ctx.db.insertInto('policies').values(record).execute();
    return record;
  }

  async get(id: string): Promise<PolicyRecord | undefined> {
    return this.ctx.db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** One account's policies, filtered in code: subjects and resources are JSON, and an account holds few. */
  async list(query: PolicyQuery): Promise<PolicyRecord[]> {
    if (query.state === 'deleted' || (query.type !== undefined && query.type !== 'access')) return [];
    const rows = await this.ctx.db.selectFrom('policies').selectAll().where('account_id', '=', query.accountId).orderBy('created_at').orderBy('id').execute();
    const matching = rows.filter(
      (row) =>
        (query.iamId === undefined || attributeValues(JSON.parse(row.subjects), 'iam_id').includes(query.iamId)) &&
        (query.serviceName === undefined || attributeValues(JSON.parse(row.resources), 'serviceName').includes(query.serviceName)),
    );
    const sort = query.sort;
    if (!sort) return matching;
    // `href` orders as `id` does and every policy is `active`, so those keys need no column of their own.
    const column = sort.key === 'href' ? 'id' : sort.key === 'state' ? 'created_at' : sort.key;
    return matching.sort((a, b) => {
      const x = a[column];
      const y = b[column];
      const order = x < y ? -1 : x > y ? 1 : 0;
      return sort.descending ? -order : order;
    });
  }

  /** An account's policy granting to the same subject on the same resources, which IBM refuses to duplicate (§3.3). */
  async findConflict(accountId: string, content: PolicyContent, exceptId?: string): Promise<PolicyRecord | undefined> {
    const target = targetKey(content.subjects, content.resources);
    const rows = await this.ctx.db.selectFrom('policies').selectAll().where('account_id', '=', accountId).execute();
    return rows.find((row) => row.id !== exceptId && targetKey(JSON.parse(row.subjects), JSON.parse(row.resources)) === target);
  }

  async replace(id: string, ifMatch: string, content: PolicyContent, modifiedBy: string): Promise<PolicyRecord> {
    const record = await this.get(id);
    if (!record) throw policyErrors.notFound(id);
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw policyErrors.staleVersion(id);
    // The version check in the WHERE makes a concurrent replace lose with 409 rather than overwrite.
    const result = await this.ctx.db
      .updateTable('policies')
      .set({ ...columns(content), version: record.version + 1, last_modified_by_id: modifiedBy, last_modified_at: this.ctx.clock() })
      .where('id', '=', id)
      .where('version', '=', record.version)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw policyErrors.staleVersion(id);
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    const result = await this.ctx.db.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw policyErrors.notFound(id);
  }
}

/** Subjects and resources compared as sets of attributes: order and an omitted default operator do not matter. */
function targetKey(subjects: unknown[], resources: unknown[]): string {
  const canonical = (entries: unknown[]) =>
    entries.map((entry) =>
      ((entry as { attributes?: (Attribute & { operator?: unknown })[] }).attributes ?? [])
        .map((a) => [a.name, a.value, a.operator ?? 'stringEquals'])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  return JSON.stringify([canonical(subjects), canonical(resources)]);
}

function columns(content: PolicyContent) {
  return {
    type: content.type,
    subjects: JSON.stringify(content.subjects),
    roles: JSON.stringify(content.roleIds.map((role_id) => ({ role_id }))),
    resources: JSON.stringify(content.resources),
    description: content.description ?? null,
  };
}

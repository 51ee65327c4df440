import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, PoliciesTable } from '../db/schema.js';
import { within } from './changes.js';
import type { IamContext } from './context.js';
import { ifMatchAccepts } from './entity-tag.js';
import { policyErrors } from './policy-errors.js';

export type PolicyRecord = Selectable<PoliciesTable>;
export type PolicyState = 'active' | 'deleted';

/** What a policy grants, already validated: subjects and resources as the client sent them. */
export interface PolicyContent {
  type: 'access';
  subjects: unknown[];
  /** The iam_id of the one subject. */
  subjectIamId: string;
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
  state?: PolicyState;
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

/**
 * Access policies. Every change bumps the account's `policy_version` in the same transaction: that
 * is how each node's cache of decisions (authorization.ts) learns of it. A deleted policy keeps its
 * row with `state: deleted`, grants nothing, and can be restored (IBM's PATCH state).
 */
export class Policies {
  constructor(private readonly ctx: IamContext) {}

  async create(accountId: string, content: PolicyContent, createdBy: string, db: Kysely<Database> = this.ctx.db): Promise<PolicyRecord> {
    const now = this.ctx.clock();
    const record: PolicyRecord = {
      id: randomUUID(),
      account_id: accountId,
      ...columns(content),
      state: 'active',
      version: 1,
      created_by_id: createdBy,
      created_at: now,
      last_modified_by_id: createdBy,
      last_modified_at: now,
    };
    await within(this.ctx, db, async (trx) => {
      await trx.insertInto('policies').values(record).execute();
      await bumpPolicyVersion(trx, accountId);
    });
    return record;
  }

  async get(id: string, db: Kysely<Database> = this.ctx.db): Promise<PolicyRecord | undefined> {
    return db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** One account's policies in one state (active unless asked), filtered in code: subjects and resources are JSON. */
  async list(query: PolicyQuery): Promise<PolicyRecord[]> {
    if (query.type !== undefined && query.type !== 'access') return [];
    let select = this.ctx.db.selectFrom('policies').selectAll().where('account_id', '=', query.accountId).where('state', '=', query.state ?? 'active');
    if (query.iamId !== undefined) select = select.where('subject_iam_id', '=', query.iamId);
    const rows = await select.orderBy('created_at').orderBy('id').execute();
    const matching = rows.filter(
      (row) => query.serviceName === undefined || attributeValues(JSON.parse(row.resources), 'serviceName').includes(query.serviceName),
    );
    const sort = query.sort;
    if (!sort) return matching;
    // `href` orders as `id` does.
    const column = sort.key === 'href' ? 'id' : sort.key;
    return matching.sort((a, b) => {
      const x = a[column];
      const y = b[column];
      const order = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      return sort.descending ? -order : order;
    });
  }

  /** An active policy of the account granting to the same subject on the same resources, which IBM refuses to duplicate (§3.3). */
  async findConflict(
    accountId: string,
    content: Pick<PolicyContent, 'subjects' | 'subjectIamId' | 'resources'>,
    exceptId?: string,
  ): Promise<PolicyRecord | undefined> {
    const target = targetKey(content.subjects, content.resources);
    const rows = await this.ctx.db
      .selectFrom('policies')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('subject_iam_id', '=', content.subjectIamId)
      .where('state', '=', 'active')
      .execute();
    return rows.find((row) => row.id !== exceptId && targetKey(JSON.parse(row.subjects), JSON.parse(row.resources)) === target);
  }

  async replace(id: string, ifMatch: string, content: PolicyContent, modifiedBy: string, db: Kysely<Database> = this.ctx.db): Promise<PolicyRecord> {
    return this.write(id, ifMatch, { ...columns(content), last_modified_by_id: modifiedBy }, db);
  }

  /** PATCH state: `deleted` retires the policy, `active` restores it. */
  async setState(id: string, ifMatch: string, state: PolicyState, modifiedBy: string, db: Kysely<Database> = this.ctx.db): Promise<PolicyRecord> {
    return this.write(id, ifMatch, { state, last_modified_by_id: modifiedBy }, db);
  }

  /** DELETE: the policy stops granting at once; a second delete is a 404, as for a missing one. */
  async remove(id: string, modifiedBy: string, db: Kysely<Database> = this.ctx.db): Promise<void> {
    const record = await this.get(id, db);
    if (!record || record.state !== 'active') throw policyErrors.notFound(id);
    await this.write(id, '*', { state: 'deleted', last_modified_by_id: modifiedBy }, db);
  }

  /** Retires every policy naming a subject that is being deleted, inside the caller's transaction. */
  async retireSubject(trx: Kysely<Database>, accountId: string, iamId: string, modifiedBy: string): Promise<void> {
    const result = await trx
      .updateTable('policies')
      .set((eb) => ({ state: 'deleted', version: eb('version', '+', 1), last_modified_by_id: modifiedBy, last_modified_at: this.ctx.clock() }))
      .where('account_id', '=', accountId)
      .where('subject_iam_id', '=', iamId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) await bumpPolicyVersion(trx, accountId);
  }

  /** Writes over the version If-Match names (409 otherwise) and bumps both versions, in one transaction. */
  private async write(id: string, ifMatch: string, set: Partial<PolicyRecord>, db: Kysely<Database>): Promise<PolicyRecord> {
    const record = await this.get(id, db);
    if (!record) throw policyErrors.notFound(id);
    if (!ifMatchAccepts(ifMatch, id, record.version)) throw policyErrors.staleVersion(id);
    await within(this.ctx, db, async (trx) => {
      // The version check in the WHERE makes a concurrent writer lose with 409 rather than overwrite.
      const result = await trx
        .updateTable('policies')
        .set({ ...set, version: record.version + 1, last_modified_at: this.ctx.clock() })
        .where('id', '=', id)
        .where('version', '=', record.version)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw policyErrors.staleVersion(id);
      await bumpPolicyVersion(trx, record.account_id);
    });
    return (await this.get(id, db))!;
  }
}

/** Tells every node's decision cache that the account's policies changed. */
async function bumpPolicyVersion(trx: Kysely<Database>, accountId: string): Promise<void> {
  await trx
    .updateTable('accounts')
    .set((eb) => ({ policy_version: eb('policy_version', '+', 1) }))
    .where('id', '=', accountId)
    .execute();
}

/** Subjects and resources compared as sets of attributes: order and an omitted default operator do not matter. */
function targetKey(subjects: unknown[], resources: unknown[]): string {
  const canonical = (entries: unknown[]) =>
    entries.map((entry) => {
      const { attributes = [], tags = [] } = entry as { attributes?: (Attribute & { operator?: unknown })[]; tags?: (Attribute & { operator?: unknown })[] };
      const sorted = (list: (Attribute & { operator?: unknown })[]) =>
        list.map((a) => [a.name, a.value, a.operator ?? 'stringEquals']).sort((x, y) => String(x[0]).localeCompare(String(y[0])) || String(x[1]).localeCompare(String(y[1])));
      return [sorted(attributes), sorted(tags)];
    });
  return JSON.stringify([canonical(subjects), canonical(resources)]);
}

function columns(content: PolicyContent) {
  return {
    type: content.type,
    subjects: JSON.stringify(content.subjects),
    subject_iam_id: content.subjectIamId,
    roles: JSON.stringify(content.roleIds.map((role_id) => ({ role_id }))),
    resources: JSON.stringify(content.resources),
    description: content.description ?? null,
  };
}

import { sql, type Kysely, type Selectable } from 'kysely';
import type { Actor } from '../audit/actor.js';
import type { PlanName } from '../config/config.js';
import type { Database, QuotasTable } from '../db/schema.js';
import { PreparedQuery } from '../db/prepared.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { isNoSpace } from '../storage/blob-store.js';
import { keyUnder, type RegistryContext } from './context.js';
import { recordAccountChange } from './change-events.js';
import { RegistryError, STORAGE_QUOTA_MESSAGE, TRAFFIC_QUOTA_MESSAGE } from './errors.js';
import { ownerOfRepository } from './namespaces.js';

/** Every push reads its account's row (in the push's transaction): compiled once (src/db/prepared.ts). */
function quotaRowQuery(lock: boolean) {
  return new PreparedQuery((db, p: { accountId: string; region: string }, dialect) => {
    const query = db.selectFrom('quotas').selectAll().where('account_id', '=', p.accountId).where('region', '=', p.region);
    return lock ? locked(query, dialect, 'update') : query;
  });
}
const quotaRow = quotaRowQuery(false);
const lockedQuotaRow = quotaRowQuery(true);

/** Bytes, or -1 for no limit. */
export interface QuotaBytes {
  storageBytes: number;
  trafficBytes: number;
}

export interface QuotaState {
  plan: PlanName;
  limit: QuotaBytes;
  usage: QuotaBytes;
}

/** IBM counts a megabyte as 1,048,576 bytes. */
export const MEGABYTE = 1024 * 1024;

/** IBM's plans: Free has 500 MB of storage and 5 GB of pull traffic a month, Standard no limits. */
export const PLAN_LIMITS: Record<PlanName, QuotaBytes> = {
  Free: { storageBytes: 500 * MEGABYTE, trafficBytes: 5 * 1024 * MEGABYTE },
  Standard: { storageBytes: -1, trafficBytes: -1 },
};

const PLAN_ORDER: PlanName[] = ['Free', 'Standard'];

type QuotaRow = Selectable<QuotasTable>;

/** The tighter of two limits, where -1 is none. */
function tighter(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

/** `YYYY-MM` of a time, in UTC: traffic is counted per calendar month. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** An account's slice of one region: the key prefixes of its namespaces there. */
interface AccountScope {
  accountId: string;
  region: string;
  prefixes: string[];
}

/** What a push adds: blobs and manifests, each counted once per account however many repositories hold it. */
export interface Addition {
  blobs?: Array<{ digest: string; size: number }>;
  manifests?: Array<{ digest: string; size: number }>;
}

/**
 * Storage and pull-traffic quotas per account and region, and the plan behind them. Storage is
 * what the account's repositories in the region hold: each blob and manifest once, trashed
 * images included, staged uploads not. It is counted from the database when a push needs it
 * (only for accounts with a limit), under the account's quota row lock, so two pushes at once
 * cannot both take the last bytes. Traffic is counted as blobs are pulled.
 */
export class Quotas {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly defaultPlan: PlanName,
  ) {}

  /** Creates the account's row in the region, on the operator's default plan, when it has none. */
  async ensure(db: Kysely<Database>, accountId: string, region: string): Promise<void> {
    await db
      .insertInto('quotas')
      .values({ account_id: accountId, region, plan: this.defaultPlan, storage_limit: -1, traffic_limit: -1, traffic_used: 0, traffic_month: '', updated_at: this.ctx.clock() })
      .onConflict((oc) => oc.columns(['account_id', 'region']).doNothing())
      .execute();
  }

  async get(accountId: string, region: string): Promise<QuotaState> {
    const row = await this.row(this.ctx.db, accountId, region);
    const limit = this.limits(row);
    const scope = await this.scope(this.ctx.db, accountId, region);
    const month = monthOf(this.ctx.clock());
    return {
      plan: this.planOf(row),
      limit,
      usage: { storageBytes: await this.storageUsed(this.ctx.db, scope), trafficBytes: row && row.traffic_month === month ? row.traffic_used : 0 },
    };
  }

  /** Sets the account's own quotas, in megabytes (-1: none of its own); on a plan with limits, at most the plan's. */
  async setQuota(accountId: string, region: string, megabytes: { storage?: number; traffic?: number }, actor?: Actor): Promise<void> {
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await this.ensure(trx, accountId, region);
      const row = (await this.row(trx, accountId, region, true))!;
      const plan = this.planOf(row);
      const values: Partial<QuotaRow> = { updated_at: this.ctx.clock() };
      for (const [field, value, column, planLimit] of [
        ['storage_megabytes', megabytes.storage, 'storage_limit', PLAN_LIMITS[plan].storageBytes],
        ['traffic_megabytes', megabytes.traffic, 'traffic_limit', PLAN_LIMITS[plan].trafficBytes],
      ] as const) {
        if (value === undefined) continue;
        if (!Number.isSafeInteger(value) || value < -1) throw new RegistryError('invalid', `${field} must be a whole number of megabytes, or -1 for no quota`);
        const bytes = value === -1 ? -1 : value * MEGABYTE;
        // -1 drops the account's own quota: on a plan with limits, the plan's then applies.
        if (planLimit >= 0 && bytes > planLimit) {
          throw new RegistryError('invalid', `${field} can be at most ${planLimit / MEGABYTE} on the ${plan} plan; upgrade the plan for more`);
        }
        values[column] = bytes;
      }
      await trx.updateTable('quotas').set(values).where('account_id', '=', accountId).where('region', '=', region).execute();
      const set = Object.entries(megabytes).filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${value} MB`);
      await recordAccountChange(this.ctx, trx, accountId, region, 'container-registry.quota.set', set.join(', '), actor);
    });
  }

  async plan(accountId: string, region: string): Promise<PlanName> {
    return this.planOf(await this.row(this.ctx.db, accountId, region));
  }

  /** Moves the account to `plan`; plans are only ever upgraded, as in IBM's registry. */
  async setPlan(accountId: string, region: string, name: string, actor?: Actor): Promise<void> {
    const plan = PLAN_ORDER.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!plan) throw new RegistryError('invalid', `plan must be one of ${PLAN_ORDER.join(', ')}, got "${name}"`);
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await this.ensure(trx, accountId, region);
      const current = this.planOf(await this.row(trx, accountId, region, true));
      if (PLAN_ORDER.indexOf(plan) < PLAN_ORDER.indexOf(current)) {
        throw new RegistryError('invalid', `the account is on the ${current} plan; plans can be upgraded, not downgraded`);
      }
      await trx.updateTable('quotas').set({ plan, updated_at: this.ctx.clock() }).where('account_id', '=', accountId).where('region', '=', region).execute();
      await recordAccountChange(this.ctx, trx, accountId, region, 'container-registry.plan.set', `${current} → ${plan}`, actor);
    });
  }

  /**
   * Refuses, inside a push's transaction, an addition that would take the repository's account
   * past its storage limit. Items the account holds already cost nothing. Locks the account's
   * quota row first (PostgreSQL; SQLite's transaction holds the whole database).
   */
  async requireStorage(trx: Kysely<Database>, repository: string, addition: Addition): Promise<void> {
    const owner = await ownerOfRepository(trx, repository);
    if (owner) await this.requireStorageOf(trx, owner, addition);
  }

  /** requireStorage, for a caller that has looked up the repository's owner already. */
  async requireStorageOf(trx: Kysely<Database>, owner: { accountId: string; region: string }, addition: Addition): Promise<void> {
    const row = await this.row(trx, owner.accountId, owner.region);
    if (this.limits(row).storageBytes < 0) return;
    await this.ensure(trx, owner.accountId, owner.region);
    const lockedRow = await this.row(trx, owner.accountId, owner.region, true);
    const limit = this.limits(lockedRow).storageBytes;
    const scope = await this.scope(trx, owner.accountId, owner.region);
    const extra = await this.newBytes(trx, scope, addition);
    if (extra === 0) return;
    const used = await this.storageUsed(trx, scope);
    if (used + extra > limit) throw storageExceeded(used, extra, limit, owner.region);
  }

  /**
   * The early check of a push that says how many bytes it brings (a declared Content-Length):
   * refuses before a byte is stored when it cannot fit. Not a reservation: the commit checks again.
   */
  async precheck(repository: string, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    const owner = await ownerOfRepository(this.ctx.db, repository);
    if (!owner) return;
    const limit = this.limits(await this.row(this.ctx.db, owner.accountId, owner.region)).storageBytes;
    if (limit < 0) return;
    const used = await this.storageUsed(this.ctx.db, await this.scope(this.ctx.db, owner.accountId, owner.region));
    if (used + bytes > limit) throw storageExceeded(used, bytes, limit, owner.region);
  }

  /**
   * Counts `bytes` pulled from `repository` against its account's traffic this month, or refuses
   * them when they would take it past its limit. One conditional update: pulls racing each other
   * on several nodes cannot overshoot.
   */
  async chargePull(repository: string, bytes: number): Promise<void> {
    // Counting writes to the database: on a full disk the pull goes on uncounted rather than refused.
    await this.countPull(repository, bytes).catch((error: unknown) => {
      if (!isNoSpace(error)) throw error;
    });
  }

  private async countPull(repository: string, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    const owner = await ownerOfRepository(this.ctx.db, repository);
    if (!owner) return;
    let row = await this.row(this.ctx.db, owner.accountId, owner.region);
    if (!row) {
      await this.ensure(this.ctx.db, owner.accountId, owner.region);
      row = await this.row(this.ctx.db, owner.accountId, owner.region);
    }
    const limit = this.limits(row).trafficBytes;
    const now = this.ctx.clock();
    const month = monthOf(now);
    const usedThisMonth = sql<number>`(case when traffic_month = ${month} then traffic_used else 0 end)`;
    let update = this.ctx.db
      .updateTable('quotas')
      .set({ traffic_used: sql`${usedThisMonth} + ${bytes}`, traffic_month: month, updated_at: now })
      .where('account_id', '=', owner.accountId)
      .where('region', '=', owner.region);
    if (limit >= 0) update = update.where(sql<boolean>`${usedThisMonth} + ${bytes} <= ${limit}`);
    const result = await update.executeTakeFirst();
    if (result.numUpdatedRows === 0n) {
      const used = row && row.traffic_month === month ? row.traffic_used : 0;
      throw new RegistryError('traffic-quota', `${TRAFFIC_QUOTA_MESSAGE} This pull needs ${bytes} bytes; the account has pulled ${used} of its ${limit} bytes this month in region ${owner.region}.`);
    }
  }

  private planOf(row: QuotaRow | undefined): PlanName {
    return (PLAN_ORDER as string[]).includes(row?.plan ?? '') ? (row!.plan as PlanName) : this.defaultPlan;
  }

  /** The limits in force: the plan's, tightened by the account's own quotas. */
  private limits(row: QuotaRow | undefined): QuotaBytes {
    const plan = PLAN_LIMITS[this.planOf(row)];
    return {
      storageBytes: tighter(plan.storageBytes, row?.storage_limit ?? -1),
      trafficBytes: tighter(plan.trafficBytes, row?.traffic_limit ?? -1),
    };
  }

  private async row(db: Kysely<Database>, accountId: string, region: string, lock = false): Promise<QuotaRow | undefined> {
    return (lock ? lockedQuotaRow : quotaRow).executeTakeFirst(db, { accountId, region });
  }

  private async scope(db: Kysely<Database>, accountId: string, region: string): Promise<AccountScope> {
    const namespaces = await db.selectFrom('namespaces').select('name').where('account_id', '=', accountId).where('region', '=', region).execute();
    return { accountId, region, prefixes: namespaces.map((ns) => `${region}/${ns.name}/`) };
  }

  /** The bytes of `addition` that the account does not hold yet. */
  private async newBytes(db: Kysely<Database>, scope: AccountScope, addition: Addition): Promise<number> {
    let bytes = 0;
    for (const blob of addition.blobs ?? []) {
      const held = await db.selectFrom('repository_blobs').select('digest').where('digest', '=', blob.digest).where(inScope('repository', scope)).limit(1).executeTakeFirst();
      if (!held) bytes += blob.size;
    }
    for (const manifest of addition.manifests ?? []) {
      const live = await db.selectFrom('manifests').select('digest').where('digest', '=', manifest.digest).where(inScope('repository', scope)).limit(1).executeTakeFirst();
      const trashed = live ?? (await db.selectFrom('trash').select('digest').where('digest', '=', manifest.digest).where(inScope('repository', scope)).limit(1).executeTakeFirst());
      if (!trashed) bytes += manifest.size;
    }
    return bytes;
  }

  /** Bytes the account's repositories in the region hold: each blob and manifest (live or trashed) once. */
  private async storageUsed(db: Kysely<Database>, scope: AccountScope): Promise<number> {
    if (scope.prefixes.length === 0) return 0;
    const blobs = await sql<{ bytes: number | string }>`
      select coalesce(sum(size), 0) as bytes from blobs
      where digest in (select digest from repository_blobs where ${inScope('repository', scope)})`.execute(db);
    const manifests = await sql<{ bytes: number | string }>`
      select coalesce(sum(size), 0) as bytes from (
        select digest, max(size) as size from (
          select digest, size from manifests where ${inScope('repository', scope)}
          union all
          select digest, size from trash where ${inScope('repository', scope)}
        ) held group by digest
      ) once`.execute(db);
    // PostgreSQL sums bigints as numeric, which the driver hands over as text.
    return Number(blobs.rows[0]!.bytes) + Number(manifests.rows[0]!.bytes);
  }
}

/** Keys under any of the scope's namespaces. */
function inScope(column: string, scope: AccountScope) {
  if (scope.prefixes.length === 0) return sql<boolean>`(1 = 0)`;
  return sql<boolean>`(${sql.join(scope.prefixes.map((prefix) => keyUnder(column, prefix)), sql` or `)})`;
}

function storageExceeded(used: number, extra: number, limit: number, region: string): RegistryError {
  return new RegistryError('storage-quota', `${STORAGE_QUOTA_MESSAGE} This push needs ${extra} more bytes; the account stores ${used} of its ${limit} bytes in region ${region}.`);
}

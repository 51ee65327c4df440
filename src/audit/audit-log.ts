import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { AuditEventsTable, Database } from '../db/schema.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { chainHash, GENESIS, verifyChain, type AuditFields, type ChainedEvent, type ChainVerdict, type Outcome } from './chain.js';

/** What `list` selects; every field given must match exactly, times are ms since the epoch ([since, until)). */
export interface AuditFilter {
  accountId?: string;
  since?: number;
  until?: number;
  action?: string;
  outcome?: Outcome;
  principalId?: string;
  target?: string;
  namespace?: string;
}

/** Events read per query while verifying: a chain is walked in pages, never loaded whole. */
const VERIFY_PAGE = 1000;

function toEvent(row: AuditEventsTable): ChainedEvent {
  return {
    accountId: row.account_id,
    seq: Number(row.seq),
    at: Number(row.at),
    action: row.action,
    outcome: row.outcome as Outcome,
    reason: row.reason,
    principalId: row.principal_id,
    principalName: row.principal_name,
    target: row.target,
    namespace: row.namespace,
    client: row.client,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * The audit trail in the database: each account's events form a hash chain. An event is appended
 * inside the transaction of the change it records (so a change and its event commit together or
 * not at all), with the account's chain head locked, so concurrent appends on any node take
 * consecutive numbers and link in order.
 */
export class AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /** Appends `fields` to `accountId`'s chain within `trx` (a writeTransaction); answers the event. */
  async append(trx: Kysely<Database>, accountId: string, fields: AuditFields): Promise<ChainedEvent> {
    await trx.insertInto('audit_chains').values({ account_id: accountId, seq: 0, hash: GENESIS }).onConflict((oc) => oc.column('account_id').doNothing()).execute();
    const head = await locked(trx.selectFrom('audit_chains').select(['seq', 'hash']).where('account_id', '=', accountId), this.dialect, 'update').executeTakeFirstOrThrow();
    const seq = Number(head.seq) + 1;
    const hash = chainHash(accountId, seq, head.hash, fields);
    await trx
      .insertInto('audit_events')
      .values({
        account_id: accountId,
        seq,
        at: fields.at,
        action: fields.action,
        outcome: fields.outcome,
        reason: fields.reason,
        principal_id: fields.principalId,
        principal_name: fields.principalName,
        target: fields.target,
        namespace: fields.namespace,
        client: fields.client,
        request_id: fields.requestId,
        prev_hash: head.hash,
        hash,
      })
      .execute();
    await trx.updateTable('audit_chains').set({ seq, hash }).where('account_id', '=', accountId).execute();
    return { ...fields, accountId, seq, prevHash: head.hash, hash };
  }

  /** Appends in a transaction of its own: for events that record no change (a pull, a denial). */
  record(accountId: string, fields: AuditFields): Promise<ChainedEvent> {
    return writeTransaction(this.db, this.dialect, (trx) => this.append(trx, accountId, fields));
  }

  /**
   * Proves `accountId`'s chain intact, or names its first broken event. The head must agree with
   * the last event too: events cut off the end of the chain are found this way.
   */
  async verify(accountId: string): Promise<ChainVerdict> {
    const verdict = await verifyChain(this.events(accountId));
    if (!verdict.intact) return verdict;
    const head = await this.db.selectFrom('audit_chains').select(['seq', 'hash']).where('account_id', '=', accountId).executeTakeFirst();
    const headSeq = head ? Number(head.seq) : 0;
    if (headSeq !== verdict.events) return { intact: false, seq: verdict.events + 1, why: `the chain records ${headSeq} events but ${verdict.events} are there` };
    return verdict;
  }

  /** Events matching `filter`, oldest first, at most `limit`; `after` continues from the last one a page ended on. */
  async list(filter: AuditFilter, limit: number, after?: { at: number; accountId: string; seq: number }): Promise<ChainedEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at', '<', filter.until);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
    if (filter.principalId !== undefined) query = query.where('principal_id', '=', filter.principalId);
    if (filter.target !== undefined) query = query.where('target', '=', filter.target);
    if (filter.namespace !== undefined) query = query.where('namespace', '=', filter.namespace);
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('at', '>', after.at),
          eb.and([eb('at', '=', after.at), eb('account_id', '>', after.accountId)]),
          eb.and([eb('at', '=', after.at), eb('account_id', '=', after.accountId), eb('seq', '>', after.seq)]),
        ]),
      );
    }
    const rows = await query.orderBy('at').orderBy('account_id').orderBy('seq').limit(limit).execute();
    return rows.map(toEvent);
  }

  /** Every account with a chain. */
  async accounts(): Promise<string[]> {
    const rows = await this.db.selectFrom('audit_chains').select('account_id').orderBy('account_id').execute();
    return rows.map((row) => row.account_id);
  }

  private async *events(accountId: string): AsyncIterable<ChainedEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('seq', '>', after).orderBy('seq').limit(VERIFY_PAGE).execute();
      for (const row of rows) yield toEvent(row);
      if (rows.length < VERIFY_PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }
}

import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { AuditEventsTable, Database } from '../db/schema.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { insertEvents, moveHead, takeHead } from './append-queries.js';
import { chainHash, GENESIS, misfit, NO_ANCHOR, verifyChain, type AuditFields, type ChainAnchor, type ChainedEvent, type ChainVerdict, type Outcome } from './chain.js';

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

/** Events removed per transaction: a big purge never holds a chain head (or SQLite's write lock) for long. */
const PRUNE_BATCH = 1000;

/** Accounts looked up at once for events to remove. */
const PRUNE_ACCOUNTS_PAGE = 500;

/** Walks of one chain verify tries when retention moved the anchor while it walked. */
const VERIFY_ATTEMPTS = 3;

/** An account's chain head: its last event, and where its remaining events start. */
interface Head {
  seq: number;
  hash: string;
  anchor: ChainAnchor;
}

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
    const [event] = await this.appendAll(trx, accountId, [fields]);
    return event!;
  }

  /** Appends several events in order, taking the chain head once (the batched recorder's path). */
  async appendAll(trx: Kysely<Database>, accountId: string, all: readonly AuditFields[]): Promise<ChainedEvent[]> {
    const head = await takeHead(trx, this.dialect, accountId, GENESIS);
    let seq = head.seq;
    let prevHash = head.hash;
    const events: ChainedEvent[] = [];
    for (const fields of all) {
      seq += 1;
      const hash = chainHash(accountId, seq, prevHash, fields);
      events.push({ ...fields, accountId, seq, prevHash, hash });
      prevHash = hash;
    }
    await insertEvents(trx, events);
    await moveHead(trx, accountId, seq, prevHash);
    return events;
  }

  /** Appends in a transaction of its own: for events that record no change (a pull, a denial). */
  record(accountId: string, fields: AuditFields): Promise<ChainedEvent> {
    return writeTransaction(this.db, this.dialect, (trx) => this.append(trx, accountId, fields));
  }

  /**
   * Proves `accountId`'s chain intact, or names its first broken event. The remaining events start
   * at the anchor (what retention removed is gone, but the first left must link to it); the head
   * must agree with the last event too: events cut off the end of the chain are found this way.
   * Safe beside running servers: only the events up to the head as first read are walked.
   */
  async verify(accountId: string): Promise<ChainVerdict> {
    for (let attempt = 1; ; attempt++) {
      const head = await this.head(accountId);
      const verdict = await this.walk(accountId, head);
      // Retention ran during the walk: the events it took went with the anchor's move, not a break.
      if (!verdict.intact && attempt < VERIFY_ATTEMPTS && (await this.head(accountId)).anchor.seq !== head.anchor.seq) continue;
      return verdict;
    }
  }

  /**
   * Removes the events older than `olderThan` (ms since the epoch) from the start of each
   * account's chain, at most `limit` in all; answers how many went. Only a prefix goes, up to the
   * first event not old enough (times come from several nodes' clocks, so a later event may carry
   * an earlier time). Each batch moves the chain's anchor to its last removed event in the same
   * transaction. An event that does not verify stops its chain's removal: retention never erases
   * the evidence of a break.
   */
  async prune(olderThan: number, limit = Number.POSITIVE_INFINITY): Promise<number> {
    let removed = 0;
    let after: string | undefined;
    while (removed < limit) {
      const accounts = await this.prunable(olderThan, after);
      for (const accountId of accounts) {
        for (;;) {
          const batch = Math.min(PRUNE_BATCH, limit - removed);
          const count = await this.pruneBatch(accountId, olderThan, batch);
          removed += count;
          if (count < batch || removed >= limit) break;
        }
        if (removed >= limit) break;
      }
      if (accounts.length < PRUNE_ACCOUNTS_PAGE) break;
      after = accounts[accounts.length - 1];
    }
    return removed;
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

  /** Accounts whose first remaining event is older than `olderThan`, in pages after `after`. */
  private async prunable(olderThan: number, after: string | undefined): Promise<string[]> {
    let query = this.db
      .selectFrom('audit_chains')
      .innerJoin('audit_events', (join) => join.onRef('audit_events.account_id', '=', 'audit_chains.account_id').on((eb) => eb('audit_events.seq', '=', eb('audit_chains.anchor_seq', '+', 1))))
      .select('audit_chains.account_id')
      .where('audit_events.at', '<', olderThan);
    if (after !== undefined) query = query.where('audit_chains.account_id', '>', after);
    const rows = await query.orderBy('audit_chains.account_id').limit(PRUNE_ACCOUNTS_PAGE).execute();
    return rows.map((row) => row.account_id);
  }

  /** Removes up to `max` events of one chain's old prefix, moving its anchor past them; answers how many. */
  private pruneBatch(accountId: string, olderThan: number, max: number): Promise<number> {
    return writeTransaction(this.db, this.dialect, async (trx) => {
      // Locked like an append: the anchor and the events past it stay as read until this commits.
      const head = await locked(trx.selectFrom('audit_chains').select(['seq', 'anchor_seq', 'anchor_hash']).where('account_id', '=', accountId), this.dialect, 'update').executeTakeFirst();
      if (!head) return 0;
      const from = Number(head.anchor_seq);
      const rows = await trx.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('seq', '>', from).where('seq', '<=', Number(head.seq)).orderBy('seq').limit(max).execute();
      let seq = from;
      let hash = head.anchor_hash;
      for (const row of rows) {
        const event = toEvent(row);
        if (event.at >= olderThan || misfit(event, seq + 1, hash) !== undefined) break;
        seq = event.seq;
        hash = event.hash;
      }
      if (seq === from) return 0;
      await trx.deleteFrom('audit_events').where('account_id', '=', accountId).where('seq', '>', from).where('seq', '<=', seq).execute();
      await trx.updateTable('audit_chains').set({ anchor_seq: seq, anchor_hash: hash }).where('account_id', '=', accountId).execute();
      return seq - from;
    });
  }

  /** Checks the events from `head`'s anchor to its last event, and that no event lies outside them. */
  private async walk(accountId: string, head: Head): Promise<ChainVerdict> {
    const { anchor } = head;
    let last = anchor.hash;
    const verdict = await verifyChain(tracking(this.events(accountId, anchor.seq, head.seq), (event) => (last = event.hash)), anchor);
    if (!verdict.intact) return verdict;
    const recorded = head.seq - anchor.seq;
    if (verdict.events !== recorded) return { intact: false, seq: anchor.seq + verdict.events + 1, why: `the chain records ${recorded} events but ${verdict.events} are there` };
    if (last !== head.hash) return { intact: false, seq: head.seq, why: 'it is not the event the chain head records' };
    // Only a forger puts an event back behind the anchor (it would pass for one of the removed).
    const behind = await this.db.selectFrom('audit_events').select('seq').where('account_id', '=', accountId).where('seq', '<=', anchor.seq).orderBy('seq').limit(1).executeTakeFirst();
    if (behind) return { intact: false, seq: Number(behind.seq), why: 'it is older than what retention removed, yet is there' };
    // Past the head: an append since the head was read, or an event no append made. Read in this
    // order, an event past the head read second was there before that head was.
    const beyond = await this.db.selectFrom('audit_events').select('seq').where('account_id', '=', accountId).where('seq', '>', head.seq).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    if (beyond) {
      const now = await this.head(accountId);
      if (Number(beyond.seq) > now.seq) return { intact: false, seq: now.seq + 1, why: 'it is past the last event the chain head records' };
    }
    return verdict;
  }

  private async head(accountId: string): Promise<Head> {
    const row = await this.db.selectFrom('audit_chains').select(['seq', 'hash', 'anchor_seq', 'anchor_hash']).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) return { seq: 0, hash: GENESIS, anchor: NO_ANCHOR };
    return { seq: Number(row.seq), hash: row.hash, anchor: { seq: Number(row.anchor_seq), hash: row.anchor_hash } };
  }

  /** `accountId`'s events after `after` up to `until`, in `seq` order. */
  private async *events(accountId: string, after: number, until: number): AsyncIterable<ChainedEvent> {
    for (;;) {
      const rows = await this.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('seq', '>', after).where('seq', '<=', until).orderBy('seq').limit(VERIFY_PAGE).execute();
      for (const row of rows) yield toEvent(row);
      if (rows.length < VERIFY_PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }
}

/** `events` as they are, telling `seen` of each on the way. */
async function* tracking(events: AsyncIterable<ChainedEvent>, seen: (event: ChainedEvent) => void): AsyncIterable<ChainedEvent> {
  for await (const event of events) {
    seen(event);
    yield event;
  }
}

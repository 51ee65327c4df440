import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import { PreparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { ChainedEvent } from './chain.js';

/**
 * The statements an append runs, compiled once (src/db/prepared.ts): every pull appends an event,
 * so Kysely's builder would otherwise cost more per event than the database's own insert.
 */
const chainStart = new PreparedQuery((db, p: { accountId: string; genesis: string }) =>
  db.insertInto('audit_chains').values({ account_id: p.accountId, seq: 0, hash: p.genesis }).onConflict((oc) => oc.column('account_id').doNothing()),
);
const head = new PreparedQuery((db, p: { accountId: string }) => db.selectFrom('audit_chains').select(['seq', 'hash']).where('account_id', '=', p.accountId));
const lockedHead = new PreparedQuery((db, p: { accountId: string }) => db.selectFrom('audit_chains').select(['seq', 'hash']).where('account_id', '=', p.accountId).forUpdate());
const advance = new PreparedQuery((db, p: { accountId: string; seq: number; hash: string }) =>
  db.updateTable('audit_chains').set({ seq: p.seq, hash: p.hash }).where('account_id', '=', p.accountId),
);

const COLUMNS = 14;

/** An event's values in the column order of the inserts below. */
function rowValues(event: ChainedEvent, into: unknown[]): void {
  into.push(event.accountId, event.seq, event.at, event.action, event.outcome, event.reason, event.principalId, event.principalName, event.target, event.namespace, event.client, event.requestId, event.prevHash, event.hash);
}

/**
 * Rows per INSERT: a batch is written in as many of the largest as fit, then smaller ones, so a
 * handful of distinct statements (each kept prepared) serve every batch size. 14 columns × 200
 * stays far below SQLite's parameter limit.
 */
const INSERT_SIZES = [200, 50, 10, 1];

const inserts = new Map(
  INSERT_SIZES.map((rows) => [
    rows,
    new PreparedQuery((db, p: unknown[]) =>
      db.insertInto('audit_events').values(
        Array.from({ length: rows }, (_, i) => {
          const at = (column: number) => p[i * COLUMNS + column] as never;
          return {
            account_id: at(0), seq: at(1), at: at(2), action: at(3), outcome: at(4), reason: at(5), principal_id: at(6),
            principal_name: at(7), target: at(8), namespace: at(9), client: at(10), request_id: at(11), prev_hash: at(12), hash: at(13),
          };
        }),
      ),
    ),
  ]),
);

/** The head of `accountId`'s chain, created at genesis if it has none; locked until the transaction ends. */
export async function takeHead(trx: Kysely<Database>, dialect: Dialect, accountId: string, genesis: string): Promise<{ seq: number; hash: string }> {
  await chainStart.execute(trx, { accountId, genesis });
  const row = await (dialect === 'postgres' ? lockedHead : head).executeTakeFirst(trx, { accountId });
  if (!row) throw new Error(`audit chain head of ${accountId} vanished inside its transaction`);
  return { seq: Number(row.seq), hash: row.hash };
}

export async function moveHead(trx: Kysely<Database>, accountId: string, seq: number, hash: string): Promise<void> {
  await advance.execute(trx, { accountId, seq, hash });
}

export async function insertEvents(trx: Kysely<Database>, events: readonly ChainedEvent[]): Promise<void> {
  let start = 0;
  for (const size of INSERT_SIZES) {
    const insert = inserts.get(size)!;
    while (events.length - start >= size) {
      const values: unknown[] = [];
      for (let i = start; i < start + size; i++) rowValues(events[i]!, values);
      await insert.execute(trx, values);
      start += size;
    }
  }
}

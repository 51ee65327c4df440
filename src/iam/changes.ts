import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { writeTransaction } from '../db/transactions.js';
import type { IamContext } from './context.js';
import type { Principal } from './principal.js';

/** One IAM change as the audit trail names it: `iam-identity.apikey.create` on an API key id. */
export interface IamEvent {
  action: string;
  target: string;
  reason?: string;
}

/** Runs `work` in `db` when a caller's transaction is given, else in a transaction of its own. */
export function within<T>(ctx: IamContext, db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db === ctx.db ? ctx.db.transaction().execute(work) : work(db);
}

/**
 * IAM changes with their audit events: the change, its history and its events commit in one
 * transaction, in the chain of the account the caller acts in, or not at all.
 */
export class IamChanges {
  constructor(private readonly ctx: IamContext) {}

  async run<T>(principal: Principal, work: (trx: Kysely<Database>, note: (event: IamEvent) => void) => Promise<T>): Promise<T> {
    return writeTransaction(this.ctx.db, this.ctx.dialect, (trx) => this.record(principal, trx, work));
  }

  /** As `run`, inside the caller's transaction `trx`. */
  async record<T>(principal: Principal, trx: Kysely<Database>, work: (trx: Kysely<Database>, note: (event: IamEvent) => void) => Promise<T>): Promise<T> {
    const events: IamEvent[] = [];
    const result = await work(trx, (event) => events.push(event));
    const audit = this.ctx.audit;
    if (audit && events.length > 0) {
      const origin = principal.origin;
      const at = this.ctx.clock();
      await audit.appendAll(
        trx,
        principal.accountId,
        events.map((event) => ({
          at,
          action: event.action,
          outcome: 'success' as const,
          reason: event.reason ?? null,
          principalId: principal.iamId,
          principalName: principal.name,
          target: event.target,
          namespace: null,
          client: origin?.client ?? null,
          requestId: origin?.requestId ?? null,
        })),
      );
    }
    return result;
  }
}

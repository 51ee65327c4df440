import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, IdentityHistoryTable } from '../db/schema.js';
import type { Clock } from '../registry/clock.js';

/** Who did it: an IAM ID and the account it acts from. */
export interface Actor {
  iamId: string;
  accountId: string;
}

export interface HistoryEntry {
  timestamp: number;
  iamId: string;
  iamIdAccount: string;
  action: string;
  params: string[];
  message: string;
}

/** The change history of API keys and service IDs that IBM returns with `include_history=true`. */
export class IdentityHistory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** `db` lets the entry join the transaction of the change it records. */
  async record(entityId: string, actor: Actor, action: string, message: string, params: string[] = [], db: Kysely<Database> = this.db): Promise<void> {
    const row: IdentityHistoryTable = {
      id: randomUUID(),
      entity_id: entityId,
      at: this.clock(),
      iam_id: actor.iamId,
      iam_id_account: actor.accountId,
      action,
      params: JSON.stringify(params),
      message,
    };
    await db.insertInto('identity_history').values(row).execute();
  }

  async of(entityId: string): Promise<HistoryEntry[]> {
    const rows = await this.db.selectFrom('identity_history').selectAll().where('entity_id', '=', entityId).orderBy('at').orderBy('id').execute();
    return rows.map((row) => ({
      timestamp: row.at,
      iamId: row.iam_id,
      iamIdAccount: row.iam_id_account,
      action: row.action,
      params: JSON.parse(row.params) as string[],
      message: row.message,
    }));
  }

  /** Drops the history of entities that are gone (deleted keys and service IDs). */
  async forget(entityIds: string[], db: Kysely<Database> = this.db): Promise<void> {
    if (entityIds.length > 0) await db.deleteFrom('identity_history').where('entity_id', 'in', entityIds).execute();
  }
}

import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { writeTransaction } from '../db/transactions.js';
import type { AuditLog } from './audit-log.js';
import type { AuditFields } from './chain.js';

/** The chain of events no account can be named for: a login with a secret nobody holds. */
export const UNATTRIBUTED = 'unattributed';

export interface RecorderOptions {
  /** How long an event may wait before its batch is written. */
  delayMs: number;
  /** Events queued beyond this make `note` wait for the write: memory stays bounded. */
  capacity: number;
}

const DEFAULTS: RecorderOptions = { delayMs: 100, capacity: 10_000 };

interface Queued {
  accountId: string;
  fields: AuditFields;
}

/**
 * Events that record no change (logins, authorization decisions, pulls), written in batches so the
 * request that caused one never waits for the database: one transaction per batch, each account's
 * chain head taken once. A node that dies loses at most its unwritten batch (≤ delayMs of events);
 * a change's own event never comes here but is appended inside the change's transaction.
 */
export class AuditRecorder {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly options: RecorderOptions;

  constructor(
    private readonly log: AuditLog,
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly onError: (error: unknown, lost: number) => void,
    options: Partial<RecorderOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Queues an event; resolves at once unless the queue is full, when it waits for a write. */
  async note(accountId: string | null, fields: AuditFields): Promise<void> {
    this.queue.push({ accountId: accountId ?? UNATTRIBUTED, fields });
    if (this.queue.length >= this.options.capacity || this.closed) return this.flush();
    if (this.timer === undefined && !this.closed) {
      this.timer = setTimeout(() => void this.flush(), this.options.delayMs);
      this.timer.unref();
    }
  }

  /** Writes everything queued so far; resolves when it is in the database (or reported lost). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // One write at a time keeps each chain's events in the order they were noted.
    while (this.writing) await this.writing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = this.write(batch).finally(() => (this.writing = undefined));
    await this.writing;
  }

  /** Writes what is queued and takes no more timers: for shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async write(batch: Queued[]): Promise<void> {
    const byAccount = new Map<string, AuditFields[]>();
    for (const { accountId, fields } of batch) {
      const events = byAccount.get(accountId);
      if (events) events.push(fields);
      else byAccount.set(accountId, [fields]);
    }
    try {
      await writeTransaction(this.db, this.dialect, async (trx) => {
        // Heads are locked in one order on every node, so two nodes' batches cannot deadlock.
        for (const accountId of [...byAccount.keys()].sort()) await this.log.appendAll(trx, accountId, byAccount.get(accountId)!);
      });
    } catch (error) {
      this.onError(error, batch.length);
    }
  }
}

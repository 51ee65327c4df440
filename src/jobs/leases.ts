import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Leases on background jobs, in the database, so that of all the nodes (and `berth gc` beside
 * them) one at a time runs a job. A lease lasts `ttlMs` unless its holder renews it; a node that
 * dies lets it lapse, and another takes the job over.
 */
export class JobLeases {
  /** Who this process is, as a lease holder. */
  readonly holder = randomUUID();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes (or renews) the lease on `name`; false while another holder has it. */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    await this.db
      .insertInto('job_leases')
      .values({ name, holder: this.holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.holder, expires_at: now + ttlMs })
          .where(({ eb, or }) => or([eb('job_leases.expires_at', '<', now), eb('job_leases.holder', '=', this.holder)])),
      )
      .execute();
    const row = await this.db.selectFrom('job_leases').select('holder').where('name', '=', name).executeTakeFirst();
    return row?.holder === this.holder;
  }

  /** Gives the lease up, if this holder has it. */
  async release(name: string): Promise<void> {
    await this.db.deleteFrom('job_leases').where('name', '=', name).where('holder', '=', this.holder).execute();
  }

  /**
   * Runs `work` under the lease, renewing it whenever `work` calls `renew`; undefined when another
   * holder has the lease. `renew` throws once the lease was lost (it lapsed and another took it).
   */
  async run<T>(name: string, ttlMs: number, work: (renew: () => Promise<void>) => Promise<T>): Promise<T | undefined> {
    if (!(await this.acquire(name, ttlMs))) return undefined;
    try {
      return await work(async () => {
        if (!(await this.acquire(name, ttlMs))) throw new Error(`lost the lease on job ${name}`);
      });
    } finally {
      await this.release(name).catch(() => undefined);
    }
  }
}

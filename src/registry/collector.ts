import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { parseDigest } from '../oci/digest.js';
import { releaseUnlinked } from './blobs.js';
import type { RegistryContext } from './context.js';
import type { Trash } from './trash.js';
import type { Uploads } from './uploads.js';

const BATCH = 200;

/** What one collection removed, or (dry run) would remove. */
export interface CollectionReport {
  dryRun: boolean;
  /** Trash entries whose time was up. */
  trashExpired: number;
  /** Manifests gone for good: expired trash and what went with it. */
  manifestsRemoved: number;
  /** Upload sessions idle past BERTH_UPLOAD_IDLE_HOURS, with their staged bytes. */
  uploadsPurged: number;
  /** Repository links to blobs that no manifest names, past the grace. */
  linksRemoved: number;
  blobsRemoved: number;
  bytesRemoved: number;
  /** The blobs removed (or that would be), for `berth gc` to print. */
  blobs: Array<{ digest: string; size: number }>;
  durationMs: number;
}

export interface CollectorOptions {
  /** Grace after the last reference went (BERTH_GC_DELAY). */
  delayMs: number;
  /** Upload sessions idle this long are cancelled. */
  uploadIdleMs: number;
}

/**
 * Online garbage collection from the database's reference graph, never a walk of the files. A
 * blob stays while any repository links it; a link stays while a live or trashed manifest of its
 * repository names it, while the repository has an upload open or was pushed to within the grace,
 * and for the grace after it was made, used by a client or lost its last reference. Each removal
 * locks the blob's row and checks again before it acts (the lock every push takes on the blobs it
 * adds or names), so nothing runs read-only and nothing a push is about to use is removed.
 */
export class Collector {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly uploads: Uploads,
    private readonly trash: Trash,
    private readonly options: CollectorOptions,
  ) {}

  /** One full collection. `renew` is called between batches (to keep a job lease); `delayMs` overrides the grace. */
  async run(run: { dryRun?: boolean; delayMs?: number; renew?: () => Promise<void> } = {}): Promise<CollectionReport> {
    const started = Date.now();
    const dryRun = run.dryRun ?? false;
    const delay = run.delayMs ?? this.options.delayMs;
    const renew = run.renew ?? (async () => undefined);
    const report: CollectionReport = {
      dryRun, trashExpired: 0, manifestsRemoved: 0, uploadsPurged: 0, linksRemoved: 0, blobsRemoved: 0, bytesRemoved: 0, blobs: [], durationMs: 0,
    };
    if (dryRun) {
      report.trashExpired = (await this.trash.due()).length;
      const links = await this.linkCandidates(this.ctx.db, this.ctx.clock() - delay, Number.MAX_SAFE_INTEGER);
      report.linksRemoved = links.length;
      report.blobs = await this.blobsAfter(links, this.ctx.clock() - delay, delay === 0);
    } else {
      for (;;) {
        const { expired, removed } = await this.trash.expire(BATCH);
        report.trashExpired += expired;
        report.manifestsRemoved += removed.length;
        await renew();
        if (expired < BATCH) break;
      }
      for (;;) {
        const purged = await this.uploads.purgeIdle(this.options.uploadIdleMs, BATCH);
        report.uploadsPurged += purged;
        await renew();
        if (purged < BATCH) break;
      }
      for (;;) {
        const candidates = await this.linkCandidates(this.ctx.db, this.ctx.clock() - delay, BATCH);
        for (const link of candidates) if (await this.removeLink(link, delay)) report.linksRemoved += 1;
        await renew();
        if (candidates.length < BATCH) break;
      }
      for (;;) {
        const candidates = await this.blobCandidates(this.ctx.clock() - delay, BATCH);
        for (const blob of candidates) if (await this.removeBlob(blob.digest, delay)) report.blobs.push(blob);
        await renew();
        if (candidates.length < BATCH) break;
      }
    }
    report.blobsRemoved = report.blobs.length;
    report.bytesRemoved = report.blobs.reduce((sum, blob) => sum + blob.size, 0);
    report.durationMs = Date.now() - started;
    return report;
  }

  /** Links that may go: nothing names them, and neither they nor their repository were used within the grace. */
  private linkCandidates(db: Kysely<Database>, cutoff: number, limit: number, only?: { repository: string; digest: string }) {
    let query = db
      .selectFrom('repository_blobs as l')
      .innerJoin('repositories as r', 'r.name', 'l.repository')
      .select(['l.repository', 'l.digest'])
      .where('l.orphaned_at', 'is not', null)
      .where('l.orphaned_at', '<=', cutoff)
      .where('r.pushed_at', '<=', cutoff)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('manifest_references as m')
              .select('m.reference_digest')
              .whereRef('m.repository', '=', 'l.repository')
              .whereRef('m.reference_digest', '=', 'l.digest'),
          ),
        ),
      )
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('uploads as u').select('u.id').whereRef('u.repository', '=', 'l.repository'))))
      .orderBy('l.orphaned_at')
      .limit(limit);
    if (only) query = query.where('l.repository', '=', only.repository).where('l.digest', '=', only.digest);
    return query.execute();
  }

  private async removeLink(link: { repository: string; digest: string }, delay: number): Promise<boolean> {
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      // In the order pushes take them (repository, then blob), so the two never deadlock.
      await locked(trx.selectFrom('repositories').select('name').where('name', '=', link.repository), this.ctx.dialect, 'update').executeTakeFirst();
      await locked(trx.selectFrom('blobs').select('digest').where('digest', '=', link.digest), this.ctx.dialect, 'update').executeTakeFirst();
      // Checked again under the locks: a push may have named it, or used it, since it was listed.
      const now = this.ctx.clock();
      if ((await this.linkCandidates(trx, now - delay, 1, link)).length === 0) return false;
      await trx.deleteFrom('repository_blobs').where('repository', '=', link.repository).where('digest', '=', link.digest).execute();
      await releaseUnlinked(trx, [link.digest], now);
      return true;
    });
  }

  /** Blobs no repository links, released longer ago than the grace. */
  private blobCandidates(cutoff: number, limit: number) {
    return this.ctx.db
      .selectFrom('blobs')
      .select(['digest', 'size'])
      .where('released_at', 'is not', null)
      .where('released_at', '<=', cutoff)
      .orderBy('released_at')
      .limit(limit)
      .execute();
  }

  /** Deletes the blob's bytes and row, with the row locked and its state checked again. */
  private async removeBlob(digest: string, delay: number): Promise<boolean> {
    const parsed = parseDigest(digest);
    if (!parsed.ok) return false;
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      const row = await locked(trx.selectFrom('blobs').select(['released_at']).where('digest', '=', digest), this.ctx.dialect, 'update').executeTakeFirst();
      if (!row || row.released_at === null || row.released_at > this.ctx.clock() - delay) return false;
      const linked = await trx.selectFrom('repository_blobs').select('digest').where('digest', '=', digest).limit(1).executeTakeFirst();
      const named = await trx.selectFrom('manifest_references').select('reference_digest').where('reference_digest', '=', digest).limit(1).executeTakeFirst();
      if (linked || named) {
        // Released by mistake (it is still in use): it is not garbage.
        await trx.updateTable('blobs').set({ released_at: null }).where('digest', '=', digest).execute();
        return false;
      }
      // Bytes first, inside the lock: a push of the same content waits, then writes them anew.
      await this.ctx.store.delete(parsed.digest);
      await trx.deleteFrom('blobs').where('digest', '=', digest).execute();
      return true;
    });
  }

  /** For a dry run: blobs already due, and (with no grace) those whose last links this run would remove. */
  private async blobsAfter(links: Array<{ repository: string; digest: string }>, cutoff: number, cascade: boolean): Promise<Array<{ digest: string; size: number }>> {
    const due = await this.blobCandidates(cutoff, Number.MAX_SAFE_INTEGER);
    if (!cascade || links.length === 0) return due;
    const going = new Set(links.map((link) => `${link.repository}\n${link.digest}`));
    const result = new Map(due.map((blob) => [blob.digest, blob]));
    for (const digest of new Set(links.map((link) => link.digest))) {
      const all = await this.ctx.db.selectFrom('repository_blobs').select('repository').where('digest', '=', digest).execute();
      if (!all.every((link) => going.has(`${link.repository}\n${digest}`))) continue;
      const blob = await this.ctx.db.selectFrom('blobs').select(['digest', 'size']).where('digest', '=', digest).executeTakeFirst();
      if (blob) result.set(digest, blob);
    }
    return [...result.values()];
  }
}

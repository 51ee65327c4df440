import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { locked, writeTransaction } from '../db/transactions.js';
import type { Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import type { BlobReader, ByteRange } from '../storage/blob-store.js';
import { ensureRepository, type RegistryContext } from './context.js';
import { RegistryError } from './errors.js';
import type { Quotas } from './quotas.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** A blob `lookup()` found linked in a repository: what `open()` takes, so the link is checked once. */
export interface LinkedBlob extends BlobInfo {
  ref: Digest;
}

/**
 * Links `digest` into `repository`. A new link, or one nothing references, starts (again) the
 * grace the collector gives it; one a manifest references stays out of the collector's sight.
 */
export async function linkBlob(trx: Kysely<Database>, repository: string, digest: string, now: number): Promise<void> {
  await trx
    .insertInto('repository_blobs')
    .values({ repository, digest, created_at: now, orphaned_at: now })
    .onConflict((oc) =>
      oc.columns(['repository', 'digest']).doUpdateSet((eb) => ({
        orphaned_at: eb.case().when('repository_blobs.orphaned_at', 'is', null).then(null).else(now).end(),
      })),
    )
    .execute();
  await trx.updateTable('blobs').set({ released_at: null }).where('digest', '=', digest).where('released_at', 'is not', null).execute();
}

/** After links to `digests` went: a blob no repository links any more starts its grace now. */
export async function releaseUnlinked(trx: Kysely<Database>, digests: readonly string[], now: number): Promise<void> {
  for (const digest of digests) {
    const linked = await trx.selectFrom('repository_blobs').select('digest').where('digest', '=', digest).limit(1).executeTakeFirst();
    if (!linked) await trx.updateTable('blobs').set({ released_at: now }).where('digest', '=', digest).execute();
  }
}

/**
 * Blobs as a repository sees them: reachable only through the repository's link rows. Every
 * change that adds or removes a link locks the blob's row (PostgreSQL), the lock the collector
 * takes before it deletes a blob, so neither can act on what the other just changed. Locks are
 * taken in one order everywhere: repository, blobs, manifests, quota.
 */
export class Blobs {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly quotas: Quotas,
  ) {}

  /**
   * What a client sees of a blob (HEAD or GET). A pusher that finds a blob nothing references yet
   * goes on to name it in a manifest, so its link's grace starts again (written at most once per
   * half grace, so pulls of referenced blobs never write).
   */
  async lookup(repository: string, digest: Digest): Promise<LinkedBlob | undefined> {
    const row = await this.ctx.db
      .selectFrom('repository_blobs as l')
      .innerJoin('blobs as b', 'b.digest', 'l.digest')
      .select(['b.digest', 'b.size', 'l.orphaned_at'])
      .where('l.repository', '=', repository)
      .where('l.digest', '=', digest.value)
      .executeTakeFirst();
    if (!row) return undefined;
    const now = this.ctx.clock();
    if (row.orphaned_at !== null && this.ctx.graceMs > 0 && now - row.orphaned_at > this.ctx.graceMs / 2) {
      await this.ctx.db
        .updateTable('repository_blobs')
        .set({ orphaned_at: now })
        .where('repository', '=', repository)
        .where('digest', '=', digest.value)
        .where('orphaned_at', 'is not', null)
        .execute();
    }
    return { digest: row.digest, size: row.size, ref: digest };
  }

  /** A reader over the bytes (or a range) of a blob `lookup()` found; BLOB_UNKNOWN when the store lacks them. */
  async open(blob: LinkedBlob, range?: ByteRange): Promise<BlobReader> {
    const reader = await this.ctx.store.openReader(blob.ref, range);
    if (!reader) throw new OciError('BLOB_UNKNOWN', { digest: blob.digest });
    return reader;
  }

  /**
   * Makes an upload's verified bytes the blob `digest` of `repository`: within the account's
   * storage quota, with the blob's row locked while `move` puts the bytes in place, so a
   * collector deleting the same content waits, or goes first and leaves a new row behind.
   */
  async commit(repository: string, digest: Digest, size: number, move: () => Promise<void>): Promise<void> {
    const now = this.ctx.clock();
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await ensureRepository(trx, repository, now, true);
      await trx
        .insertInto('blobs')
        .values({ digest: digest.value, size, created_at: now, released_at: null })
        .onConflict((oc) => oc.column('digest').doUpdateSet({ released_at: null }))
        .execute();
      await this.quotas.requireStorage(trx, repository, { blobs: [{ digest: digest.value, size }] });
      await linkBlob(trx, repository, digest.value, now);
      await move();
    });
  }

  /** A URL the blob's bytes can be fetched from directly for `seconds`, when the store gives one. */
  async signedUrl(blob: LinkedBlob, seconds: number): Promise<string | undefined> {
    return this.ctx.store.signedUrl?.(blob.ref, seconds);
  }

  /**
   * Links a blob that `from` already reaches into `repository`. The caller has checked that the
   * principal may pull `from`; false means "fall back to a normal upload".
   */
  async mount(repository: string, digest: Digest, from: string): Promise<boolean> {
    const now = this.ctx.clock();
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await ensureRepository(trx, repository, now, true);
      const blob = await locked(trx.selectFrom('blobs').select(['digest', 'size']).where('digest', '=', digest.value), this.ctx.dialect, 'share').executeTakeFirst();
      if (!blob) return false;
      const source = await trx.selectFrom('repository_blobs').select('digest').where('repository', '=', from).where('digest', '=', digest.value).executeTakeFirst();
      if (!source || (await this.ctx.store.stat(digest)) === undefined) return false;
      await this.quotas.requireStorage(trx, repository, { blobs: [blob] });
      await linkBlob(trx, repository, digest.value, now);
      return true;
    });
  }

  /**
   * Unlinks the blob from the repository; the bytes go once nothing links them (after the grace).
   * A blob a live or trashed manifest of the repository names stays: removing it would break that image.
   */
  async unlink(repository: string, digest: Digest): Promise<void> {
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await locked(trx.selectFrom('blobs').select('digest').where('digest', '=', digest.value), this.ctx.dialect, 'update').executeTakeFirst();
      const user = await trx
        .selectFrom('manifest_references')
        .select('manifest_digest')
        .where('repository', '=', repository)
        .where('reference_digest', '=', digest.value)
        .limit(1)
        .executeTakeFirst();
      if (user) throw new RegistryError('in-use', `the blob is part of the manifest ${user.manifest_digest} in this repository; delete that manifest first`);
      const result = await trx.deleteFrom('repository_blobs').where('repository', '=', repository).where('digest', '=', digest.value).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new OciError('BLOB_UNKNOWN', { digest: digest.value });
      await releaseUnlinked(trx, [digest.value], this.ctx.clock());
    });
  }
}

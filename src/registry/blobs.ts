import type { Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import type { BlobReader, ByteRange } from '../storage/blob-store.js';
import { ensureRepository, type RegistryContext } from './context.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** Blobs as a repository sees them: reachable only through the repository's link rows. */
export class Blobs {
  constructor(private readonly ctx: RegistryContext) {}

  /** The blob's size when `repository` links it; undefined otherwise. */
  async stat(repository: string, digest: Digest): Promise<BlobInfo | undefined> {
    const row = await this.ctx.db
      .selectFrom('repository_blobs as l')
      .innerJoin('blobs as b', 'b.digest', 'l.digest')
      .select(['b.digest', 'b.size'])
      .where('l.repository', '=', repository)
      .where('l.digest', '=', digest.value)
      .executeTakeFirst();
    return row;
  }

  /** A reader over the blob's bytes (or a range), when `repository` links it and the store has it. */
  async open(repository: string, digest: Digest, range?: ByteRange): Promise<BlobReader> {
    const info = await this.stat(repository, digest);
    const reader = info && (await this.ctx.store.openReader(digest, range));
    if (!reader) throw new OciError('BLOB_UNKNOWN', { digest: digest.value });
    return reader;
  }

  /** Records a verified blob and links it to the repository. */
  async record(repository: string, digest: Digest, size: number): Promise<void> {
    const now = this.ctx.clock();
    await this.ctx.db.transaction().execute(async (trx) => {
      await ensureRepository(trx, repository, now);
      await trx
        .insertInto('blobs')
        .values({ digest: digest.value, size, created_at: now })
        .onConflict((oc) => oc.column('digest').doNothing())
        .execute();
      await trx
        .insertInto('repository_blobs')
        .values({ repository, digest: digest.value, created_at: now })
        .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
        .execute();
    });
  }

  /**
   * Links a blob that `from` already reaches into `repository`. The caller has checked that the
   * principal may pull `from`; false means "fall back to a normal upload".
   */
  async mount(repository: string, digest: Digest, from: string): Promise<boolean> {
    const source = await this.stat(from, digest);
    if (!source || (await this.ctx.store.stat(digest)) === undefined) return false;
    await this.record(repository, digest, source.size);
    return true;
  }

  /** Unlinks the blob from the repository; the bytes stay until no repository links them. */
  async unlink(repository: string, digest: Digest): Promise<void> {
    const result = await this.ctx.db
      .deleteFrom('repository_blobs')
      .where('repository', '=', repository)
      .where('digest', '=', digest.value)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw new OciError('BLOB_UNKNOWN', { digest: digest.value });
  }
}

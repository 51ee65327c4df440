import type { Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { locked } from '../db/transactions.js';
import { batches } from './context.js';
import { RegistryError } from './errors.js';

const BATCH = 500;

/**
 * How a manifest leaves a repository for good, inside the caller's transaction. Its references
 * (the rows that keep its blobs and child manifests) live as long as the manifest is live or in
 * the trash; when neither holds it any more they go, its blob links start the collector's grace,
 * and what was only there for it goes with it: untagged child manifests of an index that no other
 * manifest names, and untagged referrers (signatures, SBOMs) of it as their subject.
 */
export class ManifestRemoval {
  constructor(
    private readonly trx: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly now: number,
  ) {}

  /** Digests removed so far, cascades included. */
  readonly removed: string[] = [];

  /** Refuses to remove a manifest that a live or trashed index of the repository names. */
  async requireUnused(repository: string, digest: string): Promise<void> {
    const index = await this.indexNaming(repository, digest);
    if (index) throw new RegistryError('in-use', `the manifest is part of the image index ${index} in this repository; delete the index first`);
  }

  /** A live or trashed index of the repository that names the manifest as a child, if any. */
  private async indexNaming(repository: string, digest: string): Promise<string | undefined> {
    const row = await this.trx
      .selectFrom('manifest_references')
      .select('manifest_digest')
      .where('repository', '=', repository)
      .where('reference_digest', '=', digest)
      .where('kind', '=', 'manifest')
      .limit(1)
      .executeTakeFirst();
    return row?.manifest_digest;
  }

  /** Locks the live manifest row; false when there is none. */
  async lock(repository: string, digest: string): Promise<boolean> {
    const query = this.trx.selectFrom('manifests').select('digest').where('repository', '=', repository).where('digest', '=', digest);
    return (await locked(query, this.dialect, 'update').executeTakeFirst()) !== undefined;
  }

  /** Removes the live manifest (locked by the caller) and its tags; its references go unless the trash holds it. */
  async dropLive(repository: string, digest: string): Promise<void> {
    await this.trx.deleteFrom('tags').where('repository', '=', repository).where('digest', '=', digest).execute();
    await this.trx.deleteFrom('manifests').where('repository', '=', repository).where('digest', '=', digest).execute();
    this.removed.push(digest);
    const trashed = await this.trx.selectFrom('trash').select('digest').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    if (!trashed) await this.release(repository, digest);
  }

  /** Drops a trash entry (locked by the caller); its references go unless the manifest is live again. */
  async dropTrashed(repository: string, digest: string): Promise<void> {
    await this.trx.deleteFrom('trash').where('repository', '=', repository).where('digest', '=', digest).execute();
    const live = await this.trx.selectFrom('manifests').select('digest').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    if (live) return;
    this.removed.push(digest);
    await this.release(repository, digest);
  }

  /** The manifest is gone from the repository: its references go, and with them what only it needed. */
  private async release(repository: string, digest: string): Promise<void> {
    const references = await this.trx
      .selectFrom('manifest_references')
      .select(['reference_digest', 'kind'])
      .where('repository', '=', repository)
      .where('manifest_digest', '=', digest)
      .execute();
    await this.trx.deleteFrom('manifest_references').where('repository', '=', repository).where('manifest_digest', '=', digest).execute();
    const blobs = references.filter((r) => r.kind === 'blob').map((r) => r.reference_digest);
    for (const batch of batches(blobs, BATCH)) {
      await this.trx
        .updateTable('repository_blobs')
        .set({ orphaned_at: this.now })
        .where('repository', '=', repository)
        .where('digest', 'in', batch)
        .where('orphaned_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('manifest_references as r')
                .select('r.reference_digest')
                .whereRef('r.repository', '=', 'repository_blobs.repository')
                .whereRef('r.reference_digest', '=', 'repository_blobs.digest'),
            ),
          ),
        )
        .execute();
    }
    const children = references.filter((r) => r.kind === 'manifest').map((r) => r.reference_digest);
    const referrers = (
      await this.trx.selectFrom('manifests').select('digest').where('repository', '=', repository).where('subject', '=', digest).execute()
    ).map((r) => r.digest);
    for (const candidate of [...new Set([...children, ...referrers])].sort()) await this.dropIfOrphan(repository, candidate);
  }

  /** An untagged manifest that nothing names any more was part of what went: it goes too. */
  private async dropIfOrphan(repository: string, digest: string): Promise<void> {
    if (!(await this.lock(repository, digest))) return;
    const tagged = await this.trx.selectFrom('tags').select('name').where('repository', '=', repository).where('digest', '=', digest).limit(1).executeTakeFirst();
    if (tagged || (await this.indexNaming(repository, digest))) return;
    await this.dropLive(repository, digest);
  }
}

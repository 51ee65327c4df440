import type { Kysely, Selectable } from 'kysely';
import type { Actor } from '../audit/actor.js';
import type { Database, TrashTable } from '../db/schema.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { recordRepositoryChange } from './change-events.js';
import { keyUnder, type RegistryContext } from './context.js';
import { RegistryError } from './errors.js';
import { ManifestRemoval } from './manifest-removal.js';

const DAY_MS = 86_400_000;

export interface TrashedImage {
  /** The repository key (`<region>/<namespace>/<repo>`). */
  key: string;
  digest: string;
  tags: string[];
  trashedAt: number;
  expiresAt: number;
}

/** What a restore brought back, and the tags it could not (taken by another image meanwhile). */
export interface RestoreResult {
  restored: string[];
  conflicts: string[];
}

function parseTags(text: string): string[] {
  const tags = JSON.parse(text) as unknown;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
}

/**
 * The trash, as IBM Cloud Container Registry keeps it: deleting an image through the management
 * API moves its manifest and tags here for `days` days. Its references stay, so its blobs (and
 * the child manifests of an index) are kept and counted until it is restored or expires. With
 * `days` 0 there is no trash: deleted images go at once.
 */
export class Trash {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly days: number,
  ) {}

  /**
   * Moves the manifest `digest` of a repository (key) and all its tags there to the trash; false
   * when no such manifest is live. A manifest an index names is refused, as a delete would be.
   */
  async put(key: string, digest: string, actor?: Actor): Promise<boolean> {
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      const now = this.ctx.clock();
      const removal = new ManifestRemoval(trx, this.ctx.dialect, now);
      if (!(await removal.lock(key, digest))) return false;
      await removal.requireUnused(key, digest);
      await recordRepositoryChange(this.ctx, trx, key, 'container-registry.image.delete', `@${digest}`, actor);
      if (this.days === 0) {
        await removal.dropLive(key, digest);
        return true;
      }
      const manifest = await trx.selectFrom('manifests').selectAll().where('repository', '=', key).where('digest', '=', digest).executeTakeFirstOrThrow();
      const tags = (await trx.selectFrom('tags').select('name').where('repository', '=', key).where('digest', '=', digest).execute()).map((t) => t.name);
      const earlier = await trx.selectFrom('trash').select('tags').where('repository', '=', key).where('digest', '=', digest).executeTakeFirst();
      const allTags = [...new Set([...(earlier ? parseTags(earlier.tags) : []), ...tags])].sort();
      const entry = { tags: JSON.stringify(allTags), trashed_at: now, expires_at: now + this.days * DAY_MS };
      await trx
        .insertInto('trash')
        .values({
          repository: key,
          digest,
          media_type: manifest.media_type,
          size: manifest.size,
          content: manifest.content,
          subject: manifest.subject,
          artifact_type: manifest.artifact_type,
          annotations: manifest.annotations,
          created_at: manifest.created_at,
          ...entry,
        })
        .onConflict((oc) => oc.columns(['repository', 'digest']).doUpdateSet(entry))
        .execute();
      // The references stay: the trash now holds the manifest, and they keep its content.
      await removal.dropLive(key, digest);
      return true;
    });
  }

  /** What is in the trash under any of `prefixes` (`<region>/<namespace>/`), oldest expiry first. */
  async list(prefixes: readonly string[]): Promise<TrashedImage[]> {
    const images: TrashedImage[] = [];
    for (const prefix of prefixes) {
      const rows = await this.ctx.db.selectFrom('trash').select(['repository', 'digest', 'tags', 'trashed_at', 'expires_at']).where(keyUnder('repository', prefix)).execute();
      for (const row of rows) images.push({ key: row.repository, digest: row.digest, tags: parseTags(row.tags), trashedAt: row.trashed_at, expiresAt: row.expires_at });
    }
    return images.sort((a, b) => a.expiresAt - b.expiresAt || a.key.localeCompare(b.key) || a.digest.localeCompare(b.digest));
  }

  /**
   * Restores a trashed digest with every tag it had. A tag another image holds now is not moved
   * (it is listed as a conflict); the image is out of the trash either way.
   */
  async restoreDigest(key: string, digest: string, actor?: Actor): Promise<RestoreResult> {
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      const entry = await locked(trx.selectFrom('trash').selectAll().where('repository', '=', key).where('digest', '=', digest), this.ctx.dialect, 'update').executeTakeFirst();
      if (!entry) throw new RegistryError('not-in-trash', `no image ${digest} is in the trash of this repository`);
      const now = this.ctx.clock();
      await this.revive(trx, entry);
      const result: RestoreResult = { restored: [], conflicts: [] };
      for (const tag of parseTags(entry.tags)) {
        if (await this.retag(trx, key, tag, digest, now)) result.restored.push(tag);
        else result.conflicts.push(tag);
      }
      await trx.deleteFrom('trash').where('repository', '=', key).where('digest', '=', digest).execute();
      await recordRepositoryChange(this.ctx, trx, key, 'container-registry.trash.restore', `@${digest}`, actor);
      return result;
    });
  }

  /**
   * Restores the image a tag named when it went to the trash (the latest such, if several did),
   * with that tag. Refused when the tag names another image now. The digest's other tags stay in
   * the trash until they are restored or expire.
   */
  async restoreTag(key: string, tag: string, actor?: Actor): Promise<string> {
    return writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      const rows = await locked(trx.selectFrom('trash').selectAll().where('repository', '=', key).orderBy('trashed_at', 'desc'), this.ctx.dialect, 'update').execute();
      const entry = rows.find((row) => parseTags(row.tags).includes(tag));
      if (!entry) throw new RegistryError('not-in-trash', `no image tagged ${tag} is in the trash of this repository`);
      const now = this.ctx.clock();
      const current = await trx.selectFrom('tags').select('digest').where('repository', '=', key).where('name', '=', tag).executeTakeFirst();
      if (current && current.digest !== entry.digest) throw new RegistryError('tag-taken', `the tag ${tag} names another image now; delete or move it first`);
      await this.revive(trx, entry);
      await this.retag(trx, key, tag, entry.digest, now);
      const rest = parseTags(entry.tags).filter((t) => t !== tag);
      if (rest.length === 0) await trx.deleteFrom('trash').where('repository', '=', key).where('digest', '=', entry.digest).execute();
      else await trx.updateTable('trash').set({ tags: JSON.stringify(rest) }).where('repository', '=', key).where('digest', '=', entry.digest).execute();
      await recordRepositoryChange(this.ctx, trx, key, 'container-registry.trash.restore', `:${tag}`, actor);
      return entry.digest;
    });
  }

  /**
   * Ends up to `batch` entries whose time is up, each in a transaction of its own; returns how
   * many, and the manifests that went with them (cascades included).
   */
  async expire(batch = 100): Promise<{ expired: number; removed: string[] }> {
    const due = await this.ctx.db.selectFrom('trash').select(['repository', 'digest']).where('expires_at', '<=', this.ctx.clock()).orderBy('expires_at').limit(batch).execute();
    const removed: string[] = [];
    for (const { repository, digest } of due) {
      await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
        const query = trx.selectFrom('trash').select('digest').where('repository', '=', repository).where('digest', '=', digest).where('expires_at', '<=', this.ctx.clock());
        if (!(await locked(query, this.ctx.dialect, 'update').executeTakeFirst())) return;
        const removal = new ManifestRemoval(trx, this.ctx.dialect, this.ctx.clock());
        await removal.dropTrashed(repository, digest);
        removed.push(...removal.removed);
      });
    }
    return { expired: due.length, removed };
  }

  /** What would expire now, for a dry run. */
  async due(): Promise<Array<{ key: string; digest: string }>> {
    const rows = await this.ctx.db.selectFrom('trash').select(['repository', 'digest']).where('expires_at', '<=', this.ctx.clock()).execute();
    return rows.map((row) => ({ key: row.repository, digest: row.digest }));
  }

  /** Makes a trashed manifest live again (unless it was pushed again meanwhile); its references are still there. */
  private async revive(trx: Kysely<Database>, entry: Selectable<TrashTable>): Promise<void> {
    await trx
      .insertInto('manifests')
      .values({
        repository: entry.repository,
        digest: entry.digest,
        media_type: entry.media_type,
        size: entry.size,
        content: entry.content,
        subject: entry.subject,
        artifact_type: entry.artifact_type,
        annotations: entry.annotations,
        created_at: entry.created_at,
      })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
      .execute();
  }

  /** Points `tag` at `digest` unless another image holds it; true when the tag names the digest now. */
  private async retag(trx: Kysely<Database>, key: string, tag: string, digest: string, now: number): Promise<boolean> {
    const current = await trx.selectFrom('tags').select('digest').where('repository', '=', key).where('name', '=', tag).executeTakeFirst();
    if (current) return current.digest === digest;
    await trx.insertInto('tags').values({ repository: key, name: tag, digest, updated_at: now }).execute();
    return true;
  }
}

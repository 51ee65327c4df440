import type { Kysely } from 'kysely';
import type { Actor } from '../audit/actor.js';
import { recordRepositoryChange } from './change-events.js';
import type { Database } from '../db/schema.js';
import { PreparedQuery } from '../db/prepared.js';
import { locked, writeTransaction } from '../db/transactions.js';
import { digestOf } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import { batches, ensureRepository, type RegistryContext } from './context.js';
import { ManifestRemoval } from './manifest-removal.js';
import { blobSizes, insertManifest, insertReference, keepLinks, linkedBlobs, upsertTag } from './manifest-push-queries.js';
import { namespaceOf, ownerOfRepository } from './namespaces.js';
import type { Quotas } from './quotas.js';
import type { ManifestReference } from './references.js';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
}

export interface PushedManifest {
  digest: string;
  subject?: string;
}

/** The two reads every pull makes, compiled once (src/db/prepared.ts). */
const manifestByDigest = new PreparedQuery((db, p: { repository: string; digest: string }) =>
  db.selectFrom('manifests').select(['digest', 'media_type', 'content']).where('repository', '=', p.repository).where('digest', '=', p.digest),
);
const manifestByTag = new PreparedQuery((db, p: { repository: string; tag: string }) =>
  db
    .selectFrom('tags as t')
    .innerJoin('manifests as m', (join) => join.onRef('m.repository', '=', 't.repository').onRef('m.digest', '=', 't.digest'))
    .select(['m.digest', 'm.media_type', 'm.content'])
    .where('t.repository', '=', p.repository)
    .where('t.name', '=', p.tag),
);
const LOOKUP_BATCH = 1000;
const MAX_LISTED_MISSING = 100;

/** Manifests are stored byte for byte as pushed; their digest is of exactly those bytes. */
export class Manifests {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly quotas: Quotas,
  ) {}

  async get(repository: string, reference: ManifestReference): Promise<StoredManifest> {
    const row =
      reference.kind === 'digest'
        ? await manifestByDigest.executeTakeFirst(this.ctx.db, { repository, digest: reference.digest.value })
        : await manifestByTag.executeTakeFirst(this.ctx.db, { repository, tag: reference.tag });
    if (!row) throw manifestUnknown(repository, reference);
    return { digest: row.digest, mediaType: row.media_type, content: Buffer.from(row.content) };
  }

  async put(
    repository: string,
    reference: ManifestReference,
    content: Buffer,
    contentType: string | undefined,
    actor?: Actor,
  ): Promise<PushedManifest> {
    const algorithm = reference.kind === 'digest' ? reference.digest.algorithm : 'sha256';
    const digest = digestOf(content, algorithm);
    if (reference.kind === 'digest' && digest !== reference.digest.value) {
      throw new OciError('DIGEST_INVALID', { expected: reference.digest.value, actual: digest });
    }
    const manifest = parseManifest(content, contentType);

    const now = this.ctx.clock();
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      await ensureRepository(trx, repository, now, true);
      await this.requireReferencedContent(trx, repository, manifest);
      // Looked up once: the quota and the audit event both belong to the namespace's account.
      const owner = await ownerOfRepository(trx, repository);
      if (owner) await this.quotas.requireStorageOf(trx, owner, { manifests: [{ digest, size: content.length }] });
      await insertManifest.execute(trx, {
        repository,
        digest,
        mediaType: manifest.mediaType,
        size: content.length,
        content,
        subject: manifest.subject?.digest ?? null,
        artifactType: manifest.artifactType ?? null,
        annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
        now,
      });
      const references = [
        ...manifest.blobs.map((d) => ({ digest: d.digest, kind: 'blob' as const })),
        ...manifest.manifests.map((d) => ({ digest: d.digest, kind: 'manifest' as const })),
      ];
      // One prepared insert each: a handful for an image, tens of thousands at most for a 4 MiB index.
      for (const r of new Map(references.map((r) => [r.digest, r])).values()) {
        await insertReference.execute(trx, { repository, manifest: digest, reference: r.digest, kind: r.kind });
      }
      // Its blobs are named now: the collector leaves their links alone.
      if (manifest.blobs.length > 0) await keepLinks.execute(trx, { repository, digests: JSON.stringify(manifest.blobs.map((d) => d.digest)) });
      if (reference.kind === 'tag') await upsertTag.execute(trx, { repository, name: reference.tag, digest, now });
      if (actor && owner) await this.recordPush(trx, owner, repository, reference.kind === 'tag' ? `:${reference.tag}` : `@${digest}`, actor, now);
    });
    return manifest.subject ? { digest, subject: manifest.subject.digest } : { digest };
  }

  /** The push's audit event, in the push's own transaction, in the chain of the namespace's account. */
  private async recordPush(trx: Kysely<Database>, owner: { accountId: string; region: string }, repository: string, suffix: string, actor: Actor, now: number): Promise<void> {
    const name = repository.slice(owner.region.length + 1);
    await this.ctx.audit?.append(trx, owner.accountId, { at: now, action: 'container-registry.image.push', outcome: 'success', reason: null, target: `${name}${suffix}`, namespace: namespaceOf(name), ...actor });
  }

  /**
   * By tag: removes the tag only. By digest: removes the manifest for good, with every tag on it
   * and whatever was only there for it (see ManifestRemoval). A manifest an index still names is
   * refused: removing it would break the index.
   */
  async delete(repository: string, reference: ManifestReference, actor?: Actor): Promise<void> {
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      if (reference.kind === 'tag') {
        const result = await trx.deleteFrom('tags').where('repository', '=', repository).where('name', '=', reference.tag).executeTakeFirst();
        if (result.numDeletedRows === 0n) throw manifestUnknown(repository, reference);
      } else {
        const removal = new ManifestRemoval(trx, this.ctx.dialect, this.ctx.clock());
        if (!(await removal.lock(repository, reference.digest.value))) throw manifestUnknown(repository, reference);
        await removal.requireUnused(repository, reference.digest.value);
        await removal.dropLive(repository, reference.digest.value);
      }
      await recordRepositoryChange(this.ctx, trx, repository, 'container-registry.image.delete', suffixOf(reference), actor);
    });
  }

  /**
   * Every config, layer and child manifest must already be reachable from this repository. Their
   * rows are locked first (PostgreSQL), so a collector or a delete that wants them waits for this
   * push, then sees it; and what they removed just before is seen missing here.
   */
  private async requireReferencedContent(trx: Kysely<Database>, repository: string, manifest: ParsedManifest): Promise<void> {
    const blobDigests = [...new Set(manifest.blobs.map((d) => d.digest))].sort();
    const childDigests = [...new Set(manifest.manifests.map((d) => d.digest))].sort();
    const sizes = new Map<string, number>();
    const blobList = JSON.stringify(blobDigests);
    if (blobDigests.length > 0) for (const row of await blobSizes.execute(trx, { digests: blobList })) sizes.set(row.digest, Number(row.size));
    for (const batch of batches(childDigests, LOOKUP_BATCH)) {
      const rows = await locked(
        trx.selectFrom('manifests').select(['digest', 'size']).where('repository', '=', repository).where('digest', 'in', batch).orderBy('digest'),
        this.ctx.dialect,
        'share',
      ).execute();
      for (const row of rows) sizes.set(row.digest, Number(row.size));
    }
    const linked = new Set(blobDigests.length > 0 ? (await linkedBlobs.execute(trx, { repository, digests: blobList })).map((row) => row.digest) : []);
    const missing = [
      ...blobDigests.filter((d) => !linked.has(d)),
      ...(await this.missingManifests(trx, repository, childDigests)),
    ];
    if (missing.length > 0) {
      throw new OciError('MANIFEST_BLOB_UNKNOWN', { digests: missing.slice(0, MAX_LISTED_MISSING) }, {
        message: `manifest references ${missing.length === 1 ? 'a blob or manifest' : `${missing.length} blobs or manifests`} unknown to this repository: ${missing.slice(0, 3).join(', ')}`,
      });
    }
    // A descriptor's size is what a client trusts to bound its read: it must be the content's.
    for (const descriptor of [...manifest.blobs, ...manifest.manifests]) {
      const actual = sizes.get(descriptor.digest);
      if (actual !== undefined && actual !== descriptor.size) {
        throw new OciError('MANIFEST_INVALID', { digest: descriptor.digest, size: descriptor.size, actual }, {
          message: `descriptor of ${descriptor.digest} says size ${descriptor.size}, but the content is ${actual} bytes`,
        });
      }
    }
  }

  /** The manifest digests that `repository` does not hold. */
  private async missingManifests(trx: Kysely<Database>, repository: string, digests: string[]): Promise<string[]> {
    const have = new Set<string>();
    for (const batch of batches(digests, LOOKUP_BATCH)) {
      const rows = await trx
        .selectFrom('manifests')
        .select('digest')
        .where('repository', '=', repository)
        .where('digest', 'in', batch)
        .execute();
      for (const row of rows) have.add(row.digest);
    }
    return digests.filter((d) => !have.has(d));
  }
}

export function manifestUnknown(repository: string, reference: ManifestReference): OciError {
  const ref = reference.kind === 'tag' ? reference.tag : reference.digest.value;
  return new OciError('MANIFEST_UNKNOWN', { name: repository, reference: ref });
}

/** How an audit target names a reference after the repository: `:tag` or `@digest`. */
function suffixOf(reference: ManifestReference): string {
  return reference.kind === 'tag' ? `:${reference.tag}` : `@${reference.digest.value}`;
}

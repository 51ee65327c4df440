import type { Actor } from '../audit/actor.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import type { Blobs } from './blobs.js';
import { keyStartsWith, type RegistryContext } from './context.js';
import type { ManifestReference } from './references.js';
import type { Manifests } from './manifests.js';

/** A manifest in a repository, with the tags that point at it: what the management API calls an image. */
export interface ImageRecord {
  /** The repository key (`<region>/<namespace>/<repo>`). */
  key: string;
  digest: string;
  mediaType: string;
  content: Buffer;
  tags: string[];
  pushedAt: number;
  /**
   * Part of another image of the repository: a platform manifest its index names, or a referrer
   * (signature, SBOM) of a live or trashed image. Untagged, it is still not an "untagged image" to prune.
   */
  partOfAnother: boolean;
}

/** Configs are small JSON documents; anything far larger is not one Berth will parse. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Images across repositories, for the Container Registry management API (the data plane works
 * one repository at a time). Works on repository keys; regional.ts makes them from names.
 */
export class Images {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly blobs: Blobs,
    private readonly manifests: Manifests,
  ) {}

  /** Every image in repositories whose key starts with one of `prefixes` (`<region>/<namespace>/`). */
  async list(prefixes: readonly string[]): Promise<ImageRecord[]> {
    const images: ImageRecord[] = [];
    for (const prefix of prefixes) {
      const manifests = await this.ctx.db
        .selectFrom('manifests')
        .select(['repository', 'digest', 'media_type', 'content', 'created_at', 'subject'])
        .where(keyStartsWith('repository', prefix))
        .orderBy('repository')
        .orderBy('digest')
        .execute();
      const children = await this.ctx.db
        .selectFrom('manifest_references')
        .select(['repository', 'reference_digest'])
        .where(keyStartsWith('repository', prefix))
        .where('kind', '=', 'manifest')
        .execute();
      const trashed = await this.ctx.db.selectFrom('trash').select(['repository', 'digest']).where(keyStartsWith('repository', prefix)).execute();
      // A signature of an image in the trash is part of that image: it is restored with it.
      const subjects = new Set([...manifests, ...trashed].map((row) => `${row.repository}@${row.digest}`));
      const named = new Set(children.map((row) => `${row.repository}@${row.reference_digest}`));
      const tags = await this.ctx.db.selectFrom('tags').select(['repository', 'name', 'digest']).where(keyStartsWith('repository', prefix)).orderBy('name').execute();
      const tagsOf = new Map<string, string[]>();
      for (const tag of tags) {
        const id = `${tag.repository}@${tag.digest}`;
        tagsOf.set(id, [...(tagsOf.get(id) ?? []), tag.name]);
      }
      for (const row of manifests) {
        images.push({
          key: row.repository,
          digest: row.digest,
          mediaType: row.media_type,
          content: Buffer.from(row.content),
          tags: tagsOf.get(`${row.repository}@${row.digest}`) ?? [],
          pushedAt: row.created_at,
          partOfAnother: named.has(`${row.repository}@${row.digest}`) || (row.subject !== null && subjects.has(`${row.repository}@${row.subject}`)),
        });
      }
    }
    return images;
  }

  /** The image a tag or digest names in one repository. */
  async find(key: string, reference: ManifestReference): Promise<ImageRecord | undefined> {
    let stored;
    try {
      stored = await this.manifests.get(key, reference);
    } catch {
      return undefined;
    }
    const row = await this.ctx.db.selectFrom('manifests').select('created_at').where('repository', '=', key).where('digest', '=', stored.digest).executeTakeFirst();
    const tags = await this.ctx.db.selectFrom('tags').select('name').where('repository', '=', key).where('digest', '=', stored.digest).orderBy('name').execute();
    return { key, digest: stored.digest, mediaType: stored.mediaType, content: stored.content, tags: tags.map((t) => t.name), pushedAt: row?.created_at ?? 0, partOfAnother: false };
  }

  /** The image config a manifest names, parsed; undefined when it is absent, too large or not JSON. */
  async config(configDigest: string): Promise<Record<string, unknown> | undefined> {
    const parsed = parseDigest(configDigest);
    if (!parsed.ok) return undefined;
    const reader = await this.ctx.store.openReader(parsed.digest);
    if (!reader) return undefined;
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const chunk = Buffer.alloc(64 * 1024);
        const read = await reader.read(chunk);
        if (read === 0) break;
        total += read;
        if (total > MAX_CONFIG_BYTES) return undefined;
        chunks.push(chunk.subarray(0, read));
      }
      const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    } finally {
      await reader.close();
    }
  }

  /**
   * Copies an image into another repository of the region under a tag: its blobs are linked (no
   * bytes move) and its manifest (with the children of an index) is stored byte for byte, so the
   * digest stays the same.
   */
  async copy(fromKey: string, digest: string, toKey: string, tag: string, actor?: Actor): Promise<void> {
    await this.copyManifest(fromKey, digest, toKey, { kind: 'tag', tag }, actor);
  }

  /** `actor` is given for the image asked for only: the trail records the tag, not each child of an index. */
  private async copyManifest(fromKey: string, digest: string, toKey: string, reference: ManifestReference, actor?: Actor): Promise<void> {
    const parsed = parseDigest(digest);
    if (!parsed.ok) throw new Error(`stored manifest digest ${digest} does not parse`);
    const stored = await this.manifests.get(fromKey, { kind: 'digest', digest: parsed.digest });
    const references = await this.ctx.db
      .selectFrom('manifest_references')
      .select(['reference_digest', 'kind'])
      .where('repository', '=', fromKey)
      .where('manifest_digest', '=', digest)
      .execute();
    for (const child of references) {
      if (child.kind === 'manifest') await this.copyManifest(fromKey, child.reference_digest, toKey, { kind: 'digest', digest: digestOrThrow(child.reference_digest) });
      else await this.blobs.mount(toKey, digestOrThrow(child.reference_digest), fromKey);
    }
    await this.manifests.put(toKey, reference, stored.content, stored.mediaType, actor);
  }
}

function digestOrThrow(text: string): Digest {
  const parsed = parseDigest(text);
  if (!parsed.ok) throw new Error(`stored digest ${text} does not parse`);
  return parsed.digest;
}

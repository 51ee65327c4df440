import type { Actor } from '../audit/actor.js';
import type { Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import type { ByteRange } from '../storage/blob-store.js';
import type { PageRequest } from './pagination.js';
import type { ManifestReference } from './references.js';
import type { LinkedBlob } from './blobs.js';
import type { Registry } from './registry.js';
import type { ChunkRange } from './uploads.js';

/**
 * One region's registry, as the data plane sees it: the same services, with repositories named as
 * clients name them. Underneath, a repository's key is `<region>/<name>`, so the same name in two
 * regions is two repositories (namespaces are unique per region, not globally). Blobs are
 * content-addressed and shared; a region reaches one only through its own repositories' links.
 */
export function regionView(registry: Registry, region: string) {
  const prefix = `${region}/`;
  const key = (name: string) => prefix + name;
  const { blobs, uploads, manifests, tags, catalog, referrers, quotas } = registry;
  // A not-found names the repository as the client did: the same answer a forbidden one gets.
  const named = async <T>(name: string, work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      const detail = error instanceof OciError ? (error.detail as { name?: unknown } | undefined) : undefined;
      if (!(error instanceof OciError) || detail?.name !== key(name)) throw error;
      throw new OciError(error.code, { ...detail, name }, { status: error.status, message: error.message, headers: error.headers });
    }
  };
  return {
    region,
    /** The repository key of a name in this region, for services that take keys (images.ts). */
    key,
    blobs: {
      lookup: (name: string, digest: Digest) => blobs.lookup(key(name), digest),
      open: (blob: LinkedBlob, range?: ByteRange) => blobs.open(blob, range),
      signedUrl: (blob: LinkedBlob, seconds: number) => blobs.signedUrl(blob, seconds),
      mount: (name: string, digest: Digest, from: string) => blobs.mount(key(name), digest, key(from)),
      unlink: (name: string, digest: Digest) => blobs.unlink(key(name), digest),
    },
    uploads: {
      start: (name: string, owner?: string, declaredBytes?: number) => uploads.start(key(name), owner, declaredBytes),
      get: (name: string, id: string) => uploads.get(key(name), id),
      append: (name: string, id: string, source: AsyncIterable<Uint8Array>, range?: ChunkRange, declaredBytes?: number) =>
        uploads.append(key(name), id, source, range, declaredBytes),
      complete: (name: string, id: string, digest: Digest, finalChunk?: { source: AsyncIterable<Uint8Array>; range?: ChunkRange; declaredBytes?: number }) =>
        uploads.complete(key(name), id, digest, finalChunk),
      cancel: (name: string, id: string) => uploads.cancel(key(name), id),
    },
    manifests: {
      get: (name: string, reference: ManifestReference) => named(name, manifests.get(key(name), reference)),
      put: (name: string, reference: ManifestReference, body: Buffer, contentType: string | undefined, actor?: Actor) =>
        manifests.put(key(name), reference, body, contentType, actor),
      delete: (name: string, reference: ManifestReference, actor?: Actor) => named(name, manifests.delete(key(name), reference, actor)),
    },
    tags: {
      list: (name: string, page: PageRequest) => named(name, tags.list(key(name), page)),
    },
    catalog: {
      list: (page: PageRequest, visible: (names: string[]) => Promise<Set<string>>) => catalog.list(page, visible, prefix),
    },
    referrers: {
      list: (name: string, subject: Digest, artifactType?: string) => referrers.list(key(name), subject, artifactType),
    },
    quotas: {
      /** Counts a pull of `bytes` against the repository's account, or refuses it over its traffic quota. */
      chargePull: (name: string, bytes: number) => quotas.chargePull(key(name), bytes),
    },
  };
}

export type RegionRegistry = ReturnType<typeof regionView>;

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export type ManifestKind = 'image' | 'index';

/** The manifest media types Berth stores, and whether each is an image or an index. */
export const MANIFEST_KINDS: ReadonlyMap<string, ManifestKind> = new Map([
  [MediaType.ociManifest, 'image'],
  [MediaType.dockerManifest, 'image'],
  [MediaType.ociIndex, 'index'],
  [MediaType.dockerManifestList, 'index'],
]);

/** Layers that registries never hold: their descriptors point elsewhere. */
export function isNonDistributable(mediaType: string): boolean {
  return (
    mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.') ||
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
  );
}

/** `type/subtype; params` → `type/subtype`, lower-cased as RFC 7231 compares it. */
export function bareMediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bare = header.split(';', 1)[0]!.trim().toLowerCase();
  return bare === '' ? undefined : bare;
}

import type { ImageRecord } from '../../registry/images.js';
import type { NamespaceRecord } from '../../registry/namespaces.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The manifest types as IBM's API names them. */
const MANIFEST_TYPES: Record<string, string> = {
  'application/vnd.oci.image.manifest.v1+json': 'OCI Image Manifest v1',
  'application/vnd.docker.distribution.manifest.v2+json': 'Docker Image Manifest V2, Schema 2',
  'application/vnd.oci.image.index.v1+json': 'OCI Image Index v1',
  'application/vnd.docker.distribution.manifest.list.v2+json': 'Docker Image Manifest List V2',
};

/** Berth has no Vulnerability Advisor: every image says so. */
const NOT_SCANNED = 'Not scanned';

export function manifestType(mediaType: string): string {
  return MANIFEST_TYPES[mediaType] ?? mediaType;
}

export function isIndex(image: ImageRecord): boolean {
  return image.mediaType.includes('index') || image.mediaType.includes('manifest.list');
}

/** The parts of a manifest the views need: its config digest and the bytes its layers and config take. */
export function manifestFacts(image: ImageRecord): { configDigest?: string; size: number } {
  const manifest = JSON.parse(image.content.toString('utf8')) as Json;
  const sizeOf = (descriptor: unknown) => (isObject(descriptor) && typeof descriptor.size === 'number' ? descriptor.size : 0);
  if (isIndex(image)) {
    const children = Array.isArray(manifest.manifests) ? manifest.manifests : [];
    return { size: image.content.length + children.reduce<number>((sum, child) => sum + sizeOf(child), 0) };
  }
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  const config = isObject(manifest.config) ? manifest.config : undefined;
  return {
    ...(typeof config?.digest === 'string' ? { configDigest: config.digest } : {}),
    size: sizeOf(config) + layers.reduce<number>((sum, layer) => sum + sizeOf(layer), 0),
  };
}

/** Seconds since the epoch of a config's `created`, or of the push when it has none. */
export function createdSeconds(config: Json | undefined, image: ImageRecord): number {
  const created = typeof config?.created === 'string' ? Date.parse(config.created) : NaN;
  return Math.floor((Number.isNaN(created) ? image.pushedAt : created) / 1000);
}

const issues = { VulnerabilityCount: 0, ConfigurationIssueCount: 0, IssueCount: 0, ExemptIssueCount: 0 };

/** RemoteAPIImage (GET /api/v1/images) for one tagged image of one repository. */
export function remoteApiImage(host: string, repository: string, image: ImageRecord, config: Json | undefined) {
  const { configDigest, size } = manifestFacts(image);
  const labels = isObject(config?.config) && isObject(config.config.Labels) ? config.config.Labels : {};
  return {
    Id: configDigest ?? image.digest,
    ParentId: '',
    Created: createdSeconds(config, image),
    Size: size,
    VirtualSize: size,
    Labels: labels,
    ManifestType: manifestType(image.mediaType),
    RepoTags: image.tags.map((tag) => `${host}/${repository}:${tag}`),
    RepoDigests: [`${host}/${repository}@${image.digest}`],
    DigestTags: { [image.digest]: image.tags },
    Vulnerable: NOT_SCANNED,
    ...issues,
  };
}

/** ImageDigest (POST /api/v1/images/digests): one digest, every repository and tag it is in. */
export function imageDigest(digest: string, images: Array<{ host: string; repository: string; image: ImageRecord }>, config: Json | undefined) {
  const first = images[0]!;
  const repoTags: Record<string, Record<string, unknown>> = {};
  for (const { host, repository, image } of images) {
    const tags = (repoTags[`${host}/${repository}`] ??= {});
    for (const tag of image.tags) {
      tags[tag] = { vulnerable: NOT_SCANNED, vulnerabilityCount: 0, configurationIssueCount: 0, issueCount: 0, exemptIssueCount: 0 };
    }
  }
  return {
    id: digest,
    created: createdSeconds(config, first.image),
    size: manifestFacts(first.image).size,
    manifestType: manifestType(first.image.mediaType),
    repoTags,
  };
}

/** ImageInspection (GET /api/v1/images/{image}/json), Docker inspect's shape from the image config. */
export function imageInspection(image: ImageRecord, config: Json | undefined) {
  const { configDigest, size } = manifestFacts(image);
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const rootfs = isObject(config?.rootfs) ? config.rootfs : {};
  return {
    Id: configDigest ?? image.digest,
    Parent: '',
    Comment: text(config?.comment),
    Created: text(config?.created),
    Container: text(config?.container),
    ContainerConfig: isObject(config?.container_config) ? config.container_config : {},
    DockerVersion: text(config?.docker_version),
    Author: text(config?.author),
    Config: isObject(config?.config) ? config.config : {},
    Architecture: text(config?.architecture),
    Os: text(config?.os),
    OsVersion: text(config?.['os.version']),
    Size: size,
    VirtualSize: size,
    RootFS: { Type: text(rootfs.type), Layers: Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : [], BaseLayer: '' },
    ManifestType: manifestType(image.mediaType),
  };
}

export function namespaceDetails(record: NamespaceRecord) {
  return {
    name: record.name,
    account: record.account_id,
    created_date: new Date(record.created_at).toISOString(),
    updated_date: new Date(record.updated_at).toISOString(),
    ...(record.resource_group !== null ? { resource_group: record.resource_group } : {}),
  };
}

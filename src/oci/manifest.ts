import { OciError } from './errors.js';
import { parseDigest } from './digest.js';
import { MANIFEST_KINDS, MediaType, bareMediaType, isNonDistributable, type ManifestKind } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What the registry needs to know of a pushed manifest; the bytes themselves are stored untouched. */
export interface ParsedManifest {
  mediaType: string;
  kind: ManifestKind;
  /** Config and layers that must already be in the repository. */
  blobs: Descriptor[];
  /** Child manifests of an index, which must already be in the repository. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** The artifact type the referrers API reports for this manifest. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

type Json = Record<string, unknown>;

function invalid(reason: string): OciError {
  return new OciError('MANIFEST_INVALID', reason);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalid(`${where}.annotations must be an object of strings`);
  }
  return value as Record<string, string>;
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType is required`);
  if (typeof digest !== 'string' || !parseDigest(digest).ok) throw invalid(`${where}.digest is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  if (artifactType !== undefined && typeof artifactType !== 'string') throw invalid(`${where}.artifactType must be a string`);
  const descriptor: Descriptor = { mediaType, digest, size };
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  const annotations = parseAnnotations(value.annotations, where);
  if (annotations !== undefined) descriptor.annotations = annotations;
  return descriptor;
}

function parseDescriptorList(value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((item, i) => parseDescriptor(item, `${where}[${i}]`));
}

/**
 * Validates a manifest body against its declared media type. The Content-Type header wins when the
 * body has no `mediaType`; when both are present they must agree, as the spec requires of clients.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  let nul = false;
  try {
    // A NUL in a string cannot be stored as text (artifactType, annotations): such a manifest is refused.
    body = JSON.parse(bytes.toString('utf8'), (key, value: unknown) => {
      if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) nul = true;
      return value;
    });
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (nul) throw invalid('manifest holds a NUL character (\\u0000) in a string');
  if (!isObject(body)) throw invalid('manifest must be a JSON object');

  const declared = bareMediaType(contentType);
  const inBody = body.mediaType;
  if (inBody !== undefined && typeof inBody !== 'string') throw invalid('mediaType must be a string');
  if (declared === MediaType.dockerSchema1 || declared === MediaType.dockerSchema1Signed) {
    throw new OciError('MANIFEST_INVALID', 'Docker schema 1 manifests are not supported; push schema 2 or OCI');
  }
  const mediaType = inBody ?? declared;
  if (mediaType === undefined) throw invalid('manifest has no mediaType and no Content-Type');
  if (inBody !== undefined && declared !== undefined && declared !== 'application/json' && declared !== inBody) {
    throw invalid(`Content-Type ${declared} does not match the manifest's mediaType ${inBody}`);
  }
  const kind = MANIFEST_KINDS.get(mediaType);
  if (kind === undefined) throw invalid(`unsupported manifest media type ${mediaType}`);
  if (body.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  const parsed: ParsedManifest = { mediaType, kind, blobs: [], manifests: [] };
  if (body.subject !== undefined) parsed.subject = parseDescriptor(body.subject, 'subject');
  const annotations = parseAnnotations(body.annotations, 'manifest');
  if (annotations !== undefined) parsed.annotations = annotations;
  if (body.artifactType !== undefined) {
    if (typeof body.artifactType !== 'string') throw invalid('artifactType must be a string');
    parsed.artifactType = body.artifactType;
  }

  if (kind === 'image') {
    const config = parseDescriptor(body.config, 'config');
    const layers = parseDescriptorList(body.layers, 'layers');
    parsed.blobs = [config, ...layers.filter((layer) => !isNonDistributable(layer.mediaType))];
    parsed.artifactType ??= config.mediaType;
  } else {
    parsed.manifests = parseDescriptorList(body.manifests, 'manifests');
  }
  return parsed;
}

import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../src/oci/digest.js';
import { OciError } from '../../../src/oci/errors.js';
import { parseManifest } from '../../../src/oci/manifest.js';
import { MediaType } from '../../../src/oci/media-types.js';

function descriptor(mediaType: string, content: string, extra: Record<string, unknown> = {}) {
  const bytes = Buffer.from(content);
  return { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra };
}

const ociConfig = descriptor('application/vnd.oci.image.config.v1+json', '{"architecture":"amd64","os":"linux"}');
const ociLayer = descriptor('application/vnd.oci.image.layer.v1.tar+gzip', 'layer one');
const dockerConfig = descriptor('application/vnd.docker.container.image.v1+json', '{"os":"linux"}');
const dockerLayer = descriptor('application/vnd.docker.image.rootfs.diff.tar.gzip', 'docker layer');
const childManifest = descriptor(MediaType.ociManifest, '{"child":1}', { platform: { os: 'linux', architecture: 'arm64' } });

function ociImage(extra: Record<string, unknown> = {}) {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, config: ociConfig, layers: [ociLayer], ...extra };
}

function bytes(body: unknown): Buffer {
  return Buffer.from(JSON.stringify(body));
}

/** Runs parseManifest expecting MANIFEST_INVALID; returns the detail for further checks. */
function refusal(body: unknown, contentType: string | undefined): string {
  const raw = typeof body === 'string' ? Buffer.from(body) : bytes(body);
  try {
    parseManifest(raw, contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(OciError);
    expect((error as OciError).code).toBe('MANIFEST_INVALID');
    expect((error as OciError).status).toBe(400);
    return String((error as OciError).detail);
  }
  throw new Error('parseManifest accepted the manifest');
}

describe('parseManifest: the four media types', () => {
  it('parses an OCI image manifest', () => {
    const parsed = parseManifest(bytes(ociImage({ annotations: { a: 'b' } })), MediaType.ociManifest);
    expect(parsed).toEqual({
      mediaType: MediaType.ociManifest,
      kind: 'image',
      blobs: [ociConfig, ociLayer],
      manifests: [],
      artifactType: ociConfig.mediaType,
      annotations: { a: 'b' },
    });
  });

  it('parses a Docker schema 2 manifest', () => {
    const body = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: dockerConfig, layers: [dockerLayer] };
    const parsed = parseManifest(bytes(body), MediaType.dockerManifest);
    expect(parsed.kind).toBe('image');
    expect(parsed.mediaType).toBe(MediaType.dockerManifest);
    expect(parsed.blobs).toEqual([dockerConfig, dockerLayer]);
    expect(parsed.manifests).toEqual([]);
  });

  it('parses an OCI image index', () => {
    const body = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [childManifest] };
    const parsed = parseManifest(bytes(body), MediaType.ociIndex);
    expect(parsed.kind).toBe('index');
    expect(parsed.blobs).toEqual([]);
    expect(parsed.manifests).toEqual([{ mediaType: childManifest.mediaType, digest: childManifest.digest, size: childManifest.size }]);
    expect(parsed.artifactType).toBeUndefined();
  });

  it('parses a Docker manifest list', () => {
    const child = descriptor(MediaType.dockerManifest, '{"child":2}');
    const body = { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [child] };
    const parsed = parseManifest(bytes(body), MediaType.dockerManifestList);
    expect(parsed.kind).toBe('index');
    expect(parsed.manifests).toEqual([child]);
  });

  it('accepts an index with no children', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }), MediaType.ociIndex);
    expect(parsed.manifests).toEqual([]);
  });
});

describe('parseManifest: media type agreement', () => {
  it('takes the media type from Content-Type when the body has none', () => {
    const { mediaType: _omit, ...body } = ociImage();
    expect(parseManifest(bytes(body), MediaType.ociManifest).mediaType).toBe(MediaType.ociManifest);
  });

  it('takes the media type from the body when there is no Content-Type', () => {
    expect(parseManifest(bytes(ociImage()), undefined).mediaType).toBe(MediaType.ociManifest);
  });

  it('ignores Content-Type parameters and case', () => {
    const parsed = parseManifest(bytes(ociImage()), 'Application/VND.OCI.Image.Manifest.v1+json; charset=utf-8');
    expect(parsed.mediaType).toBe(MediaType.ociManifest);
  });

  it('refuses a Content-Type that contradicts the body mediaType', () => {
    const detail = refusal(ociImage(), MediaType.dockerManifest);
    expect(detail).toContain(MediaType.dockerManifest);
    expect(detail).toContain(MediaType.ociManifest);
  });

  it('refuses an index body sent as an image manifest', () => {
    refusal({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }, MediaType.ociManifest);
  });

  it('refuses a manifest with neither mediaType nor Content-Type', () => {
    const { mediaType: _omit, ...body } = ociImage();
    expect(refusal(body, undefined)).toMatch(/no mediaType/);
  });

  it('refuses unknown media types', () => {
    expect(refusal({ ...ociImage(), mediaType: 'application/vnd.example+json' }, undefined)).toMatch(/unsupported/);
    const { mediaType: _omit, ...body } = ociImage();
    refusal(body, 'text/plain');
  });

  it('refuses a non-string mediaType', () => {
    refusal({ ...ociImage(), mediaType: 42 }, MediaType.ociManifest);
  });
});

describe('parseManifest: refusals', () => {
  it('refuses Docker schema 1, signed or not', () => {
    const schema1 = { schemaVersion: 1, name: 'a/b', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    expect(refusal(schema1, MediaType.dockerSchema1Signed)).toMatch(/schema 1/);
    expect(refusal(schema1, MediaType.dockerSchema1)).toMatch(/schema 1/);
    refusal({ ...schema1, mediaType: MediaType.dockerSchema1 }, undefined);
    refusal(schema1, MediaType.ociManifest);
  });

  it('refuses a schemaVersion other than 2', () => {
    expect(refusal(ociImage({ schemaVersion: 1 }), MediaType.ociManifest)).toMatch(/schemaVersion/);
    refusal(ociImage({ schemaVersion: '2' }), MediaType.ociManifest);
    const { schemaVersion: _omit, ...body } = ociImage();
    refusal(body, MediaType.ociManifest);
  });

  it('refuses bytes that are not a JSON object', () => {
    expect(refusal('{"schemaVersion":2,', MediaType.ociManifest)).toMatch(/JSON/);
    refusal('[]', MediaType.ociManifest);
    refusal('null', MediaType.ociManifest);
    refusal('"manifest"', MediaType.ociManifest);
  });

  it('refuses an image manifest without config', () => {
    const { config: _omit, ...body } = ociImage();
    expect(refusal(body, MediaType.ociManifest)).toMatch(/^config/);
  });

  it('refuses an index without manifests', () => {
    expect(refusal({ schemaVersion: 2, mediaType: MediaType.ociIndex }, MediaType.ociIndex)).toMatch(/^manifests/);
    refusal({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: {} }, MediaType.ociIndex);
  });

  it('refuses layers that are not an array', () => {
    refusal(ociImage({ layers: ociLayer }), MediaType.ociManifest);
  });

  it.each([
    ['a digest with uppercase hex', { digest: ociLayer.digest.toUpperCase().replace('SHA256', 'sha256') }, /digest/],
    ['a digest of the wrong length', { digest: ociLayer.digest.slice(0, -1) }, /digest/],
    ['an unknown digest algorithm', { digest: `md5:${'a'.repeat(32)}` }, /digest/],
    ['a missing digest', { digest: undefined }, /digest/],
    ['a negative size', { size: -1 }, /size/],
    ['a fractional size', { size: 1.5 }, /size/],
    ['a string size', { size: '10' }, /size/],
    ['an unsafe integer size', { size: 2 ** 53 }, /size/],
    ['a missing size', { size: undefined }, /size/],
    ['a missing mediaType', { mediaType: undefined }, /mediaType/],
    ['an empty mediaType', { mediaType: '' }, /mediaType/],
    ['a non-string artifactType', { artifactType: 7 }, /artifactType/],
    ['annotations that are not strings', { annotations: { a: 1 } }, /annotations/],
  ])('refuses a layer descriptor with %s, naming where', (_, change, pattern) => {
    const detail = refusal(ociImage({ layers: [ociLayer, { ...ociLayer, ...change }] }), MediaType.ociManifest);
    expect(detail).toMatch(pattern);
    expect(detail).toContain('layers[1]');
  });

  it('refuses a bad config, subject or child descriptor', () => {
    expect(refusal(ociImage({ config: { ...ociConfig, size: -5 } }), MediaType.ociManifest)).toContain('config');
    expect(refusal(ociImage({ subject: { ...childManifest, digest: 'sha256:abc' } }), MediaType.ociManifest)).toContain('subject');
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ ...childManifest, digest: 'nope' }] };
    expect(refusal(index, MediaType.ociIndex)).toContain('manifests[0]');
  });

  it('refuses a non-string artifactType and non-string annotations on the manifest', () => {
    refusal(ociImage({ artifactType: ['x'] }), MediaType.ociManifest);
    refusal(ociImage({ annotations: ['x'] }), MediaType.ociManifest);
    refusal(ociImage({ annotations: { a: null } }), MediaType.ociManifest);
  });
});

describe('parseManifest: blobs', () => {
  it('leaves non-distributable layers out of blobs', () => {
    const foreignOci = descriptor('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'windows base', {
      urls: ['https://example.invalid/base.tar.gz'],
    });
    const foreignDocker = descriptor('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'windows base 2');
    const parsed = parseManifest(bytes(ociImage({ layers: [foreignOci, ociLayer, foreignDocker] })), MediaType.ociManifest);
    expect(parsed.blobs.map((b) => b.digest)).toEqual([ociConfig.digest, ociLayer.digest]);
  });

  it('lists the config even when it is the empty descriptor shared by artifacts', () => {
    const empty = descriptor(MediaType.ociEmpty, '{}');
    const parsed = parseManifest(bytes(ociImage({ config: empty, layers: [] })), MediaType.ociManifest);
    expect(parsed.blobs).toEqual([empty]);
  });

  it('refuses an image manifest without layers (an artifact uses an empty list or the empty descriptor)', () => {
    const { layers: _omit, ...body } = ociImage();
    refusal(body, MediaType.ociManifest);
  });

  it('accepts an image manifest with an empty layer list', () => {
    expect(parseManifest(bytes(ociImage({ layers: [] })), MediaType.ociManifest).blobs).toEqual([ociConfig]);
  });

  it('keeps the subject', () => {
    const subject = descriptor(MediaType.ociManifest, '{"subject":true}');
    expect(parseManifest(bytes(ociImage({ subject })), MediaType.ociManifest).subject).toEqual(subject);
  });
});

describe('parseManifest: artifactType', () => {
  it('takes an explicit artifactType over the config media type', () => {
    const body = ociImage({ artifactType: 'application/vnd.example.sbom.v1+json', config: descriptor(MediaType.ociEmpty, '{}') });
    expect(parseManifest(bytes(body), MediaType.ociManifest).artifactType).toBe('application/vnd.example.sbom.v1+json');
  });

  it('falls back to config.mediaType for an image', () => {
    const config = descriptor('application/vnd.example.signature.config.v1+json', '{}');
    expect(parseManifest(bytes(ociImage({ config })), MediaType.ociManifest).artifactType).toBe(config.mediaType);
  });

  it('reports an explicit artifactType of an index, and none otherwise', () => {
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [childManifest] };
    expect(parseManifest(bytes(index), MediaType.ociIndex).artifactType).toBeUndefined();
    const typed = { ...index, artifactType: 'application/vnd.example.bundle' };
    expect(parseManifest(bytes(typed), MediaType.ociIndex).artifactType).toBe('application/vnd.example.bundle');
  });
});

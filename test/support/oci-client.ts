import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/** Media types as clients send them; spelled out here so tests don't lean on src/. */
export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type Algorithm = 'sha256' | 'sha512';

/** Bytes that `fetch` takes as a body (a Buffer over a plain ArrayBuffer). */
export type Bytes = Buffer<ArrayBuffer>;

export function digestOf(bytes: Uint8Array | string, algorithm: Algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Random bytes, so each test pushes content no other test has pushed. */
export function randomBlob(size = 64): Bytes {
  return Buffer.from(randomBytes(size));
}

/** A repository name unique to this call, valid under the spec's grammar. */
export function repoName(prefix = 'repo'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface OciErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** Reads an error response, checking it is `{"errors":[{code,message,detail?}]}` served as JSON. */
export async function readOciError(response: Response): Promise<OciErrorEntry> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  const body = (await response.json()) as { errors?: unknown };
  expect(Object.keys(body)).toEqual(['errors']);
  expect(Array.isArray(body.errors) && body.errors.length > 0).toBe(true);
  for (const entry of body.errors as Array<Record<string, unknown>>) {
    expect(typeof entry.code).toBe('string');
    expect(typeof entry.message).toBe('string');
    expect(Object.keys(entry).every((key) => ['code', 'message', 'detail'].includes(key))).toBe(true);
  }
  return (body.errors as OciErrorEntry[])[0]!;
}

/** Asserts the status and OCI error code of a response and returns the error. */
export async function expectOciError(response: Response, status: number, code: string): Promise<OciErrorEntry> {
  expect(response.status).toBe(status);
  const error = await readOciError(response);
  expect(error.code).toBe(code);
  return error;
}

export interface ImageOptions {
  /** Number of random layers (default 1). */
  layers?: number;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  configMediaType?: string;
}

export interface PushedImage {
  /** The manifest's descriptor (digest and size of the exact bytes pushed). */
  manifest: Descriptor;
  bytes: Bytes;
  config: Descriptor;
  layers: Descriptor[];
}

/** The `/v2` API of one test server, through `fetch`; `authorization` goes on every request when given. */
export class OciClient {
  constructor(
    readonly baseUrl: string,
    readonly authorization?: string,
  ) {}

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.authorization === undefined) return fetch(`${this.baseUrl}${path}`, init);
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', this.authorization);
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
  }

  /** Pushes a blob in one `POST ?digest=` and returns its descriptor. */
  async pushBlob(name: string, bytes: Bytes, mediaType = 'application/octet-stream'): Promise<Descriptor> {
    const digest = digestOf(bytes);
    const response = await this.fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status, await response.text()).toBe(201);
    return { mediaType, digest, size: bytes.length };
  }

  /** Opens an upload session and returns its (relative) Location. */
  async startUpload(name: string): Promise<string> {
    const response = await this.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(response.status).toBe(202);
    return response.headers.get('location')!;
  }

  /** `PUT` a manifest; an empty `mediaType` sends no Content-Type at all. */
  putManifest(name: string, reference: string, body: Buffer | string, mediaType: string): Promise<Response> {
    return this.fetch(`/v2/${name}/manifests/${reference}`, {
      method: 'PUT',
      headers: mediaType === '' ? {} : { 'content-type': mediaType },
      // A Buffer, not a string: fetch would add `text/plain` to a string body.
      body: Buffer.from(body),
    });
  }

  /** Pushes a manifest that must be accepted, and returns its descriptor. */
  async pushManifest(name: string, reference: string, body: Buffer | string, mediaType: string): Promise<Descriptor> {
    const response = await this.putManifest(name, reference, body, mediaType);
    expect(response.status, await response.text()).toBe(201);
    const bytes = Buffer.from(body);
    return { mediaType, digest: digestOf(bytes), size: bytes.length };
  }

  /** Pushes config, layers and an OCI image manifest; `reference` is a tag or the manifest's digest. */
  async pushImage(name: string, reference?: string, options: ImageOptions = {}): Promise<PushedImage> {
    const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed: randomBlob(8).toString('hex') }));
    const config = await this.pushBlob(name, configBytes, options.configMediaType ?? MT.ociConfig);
    const layers: Descriptor[] = [];
    for (let i = 0; i < (options.layers ?? 1); i++) layers.push(await this.pushBlob(name, randomBlob(128), MT.ociLayer));
    const { layers: _count, configMediaType: _type, ...parts } = options;
    const bytes = Buffer.from(JSON.stringify(imageManifest({ config, layers, ...parts })));
    const manifest = await this.pushManifest(name, reference ?? digestOf(bytes), bytes, MT.ociManifest);
    if (options.artifactType !== undefined) manifest.artifactType = options.artifactType;
    return { manifest, bytes, config, layers };
  }
}

/** An OCI image manifest as a plain object. */
export function imageManifest(parts: {
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    ...(parts.artifactType !== undefined ? { artifactType: parts.artifactType } : {}),
    config: parts.config,
    layers: parts.layers,
    ...(parts.subject !== undefined ? { subject: parts.subject } : {}),
    ...(parts.annotations !== undefined ? { annotations: parts.annotations } : {}),
  };
}

/** An OCI image index (or Docker manifest list, with `mediaType`) over `manifests`. */
export function imageIndex(manifests: Descriptor[], mediaType: string = MT.ociIndex): Record<string, unknown> {
  return { schemaVersion: 2, mediaType, manifests };
}

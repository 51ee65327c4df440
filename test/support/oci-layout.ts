import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';

/** OCI image layouts built at run time, so no binary fixture is ever committed. */

export const OciMediaType = {
  layout: '1.0.0',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A file in a layer: given bytes, or `randomBytes` of incompressible data generated while streaming. */
export type LayerEntry = { path: string; content: string | Buffer } | { path: string; randomBytes: number };

export interface LayerSpec {
  entries: LayerEntry[];
  /** gzip keeps the blob as is through `docker://` (registries want compressed layers). Default gzip. */
  compression?: 'gzip' | 'none';
}

export interface ImageSpec {
  layers: LayerSpec[];
  platform?: Platform;
  cmd?: string[];
}

export interface WrittenImage {
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  /** sha256 (hex) of every file in the image, by path. */
  files: Record<string, string>;
}

const BLOCK = 512;
const RANDOM_CHUNK = 1024 * 1024;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A POSIX ustar header for a regular file. */
function tarHeader(path: string, size: number): Buffer {
  if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long for this writer: ${path}`);
  const header = Buffer.alloc(BLOCK);
  header.write(path, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(1_700_000_000, 12), 136, 'ascii');
  header.write(' '.repeat(8), 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return header;
}

/** The tar stream of a layer; `files` receives each file's sha256 (hex) as it is generated. */
async function* tarStream(entries: LayerEntry[], files: Record<string, string>): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if ('randomBytes' in entry) {
      yield tarHeader(entry.path, entry.randomBytes);
      const hash = createHash('sha256');
      for (let left = entry.randomBytes; left > 0; left -= RANDOM_CHUNK) {
        const chunk = randomBytes(Math.min(left, RANDOM_CHUNK));
        hash.update(chunk);
        yield chunk;
      }
      files[entry.path] = hash.digest('hex');
      const pad = (BLOCK - (entry.randomBytes % BLOCK)) % BLOCK;
      if (pad > 0) yield Buffer.alloc(pad);
    } else {
      const content = Buffer.from(entry.content);
      files[entry.path] = createHash('sha256').update(content).digest('hex');
      yield tarHeader(entry.path, content.length);
      yield content;
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad > 0) yield Buffer.alloc(pad);
    }
  }
  yield Buffer.alloc(2 * BLOCK);
}

function tap(hash: ReturnType<typeof createHash>, counter?: { bytes: number }) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      if (counter) counter.bytes += chunk.length;
      yield chunk;
    }
  };
}

/** sha256 digest and size of a file, read as a stream. */
export async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: RANDOM_CHUNK })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(layoutDir, 'blobs', algorithm!, hex!);
}

/** Every blob file of a layout, as digests (`sha256:<hex>`). */
export async function listBlobs(layoutDir: string): Promise<string[]> {
  const names = await readdir(join(layoutDir, 'blobs', 'sha256'));
  return names.map((name) => `sha256:${name}`).sort();
}

export async function readIndexJson(layoutDir: string): Promise<{ manifests: Descriptor[] }> {
  return JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
}

/** The descriptor `index.json` gives for a ref name (`oci:<dir>:<ref>`). */
export async function refDescriptor(layoutDir: string, ref: string): Promise<Descriptor> {
  const index = await readIndexJson(layoutDir);
  const found = index.manifests.find((d) => d.annotations?.[REF_NAME] === ref);
  if (!found) throw new Error(`no ref ${ref} in ${layoutDir}/index.json`);
  return found;
}

/** Writes an OCI image layout: blobs first, `index.json` last (it names the refs). */
export class OciLayoutWriter {
  private readonly refs: Descriptor[] = [];

  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<OciLayoutWriter> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: OciMediaType.layout }));
    return new OciLayoutWriter(dir);
  }

  async writeBlob(content: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    await writeFile(blobPath(this.dir, digest), content);
    return { mediaType, digest, size: content.length };
  }

  async writeJson(value: unknown, mediaType: string): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
    const bytes = Buffer.from(JSON.stringify(value));
    return { descriptor: await this.writeBlob(bytes, mediaType), bytes };
  }

  /** Streams a tar layer (optionally gzipped) to disk; returns its descriptor, diff ID and file digests. */
  async writeLayer(spec: LayerSpec): Promise<{ descriptor: Descriptor; diffId: string; files: Record<string, string> }> {
    const gzip = (spec.compression ?? 'gzip') === 'gzip';
    const temp = join(this.dir, 'blobs', `.layer-${randomBytes(6).toString('hex')}`);
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    const size = { bytes: 0 };
    const files: Record<string, string> = {};
    if (gzip) {
      await pipeline(tarStream(spec.entries, files), tap(diffHash), createGzip({ level: 1 }), tap(blobHash, size), createWriteStream(temp));
    } else {
      await pipeline(tarStream(spec.entries, files), tap(diffHash), tap(blobHash, size), createWriteStream(temp));
    }
    const digest = `sha256:${blobHash.digest('hex')}`;
    await rename(temp, blobPath(this.dir, digest));
    return {
      descriptor: { mediaType: gzip ? OciMediaType.layerGzip : OciMediaType.layerTar, digest, size: size.bytes },
      diffId: `sha256:${diffHash.digest('hex')}`,
      files,
    };
  }

  /** Layers, a config whose `rootfs.diff_ids` match them, and the manifest (not yet tagged). */
  async writeImage(spec: ImageSpec): Promise<WrittenImage> {
    const platform = spec.platform ?? { architecture: 'amd64', os: 'linux' };
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    const files: Record<string, string> = {};
    for (const layer of spec.layers) {
      const written = await this.writeLayer(layer);
      layers.push(written.descriptor);
      diffIds.push(written.diffId);
      Object.assign(files, written.files);
    }
    const { descriptor: config } = await this.writeJson(
      {
        created: '2024-01-01T00:00:00Z',
        ...platform,
        config: { Cmd: spec.cmd ?? ['/bin/true'], Env: ['PATH=/usr/bin:/bin'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `berth e2e layer ${i}` })),
      },
      OciMediaType.config,
    );
    const { descriptor: manifest, bytes: manifestBytes } = await this.writeJson(
      { schemaVersion: 2, mediaType: OciMediaType.manifest, config, layers },
      OciMediaType.manifest,
    );
    return { manifest, manifestBytes, config, layers, files };
  }

  /** An image index over platform manifests (not yet tagged). */
  async writeImageIndex(manifests: Array<{ manifest: Descriptor; platform: Platform }>): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
    return this.writeJson(
      {
        schemaVersion: 2,
        mediaType: OciMediaType.index,
        manifests: manifests.map(({ manifest, platform }) => ({ ...manifest, platform })),
      },
      OciMediaType.index,
    );
  }

  /** Names a manifest or index `ref` in `index.json` (rewritten on every call). */
  async tag(descriptor: Descriptor, ref: string): Promise<void> {
    this.refs.push({ ...descriptor, annotations: { [REF_NAME]: ref } });
    await writeFile(
      join(this.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: OciMediaType.index, manifests: this.refs }),
    );
  }
}

/** Sizes of a layout's blobs, for assertions that a big layer really is big. */
export async function blobSize(layoutDir: string, digest: string): Promise<number> {
  return (await stat(blobPath(layoutDir, digest))).size;
}

/**
 * The regular files of a layer blob (gzip or plain tar) by path, without a leading "./": to read
 * what a real client (buildah, podman) put in a layer. Knows ustar, pax and GNU long names.
 */
export function layerFiles(blob: Buffer): Map<string, Buffer> {
  const tar = blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob;
  const files = new Map<string, Buffer>();
  let longName: string | undefined;
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) => header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1] ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const prefix = field(257, 6) === 'ustar' ? field(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    if (type === '0' || type === '7') files.set(name.replace(/^\.\//, ''), Buffer.from(body));
  }
  return files;
}

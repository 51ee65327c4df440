import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import {
  isNoSpace,
  StorageFullError,
  UploadMissingError,
  type AppendOptions,
  type AppendResult,
  type BlobReader,
  type BlobStore,
  type ByteRange,
  type UploadState,
} from './blob-store.js';

const STREAM_CHUNK = 1024 * 1024;
const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export interface FsBlobStoreOptions {
  /**
   * Bytes of free disk uploads leave alone: the database shares the disk, and logins, deletes and
   * the collector must still be able to write when uploads have filled it.
   */
  reserveBytes?: number;
}

/** Blobs in `<root>/blobs/<algorithm>/<first two hex>/<hex>`, uploads in `<root>/staging/<id>/`. */
export class FsBlobStore implements BlobStore {
  private readonly reserveBytes: number;

  constructor(
    private readonly root: string,
    options: FsBlobStoreOptions = {},
  ) {
    this.reserveBytes = options.reserveBytes ?? 0;
  }

  /** Throws StorageFullError unless `bytes` more fit on the disk above the reserve. */
  private async requireRoom(bytes: number): Promise<void> {
    const { bavail, bsize } = await statfs(this.root);
    const free = bavail * bsize;
    if (free - bytes < this.reserveBytes) {
      throw new StorageFullError(`${free} bytes are free on the data folder's disk, and ${this.reserveBytes} are kept free for the database`);
    }
  }

  private blobPath(digest: Digest): string {
    return join(this.root, 'blobs', digest.algorithm, digest.hex.slice(0, 2), digest.hex);
  }

  async stat(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async openReader(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.blobPath(digest), constants.O_RDONLY);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    let position = range?.start ?? 0;
    const end = range ? range.end + 1 : Infinity;
    return {
      async read(into) {
        const length = Math.min(into.length, end - position);
        if (length <= 0) return 0;
        const { bytesRead } = await handle.read(into, 0, length, position);
        position += bytesRead;
        return bytesRead;
      },
      close: () => handle.close(),
    };
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  /** An upload's own folder: each append writes a file of its own there. */
  private stagingDir(id: string): string {
    // Ids come from the database, but a path is no place to trust that.
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${id}`);
    return join(this.root, 'staging', id);
  }

  private segmentPath(id: string, segment: Segment): string {
    const [name] = segment;
    // A state names only its own upload's files (or the single file of a session older than segments).
    if (name === `uploads/${id}`) return join(this.root, name);
    if (!/^(\d{1,15}|sealed)$/.test(name)) throw new Error(`invalid staged segment ${name} for upload ${id}`);
    return join(this.stagingDir(id), name);
  }

  async createUpload(id: string): Promise<UploadState> {
    const dir = this.stagingDir(id);
    await mkdir(dirname(dir), { recursive: true });
    await this.requireRoom(0);
    try {
      await mkdir(dir);
    } catch (error) {
      if (isNoSpace(error)) throw new StorageFullError('no space left on the data folder\'s disk');
      throw error;
    }
    return formatState([]);
  }

  async append(id: string, state: UploadState, source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<AppendResult> {
    const segments = parseState(state);
    // A session begun before uploads had folders of their own gets one now.
    if (segments.some(([name]) => name === `uploads/${id}`)) await mkdir(this.stagingDir(id), { recursive: true });
    const name = String(await options.reserve());
    const path = this.segmentPath(id, [name, 0]);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      if (isNoSpace(error)) throw new StorageFullError('no space left on the data folder\'s disk');
      throw error;
    }
    let written: number;
    try {
      try {
        // Not synced: a segment is no acknowledged content. The sealed file is synced before the
        // blob is committed, and its digest is checked then, so a segment a power loss cut short
        // fails that upload instead of storing bad bytes. Syncing every chunk wrote each byte of a
        // chunked push to the disk twice and made it half as fast as a monolithic one.
        written = await writeAt(handle, 0, source, options.observe, (bytes) => this.requireRoom(bytes));
      } finally {
        await handle.close();
      }
    } catch (error) {
      // Give the space back at once: the session keeps what it had before this request.
      await rm(path, { force: true });
      if (error instanceof StorageFullError || !isNoSpace(error)) throw error;
      throw new StorageFullError('no space left on the data folder\'s disk');
    }
    if (written === 0) {
      await rm(path, { force: true });
      return { written, state };
    }
    return { written, state: formatState([...segments, [name, written]]) };
  }

  async release(id: string, unused: UploadState, kept: UploadState | undefined): Promise<void> {
    const keep = new Set((kept === undefined ? [] : parseState(kept)).map(([name]) => name));
    for (const segment of parseState(unused)) {
      if (!keep.has(segment[0])) await rm(this.segmentPath(id, segment), { force: true });
    }
  }

  async seal(id: string, state: UploadState): Promise<UploadState> {
    const segments = parseState(state);
    if (segments.length === 1) return state;
    // Several segments (a chunked upload) are copied into one file; they stay as they were.
    const path = this.segmentPath(id, ['sealed', 0]);
    let handle: FileHandle;
    try {
      handle = await open(path, 'w');
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      throw error;
    }
    let size = 0;
    try {
      const source = this.concatenate(id, segments);
      size = await writeAt(handle, 0, source, undefined, (bytes) => this.requireRoom(bytes));
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(path, { force: true });
      throw error;
    }
    await handle.close();
    return formatState([['sealed', size]]);
  }

  async readUpload(id: string, sealed: UploadState): Promise<Readable> {
    const segments = parseState(sealed);
    // Opened before the stream starts, so a missing upload is an error here and not mid-stream.
    for (const segment of segments) {
      try {
        await stat(this.segmentPath(id, segment));
      } catch (error) {
        if (isMissing(error)) throw new UploadMissingError(id);
        throw error;
      }
    }
    return Readable.from(this.concatenate(id, segments));
  }

  async commit(id: string, sealed: UploadState, digest: Digest): Promise<void> {
    const segments = parseState(sealed);
    const to = this.blobPath(digest);
    await mkdir(dirname(to), { recursive: true });
    if (segments.length !== 1) throw new Error(`upload ${id} must be sealed before it is committed`);
    try {
      await rename(this.segmentPath(id, segments[0]!), to);
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      throw error;
    }
    const dir = await open(dirname(to), constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.abortUpload(id);
  }

  async abortUpload(id: string): Promise<void> {
    await rm(this.stagingDir(id), { recursive: true, force: true });
    await rm(join(this.root, 'uploads', id), { force: true });
  }

  async *stagedUploads(before: number): AsyncIterable<string> {
    for (const folder of ['staging', 'uploads']) {
      let names: string[];
      try {
        names = await readdir(join(this.root, folder));
      } catch (error) {
        if (isMissing(error)) continue;
        throw error;
      }
      for (const name of names) {
        if (!UPLOAD_ID.test(name)) continue;
        const info = await stat(join(this.root, folder, name)).catch(() => undefined);
        if (info && info.mtimeMs < before) yield name;
      }
    }
  }

  /** The bytes of `segments`, one after the other, read a MiB at a time. */
  private async *concatenate(id: string, segments: Segment[]): AsyncIterable<Uint8Array> {
    for (const segment of segments) {
      let stream;
      try {
        stream = (await open(this.segmentPath(id, segment), constants.O_RDONLY)).createReadStream({ highWaterMark: STREAM_CHUNK });
      } catch (error) {
        if (isMissing(error)) throw new UploadMissingError(id);
        throw error;
      }
      yield* stream as AsyncIterable<Buffer>;
    }
  }
}

/** One file of an upload: its name (in the upload's folder) and size. */
type Segment = [name: string, size: number];

function formatState(segments: Segment[]): UploadState {
  return JSON.stringify({ segments });
}

function parseState(state: UploadState): Segment[] {
  const parsed = JSON.parse(state) as { segments?: unknown };
  const segments = parsed.segments;
  if (!Array.isArray(segments) || !segments.every((s) => Array.isArray(s) && typeof s[0] === 'string' && Number.isSafeInteger(s[1]))) {
    throw new Error('invalid upload state for the filesystem store');
  }
  return segments as Segment[];
}

/**
 * Copies `source` into the file at `position`, gathering chunks into writes of about 1 MiB and
 * reading the next batch while the previous one is being written. `room` is asked before each
 * write. Once a write cannot be made (no space), the rest of `source` is read and dropped, so the
 * client's request ends normally and its connection stays usable for the error; then it throws.
 */
async function writeAt(
  handle: FileHandle,
  position: number,
  source: AsyncIterable<Uint8Array>,
  observe: ((chunk: Uint8Array) => void) | undefined,
  room: (bytes: number) => Promise<void>,
): Promise<number> {
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let pending: Promise<void> = Promise.resolve();
  let failure: unknown;
  const failed = (error: unknown) => {
    failure ??= error;
  };
  let at = position;
  const flush = async () => {
    const chunks = batch;
    const start = at;
    const length = batchBytes;
    at += batchBytes;
    batch = [];
    batchBytes = 0;
    await pending;
    if (failure !== undefined) return;
    await room(length).catch(failed);
    if (failure !== undefined) return;
    // A failed write is remembered, not thrown: the loop goes on draining the source.
    pending = writeFully(handle, chunks, start, length).catch(failed);
  };
  try {
    for await (const chunk of source) {
      if (failure !== undefined) continue;
      observe?.(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= STREAM_CHUNK) await flush();
    }
    if (batchBytes > 0) await flush();
  } catch (error) {
    // The source failed (a client gone mid-chunk): let the last write settle before giving up.
    await pending;
    throw error;
  }
  await pending;
  if (failure !== undefined) throw failure;
  return at - position;
}

async function writeFully(handle: FileHandle, chunks: Uint8Array[], position: number, length: number): Promise<void> {
  const { bytesWritten } = await handle.writev(chunks, position);
  if (bytesWritten === length) return;
  // Short writes are rare on files, but possible: write what is left.
  const rest = Buffer.concat(chunks).subarray(bytesWritten);
  let done = 0;
  while (done < rest.length) {
    const { bytesWritten: n } = await handle.write(rest, done, rest.length - done, position + bytesWritten + done);
    done += n;
  }
}

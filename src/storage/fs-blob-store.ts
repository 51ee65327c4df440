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
/** Segments an append wrote under its reserved number: the only ones appends may extend. */
const NUMBERED = /^\d{1,15}$/;

const diskFull = () => new StorageFullError('no space left on the data folder\'s disk');

/** A failed write as the store reports it: the disk running out is StorageFullError, whoever said so. */
function asStorageFull(error: unknown): unknown {
  return error instanceof StorageFullError || !isNoSpace(error) ? error : diskFull();
}

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
      if (isNoSpace(error)) throw diskFull();
      throw error;
    }
    return formatState([]);
  }

  async append(id: string, state: UploadState, source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<AppendResult> {
    const segments = parseState(state);
    // A session begun before uploads had folders of their own gets one now.
    if (segments.some(([name]) => name === `uploads/${id}`)) await mkdir(this.stagingDir(id), { recursive: true });
    const extended = await this.extendLast(id, segments, source, options);
    if (extended) return extended;
    const name = String(await options.reserve());
    const path = this.segmentPath(id, [name, 0]);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      if (isNoSpace(error)) throw diskFull();
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
      throw asStorageFull(error);
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

  /**
   * Writes after the last segment's bytes in that segment's own file, so that a chunked upload from
   * one client stays one file and its completion copies nothing. Only while this request holds the
   * segment's lock, and only if nothing was written past what `state` records (a request that lost,
   * or one recorded since from a newer state): then the bytes any state names cannot change.
   * Undefined, with `source` untouched, when it may not: the caller writes a segment of its own.
   */
  private async extendLast(id: string, segments: Segment[], source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<AppendResult | undefined> {
    const last = segments.at(-1);
    if (!last || !NUMBERED.test(last[0])) return undefined;
    const [name, size] = last;
    const lock = await this.lockSegment(id, name);
    if (!lock) return undefined;
    try {
      let handle: FileHandle;
      try {
        handle = await open(this.segmentPath(id, last), 'r+');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      try {
        if ((await handle.stat()).size !== size) return undefined;
        let written: number;
        try {
          written = await writeAt(handle, size, source, options.observe, (bytes) => this.requireRoom(bytes));
        } catch (error) {
          // Give the space back: the file holds what the state records, and the next append may extend it.
          await handle.truncate(size);
          throw asStorageFull(error);
        }
        return { written, state: formatState([...segments.slice(0, -1), [name, size + written]]) };
      } finally {
        await handle.close();
      }
    } finally {
      await rm(lock, { force: true });
    }
  }

  /**
   * Takes the lock file of a numbered segment: only its holder writes into that segment's file.
   * Undefined when another request holds it (or held it and died, or a seal keeps it until the
   * commit) or when the upload is gone. O_EXCL creation works across nodes on a shared folder.
   */
  private async lockSegment(id: string, name: string): Promise<string | undefined> {
    const lock = join(this.stagingDir(id), `${name}.lock`);
    try {
      await (await open(lock, 'wx')).close();
      return lock;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') return undefined;
      if (isNoSpace(error)) throw diskFull();
      throw error;
    }
  }

  /**
   * A single segment is the sealed file itself, once synced and locked for good (the lock goes with
   * the upload's folder), so that no append extends it before the commit renames it. False when
   * it may not be: an append holds it, or bytes lie past what the state records; then it is copied.
   */
  private async sealInPlace(id: string, segment: Segment): Promise<boolean> {
    const [name, size] = segment;
    if (NUMBERED.test(name) && !(await this.lockSegment(id, name))) return false;
    let handle: FileHandle;
    try {
      handle = await open(this.segmentPath(id, segment), constants.O_RDONLY);
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      throw error;
    }
    try {
      if ((await handle.stat()).size !== size) return false;
      // Segments are written unsynced: this is where the bytes reach the disk, before the commit.
      await handle.sync();
      return true;
    } finally {
      await handle.close();
    }
  }

  async seal(id: string, state: UploadState): Promise<UploadState> {
    const segments = parseState(state);
    if (segments.length === 1 && (await this.sealInPlace(id, segments[0]!))) return state;
    // Several segments (or one another request may be writing past) are copied into one file;
    // they stay as they were.
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

  /**
   * The bytes of `segments`, one after the other, read a MiB at a time: each only as far as its
   * recorded size, since an append that was never recorded may have written past it.
   */
  private async *concatenate(id: string, segments: Segment[]): AsyncIterable<Uint8Array> {
    for (const segment of segments) {
      if (segment[1] === 0) continue;
      let stream;
      try {
        const handle = await open(this.segmentPath(id, segment), constants.O_RDONLY);
        stream = handle.createReadStream({ highWaterMark: STREAM_CHUNK, start: 0, end: segment[1] - 1 });
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

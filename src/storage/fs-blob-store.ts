import { constants } from 'node:fs';
import { mkdir, open, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { isNoSpace, StorageFullError, UploadMissingError, type BlobReader, type BlobStore, type ByteRange } from './blob-store.js';

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

/** Blobs in `<root>/blobs/<algorithm>/<first two hex>/<hex>`, uploads in `<root>/uploads/<id>`. */
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

  private uploadPath(id: string): string {
    // Ids come from the database, but a path is no place to trust that.
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${id}`);
    return join(this.root, 'uploads', id);
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

  async createUpload(id: string): Promise<void> {
    const path = this.uploadPath(id);
    await mkdir(dirname(path), { recursive: true });
    await this.requireRoom(0);
    try {
      const handle = await open(path, 'wx');
      await handle.close();
    } catch (error) {
      if (isNoSpace(error)) throw new StorageFullError('no space left on the data folder\'s disk');
      throw error;
    }
  }

  async append(
    id: string,
    offset: number,
    source: AsyncIterable<Uint8Array>,
    observe?: (chunk: Uint8Array) => void,
  ): Promise<number> {
    let handle: FileHandle;
    try {
      handle = await open(this.uploadPath(id), 'r+');
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      throw error;
    }
    try {
      await handle.truncate(offset);
      try {
        const written = await writeAt(handle, offset, source, observe, (bytes) => this.requireRoom(bytes));
        await handle.sync();
        return written;
      } catch (error) {
        if (!(error instanceof StorageFullError) && !isNoSpace(error)) throw error;
        // Give the space back at once: the session keeps what it had before this request.
        await handle.truncate(offset).catch(() => undefined);
        throw error instanceof StorageFullError ? error : new StorageFullError('no space left on the data folder\'s disk');
      }
    } finally {
      await handle.close();
    }
  }

  async readUpload(id: string): Promise<Readable> {
    try {
      const handle = await open(this.uploadPath(id), constants.O_RDONLY);
      return handle.createReadStream({ highWaterMark: STREAM_CHUNK });
    } catch (error) {
      if (isMissing(error)) throw new UploadMissingError(id);
      throw error;
    }
  }

  async commit(id: string, digest: Digest): Promise<void> {
    const from = this.uploadPath(id);
    const to = this.blobPath(digest);
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
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
  }

  async abortUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }
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

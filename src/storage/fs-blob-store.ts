import { constants } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { UploadMissingError, type BlobReader, type BlobStore, type ByteRange } from './blob-store.js';

const STREAM_CHUNK = 1024 * 1024;
const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Blobs in `<root>/blobs/<algorithm>/<first two hex>/<hex>`, uploads in `<root>/uploads/<id>`. */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

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
    const handle = await open(path, 'wx');
    await handle.close();
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
      const written = await writeAt(handle, offset, source, observe);
      await handle.sync();
      return written;
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
 * reading the next batch while the previous one is being written.
 */
async function writeAt(
  handle: FileHandle,
  position: number,
  source: AsyncIterable<Uint8Array>,
  observe: ((chunk: Uint8Array) => void) | undefined,
): Promise<number> {
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let pending: Promise<void> = Promise.resolve();
  let at = position;
  const flush = async () => {
    const chunks = batch;
    const start = at;
    const length = batchBytes;
    at += batchBytes;
    batch = [];
    batchBytes = 0;
    await pending;
    pending = writeFully(handle, chunks, start, length);
    // Handled from now on: a write can fail (a full disk) while the loop waits on a slow source,
    // and an unhandled rejection would end the process. The error is rethrown by the next await.
    pending.catch(() => undefined);
  };
  try {
    for await (const chunk of source) {
      observe?.(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= STREAM_CHUNK) await flush();
    }
    if (batchBytes > 0) await flush();
  } catch (error) {
    // The source failed (a client gone mid-chunk): let the last write settle before giving up.
    await pending.catch(() => undefined);
    throw error;
  }
  await pending;
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

import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createDigester, type Digest } from '../oci/digest.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BackupError } from './errors.js';
import { blobFile } from './layout.js';

const CHUNK = 1024 * 1024;

/** A blob to copy: its digest and the size its database row gives. */
/** Blobs copied at once (backup and restore): enough to hide a small file's latency, few enough for a small disk. */
export const COPY_WIDTH = 4;

export interface BlobEntry {
  digest: Digest;
  size: number;
}

/**
 * Streams the blob from `source` into `targetRoot` (FsBlobStore's layout), a MiB at a time with
 * the next read under way while the last chunk is written, hashing as it goes. The bytes land
 * under their name only once their digest and size are checked, and synced: a blob file in the
 * target is always whole and right. Answers 'missing' when `source` does not have the blob;
 * throws a BackupError when what it has is not the blob. `where` names the source in messages.
 */
export async function copyBlob(source: BlobStore, blob: BlobEntry, targetRoot: string, where: string): Promise<'copied' | 'missing'> {
  const reader = await source.openReader(blob.digest);
  if (!reader) return 'missing';
  const path = blobFile(targetRoot, blob.digest);
  const partial = `${path}.partial`;
  let copied = 0;
  const hash = createDigester(blob.digest.algorithm);
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(partial, 'wx');
    try {
      const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
      let writing: Promise<void> = Promise.resolve();
      try {
        for (let turn = 0; ; turn ^= 1) {
          // The write that last used this buffer was awaited before the previous write began.
          const buffer = buffers[turn]!;
          const read = await reader.read(buffer);
          await writing;
          if (read === 0) break;
          hash.update(buffer.subarray(0, read));
          writing = writeAll(handle, buffer.subarray(0, read), copied);
          copied += read;
        }
      } catch (error) {
        // A failed read leaves a write in flight: let it settle before the file is closed.
        await writing.catch(() => undefined);
        throw error;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    await reader.close();
  }
  const hex = hash.digest('hex');
  if (hex !== blob.digest.hex || copied !== blob.size) {
    await rm(partial, { force: true });
    throw new BackupError(
      `blob ${blob.digest.value} in ${where} is corrupt: its ${copied} bytes hash to ${blob.digest.algorithm}:${hex} (the database says ${blob.size} bytes)`,
    );
  }
  await rename(partial, path);
  return 'copied';
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Runs `work` on every item, `width` at a time; the first failure stops the rest from starting and is thrown. */
export async function eachLimited<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  if (failure) throw failure.error;
}

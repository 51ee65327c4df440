import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/** An inclusive byte range, as HTTP `Range` expresses it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Sequential reads of a committed blob into buffers the caller owns, so a server streaming many
 * gigabytes can reuse a few buffers instead of allocating (and garbage-collecting) one per chunk.
 */
export interface BlobReader {
  /** Fills `into` from where the last read stopped; resolves to the bytes read, 0 at the end. */
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
}

/**
 * Where blob bytes live. Committed blobs are content-addressed and immutable; uploads are staged
 * under an id and become a blob only through `commit`, after the caller has verified the digest.
 * The store knows nothing of repositories: which repository reaches a blob is metadata.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when the store does not hold it. */
  stat(digest: Digest): Promise<number | undefined>;
  /** Opens a committed blob (or a range of it) for `BlobReader` reads; undefined when it is missing. */
  openReader(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined>;
  delete(digest: Digest): Promise<void>;

  /** Throws StorageFullError when the store has no room for a new upload. */
  createUpload(id: string): Promise<void>;
  /**
   * Writes `source` into the upload starting at `offset`, discarding anything past `offset` first
   * (the remains of an interrupted request). Durable when it resolves. Returns the bytes written.
   * `observe` sees every chunk in order as it is written (the caller hashes there). When the
   * store runs out of space it reads `source` to its end (so the client's connection stays
   * usable for the error), removes what it wrote and throws StorageFullError.
   */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>, observe?: (chunk: Uint8Array) => void): Promise<number>;
  /** Streams the staged bytes, to re-hash an upload whose hash state lives on another node. */
  readUpload(id: string): Promise<Readable>;
  /** Makes the staged bytes the blob `digest`, atomically; the upload is gone afterwards. */
  commit(id: string, digest: Digest): Promise<void>;
  abortUpload(id: string): Promise<void>;
}

/**
 * The store cannot take more bytes: its disk is full, or down to the reserve kept free for the
 * database and for deletes. Nothing committed is touched; freeing space makes writes work again.
 */
export class StorageFullError extends Error {
  constructor(detail: string) {
    super(`storage is full: ${detail}`);
  }
}

/** Errors of the operating system or database that mean "no space left". */
export function isNoSpace(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  // ENOSPC and EDQUOT from the filesystem, SQLITE_FULL from SQLite, 53100 (disk_full) from PostgreSQL.
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === '53100';
}

export class UploadMissingError extends Error {
  constructor(id: string) {
    super(`upload ${id} has no staged data`);
  }
}

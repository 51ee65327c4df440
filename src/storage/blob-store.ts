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

  createUpload(id: string): Promise<void>;
  /**
   * Writes `source` into the upload starting at `offset`, discarding anything past `offset` first
   * (the remains of an interrupted request). Durable when it resolves. Returns the bytes written.
   * `observe` sees every chunk in order as it is written (the caller hashes there).
   */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>, observe?: (chunk: Uint8Array) => void): Promise<number>;
  /** Streams the staged bytes, to re-hash an upload whose hash state lives on another node. */
  readUpload(id: string): Promise<Readable>;
  /** Makes the staged bytes the blob `digest`, atomically; the upload is gone afterwards. */
  commit(id: string, digest: Digest): Promise<void>;
  abortUpload(id: string): Promise<void>;
}

export class UploadMissingError extends Error {
  constructor(id: string) {
    super(`upload ${id} has no staged data`);
  }
}

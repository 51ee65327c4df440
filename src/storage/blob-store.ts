import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/** An inclusive byte range, as HTTP `Range` expresses it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where blob bytes live. Committed blobs are content-addressed and immutable; uploads are staged
 * under an id and become a blob only through `commit`, after the caller has verified the digest.
 * The store knows nothing of repositories: which repository reaches a blob is metadata.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when the store does not hold it. */
  stat(digest: Digest): Promise<number | undefined>;
  /** Streams a committed blob (or a range of it); undefined when it is missing. */
  read(digest: Digest, range?: ByteRange): Promise<Readable | undefined>;
  delete(digest: Digest): Promise<void>;

  createUpload(id: string): Promise<void>;
  /**
   * Writes `source` into the upload starting at `offset`, discarding anything past `offset` first
   * (the remains of an interrupted request). Durable when it resolves. Returns the bytes written.
   */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>): Promise<number>;
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

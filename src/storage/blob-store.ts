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
 * Where an upload's staged bytes are, in the store's own terms (files, multipart parts): opaque
 * text the registry keeps in the upload's database row, so that any node can carry on the upload.
 */
export type UploadState = string;

export interface AppendOptions {
  /** Sees every chunk of `source` in order as it is taken (the caller hashes there). */
  observe?: (chunk: Uint8Array) => void;
  /**
   * A number no other request on this upload is given (a counter in the upload's row): the store
   * names the files or parts a request writes with it, so two requests never write the same place.
   */
  reserve(): Promise<number>;
}

export interface AppendResult {
  /** Bytes taken from `source`. */
  written: number;
  /** The upload with those bytes after the ones it had; the upload's state once recorded. */
  state: UploadState;
}

/**
 * Where blob bytes live. Committed blobs are content-addressed and immutable; uploads are staged
 * under an id and become a blob only through `commit`, after the caller has verified the digest.
 * The store knows nothing of repositories: which repository reaches a blob is metadata.
 *
 * Staged bytes never change once a state names them: an append writes to places of its own and
 * answers a new state, which the caller records only if no other request recorded one first
 * (several requests, on several nodes, may write to one upload at once; one wins).
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when the store does not hold it. */
  stat(digest: Digest): Promise<number | undefined>;
  /** Opens a committed blob (or a range of it) for `BlobReader` reads; undefined when it is missing. */
  openReader(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined>;
  delete(digest: Digest): Promise<void>;
  /**
   * A URL from which a client may GET the blob itself (with `Range`) for `seconds`, when the
   * store can hand one out; undefined when bytes must come through the registry.
   */
  signedUrl?(digest: Digest, seconds: number): Promise<string | undefined>;

  /** Starts an upload; throws StorageFullError when the store has no room for one. */
  createUpload(id: string): Promise<UploadState>;
  /**
   * Writes `source` after the bytes of `state`, durably, without touching what `state` names.
   * When the store runs out of space it reads `source` to its end (so the client's connection
   * stays usable for the error), removes what it wrote and throws StorageFullError.
   */
  append(id: string, state: UploadState, source: AsyncIterable<Uint8Array>, options: AppendOptions): Promise<AppendResult>;
  /**
   * Removes what `unused` names and `kept` does not: the leftovers of an append that lost (with
   * `kept` the state recorded instead) or of the state an append replaced.
   */
  release(id: string, unused: UploadState, kept: UploadState | undefined): Promise<void>;
  /**
   * Gathers the bytes of `state` into one staged object, readable and ready to commit; `state`
   * itself stays valid, so a completion that dies half-way can be done again from it.
   */
  seal(id: string, state: UploadState, options: Pick<AppendOptions, 'reserve'>): Promise<UploadState>;
  /** Streams the bytes of a sealed upload, to hash them when the running hash is not on this node. */
  readUpload(id: string, sealed: UploadState): Promise<Readable>;
  /** Makes the sealed bytes the blob `digest`, atomically; the upload is gone afterwards. */
  commit(id: string, sealed: UploadState, digest: Digest): Promise<void>;
  /** Removes everything staged for the upload; removing a missing upload is no error. */
  abortUpload(id: string): Promise<void>;
  /** Uploads with staged data untouched since `before` (ms since the epoch): the janitor's orphan sweep. */
  stagedUploads(before: number): AsyncIterable<string>;
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

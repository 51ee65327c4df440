import { randomUUID, type Hash } from 'node:crypto';
import { createDigester, type Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import { UploadMissingError, type UploadState } from '../storage/blob-store.js';
import type { Blobs } from './blobs.js';
import { ensureRepository, type RegistryContext } from './context.js';
import { RegistryError } from './errors.js';
import type { Quotas } from './quotas.js';

export interface UploadSession {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
  /** The principal that opened it, when there was one. */
  owner: string | null;
}

/** A session as its row has it: what a request must still find there to record its change. */
interface UploadRow extends UploadSession {
  state: UploadState;
  version: number;
  sealedAt: number | null;
}

/** A chunk's declared position: `Content-Range: start-end`, both inclusive. */
export interface ChunkRange {
  start: number;
  end: number;
}

/**
 * The running sha256 of an upload, kept per node as a cache only: it is right for the row's
 * `version` it was made at, and for nothing else (another node took a chunk since: hash again).
 */
interface HashState {
  hash: Hash;
  version: number;
}

/**
 * A completion that began this long ago and did not finish (its node died) may be begun again.
 * Longer than any completion takes: hashing and copying a blob of tens of GiB.
 */
const SEAL_TIMEOUT_MS = 30 * 60 * 1000;

function sessionOf(row: UploadRow): UploadSession {
  return { id: row.id, repository: row.repository, size: row.size, owner: row.owner };
}

/** `Range` value for an upload of `size` bytes, as clients expect it (`0-0` when empty). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

function rangeNotSatisfiable(session: UploadSession, why: string): OciError {
  return new OciError('BLOB_UPLOAD_INVALID', why, {
    status: 416,
    headers: { Range: uploadRange(session.size) },
  });
}

/**
 * Upload sessions: rows in the database, bytes staged in the blob store. Every node may serve any
 * request of a session: a request writes its bytes to places of its own, then records them only if
 * the row is still at the version it read (else it gets 416 with the current Range, and what it
 * wrote is removed), so concurrent requests on one session never mix their bytes.
 */
export class Uploads {
  private readonly hashes = new Map<string, HashState>();

  constructor(
    private readonly ctx: RegistryContext,
    private readonly blobs: Blobs,
    private readonly quotas: Quotas,
  ) {}

  /**
   * Opens a session. `declaredBytes` is what the client says it will send (a monolithic upload's
   * Content-Length): over the storage quota, the session is refused before a byte is taken.
   */
  async start(repository: string, owner?: string, declaredBytes = 0): Promise<UploadSession> {
    await this.quotas.precheck(repository, declaredBytes);
    const now = this.ctx.clock();
    const id = randomUUID();
    const state = await this.ctx.store.createUpload(id);
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        await ensureRepository(trx, repository, now, true);
        await trx
          .insertInto('uploads')
          .values({ id, repository, size: 0, created_at: now, updated_at: now, owner_iam_id: owner ?? null, store_state: state })
          .execute();
      });
    } catch (error) {
      await this.ctx.store.abortUpload(id).catch(() => undefined);
      throw error;
    }
    return { id, repository, size: 0, owner: owner ?? null };
  }

  /** The session, only when it belongs to `repository`: an id alone opens nothing. */
  async get(repository: string, id: string): Promise<UploadSession> {
    return sessionOf(await this.row(repository, id));
  }

  private async row(repository: string, id: string): Promise<UploadRow> {
    const row = await this.ctx.db
      .selectFrom('uploads')
      .select(['id', 'repository', 'size', 'owner_iam_id', 'store_state', 'version', 'sealed_at'])
      .where('id', '=', id)
      .where('repository', '=', repository)
      .executeTakeFirst();
    if (!row) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: id });
    return {
      id: row.id,
      repository: row.repository,
      size: row.size,
      owner: row.owner_iam_id,
      state: row.store_state,
      version: row.version,
      sealedAt: row.sealed_at,
    };
  }

  /** A number no other request on the session gets: it names what the request writes. */
  private reserver(id: string): () => Promise<number> {
    return async () => {
      const row = await this.ctx.db
        .updateTable('uploads')
        .set((eb) => ({ reserved: eb('reserved', '+', 1) }))
        .where('id', '=', id)
        .returning('reserved')
        .executeTakeFirst();
      if (!row) throw new UploadMissingError(id);
      return row.reserved;
    };
  }

  /** What a request that lost the race answers: where the session stands now, or that it is gone. */
  private async lost(repository: string, id: string, why: string): Promise<OciError> {
    const current = await this.row(repository, id);
    if (current.sealedAt !== null) return rangeNotSatisfiable(current, 'the upload is being completed');
    return rangeNotSatisfiable(current, why);
  }

  /**
   * Appends a chunk. With a range, it must start exactly at the current size (else 416 and the
   * current Range); without one, the body is streamed on at the current size. A chunk whose
   * declared length would take the blob past the storage quota is refused before it is read.
   */
  async append(
    repository: string,
    id: string,
    source: AsyncIterable<Uint8Array>,
    range?: ChunkRange,
    declaredBytes = 0,
  ): Promise<UploadSession> {
    const session = await this.row(repository, id);
    if (session.sealedAt !== null) throw rangeNotSatisfiable(session, 'the upload is being completed');
    if (range && range.start !== session.size) {
      throw rangeNotSatisfiable(session, `chunk starts at ${range.start}, upload has ${session.size} bytes`);
    }
    if (declaredBytes > 0) await this.quotas.precheck(repository, session.size + declaredBytes);
    const cached = this.hashes.get(id);
    // Hash a copy: a request that fails or loses must not leave its bytes in the running hash.
    const hash =
      cached && cached.version === session.version ? cached.hash.copy() : session.size === 0 ? createDigester('sha256') : undefined;
    let result;
    try {
      result = await this.ctx.store.append(id, session.state, source, {
        ...(hash ? { observe: (chunk: Uint8Array) => hash.update(chunk) } : {}),
        reserve: this.reserver(id),
      });
    } catch (error) {
      // Staged data gone under this request: the session was completed, cancelled or moved on.
      if (error instanceof UploadMissingError) throw await this.lost(repository, id, 'upload changed meanwhile');
      throw error;
    }
    const { written, state } = result;
    const discard = async () => this.ctx.store.release(id, state, await this.currentState(id));
    if (range && range.end - range.start + 1 !== written) {
      await discard();
      throw rangeNotSatisfiable(session, `Content-Range covers ${range.end - range.start + 1} bytes, body had ${written}`);
    }
    if (written === 0) return sessionOf(session);
    const size = session.size + written;
    const updated = await this.ctx.db
      .updateTable('uploads')
      .set({ size, store_state: state, version: session.version + 1, updated_at: this.ctx.clock() })
      .where('id', '=', id)
      .where('version', '=', session.version)
      .where('sealed_at', 'is', null)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) {
      await discard();
      throw await this.lost(repository, id, 'another request wrote to this upload meanwhile');
    }
    // What the recorded state replaced (a staged tail, say) is nobody's any more.
    await this.ctx.store.release(id, session.state, state).catch(() => undefined);
    if (hash) this.hashes.set(id, { hash, version: session.version + 1 });
    else this.hashes.delete(id);
    return { ...sessionOf(session), size };
  }

  private async currentState(id: string): Promise<UploadState | undefined> {
    const row = await this.ctx.db.selectFrom('uploads').select('store_state').where('id', '=', id).executeTakeFirst();
    return row?.store_state;
  }

  /**
   * Closes the session: appends the final chunk if any, verifies the digest over everything
   * received and commits the blob. A digest mismatch cancels the upload. Once a completion has
   * begun, the session takes no more chunks, and a second completion is refused.
   */
  async complete(
    repository: string,
    id: string,
    digest: Digest,
    finalChunk?: { source: AsyncIterable<Uint8Array>; range?: ChunkRange; declaredBytes?: number },
  ): Promise<number> {
    if (finalChunk) await this.append(repository, id, finalChunk.source, finalChunk.range, finalChunk.declaredBytes);
    const session = await this.row(repository, id);
    const now = this.ctx.clock();
    const began = await this.ctx.db
      .updateTable('uploads')
      .set({ sealed_at: now, updated_at: now, version: session.version + 1 })
      .where('id', '=', id)
      .where('version', '=', session.version)
      .where((eb) => eb.or([eb('sealed_at', 'is', null), eb('sealed_at', '<', now - SEAL_TIMEOUT_MS)]))
      .executeTakeFirst();
    if (began.numUpdatedRows === 0n) throw await this.lost(repository, id, 'another request wrote to this upload meanwhile');
    const cached = this.hashes.get(id);
    this.hashes.delete(id);
    let sealed: UploadState;
    try {
      sealed = await this.ctx.store.seal(id, session.state, { reserve: this.reserver(id) });
      const actual =
        digest.algorithm === 'sha256' && cached?.version === session.version ? cached.hash.digest('hex') : await this.digestOf(id, sealed, digest.algorithm);
      if (actual !== digest.hex) {
        await this.discard(id);
        throw new OciError('DIGEST_INVALID', { expected: digest.value, actual: `${digest.algorithm}:${actual}` });
      }
      await this.blobs.commit(repository, digest, session.size, () => this.ctx.store.commit(id, sealed, digest));
    } catch (error) {
      if (error instanceof UploadMissingError) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: id });
      // Refused (over quota): the staged bytes will never become this blob; they give their space back.
      if (error instanceof RegistryError) await this.discard(id).catch(() => undefined);
      else if (!(error instanceof OciError)) {
        // Anything else (the store failed): the client may try the completion again at once.
        await this.ctx.db.updateTable('uploads').set({ sealed_at: null }).where('id', '=', id).execute().catch(() => undefined);
      }
      throw error;
    }
    await this.ctx.db.deleteFrom('uploads').where('id', '=', id).execute();
    return session.size;
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.get(repository, id);
    await this.discard(id);
  }

  /**
   * Cancels uploads untouched for `maxIdleMs` (abandoned by their clients), a batch at a time,
   * and removes staged data that no session owns (left by a node that died between the store
   * and the database). Returns how many sessions went. Runs on one node at a time.
   */
  async purgeIdle(maxIdleMs: number, batch = 100): Promise<number> {
    const cutoff = this.ctx.clock() - maxIdleMs;
    const idle = await this.ctx.db
      .selectFrom('uploads')
      .select('id')
      .where('updated_at', '<', cutoff)
      .orderBy('updated_at')
      .limit(batch)
      .execute();
    for (const { id } of idle) await this.discard(id);
    await this.sweepOrphans(cutoff, batch);
    return idle.length;
  }

  /** Staged data older than `before` without a session row: aborted multipart uploads, stray files. */
  private async sweepOrphans(before: number, batch: number): Promise<void> {
    let swept = 0;
    for await (const id of this.ctx.store.stagedUploads(before)) {
      const row = await this.ctx.db.selectFrom('uploads').select('id').where('id', '=', id).executeTakeFirst();
      if (row) continue;
      await this.ctx.store.abortUpload(id);
      if (++swept >= batch) return;
    }
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.ctx.db.deleteFrom('uploads').where('id', '=', id).execute();
    await this.ctx.store.abortUpload(id);
  }

  private async digestOf(id: string, sealed: UploadState, algorithm: Digest['algorithm']): Promise<string> {
    // No usable running hash (another node, a restart, or sha512): hash the staged bytes again.
    const hash = createDigester(algorithm);
    for await (const chunk of await this.ctx.store.readUpload(id, sealed)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}

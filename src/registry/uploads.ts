import { randomUUID, type Hash } from 'node:crypto';
import { createDigester, type Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import { UploadMissingError } from '../storage/blob-store.js';
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

/** A chunk's declared position: `Content-Range: start-end`, both inclusive. */
export interface ChunkRange {
  start: number;
  end: number;
}

/**
 * The running sha256 of an upload, kept per node as an optimisation only: `offset` says how many
 * bytes it has seen, and any mismatch with the database (another node took a chunk) means re-hash.
 */
interface HashState {
  hash: Hash;
  offset: number;
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

/** Upload sessions: rows in the database, bytes staged in the blob store. */
export class Uploads {
  private readonly hashes = new Map<string, HashState>();
  /** Uploads with a request writing to them on this node; a second writer would interleave bytes. */
  private readonly busy = new Set<string>();

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
    await this.ctx.store.createUpload(id);
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        await ensureRepository(trx, repository, now, true);
        await trx.insertInto('uploads').values({ id, repository, size: 0, created_at: now, updated_at: now, owner_iam_id: owner ?? null }).execute();
      });
    } catch (error) {
      await this.ctx.store.abortUpload(id).catch(() => undefined);
      throw error;
    }
    return { id, repository, size: 0, owner: owner ?? null };
  }

  /** The session, only when it belongs to `repository`: an id alone opens nothing. */
  async get(repository: string, id: string): Promise<UploadSession> {
    const row = await this.ctx.db
      .selectFrom('uploads')
      .select(['id', 'repository', 'size', 'owner_iam_id'])
      .where('id', '=', id)
      .where('repository', '=', repository)
      .executeTakeFirst();
    if (!row) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: id });
    return { id: row.id, repository: row.repository, size: row.size, owner: row.owner_iam_id };
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
    const session = await this.get(repository, id);
    if (this.busy.has(id)) throw rangeNotSatisfiable(session, 'another request is writing to this upload');
    if (range && range.start !== session.size) {
      throw rangeNotSatisfiable(session, `chunk starts at ${range.start}, upload has ${session.size} bytes`);
    }
    if (declaredBytes > 0) await this.quotas.precheck(repository, session.size + declaredBytes);
    this.busy.add(id);
    try {
      const previous = this.hashes.get(id);
      // Hash a copy: a request that fails half-way must not leave its bytes in the running hash.
      const hash =
        previous && previous.offset === session.size
          ? previous.hash.copy()
          : session.size === 0
            ? createDigester('sha256')
            : undefined;
      let written: number;
      try {
        written = await this.ctx.store.append(id, session.size, source, hash && ((chunk) => hash.update(chunk)));
      } catch (error) {
        if (error instanceof UploadMissingError) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: id });
        throw error;
      }
      if (range && range.end - range.start + 1 !== written) {
        throw rangeNotSatisfiable(session, `Content-Range covers ${range.end - range.start + 1} bytes, body had ${written}`);
      }
      const size = session.size + written;
      const updated = await this.ctx.db
        .updateTable('uploads')
        .set({ size, updated_at: this.ctx.clock() })
        .where('id', '=', id)
        .where('size', '=', session.size)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) throw rangeNotSatisfiable(await this.get(repository, id), 'upload changed meanwhile');
      if (hash) this.hashes.set(id, { hash, offset: size });
      else this.hashes.delete(id);
      return { ...session, size };
    } finally {
      this.busy.delete(id);
    }
  }

  /**
   * Closes the session: appends the final chunk if any, verifies the digest over everything
   * received and commits the blob. A digest mismatch cancels the upload.
   */
  async complete(
    repository: string,
    id: string,
    digest: Digest,
    finalChunk?: { source: AsyncIterable<Uint8Array>; range?: ChunkRange; declaredBytes?: number },
  ): Promise<number> {
    // Through append even without a final chunk: it cuts off staged bytes past the recorded size
    // (left by a refused or interrupted chunk), which must not become part of the blob.
    let session = await this.append(repository, id, finalChunk?.source ?? noBytes(), finalChunk?.range, finalChunk?.declaredBytes);
    if (this.busy.has(id)) throw rangeNotSatisfiable(session, 'another request is writing to this upload');
    this.busy.add(id);
    try {
      session = await this.get(repository, id);
      const actual = await this.digestOf(session, digest.algorithm);
      if (actual !== digest.hex) {
        await this.discard(id);
        throw new OciError('DIGEST_INVALID', { expected: digest.value, actual: `${digest.algorithm}:${actual}` });
      }
      try {
        await this.blobs.commit(repository, digest, session.size, () => this.ctx.store.commit(id, digest));
      } catch (error) {
        if (error instanceof UploadMissingError) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: id });
        // Refused (over quota): the staged bytes will never become this blob; they give their space back.
        if (error instanceof RegistryError) await this.discard(id).catch(() => undefined);
        throw error;
      }
      await this.ctx.db.deleteFrom('uploads').where('id', '=', id).execute();
      this.hashes.delete(id);
      return session.size;
    } finally {
      this.busy.delete(id);
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.get(repository, id);
    await this.discard(id);
  }

  /**
   * Cancels uploads untouched for `maxIdleMs` (abandoned by their clients), a batch at a time.
   * Returns how many went. Any node may run it; a session that is mid-request here is left alone.
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
    let purged = 0;
    for (const { id } of idle) {
      if (this.busy.has(id)) continue;
      await this.discard(id);
      purged += 1;
    }
    return purged;
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.ctx.db.deleteFrom('uploads').where('id', '=', id).execute();
    await this.ctx.store.abortUpload(id);
  }

  private async digestOf(session: UploadSession, algorithm: Digest['algorithm']): Promise<string> {
    const state = this.hashes.get(session.id);
    if (algorithm === 'sha256' && state && state.offset === session.size) return state.hash.copy().digest('hex');
    // No usable running hash (another node, a restart, or sha512): hash the staged bytes again.
    const hash = createDigester(algorithm);
    let stream;
    try {
      stream = await this.ctx.store.readUpload(session.id);
    } catch (error) {
      if (error instanceof UploadMissingError) throw new OciError('BLOB_UPLOAD_UNKNOWN', { upload: session.id });
      throw error;
    }
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}

async function* noBytes(): AsyncIterable<Uint8Array> {}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDigest, type Digest } from '../../../src/oci/digest.js';
import { UploadMissingError, type BlobReader, type BlobStore, type UploadState } from '../../../src/storage/blob-store.js';

/** A store to test, and how to throw it away afterwards. */
export interface BlobStoreFixture {
  store: BlobStore;
  close(): Promise<void>;
}

export interface BlobStoreSuiteOptions {
  /**
   * The most memory a 1 GiB streamed append may hold at once. Drivers that stage parts in
   * memory (S3 multipart) may raise it, never to anything near the stream's size.
   */
  maxBufferedBytes?: number;
  /** Bytes some tests send to cross the driver's own boundaries (S3: several parts). */
  multiPartBytes?: number;
}

/**
 * An upload as the registry drives it: the state its row records and the counter that names
 * each request's files. `append` records the new state, as a request that won would.
 */
class Staged {
  state!: UploadState;
  private counter = 0;
  readonly reserve = async () => ++this.counter;

  constructor(
    private readonly store: BlobStore,
    readonly id: string = randomUUID(),
  ) {}

  async start(): Promise<this> {
    this.state = await this.store.createUpload(this.id);
    return this;
  }

  /** Appends without recording: what a request does before it knows whether it won. */
  write(source: AsyncIterable<Uint8Array>, observe?: (chunk: Uint8Array) => void, from = this.state) {
    return this.store.append(this.id, from, source, { reserve: this.reserve, ...(observe ? { observe } : {}) });
  }

  append(...parts: Array<Uint8Array | string>): Promise<number> {
    return this.appendFrom(chunks(...parts));
  }

  async appendFrom(source: AsyncIterable<Uint8Array>): Promise<number> {
    const before = this.state;
    const { written, state } = await this.write(source);
    this.state = state;
    await this.store.release(this.id, before, state);
    return written;
  }

  seal(state = this.state): Promise<UploadState> {
    return this.store.seal(this.id, state, { reserve: this.reserve });
  }

  async read(state = this.state): Promise<Buffer> {
    return readAll(await this.store.readUpload(this.id, await this.seal(state)));
  }

  async commit(digest: Digest): Promise<void> {
    await this.store.commit(this.id, await this.seal(), digest);
  }
}

async function stagedAmong(ids: string[], store: BlobStore): Promise<string[]> {
  const found: string[] = [];
  for await (const id of store.stagedUploads(Date.now() + 60_000)) if (ids.includes(id)) found.push(id);
  return found;
}


const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): Digest {
  const parsed = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.digest;
}

async function* chunks(...parts: Array<Uint8Array | string>): AsyncIterable<Uint8Array> {
  for (const part of parts) {
    await Promise.resolve();
    yield typeof part === 'string' ? Buffer.from(part) : part;
  }
}

/** Everything a BlobReader yields, read through a small buffer so reads end mid-buffer too. */
async function drain(reader: BlobReader | undefined): Promise<Buffer> {
  if (reader === undefined) throw new Error('expected a reader, got undefined');
  const parts: Buffer[] = [];
  const into = Buffer.alloc(64 * 1024 + 7);
  try {
    for (let n = await reader.read(into); n > 0; n = await reader.read(into)) parts.push(Buffer.from(into.subarray(0, n)));
  } finally {
    await reader.close();
  }
  return Buffer.concat(parts);
}

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  if (stream === undefined) throw new Error('expected a stream, got undefined');
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Cuts `bytes` into chunks of uneven sizes, so batching boundaries fall everywhere. */
function unevenChunks(bytes: Buffer): Buffer[] {
  const sizes = [1, 7, 4096, 65_537, 1 << 20, 3, 300_000];
  const result: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    result.push(bytes.subarray(at, at + size));
    at += size;
  }
  return result;
}

async function expectUploadMissing(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(UploadMissingError);
}

/** A full garbage collection, so memory figures show what is held rather than what is not yet swept. */
function garbageCollector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heldBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * The behaviour every BlobStore driver must have. `makeStore` gives a fresh, empty store for each
 * test; the suite never looks behind the interface.
 */
export function describeBlobStore(
  name: string,
  makeStore: () => Promise<BlobStoreFixture>,
  options: BlobStoreSuiteOptions = {},
): void {
  const big = options.multiPartBytes ?? 3 * MiB + 17;

  describe(`BlobStore: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => fixture.close());

    const upload = () => new Staged(store).start();

    /** Stages `bytes` through an upload and commits them; returns the digest. */
    async function commitBlob(bytes: Buffer): Promise<Digest> {
      const digest = sha256(bytes);
      const staged = await upload();
      await staged.append(bytes);
      await staged.commit(digest);
      return digest;
    }

    describe('committed blobs', () => {
      it('knows nothing of a blob it was never given', async () => {
        const digest = sha256(randomBytes(16));
        expect(await store.stat(digest)).toBeUndefined();
        expect(await store.openReader(digest)).toBeUndefined();
        expect(await store.openReader(digest, { start: 0, end: 0 })).toBeUndefined();
      });

      it('stats and reads a committed blob', async () => {
        const bytes = randomBytes(10_000);
        const digest = await commitBlob(bytes);
        expect(await store.stat(digest)).toBe(bytes.length);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
      });

      it('reads inclusive byte ranges', async () => {
        const bytes = randomBytes(4096);
        const digest = await commitBlob(bytes);
        for (const [start, end] of [
          [0, 0],
          [2, 5],
          [1000, 3999],
          [4095, 4095],
          [0, 4095],
        ] as const) {
          const part = await drain(await store.openReader(digest, { start, end }));
          expect(part.equals(bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
        }
      });

      it('reads through a BlobReader into caller-owned buffers, whole and by range', async () => {
        const bytes = randomBytes(10_000);
        const digest = await commitBlob(bytes);
        const read = async (range?: { start: number; end: number }) => {
          const reader = await store.openReader(digest, range);
          expect(reader).toBeDefined();
          const parts: Buffer[] = [];
          const into = Buffer.alloc(3000);
          for (let n = await reader!.read(into); n > 0; n = await reader!.read(into)) parts.push(Buffer.from(into.subarray(0, n)));
          await reader!.close();
          return Buffer.concat(parts);
        };
        expect((await read()).equals(bytes)).toBe(true);
        expect((await read({ start: 2500, end: 7499 })).equals(bytes.subarray(2500, 7500))).toBe(true);
        expect((await read({ start: 9999, end: 9999 })).equals(bytes.subarray(9999))).toBe(true);
        expect(await store.openReader(sha256(randomBytes(8)))).toBeUndefined();
      });

      it('holds an empty blob', async () => {
        const digest = await commitBlob(Buffer.alloc(0));
        expect(await store.stat(digest)).toBe(0);
        expect(await drain(await store.openReader(digest))).toHaveLength(0);
      });

      it('keeps blobs apart by digest', async () => {
        const a = randomBytes(100);
        const b = randomBytes(200);
        const [da, db] = [await commitBlob(a), await commitBlob(b)];
        expect((await drain(await store.openReader(da))).equals(a)).toBe(true);
        expect((await drain(await store.openReader(db))).equals(b)).toBe(true);
      });

      it('deletes a blob, and deleting again or deleting a missing blob is no error', async () => {
        const keep = await commitBlob(randomBytes(10));
        const digest = await commitBlob(randomBytes(10));
        await store.delete(digest);
        expect(await store.stat(digest)).toBeUndefined();
        expect(await store.openReader(digest)).toBeUndefined();
        await expect(store.delete(digest)).resolves.toBeUndefined();
        await expect(store.delete(sha256(randomBytes(8)))).resolves.toBeUndefined();
        expect(await store.stat(keep)).toBe(10);
      });

      it('stores a sha512 blob', async () => {
        const bytes = randomBytes(300);
        const parsed = parseDigest(`sha512:${createHash('sha512').update(bytes).digest('hex')}`);
        if (!parsed.ok) throw new Error(parsed.reason);
        const staged = await upload();
        await staged.append(bytes);
        await staged.commit(parsed.digest);
        expect(await store.stat(parsed.digest)).toBe(300);
        expect(await store.stat(sha256(bytes))).toBeUndefined();
      });
    });

    describe('uploads', () => {
      it('starts empty', async () => {
        const staged = await upload();
        expect(await staged.read()).toHaveLength(0);
      });

      it('shows every appended chunk, in order, to the observer', async () => {
        const staged = await upload();
        const seen: Buffer[] = [];
        const { written } = await staged.write(chunks('ab', 'cde', 'f'), (chunk) => seen.push(Buffer.from(chunk)));
        expect(written).toBe(6);
        expect(Buffer.concat(seen).toString()).toBe('abcdef');
        await store.abortUpload(staged.id);
      });

      it('appends chunk after chunk and reads the staged bytes back', async () => {
        const staged = await upload();
        expect(await staged.append('hello', ' ')).toBe(6);
        expect(await staged.append('wor', 'ld')).toBe(5);
        expect(await staged.append()).toBe(0);
        expect((await staged.read()).toString()).toBe('hello world');
      });

      it('appends a large body in uneven chunks exactly, and small chunks after it', async () => {
        const bytes = randomBytes(big);
        const staged = await upload();
        expect(await staged.append(...unevenChunks(bytes))).toBe(bytes.length);
        expect(await staged.append('x', 'yz')).toBe(3);
        expect((await staged.read()).equals(Buffer.concat([bytes, Buffer.from('xyz')]))).toBe(true);
      });

      it('leaves the bytes of a state alone: two appends from one state each see only their own', async () => {
        const staged = await upload();
        await staged.append(randomBytes(1000));
        const base = await staged.read();
        const mine = randomBytes(big);
        const theirs = randomBytes(7);
        const [a, b] = await Promise.all([staged.write(chunks(...unevenChunks(mine))), staged.write(chunks(theirs))]);
        expect((await staged.read(a.state)).equals(Buffer.concat([base, mine]))).toBe(true);
        expect((await staged.read(b.state)).equals(Buffer.concat([base, theirs]))).toBe(true);
        // The first to record wins; the other's leftovers go and the winner's bytes stay whole.
        await store.release(staged.id, b.state, a.state);
        staged.state = a.state;
        const digest = sha256(Buffer.concat([base, mine]));
        await staged.commit(digest);
        expect((await drain(await store.openReader(digest))).equals(Buffer.concat([base, mine]))).toBe(true);
      });

      it('lets a failed append be retried from the same state', async () => {
        const staged = await upload();
        await staged.append('first ');
        const broken = (async function* () {
          yield Buffer.alloc(big, 0x78);
          throw new Error('client went away');
        })();
        await expect(staged.write(broken)).rejects.toThrow('client went away');
        expect(await staged.append('second')).toBe(6);
        expect((await staged.read()).toString()).toBe('first second');
      });

      it('commits exactly the recorded bytes after appends that wrote and were never recorded', async () => {
        const staged = await upload();
        const first = randomBytes(big);
        await staged.append(first);
        // A client gone mid-chunk, and a request that lost the race: both wrote, neither is recorded.
        const broken = (async function* () {
          yield randomBytes(big);
          throw new Error('client went away');
        })();
        await expect(staged.write(broken)).rejects.toThrow('client went away');
        const lost = await staged.write(chunks(randomBytes(big)));
        const second = randomBytes(big);
        await staged.append(second);
        await store.release(staged.id, lost.state, staged.state);
        const bytes = Buffer.concat([first, second]);
        expect((await staged.read()).equals(bytes)).toBe(true);
        await staged.commit(sha256(bytes));
        expect((await drain(await store.openReader(sha256(bytes)))).equals(bytes)).toBe(true);
      });

      it('keeps uploads apart', async () => {
        const [a, b] = [await upload(), await upload()];
        await a.append('aaa');
        await b.append('bb');
        await a.append('A');
        expect((await a.read()).toString()).toBe('aaaA');
        expect((await b.read()).toString()).toBe('bb');
      });

      it('seals again after a completion that died: the recorded state still holds the bytes', async () => {
        const bytes = randomBytes(big);
        const staged = await upload();
        await staged.append(bytes.subarray(0, 1000));
        await staged.append(bytes.subarray(1000));
        await staged.seal();
        expect((await staged.read()).equals(bytes)).toBe(true);
        await staged.commit(sha256(bytes));
        expect(await store.stat(sha256(bytes))).toBe(bytes.length);
      });

      it('commits: the blob appears and the upload is gone', async () => {
        const bytes = randomBytes(5000);
        const digest = sha256(bytes);
        const staged = await upload();
        await staged.append(bytes.subarray(0, 1000));
        await staged.append(bytes.subarray(1000));
        const recorded = staged.state;
        expect(await store.stat(digest)).toBeUndefined();
        const sealed = await staged.seal();
        await store.commit(staged.id, sealed, digest);
        expect(await store.stat(digest)).toBe(5000);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
        await expectUploadMissing(store.readUpload(staged.id, sealed));
        await expectUploadMissing(staged.write(chunks('more'), undefined, recorded));
        await expectUploadMissing(store.commit(staged.id, sealed, digest));
        expect(await stagedAmong([staged.id], store)).toEqual([]);
        expect(await store.stat(digest)).toBe(5000);
      });

      it('aborts: the upload is gone and aborting again is no error', async () => {
        const staged = await upload();
        await staged.append('doomed');
        const sealed = await staged.seal();
        await store.abortUpload(staged.id);
        await expectUploadMissing(store.readUpload(staged.id, sealed));
        await expectUploadMissing(staged.write(chunks('x')));
        await expectUploadMissing(store.commit(staged.id, sealed, sha256(Buffer.from('doomed'))));
        await expect(store.abortUpload(staged.id)).resolves.toBeUndefined();
        expect(await store.stat(sha256(Buffer.from('doomed')))).toBeUndefined();
      });

      it('lists staged uploads for the janitor, until they are committed or aborted', async () => {
        const [a, b, c] = [await upload(), await upload(), await upload()];
        await a.append(randomBytes(big));
        await b.append('b');
        await c.append('c');
        expect((await stagedAmong([a.id, b.id, c.id], store)).sort()).toEqual([a.id, b.id, c.id].sort());
        const none: string[] = [];
        for await (const id of store.stagedUploads(Date.now() - 3_600_000)) if ([a.id, b.id, c.id].includes(id)) none.push(id);
        expect(none).toEqual([]);
        await a.commit(sha256(await a.read()));
        await store.abortUpload(b.id);
        expect(await stagedAmong([a.id, b.id, c.id], store)).toEqual([c.id]);
      });

      it('lets several uploads of the same content commit at once', async () => {
        const bytes = randomBytes(256 * 1024);
        const digest = sha256(bytes);
        const uploads = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const staged = await upload();
            await staged.append(...unevenChunks(bytes));
            return staged;
          }),
        );
        const results = await Promise.allSettled(uploads.map((staged) => staged.commit(digest)));
        expect(results.map((r) => r.status)).toEqual(uploads.map(() => 'fulfilled'));
        expect(await store.stat(digest)).toBe(bytes.length);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
      });

      it('commits over a blob it already holds without disturbing readers', async () => {
        const bytes = randomBytes(2 * MiB);
        const digest = await commitBlob(bytes);
        const reader = await store.openReader(digest);
        const staged = await upload();
        await staged.append(bytes);
        await staged.commit(digest);
        expect((await drain(reader)).equals(bytes)).toBe(true);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
      });

      it('streams a 1 GiB append without holding it in memory', async () => {
        const gc = garbageCollector();
        const total = 1024 * MiB;
        const chunkSize = 64 * 1024;
        // The store holds a MiB or two; the rest of the margin is the heap of a test worker on a busy machine.
        const limit = options.maxBufferedBytes ?? 32 * MiB;
        const hash = createHash('sha256');
        let produced = 0;
        let peak = 0;
        gc();
        const baseline = heldBytes();
        // Fresh buffers every time: a store that kept them would hold the whole gigabyte.
        async function* generate(): AsyncIterable<Uint8Array> {
          for (let i = 0; produced < total; i++) {
            const chunk = Buffer.allocUnsafe(chunkSize).fill(i & 0xff);
            chunk.writeUInt32BE(i, 0);
            hash.update(chunk);
            produced += chunk.length;
            yield chunk;
            if (produced % (32 * MiB) === 0 && produced >= 32 * MiB) {
              gc();
              peak = Math.max(peak, heldBytes() - baseline);
            }
          }
        }
        const staged = await upload();
        expect(await staged.appendFrom(generate())).toBe(total);
        expect(peak, `held ${(peak / MiB).toFixed(1)} MiB while streaming`).toBeLessThan(limit);

        const expected = hash.digest('hex');
        const reread = createHash('sha256');
        const sealed = await staged.seal();
        for await (const part of await store.readUpload(staged.id, sealed)) reread.update(part as Buffer);
        expect(reread.digest('hex')).toBe(expected);
        await store.abortUpload(staged.id);
      }, 300_000);
    });
  });
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDigest, type Digest } from '../../../src/oci/digest.js';
import { UploadMissingError, type BlobReader, type BlobStore } from '../../../src/storage/blob-store.js';

/** A store to test, and how to throw it away afterwards. */
export interface BlobStoreFixture {
  store: BlobStore;
  close(): Promise<void>;
}

export interface BlobStoreSuiteOptions {
  /**
   * The most memory a 64 MiB streamed append may hold at once. Drivers that stage parts in
   * memory (S3 multipart) may raise it, never to anything near the stream's size.
   */
  maxBufferedBytes?: number;
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
  describe(`BlobStore: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => fixture.close());

    /** Stages `bytes` through an upload and commits them; returns the digest. */
    async function commitBlob(bytes: Buffer): Promise<Digest> {
      const id = randomUUID();
      const digest = sha256(bytes);
      await store.createUpload(id);
      await store.append(id, 0, chunks(bytes));
      await store.commit(id, digest);
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
        const drain = async (range?: { start: number; end: number }) => {
          const reader = await store.openReader(digest, range);
          expect(reader).toBeDefined();
          const parts: Buffer[] = [];
          const into = Buffer.alloc(3000);
          for (let n = await reader!.read(into); n > 0; n = await reader!.read(into)) parts.push(Buffer.from(into.subarray(0, n)));
          await reader!.close();
          return Buffer.concat(parts);
        };
        expect((await drain()).equals(bytes)).toBe(true);
        expect((await drain({ start: 2500, end: 7499 })).equals(bytes.subarray(2500, 7500))).toBe(true);
        expect((await drain({ start: 9999, end: 9999 })).equals(bytes.subarray(9999))).toBe(true);
        expect(await store.openReader(sha256(randomBytes(8)))).toBeUndefined();
      });

      it('shows every appended chunk, in order, to the observer', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        const seen: Buffer[] = [];
        const written = await store.append(id, 0, chunks('ab', 'cde', 'f'), (chunk) => seen.push(Buffer.from(chunk)));
        expect(written).toBe(6);
        expect(Buffer.concat(seen).toString()).toBe('abcdef');
        await store.abortUpload(id);
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
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks(bytes));
        await store.commit(id, parsed.digest);
        expect(await store.stat(parsed.digest)).toBe(300);
        expect(await store.stat(sha256(bytes))).toBeUndefined();
      });
    });

    describe('uploads', () => {
      it('starts empty', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        expect(await readAll(await store.readUpload(id))).toHaveLength(0);
      });

      it('appends at offsets and reads the staged bytes back', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        expect(await store.append(id, 0, chunks('hello', ' '))).toBe(6);
        expect(await store.append(id, 6, chunks('wor', 'ld'))).toBe(5);
        expect(await store.append(id, 11, chunks())).toBe(0);
        expect((await readAll(await store.readUpload(id))).toString()).toBe('hello world');
      });

      it('appends a multi-MiB body in uneven chunks exactly', async () => {
        const bytes = randomBytes(3 * MiB + 17);
        const id = randomUUID();
        await store.createUpload(id);
        expect(await store.append(id, 0, chunks(...unevenChunks(bytes)))).toBe(bytes.length);
        expect((await readAll(await store.readUpload(id))).equals(bytes)).toBe(true);
      });

      it('discards what lies past the offset before writing', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks('hello world, and leftovers'));
        expect(await store.append(id, 5, chunks('!!'))).toBe(2);
        expect((await readAll(await store.readUpload(id))).toString()).toBe('hello!!');
        expect(await store.append(id, 3, chunks())).toBe(0);
        expect((await readAll(await store.readUpload(id))).toString()).toBe('hel');
      });

      it('lets a failed append be retried at the same offset', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks('first '));
        const broken = (async function* () {
          yield Buffer.alloc(2 * MiB, 0x78);
          throw new Error('client went away');
        })();
        await expect(store.append(id, 6, broken)).rejects.toThrow('client went away');
        expect(await store.append(id, 6, chunks('second'))).toBe(6);
        expect((await readAll(await store.readUpload(id))).toString()).toBe('first second');
      });

      it('keeps uploads apart', async () => {
        const [a, b] = [randomUUID(), randomUUID()];
        await store.createUpload(a);
        await store.createUpload(b);
        await store.append(a, 0, chunks('aaa'));
        await store.append(b, 0, chunks('bb'));
        await store.append(a, 3, chunks('A'));
        expect((await readAll(await store.readUpload(a))).toString()).toBe('aaaA');
        expect((await readAll(await store.readUpload(b))).toString()).toBe('bb');
      });

      it('commits: the blob appears and the upload is gone', async () => {
        const bytes = randomBytes(5000);
        const digest = sha256(bytes);
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks(bytes.subarray(0, 1000)));
        await store.append(id, 1000, chunks(bytes.subarray(1000)));
        expect(await store.stat(digest)).toBeUndefined();
        await store.commit(id, digest);
        expect(await store.stat(digest)).toBe(5000);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
        await expectUploadMissing(store.readUpload(id));
        await expectUploadMissing(store.append(id, 5000, chunks('more')));
        await expectUploadMissing(store.commit(id, digest));
        expect(await store.stat(digest)).toBe(5000);
      });

      it('aborts: the upload is gone and aborting again is no error', async () => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks('doomed'));
        await store.abortUpload(id);
        await expectUploadMissing(store.readUpload(id));
        await expectUploadMissing(store.append(id, 0, chunks('x')));
        await expectUploadMissing(store.commit(id, sha256(Buffer.from('doomed'))));
        await expect(store.abortUpload(id)).resolves.toBeUndefined();
        expect(await store.stat(sha256(Buffer.from('doomed')))).toBeUndefined();
      });

      it('answers UploadMissingError for an upload never created', async () => {
        const id = randomUUID();
        await expectUploadMissing(store.append(id, 0, chunks('x')));
        await expectUploadMissing(store.readUpload(id));
        await expectUploadMissing(store.commit(id, sha256(Buffer.from('x'))));
        await expect(store.abortUpload(id)).resolves.toBeUndefined();
      });

      it('lets several uploads of the same content commit at once', async () => {
        const bytes = randomBytes(256 * 1024);
        const digest = sha256(bytes);
        const ids = Array.from({ length: 6 }, () => randomUUID());
        await Promise.all(
          ids.map(async (id) => {
            await store.createUpload(id);
            await store.append(id, 0, chunks(...unevenChunks(bytes)));
          }),
        );
        const results = await Promise.allSettled(ids.map((id) => store.commit(id, digest)));
        expect(results.map((r) => r.status)).toEqual(ids.map(() => 'fulfilled'));
        expect(await store.stat(digest)).toBe(bytes.length);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
        for (const id of ids) await expectUploadMissing(store.readUpload(id));
      });

      it('commits over a blob it already holds without disturbing readers', async () => {
        const bytes = randomBytes(2 * MiB);
        const digest = await commitBlob(bytes);
        const reader = await store.openReader(digest);
        const id = randomUUID();
        await store.createUpload(id);
        await store.append(id, 0, chunks(bytes));
        await store.commit(id, digest);
        expect((await drain(reader)).equals(bytes)).toBe(true);
        expect((await drain(await store.openReader(digest))).equals(bytes)).toBe(true);
      });

      it('streams a 64 MiB append without holding it in memory', async () => {
        const gc = garbageCollector();
        const total = 64 * MiB;
        const chunkSize = 64 * 1024;
        const limit = options.maxBufferedBytes ?? 16 * MiB;
        const hash = createHash('sha256');
        let produced = 0;
        let peak = 0;
        gc();
        const baseline = heldBytes();
        // Fresh buffers every time: a store that kept them would hold all 64 MiB.
        async function* generate(): AsyncIterable<Uint8Array> {
          for (let i = 0; produced < total; i++) {
            const chunk = Buffer.allocUnsafe(chunkSize).fill(i & 0xff);
            chunk.writeUInt32BE(i, 0);
            hash.update(chunk);
            produced += chunk.length;
            yield chunk;
            if (produced % (4 * MiB) === 0 && produced >= 8 * MiB) {
              gc();
              peak = Math.max(peak, heldBytes() - baseline);
            }
          }
        }
        const id = randomUUID();
        await store.createUpload(id);
        expect(await store.append(id, 0, generate())).toBe(total);
        expect(peak, `held ${(peak / MiB).toFixed(1)} MiB while streaming`).toBeLessThan(limit);

        const expected = hash.digest('hex');
        const reread = createHash('sha256');
        for await (const part of await store.readUpload(id)) reread.update(part as Buffer);
        expect(reread.digest('hex')).toBe(expected);
        const parsed = parseDigest(`sha256:${expected}`);
        if (!parsed.ok) throw new Error(parsed.reason);
        await store.commit(id, parsed.digest);
        expect(await store.stat(parsed.digest)).toBe(total);
      }, 120_000);
    });
  });
}

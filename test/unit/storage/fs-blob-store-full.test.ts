import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageFullError } from '../../../src/storage/blob-store.js';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { describeRun, run } from '../../support/run.js';

const MiB = 1024 * 1024;

/** A source that counts what was read from it: the store must read it to its end even when it cannot write. */
function counted(chunks: number, size: number): { source: AsyncIterable<Uint8Array>; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    source: (async function* () {
      for (let i = 0; i < chunks; i++) {
        const chunk = randomBytes(size);
        read += chunk.length;
        yield chunk;
      }
    })(),
  };
}

let counter = 0;
const reserve = async () => ++counter;

/** The store on a real, tiny filesystem (tmpfs, as root), filled to its last byte. */
describe('FsBlobStore on a full disk', () => {
  let root: string;
  let store: FsBlobStore;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-full-store-'));
    const mount = await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', root]);
    // Never a skip: without the mount this test would prove nothing.
    if (mount.code !== 0) throw new Error(`this test needs to mount a tmpfs (run it as root)\n${describeRun(mount)}`);
    store = new FsBlobStore(root, { reserveBytes: 0 });
  });
  /** Bytes the upload's folder holds on the disk. */
  async function stagedBytes(id: string): Promise<number> {
    const dir = join(root, 'staging', id);
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
    return total;
  }

  afterAll(async () => {
    await run('umount', [root]);
    await rm(root, { recursive: true, force: true });
  });

  it('with no reserve, an append that does not fit reads its source to the end, gives back what it wrote and throws StorageFullError; the session goes on once space is free', async () => {
    const id = randomUUID();
    const { state } = await store.append(id, await store.createUpload(id), counted(1, MiB).source, { reserve });
    const big = counted(16, MiB);
    await expect(store.append(id, state, big.source, { reserve })).rejects.toBeInstanceOf(StorageFullError);
    expect(big.read()).toBe(16 * MiB);
    expect(await stagedBytes(id)).toBe(MiB);
    const { bavail, bsize } = await statfs(root);
    expect(bavail * bsize).toBeGreaterThan(6 * MiB);
    expect((await store.append(id, state, counted(2, MiB).source, { reserve })).written).toBe(2 * MiB);
    await store.abortUpload(id);
  });

  it('with a reserve, refuses to write into it and to open a session on a disk below it', async () => {
    const reserved = new FsBlobStore(root, { reserveBytes: 7 * MiB });
    const id = randomUUID();
    const state = await reserved.createUpload(id);
    const source = counted(2, MiB);
    await expect(reserved.append(id, state, source.source, { reserve })).rejects.toThrow(/storage is full: \d+ bytes are free .* 7340032 are kept free/);
    expect(source.read()).toBe(2 * MiB);
    expect(await stagedBytes(id)).toBe(0);
    await expect(new FsBlobStore(root, { reserveBytes: 9 * MiB }).createUpload(randomUUID())).rejects.toBeInstanceOf(StorageFullError);
    await reserved.abortUpload(id);
  });
});

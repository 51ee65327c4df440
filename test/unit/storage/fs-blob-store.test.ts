import { execFile } from 'node:child_process';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDigest, type Digest } from '../../../src/oci/digest.js';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { describeBlobStore } from './blob-store-suite.js';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../..');

describeBlobStore('FsBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-store-'));
  return { store: new FsBlobStore(root), close: () => rm(root, { recursive: true, force: true }) };
});

function sha256(bytes: Buffer): Digest {
  const parsed = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.digest;
}

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

describe('FsBlobStore on disk', () => {
  let root: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-fs-store-'));
    store = new FsBlobStore(root);
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('lays blobs out as blobs/<algorithm>/<two hex>/<hex> and leaves no upload behind', async () => {
    const bytes = randomBytes(64);
    const digest = sha256(bytes);
    const id = randomUUID();
    await store.createUpload(id);
    await store.append(id, 0, once(bytes));
    await store.commit(id, digest);
    const path = join(root, 'blobs', 'sha256', digest.hex.slice(0, 2), digest.hex);
    expect((await stat(path)).size).toBe(64);
    expect(await readdir(join(root, 'uploads'))).toEqual([]);
  });

  it.each(['../escape', 'a/b', '', '..', 'x'.repeat(65), 'id with spaces'])('refuses the upload id %j', async (id) => {
    await expect(store.createUpload(id)).rejects.toThrow(/invalid upload id/);
    await expect(store.append(id, 0, once(Buffer.from('x')))).rejects.toThrow(/invalid upload id/);
    await expect(store.readUpload(id)).rejects.toThrow(/invalid upload id/);
    await expect(store.commit(id, sha256(Buffer.from('x')))).rejects.toThrow(/invalid upload id/);
    await expect(store.abortUpload(id)).rejects.toThrow(/invalid upload id/);
    expect(await readdir(root).catch(() => [])).not.toContain('escape');
  });

  it('finishes a read that began before the blob was deleted', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const digest = sha256(bytes);
    const id = randomUUID();
    await store.createUpload(id);
    await store.append(id, 0, once(bytes));
    await store.commit(id, digest);
    const reader = (await store.openReader(digest))!;
    await store.delete(digest);
    const parts: Buffer[] = [];
    const into = Buffer.alloc(1024 * 1024);
    for (let n = await reader.read(into); n > 0; n = await reader.read(into)) parts.push(Buffer.from(into.subarray(0, n)));
    await reader.close();
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
  });

  // A write error (a full disk) while the source is slow must reject the append, not end the
  // process with an unhandled rejection. RLIMIT_FSIZE makes writes past 2 MiB fail with EFBIG.
  it.runIf(process.platform === 'linux')('rejects an append whose write fails instead of crashing', async () => {
    const script = join(root, 'write-fails.mts');
    await writeFile(
      script,
      `import { FsBlobStore } from ${JSON.stringify(join(repoRoot, 'src/storage/fs-blob-store.ts'))};
const store = new FsBlobStore(${JSON.stringify(join(root, 'data'))});
await store.createUpload('u1');
async function* slow() {
  for (let i = 0; i < 24; i++) {
    yield Buffer.alloc(256 * 1024, i);
    await new Promise((r) => setTimeout(r, 10));
  }
}
try {
  await store.append('u1', 0, slow());
  console.log('resolved');
} catch (error) {
  console.log('rejected ' + error.code);
}
`,
    );
    const { stdout } = await run('bash', ['-c', 'ulimit -f 2048 && exec "$0" --import tsx "$1"', process.execPath, script], {
      cwd: repoRoot,
    });
    expect(stdout.trim()).toBe('rejected EFBIG');
  });
});

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDigest, type Digest } from '../../../src/oci/digest.js';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { describeBlobStore } from './blob-store-suite.js';
import { repoRoot } from '../../support/paths.js';

const run = promisify(execFile);

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

let counter = 0;
const reserve = async () => ++counter;

async function commitOnce(store: FsBlobStore, bytes: Buffer, digest: Digest): Promise<void> {
  const id = randomUUID();
  const { state } = await store.append(id, await store.createUpload(id), once(bytes), { reserve });
  await store.commit(id, await store.seal(id, state), digest);
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
    await commitOnce(store, bytes, digest);
    const path = join(root, 'blobs', 'sha256', digest.hex.slice(0, 2), digest.hex);
    expect((await stat(path)).size).toBe(64);
    expect(await readdir(join(root, 'staging'))).toEqual([]);
  });

  it.each(['../escape', 'a/b', '', '..', 'x'.repeat(65), 'id with spaces'])('refuses the upload id %j', async (id) => {
    const state = JSON.stringify({ segments: [['1', 1]] });
    await expect(store.createUpload(id)).rejects.toThrow(/invalid upload id/);
    await expect(store.append(id, state, once(Buffer.from('x')), { reserve })).rejects.toThrow(/invalid upload id/);
    await expect(store.readUpload(id, state)).rejects.toThrow(/invalid upload id/);
    await expect(store.commit(id, state, sha256(Buffer.from('x')))).rejects.toThrow(/invalid upload id/);
    await expect(store.abortUpload(id)).rejects.toThrow(/invalid upload id/);
    expect(await readdir(root).catch(() => [])).not.toContain('escape');
  });

  it('finishes a read that began before the blob was deleted', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const digest = sha256(bytes);
    await commitOnce(store, bytes, digest);
    const reader = (await store.openReader(digest))!;
    await store.delete(digest);
    const parts: Buffer[] = [];
    const into = Buffer.alloc(1024 * 1024);
    for (let n = await reader.read(into); n > 0; n = await reader.read(into)) parts.push(Buffer.from(into.subarray(0, n)));
    await reader.close();
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
  });

  describe('a chunked upload from one client', () => {
    const staging = (id: string) => readdir(join(root, 'staging', id));

    /** Commits `sealed` as the blob of `text` and checks the store holds it at that size. */
    async function expectCommits(id: string, sealed: string, text: string): Promise<void> {
      const digest = sha256(Buffer.from(text));
      await store.commit(id, sealed, digest);
      expect(await store.stat(digest)).toBe(Buffer.byteLength(text));
    }

    /** Appends `parts` one request at a time, recording each state as a winning request would. */
    async function appendAll(id: string, parts: string[]): Promise<string> {
      let state = await store.createUpload(id);
      for (const part of parts) {
        const before = state;
        ({ state } = await store.append(id, state, once(Buffer.from(part)), { reserve }));
        await store.release(id, before, state);
      }
      return state;
    }

    it('stays one file, which the seal keeps and the commit renames', async () => {
      const id = randomUUID();
      const state = await appendAll(id, ['one ', 'two ', 'three']);
      expect(JSON.parse(state).segments).toHaveLength(1);
      const sealed = await store.seal(id, state);
      expect(sealed).toBe(state);
      expect((await staging(id)).filter((name) => !name.endsWith('.lock'))).toHaveLength(1);
      await expectCommits(id, sealed, 'one two three');
    });

    it('writes a file of its own while another request holds the last one', async () => {
      const id = randomUUID();
      const state = await appendAll(id, ['held ']);
      const [name] = JSON.parse(state).segments[0];
      await writeFile(join(root, 'staging', id, `${name}.lock`), '');
      const next = await store.append(id, state, once(Buffer.from('elsewhere')), { reserve });
      expect(JSON.parse(next.state).segments).toHaveLength(2);
      await expectCommits(id, await store.seal(id, next.state), 'held elsewhere');
    });

    it('never extends a sealed file: what the state records is what commits', async () => {
      const id = randomUUID();
      const state = await appendAll(id, ['kept']);
      const sealed = await store.seal(id, state);
      // A request that read the row before the completion began, writing after the seal.
      const late = await store.append(id, state, once(Buffer.from(' and late')), { reserve });
      expect(JSON.parse(late.state).segments).toHaveLength(2);
      await store.release(id, late.state, state);
      await expectCommits(id, sealed, 'kept');
    });

    it('leaves the last file as recorded when an append into it fails', async () => {
      const id = randomUUID();
      const state = await appendAll(id, ['whole']);
      const broken = (async function* () {
        yield Buffer.alloc(3 * 1024 * 1024, 0x78);
        throw new Error('client went away');
      })();
      await expect(store.append(id, state, broken, { reserve })).rejects.toThrow('client went away');
      const [name] = JSON.parse(state).segments[0];
      expect((await stat(join(root, 'staging', id, name))).size).toBe(5);
      const next = await store.append(id, state, once(Buffer.from(' again')), { reserve });
      expect(JSON.parse(next.state).segments).toHaveLength(1);
      await expectCommits(id, await store.seal(id, next.state), 'whole again');
    });
  });

  // A write error (a full disk) while the source is slow must reject the append, not end the
  // process with an unhandled rejection. RLIMIT_FSIZE makes writes past 2 MiB fail with EFBIG.
  it.runIf(process.platform === 'linux')('rejects an append whose write fails instead of crashing', async () => {
    const script = join(root, 'write-fails.mts');
    await writeFile(
      script,
      `import { FsBlobStore } from ${JSON.stringify(join(repoRoot, 'src/storage/fs-blob-store.ts'))};
const store = new FsBlobStore(${JSON.stringify(join(root, 'data'))});
const state = await store.createUpload('u1');
async function* slow() {
  for (let i = 0; i < 24; i++) {
    yield Buffer.alloc(256 * 1024, i);
    await new Promise((r) => setTimeout(r, 10));
  }
}
try {
  await store.append('u1', state, slow(), { reserve: async () => 1 });
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

describe('FsBlobStore and sessions begun before upload folders', () => {
  it('carries on and commits a session staged as the single file uploads/<id>', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-store-'));
    try {
      const store = new FsBlobStore(root);
      const id = randomUUID();
      await mkdir(join(root, 'uploads'), { recursive: true });
      await writeFile(join(root, 'uploads', id), 'hello ');
      // What migration 0008 records for such a session.
      const legacy = JSON.stringify({ segments: [[`uploads/${id}`, 6]] });
      const { state } = await store.append(id, legacy, once(Buffer.from('world')), { reserve });
      const sealed = await store.seal(id, state);
      const bytes = Buffer.from('hello world');
      await store.commit(id, sealed, sha256(bytes));
      expect(await store.stat(sha256(bytes))).toBe(11);
      expect(await readdir(join(root, 'uploads'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('refuses a state that names files outside its own upload', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-store-'));
    try {
      const store = new FsBlobStore(root);
      const id = randomUUID();
      await store.createUpload(id);
      for (const name of ['../../blobs/x', `uploads/${randomUUID()}`, '/etc/passwd']) {
        await expect(store.readUpload(id, JSON.stringify({ segments: [[name, 1]] }))).rejects.toThrow(/invalid staged segment/);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

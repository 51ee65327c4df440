import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killRunning, spawnBerth, startServe, stopServe, type BerthProcess } from '../support/berth-process.js';
import { oneLineError } from '../support/cli.js';
import { testBackend, testDatabaseUrl, testRunId } from '../support/database.js';
import { digestOf, imageManifest, MT, OciClient, randomBlob, type Descriptor } from '../support/oci-client.js';
import { run, runOk, type RunResult } from '../support/run.js';
import { repoRoot } from '../support/paths.js';

/**
 * `berth backup` and `berth restore` with real processes: a server pushed to while the backup is
 * taken, and a second server on the restored folder. Backups copy the embedded default (SQLite and
 * the data folder), so the full round trip runs in the SQLite pass; every pass checks that a
 * deployment on PostgreSQL or S3 is refused with the pointer to the README's recipe, and the
 * PostgreSQL pass follows that recipe (pg_dump, pg_restore, the blobs, the same BERTH_SECRET).
 */

const MiB = 1024 * 1024;
const README_POINTER = '(see "Backup and restore" in README.md)';

/** `berth <args>` with none of this shell's BERTH_ settings (empty means unset), plus `env`. */
function berth(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const cleared = Object.fromEntries(Object.keys(process.env).filter((key) => key.startsWith('BERTH_')).map((key) => [key, '']));
  return run(process.execPath, [join(repoRoot, 'bin/berth.js'), ...args], { env: { ...cleared, ...env }, cwd: repoRoot, timeoutMs: 120_000 });
}

async function berthOk(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const result = await berth(args, env);
  if (result.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return result;
}

function ownerKey(dataDir: string): string {
  return readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
}

/** An API key as registry credentials (`iamapikey`, HTTP Basic). */
function basic(apikey: string): string {
  return `Basic ${Buffer.from(`iamapikey:${apikey}`).toString('base64')}`;
}

interface Grant {
  status: number;
  token?: string;
  claims?: { iam_id: string; account: { bss: string } };
}

/** An API key grant at the IAM token service: its status, and the token and its claims when it worked. */
async function grant(server: BerthProcess, apikey: string): Promise<Grant> {
  const body = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey });
  const response = await fetch(`${server.url}/identity/token`, { method: 'POST', body });
  if (response.status !== 200) {
    await response.arrayBuffer();
    return { status: response.status };
  }
  const token = ((await response.json()) as { access_token: string }).access_token;
  return { status: 200, token, claims: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Grant['claims'] };
}

/** Creates a namespace as the key's owner; answers the account id. */
async function addNamespace(server: BerthProcess, apikey: string, name: string): Promise<string> {
  const { token, claims } = await grant(server, apikey);
  const created = await fetch(`${server.url}/api/v1/namespaces/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${token!}`, account: claims!.account.bss } });
  expect(created.status).toBe(201);
  return claims!.account.bss;
}

interface Pushed {
  name: string;
  tag: string;
  manifest: Buffer;
  blobs: Descriptor[];
  startedAt: number;
  /** When the registry acknowledged the manifest PUT. */
  doneAt: number;
}

/** An image of a config and `layers` random layers of the given sizes, pushed by tag. */
async function pushImage(oci: OciClient, name: string, tag: string, layers: number[]): Promise<Pushed> {
  const startedAt = Date.now();
  const config = await oci.pushBlob(name, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed: randomBlob(8).toString('hex') })), MT.ociConfig);
  const pushedLayers: Descriptor[] = [];
  for (const size of layers) pushedLayers.push(await oci.pushBlob(name, randomBlob(size), MT.ociLayer));
  const manifest = Buffer.from(JSON.stringify(imageManifest({ config, layers: pushedLayers })));
  await oci.pushManifest(name, tag, manifest, MT.ociManifest);
  return { name, tag, manifest, blobs: [config, ...pushedLayers], startedAt, doneAt: Date.now() };
}

/** Asserts that `server` serves the image exactly as pushed: the manifest's bytes and every blob's. */
async function expectPullsIdentical(oci: OciClient, image: Pushed): Promise<void> {
  const manifest = await oci.fetch(`/v2/${image.name}/manifests/${image.tag}`, { headers: { accept: MT.ociManifest } });
  expect(manifest.status, `${image.name}:${image.tag}`).toBe(200);
  expect(Buffer.from(await manifest.arrayBuffer()).equals(image.manifest), `${image.name}:${image.tag} manifest bytes`).toBe(true);
  for (const blob of image.blobs) {
    const response = await oci.fetch(`/v2/${image.name}/blobs/${blob.digest}`);
    expect(response.status, `${image.name} blob ${blob.digest}`).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect({ size: bytes.length, digest: digestOf(bytes) }).toEqual({ size: blob.size, digest: blob.digest });
  }
}

function blobPath(dataDir: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

let tempRoot: string;
beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'berth-backup-'));
});
// A failed test must not leave a server behind.
afterEach(killRunning);
afterAll(async () => rm(tempRoot, { recursive: true, force: true }));

describe('berth backup: deployments it cannot copy consistently', () => {
  it('refuses PostgreSQL and S3 blob storage in one line that points to the README recipe, and creates nothing', async () => {
    const dataDir = await mkdtemp(join(tempRoot, 'data-'));
    const to = join(tempRoot, 'refused');
    const secret = { BERTH_SECRET: 'backup-test-secret-backup-test-secret-0123' };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], { BERTH_DATABASE_URL: testDatabaseUrl(), ...secret }, /^berth: berth backup copies the embedded SQLite database, but BERTH_DATABASE_URL points at PostgreSQL: back it up with pg_dump/],
      [['--database-url', testDatabaseUrl()], secret, /PostgreSQL: back it up with pg_dump and copy the blobs and BERTH_SECRET/],
      [[], { BERTH_STORAGE: 's3', BERTH_S3_BUCKET: 'berth-blobs' }, /^berth: berth backup copies blobs from the data folder, but BERTH_STORAGE is s3/],
    ];
    for (const [flags, env, message] of cases) {
      const line = oneLineError(await berth(['backup', '--data', dataDir, '--to', to, ...flags], env));
      expect(line).toMatch(message);
      expect(line.endsWith(README_POINTER), line).toBe(true);
      expect(existsSync(to)).toBe(false);
    }
  });
});

// SQLite only by nature (the PostgreSQL pass runs the refusal above instead): see the file's comment.
if (testBackend() === 'sqlite') {
  describe('berth backup and restore (embedded SQLite, data folder)', () => {
    it('backs up a registry while it takes pushes; the restored folder serves every image acknowledged before, byte for byte, and the old API keys', async () => {
      const dataDir = await mkdtemp(join(tempRoot, 'data-'));
      const backupDir = join(tempRoot, 'backup');
      const restoredDir = join(tempRoot, 'restored');
      const server = await startServe(dataDir);
      const owner = ownerKey(dataDir);
      const accountId = await addNamespace(server, owner, 'bkp-ns');
      const oci = new OciClient(server.url, basic(owner));

      // A second identity with a key of its own, made by the operator command beside the server.
      const created = await berthOk(['users', 'create', 'dev@example.com', '--account', accountId, '--data', dataDir]);
      const userKey = /API key \(shown once, keep it safe\): (\S+)/.exec(created.stdout)?.[1];
      const userIamId = /user (BERTHid-\S+)/.exec(created.stdout)?.[1];
      expect(userKey && userIamId).toBeTruthy();

      const before: Pushed[] = [];
      for (let i = 0; i < 6; i++) before.push(await pushImage(oci, `bkp-ns/before-${i}`, `v${i}`, i < 2 ? [6 * MiB, 300] : [2000, 128]));
      // Garbage the collector was removing when the snapshot was taken: unlinked, and its bytes already gone.
      const garbage = await oci.pushBlob('bkp-ns/garbage', randomBlob(4096));
      expect((await oci.fetch(`/v2/bkp-ns/garbage/blobs/${garbage.digest}`, { method: 'DELETE' })).status).toBe(202);
      await unlink(blobPath(dataDir, garbage.digest));

      // Two clients push all along, before, while and after the backup runs.
      let pushing = true;
      const during: Pushed[] = [];
      const pushers = [0, 1].map(async (lane) => {
        for (let n = 0; pushing; n++) during.push(await pushImage(oci, `bkp-ns/during-${lane}`, `t${n}`, [MiB + n, 512]));
      });
      const pushed = (async () => {
        while (during.length < 2) await new Promise((done) => setTimeout(done, 20));
      })();
      // A pusher that fails fails the test here rather than leave it waiting.
      await Promise.race([pushed, Promise.all(pushers)]);

      const backupStarted = Date.now();
      const backup = await berth(['backup', '--data', dataDir, '--to', backupDir, '--output', 'json']);
      const backupEnded = Date.now();
      pushing = false;
      await Promise.all(pushers);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stderr).toBe('');
      // The pushes really overlapped the backup.
      expect(during.some((image) => image.startedAt < backupEnded && image.doneAt > backupStarted)).toBe(true);

      const report = JSON.parse(backup.stdout) as { blobs: { count: number; collected: number }; files: string[]; secret: string; counts: { namespaces: number } };
      expect(report).toMatchObject({ secret: 'file', files: ['keys/server-secret', 'owner-apikey'], counts: { namespaces: 1 } });
      expect(report.blobs.collected).toBe(1);
      const onDisk = JSON.parse(await readFile(join(backupDir, 'backup.json'), 'utf8')) as unknown;
      expect(onDisk).toEqual(report);

      // A backup never goes into a folder that has something in it.
      expect(oneLineError(await berth(['backup', '--data', dataDir, '--to', backupDir]))).toBe(`berth: --to ${backupDir} is not empty: give a new or empty folder`);
      const occupied = join(tempRoot, 'occupied');
      await mkdir(occupied);
      await writeFile(join(occupied, 'notes.txt'), 'mine\n');
      expect(oneLineError(await berth(['backup', '--data', dataDir, '--to', occupied]))).toContain('is not empty');
      expect(await readFile(join(occupied, 'notes.txt'), 'utf8')).toBe('mine\n');

      await stopServe(server);
      const restore = await berthOk(['restore', '--from', backupDir, '--data', restoredDir]);
      expect(restore.stdout).toContain(`Serve it with: berth serve --data ${restoredDir}`);
      for (const file of ['keys/server-secret', 'owner-apikey', 'berth.db']) expect(statSync(join(restoredDir, file)).mode & 0o777, file).toBe(0o600);
      expect(statSync(join(restoredDir, 'keys')).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(restoredDir, 'keys/server-secret'), 'utf8')).toBe(readFileSync(join(dataDir, 'keys/server-secret'), 'utf8'));

      const restored = await startServe(restoredDir);
      try {
        // Not a new registry: no owner was created, so no key was announced.
        expect(restored.stderr()).not.toMatch(/API key/);
        const pull = new OciClient(restored.url, basic(owner));
        const acknowledged = [...before, ...during.filter((image) => image.doneAt < backupStarted)];
        expect(acknowledged.length).toBeGreaterThanOrEqual(8);
        for (const image of acknowledged) await expectPullsIdentical(pull, image);
        // What was pushed while the backup ran is either whole in it or absent: never a manifest without its blobs.
        for (const image of during.filter((image) => image.doneAt >= backupStarted)) {
          const status = (await pull.fetch(`/v2/${image.name}/manifests/${image.tag}`, { method: 'HEAD', headers: { accept: MT.ociManifest } })).status;
          expect([200, 404]).toContain(status);
          if (status === 200) await expectPullsIdentical(pull, image);
        }

        // The API keys made before the backup log in; a key nobody made does not.
        expect((await grant(restored, owner)).status).toBe(200);
        expect((await grant(restored, userKey!)).claims?.iam_id).toBe(userIamId);
        expect((await grant(restored, 'x'.repeat(43))).status).toBe(400);
        expect((await pull.fetch('/v2/')).status).toBe(200);
        expect((await new OciClient(restored.url, basic('x'.repeat(43))).fetch('/v2/bkp-ns/before-0/manifests/v0')).status).toBe(401);
        // And it goes on taking pushes.
        await expectPullsIdentical(pull, await pushImage(pull, 'bkp-ns/after', 'v1', [1000]));
      } finally {
        await stopServe(restored);
      }

      // Restore never writes into a folder that has something in it, nor from a backup that did not finish.
      expect(oneLineError(await berth(['restore', '--from', backupDir, '--data', restoredDir]))).toBe(`berth: --data ${restoredDir} is not empty: give a new or empty folder`);
      await unlink(join(backupDir, 'backup.json'));
      const fresh = join(tempRoot, 'from-incomplete');
      expect(oneLineError(await berth(['restore', '--from', backupDir, '--data', fresh]))).toBe(
        `berth: ${backupDir} is not a complete backup: it has no backup.json (a backup that did not finish, or not a backup folder)`,
      );
      expect(existsSync(fresh)).toBe(false);
    });

    it('fails in one line, keeping nothing, when a blob the database references is missing or corrupt in the data folder', async () => {
      const dataDir = await mkdtemp(join(tempRoot, 'data-'));
      const server = await startServe(dataDir);
      const owner = ownerKey(dataDir);
      await addNamespace(server, owner, 'bad-blobs');
      const oci = new OciClient(server.url, basic(owner));
      const image = await pushImage(oci, 'bad-blobs/image', 'v1', [3 * MiB]);
      const layer = image.blobs[1]!;
      const original = await readFile(blobPath(dataDir, layer.digest));

      // Same size, one byte changed: only the digest check can tell.
      const corrupt = Buffer.from(original);
      const middle = corrupt.length >> 1;
      corrupt.writeUInt8(corrupt.readUInt8(middle) ^ 0xff, middle);
      await writeFile(blobPath(dataDir, layer.digest), corrupt);
      const corruptTo = join(tempRoot, 'corrupt');
      const corruptLine = oneLineError(await berth(['backup', '--data', dataDir, '--to', corruptTo]));
      expect(corruptLine).toMatch(new RegExp(`^berth: blob ${layer.digest} in the data folder ${dataDir} is corrupt: its ${layer.size} bytes hash to sha256:(?!${layer.digest.slice(7)})[0-9a-f]{64}`));
      expect(corruptLine).toContain(`nothing was kept in ${corruptTo}`);
      expect(existsSync(corruptTo)).toBe(false);

      await unlink(blobPath(dataDir, layer.digest));
      const missingTo = join(tempRoot, 'missing');
      const missingLine = oneLineError(await berth(['backup', '--data', dataDir, '--to', missingTo]));
      expect(missingLine).toMatch(new RegExp(`^berth: blob ${layer.digest} that the database references is missing from ${dataDir} \\(`));
      expect(existsSync(missingTo)).toBe(false);

      // With the bytes back, the same data folder backs up, and the copy is the blob's.
      await writeFile(blobPath(dataDir, layer.digest), original);
      const goodTo = join(tempRoot, 'good');
      await berthOk(['backup', '--data', dataDir, '--to', goodTo]);
      expect(createHash('sha256').update(await readFile(blobPath(goodTo, layer.digest))).digest('hex')).toBe(layer.digest.slice(7));
      await stopServe(server);

      // Restore checks the backup as well: a blob altered in it stops the restore.
      await writeFile(blobPath(goodTo, layer.digest), corrupt);
      const restoreTo = join(tempRoot, 'restore-corrupt');
      expect(oneLineError(await berth(['restore', '--from', goodTo, '--data', restoreTo]))).toMatch(new RegExp(`^berth: blob ${layer.digest} in the backup ${goodTo} is corrupt`));
      expect(existsSync(restoreTo)).toBe(false);
    });
  });
}

// The README's recipe for PostgreSQL, as an operator would follow it: the PostgreSQL pass only.
if (testBackend() === 'postgres') {
  describe('the README recipe for PostgreSQL: pg_dump while serving, pg_restore into a new database', () => {
    /** A database of its own on the test server (the recipe dumps and restores whole databases). */
    async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
      const name = `berth_dump_${testRunId()}_${randomBytes(4).toString('hex')}`;
      await runOk('psql', [testDatabaseUrl(), '-qc', `CREATE DATABASE ${name}`]);
      const url = new URL(testDatabaseUrl());
      url.pathname = `/${name}`;
      return { url: url.href, drop: async () => void (await run('psql', [testDatabaseUrl(), '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`])) };
    }

    it('restores a registry that serves every image byte for byte and the API keys made before the dump', async () => {
      const secret = { BERTH_SECRET: 'pg-dump-recipe-secret-pg-dump-recipe-0123' };
      const [source, target] = [await createDatabase(), await createDatabase()];
      try {
        const dataDir = await mkdtemp(join(tempRoot, 'pg-data-'));
        const server = await startServe(dataDir, { BERTH_DATABASE_URL: source.url, ...secret });
        const owner = ownerKey(dataDir);
        await addNamespace(server, owner, 'pg-dump');
        const oci = new OciClient(server.url, basic(owner));
        const images = [await pushImage(oci, 'pg-dump/app', 'v1', [2 * MiB, 300]), await pushImage(oci, 'pg-dump/tool', 'v2', [5000])];

        // 1. The metadata while the server runs; 2. then the blobs; 3. BERTH_SECRET is kept by the operator.
        const dump = join(tempRoot, 'berth.dump');
        await runOk('pg_dump', ['--format=custom', `--file=${dump}`, source.url]);
        const restoredDir = await mkdtemp(join(tempRoot, 'pg-restored-'));
        await cp(join(dataDir, 'blobs'), join(restoredDir, 'blobs'), { recursive: true });
        await stopServe(server);

        await runOk('pg_restore', ['--no-owner', `--dbname=${target.url}`, dump]);
        const restored = await startServe(restoredDir, { BERTH_DATABASE_URL: target.url, ...secret });
        try {
          expect(restored.stderr()).not.toMatch(/API key/);
          const pull = new OciClient(restored.url, basic(owner));
          for (const image of images) await expectPullsIdentical(pull, image);
          expect((await grant(restored, owner)).status).toBe(200);
        } finally {
          await stopServe(restored);
        }
      } finally {
        await source.drop();
        await target.drop();
      }
    });
  });
}

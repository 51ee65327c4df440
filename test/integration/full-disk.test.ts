import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtemp, open, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliUser } from '../support/cli.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { addNamespaces, basicAuth, registryToken } from '../support/iam.js';
import { digestOf, imageManifest, MT, OciClient, randomBlob, type Bytes, type Descriptor } from '../support/oci-client.js';
import { describeRun, run } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { blobBytes, uploadFiles } from '../support/storage.js';

const MiB = 1024 * 1024;
const RESERVE = 4 * MiB;
/** What docker, podman and skopeo print after `denied:` when the disk is full: spelled out, it is the wire contract. */
const STORAGE_FULL =
  'The registry is out of storage space: it cannot take more data until space is freed (delete images, then run berth gc). Pulls, logins and deletes still work.';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Which TCP connection carried the request, numbered in the order the agent opened them. */
  socket: number;
  reused: boolean;
}

/**
 * `node:http` over one keep-alive connection (an agent of one socket), so a test can see whether the
 * connection a refused upload came on still carries the next request, as docker's and podman's do.
 */
class KeepAliveClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly ids = new WeakMap<Socket, number>();
  private opened = 0;

  constructor(
    private readonly base: URL,
    private readonly authorization: string,
  ) {}

  send(method: string, path: string, body?: Bytes, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: {
            authorization: this.authorization,
            ...(body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), socket: this.idOf(req.socket!), reused: req.reusedSocket }));
        },
      );
      req.on('socket', (socket) => this.idOf(socket));
      req.on('error', reject);
      req.end(body);
    });
  }

  private idOf(socket: Socket): number {
    let id = this.ids.get(socket);
    if (id === undefined) {
      id = ++this.opened;
      this.ids.set(socket, id);
    }
    return id;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The refusal a full disk must give: 403 DENIED with the storage-full message, as OCI error JSON only. */
function expectStorageFull(answer: Answer): void {
  expect(answer.status, answer.body.toString()).toBe(403);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(JSON.parse(answer.body.toString())).toEqual({ errors: [{ code: 'DENIED', message: STORAGE_FULL }] });
}

async function freeBytes(dir: string): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return bavail * bsize;
}

/** Writes zeros into `path` until the disk has no block left (smaller writes mop up the end). */
async function fillDisk(path: string): Promise<void> {
  const handle = await open(path, 'w');
  let at = 0;
  try {
    for (const size of [MiB, 64 * 1024, 4096, 512]) {
      const zeros = Buffer.alloc(size);
      for (;;) {
        try {
          const { bytesWritten } = await handle.write(zeros, 0, size, at);
          at += bytesWritten;
          if (bytesWritten < size) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    await handle.close();
  }
}

/** `--data` and, on PostgreSQL, `--database-url` pointing at the server's own schema: the CLI beside that server. */
function storeFlags(server: TestServer & { schema?: string }): string[] {
  if (testBackend() !== 'postgres') return ['--data', server.dataDir];
  const url = `${testDatabaseUrl()}?options=${encodeURIComponent(`-c search_path=${server.schema!}`)}`;
  return ['--data', server.dataDir, '--database-url', url];
}

interface Blob {
  descriptor: Descriptor;
  bytes: Bytes;
}

function blobOf(bytes: Bytes, mediaType: string = MT.ociLayer): Blob {
  return { descriptor: { mediaType, digest: digestOf(bytes), size: bytes.length }, bytes };
}

interface Image {
  name: string;
  tag: string;
  manifest: Bytes;
  /** The config, then the layers. */
  blobs: Blob[];
}

describe('a full disk: uploads are refused cleanly, everything else goes on, and freeing space brings pushes back', () => {
  let dataDir: string;
  let mounted = false;
  let server: TestServer & { schema?: string };
  let oci: OciClient;
  let client: KeepAliveClient;
  let apikey: string;
  const namespace = `full-${Date.now().toString(36)}`;
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })), MT.ociConfig);
  /** Everything pushed and not deleted: it must pull byte-identical at every step. */
  const live: Image[] = [];
  /** Filler images, deleted to free space. */
  const fill: Image[] = [];
  let chunked: { location: string; first: Bytes; second: Bytes };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-full-disk-'));
    // Never a skip: a test that cannot mount would otherwise pass by proving nothing (in CI above all).
    const mount = await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dataDir]);
    if (mount.code !== 0) {
      const why = process.env.CI === 'true' ? 'CI must run this test as root, able to mount tmpfs' : 'run it as root (or where mount -t tmpfs works)';
      throw new Error(`full-disk test needs a 64 MiB tmpfs as the data folder; ${why}\n${describeRun(mount)}`);
    }
    mounted = true;
    server = await startTestServer({ auth: 'iam', dataDir, configure: (c) => (c.diskReserveBytes = RESERVE) });
    apikey = server.berth.ownerApiKey!;
    await addNamespaces(server, namespace);
    oci = new OciClient(server.url, basicAuth(apikey));
    client = new KeepAliveClient(new URL(server.url), basicAuth(apikey));
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
    if (mounted) {
      const unmount = await run('umount', [dataDir]);
      if (unmount.code !== 0) await run('umount', ['-l', dataDir]);
    }
    if (dataDir) await (mounted ? rmdir(dataDir) : rm(dataDir, { recursive: true, force: true }));
  });

  /** A monolithic `POST ?digest=` on the keep-alive connection. */
  function pushBlob(name: string, bytes: Bytes): Promise<Answer> {
    return client.send('POST', `/v2/${name}/blobs/uploads/?digest=${digestOf(bytes)}`, bytes);
  }

  /** A manifest over the shared config and `layers`, tagged `tag`. */
  async function pushManifest(name: string, tag: string, layers: Blob[]): Promise<Image> {
    const manifest = Buffer.from(JSON.stringify(imageManifest({ config: config.descriptor, layers: layers.map((l) => l.descriptor) })));
    await oci.pushManifest(name, tag, manifest, MT.ociManifest);
    return { name, tag, manifest, blobs: [config, ...layers] };
  }

  async function expectPulls(images: Image[]): Promise<void> {
    for (const image of images) {
      const manifest = await oci.fetch(`/v2/${image.name}/manifests/${image.tag}`, { headers: { accept: MT.ociManifest } });
      expect(manifest.status).toBe(200);
      expect(digestOf(Buffer.from(await manifest.arrayBuffer()))).toBe(digestOf(image.manifest));
      for (const blob of image.blobs) {
        const pulled = await oci.fetch(`/v2/${image.name}/blobs/${blob.descriptor.digest}`);
        expect(pulled.status, `${image.name} ${blob.descriptor.digest} ${await pulled.clone().text()}`).toBe(200);
        expect(digestOf(Buffer.from(await pulled.arrayBuffer()))).toBe(blob.descriptor.digest);
      }
    }
  }

  async function expectLogins(): Promise<void> {
    const grant = await fetch(`${server.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }).toString(),
    });
    const body = (await grant.json()) as { access_token?: string };
    expect(grant.status, JSON.stringify(body)).toBe(200);
    expect(typeof body.access_token).toBe('string');
    const registry = await registryToken(server.url, basicAuth(apikey), [`repository:${namespace}/kept:pull`]);
    expect(registry.status, JSON.stringify(registry.body)).toBe(200);
    expect(registry.claims?.access).toEqual([{ type: 'repository', name: `${namespace}/kept`, actions: ['pull'] }]);
  }

  /** A PATCH of `bytes` at `start` of the chunked upload, on the keep-alive connection. */
  function patchChunk(bytes: Bytes, start: number): Promise<Answer> {
    return client.send('PATCH', chunked.location, bytes, { 'content-range': `${start}-${start + bytes.length - 1}` });
  }

  it('uploads fill the disk down to the reserve, then are refused with 403 DENIED on a connection that stays usable', async () => {
    const kept = `${namespace}/kept`;
    for (const name of [kept, `${namespace}/fill`, `${namespace}/gone`]) expect((await pushBlob(name, config.bytes)).status).toBe(201);
    const keptLayer = blobOf(randomBlob(MiB));
    expect((await pushBlob(kept, keptLayer.bytes)).status).toBe(201);
    live.push(await pushManifest(kept, 'v1', [keptLayer]));
    const goneLayer = blobOf(randomBlob(64 * 1024));
    expect((await pushBlob(`${namespace}/gone`, goneLayer.bytes)).status).toBe(201);
    await pushManifest(`${namespace}/gone`, 'v1', [goneLayer]);

    // A chunked upload opened while there is room: its next chunk will meet the full disk.
    const opened = await client.send('POST', `/v2/${namespace}/chunked/blobs/uploads/`);
    expect(opened.status).toBe(202);
    chunked = { location: opened.headers.location!, first: randomBlob(256 * 1024), second: randomBlob(2 * MiB) };
    expect((await patchChunk(chunked.first, 0)).status).toBe(202);

    // 6 MiB layers until one is refused (part-way: it had started writing), then 1 MiB ones.
    let refusals = 0;
    for (const size of [6 * MiB, MiB]) {
      for (let i = 0; ; i++) {
        expect(i, 'the disk never filled').toBeLessThan(64);
        const layer = blobOf(randomBlob(size));
        const answer = await pushBlob(`${namespace}/fill`, layer.bytes);
        if (answer.status !== 201) {
          expectStorageFull(answer);
          refusals += 1;
          break;
        }
        fill.push(await pushManifest(`${namespace}/fill`, `f${fill.length}`, [layer]));
      }
    }
    expect(refusals).toBe(2);
    expect(fill.length).toBeGreaterThan(5);
    // The refused uploads gave back what they had written: the reserve is intact, and no staged file is left but the open session's.
    const free = await freeBytes(dataDir);
    expect(free).toBeGreaterThanOrEqual(RESERVE - 512 * 1024);
    expect(free).toBeLessThan(RESERVE + 2 * MiB);
    expect(await uploadFiles(dataDir)).toHaveLength(1);

    // Monolithic: refused, and the same connection carries the next request.
    const socket = (await client.send('GET', '/v2/')).socket;
    const monolithic = await pushBlob(`${namespace}/fill`, randomBlob(2 * MiB));
    expectStorageFull(monolithic);
    expect(monolithic).toMatchObject({ socket, reused: true });
    const next = await client.send('HEAD', `/v2/${kept}/blobs/${keptLayer.descriptor.digest}`);
    expect(next).toMatchObject({ status: 200, socket, reused: true });

    // Chunked: the PATCH is refused, the session keeps what it had, and the connection goes on.
    const refusedChunk = await patchChunk(chunked.second, chunked.first.length);
    expectStorageFull(refusedChunk);
    expect(refusedChunk).toMatchObject({ socket, reused: true });
    const status = await client.send('GET', chunked.location);
    expect(status).toMatchObject({ status: 204, socket, reused: true });
    expect(status.headers.range).toBe(`0-${chunked.first.length - 1}`);
    expect(await server.serverErrors()).toEqual([]);
  });

  it('while full, logins answer 200, earlier pushes pull byte-identical, and a manifest DELETE works', async () => {
    await expectLogins();
    await expectPulls([...live, ...fill]);
    const gone = await oci.fetch(`/v2/${namespace}/gone/manifests/v1`, { headers: { accept: MT.ociManifest } });
    const goneDigest = digestOf(Buffer.from(await gone.arrayBuffer()));
    expect((await oci.fetch(`/v2/${namespace}/gone/manifests/${goneDigest}`, { method: 'DELETE' })).status).toBe(202);
    expect((await oci.fetch(`/v2/${namespace}/gone/manifests/v1`, { method: 'HEAD' })).status).toBe(404);
    expect(await server.serverErrors()).toEqual([]);
  });

  it('with no byte left at all (not just the reserve), logins still answer 200, uploads are refused the same way, pulls work', async () => {
    await fillDisk(join(dataDir, 'filler'));
    expect(await freeBytes(dataDir)).toBe(0);

    await expectLogins();
    const socket = (await client.send('GET', '/v2/')).socket;
    const refused = await pushBlob(`${namespace}/fill`, randomBlob(MiB));
    expectStorageFull(refused);
    expect(refused).toMatchObject({ socket, reused: true });
    expectStorageFull(await patchChunk(chunked.second, chunked.first.length));
    // Opening a session is refused too, before a byte is taken.
    expectStorageFull(await client.send('POST', `/v2/${namespace}/fill/blobs/uploads/`));
    expect(await client.send('GET', '/v2/')).toMatchObject({ status: 200, socket, reused: true });
    await expectPulls([...live, ...fill]);
    await expectLogins();
    expect(await server.serverErrors()).toEqual([]);
  });

  it('once space is freed (filler removed, images deleted, collected by the server and by berth gc), the same server takes pushes again', async () => {
    await rm(join(dataDir, 'filler'));
    const before = await freeBytes(dataDir);
    // Half the filler images go and `berth gc` collects them beside the running server; then the rest but one, collected by the server.
    const keep = fill.shift()!;
    live.push(keep);
    const half = fill.splice(0, Math.floor(fill.length / 2));
    for (const group of [half, fill]) {
      for (const image of group) {
        expect((await oci.fetch(`/v2/${image.name}/manifests/${digestOf(image.manifest)}`, { method: 'DELETE' })).status).toBe(202);
      }
      if (group === half) {
        const user = await cliUser();
        const gc = await user.berthOk(['gc', ...storeFlags(server), '--delay', '0', '--output', 'json']);
        // The deleted layers, and the layer of the image deleted while full.
        expect((JSON.parse(gc.stdout) as { blobsRemoved: number }).blobsRemoved).toBe(half.length + 1);
      } else {
        const report = await server.berth.registry.collector.run({ delayMs: 0 });
        expect(report.blobsRemoved).toBe(fill.length);
      }
    }
    // Only what is still live is left in the store (the config is one blob for every repository).
    const kept = new Map(live.flatMap((image) => image.blobs.map((blob) => [blob.descriptor.digest, blob.descriptor.size] as const)));
    expect(await blobBytes(dataDir)).toBe([...kept.values()].reduce((sum, size) => sum + size, 0));
    const freed = [...half, ...fill].reduce((sum, image) => sum + image.blobs[1]!.descriptor.size, 0);
    // Less what the database wrote meanwhile (on SQLite its WAL is on this disk too).
    expect(await freeBytes(dataDir)).toBeGreaterThan(before + freed - 2 * MiB);

    // The refused chunk goes in now, and the session completes.
    const socket = (await client.send('GET', '/v2/')).socket;
    expect(await patchChunk(chunked.second, chunked.first.length)).toMatchObject({ status: 202, socket, reused: true });
    const whole = Buffer.concat([chunked.first, chunked.second]);
    const done = await client.send('PUT', `${chunked.location}${chunked.location.includes('?') ? '&' : '?'}digest=${digestOf(whole)}`);
    expect(done.status, done.body.toString()).toBe(201);
    const pulled = await oci.fetch(`/v2/${namespace}/chunked/blobs/${digestOf(whole)}`);
    expect(digestOf(Buffer.from(await pulled.arrayBuffer()))).toBe(digestOf(whole));

    // A new image of 8 MiB, on the same server without a restart.
    const layer = blobOf(randomBlob(8 * MiB));
    expect((await pushBlob(`${namespace}/after`, config.bytes)).status).toBe(201);
    expect((await pushBlob(`${namespace}/after`, layer.bytes)).status).toBe(201);
    live.push(await pushManifest(`${namespace}/after`, 'v1', [layer]));

    await expectPulls(live);
    await expectLogins();
    expect(await server.serverErrors()).toEqual([]);
  });
});

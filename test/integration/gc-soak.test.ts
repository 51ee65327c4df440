import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, registryApiFor } from '../support/iam.js';
import { digestOf, imageIndex, imageManifest, MT, OciClient, randomBlob, type Bytes, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { testStorage } from '../support/s3.js';
import { blobBytes } from '../support/storage.js';

const SOAK_MS = 12_000;
const WORKERS = 4;
const REPOSITORIES = 24;
const NAMESPACE = 'soak-ns';

/** An image a worker pushed and alone may delete: what it must pull back intact while it lives. */
interface Image {
  repository: string;
  tag: string;
  digest: string;
  /** Manifests of the image (an index's platform images too) with their exact bytes. */
  manifests: Array<{ digest: string; bytes: string }>;
  /** Every blob it names, with its size. */
  blobs: Descriptor[];
}

/**
 * Garbage collection runs every half second with a two-second grace while several clients
 * push (reusing a pool of layers, as clients skip blobs a HEAD finds), pull and verify, tag,
 * delete, trash and restore in shared repositories. Nothing live may ever be missing, and at the
 * end the bytes on disk are exactly those of what is live or in the trash.
 */
describe('garbage collection under load (soak)', () => {
  let server: TestServer;
  let oci: OciClient;
  let token: string;
  let accountId: string;
  const pool: Bytes[] = Array.from({ length: 10 }, () => randomBlob(32 * 1024));

  beforeAll(async () => {
    server = await startTestServer({
      auth: 'iam',
      configure: (c) => {
        c.gc.intervalMs = 500;
        c.gc.delayMs = 2000;
      },
    });
    const owner = await ownerSession(server);
    token = owner.token;
    accountId = owner.accountId;
    await registryApiFor(server.url, server.url, server.berth.ownerApiKey!, accountId).createNamespace({ name: NAMESPACE });
    oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
  });
  afterAll(async () => server.close());

  function manage(path: string, method: string): Promise<Response> {
    return fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, account: accountId } });
  }

  it('loses nothing live, and leaves exactly the bytes of what is live or trashed', async () => {
    const failures: string[] = [];
    const fail = async (what: string, response: Response) => failures.push(`${what}: ${response.status} ${await response.text()}`);
    const live: Image[] = [];
    const trashed: Image[] = [];
    let serial = 0;

    /** A blob as clients push one: skipped when a HEAD finds it in the repository. */
    async function ensureBlob(repository: string, bytes: Bytes, mediaType: string): Promise<Descriptor> {
      const digest = digestOf(bytes);
      const head = await oci.fetch(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      if (head.status !== 200) {
        const put = await oci.fetch(`/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
        if (put.status !== 201) await fail(`blob push ${digest}`, put);
      }
      return { mediaType, digest, size: bytes.length };
    }

    async function pushManifest(repository: string, reference: string, bytes: string, mediaType: string): Promise<boolean> {
      const response = await oci.putManifest(repository, reference, bytes, mediaType);
      if (response.status === 201) return true;
      await fail(`manifest push ${repository}:${reference}`, response);
      return false;
    }

    async function platformImage(repository: string): Promise<{ manifest: { digest: string; bytes: string }; blobs: Descriptor[] }> {
      const config = await ensureBlob(repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: serial++ })), MT.ociConfig);
      const layers = [pool[Math.floor(Math.random() * pool.length)]!, pool[Math.floor(Math.random() * pool.length)]!];
      if (Math.random() < 0.3) layers.push(randomBlob(8 * 1024));
      const descriptors = [];
      for (const layer of [...new Set(layers)]) descriptors.push(await ensureBlob(repository, layer, MT.ociLayer));
      const bytes = JSON.stringify(imageManifest({ config, layers: descriptors }));
      return { manifest: { digest: digestOf(bytes), bytes }, blobs: [config, ...descriptors] };
    }

    async function push(): Promise<void> {
      const repository = `${NAMESPACE}/r${Math.floor(Math.random() * REPOSITORIES)}`;
      const tag = `t${serial++}`;
      if (Math.random() < 0.25) {
        const platforms = [await platformImage(repository), await platformImage(repository)];
        for (const platform of platforms) if (!(await pushManifest(repository, platform.manifest.digest, platform.manifest.bytes, MT.ociManifest))) return;
        const index = JSON.stringify(imageIndex(platforms.map((p) => ({ mediaType: MT.ociManifest, digest: p.manifest.digest, size: Buffer.byteLength(p.manifest.bytes) }))));
        if (!(await pushManifest(repository, tag, index, MT.ociIndex))) return;
        live.push({ repository, tag, digest: digestOf(index), manifests: [{ digest: digestOf(index), bytes: index }, ...platforms.map((p) => p.manifest)], blobs: platforms.flatMap((p) => p.blobs) });
        return;
      }
      const image = await platformImage(repository);
      if (!(await pushManifest(repository, tag, image.manifest.bytes, MT.ociManifest))) return;
      live.push({ repository, tag, digest: image.manifest.digest, manifests: [image.manifest], blobs: image.blobs });
    }

    async function pull(image: Image): Promise<void> {
      for (const manifest of image.manifests) {
        const response = await oci.fetch(`/v2/${image.repository}/manifests/${manifest.digest}`);
        const text = await response.text();
        if (response.status !== 200 || text !== manifest.bytes) failures.push(`manifest pull ${image.repository}@${manifest.digest}: ${response.status} ${text.slice(0, 200)}`);
      }
      for (const blob of image.blobs) {
        const response = await oci.fetch(`/v2/${image.repository}/blobs/${blob.digest}`);
        if (response.status !== 200) {
          await fail(`blob pull ${image.repository}@${blob.digest}`, response);
          continue;
        }
        const bytes = Buffer.from(await response.arrayBuffer());
        if (digestOf(bytes) !== blob.digest) failures.push(`blob ${blob.digest} came back as ${digestOf(bytes)}`);
      }
    }

    const take = (list: Image[]) => (list.length === 0 ? undefined : list.splice(Math.floor(Math.random() * list.length), 1)[0]!);
    const ref = (image: Image, by: 'tag' | 'digest') => encodeURIComponent(`${server.host}/${image.repository}${by === 'tag' ? `:${image.tag}` : `@${image.digest}`}`);

    async function step(): Promise<void> {
      const dice = Math.random();
      if (dice < 0.35 || live.length < 4) return push();
      if (dice < 0.6) {
        // Out of the list while it is pulled: another worker must not delete it meanwhile.
        const image = take(live)!;
        await pull(image);
        live.push(image);
        return;
      }
      if (dice < 0.7) {
        const image = take(live)!;
        const tagged = await oci.putManifest(image.repository, `${image.tag}-x`, image.manifests[0]!.bytes, image.manifests.length > 1 ? MT.ociIndex : MT.ociManifest);
        if (tagged.status !== 201) await fail('tag', tagged);
        live.push(image);
        return;
      }
      if (dice < 0.82) {
        const image = take(live)!;
        const deleted = await oci.fetch(`/v2/${image.repository}/manifests/${image.digest}`, { method: 'DELETE' });
        if (deleted.status !== 202) await fail(`delete ${image.digest}`, deleted);
        return;
      }
      if (dice < 0.92) {
        const image = take(live)!;
        const response = await manage(`/api/v1/images/${ref(image, 'digest')}`, 'DELETE');
        if (response.status !== 200) await fail(`trash ${image.digest}`, response);
        else trashed.push(image);
        return;
      }
      const image = take(trashed);
      if (!image) return;
      const response = await manage(`/api/v1/trash/${ref(image, 'digest')}/restoretags`, 'POST');
      if (response.status !== 200) await fail(`restore ${image.digest}`, response);
      else live.push(image);
    }

    const until = Date.now() + SOAK_MS;
    let steps = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (Date.now() < until) {
          await step();
          steps += 1;
        }
      }),
    );
    expect(failures).toEqual([]);
    // Enough traffic to race the collector (a floor, not a speed: CI machines are shared); on S3 every
    // step also waits on object-store round trips (Ceph RGW: 15–55 ms each).
    expect(steps).toBeGreaterThan(testStorage() === 's3' ? 30 : 60);
    // The collector removed things while the clients worked, not only at the end.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const removedDuringSoak = Number(/^berth_gc_blobs_removed_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(removedDuringSoak).toBeGreaterThan(0);

    for (const image of live) await pull(image);
    expect(failures).toEqual([]);

    const report = await server.berth.registry.collector.run({ delayMs: 0 });
    expect(report.blobsRemoved).toBeGreaterThanOrEqual(0);
    const kept = new Map<string, number>();
    for (const image of [...live, ...trashed]) for (const blob of image.blobs) kept.set(blob.digest, blob.size);
    expect(await blobBytes(server)).toBe([...kept.values()].reduce((sum, size) => sum + size, 0));
    for (const image of live) await pull(image);
    expect(failures).toEqual([]);
    expect(await server.serverErrors()).toEqual([]);
  }, 90_000);
});

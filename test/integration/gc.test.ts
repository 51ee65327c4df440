import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliUser } from '../support/cli.js';
import { testBackend, testDatabaseUrl } from '../support/database.js';
import { digestOf, expectOciError, imageManifest, MT, OciClient, randomBlob, repoName, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { blobBytes, blobFiles, uploadFiles } from '../support/storage.js';

const MiB = 1024 * 1024;

/** `--data` and, on PostgreSQL, `--database-url` pointing at the server's own schema: the CLI beside that server. */
function storeFlags(server: TestServer & { schema?: string }): string[] {
  if (testBackend() !== 'postgres') return ['--data', server.dataDir];
  const url = `${testDatabaseUrl()}?options=${encodeURIComponent(`-c search_path=${server.schema!}`)}`;
  return ['--data', server.dataDir, '--database-url', url];
}

async function headStatus(oci: OciClient, path: string): Promise<number> {
  return (await oci.fetch(path, { method: 'HEAD' })).status;
}

describe('garbage collection: deleting frees space', () => {
  let server: TestServer & { schema?: string };
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  it('ten images of 20 MiB, deleted through the API (manifests, tags and blobs), leave no bytes once collected, also after a restart', async () => {
    const pushed: Array<{ name: string; manifest: Descriptor; blobs: Descriptor[] }> = [];
    for (let i = 0; i < 10; i++) {
      const name = repoName('big');
      const config = await oci.pushBlob(name, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: i })), MT.ociConfig);
      const layer = await oci.pushBlob(name, randomBlob(20 * MiB), MT.ociLayer);
      const manifest = await oci.pushManifest(name, 'v1', JSON.stringify(imageManifest({ config, layers: [layer] })), MT.ociManifest);
      pushed.push({ name, manifest, blobs: [config, layer] });
    }
    const before = await blobBytes(server);
    expect(before).toBeGreaterThanOrEqual(200 * MiB);

    for (const image of pushed) {
      expect((await oci.fetch(`/v2/${image.name}/manifests/v1`, { method: 'DELETE' })).status).toBe(202);
      expect((await oci.fetch(`/v2/${image.name}/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
      for (const blob of image.blobs) expect((await oci.fetch(`/v2/${image.name}/blobs/${blob.digest}`, { method: 'DELETE' })).status).toBe(202);
    }
    // Nothing is collected behind the client's back before the collector runs.
    expect(await blobBytes(server)).toBe(before);

    const report = await server.berth.registry.collector.run({ delayMs: 0 });
    expect(report.blobsRemoved).toBe(20);
    expect(report.bytesRemoved).toBe(pushed.reduce((sum, image) => sum + image.blobs.reduce((s, b) => s + b.size, 0), 0));
    expect(await blobBytes(server)).toBe(0);

    server = (await server.restart()) as typeof server;
    oci = new OciClient(server.url);
    expect(await blobBytes(server)).toBe(0);
    for (const image of pushed) expect(await headStatus(oci, `/v2/${image.name}/blobs/${image.blobs[1]!.digest}`)).toBe(404);
    // The registry still takes the same content again.
    const again = await oci.pushImage(pushed[0]!.name, 'v2');
    expect(await headStatus(oci, `/v2/${pushed[0]!.name}/manifests/${again.manifest.digest}`)).toBe(200);
  });
});

describe('garbage collection', () => {
  let server: TestServer & { schema?: string };
  let oci: OciClient;

  beforeAll(async () => {
    // A grace of two seconds, so renewing it can be watched; runs below pass their own delay.
    server = await startTestServer({ configure: (c) => (c.gc.delayMs = 2000) });
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('deleting a manifest only (as skopeo delete does) frees its blobs once the grace is over, not before', async () => {
    const name = repoName('gc');
    const image = await oci.pushImage(name, 'v1', { layers: 2 });
    expect((await oci.fetch(`/v2/${name}/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
    const digests = [image.config.digest, ...image.layers.map((l) => l.digest)];

    await server.berth.registry.collector.run({ delayMs: 60_000 });
    const kept = await blobFiles(server);
    for (const digest of digests) expect(kept.has(digest)).toBe(true);
    // Within the grace, the repository still reaches them: a client re-pushing the manifest needs no upload.
    await oci.pushManifest(name, 'v1', image.bytes, MT.ociManifest);
    expect((await oci.fetch(`/v2/${name}/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);

    const report = await server.berth.registry.collector.run({ delayMs: 0 });
    expect(report.blobs.map((b) => b.digest)).toEqual(expect.arrayContaining(digests));
    const left = await blobFiles(server);
    for (const digest of digests) expect(left.has(digest)).toBe(false);
    await expectOciError(await oci.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('keeps what is still used: a blob another repository shares, the manifests still live, a tagged image', async () => {
    const a = repoName('gc');
    const b = repoName('gc');
    const shared = randomBlob(4096);
    const configA = await oci.pushBlob(a, Buffer.from('{"a":1}'), MT.ociConfig);
    const layerA = await oci.pushBlob(a, shared, MT.ociLayer);
    const imageA = await oci.pushManifest(a, 'v1', JSON.stringify(imageManifest({ config: configA, layers: [layerA] })), MT.ociManifest);
    const imageB = await oci.pushImage(b, 'v1');
    const layerB = await oci.pushBlob(b, shared, MT.ociLayer);
    const manifestB2 = await oci.pushManifest(b, 'v2', JSON.stringify(imageManifest({ config: imageB.config, layers: [layerB] })), MT.ociManifest);

    expect((await oci.fetch(`/v2/${a}/manifests/${imageA.digest}`, { method: 'DELETE' })).status).toBe(202);
    await server.berth.registry.collector.run({ delayMs: 0 });

    const files = await blobFiles(server);
    expect(files.has(configA.digest)).toBe(false);
    expect(files.has(layerA.digest)).toBe(true);
    for (const path of [`/v2/${b}/manifests/v1`, `/v2/${b}/manifests/${manifestB2.digest}`, `/v2/${b}/blobs/${layerB.digest}`, `/v2/${b}/blobs/${imageB.layers[0]!.digest}`]) {
      expect(await headStatus(oci, path)).toBe(200);
    }
    const pulled = Buffer.from(await (await oci.fetch(`/v2/${b}/blobs/${layerB.digest}`)).arrayBuffer());
    expect(digestOf(pulled)).toBe(layerB.digest);
  });

  it('a blob pushed without a manifest is kept for the grace, then goes; a client checking it renews the grace', async () => {
    const name = repoName('gc');
    const used = await oci.pushBlob(name, randomBlob(100));
    const idle = await oci.pushBlob(name, randomBlob(100));
    await server.berth.registry.collector.run();
    expect(await headStatus(oci, `/v2/${name}/blobs/${idle.digest}`)).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Past half the grace: a client's HEAD (a pusher checking what it need not upload) starts it again.
    expect(await headStatus(oci, `/v2/${name}/blobs/${used.digest}`)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await server.berth.registry.collector.run();

    await expectOciError(await oci.fetch(`/v2/${name}/blobs/${idle.digest}`), 404, 'BLOB_UNKNOWN');
    expect(await headStatus(oci, `/v2/${name}/blobs/${used.digest}`)).toBe(200);
    // Named by a manifest now, it stays whatever the grace.
    const config = await oci.pushBlob(name, Buffer.from('{}'), MT.ociConfig);
    await oci.pushManifest(name, 'v1', JSON.stringify(imageManifest({ config, layers: [{ ...used, mediaType: MT.ociLayer }] })), MT.ociManifest);
    await server.berth.registry.collector.run({ delayMs: 0 });
    expect(await headStatus(oci, `/v2/${name}/blobs/${used.digest}`)).toBe(200);
  });

  it('an upload in progress keeps the blobs its repository has received so far, whatever the grace', async () => {
    const name = repoName('gc');
    const first = await oci.pushBlob(name, randomBlob(300));
    const location = await oci.startUpload(name);
    await server.berth.registry.collector.run({ delayMs: 0 });
    expect(await headStatus(oci, `/v2/${name}/blobs/${first.digest}`)).toBe(200);
    expect((await oci.fetch(location, { method: 'DELETE' })).status).toBe(204);
    await server.berth.registry.collector.run({ delayMs: 0 });
    expect(await headStatus(oci, `/v2/${name}/blobs/${first.digest}`)).toBe(404);
  });

  it('a manifest whose blobs were collected meanwhile is refused with MANIFEST_BLOB_UNKNOWN, and pushing them again works', async () => {
    const name = repoName('gc');
    const configBytes = Buffer.from('{"late":true}');
    const layerBytes = randomBlob(500);
    const config = await oci.pushBlob(name, configBytes, MT.ociConfig);
    const layer = await oci.pushBlob(name, layerBytes, MT.ociLayer);
    await server.berth.registry.collector.run({ delayMs: 0 });
    const body = JSON.stringify(imageManifest({ config, layers: [layer] }));
    await expectOciError(await oci.putManifest(name, 'v1', body, MT.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
    await oci.pushBlob(name, configBytes, MT.ociConfig);
    await oci.pushBlob(name, layerBytes, MT.ociLayer);
    await oci.pushManifest(name, 'v1', body, MT.ociManifest);
    const pulled = Buffer.from(await (await oci.fetch(`/v2/${name}/blobs/${layer.digest}`)).arrayBuffer());
    expect(pulled.equals(layerBytes)).toBe(true);
  });

  it('a blob a manifest names cannot be deleted from under it: 409 DENIED, and the image stays whole', async () => {
    const name = repoName('gc');
    const image = await oci.pushImage(name, 'v1');
    const error = await expectOciError(await oci.fetch(`/v2/${name}/blobs/${image.layers[0]!.digest}`, { method: 'DELETE' }), 409, 'DENIED');
    expect(error.message).toContain(image.manifest.digest);
    await server.berth.registry.collector.run({ delayMs: 0 });
    expect(await headStatus(oci, `/v2/${name}/blobs/${image.layers[0]!.digest}`)).toBe(200);
  });

  it('a dry run says what would go and removes nothing', async () => {
    const name = repoName('gc');
    const blob = await oci.pushBlob(name, randomBlob(700));
    const dry = await server.berth.registry.collector.run({ dryRun: true, delayMs: 0 });
    expect(dry.dryRun).toBe(true);
    expect(dry.blobs.map((b) => b.digest)).toContain(blob.digest);
    expect(await headStatus(oci, `/v2/${name}/blobs/${blob.digest}`)).toBe(200);
    expect((await blobFiles(server)).has(blob.digest)).toBe(true);
  });

  it('berth gc runs beside the server on the same data and database, and prints what it removed (or would)', async () => {
    const name = repoName('gc');
    const blob = await oci.pushBlob(name, randomBlob(900));
    const user = await cliUser();
    const dry = await user.berthOk(['gc', ...storeFlags(server), '--dry-run', '--delay', '0']);
    expect(dry.stdout).toMatch(/^Would remove \d+ blobs? /);
    expect(dry.stdout).toContain(`${blob.digest}  900 bytes`);
    expect(await headStatus(oci, `/v2/${name}/blobs/${blob.digest}`)).toBe(200);

    const real = await user.berthOk(['gc', ...storeFlags(server), '--delay', '0', '--output', 'json']);
    const report = JSON.parse(real.stdout) as { blobs: Array<{ digest: string; size: number }>; dryRun: boolean };
    expect(report.dryRun).toBe(false);
    expect(report.blobs).toContainEqual({ digest: blob.digest, size: 900 });
    expect(await headStatus(oci, `/v2/${name}/blobs/${blob.digest}`)).toBe(404);
    expect((await blobFiles(server)).has(blob.digest)).toBe(false);

    const bad = await user.berth(['gc', ...storeFlags(server), '--delay', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('berth: --delay must be a duration such as 0, 30s or 1h, got "soon"\n');
  });
});

describe('garbage collection in the background', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer({
      configure: (c) => {
        c.gc.intervalMs = 300;
        c.gc.delayMs = 0;
        // Every upload session counts as abandoned at once: the collector's run purges them.
        c.uploadIdleHours = 0;
      },
    });
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  }

  it('runs at its interval, removes blobs and abandoned uploads with their staged bytes, and says so in /metrics', async () => {
    const name = repoName('bg');
    const blob = await oci.pushBlob(name, randomBlob(2048));
    // Every session is abandoned at once here, so a run may purge one before its chunk is recorded
    // (the PATCH then gets 404 or 416): try again until a chunk is staged for the collector to find.
    let location = '';
    let id = '';
    for (let attempt = 0; attempt < 20 && !id; attempt++) {
      location = await oci.startUpload(name);
      const patch = await oci.fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: randomBlob(4096) });
      await patch.body?.cancel();
      if (patch.status === 202) id = location.split('/').pop()!.split('?')[0]!;
      else expect([404, 416]).toContain(patch.status);
    }
    expect(id).not.toBe('');

    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ((await blobFiles(server)).has(blob.digest) || (await uploadFiles(server)).includes(id))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await blobFiles(server)).has(blob.digest)).toBe(false);
    expect(await uploadFiles(server)).not.toContain(id);
    await expectOciError(await oci.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');

    // Counted once the run that removed them has finished.
    const metricsDeadline = Date.now() + 10_000;
    while (Date.now() < metricsDeadline && !((await metric('berth_gc_blobs_removed_total')) >= 1)) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await metric('berth_gc_runs_total{outcome="success"}')).toBeGreaterThanOrEqual(1);
    expect(await metric('berth_gc_blobs_removed_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('berth_gc_bytes_removed_total')).toBeGreaterThanOrEqual(2048);
    expect(await metric('berth_gc_uploads_purged_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('berth_gc_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await metric('berth_gc_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, expectOciError, imageIndex, imageManifest, MT, OciClient, randomBlob, repoName, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { blobFiles } from '../support/storage.js';

/**
 * What goes with a manifest deleted through the OCI API: the untagged platform images of an
 * index and the referrers of a subject follow it; what is tagged, or still named, stays.
 */
describe('manifest lifecycle', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  const status = async (name: string, reference: string) => (await oci.fetch(`/v2/${name}/manifests/${reference}`, { method: 'HEAD' })).status;
  const collect = () => server.berth.registry.collector.run({ delayMs: 0 });

  /** An index over `count` platform images pushed by digest; returns the platforms, their blobs and the index. */
  async function pushIndex(name: string, tag: string, count = 2) {
    const platforms: Descriptor[] = [];
    const blobs: Descriptor[] = [];
    for (let i = 0; i < count; i++) {
      const config = await oci.pushBlob(name, Buffer.from(JSON.stringify({ architecture: `arch${i}`, os: 'linux', seed: randomBlob(4).toString('hex') })), MT.ociConfig);
      const layer = await oci.pushBlob(name, randomBlob(1024), MT.ociLayer);
      blobs.push(config, layer);
      const manifest = JSON.stringify(imageManifest({ config, layers: [layer] }));
      platforms.push(await oci.pushManifest(name, digestOf(manifest), manifest, MT.ociManifest));
    }
    const index = await oci.pushManifest(name, tag, JSON.stringify(imageIndex(platforms)), MT.ociIndex);
    return { platforms, blobs, index };
  }

  it('a platform image an index names cannot be deleted, so the index never breaks', async () => {
    const name = repoName('life');
    const { platforms, index } = await pushIndex(name, 'v1');
    const refused = await expectOciError(await oci.fetch(`/v2/${name}/manifests/${platforms[0]!.digest}`, { method: 'DELETE' }), 409, 'DENIED');
    expect(refused.message).toContain(index.digest);
    await collect();
    for (const platform of platforms) {
      expect(await status(name, platform.digest)).toBe(200);
      const body = await (await oci.fetch(`/v2/${name}/manifests/${platform.digest}`)).json() as { layers: Descriptor[] };
      expect((await oci.fetch(`/v2/${name}/blobs/${body.layers[0]!.digest}`, { method: 'HEAD' })).status).toBe(200);
    }
  });

  it('deleting an index takes its untagged platform images with it, and their bytes go; a tagged one stays whole', async () => {
    const name = repoName('life');
    const { platforms, blobs, index } = await pushIndex(name, 'v1', 3);
    await oci.pushManifest(name, 'solo', await (await oci.fetch(`/v2/${name}/manifests/${platforms[2]!.digest}`)).text(), MT.ociManifest);
    expect((await oci.fetch(`/v2/${name}/manifests/${index.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await status(name, platforms[0]!.digest)).toBe(404);
    expect(await status(name, platforms[1]!.digest)).toBe(404);
    expect(await status(name, 'solo')).toBe(200);
    await collect();
    const files = await blobFiles(server);
    for (const blob of blobs.slice(0, 4)) expect(files.has(blob.digest)).toBe(false);
    for (const blob of blobs.slice(4)) expect(files.has(blob.digest)).toBe(true);
  });

  it('a platform image two indexes share stays until neither names it', async () => {
    const name = repoName('life');
    const { platforms, index } = await pushIndex(name, 'v1');
    const second = await oci.pushManifest(name, 'v2', JSON.stringify(imageIndex([platforms[0]!])), MT.ociIndex);
    expect((await oci.fetch(`/v2/${name}/manifests/${index.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await status(name, platforms[0]!.digest)).toBe(200);
    expect(await status(name, platforms[1]!.digest)).toBe(404);
    expect((await oci.fetch(`/v2/${name}/manifests/${second.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await status(name, platforms[0]!.digest)).toBe(404);
  });

  it('referrers follow their subject: deleting it takes its untagged signatures and SBOMs; a tagged one stays', async () => {
    const name = repoName('life');
    const subject = await oci.pushImage(name, 'v1');
    const signature = await oci.pushImage(name, undefined, { subject: subject.manifest, artifactType: 'application/vnd.example.signature' });
    const sbom = await oci.pushImage(name, 'sbom', { subject: subject.manifest, artifactType: 'application/spdx+json' });
    const listed = (await (await oci.fetch(`/v2/${name}/referrers/${subject.manifest.digest}`)).json()) as { manifests: Descriptor[] };
    expect(listed.manifests.map((m) => m.digest).sort()).toEqual([signature.manifest.digest, sbom.manifest.digest].sort());

    expect((await oci.fetch(`/v2/${name}/manifests/${subject.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await status(name, signature.manifest.digest)).toBe(404);
    expect(await status(name, 'sbom')).toBe(200);
    await collect();
    const files = await blobFiles(server);
    expect(files.has(signature.layers[0]!.digest)).toBe(false);
    expect(files.has(sbom.layers[0]!.digest)).toBe(true);
  });

  it('a referrer pushed before its subject exists is kept (the spec allows either order)', async () => {
    const name = repoName('life');
    const absent = { mediaType: MT.ociManifest, digest: digestOf(randomBlob()), size: 123 };
    const early = await oci.pushImage(name, undefined, { subject: absent, artifactType: 'application/vnd.example.signature' });
    await collect();
    expect(await status(name, early.manifest.digest)).toBe(200);
    expect((await oci.fetch(`/v2/${name}/blobs/${early.layers[0]!.digest}`, { method: 'HEAD' })).status).toBe(200);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  digestOf,
  expectOciError,
  imageIndex,
  imageManifest,
  MT,
  OciClient,
  randomBlob,
  repoName,
  type Descriptor,
} from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('manifest validation', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('validate');
  let config: Descriptor;
  let layer: Descriptor;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    config = await oci.pushBlob(name, randomBlob(32), MT.ociConfig);
    layer = await oci.pushBlob(name, randomBlob(32), MT.ociLayer);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  async function expectRejected(body: Buffer | string, mediaType: string, status: number, code: string): Promise<void> {
    const response = await oci.putManifest(name, 'rejected', body, mediaType);
    await expectOciError(response, status, code);
    const tag = await oci.fetch(`/v2/${name}/manifests/rejected`, { method: 'HEAD' });
    expect(tag.status).toBe(404);
  }

  describe('references', () => {
    it('a layer unknown to the registry is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const missing = { mediaType: MT.ociLayer, digest: digestOf(randomBlob()), size: 64 };
      const body = JSON.stringify(imageManifest({ config, layers: [layer, missing] }));
      await expectRejected(body, MT.ociManifest, 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a config unknown to the registry is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const missing = { mediaType: MT.ociConfig, digest: digestOf(randomBlob()), size: 64 };
      await expectRejected(JSON.stringify(imageManifest({ config: missing, layers: [layer] })), MT.ociManifest, 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a blob that only another repository holds is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const elsewhere = await oci.pushBlob(repoName('elsewhere'), randomBlob(32), MT.ociLayer);
      const body = JSON.stringify(imageManifest({ config, layers: [elsewhere] }));
      await expectRejected(body, MT.ociManifest, 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('an index with an unknown child manifest is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const child = { mediaType: MT.ociManifest, digest: digestOf(randomBlob()), size: 300 };
      await expectRejected(JSON.stringify(imageIndex([child])), MT.ociIndex, 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('an index whose child lives only in another repository is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const other = await oci.pushImage(repoName('elsewhere'), 'v1');
      await expectRejected(JSON.stringify(imageIndex([other.manifest])), MT.ociIndex, 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a layer whose descriptor understates its size (0 for a 32-byte blob) is 400 MANIFEST_INVALID', async () => {
      for (const size of [0, 31, 33]) {
        const body = JSON.stringify(imageManifest({ config, layers: [{ ...layer, size }] }));
        await expectRejected(body, MT.ociManifest, 400, 'MANIFEST_INVALID');
      }
    });

    it('a config whose descriptor has the wrong size is 400 MANIFEST_INVALID', async () => {
      await expectRejected(JSON.stringify(imageManifest({ config: { ...config, size: config.size + 1 }, layers: [layer] })), MT.ociManifest, 400, 'MANIFEST_INVALID');
    });

    it('an index whose child descriptor has the wrong size is 400 MANIFEST_INVALID, the right size 201', async () => {
      const child = await oci.pushImage(name, 'child');
      await expectRejected(JSON.stringify(imageIndex([{ ...child.manifest, size: child.manifest.size - 1 }])), MT.ociIndex, 400, 'MANIFEST_INVALID');
      const response = await oci.putManifest(name, 'index', JSON.stringify(imageIndex([child.manifest])), MT.ociIndex);
      expect(response.status).toBe(201);
    });

    it('non-distributable layers need not be in the registry', async () => {
      const foreign = { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: digestOf(randomBlob()), size: 10 };
      const response = await oci.putManifest(name, 'foreign', JSON.stringify(imageManifest({ config, layers: [foreign] })), MT.ociManifest);
      expect(response.status).toBe(201);
    });
  });

  describe('manifests that name very many blobs', () => {
    // More digests than SQLite (32,766) or PostgreSQL (65,535 over both queries) take as parameters at once.
    it('36,000 unknown layers are one 400 MANIFEST_BLOB_UNKNOWN, not a database error', async () => {
      const layers = Array.from({ length: 36_000 }, (_, i) => ({ mediaType: 'x', digest: digestOf(`missing ${i}`), size: 1 }));
      const body = JSON.stringify(imageManifest({ config, layers }));
      expect(body.length).toBeLessThan(4 * 1024 * 1024);
      const error = await expectOciError(await oci.putManifest(name, 'rejected', body, MT.ociManifest), 400, 'MANIFEST_BLOB_UNKNOWN');
      expect((error.detail as { digests: string[] }).digests.length).toBeGreaterThan(0);
    });

    it('a manifest over 1,200 known layers is accepted and served back', async () => {
      const many = repoName('many');
      const layers: Descriptor[] = [];
      for (let i = 0; i < 1200; i++) layers.push(await oci.pushBlob(many, Buffer.from(`layer ${i} ${many}`), MT.ociLayer));
      const manyConfig = await oci.pushBlob(many, randomBlob(16), MT.ociConfig);
      const body = JSON.stringify(imageManifest({ config: manyConfig, layers }));
      const pushed = await oci.pushManifest(many, 'v1', body, MT.ociManifest);
      const back = await oci.fetch(`/v2/${many}/manifests/${pushed.digest}`);
      expect(await back.text()).toBe(body);
    }, 120_000);
  });

  describe('size', () => {
    it('a manifest over 4 MiB is 413', async () => {
      const padding = 'x'.repeat(4 * 1024 * 1024);
      const body = JSON.stringify(imageManifest({ config, layers: [layer], annotations: { padding } }));
      const response = await oci.putManifest(name, 'rejected', body, MT.ociManifest);
      await expectOciError(response, 413, 'SIZE_INVALID');
      expect((await oci.fetch(`/v2/${name}/manifests/rejected`, { method: 'HEAD' })).status).toBe(404);
    });

    it('a streamed manifest over 4 MiB (no Content-Length) is 413', async () => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      const response = await oci.fetch(`/v2/${name}/manifests/rejected`, {
        method: 'PUT',
        headers: { 'content-type': MT.ociManifest },
        body,
        duplex: 'half',
      } as RequestInit);
      await expectOciError(response, 413, 'SIZE_INVALID');
    });

    it('a manifest just under 4 MiB is accepted', async () => {
      const base = JSON.stringify(imageManifest({ config, layers: [layer], annotations: { padding: '' } }));
      const padding = 'y'.repeat(4 * 1024 * 1024 - Buffer.byteLength(base));
      const body = JSON.stringify(imageManifest({ config, layers: [layer], annotations: { padding } }));
      expect(Buffer.byteLength(body)).toBe(4 * 1024 * 1024);
      const response = await oci.putManifest(name, 'big', body, MT.ociManifest);
      expect(response.status).toBe(201);
    });
  });

  describe('malformed manifests are 400 MANIFEST_INVALID', () => {
    const cases: Array<[string, () => string, string]> = [
      ['an empty body', () => '', MT.ociManifest],
      ['invalid JSON', () => '{"schemaVersion": 2,', MT.ociManifest],
      ['a JSON array', () => '[]', MT.ociManifest],
      ['Content-Type not matching mediaType', () => JSON.stringify(imageManifest({ config, layers: [layer] })), MT.dockerManifest],
      ['an unknown media type', () => JSON.stringify({ ...imageManifest({ config, layers: [layer] }), mediaType: 'application/vnd.example+json' }), 'application/vnd.example+json'],
      ['no media type anywhere', () => JSON.stringify({ schemaVersion: 2, config, layers: [layer] }), ''],
      ['schemaVersion 1', () => JSON.stringify({ ...imageManifest({ config, layers: [layer] }), schemaVersion: 1 }), MT.ociManifest],
      ['no config', () => JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, layers: [layer] }), MT.ociManifest],
      ['layers not an array', () => JSON.stringify({ ...imageManifest({ config, layers: [] }), layers: layer }), MT.ociManifest],
      ['a descriptor with an invalid digest', () => JSON.stringify(imageManifest({ config, layers: [{ ...layer, digest: 'sha256:nothex' }] })), MT.ociManifest],
      ['a descriptor with a negative size', () => JSON.stringify(imageManifest({ config, layers: [{ ...layer, size: -1 }] })), MT.ociManifest],
      ['a descriptor with a string size', () => JSON.stringify(imageManifest({ config: { ...config, size: '32' } as unknown as Descriptor, layers: [layer] })), MT.ociManifest],
      ['a descriptor without mediaType', () => JSON.stringify(imageManifest({ config, layers: [{ digest: layer.digest, size: layer.size } as Descriptor] })), MT.ociManifest],
      ['non-string annotations', () => JSON.stringify({ ...imageManifest({ config, layers: [layer] }), annotations: { a: 1 } }), MT.ociManifest],
      ['an index without manifests', () => JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex }), MT.ociIndex],
      ['a Docker schema 1 manifest', () => JSON.stringify({ schemaVersion: 1, name, tag: 'x', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
    ];
    it.each(cases)('%s', async (_what, body, mediaType) => {
      await expectRejected(body(), mediaType, 400, 'MANIFEST_INVALID');
    });
  });

  it('a manifest without mediaType is taken as the Content-Type it was sent with', async () => {
    const { mediaType: _omit, ...rest } = imageManifest({ config, layers: [layer] });
    const bytes = Buffer.from(JSON.stringify(rest));
    const put = await oci.putManifest(name, 'no-media-type', bytes, MT.ociManifest);
    expect(put.status).toBe(201);
    const get = await oci.fetch(`/v2/${name}/manifests/no-media-type`);
    expect(get.headers.get('content-type')).toBe(MT.ociManifest);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
  });
});


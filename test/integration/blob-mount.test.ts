import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, OciClient, randomBlob, repoName, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('cross-repository blob mount', () => {
  let server: TestServer;
  let oci: OciClient;
  const source = repoName('source');
  let blob: Descriptor;
  const bytes = randomBlob(256);

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    blob = await oci.pushBlob(source, bytes);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  function mount(target: string, query: string): Promise<Response> {
    return oci.fetch(`/v2/${target}/blobs/uploads/?${query}`, { method: 'POST' });
  }

  /** A refused mount is an ordinary new upload session. */
  async function expectUploadSession(response: Response, target: string): Promise<void> {
    expect(response.status).toBe(202);
    const id = response.headers.get('docker-upload-uuid');
    expect(id).toBeTruthy();
    expect(response.headers.get('location')).toBe(`/v2/${target}/blobs/uploads/${id}`);
    expect(response.headers.get('range')).toBe('0-0');
    expect(response.headers.get('docker-content-digest')).toBeNull();
    expect((await oci.fetch(response.headers.get('location')!)).status).toBe(204);
  }

  it('mounts a blob that `from` holds: 201 with Location and Docker-Content-Digest', async () => {
    const target = repoName('target');
    const response = await mount(target, `mount=${blob.digest}&from=${source}`);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/${target}/blobs/${blob.digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(blob.digest);
    const get = await oci.fetch(`/v2/${target}/blobs/${blob.digest}`);
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
  });

  it('mounts from a nested repository name', async () => {
    const nested = `${repoName('org')}/team/app`;
    const nestedBlob = await oci.pushBlob(nested, randomBlob(32));
    const target = repoName('target');
    const response = await mount(target, `mount=${nestedBlob.digest}&from=${nested}`);
    expect(response.status).toBe(201);
  });

  it('a blob `from` does not hold falls back to a 202 upload session', async () => {
    const target = repoName('target');
    await expectUploadSession(await mount(target, `mount=${digestOf(randomBlob())}&from=${source}`), target);
    expect((await oci.fetch(`/v2/${target}/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('an unknown `from` repository falls back to a 202 upload session', async () => {
    const target = repoName('target');
    await expectUploadSession(await mount(target, `mount=${blob.digest}&from=${repoName('nobody')}`), target);
    expect((await oci.fetch(`/v2/${target}/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('an invalid mount digest falls back to a 202 upload session', async () => {
    const target = repoName('target');
    await expectUploadSession(await mount(target, `mount=sha256:totallywrong&from=${source}`), target);
  });

  it('a missing `from` falls back to a 202 upload session', async () => {
    const target = repoName('target');
    await expectUploadSession(await mount(target, `mount=${blob.digest}`), target);
    expect((await oci.fetch(`/v2/${target}/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('an invalid `from` name falls back to a 202 upload session', async () => {
    const target = repoName('target');
    await expectUploadSession(await mount(target, `mount=${blob.digest}&from=Not..Valid`), target);
  });

  it('the fallback session takes the blob as a normal upload', async () => {
    const target = repoName('target');
    const response = await mount(target, `mount=${blob.digest}&from=${repoName('nobody')}`);
    const location = response.headers.get('location')!;
    const put = await oci.fetch(`${location}?digest=${blob.digest}`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(201);
    expect((await oci.fetch(`/v2/${target}/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('a mounted blob can be referenced by a manifest in the target', async () => {
    const target = repoName('target');
    const config = await oci.pushBlob(source, randomBlob(16));
    for (const d of [config, blob]) expect((await mount(target, `mount=${d.digest}&from=${source}`)).status).toBe(201);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { ...config, mediaType: 'application/vnd.oci.image.config.v1+json' },
      layers: [{ ...blob, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    });
    const put = await oci.putManifest(target, 'mounted', manifest, 'application/vnd.oci.image.manifest.v1+json');
    expect(put.status).toBe(201);
  });
});

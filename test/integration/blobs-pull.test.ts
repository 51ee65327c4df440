import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, expectOciError, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('pulling blobs', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('pull');
  const bytes = randomBlob(100);
  const digest = digestOf(bytes);

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    await oci.pushBlob(name, bytes);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('GET returns the bytes with Docker-Content-Digest and Content-Length', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(response.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('HEAD has the same headers and no body', async () => {
    const get = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    await get.arrayBuffer();
    const head = await oci.fetch(`/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    for (const header of ['docker-content-digest', 'content-length', 'content-type', 'etag']) {
      expect(head.headers.get(header), header).toBe(get.headers.get(header));
    }
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=90-', 90, 99],
    ['bytes=-5', 95, 99],
    ['bytes=95-200', 95, 99],
  ])('Range %s answers 206 with Content-Range', async (range, start, end) => {
    const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { headers: { range } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/100`);
    expect(response.headers.get('content-length')).toBe(String(end - start + 1));
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes.subarray(start, end + 1));
  });

  it.each(['bytes=100-', 'bytes=150-160'])('Range %s starting past the end answers 416', async (range) => {
    const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { headers: { range } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe('bytes */100');
    await response.arrayBuffer();
  });

  it('an unknown blob is 404 BLOB_UNKNOWN', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/${digestOf(randomBlob())}`);
    await expectOciError(response, 404, 'BLOB_UNKNOWN');
  });

  it('HEAD of an unknown blob is a bodiless 404', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/${digestOf(randomBlob())}`, { method: 'HEAD' });
    expect(response.status).toBe(404);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('a blob of another repository is 404 BLOB_UNKNOWN here', async () => {
    const response = await oci.fetch(`/v2/${repoName('other')}/blobs/${digest}`);
    await expectOciError(response, 404, 'BLOB_UNKNOWN');
  });

  it.each(['sha256:totallywrong', 'sha256:' + 'A'.repeat(64), 'md5:d41d8cd98f00b204e9800998ecf8427e', 'nocolon'])(
    'the invalid digest %s is 400 DIGEST_INVALID',
    async (bad) => {
      const response = await oci.fetch(`/v2/${name}/blobs/${bad}`);
      await expectOciError(response, 400, 'DIGEST_INVALID');
    },
  );
});

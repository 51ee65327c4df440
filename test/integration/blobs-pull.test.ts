import { readdirSync } from 'node:fs';
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

describe('streaming large blobs', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('large');
  const bytes = randomBlob(9 * 1024 * 1024 + 123);
  const digest = digestOf(bytes);

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    await oci.pushBlob(name, bytes);
  });
  afterAll(async () => server.close());

  it('streams a blob bigger than the response buffers whole, and a range across buffer edges', async () => {
    const whole = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(whole.status).toBe(200);
    expect(digestOf(new Uint8Array(await whole.arrayBuffer()))).toBe(digest);
    const start = 1024 * 1024 - 10;
    const end = 5 * 1024 * 1024 + 10;
    const part = await oci.fetch(`/v2/${name}/blobs/${digest}`, { headers: { range: `bytes=${start}-${end}` } });
    expect(part.status).toBe(206);
    expect(digestOf(new Uint8Array(await part.arrayBuffer()))).toBe(digestOf(bytes.subarray(start, end + 1)));
  });

  it('survives clients that hang up mid-download, without leaking file descriptors', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    // The server notices each hang-up on its own schedule; give it a moment.
    for (let i = 0; i < 50 && openFds() > before + 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBeLessThanOrEqual(before + 2);
    const after = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(digestOf(new Uint8Array(await after.arrayBuffer()))).toBe(digest);
    expect(await server.serverErrors()).toEqual([]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Bytes, digestOf, expectOciError, OciClient, randomBlob, readOciError, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('chunked blob uploads', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('chunked');

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  function patch(location: string, body: Bytes, contentRange?: string): Promise<Response> {
    return oci.fetch(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', ...(contentRange !== undefined ? { 'content-range': contentRange } : {}) },
      body,
    });
  }

  /** PATCHes `chunk` at `start` with its Content-Range and expects 202 with the new Range. */
  async function sendChunk(location: string, chunk: Bytes, start: number): Promise<Response> {
    const response = await patch(location, chunk, `${start}-${start + chunk.length - 1}`);
    expect(response.status, await response.text()).toBe(202);
    expect(response.headers.get('range')).toBe(`0-${start + chunk.length - 1}`);
    return response;
  }

  async function expectProgress(location: string, range: string): Promise<void> {
    const response = await oci.fetch(location);
    expect(response.status).toBe(204);
    expect(response.headers.get('range')).toBe(range);
    expect(response.headers.get('location')).toBe(location);
  }

  async function expectBlob(bytes: Bytes, digest = digestOf(bytes)): Promise<void> {
    const response = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    // Compared by digest: a deep comparison of large buffers is slow.
    expect(digestOf(new Uint8Array(await response.arrayBuffer()))).toBe(digestOf(bytes));
  }

  it('in-order PATCHes answer 202 with Location and Range 0-<end>, GET reports progress, PUT commits', async () => {
    const bytes = randomBlob(3000);
    const location = await oci.startUpload(name);
    const first = await sendChunk(location, bytes.subarray(0, 1000), 0);
    expect(first.headers.get('location')).toBe(location);
    expect(first.headers.get('docker-upload-uuid')).toBe(location.split('/').pop());
    await expectProgress(location, '0-999');
    await sendChunk(location, bytes.subarray(1000, 3000), 1000);
    await expectProgress(location, '0-2999');

    const digest = digestOf(bytes);
    const put = await oci.fetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/${name}/blobs/${digest}`);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(bytes);
  });

  it('the final PUT may carry the last chunk', async () => {
    const bytes = randomBlob(2500);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 1000), 0);
    const digest = digestOf(bytes);
    const put = await oci.fetch(`${location}?digest=${digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': '1000-2499' },
      body: bytes.subarray(1000),
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(bytes);
  });

  it('the final PUT may carry the last chunk without Content-Range', async () => {
    const bytes = randomBlob(1500);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 500), 0);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT', body: bytes.subarray(500) });
    expect(put.status).toBe(201);
    await expectBlob(bytes);
  });

  it('a PATCH without Content-Range streams the body on (chunked transfer encoding)', async () => {
    const bytes = randomBlob(200_000);
    const location = await oci.startUpload(name);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 30_000) controller.enqueue(bytes.subarray(at, at + 30_000));
        controller.close();
      },
    });
    const response = await oci.fetch(location, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(202);
    expect(response.headers.get('range')).toBe(`0-${bytes.length - 1}`);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(bytes);
  });

  it('an out-of-order chunk is 416 with the current Range', async () => {
    const location = await oci.startUpload(name);
    await sendChunk(location, randomBlob(100), 0);
    const response = await patch(location, randomBlob(100), '200-299');
    expect(response.status).toBe(416);
    expect(response.headers.get('range')).toBe('0-99');
    await readErrorBody(response);
    await expectProgress(location, '0-99');
  });

  it('a retried earlier chunk is 416 with the current Range', async () => {
    const bytes = randomBlob(200);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 100), 0);
    await sendChunk(location, bytes.subarray(100, 200), 100);
    const response = await patch(location, bytes.subarray(0, 100), '0-99');
    expect(response.status).toBe(416);
    expect(response.headers.get('range')).toBe('0-199');
    await readErrorBody(response);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(bytes);
  });

  it('a final PUT with an out-of-order chunk is 416', async () => {
    const bytes = randomBlob(200);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 100), 0);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, {
      method: 'PUT',
      headers: { 'content-range': '150-249' },
      body: bytes.subarray(100),
    });
    expect(put.status).toBe(416);
    expect(put.headers.get('range')).toBe('0-99');
    await readErrorBody(put);
  });

  it.each(['bogus', '10', '5-2', 'bytes=a-b', '-5'])('the malformed Content-Range %s is 416 with the current Range', async (header) => {
    const location = await oci.startUpload(name);
    await sendChunk(location, randomBlob(10), 0);
    const response = await patch(location, randomBlob(10), header);
    expect(response.status).toBe(416);
    expect(response.headers.get('range')).toBe('0-9');
    await readErrorBody(response);
  });

  it('a Content-Range whose length differs from the body is 416 and the upload keeps its size', async () => {
    const bytes = randomBlob(100);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 50), 0);
    const response = await patch(location, randomBlob(80), '50-99');
    expect(response.status).toBe(416);
    expect(response.headers.get('range')).toBe('0-49');
    await readErrorBody(response);
    await expectProgress(location, '0-49');
    // The refused bytes must not end up in the blob.
    await sendChunk(location, bytes.subarray(50), 50);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(bytes);
  });

  it('bytes of a refused chunk are not committed by a PUT that follows it', async () => {
    const bytes = randomBlob(50);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes, 0);
    expect((await patch(location, randomBlob(30), '50-59')).status).toBe(416);
    const put = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(bytes);
  });

  it('two PATCHes at one offset at once: one wins, the other is 416 with the current Range, and the blob is exactly the winner\'s bytes', async () => {
    const location = await oci.startUpload(name);
    const first = randomBlob(1000);
    await sendChunk(location, first, 0);
    const [a, b] = [randomBlob(3 * 1024 * 1024), randomBlob(3 * 1024 * 1024)];
    // Each body sends half, then waits: both requests have read the session before either can finish.
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const [gateA, gateB] = [gate(), gate()];
    const body = (bytes: Bytes, wait: Promise<void>) =>
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.subarray(0, bytes.length / 2));
          await wait;
          controller.enqueue(bytes.subarray(bytes.length / 2));
          controller.close();
        },
      });
    const send = (bytes: Bytes, wait: Promise<void>) =>
      oci.fetch(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `1000-${1000 + bytes.length - 1}` },
        body: body(bytes, wait),
        duplex: 'half',
      } as RequestInit);
    const racing = [send(a, gateA.opened), send(b, gateB.opened)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    gateA.open();
    const winner = await racing[0]!;
    gateB.open();
    const loser = await racing[1]!;
    expect(winner.status).toBe(202);
    expect(loser.status).toBe(416);
    expect(loser.headers.get('range')).toBe(`0-${1000 + a.length - 1}`);
    expect((await readOciError(loser)).code).toBe('BLOB_UPLOAD_INVALID');
    const content = Buffer.concat([first, a]);
    const put = await oci.fetch(`${location}?digest=${digestOf(content)}`, { method: 'PUT' });
    expect(put.status, await put.text()).toBe(201);
    const pulled = await oci.fetch(`/v2/${name}/blobs/${digestOf(content)}`);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(content)).toBe(true);
  });

  it('DELETE cancels the upload: 204, then 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await oci.startUpload(name);
    await sendChunk(location, randomBlob(10), 0);
    const response = await oci.fetch(location, { method: 'DELETE' });
    expect(response.status).toBe(204);
    await expectOciError(await oci.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await patch(location, randomBlob(10), '10-19'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await oci.fetch(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('an upload id used under another repository name is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await oci.startUpload(name);
    const id = location.split('/').pop()!;
    const elsewhere = `/v2/${repoName('other')}/blobs/uploads/${id}`;
    const bytes = randomBlob(10);
    await expectOciError(await oci.fetch(elsewhere), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await patch(elsewhere, bytes, '0-9'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await oci.fetch(`${elsewhere}?digest=${digestOf(bytes)}`, { method: 'PUT', body: bytes }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await oci.fetch(elsewhere, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    // The session itself is untouched.
    await expectProgress(location, '0-0');
  });

  it('an unknown upload id is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    await expectOciError(await oci.fetch(`/v2/${name}/blobs/uploads/00000000-0000-0000-0000-000000000000`), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await oci.fetch(`/v2/${name}/blobs/uploads/not-a-uuid`, { method: 'PATCH', body: randomBlob(5) }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a chunked upload whose digest does not match is 400 DIGEST_INVALID and stores nothing', async () => {
    const bytes = randomBlob(100);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes, 0);
    const wrong = digestOf(randomBlob(100));
    await expectOciError(await oci.fetch(`${location}?digest=${wrong}`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    expect((await oci.fetch(`/v2/${name}/blobs/${wrong}`, { method: 'HEAD' })).status).toBe(404);
    expect((await oci.fetch(`/v2/${name}/blobs/${digestOf(bytes)}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('a chunked upload can be committed under a sha512 digest', async () => {
    const bytes = randomBlob(300);
    const location = await oci.startUpload(name);
    await sendChunk(location, bytes.subarray(0, 100), 0);
    await sendChunk(location, bytes.subarray(100), 100);
    const digest = digestOf(bytes, 'sha512');
    const put = await oci.fetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(bytes, digest);
  });
});

describe('chunked uploads across a restart', () => {
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('completes on a new server, re-hashing the staged bytes', async () => {
    server = await startTestServer();
    const name = repoName('restart');
    const bytes = randomBlob(5000);
    let oci = new OciClient(server.url);
    const location = await oci.startUpload(name);
    const chunk = await oci.fetch(location, { method: 'PATCH', headers: { 'content-range': '0-2999' }, body: bytes.subarray(0, 3000) });
    expect(chunk.status).toBe(202);

    server = await server.restart();
    oci = new OciClient(server.url);
    const status = await oci.fetch(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-2999');
    const more = await oci.fetch(location, { method: 'PATCH', headers: { 'content-range': '3000-3999' }, body: bytes.subarray(3000, 4000) });
    expect(more.status).toBe(202);
    expect(more.headers.get('range')).toBe('0-3999');

    server = await server.restart();
    oci = new OciClient(server.url);
    const digest = digestOf(bytes);
    const put = await oci.fetch(`${location}?digest=${digest}`, { method: 'PUT', body: bytes.subarray(4000) });
    expect(put.status).toBe(201);
    const get = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
    expect(await server.serverErrors()).toEqual([]);
  });

  it('a refused chunk before a restart leaves no bytes in the upload', async () => {
    server = await startTestServer();
    const name = repoName('restart');
    const bytes = randomBlob(100);
    let oci = new OciClient(server.url);
    const location = await oci.startUpload(name);
    expect((await oci.fetch(location, { method: 'PATCH', headers: { 'content-range': '0-99' }, body: bytes })).status).toBe(202);
    const refused = await oci.fetch(location, { method: 'PATCH', headers: { 'content-range': '100-109' }, body: randomBlob(40) });
    expect(refused.status).toBe(416);

    server = await server.restart();
    oci = new OciClient(server.url);
    const digest = digestOf(bytes);
    const put = await oci.fetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(put.status, await put.text()).toBe(201);
    const get = await oci.fetch(`/v2/${name}/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
    expect(await server.serverErrors()).toEqual([]);
  });
});

/** A 416 on an upload carries an OCI error body saying why. */
async function readErrorBody(response: Response): Promise<void> {
  expect((await readOciError(response)).code).toBe('BLOB_UPLOAD_INVALID');
}

describe('two nodes on one data folder and database', () => {
  it('a chunked upload started on one node continues and completes on the other', async () => {
    const first = await startTestServer();
    // The second node shares the first one's folder and schema; the first cleans both up.
    const second = await startTestServer({ dataDir: first.dataDir, ...(first.schema ? { schema: first.schema } : {}) });
    try {
      const name = repoName('nodes');
      const bytes = randomBlob(6000);
      const a = new OciClient(first.url);
      const b = new OciClient(second.url);
      const location = await a.startUpload(name);
      const one = await a.fetch(location, { method: 'PATCH', headers: { 'content-range': '0-1999' }, body: bytes.subarray(0, 2000) });
      expect(one.status).toBe(202);
      const two = await b.fetch(location, { method: 'PATCH', headers: { 'content-range': '2000-3999' }, body: bytes.subarray(2000, 4000) });
      expect(two.status).toBe(202);
      expect(two.headers.get('range')).toBe('0-3999');
      // Back on the first node, whose running hash stopped at 2000 bytes: it must re-hash.
      const put = await a.fetch(`${location}?digest=${digestOf(bytes)}`, {
        method: 'PUT',
        headers: { 'content-range': '4000-5999' },
        body: bytes.subarray(4000),
      });
      expect(put.status, await put.text()).toBe(201);
      for (const node of [a, b]) {
        const get = await node.fetch(`/v2/${name}/blobs/${digestOf(bytes)}`);
        expect(digestOf(new Uint8Array(await get.arrayBuffer()))).toBe(digestOf(bytes));
      }
      expect(await first.serverErrors()).toEqual([]);
      expect(await second.serverErrors()).toEqual([]);
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('a configured minimum chunk size', () => {
  it('is advertised as OCI-Chunk-Min-Length on POST, and absent by default', async () => {
    const server = await startTestServer({ configure: (c) => (c.registry.chunkMinLength = 5 * 1024 * 1024) });
    const plain = await startTestServer();
    try {
      const response = await new OciClient(server.url).fetch(`/v2/${repoName('min')}/blobs/uploads/`, { method: 'POST' });
      expect(response.status).toBe(202);
      expect(response.headers.get('oci-chunk-min-length')).toBe(String(5 * 1024 * 1024));
      const none = await new OciClient(plain.url).fetch(`/v2/${repoName('min')}/blobs/uploads/`, { method: 'POST' });
      expect(none.headers.get('oci-chunk-min-length')).toBeNull();
    } finally {
      await server.close();
      await plain.close();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Bytes, digestOf, expectOciError, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('monolithic blob uploads', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('mono');

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  async function expectBlob(repo: string, bytes: Bytes, digest = digestOf(bytes)): Promise<void> {
    const response = await oci.fetch(`/v2/${repo}/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  }

  async function expectNoBlob(repo: string, digest: string): Promise<void> {
    expect((await oci.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
  }

  it('POST opens a session: 202, relative Location, Docker-Upload-UUID and Range 0-0', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(response.status).toBe(202);
    const id = response.headers.get('docker-upload-uuid');
    expect(id).toMatch(UUID);
    expect(response.headers.get('location')).toBe(`/v2/${name}/blobs/uploads/${id}`);
    expect(response.headers.get('range')).toBe('0-0');
  });

  it('POST without the trailing slash opens a session too', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/uploads`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]+$`));
  });

  it('POST then PUT ?digest= with the body answers 201 with Location and Docker-Content-Digest', async () => {
    const bytes = randomBlob(1000);
    const digest = digestOf(bytes);
    const location = await oci.startUpload(name);
    const response = await oci.fetch(`${location}?digest=${digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/${name}/blobs/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, bytes);
    // The session is closed once the blob is committed.
    await expectOciError(await oci.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a single POST ?digest= answers 201', async () => {
    const bytes = randomBlob(500);
    const digest = digestOf(bytes);
    const response = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/${name}/blobs/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, bytes);
  });

  it('an empty blob can be pushed', async () => {
    const bytes = Buffer.alloc(0);
    const location = await oci.startUpload(name);
    const response = await oci.fetch(`${location}?digest=${digestOf(bytes)}`, { method: 'PUT' });
    expect(response.status).toBe(201);
    const head = await oci.fetch(`/v2/${name}/blobs/${digestOf(bytes)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('0');
  });

  it('PUT with a digest of other content is 400 DIGEST_INVALID and stores nothing', async () => {
    const bytes = randomBlob(300);
    const claimed = digestOf(randomBlob(300));
    const location = await oci.startUpload(name);
    const response = await oci.fetch(`${location}?digest=${claimed}`, { method: 'PUT', body: bytes });
    await expectOciError(response, 400, 'DIGEST_INVALID');
    await expectNoBlob(name, claimed);
    await expectNoBlob(name, digestOf(bytes));
  });

  it('a single POST with a wrong digest is 400 DIGEST_INVALID and stores nothing', async () => {
    const bytes = randomBlob(300);
    const claimed = digestOf(randomBlob(300));
    const response = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: bytes });
    await expectOciError(response, 400, 'DIGEST_INVALID');
    await expectNoBlob(name, claimed);
    await expectNoBlob(name, digestOf(bytes));
  });

  it('a single POST with a malformed digest is 400 DIGEST_INVALID', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=sha256:totallywrong`, { method: 'POST', body: randomBlob(10) });
    await expectOciError(response, 400, 'DIGEST_INVALID');
  });

  it('PUT without ?digest= is 400 DIGEST_INVALID and the session stays open', async () => {
    const location = await oci.startUpload(name);
    const response = await oci.fetch(location, { method: 'PUT', body: randomBlob(10) });
    await expectOciError(response, 400, 'DIGEST_INVALID');
    expect((await oci.fetch(location)).status).toBe(204);
  });

  it('sha512 digests work for PUT and single POST', async () => {
    const bytes = randomBlob(700);
    const digest = digestOf(bytes, 'sha512');
    const location = await oci.startUpload(name);
    const put = await oci.fetch(`${location}?digest=${digest}`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, bytes, digest);

    const other = randomBlob(200);
    const otherDigest = digestOf(other, 'sha512');
    const post = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=${otherDigest}`, { method: 'POST', body: other });
    expect(post.status).toBe(201);
    await expectBlob(name, other, otherDigest);
  });

  it('a sha512 digest that does not match is 400 DIGEST_INVALID', async () => {
    const bytes = randomBlob(100);
    const location = await oci.startUpload(name);
    const response = await oci.fetch(`${location}?digest=${digestOf(randomBlob(100), 'sha512')}`, { method: 'PUT', body: bytes });
    await expectOciError(response, 400, 'DIGEST_INVALID');
  });

  it('pushing a blob the registry already holds links it into the new repository', async () => {
    const bytes = randomBlob(100);
    await oci.pushBlob(name, bytes);
    const other = repoName('again');
    await oci.pushBlob(other, bytes);
    await expectBlob(other, bytes);
  });

  it('concurrent pushes of the same blob all succeed', async () => {
    const bytes = randomBlob(4096);
    const repos = [name, name, name, repoName('race'), repoName('race')];
    const responses = await Promise.all(
      repos.map((repo) => oci.fetch(`/v2/${repo}/blobs/uploads/?digest=${digestOf(bytes)}`, { method: 'POST', body: bytes })),
    );
    expect(responses.map((r) => r.status)).toEqual(repos.map(() => 201));
    for (const repo of new Set(repos)) await expectBlob(repo, bytes);
  });

  it('a large blob streams through', async () => {
    const bytes = randomBlob(3 * 1024 * 1024 + 17);
    await oci.pushBlob(name, bytes);
    const response = await oci.fetch(`/v2/${name}/blobs/${digestOf(bytes)}`);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    // Compared by digest: a deep comparison of megabytes takes far too long.
    expect(digestOf(new Uint8Array(await response.arrayBuffer()))).toBe(digestOf(bytes));
  });
});

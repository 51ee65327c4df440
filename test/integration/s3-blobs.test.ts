import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth, registryToken } from '../support/iam.js';
import { expectOciError, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { requireTestS3 } from '../support/s3.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;

/** Blob GETs with blobs in S3: a presigned redirect after authorization, or the bytes through Berth. */
describe('blobs in S3', () => {
  const s3 = requireTestS3();

  describe('with redirects (the default)', () => {
    let server: TestServer;
    let oci: OciClient;
    const namespace = `s3ns${Date.now().toString(36)}`;
    const name = `${namespace}/app`;
    const blob = randomBlob(3 * MiB + 5);
    let digest: string;

    beforeAll(async () => {
      server = await startTestServer({ auth: 'iam' });
      await addNamespaces(server, namespace);
      const { body } = await registryToken(server.url, basicAuth(server.berth.ownerApiKey!), [`repository:${name}:pull,push`]);
      oci = new OciClient(server.url, `Bearer ${body.token}`);
      digest = (await oci.pushBlob(name, blob)).digest;
    });
    afterAll(async () => server.close());

    it('answers 307 to a short-lived presigned URL on the object store, which serves the bytes', async () => {
      const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { redirect: 'manual' });
      expect(response.status).toBe(307);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin).toBe(s3.endpoint);
      expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      const direct = await fetch(location);
      expect(direct.status).toBe(200);
      expect(Buffer.from(await direct.arrayBuffer()).equals(blob)).toBe(true);
    });

    it('serves a Range through the redirect', async () => {
      const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { headers: { range: 'bytes=1048570-2097160' } });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes 1048570-2097160/${blob.length}`);
      expect(Buffer.from(await response.arrayBuffer()).equals(blob.subarray(1048570, 2097161))).toBe(true);
    });

    it('answers HEAD itself, with the size and digest', async () => {
      const response = await oci.fetch(`/v2/${name}/blobs/${digest}`, { method: 'HEAD', redirect: 'manual' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(blob.length));
      expect(response.headers.get('docker-content-digest')).toBe(digest);
    });

    it('redirects only after authorization: anonymous callers get the challenge, other repositories look missing', async () => {
      const anonymous = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { redirect: 'manual' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('location')).toBeNull();
      const elsewhere = await oci.fetch(`/v2/${namespace}/other/blobs/${digest}`, { redirect: 'manual' });
      expect(elsewhere.headers.get('location')).toBeNull();
      const missing = await oci.fetch(`/v2/${name}/blobs/sha256:${'0'.repeat(64)}`, { redirect: 'manual' });
      expect(missing.headers.get('location')).toBeNull();
      await expectOciError(missing, 404, 'BLOB_UNKNOWN');
    });
  });

  describe('with redirects off', () => {
    let server: TestServer;
    let oci: OciClient;
    const name = repoName('s3-proxy');
    const blob = randomBlob(2 * MiB + 3);
    let digest: string;

    beforeAll(async () => {
      server = await startTestServer({ configure: (config) => config.storage.kind === 's3' && (config.storage.s3.redirect = false) });
      oci = new OciClient(server.url);
      digest = (await oci.pushBlob(name, blob)).digest;
    });
    afterAll(async () => server.close());

    it('passes the bytes through, whole and by Range', async () => {
      const whole = await oci.fetch(`/v2/${name}/blobs/${digest}`, { redirect: 'manual' });
      expect(whole.status).toBe(200);
      expect(whole.headers.get('docker-content-digest')).toBe(digest);
      expect(Buffer.from(await whole.arrayBuffer()).equals(blob)).toBe(true);
      const part = await oci.fetch(`/v2/${name}/blobs/${digest}`, { headers: { range: 'bytes=-10' }, redirect: 'manual' });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer()).equals(blob.subarray(blob.length - 10))).toBe(true);
    });
  });
});

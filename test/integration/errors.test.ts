import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, expectOciError, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A GET whose path reaches the server exactly as written (fetch would resolve `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'GET', path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('errors', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('errors');
  let digest: string;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    digest = (await oci.pushImage(name, 'v1')).manifest.digest;
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('an error body is exactly {"errors":[{code,message,detail}]} served as application/json', async () => {
    const missing = digestOf(randomBlob());
    const response = await oci.fetch(`/v2/${name}/blobs/${missing}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
    expect(await response.json()).toEqual({
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: missing } }],
    });
  });

  it('errors carry the API version header too', async () => {
    const response = await oci.fetch(`/v2/${name}/manifests/nope`);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    await expectOciError(response, 404, 'MANIFEST_UNKNOWN');
  });

  describe('wrong method on a known path is 405 UNSUPPORTED with Allow', () => {
    const cases: Array<[string, () => string, string[]]> = [
      ['PUT', () => '/v2/', ['GET', 'HEAD']],
      ['DELETE', () => '/v2/_catalog', ['GET', 'HEAD']],
      ['POST', () => `/v2/${name}/tags/list`, ['GET', 'HEAD']],
      ['GET', () => `/v2/${name}/blobs/uploads`, ['POST']],
      ['PATCH', () => `/v2/${name}/manifests/v1`, ['GET', 'HEAD', 'PUT', 'DELETE']],
      ['POST', () => `/v2/${name}/manifests/v1`, ['GET', 'HEAD', 'PUT', 'DELETE']],
      ['PUT', () => `/v2/${name}/blobs/${digest}`, ['GET', 'HEAD', 'DELETE']],
      ['PUT', () => `/v2/${name}/blobs/uploads/`, ['POST']],
      ['POST', () => `/v2/${name}/blobs/uploads/00000000-0000-0000-0000-000000000000`, ['GET', 'PATCH', 'PUT', 'DELETE']],
      ['DELETE', () => `/v2/${name}/referrers/${digest}`, ['GET']],
    ];
    it.each(cases)('%s %s', async (method, path, allowed) => {
      const response = await oci.fetch(path(), { method });
      expect(response.headers.get('allow')?.split(/,\s*/).sort()).toEqual([...allowed].sort());
      await expectOciError(response, 405, 'UNSUPPORTED');
    });
  });

  it('HEAD on tags/list and _catalog answers like GET without a body', async () => {
    for (const path of [`/v2/${name}/tags/list`, '/v2/_catalog']) {
      const response = await oci.fetch(path, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
    }
  });

  it('a Content-Type that is not a media type is a 415 OCI error, not a framework error', async () => {
    const response = await oci.fetch(`/v2/${name}/manifests/v2`, {
      method: 'PUT',
      headers: { 'content-type': 'garbage' },
      body: '{}',
    });
    await expectOciError(response, 415, 'UNSUPPORTED');
  });

  it('an unknown endpoint is a 404 OCI error', async () => {
    await expectOciError(await oci.fetch(`/v2/${name}/nothing-here`), 404, 'UNSUPPORTED');
  });

  describe('invalid repository names are 400 NAME_INVALID', () => {
    const names: Array<[string, string]> = [
      ['upper case', 'Upper/case'],
      ['a double dot', 'a..b'],
      ['a leading separator', '-abc'],
      ['a trailing slash', 'abc/'],
      ['an empty component', 'abc//def'],
      ['an escaped slash', 'abc%2Fdef'],
      ['more than 255 characters', 'a'.repeat(256)],
      ['256 characters over components', `${'a'.repeat(127)}/${'b'.repeat(128)}`],
    ];
    it.each(names)('%s (%s) on every endpoint', async (_what, bad) => {
      const paths = [
        `/v2/${bad}/tags/list`,
        `/v2/${bad}/manifests/v1`,
        `/v2/${bad}/blobs/${digest}`,
        `/v2/${bad}/referrers/${digest}`,
      ];
      for (const path of paths) await expectOciError(await oci.fetch(path), 400, 'NAME_INVALID');
      await expectOciError(await oci.fetch(`/v2/${bad}/blobs/uploads/`, { method: 'POST' }), 400, 'NAME_INVALID');
    });

    it('a `..` path segment', async () => {
      for (const path of [`/v2/${name}/../other/tags/list`, `/v2/../${name}/manifests/v1`]) {
        const response = await rawGet(server.url, path);
        expect(response.status, path).toBe(400);
        expect(response.contentType).toMatch(/^application\/json\b/);
        expect((JSON.parse(response.body) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('NAME_INVALID');
      }
    });

    it('a name of exactly 255 characters is valid', async () => {
      const longest = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
      expect(longest).toHaveLength(255);
      await expectOciError(await oci.fetch(`/v2/${longest}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      await oci.pushImage(longest, 'v1');
      expect((await oci.fetch(`/v2/${longest}/manifests/v1`, { method: 'HEAD' })).status).toBe(200);
    });
  });
});

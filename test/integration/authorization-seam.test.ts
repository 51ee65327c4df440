import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access, Caller } from '../../src/auth/access.js';
import type { Authenticator } from '../../src/auth/authenticate.js';
import type { Authorizer } from '../../src/auth/authorize.js';
import { digestOf, expectOciError, OciClient, randomBlob, type PushedImage } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The /v2 surface through its authorization seam, with a small policy of its own: `admin` may do
 * anything, `alice` anything under `alice/`, anonymous callers only pull under `public/`. What is
 * tested is what the registry does with the answers: a forbidden repository must look exactly like
 * a missing one, so access cannot be used to probe for existence.
 */
const authenticator: Authenticator = {
  async authenticate(headers) {
    const id = headers['x-test-principal'];
    return typeof id === 'string' ? { kind: 'principal', id } : { kind: 'anonymous' };
  },
};

const authorizer: Authorizer = {
  async authorize(caller: Caller, access: Access) {
    const all = new Set<string>(access.actions);
    if (caller.kind === 'principal' && caller.id === 'admin') return all;
    if (access.type === 'registry') return caller.kind === 'principal' ? all : new Set();
    if (caller.kind === 'principal' && access.name.startsWith(`${caller.id}/`)) return all;
    if (access.name.startsWith('public/')) return new Set(access.actions.filter((a) => a === 'pull'));
    return new Set();
  },
};

function as(principal: string | undefined): RequestInit['headers'] {
  return principal ? { 'x-test-principal': principal } : {};
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

/** A response with the requested repository name taken out, so two names can be compared. */
async function answer(response: Response, name: string): Promise<Answer> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.text()).replaceAll(name, '<name>'),
  };
}

describe('the authorization seam', () => {
  let server: TestServer;
  let oci: OciClient;
  let secret: PushedImage;
  let referrer: PushedImage;

  beforeAll(async () => {
    server = await startTestServer({ auth: { authenticator, authorizer } });
    const admin = new OciClient(server.url);
    const fetchAsAdmin = admin.fetch.bind(admin);
    admin.fetch = (path, init) => fetchAsAdmin(path, { ...init, headers: { ...(init?.headers ?? {}), ...as('admin') } });
    secret = await admin.pushImage('secret/app', 'v1');
    referrer = await admin.pushImage('secret/app', undefined, { subject: secret.manifest, artifactType: 'application/x.sig' });
    await admin.pushImage('alice/app', 'v1');
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  describe('a repository the caller may not pull answers exactly like one that does not exist', () => {
    const paths: Array<[string, (image: PushedImage) => string, string?]> = [
      ['manifest by tag', () => 'manifests/v1'],
      ['manifest by digest', (image) => `manifests/${image.manifest.digest}`],
      ['manifest HEAD', () => 'manifests/v1', 'HEAD'],
      ['blob', (image) => `blobs/${image.config.digest}`],
      ['blob HEAD', (image) => `blobs/${image.config.digest}`, 'HEAD'],
      ['tags', () => 'tags/list'],
      ['referrers', (image) => `referrers/${image.manifest.digest}`],
      ['referrers filtered', (image) => `referrers/${image.manifest.digest}?artifactType=application/x.sig`],
    ];
    it.each(paths)('%s', async (_what, path, method = 'GET') => {
      const forbidden = await oci.fetch(`/v2/secret/app/${path(secret)}`, { method, headers: as('alice') });
      const missing = await oci.fetch(`/v2/nothing/here/${path(secret)}`, { method, headers: as('alice') });
      const a = await answer(forbidden, 'secret/app');
      const b = await answer(missing, 'nothing/here');
      expect(a.status).toBeGreaterThanOrEqual(200);
      expect(a).toEqual(b);
      // And the admin, who may pull, sees the content: the comparison above is not vacuous.
      const allowed = await oci.fetch(`/v2/secret/app/${path(secret)}`, { method, headers: as('admin') });
      expect(allowed.status).toBe(200);
    });

    it('the referrers list is really non-empty for a caller who may pull', async () => {
      const response = await oci.fetch(`/v2/secret/app/referrers/${secret.manifest.digest}`, { headers: as('admin') });
      const index = (await response.json()) as { manifests: Array<{ digest: string }> };
      expect(index.manifests.map((m) => m.digest)).toEqual([referrer.manifest.digest]);
    });
  });

  it('_catalog lists only repositories the caller may pull', async () => {
    const response = await oci.fetch('/v2/_catalog', { headers: as('alice') });
    expect(((await response.json()) as { repositories: string[] }).repositories).toEqual(['alice/app']);
    const everything = await oci.fetch('/v2/_catalog', { headers: as('admin') });
    expect(((await everything.json()) as { repositories: string[] }).repositories).toEqual(['alice/app', 'secret/app']);
  });

  it('a mount from a repository the caller may not pull falls back to an upload session', async () => {
    const digest = secret.config.digest;
    const denied = await oci.fetch(`/v2/alice/copy/blobs/uploads/?mount=${digest}&from=secret/app`, { method: 'POST', headers: as('alice') });
    expect(denied.status).toBe(202);
    expect(denied.headers.get('location')).toMatch(/^\/v2\/alice\/copy\/blobs\/uploads\//);
    const blob = await oci.fetch(`/v2/alice/copy/blobs/${digest}`, { method: 'HEAD', headers: as('alice') });
    expect(blob.status).toBe(404);
    const allowed = await oci.fetch(`/v2/alice/copy/blobs/uploads/?mount=${digest}&from=secret/app`, { method: 'POST', headers: as('admin') });
    expect(allowed.status).toBe(201);
  });

  it('a push the caller may not make is DENIED, whether or not the repository exists', async () => {
    const bytes = randomBlob();
    for (const name of ['secret/app', 'nothing/here']) {
      const response = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=${digestOf(bytes)}`, {
        method: 'POST',
        headers: { ...as('alice'), 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      await expectOciError(response, 403, 'DENIED');
    }
    const deletion = await oci.fetch(`/v2/secret/app/manifests/${secret.manifest.digest}`, { method: 'DELETE', headers: as('alice') });
    await expectOciError(deletion, 403, 'DENIED');
  });

  it('an anonymous caller without access is asked to authenticate', async () => {
    const response = await oci.fetch('/v2/secret/app/manifests/v1');
    await expectOciError(response, 401, 'UNAUTHORIZED');
    const catalog = await oci.fetch('/v2/_catalog');
    await expectOciError(catalog, 401, 'UNAUTHORIZED');
  });
});

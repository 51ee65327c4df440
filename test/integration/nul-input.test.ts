import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth, ownerSession } from '../support/iam.js';
import { expectOciError, MT, OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** NUL characters name nothing, and PostgreSQL text refuses them: every surface answers 4xx, never 500. */
describe('NUL characters in input', () => {
  let server: TestServer;
  let session: Awaited<ReturnType<typeof ownerSession>>;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'nulls');
    session = await ownerSession(server);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  const post = (body: unknown) => ({ method: 'POST', headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('in an IAM JSON body: 400 in the API\'s own shape', async () => {
    const refusals = [
      ['/v1/serviceids', { account_id: session.accountId, name: 'a\u0000b' }],
      ['/v1/apikeys', { iam_id: session.iamId, name: 'key', description: 'x\u0000' }],
      [`/v2/accounts/${session.accountId}/users`, { users: [{ email: 'a\u0000@example.com', account_role: 'Member' }] }],
    ] as const;
    for (const [path, body] of refusals) {
      const response = await fetch(`${server.url}${path}`, post(body));
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { errors: Array<{ details: string }> }).errors[0]!.details).toContain('NUL');
    }
    const policy = await fetch(`${server.url}/v1/policies`, post({ type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: 'a\u0000' }] }] }));
    expect(policy.status).toBe(400);
  });

  it('in a URL of any surface: 400 in that surface\'s shape', async () => {
    const namespace = await fetch(`${server.url}/api/v1/namespaces/a%00b`, { method: 'PUT', headers: { authorization: `Bearer ${session.token}`, account: session.accountId } });
    expect(namespace.status).toBe(400);
    expect(((await namespace.json()) as { code: string }).code).toBe('CRG0001E');
    const key = await fetch(`${server.url}/v1/apikeys/a%00`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(key.status).toBe(400);
    expect(((await key.json()) as { status_code: string }).status_code).toBe('400');
    await expectOciError(await fetch(`${server.url}/v2/nulls/app/tags/list?last=%00`, { headers: { authorization: basicAuth(server.berth.ownerApiKey!) } }), 400, 'UNSUPPORTED');
  });

  it('in a manifest string (artifactType, annotations): 400 MANIFEST_INVALID', async () => {
    const oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    const image = await oci.pushImage('nulls/app', 'v1');
    const manifest = JSON.parse(image.bytes.toString('utf8')) as Record<string, unknown>;
    await expectOciError(await oci.putManifest('nulls/app', 'v2', JSON.stringify({ ...manifest, artifactType: 'a\u0000b' }), MT.ociManifest), 400, 'MANIFEST_INVALID');
    await expectOciError(await oci.putManifest('nulls/app', 'v3', JSON.stringify({ ...manifest, annotations: { 'k\u0000': 'v' } }), MT.ociManifest), 400, 'MANIFEST_INVALID');
  });

  it('in credentials: a refused login (401 or 400), never a database error', async () => {
    for (const username of ['iamrefresh', 'iamapikey', 'iambearer']) {
      expect((await fetch(`${server.url}/oauth/token?service=registry`, { headers: { authorization: basicAuth('a\u0000b', username) } })).status).toBe(401);
    }
    const form = await fetch(`${server.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('bx:bx').toString('base64')}` },
      body: 'grant_type=refresh_token&refresh_token=a%00b',
    });
    expect(form.status).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, policyBody, registryApiFor, registryToken, sdkFor, tokenFor } from '../support/iam.js';
import { expectOciError, OciClient, randomBlob, digestOf } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Registry login the way the seed system does it: a 401 Bearer challenge on /v2, `/oauth/token`
 * (GET with Basic, and the OAuth2 POST), the three usernames, and registry tokens whose `access`
 * is exactly what the policies grant in the region whose registry was asked.
 */
describe('registry login', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  let ownerKey: string;
  /** A service ID's key, with one policy. */
  const keys: Record<'reader' | 'writer' | 'manager', string> = { reader: '', writer: '', manager: '' };

  async function serviceKey(name: string, roles: string[], attributes: Record<string, string>): Promise<string> {
    const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name, apikey: { name: `${name}-key` } })).result;
    await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, roles, attributes) as never);
    return sid.apikey!.apikey;
  }

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    owner = await ownerSession(server);
    ownerKey = server.berth.ownerApiKey!;
    const cr = registryApiFor(server.url, server.url, ownerKey, owner.accountId);
    for (const name of ['team-a', 'team-b']) expect((await cr.createNamespace({ name })).status).toBe(201);
    keys.reader = await serviceKey('reader', ['Reader'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-a' });
    keys.writer = await serviceKey('writer', ['Writer'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-a' });
    keys.manager = await serviceKey('manager', ['Manager'], { serviceName: 'container-registry' });
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('the challenge', () => {
    it('answers /v2/ without credentials with a 401 Bearer challenge naming the realm and service', async () => {
      const response = await fetch(`${server.url}/v2/`);
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${server.url}/oauth/token",service="registry"`);
      expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      await expectOciError(response, 401, 'UNAUTHORIZED');
    });

    it('adds the scope each route needs', async () => {
      const cases: Array<[string, string, string]> = [
        ['GET', '/v2/team-a/app/manifests/v1', 'repository:team-a/app:pull'],
        ['GET', '/v2/team-a/app/tags/list', 'repository:team-a/app:pull'],
        ['POST', '/v2/team-a/app/blobs/uploads/', 'repository:team-a/app:pull,push'],
        ['DELETE', `/v2/team-a/app/manifests/${digestOf('x')}`, 'repository:team-a/app:delete'],
        ['GET', '/v2/_catalog', 'registry:catalog:*'],
      ];
      for (const [method, path, scope] of cases) {
        const response = await fetch(`${server.url}${path}`, { method });
        expect(response.status, path).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${server.url}/oauth/token",service="registry",scope="${scope}"`);
      }
    });

    it('answers /v2/ 200 for a valid token or Basic credentials, and 401 for bad ones', async () => {
      const { body } = await registryToken(server.url, basicAuth(ownerKey));
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: `Bearer ${body.token}` } })).status).toBe(200);
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth(ownerKey) } })).status).toBe(200);
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth('wrong-key-wrong-key-wrong-key-wrong') } })).status).toBe(401);
      // An IAM access token is not a registry token.
      const iam = await tokenFor(server, ownerKey);
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: `Bearer ${iam}` } })).status).toBe(401);
    });
  });

  describe('GET /oauth/token', () => {
    it('logs in with iamapikey and no scope: a 15-minute registry token that grants nothing yet', async () => {
      const { status, body, claims } = await registryToken(server.url, basicAuth(ownerKey));
      expect(status).toBe(200);
      expect(body.token).toBe(body.access_token);
      expect(body.expires_in).toBe(900);
      expect(Date.parse(body.issued_at!)).toBeGreaterThan(Date.now() - 60_000);
      expect(body.refresh_token).toBeUndefined();
      expect(claims).toMatchObject({ aud: 'registry', region: 'us-south', account: owner.accountId, sub: owner.iamId, access: [] });
      expect(claims!.exp - claims!.iat).toBe(900);
    });

    it('grants exactly what the policies grant, whatever order and form the scopes come in', async () => {
      const reader = basicAuth(keys.reader);
      const writer = basicAuth(keys.writer);
      const access = async (authorization: string, scopes: string[]) => (await registryToken(server.url, authorization, scopes)).claims!.access;
      expect(await access(reader, ['repository:team-a/app:push,pull'])).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull'] }]);
      expect(await access(reader, ['repository:team-a/app:pull,push'])).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull'] }]);
      expect(await access(writer, ['repository:team-a/app:push,pull'])).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['push', 'pull'] }]);
      expect(await access(writer, ['repository:team-a/app:*'])).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push', 'delete'] }]);
      // A mount asks for the source too; what is not granted comes back empty, never as an error.
      expect(await access(writer, ['repository:team-a/copy:pull,push', 'repository:team-b/app:pull'])).toEqual([
        { type: 'repository', name: 'team-a/copy', actions: ['pull', 'push'] },
        { type: 'repository', name: 'team-b/app', actions: [] },
      ]);
      expect(await access(writer, ['repository:no-such-ns/app:pull'])).toEqual([{ type: 'repository', name: 'no-such-ns/app', actions: [] }]);
      expect(await access(reader, ['registry:catalog:*'])).toEqual([{ type: 'registry', name: 'catalog', actions: ['*'] }]);
      expect(await access(basicAuth(keys.manager), ['repository:team-b/x:pull,push,delete'])).toEqual([{ type: 'repository', name: 'team-b/x', actions: ['pull', 'push', 'delete'] }]);
      // Scopes in one space-separated parameter, as OAuth2 writes them, are read too.
      expect(await access(writer, ['repository:team-a/a:pull repository:team-a/b:push'])).toHaveLength(2);
    });

    it('refuses unknown usernames naming the three, bad keys, bad scopes and other services', async () => {
      const unknown = await registryToken(server.url, basicAuth(ownerKey, 'admin'));
      expect(unknown.status).toBe(401);
      expect(unknown.body.errors![0]!.message).toMatch(/iamapikey.*iambearer.*iamrefresh/);
      const bad = await registryToken(server.url, basicAuth('x'.repeat(43)));
      expect(bad.status).toBe(401);
      expect(bad.body.errors![0]).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/not valid/) });
      expect((await registryToken(server.url, undefined)).status).toBe(401);
      expect((await registryToken(server.url, basicAuth(ownerKey), ['repository:Team-A/app:pull'])).status).toBe(400);
      expect((await registryToken(server.url, basicAuth(ownerKey), ['nonsense'])).status).toBe(400);
      const other = await fetch(`${server.url}/oauth/token?service=elsewhere`, { headers: { authorization: basicAuth(ownerKey) } });
      expect(other.status).toBe(400);
    });

    it('takes iambearer (an IAM access token) and iamrefresh (a refresh token, left usable)', async () => {
      const iam = await tokenFor(server, ownerKey);
      const bearer = await registryToken(server.url, basicAuth(iam, 'iambearer'), ['repository:team-a/app:pull']);
      expect(bearer.status).toBe(200);
      expect(bearer.claims!.access[0]!.actions).toEqual(['pull']);
      expect((await registryToken(server.url, basicAuth('not.a.jwt', 'iambearer'))).status).toBe(401);

      const cli = await fetch(`${server.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic Yng6Yng=' },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: ownerKey }).toString(),
      });
      const refresh = ((await cli.json()) as { refresh_token: string }).refresh_token;
      for (let i = 0; i < 2; i++) expect((await registryToken(server.url, basicAuth(refresh, 'iamrefresh'))).status).toBe(200);
      expect((await registryToken(server.url, basicAuth('no-such-refresh-token', 'iamrefresh'))).status).toBe(401);
    });

    it('gives a refresh token (docker\'s identity token) with offline_token=true, usable by POST', async () => {
      const response = await fetch(`${server.url}/oauth/token?service=registry&offline_token=true&client_id=docker&account=iamapikey`, {
        headers: { authorization: basicAuth(keys.writer) },
      });
      const { refresh_token: identityToken } = (await response.json()) as { refresh_token: string };
      expect(identityToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken, service: 'registry', client_id: 'docker', scope: 'repository:team-a/app:pull,push' });
      for (let i = 0; i < 2; i++) {
        const post = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: form });
        expect(post.status).toBe(200);
        const body = (await post.json()) as { access_token: string };
        const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as { access: unknown };
        expect(claims.access).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }]);
      }
    });
  });

  describe('POST /oauth/token (OAuth2, as containerd asks)', () => {
    it('takes grant_type=password with the scope, and access_type=offline for a refresh token', async () => {
      const form = new URLSearchParams({
        client_id: 'containerd-client',
        grant_type: 'password',
        username: 'iamapikey',
        password: keys.reader,
        scope: 'repository:team-a/app:pull',
        service: 'registry',
        access_type: 'offline',
      });
      const response = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { access_token: string; refresh_token: string; expires_in: number };
      expect(body.expires_in).toBe(900);
      expect(body.refresh_token).toBeTruthy();
      const pull = await fetch(`${server.url}/v2/team-a/app/tags/list`, { headers: { authorization: `Bearer ${body.access_token}` } });
      await expectOciError(pull, 404, 'NAME_UNKNOWN');
    });

    it('answers a bad password with 401 (containerd then falls back to GET), and bad forms with 400', async () => {
      const bad = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username: 'iamapikey', password: 'nope' }) });
      await expectOciError(bad, 401, 'UNAUTHORIZED');
      const grant = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
      expect(grant.status).toBe(400);
      const noRefresh = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token' }) });
      expect(noRefresh.status).toBe(400);
      const json = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(json.status).toBe(415);
      const huge = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', password: 'x'.repeat(20_000) }) });
      expect(huge.status).toBe(413);
    });
  });

  describe('credentials that stop working', () => {
    it('a deleted key, a disabled key and revoked refresh tokens get no new tokens; a locked key still does', async () => {
      const key = (await owner.sdk.identity.createApiKey({ name: 'short', iamId: owner.iamId })).result;
      const offline = await fetch(`${server.url}/oauth/token?service=registry&offline_token=true`, { headers: { authorization: basicAuth(key.apikey) } });
      const identityToken = ((await offline.json()) as { refresh_token: string }).refresh_token;
      const refresh = () => fetch(`${server.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken }) });

      await owner.sdk.identity.lockApiKey({ id: key.id! });
      expect((await registryToken(server.url, basicAuth(key.apikey))).status).toBe(200);
      await owner.sdk.identity.disableApiKey({ id: key.id! });
      expect((await registryToken(server.url, basicAuth(key.apikey))).status).toBe(401);
      expect((await refresh()).status).toBe(401);
      await owner.sdk.identity.enableApiKey({ id: key.id! });
      expect((await refresh()).status).toBe(200);
      await owner.sdk.identity.unlockApiKey({ id: key.id! });
      await owner.sdk.identity.deleteApiKey({ id: key.id! });
      expect((await registryToken(server.url, basicAuth(key.apikey))).status).toBe(401);
      expect((await refresh()).status).toBe(401);
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth(key.apikey) } })).status).toBe(401);
    });

    it('an expired key gets no token', async () => {
      const soon = new Date(Date.now() + 3000).toISOString().replace(/\.\d{3}Z$/, '+0000');
      const key = (await owner.sdk.identity.createApiKey({ name: 'expiring', iamId: owner.iamId, expiresAt: soon })).result;
      expect((await registryToken(server.url, basicAuth(key.apikey))).status).toBe(200);
      await new Promise((done) => setTimeout(done, 3500));
      const refused = await registryToken(server.url, basicAuth(key.apikey));
      expect(refused.status).toBe(401);
      expect(refused.body.errors![0]!.message).toMatch(/expired/);
    });

    it('a removed policy takes effect for the next token at once', async () => {
      const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name: 'fleeting', apikey: { name: 'k' } })).result;
      const policy = (await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, ['Reader'], { serviceName: 'container-registry' }) as never)).result;
      const scope = ['repository:team-a/app:pull'];
      expect((await registryToken(server.url, basicAuth(sid.apikey!.apikey), scope)).claims!.access[0]!.actions).toEqual(['pull']);
      await owner.sdk.policies.deletePolicy({ policyId: policy.id! });
      expect((await registryToken(server.url, basicAuth(sid.apikey!.apikey), scope)).claims!.access[0]!.actions).toEqual([]);
    });

    it('answers 429 to a client that keeps failing, yet never refuses a valid key from it', async () => {
      const limited = await startTestServer({ auth: 'iam', configure: (config) => void (config.tokenFailuresPerMinute = 3) });
      try {
        for (let i = 0; i < 3; i++) expect((await registryToken(limited.url, basicAuth(`bad-${i}`))).status).toBe(401);
        const refused = await registryToken(limited.url, basicAuth('bad-3'));
        expect(refused.status).toBe(429);
        expect(refused.body.errors![0]!.code).toBe('TOOMANYREQUESTS');
        expect((await fetch(`${limited.url}/v2/`, { headers: { authorization: basicAuth('bad-4') } })).status).toBe(429);
        expect((await registryToken(limited.url, basicAuth(limited.berth.ownerApiKey!))).status).toBe(200);
        expect((await fetch(`${limited.url}/v2/`, { headers: { authorization: basicAuth(limited.berth.ownerApiKey!) } })).status).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('pushing with a registry token', () => {
    it('pushes and pulls with a token that grants it; a token without the scope asks for one', async () => {
      const { body } = await registryToken(server.url, basicAuth(keys.writer), ['repository:team-a/pushed:pull,push']);
      const client = new OciClient(server.url, `Bearer ${body.token}`);
      const image = await client.pushImage('team-a/pushed', 'v1');
      expect((await client.fetch(`/v2/team-a/pushed/manifests/v1`)).status).toBe(200);
      // Another repository than the token names: 401 with the scope to ask for, so clients get a new token.
      const elsewhere = await client.fetch('/v2/team-a/other/manifests/v1');
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.headers.get('www-authenticate')).toContain('scope="repository:team-a/other:pull",error="insufficient_scope"');
      // Delete was not asked for: ask again. Asked for and not granted: refused.
      expect((await client.fetch(`/v2/team-a/pushed/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(401);
      const reader = await registryToken(server.url, basicAuth(keys.reader), ['repository:team-a/pushed:pull,push']);
      const denied = await fetch(`${server.url}/v2/team-a/pushed/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${reader.body.token}` } });
      await expectOciError(denied, 403, 'DENIED');
    });

    it('refuses a push into a namespace that does not exist with a clear error', async () => {
      const { body } = await registryToken(server.url, basicAuth(ownerKey), ['repository:nowhere/app:pull,push']);
      const response = await fetch(`${server.url}/v2/nowhere/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${body.token}` } });
      const error = await expectOciError(response, 403, 'DENIED');
      expect(error.message).toMatch(/namespace/);
      const bare = await registryToken(server.url, basicAuth(ownerKey), ['repository:lonely:pull,push']);
      expect(bare.claims!.access).toEqual([{ type: 'repository', name: 'lonely', actions: [] }]);
    });
  });
});

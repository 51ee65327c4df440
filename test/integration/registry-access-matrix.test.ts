import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, policyBody, registryApiFor, registryToken } from '../support/iam.js';
import { expectOciError, OciClient, randomBlob, digestOf, type PushedImage } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Who may do what in the registry, through registry tokens as clients get them: Reader, Writer
 * and Manager in namespaces of two regions, and a key of another account. A repository a caller
 * may not see answers exactly like a missing one.
 */
describe('registry access by policy, across namespaces, regions and accounts', () => {
  let server: TestServer & { schema?: string };
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  let us: string;
  let eu: string;
  let inA: PushedImage;
  let inB: PushedImage;
  const keys: Record<string, string> = {};

  /** A client whose every request carries a token for these scopes, from the region at `url`. */
  async function clientFor(url: string, key: string, scopes: string[]): Promise<OciClient> {
    const { status, body } = await registryToken(url, basicAuth(key), scopes);
    expect(status).toBe(200);
    return new OciClient(url, `Bearer ${body.token}`);
  }

  async function serviceKey(name: string, roles: string[], attributes: Record<string, string>): Promise<string> {
    const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name, apikey: { name: `${name}-key` } })).result;
    await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, roles, attributes) as never);
    return sid.apikey!.apikey;
  }

  beforeAll(async () => {
    server = await startTestServer({
      auth: 'iam',
      configure: (config) => void (config.regions = [{ name: 'us-south' }, { name: 'eu-de', port: 0 }]),
    });
    us = server.regions['us-south']!.url;
    eu = server.regions['eu-de']!.url;
    owner = await ownerSession(server);
    const key = server.berth.ownerApiKey!;
    for (const ns of ['ns-a', 'ns-b']) await registryApiFor(us, server.url, key, owner.accountId).createNamespace({ name: ns });
    await registryApiFor(eu, server.url, key, owner.accountId).createNamespace({ name: 'ns-a' });
    const admin = new OciClient(us, basicAuth(key));
    inA = await admin.pushImage('ns-a/app', 'v1');
    inB = await admin.pushImage('ns-b/secret', 'v1');
    await new OciClient(eu, basicAuth(key)).pushImage('ns-a/app', 'eu1');

    keys.reader = await serviceKey('reader-a', ['Reader'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'ns-a' });
    keys.writer = await serviceKey('writer-a', ['Writer'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'ns-a' });
    keys.manager = await serviceKey('manager', ['Manager'], { serviceName: 'container-registry' });
    keys.euReader = await serviceKey('eu-reader', ['Reader'], { serviceName: 'container-registry', region: 'eu-de' });
    const other = await server.berth.iam.identities.createAccount('other', { name: 'o', email: 'o@example.com' });
    keys.foreign = (await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId })).secret;
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('Reader on namespace A', () => {
    it('pulls A', async () => {
      const reader = await clientFor(us, keys.reader!, ['repository:ns-a/app:pull']);
      const manifest = await reader.fetch('/v2/ns-a/app/manifests/v1');
      expect(manifest.status).toBe(200);
      expect(Buffer.from(await manifest.arrayBuffer()).equals(inA.bytes)).toBe(true);
      expect((await reader.fetch(`/v2/ns-a/app/blobs/${inA.layers[0]!.digest}`)).status).toBe(200);
    });

    it('cannot push to A', async () => {
      const reader = await clientFor(us, keys.reader!, ['repository:ns-a/app:pull,push']);
      await expectOciError(await reader.fetch('/v2/ns-a/app/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
      await expectOciError(await reader.putManifest('ns-a/app', 'v2', inA.bytes, 'application/vnd.oci.image.manifest.v1+json'), 403, 'DENIED');
    });

    it('cannot see B: it answers as missing, and is absent from the catalog, tags and mounts', async () => {
      const reader = await clientFor(us, keys.reader!, ['repository:ns-b/secret:pull', 'repository:ns-b/missing:pull', 'registry:catalog:*']);
      const hidden = await reader.fetch('/v2/ns-b/secret/manifests/v1');
      const missing = await reader.fetch('/v2/ns-b/missing/manifests/v1');
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      const strip = async (response: Response, name: string) => (await response.text()).replaceAll(name, '<name>');
      expect(await strip(hidden, 'ns-b/secret')).toBe(await strip(missing, 'ns-b/missing'));
      await expectOciError(await reader.fetch('/v2/ns-b/secret/tags/list'), 404, 'NAME_UNKNOWN');
      await expectOciError(await reader.fetch(`/v2/ns-b/secret/blobs/${inB.layers[0]!.digest}`), 404, 'BLOB_UNKNOWN');
      const catalog = (await (await reader.fetch('/v2/_catalog')).json()) as { repositories: string[] };
      expect(catalog.repositories).toEqual(['ns-a/app']);
    });
  });

  describe('Writer on namespace A', () => {
    it('pushes and deletes in A, and cannot mount from B: the mount falls back to an upload and links nothing', async () => {
      const writer = await clientFor(us, keys.writer!, ['repository:ns-a/new:pull,push,delete', 'repository:ns-b/secret:pull']);
      const image = await writer.pushImage('ns-a/new', 'w1');
      expect((await writer.fetch(`/v2/ns-a/new/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);

      const layer = inB.layers[0]!.digest;
      const mount = await writer.fetch(`/v2/ns-a/new/blobs/uploads/?mount=${layer}&from=ns-b/secret`, { method: 'POST' });
      expect(mount.status).toBe(202);
      expect(mount.headers.get('location')).toMatch(/^\/v2\/ns-a\/new\/blobs\/uploads\//);
      await expectOciError(await writer.fetch(`/v2/ns-a/new/blobs/${layer}`), 404, 'BLOB_UNKNOWN');
      // From A, which this token was never asked for, it is told to ask; with a token that asked, it links.
      const ownMount = `/v2/ns-a/new/blobs/uploads/?mount=${inA.layers[0]!.digest}&from=ns-a/app`;
      const unasked = await writer.fetch(ownMount, { method: 'POST' });
      expect(unasked.status).toBe(401);
      expect(unasked.headers.get('www-authenticate')).toContain('scope="repository:ns-a/new:pull,push repository:ns-a/app:pull",error="insufficient_scope"');
      const asked = await clientFor(us, keys.writer!, ['repository:ns-a/new:pull,push', 'repository:ns-a/app:pull']);
      expect((await asked.fetch(ownMount, { method: 'POST' })).status).toBe(201);
    });

    it('cannot push to B or create namespaces', async () => {
      const writer = await clientFor(us, keys.writer!, ['repository:ns-b/x:pull,push']);
      await expectOciError(await writer.fetch('/v2/ns-b/x/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
      const cr = registryApiFor(us, server.url, keys.writer!, owner.accountId);
      await expect(cr.createNamespace({ name: 'writers-own' })).rejects.toMatchObject({ status: 403 });
    });
  });

  it('Manager creates namespaces and pushes anywhere in the account', async () => {
    const cr = registryApiFor(us, server.url, keys.manager!, owner.accountId);
    expect((await cr.createNamespace({ name: 'managed' })).status).toBe(201);
    const manager = await clientFor(us, keys.manager!, ['repository:managed/app:pull,push', 'repository:ns-b/secret:pull']);
    await manager.pushImage('managed/app', 'm1');
    expect((await manager.fetch('/v2/ns-b/secret/manifests/v1')).status).toBe(200);
  });

  it('a key of another account sees nothing, not even the namespaces by name', async () => {
    const foreign = await clientFor(us, keys.foreign!, ['repository:ns-a/app:pull,push', 'registry:catalog:*']);
    await expectOciError(await foreign.fetch('/v2/ns-a/app/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
    await expectOciError(await foreign.fetch('/v2/ns-a/app/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
    expect(((await (await foreign.fetch('/v2/_catalog')).json()) as { repositories: string[] }).repositories).toEqual([]);
    // Its owner is owner of its own account, and of nothing here.
    const token = await registryToken(us, basicAuth(keys.foreign!), ['repository:ns-a/app:pull,push,delete']);
    expect(token.claims!.access[0]!.actions).toEqual([]);
  });

  describe('regions', () => {
    it('a Reader policy limited to eu-de grants nothing in us-south', async () => {
      const scope = ['repository:ns-a/app:pull'];
      expect((await registryToken(us, basicAuth(keys.euReader!), scope)).claims!.access[0]!.actions).toEqual([]);
      const inEu = await registryToken(eu, basicAuth(keys.euReader!), scope);
      expect(inEu.claims).toMatchObject({ region: 'eu-de', access: [{ actions: ['pull'] }] });
      const client = new OciClient(eu, `Bearer ${inEu.body.token}`);
      expect((await client.fetch('/v2/ns-a/app/manifests/eu1')).status).toBe(200);
      // The same name in the other region is another repository.
      expect((await client.fetch('/v2/ns-a/app/manifests/v1')).status).toBe(404);
    });

    it('a token of one region is no good in another', async () => {
      const { body } = await registryToken(us, basicAuth(server.berth.ownerApiKey!), ['repository:ns-a/app:pull']);
      const response = await fetch(`${eu}/v2/ns-a/app/manifests/eu1`, { headers: { authorization: `Bearer ${body.token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain(`realm="${eu}/oauth/token"`);
    });

    it('namespaces are unique per region, not across regions', async () => {
      const other = await server.berth.iam.identities.createAccount('eu-tenant', { name: 't', email: 't@example.com' });
      const { secret } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId });
      const inEu = registryApiFor(eu, server.url, secret, other.accountId);
      expect((await inEu.createNamespace({ name: 'ns-b' })).status).toBe(201);
      await expect(inEu.createNamespace({ name: 'ns-a' })).rejects.toMatchObject({ status: 409 });
      const catalog = (await (await new OciClient(us, basicAuth(server.berth.ownerApiKey!)).fetch('/v2/_catalog')).json()) as { repositories: string[] };
      expect(catalog.repositories).toContain('ns-b/secret');
    });
  });

  describe('a long push outlives its token', () => {
    it('finishes its own upload with an expired token while its policy holds; nobody else can', async () => {
      const quick = await startTestServer({ auth: 'iam', configure: (config) => void (config.registryTokenSeconds = 2) });
      try {
        const session = await ownerSession(quick);
        await registryApiFor(quick.url, quick.url, quick.berth.ownerApiKey!, session.accountId).createNamespace({ name: 'slow' });
        const sid = (await session.sdk.identity.createServiceId({ accountId: session.accountId, name: 'pusher', apikey: { name: 'k' } })).result;
        const policy = (await session.sdk.policies.createPolicy(policyBody(sid.iam_id, session.accountId, ['Writer'], { serviceName: 'container-registry' }) as never)).result;
        const other = (await session.sdk.identity.createServiceId({ accountId: session.accountId, name: 'other', apikey: { name: 'k' } })).result;
        await session.sdk.policies.createPolicy(policyBody(other.iam_id, session.accountId, ['Writer'], { serviceName: 'container-registry' }) as never);
        const scope = ['repository:slow/layer:pull,push'];
        const mine = await clientFor(quick.url, sid.apikey!.apikey, scope);
        const theirs = await clientFor(quick.url, other.apikey!.apikey, scope);

        const blob = randomBlob(3 * 1024 * 1024);
        const started = await mine.fetch('/v2/slow/layer/blobs/uploads/', { method: 'POST' });
        const location = started.headers.get('location')!;
        // A chunk that streams across the token's expiry: checked when it starts, not cut off half-way.
        const slow = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (let offset = 0; offset < 1024 * 1024; offset += 256 * 1024) {
              controller.enqueue(blob.subarray(offset, offset + 256 * 1024));
              await new Promise((done) => setTimeout(done, 800));
            }
            controller.close();
          },
        });
        const first = await mine.fetch(location, {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${1024 * 1024 - 1}` },
          body: slow,
          duplex: 'half',
        } as RequestInit);
        expect(first.status).toBe(202);
        // The token has expired now: the next chunk and the close go on, for this principal alone.
        await new Promise((done) => setTimeout(done, 500));
        const second = await mine.fetch(location, {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${1024 * 1024}-${2 * 1024 * 1024 - 1}` },
          body: blob.subarray(1024 * 1024, 2 * 1024 * 1024),
        });
        expect(second.status).toBe(202);
        expect((await theirs.fetch(location)).status).toBe(401);
        // A new upload needs a new token.
        const fresh = await mine.fetch('/v2/slow/layer/blobs/uploads/', { method: 'POST' });
        expect(fresh.status).toBe(401);
        expect(fresh.headers.get('www-authenticate')).toContain('scope="repository:slow/layer:pull,push"');
        const done = await mine.fetch(`${location}?digest=${digestOf(blob)}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${2 * 1024 * 1024}-${blob.length - 1}` },
          body: blob.subarray(2 * 1024 * 1024),
        });
        expect(done.status, await done.clone().text()).toBe(201);

        // Once its grant is gone, an expired token finishes nothing.
        const renewed = await clientFor(quick.url, sid.apikey!.apikey, scope);
        const another = (await renewed.fetch('/v2/slow/layer/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
        await new Promise((done) => setTimeout(done, 2500));
        await session.sdk.policies.deletePolicy({ policyId: policy.id! });
        expect((await renewed.fetch(another)).status).toBe(401);
        expect(await quick.serverErrors()).toEqual([]);
      } finally {
        await quick.close();
      }
    }, 60_000);
  });
});

import type ContainerRegistryV1 from '@ibm-cloud/ibm-container-registry/dist/container-registry/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, policyBody, registryApiFor, tokenFor } from '../support/iam.js';
import { imageIndex, MT, OciClient, type PushedImage } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface ManagementErrorBody {
  code: string;
  message: string;
  'request-id': string;
}

/** The Container Registry management API (`/api/v1`), driven by IBM's own Node SDK. */
describe('Container Registry management API', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  let cr: ContainerRegistryV1;
  let registry: OciClient;
  let host: string;
  let app: PushedImage;

  async function expectManagementError(response: Response, status: number, code?: string): Promise<ManagementErrorBody> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as ManagementErrorBody;
    expect(body.code).toMatch(/^CRG\d{4}E$/);
    if (code) expect(body.code).toBe(code);
    expect(body.message).toBeTruthy();
    expect(body['request-id']).toBeTruthy();
    return body;
  }

  /** A raw management call, for what the SDK would not send or would hide. */
  function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; token?: string } = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token ?? owner.token}`,
        account: owner.accountId,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  }

  async function sdkFor(roles: string[], attributes: Record<string, string>, name: string): Promise<ContainerRegistryV1> {
    const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name, apikey: { name: 'k' } })).result;
    await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, roles, { serviceName: 'container-registry', ...attributes }) as never);
    return registryApiFor(server.url, server.url, sid.apikey!.apikey, owner.accountId);
  }

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    owner = await ownerSession(server);
    host = server.host;
    cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    registry = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    expect((await cr.createNamespace({ name: 'images-ns' })).status).toBe(201);
    app = await registry.pushImage('images-ns/app', '1.0', { layers: 2 });
    await registry.putManifest('images-ns/app', 'latest', app.bytes, MT.ociManifest);
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('namespaces', () => {
    it('adds (201, then 200 when already yours), lists, shows details, assigns and deletes with its images', async () => {
      expect((await cr.createNamespace({ name: 'ns-life' })).status).toBe(201);
      expect((await cr.createNamespace({ name: 'ns-life' })).status).toBe(200);
      expect((await cr.listNamespaces()).result).toEqual(expect.arrayContaining(['images-ns', 'ns-life']));
      const details = (await cr.listNamespaceDetails()).result.find((n) => n.name === 'ns-life')!;
      expect(details).toMatchObject({ account: owner.accountId, name: 'ns-life' });
      expect(Date.parse(details.created_date!)).toBeGreaterThan(0);
      expect((await cr.assignNamespace({ name: 'ns-life', xAuthResourceGroup: 'rg-1' })).result).toEqual({ namespace: 'ns-life' });
      expect((await cr.listNamespaceDetails()).result.find((n) => n.name === 'ns-life')!.resource_group).toBe('rg-1');

      const image = await registry.pushImage('ns-life/app', 'v1');
      expect((await cr.deleteNamespace({ name: 'ns-life' })).status).toBe(204);
      expect((await cr.listNamespaces()).result).not.toContain('ns-life');
      // Deleting empties it: made again, the namespace holds none of the old images.
      expect((await registry.fetch(`/v2/ns-life/app/manifests/${image.manifest.digest}`)).status).toBe(404);
      expect((await cr.createNamespace({ name: 'ns-life' })).status).toBe(201);
      expect((await registry.fetch(`/v2/ns-life/app/manifests/${image.manifest.digest}`)).status).toBe(404);
      expect((await registry.fetch('/v2/ns-life/app/tags/list')).status).toBe(404);
      expect((await cr.listImages({ namespace: 'ns-life' })).result).toEqual([]);
    });

    it('refuses names outside IBM\'s rules, one taken by another account, and unknown namespaces', async () => {
      for (const bad of ['abc', 'x'.repeat(31), 'Upper-case', '-dash-first', 'under_', 'a_-b', 'dot.ted']) {
        await expectManagementError(await call(`/api/v1/namespaces/${encodeURIComponent(bad)}`, { method: 'PUT' }), 400, 'CRG0020E');
      }
      const other = await server.berth.iam.identities.createAccount('rival', { name: 'r', email: 'r@example.com' });
      const { secret } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId });
      const rival = registryApiFor(server.url, server.url, secret, other.accountId);
      await expect(rival.createNamespace({ name: 'images-ns' })).rejects.toMatchObject({ status: 409 });
      // Theirs and missing ones answer alike.
      const missing = await expectManagementError(await call('/api/v1/namespaces/never-made', { method: 'DELETE' }), 404);
      expect((await rival.createNamespace({ name: 'rivals-ns' })).status).toBe(201);
      const theirs = await expectManagementError(await call('/api/v1/namespaces/rivals-ns', { method: 'DELETE' }), 404);
      expect(theirs.message.replace('rivals-ns', 'X')).toBe(missing.message.replace('never-made', 'X'));
      expect((await cr.listNamespaces()).result).not.toContain('rivals-ns');
      await expectManagementError(await call('/api/v1/namespaces/images-ns', { method: 'PATCH' }), 400);
    });

    it('needs the Account header of the token\'s account, and a token', async () => {
      await expectManagementError(await fetch(`${server.url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${owner.token}` } }), 400, 'CRG0002E');
      await expectManagementError(await call('/api/v1/namespaces', { headers: { account: '0'.repeat(32) } }), 403, 'CRG0003E');
      await expectManagementError(await fetch(`${server.url}/api/v1/namespaces`, { headers: { account: owner.accountId } }), 401, 'CRG0014E');
      await expectManagementError(await call('/api/v1/namespaces', { token: 'not-a-token' }), 401, 'CRG0014E');
    });
  });

  describe('images', () => {
    it('lists images with IBM\'s fields and filters', async () => {
      const images = (await cr.listImages({ namespace: 'images-ns' })).result;
      const entry = images.find((image) => image.RepoDigests?.[0] === `${host}/images-ns/app@${app.manifest.digest}`)!;
      expect(entry).toMatchObject({
        Id: app.config.digest,
        ManifestType: 'OCI Image Manifest v1',
        RepoTags: [`${host}/images-ns/app:1.0`, `${host}/images-ns/app:latest`],
        DigestTags: { [app.manifest.digest]: ['1.0', 'latest'] },
        Size: app.config.size + app.layers.reduce((sum, layer) => sum + layer.size, 0),
      });
      expect(typeof entry.Created).toBe('number');
      expect((await cr.listImages({ namespace: 'no-such-ns' })).result).toEqual([]);
      expect((await cr.listImages({ repository: 'images-ns/app' })).result).toHaveLength(1);
      expect((await cr.listImages({ repository: `${host}/images-ns/app` })).result).toHaveLength(1);
      expect((await cr.listImages({ repository: 'images-ns/other' })).result).toEqual([]);
    });

    it('shows manifest lists only when asked', async () => {
      const index = Buffer.from(JSON.stringify(imageIndex([app.manifest])));
      await registry.pushManifest('images-ns/app', 'multi', index, MT.ociIndex);
      const without = (await cr.listImages({ namespace: 'images-ns' })).result;
      expect(without.some((image) => image.RepoTags?.includes(`${host}/images-ns/app:multi`))).toBe(false);
      const withLists = (await cr.listImages({ namespace: 'images-ns', includeManifestLists: true })).result;
      expect(withLists.find((image) => image.RepoTags?.includes(`${host}/images-ns/app:multi`))?.ManifestType).toBe('OCI Image Index v1');
    });

    it('lists digests with their repositories and tags', async () => {
      const digests = (await cr.listImageDigests({})).result;
      const entry = digests.find((digest) => digest.id === app.manifest.digest)!;
      expect(Object.keys((entry.repoTags as Record<string, unknown>)[`${host}/images-ns/app`] as object).sort()).toEqual(['1.0', 'latest']);
      expect((await cr.listImageDigests({ excludeTagged: true })).result.some((digest) => digest.id === app.manifest.digest)).toBe(false);
    });

    it('inspects an image and returns its manifest, by tag or digest, encoded as the Node SDK and as Go clients send it', async () => {
      const inspected = (await cr.inspectImage({ image: `${host}/images-ns/app:1.0` })).result;
      expect(inspected).toMatchObject({ Id: app.config.digest, Architecture: 'amd64', Os: 'linux', ManifestType: 'OCI Image Manifest v1' });
      const manifest = (await cr.getImageManifest({ image: `${host}/images-ns/app@${app.manifest.digest}` })).result;
      expect(manifest).toEqual(JSON.parse(app.bytes.toString()));
      // Go's url.PathEscape leaves ':' and '@' raw.
      const go = await call(`/api/v1/images/${host.replace(':', '%3A')}%2Fimages-ns%2Fapp:1.0/json`);
      expect(go.status).toBe(200);
      expect(((await go.json()) as { Id: string }).Id).toBe(app.config.digest);
      // Without a tag, latest is meant.
      expect((await call(`/api/v1/images/${encodeURIComponent(`${host}/images-ns/app`)}/manifest`)).status).toBe(200);
      await expectManagementError(await call(`/api/v1/images/${encodeURIComponent(`${host}/images-ns/app:nope`)}/json`), 404, 'CRG0030E');
      await expectManagementError(await call(`/api/v1/images/${encodeURIComponent('elsewhere.example/images-ns/app:1.0')}/json`), 400, 'CRG0032E');
      await expectManagementError(await call(`/api/v1/images/${encodeURIComponent(`${host}/images-ns/app:multi`)}/json`), 400, 'CRG0033E');
      await expectManagementError(await call(`/api/v1/images/${encodeURIComponent(`${host}/UPPER/app:1`)}/json`), 400, 'CRG0031E');
    });

    it('tags an image from another, untags, deletes by tag and digest, and bulk-deletes', async () => {
      expect((await cr.tagImage({ fromimage: `${host}/images-ns/app:1.0`, toimage: `${host}/images-ns/copy:2.0` })).status).toBe(201);
      const copied = await registry.fetch('/v2/images-ns/copy/manifests/2.0');
      expect(copied.headers.get('docker-content-digest')).toBe(app.manifest.digest);
      expect((await registry.fetch(`/v2/images-ns/copy/blobs/${app.layers[1]!.digest}`)).status).toBe(200);
      await expectManagementError(await call(`/api/v1/images/tags?fromimage=${encodeURIComponent(`${host}/images-ns/app:1.0`)}&toimage=${encodeURIComponent(`${host}/images-ns/copy`)}`, { method: 'POST' }), 400);
      await expectManagementError(await call(`/api/v1/images/tags?fromimage=${encodeURIComponent(`${host}/images-ns/app:1.0`)}`, { method: 'POST' }), 400);

      expect((await cr.tagImage({ fromimage: `${host}/images-ns/copy:2.0`, toimage: `${host}/images-ns/copy:3.0` })).status).toBe(201);
      expect((await cr.deleteImageTag({ image: `${host}/images-ns/copy:2.0` })).result).toEqual({ Untagged: `${host}/images-ns/copy:2.0` });
      expect((await registry.fetch('/v2/images-ns/copy/manifests/2.0')).status).toBe(404);
      expect((await registry.fetch('/v2/images-ns/copy/manifests/3.0')).status).toBe(200);
      expect((await cr.deleteImage({ image: `${host}/images-ns/copy:3.0` })).result).toEqual({ Untagged: `${host}/images-ns/copy:3.0` });
      expect((await registry.fetch(`/v2/images-ns/copy/manifests/${app.manifest.digest}`)).status).toBe(404);

      const one = await registry.pushImage('images-ns/bulk', 'a');
      const two = await registry.pushImage('images-ns/bulk', 'b');
      const refs = [`${host}/images-ns/bulk@${one.manifest.digest}`, `${host}/images-ns/bulk@${two.manifest.digest}`, `${host}/images-ns/bulk:a`, `${host}/rivals-ns/x@${one.manifest.digest}`];
      const result = (await cr.bulkDeleteImages({ bulkDelete: refs })).result;
      expect(result.success).toEqual(refs.slice(0, 2));
      expect(Object.keys(result.error!).sort()).toEqual(refs.slice(2).sort());
      expect((await registry.fetch('/v2/images-ns/bulk/manifests/b')).status).toBe(404);
      await expectManagementError(await call('/api/v1/images/bulkdelete', { method: 'POST', body: { not: 'an array' } }), 400);
    });
  });

  describe('authorized by the same decision as the data plane (§3.9)', () => {
    it('Reader lists and inspects but does not delete; Writer deletes but does not list; neither creates namespaces', async () => {
      const reader = await sdkFor(['Reader'], { resourceType: 'namespace', resource: 'images-ns' }, 'cr-reader');
      const writer = await sdkFor(['Writer'], { resourceType: 'namespace', resource: 'images-ns' }, 'cr-writer');
      expect((await reader.listImages({})).result.length).toBeGreaterThan(0);
      expect((await reader.inspectImage({ image: `${host}/images-ns/app:1.0` })).status).toBe(200);
      expect((await reader.listNamespaces()).result).toEqual(['images-ns']);
      await expect(reader.deleteImageTag({ image: `${host}/images-ns/app:latest` })).rejects.toMatchObject({ status: 403 });
      await expect(reader.createNamespace({ name: 'by-reader' })).rejects.toMatchObject({ status: 403 });

      expect((await writer.listImages({})).result).toEqual([]);
      await expect(writer.inspectImage({ image: `${host}/images-ns/app:1.0` })).rejects.toMatchObject({ status: 403 });
      expect((await writer.listNamespaces()).result).toEqual([]);
      await expect(writer.createNamespace({ name: 'by-writer' })).rejects.toMatchObject({ status: 403 });
      await registry.putManifest('images-ns/app', 'doomed', app.bytes, MT.ociManifest);
      expect((await writer.deleteImageTag({ image: `${host}/images-ns/app:doomed` })).status).toBe(200);
    });

    it('a principal of another account finds nothing, whatever it asks for', async () => {
      const other = await server.berth.iam.identities.createAccount('outsider', { name: 'x', email: 'x@example.com' });
      const { secret } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId });
      const outsider = registryApiFor(server.url, server.url, secret, other.accountId);
      expect((await outsider.listImages({})).result).toEqual([]);
      expect((await outsider.listNamespaces()).result).toEqual([]);
      await expect(outsider.inspectImage({ image: `${host}/images-ns/app:1.0` })).rejects.toMatchObject({ status: 404 });
      await expect(outsider.deleteImage({ image: `${host}/images-ns/app:1.0` })).rejects.toMatchObject({ status: 404 });
      // Its own Account header with our token, or ours with its token: refused.
      const token = await tokenFor(server, secret);
      await expectManagementError(await call('/api/v1/images', { token }), 403, 'CRG0003E');
    });
  });
});

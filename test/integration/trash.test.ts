import type ContainerRegistryV1 from '@ibm-cloud/ibm-container-registry/dist/container-registry/v1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, policyBody, registryApiFor } from '../support/iam.js';
import { digestOf, expectOciError, imageIndex, imageManifest, MT, OciClient, randomBlob, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { blobFiles } from '../support/storage.js';

const DAY_MS = 86_400_000;

interface ErrorBody {
  code: string;
  message: string;
}

/** The trash of IBM's Container Registry (deleted images wait there, and come back), driven by IBM's SDK. */
describe('trash and restore', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  let cr: ContainerRegistryV1;
  let oci: OciClient;
  let host: string;
  /** Added to the registry's clock: moving it on expires the trash. */
  let offset = 0;

  function call(path: string, method = 'GET'): Promise<Response> {
    return fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${owner.token}`, account: owner.accountId } });
  }

  async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
    expect(response.status).toBe(status);
    const body = (await response.json()) as ErrorBody;
    expect(body.code).toBe(code);
    return body;
  }

  const status = async (path: string) => (await oci.fetch(path, { method: 'HEAD' })).status;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', registryClock: () => Date.now() + offset });
    owner = await ownerSession(server);
    host = server.host;
    cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    await cr.createNamespace({ name: 'trash-ns' });
    await cr.createNamespace({ name: 'other-ns' });
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('deleting an image moves its digest and all its tags to the trash for 30 days; its blobs are kept and it restores by tag, then by digest', async () => {
    const image = await oci.pushImage('trash-ns/app', '1.0', { layers: 2 });
    await oci.pushManifest('trash-ns/app', 'latest', image.bytes, MT.ociManifest);
    const kept = await oci.pushImage('trash-ns/app', 'kept');

    expect((await cr.deleteImage({ image: `${host}/trash-ns/app:1.0` })).result).toEqual({ Untagged: `${host}/trash-ns/app:1.0` });
    for (const reference of ['1.0', 'latest', image.manifest.digest]) expect(await status(`/v2/trash-ns/app/manifests/${reference}`)).toBe(404);
    expect(await status('/v2/trash-ns/app/manifests/kept')).toBe(200);
    const listed = (await cr.listDeletedImages({})).result;
    expect(listed).toEqual({ [`${host}/trash-ns/app@${image.manifest.digest}`]: { daysUntilExpiry: 30, tags: ['1.0', 'latest'] } });
    expect((await cr.listDeletedImages({ namespace: 'other-ns' })).result).toEqual({});
    expect((await cr.listImages({})).result.flatMap((i) => i.RepoTags ?? [])).toEqual([`${host}/trash-ns/app:kept`]);

    // Trashed images keep their content: the collector leaves it however short the grace.
    await server.berth.registry.collector.run({ delayMs: 0 });
    const files = await blobFiles(server);
    for (const blob of [image.config, ...image.layers]) expect(files.has(blob.digest)).toBe(true);

    expect((await cr.restoreImage({ image: `${host}/trash-ns/app:1.0` })).status).toBe(200);
    expect((await oci.fetch('/v2/trash-ns/app/manifests/1.0')).headers.get('docker-content-digest')).toBe(image.manifest.digest);
    expect(await status('/v2/trash-ns/app/manifests/latest')).toBe(404);
    expect((await cr.listDeletedImages({})).result).toEqual({ [`${host}/trash-ns/app@${image.manifest.digest}`]: { daysUntilExpiry: 30, tags: ['latest'] } });

    const restored = (await cr.restoreTags({ digest: `${host}/trash-ns/app@${image.manifest.digest}` })).result;
    expect(restored).toEqual({ successful: [`${host}/trash-ns/app:latest`], unsuccessful: [] });
    expect((await cr.listDeletedImages({})).result).toEqual({});
    for (const reference of ['1.0', 'latest']) expect((await oci.fetch(`/v2/trash-ns/app/manifests/${reference}`)).headers.get('docker-content-digest')).toBe(image.manifest.digest);
    const layer = Buffer.from(await (await oci.fetch(`/v2/trash-ns/app/blobs/${image.layers[1]!.digest}`)).arrayBuffer());
    expect(digestOf(layer)).toBe(image.layers[1]!.digest);
    expect(kept.manifest.digest).not.toBe(image.manifest.digest);
  });

  it('restoring by digest leaves a tag that names another image now, and says so; restoring by tag refuses it', async () => {
    const first = await oci.pushImage('trash-ns/clash', 'v1');
    await oci.pushManifest('trash-ns/clash', 'stable', first.bytes, MT.ociManifest);
    await cr.deleteImage({ image: `${host}/trash-ns/clash@${first.manifest.digest}` });
    const second = await oci.pushImage('trash-ns/clash', 'v1');

    const refused = await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/clash:v1`)}/restore`, 'POST'), 409, 'CRG0044E');
    expect(refused.message).toContain('v1');
    const result = (await cr.restoreTags({ digest: `${host}/trash-ns/clash@${first.manifest.digest}` })).result;
    expect(result).toEqual({ successful: [`${host}/trash-ns/clash:stable`], unsuccessful: [`${host}/trash-ns/clash:v1`] });
    expect((await oci.fetch('/v2/trash-ns/clash/manifests/v1')).headers.get('docker-content-digest')).toBe(second.manifest.digest);
    expect((await oci.fetch('/v2/trash-ns/clash/manifests/stable')).headers.get('docker-content-digest')).toBe(first.manifest.digest);
  });

  it('answers what is not in the trash with 404, and malformed references with 400', async () => {
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/app:never`)}/restore`, 'POST'), 404, 'CRG0040E');
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/app@${digestOf('nothing')}`)}/restoretags`, 'POST'), 404, 'CRG0040E');
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/app:1.0`)}/restoretags`, 'POST'), 400, 'CRG0031E');
    // Another account's namespace, or none, answers as missing.
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/nobody-ns/app:1`)}/restore`, 'POST'), 404, 'CRG0023E');
  });

  it('bulk delete sends images to the trash too; the OCI DELETE removes at once', async () => {
    const one = await oci.pushImage('trash-ns/bulk', 'a');
    const two = await oci.pushImage('trash-ns/bulk', 'b');
    const result = (await cr.bulkDeleteImages({ bulkDelete: [`${host}/trash-ns/bulk@${one.manifest.digest}`] })).result;
    expect(result.success).toEqual([`${host}/trash-ns/bulk@${one.manifest.digest}`]);
    expect(Object.keys((await cr.listDeletedImages({ namespace: 'trash-ns' })).result)).toContain(`${host}/trash-ns/bulk@${one.manifest.digest}`);

    expect((await oci.fetch(`/v2/trash-ns/bulk/manifests/${two.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(Object.keys((await cr.listDeletedImages({})).result)).not.toContain(`${host}/trash-ns/bulk@${two.manifest.digest}`);
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/bulk:b`)}/restore`, 'POST'), 404, 'CRG0040E');
  });

  it('an index in the trash keeps its platform images and their blobs; after 30 days the trash empties and the bytes go', async () => {
    const platforms: Descriptor[] = [];
    const layers: Descriptor[] = [];
    for (const arch of ['amd64', 'arm64']) {
      const config = await oci.pushBlob('trash-ns/multi', Buffer.from(JSON.stringify({ architecture: arch, os: 'linux' })), MT.ociConfig);
      const layer = await oci.pushBlob('trash-ns/multi', randomBlob(2048), MT.ociLayer);
      layers.push(config, layer);
      const manifest = JSON.stringify(imageManifest({ config, layers: [layer] }));
      platforms.push(await oci.pushManifest('trash-ns/multi', digestOf(manifest), manifest, MT.ociManifest));
    }
    const index = await oci.pushManifest('trash-ns/multi', 'v1', JSON.stringify(imageIndex(platforms)), MT.ociIndex);

    // A platform image an index names is part of it: deleting it alone is refused, on both surfaces.
    const inUse = await expectError(await call(`/api/v1/images/${encodeURIComponent(`${host}/trash-ns/multi@${platforms[0]!.digest}`)}`, 'DELETE'), 409, 'CRG0043E');
    expect(inUse.message).toContain(index.digest);
    await expectOciError(await oci.fetch(`/v2/trash-ns/multi/manifests/${platforms[0]!.digest}`, { method: 'DELETE' }), 409, 'DENIED');

    await cr.deleteImage({ image: `${host}/trash-ns/multi:v1` });
    await server.berth.registry.collector.run({ delayMs: 0 });
    for (const platform of platforms) expect(await status(`/v2/trash-ns/multi/manifests/${platform.digest}`)).toBe(200);
    let files = await blobFiles(server);
    for (const blob of layers) expect(files.has(blob.digest)).toBe(true);
    // Its platform images are still in use by the trashed index: deleting one is still refused.
    await expectError(await call(`/api/v1/images/${encodeURIComponent(`${host}/trash-ns/multi@${platforms[1]!.digest}`)}`, 'DELETE'), 409, 'CRG0043E');

    offset = 31 * DAY_MS;
    try {
      const report = await server.berth.registry.collector.run({ delayMs: 0 });
      expect(report.trashExpired).toBeGreaterThanOrEqual(1);
      expect(report.manifestsRemoved).toBeGreaterThanOrEqual(3);
    } finally {
      offset = 0;
    }
    expect(Object.keys((await cr.listDeletedImages({})).result)).not.toContain(`${host}/trash-ns/multi@${index.digest}`);
    for (const platform of platforms) expect(await status(`/v2/trash-ns/multi/manifests/${platform.digest}`)).toBe(404);
    files = await blobFiles(server);
    for (const blob of layers) expect(files.has(blob.digest)).toBe(false);
    await expectError(await call(`/api/v1/trash/${encodeURIComponent(`${host}/trash-ns/multi:v1`)}/restore`, 'POST'), 404, 'CRG0040E');
  });

  it('listing the trash needs image.delete and restoring needs image.push, as in IBM', async () => {
    const image = await oci.pushImage('trash-ns/perm', 'v1');
    await cr.deleteImage({ image: `${host}/trash-ns/perm:v1` });
    const roleSdk = async (role: string) => {
      const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name: `trash-${role}`, apikey: { name: 'k' } })).result;
      await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, [role], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'trash-ns' }) as never);
      return registryApiFor(server.url, server.url, sid.apikey!.apikey, owner.accountId);
    };
    const reader = await roleSdk('Reader');
    const writer = await roleSdk('Writer');
    expect((await reader.listDeletedImages({})).result).toEqual({});
    await expect(reader.restoreImage({ image: `${host}/trash-ns/perm:v1` })).rejects.toMatchObject({ status: 403 });
    expect(Object.keys((await writer.listDeletedImages({})).result)).toContain(`${host}/trash-ns/perm@${image.manifest.digest}`);
    expect((await writer.restoreImage({ image: `${host}/trash-ns/perm:v1` })).status).toBe(200);
    expect(await status('/v2/trash-ns/perm/manifests/v1')).toBe(200);
  });

  it('untagged means on its own: image digests with exclude_tagged leave out platform images of an index and signatures of a live image', async () => {
    const subject = await oci.pushImage('trash-ns/sig', 'v1');
    const signature = await oci.pushImage('trash-ns/sig', undefined, { subject: subject.manifest, artifactType: 'application/vnd.example.signature' });
    const loose = await oci.pushImage('trash-ns/sig');
    const digests = (await cr.listImageDigests({ excludeTagged: true })).result.map((d) => d.id);
    expect(digests).toContain(loose.manifest.digest);
    expect(digests).not.toContain(signature.manifest.digest);
    expect(digests).not.toContain(subject.manifest.digest);
  });

  it('deleting a namespace frees the bytes only it held; the same content in another account stays', async () => {
    const shared = randomBlob(3000);
    const other = await server.berth.iam.identities.createAccount('neighbour', { name: 'n', email: 'n@example.com' });
    const { secret } = await server.berth.iam.apiKeys.create({ accountId: other.accountId, iamId: other.ownerIamId, name: 'k', createdBy: other.ownerIamId });
    await registryApiFor(server.url, server.url, secret, other.accountId).createNamespace({ name: 'neighbour-ns' });
    const neighbour = new OciClient(server.url, basicAuth(secret));

    await cr.createNamespace({ name: 'doomed-ns' });
    const config = await oci.pushBlob('doomed-ns/app', Buffer.from('{"doomed":true}'), MT.ociConfig);
    const layer = await oci.pushBlob('doomed-ns/app', shared, MT.ociLayer);
    await oci.pushManifest('doomed-ns/app', 'v1', JSON.stringify(imageManifest({ config, layers: [layer] })), MT.ociManifest);
    const theirs = await neighbour.pushBlob('neighbour-ns/app', shared, MT.ociLayer);
    await neighbour.pushManifest('neighbour-ns/app', 'v1', JSON.stringify(imageManifest({ config: await neighbour.pushBlob('neighbour-ns/app', Buffer.from('{}'), MT.ociConfig), layers: [theirs] })), MT.ociManifest);

    expect((await cr.deleteNamespace({ name: 'doomed-ns' })).status).toBe(204);
    await server.berth.registry.collector.run({ delayMs: 0 });
    const files = await blobFiles(server);
    expect(files.has(config.digest)).toBe(false);
    expect(files.has(layer.digest)).toBe(true);
    const pulled = Buffer.from(await (await neighbour.fetch(`/v2/neighbour-ns/app/blobs/${theirs.digest}`)).arrayBuffer());
    expect(pulled.equals(shared)).toBe(true);
  });
});

describe('without a trash (BERTH_TRASH_DAYS=0)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (c) => (c.trashDays = 0) });
  });
  afterAll(async () => server.close());

  it('a deleted image goes at once, and its blobs with the next collection', async () => {
    const owner = await ownerSession(server);
    const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    const oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    await cr.createNamespace({ name: 'now-ns' });
    const image = await oci.pushImage('now-ns/app', 'v1');
    await cr.deleteImage({ image: `${server.host}/now-ns/app:v1` });
    expect((await cr.listDeletedImages({})).result).toEqual({});
    await server.berth.registry.collector.run({ delayMs: 0 });
    expect((await blobFiles(server)).has(image.layers[0]!.digest)).toBe(false);
    expect(await server.serverErrors()).toEqual([]);
  });
});

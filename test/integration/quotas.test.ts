import type ContainerRegistryV1 from '@ibm-cloud/ibm-container-registry/dist/container-registry/v1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, policyBody, registryApiFor } from '../support/iam.js';
import { digestOf, expectOciError, imageManifest, MT, OciClient, randomBlob } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { uploadFiles } from '../support/storage.js';

const MB = 1024 * 1024;
const STORAGE_MESSAGE = 'Your account has exceeded its image storage quota for the current month.';
const TRAFFIC_MESSAGE = 'Your account has exceeded its pull traffic quota for the current month.';

interface Quota {
  limit: { storage_bytes: number; traffic_bytes: number };
  usage: { storage_bytes: number; traffic_bytes: number };
}

/** Storage and pull-traffic quotas and plans, per account and region, driven by IBM's SDK. */
describe('quotas', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  let cr: ContainerRegistryV1;
  let oci: OciClient;

  const quota = async () => (await cr.getQuota()).result as Quota;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    owner = await ownerSession(server);
    cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    await cr.createNamespace({ name: 'quota-a' });
    await cr.createNamespace({ name: 'quota-b' });
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('starts unlimited on the Standard plan, and counts each blob and manifest once however many repositories hold it', async () => {
    expect((await cr.getPlans()).result).toEqual({ plan: 'Standard' });
    expect(await quota()).toEqual({ limit: { storage_bytes: -1, traffic_bytes: -1 }, usage: { storage_bytes: 0, traffic_bytes: 0 } });
    const layer = randomBlob(10_000);
    const config = await oci.pushBlob('quota-a/one', Buffer.from('{"q":1}'), MT.ociConfig);
    const pushedLayer = await oci.pushBlob('quota-a/one', layer, MT.ociLayer);
    const manifest = JSON.stringify(imageManifest({ config, layers: [pushedLayer] }));
    await oci.pushManifest('quota-a/one', 'v1', manifest, MT.ociManifest);
    const single = config.size + layer.length + Buffer.byteLength(manifest);
    expect((await quota()).usage.storage_bytes).toBe(single);
    // The same image in another repository and another namespace of the account: no more storage.
    for (const repository of ['quota-a/two', 'quota-b/three']) {
      await oci.pushBlob(repository, Buffer.from('{"q":1}'), MT.ociConfig);
      await oci.pushBlob(repository, layer, MT.ociLayer);
      await oci.pushManifest(repository, 'v1', manifest, MT.ociManifest);
    }
    expect((await quota()).usage.storage_bytes).toBe(single);
    // A trashed image still counts; an abandoned upload never does.
    await cr.deleteImage({ image: `${server.host}/quota-a/one:v1` });
    const location = await oci.startUpload('quota-a/one');
    await oci.fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: randomBlob(50_000) });
    expect((await quota()).usage.storage_bytes).toBe(single);
  });

  it('refuses a push that would exceed the storage quota: at POST when the size is declared, at commit when it is not, never past the limit', async () => {
    expect((await cr.updateQuota({ storageMegabytes: 1 })).status).toBe(200);
    const before = await quota();
    expect(before.limit.storage_bytes).toBe(MB);
    const room = MB - before.usage.storage_bytes;

    // Declared (monolithic POST with a Content-Length): refused before a byte is stored.
    const big = randomBlob(room + 1);
    const uploadsBefore = (await uploadFiles(server)).length;
    const refused = await oci.fetch(`/v2/quota-a/big/blobs/uploads/?digest=${digestOf(big)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: big });
    const error = await expectOciError(refused, 403, 'DENIED');
    expect(error.message.startsWith(STORAGE_MESSAGE)).toBe(true);
    expect(await uploadFiles(server)).toHaveLength(uploadsBefore);

    // A chunk whose Content-Length does not fit: refused at the PATCH.
    const location = await oci.startUpload('quota-a/big');
    await expectOciError(await oci.fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: big }), 403, 'DENIED');

    // Streamed without a length (as docker sends layers): taken, then refused before it becomes a blob.
    const streamed = await oci.startUpload('quota-a/big');
    const stream = new ReadableStream({ start(controller) { controller.enqueue(big); controller.close(); } });
    const patch = await oci.fetch(streamed, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: stream, duplex: 'half' } as RequestInit);
    expect(patch.status).toBe(202);
    const commit = await oci.fetch(`${patch.headers.get('location')!}${patch.headers.get('location')!.includes('?') ? '&' : '?'}digest=${digestOf(big)}`, { method: 'PUT' });
    expect((await expectOciError(commit, 403, 'DENIED')).message.startsWith(STORAGE_MESSAGE)).toBe(true);
    expect((await oci.fetch(`/v2/quota-a/big/blobs/${digestOf(big)}`, { method: 'HEAD' })).status).toBe(404);
    expect((await quota()).usage.storage_bytes).toBe(before.usage.storage_bytes);

    // What the account holds already costs nothing: mounting it into another repository works at the limit.
    const fits = randomBlob(room);
    await oci.pushBlob('quota-a/fits', fits);
    expect((await quota()).usage.storage_bytes).toBe(MB);
    const mount = await oci.fetch(`/v2/quota-b/fits/blobs/uploads/?mount=${digestOf(fits)}&from=quota-a/fits`, { method: 'POST' });
    expect(mount.status).toBe(201);
    await expectOciError(await oci.putManifest('quota-a/fits', 'v1', JSON.stringify(imageManifest({ config: { mediaType: MT.ociConfig, digest: digestOf(fits), size: fits.length }, layers: [] })), MT.ociManifest), 403, 'DENIED');
    expect((await quota()).usage.storage_bytes).toBe(MB);

    // Freeing space (delete, collect) lets pushes in again.
    expect((await oci.fetch(`/v2/quota-a/fits/blobs/${digestOf(fits)}`, { method: 'DELETE' })).status).toBe(202);
    expect((await oci.fetch(`/v2/quota-b/fits/blobs/${digestOf(fits)}`, { method: 'DELETE' })).status).toBe(202);
    expect((await quota()).usage.storage_bytes).toBe(before.usage.storage_bytes);
    await oci.pushBlob('quota-a/again', randomBlob(1000));
    await cr.updateQuota({ storageMegabytes: -1 });
    expect((await quota()).limit.storage_bytes).toBe(-1);
  });

  it('two pushes racing for the last bytes: one gets them, the other is refused, and usage never passes the limit', async () => {
    await cr.updateQuota({ storageMegabytes: 2 });
    const free = 2 * MB - (await quota()).usage.storage_bytes;
    const blobs = [randomBlob(Math.floor(free * 0.6)), randomBlob(Math.floor(free * 0.6))];
    const answers = await Promise.all(
      blobs.map((blob, i) => oci.fetch(`/v2/quota-b/race${i}/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: blob })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 403]);
    expect((await quota()).usage.storage_bytes).toBeLessThanOrEqual(2 * MB);
    await cr.updateQuota({ storageMegabytes: -1 });
  });

  it('counts pull traffic against the repository’s account and refuses a pull over the traffic quota', async () => {
    const blob = await oci.pushBlob('quota-b/pull', randomBlob(600 * 1024));
    const before = (await quota()).usage.traffic_bytes;
    await cr.updateQuota({ trafficMegabytes: 1 });
    expect((await quota()).limit.traffic_bytes).toBe(MB);
    const first = await oci.fetch(`/v2/quota-b/pull/blobs/${blob.digest}`);
    expect(first.status).toBe(200);
    expect(digestOf(Buffer.from(await first.arrayBuffer()))).toBe(blob.digest);
    expect((await quota()).usage.traffic_bytes).toBe(before + blob.size);
    // HEAD and a range within what is left are fine; the whole blob again is not.
    expect((await oci.fetch(`/v2/quota-b/pull/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(200);
    const second = await oci.fetch(`/v2/quota-b/pull/blobs/${blob.digest}`);
    expect((await expectOciError(second, 403, 'DENIED')).message.startsWith(TRAFFIC_MESSAGE)).toBe(true);
    expect((await quota()).usage.traffic_bytes).toBe(before + blob.size);
    await cr.updateQuota({ trafficMegabytes: -1 });
    expect((await oci.fetch(`/v2/quota-b/pull/blobs/${blob.digest}`)).status).toBe(200);
  });

  it('refuses quotas that are not whole megabytes of -1 or more, with IBM-shaped errors', async () => {
    const patch = (body: unknown) =>
      fetch(`${server.url}/api/v1/quotas`, { method: 'PATCH', headers: { authorization: `Bearer ${owner.token}`, account: owner.accountId, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{ storage_megabytes: 'lots' }, { traffic_megabytes: 1.5 }, [1]]) {
      const response = await patch(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe('CRG0001E');
    }
    const negative = await patch({ storage_megabytes: -2 });
    expect(negative.status).toBe(400);
    expect(((await negative.json()) as { code: string; message: string }).message).toContain('-1');
  });

  it('quota.get is for Reader, Writer and Manager; setting quotas and plans is for a service-wide Manager only', async () => {
    const withRole = async (role: string, attributes: Record<string, string>) => {
      const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name: `quota-${role}-${Object.keys(attributes).length}`, apikey: { name: 'k' } })).result;
      await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, [role], { serviceName: 'container-registry', ...attributes }) as never);
      return registryApiFor(server.url, server.url, sid.apikey!.apikey, owner.accountId);
    };
    const writer = await withRole('Writer', { resourceType: 'namespace', resource: 'quota-a' });
    const scopedManager = await withRole('Manager', { resourceType: 'namespace', resource: 'quota-a' });
    const manager = await withRole('Manager', {});
    await expect(writer.getQuota()).rejects.toMatchObject({ status: 403 });
    expect((await (await withRole('Writer', {})).getQuota()).status).toBe(200);
    await expect(scopedManager.updateQuota({ storageMegabytes: 5 })).rejects.toMatchObject({ status: 403 });
    await expect(scopedManager.updatePlans({ plan: 'Standard' })).rejects.toMatchObject({ status: 403 });
    expect((await manager.updateQuota({ storageMegabytes: 5 })).status).toBe(200);
    expect((await manager.getPlans()).result).toEqual({ plan: 'Standard' });
    await manager.updateQuota({ storageMegabytes: -1 });
  });
});

describe('plans (accounts start on Free: BERTH_DEFAULT_PLAN=free)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (c) => (c.defaultPlan = 'Free') });
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('Free has IBM’s limits; quotas stay within them until the plan is upgraded; plans are not downgraded', async () => {
    const owner = await ownerSession(server);
    const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    await cr.createNamespace({ name: 'free-ns' });
    expect((await cr.getPlans()).result).toEqual({ plan: 'Free' });
    expect(((await cr.getQuota()).result as Quota).limit).toEqual({ storage_bytes: 500 * MB, traffic_bytes: 5 * 1024 * MB });
    expect((await cr.updateQuota({ storageMegabytes: 100 })).status).toBe(200);
    expect(((await cr.getQuota()).result as Quota).limit.storage_bytes).toBe(100 * MB);
    await expect(cr.updateQuota({ storageMegabytes: 600 })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('500') });
    // -1 drops the account's own quota; the plan's limit still holds.
    expect((await cr.updateQuota({ trafficMegabytes: -1 })).status).toBe(200);
    expect(((await cr.getQuota()).result as Quota).limit).toEqual({ storage_bytes: 100 * MB, traffic_bytes: 5 * 1024 * MB });

    expect((await cr.updatePlans({ plan: 'Standard' })).status).toBe(200);
    expect((await cr.getPlans()).result).toEqual({ plan: 'Standard' });
    // The account's own quota still holds; the plan's limits are gone.
    expect(((await cr.getQuota()).result as Quota).limit).toEqual({ storage_bytes: 100 * MB, traffic_bytes: -1 });
    expect((await cr.updateQuota({ storageMegabytes: 600 })).status).toBe(200);
    await expect(cr.updatePlans({ plan: 'Free' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('downgraded') });
    await expect(cr.updatePlans({ plan: 'Gold' })).rejects.toMatchObject({ status: 400 });
  });
});

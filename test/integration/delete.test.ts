import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, expectOciError, MT, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('delete', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  async function status(path: string): Promise<number> {
    return (await oci.fetch(path, { method: 'HEAD' })).status;
  }

  async function tags(name: string): Promise<string[]> {
    return ((await (await oci.fetch(`/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags;
  }

  it('DELETE of a manifest by digest answers 202 and removes it with every tag on it', async () => {
    const name = repoName('del');
    const image = await oci.pushImage(name, 'a');
    await oci.pushManifest(name, 'b', image.bytes, MT.ociManifest);
    const kept = await oci.pushImage(name, 'kept');
    const response = await oci.fetch(`/v2/${name}/manifests/${image.manifest.digest}`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    expect(await status(`/v2/${name}/manifests/${image.manifest.digest}`)).toBe(404);
    expect(await status(`/v2/${name}/manifests/a`)).toBe(404);
    expect(await status(`/v2/${name}/manifests/b`)).toBe(404);
    expect(await tags(name)).toEqual(['kept']);
    expect(await status(`/v2/${name}/manifests/${kept.manifest.digest}`)).toBe(200);
    // Its blobs stay reachable until they are deleted or collected.
    expect(await status(`/v2/${name}/blobs/${image.config.digest}`)).toBe(200);
  });

  it('a deleted manifest can be pushed again', async () => {
    const name = repoName('del');
    const image = await oci.pushImage(name, 'v1');
    expect((await oci.fetch(`/v2/${name}/manifests/${image.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
    await oci.pushManifest(name, 'v1', image.bytes, MT.ociManifest);
    expect(await status(`/v2/${name}/manifests/v1`)).toBe(200);
  });

  it('DELETE by tag answers 202, removes the tag and keeps the manifest', async () => {
    const name = repoName('del');
    const image = await oci.pushImage(name, 'gone');
    await oci.pushManifest(name, 'stays', image.bytes, MT.ociManifest);
    const response = await oci.fetch(`/v2/${name}/manifests/gone`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    expect(await status(`/v2/${name}/manifests/gone`)).toBe(404);
    expect(await status(`/v2/${name}/manifests/${image.manifest.digest}`)).toBe(200);
    expect(await status(`/v2/${name}/manifests/stays`)).toBe(200);
    expect(await tags(name)).toEqual(['stays']);
  });

  it('DELETE of an unknown manifest or tag is 404 MANIFEST_UNKNOWN', async () => {
    const name = repoName('del');
    await oci.pushImage(name, 'v1');
    await expectOciError(await oci.fetch(`/v2/${name}/manifests/${digestOf(randomBlob())}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    await expectOciError(await oci.fetch(`/v2/${name}/manifests/nope`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  it('DELETE of a manifest with an invalid digest is 400 DIGEST_INVALID', async () => {
    await expectOciError(await oci.fetch(`/v2/${repoName('del')}/manifests/sha256:totallywrong`, { method: 'DELETE' }), 400, 'DIGEST_INVALID');
  });

  it('DELETE of a blob answers 202, then the blob is 404 in that repository only', async () => {
    const name = repoName('del');
    const other = repoName('del');
    const bytes = randomBlob(40);
    const blob = await oci.pushBlob(name, bytes);
    await oci.pushBlob(other, bytes);
    const response = await oci.fetch(`/v2/${name}/blobs/${blob.digest}`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    await expectOciError(await oci.fetch(`/v2/${name}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    expect(await status(`/v2/${other}/blobs/${blob.digest}`)).toBe(200);
    await expectOciError(await oci.fetch(`/v2/${name}/blobs/${blob.digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
  });

  it('DELETE of a blob with an invalid digest is 400 DIGEST_INVALID', async () => {
    await expectOciError(await oci.fetch(`/v2/${repoName('del')}/blobs/sha256:totallywrong`, { method: 'DELETE' }), 400, 'DIGEST_INVALID');
  });
});

describe('delete when disabled', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer({ configure: (c) => { c.registry.deleteEnabled = false; } });
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('manifest by digest, manifest by tag and blob all answer 405 UNSUPPORTED and nothing goes', async () => {
    const name = repoName('nodel');
    const image = await oci.pushImage(name, 'v1');
    const paths = [
      `/v2/${name}/manifests/${image.manifest.digest}`,
      `/v2/${name}/manifests/v1`,
      `/v2/${name}/blobs/${image.layers[0]!.digest}`,
    ];
    for (const path of paths) {
      await expectOciError(await oci.fetch(path, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      expect((await oci.fetch(path, { method: 'HEAD' })).status).toBe(200);
    }
  });

  it('cancelling an upload is still allowed', async () => {
    const location = await oci.startUpload(repoName('nodel'));
    expect((await oci.fetch(location, { method: 'DELETE' })).status).toBe(204);
  });
});

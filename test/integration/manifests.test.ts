import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  digestOf,
  expectOciError,
  imageIndex,
  imageManifest,
  MT,
  OciClient,
  randomBlob,
  repoName,
  type PushedImage,
} from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** JSON with odd whitespace and key order: any re-serialisation on the way would change the bytes. */
function oddlyFormatted(value: Record<string, unknown>): Buffer {
  return Buffer.from(`\n  ${JSON.stringify(value, null, 3).replace(/": /g, '" :  ')}\t\n`);
}

describe('manifests', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('manifests');
  let image: PushedImage;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    image = await oci.pushImage(name, 'v1');
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  describe('pull', () => {
    it.each(['tag', 'digest'])('GET by %s returns the stored bytes, media type and digest', async (by) => {
      const reference = by === 'tag' ? 'v1' : image.manifest.digest;
      const response = await oci.fetch(`/v2/${name}/manifests/${reference}`, { headers: { accept: MT.ociManifest } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(MT.ociManifest);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      expect(response.headers.get('content-length')).toBe(String(image.bytes.length));
      expect(Buffer.from(await response.arrayBuffer())).toEqual(image.bytes);
    });

    it.each(['tag', 'digest'])('HEAD by %s has the GET headers and no body', async (by) => {
      const reference = by === 'tag' ? 'v1' : image.manifest.digest;
      const get = await oci.fetch(`/v2/${name}/manifests/${reference}`);
      await get.arrayBuffer();
      const head = await oci.fetch(`/v2/${name}/manifests/${reference}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      for (const header of ['content-type', 'docker-content-digest', 'content-length', 'etag']) {
        expect(head.headers.get(header), header).toBe(get.headers.get(header));
      }
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    });

    it('an Accept list without the stored type still gets the stored bytes unchanged', async () => {
      const accept = [MT.dockerManifest, MT.dockerManifestList, 'application/vnd.docker.distribution.manifest.v1+prettyjws'].join(', ');
      const response = await oci.fetch(`/v2/${name}/manifests/v1`, { headers: { accept } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(MT.ociManifest);
      expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(image.bytes);
    });

    it('an unknown tag is 404 MANIFEST_UNKNOWN', async () => {
      await expectOciError(await oci.fetch(`/v2/${name}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
    });

    it('an unknown digest is 404 MANIFEST_UNKNOWN', async () => {
      await expectOciError(await oci.fetch(`/v2/${name}/manifests/${digestOf(randomBlob())}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest of another repository is 404 MANIFEST_UNKNOWN here', async () => {
      const response = await oci.fetch(`/v2/${repoName('elsewhere')}/manifests/${image.manifest.digest}`);
      await expectOciError(response, 404, 'MANIFEST_UNKNOWN');
    });

    it('the invalid digest sha256:totallywrong is 400 DIGEST_INVALID', async () => {
      await expectOciError(await oci.fetch(`/v2/${name}/manifests/sha256:totallywrong`), 400, 'DIGEST_INVALID');
    });

    // The conformance suite pulls `.INVALID_MANIFEST_NAME` and wants 404; pushing to one is TAG_INVALID.
    it.each(['-leading-dash', '.dot', 'a'.repeat(129), 'bad%21char'])('the invalid tag %s names nothing: 404 MANIFEST_UNKNOWN', async (tag) => {
      await expectOciError(await oci.fetch(`/v2/${name}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN');
      expect((await oci.fetch(`/v2/${name}/manifests/${tag}`, { method: 'HEAD' })).status).toBe(404);
    });

    it('a tag of 128 characters is valid', async () => {
      const tag = `t${'x'.repeat(127)}`;
      await oci.pushManifest(name, tag, image.bytes, MT.ociManifest);
      const response = await oci.fetch(`/v2/${name}/manifests/${tag}`, { method: 'HEAD' });
      expect(response.status).toBe(200);
    });
  });

  describe('push', () => {
    it('PUT answers 201 with Location and Docker-Content-Digest', async () => {
      const bytes = Buffer.from(JSON.stringify(imageManifest({ config: image.config, layers: [] })));
      const response = await oci.putManifest(name, 'empty-layers', bytes, MT.ociManifest);
      expect(response.status).toBe(201);
      expect(response.headers.get('location')).toBe(`/v2/${name}/manifests/${digestOf(bytes)}`);
      expect(response.headers.get('docker-content-digest')).toBe(digestOf(bytes));
    });

    it('an OCI image manifest round-trips byte for byte', async () => {
      const bytes = oddlyFormatted(imageManifest({ config: image.config, layers: image.layers, annotations: { b: '2', a: '1' } }));
      await expectRoundTrip(name, 'oci-image', bytes, MT.ociManifest);
    });

    it('an OCI index round-trips byte for byte', async () => {
      const bytes = oddlyFormatted(imageIndex([{ ...image.manifest, mediaType: MT.ociManifest }]));
      await expectRoundTrip(name, 'oci-index', bytes, MT.ociIndex);
    });

    it('a Docker v2 schema 2 manifest and manifest list round-trip byte for byte', async () => {
      const config = await oci.pushBlob(name, randomBlob(32), MT.dockerConfig);
      const layer = await oci.pushBlob(name, randomBlob(32), MT.dockerLayer);
      const manifest = oddlyFormatted({ schemaVersion: 2, mediaType: MT.dockerManifest, config, layers: [layer] });
      await expectRoundTrip(name, 'docker-image', manifest, MT.dockerManifest);
      const child = { mediaType: MT.dockerManifest, digest: digestOf(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } };
      const list = oddlyFormatted(imageIndex([child], MT.dockerManifestList));
      await expectRoundTrip(name, 'docker-list', list, MT.dockerManifestList);
    });

    it('PUT by digest stores the manifest under that digest', async () => {
      const bytes = oddlyFormatted(imageManifest({ config: image.config, layers: image.layers, annotations: { by: 'digest' } }));
      await expectRoundTrip(name, digestOf(bytes), bytes, MT.ociManifest);
    });

    it('PUT by a sha512 digest is stored and served under it', async () => {
      const bytes = Buffer.from(JSON.stringify(imageManifest({ config: image.config, layers: [], annotations: { alg: 'sha512' } })));
      const digest = digestOf(bytes, 'sha512');
      const response = await oci.putManifest(name, digest, bytes, MT.ociManifest);
      expect(response.status).toBe(201);
      expect(response.headers.get('docker-content-digest')).toBe(digest);
      const get = await oci.fetch(`/v2/${name}/manifests/${digest}`);
      expect(get.headers.get('docker-content-digest')).toBe(digest);
      expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
    });

    it('PUT by a digest that does not match the body is 400 DIGEST_INVALID and stores nothing', async () => {
      const bytes = Buffer.from(JSON.stringify(imageManifest({ config: image.config, layers: [], annotations: { wrong: 'digest' } })));
      const claimed = digestOf(randomBlob());
      await expectOciError(await oci.putManifest(name, claimed, bytes, MT.ociManifest), 400, 'DIGEST_INVALID');
      expect((await oci.fetch(`/v2/${name}/manifests/${claimed}`, { method: 'HEAD' })).status).toBe(404);
      expect((await oci.fetch(`/v2/${name}/manifests/${digestOf(bytes)}`, { method: 'HEAD' })).status).toBe(404);
    });

    it('a Content-Type with parameters is accepted and the bare type stored', async () => {
      const bytes = Buffer.from(JSON.stringify(imageManifest({ config: image.config, layers: [], annotations: { with: 'charset' } })));
      const put = await oci.putManifest(name, 'with-params', bytes, `${MT.ociManifest}; charset=utf-8`);
      expect(put.status).toBe(201);
      const get = await oci.fetch(`/v2/${name}/manifests/with-params`);
      expect(get.headers.get('content-type')).toBe(MT.ociManifest);
      await get.arrayBuffer();
    });

    it('PUT to a malformed digest reference is 400 DIGEST_INVALID', async () => {
      await expectOciError(await oci.putManifest(name, 'sha256:totallywrong', image.bytes, MT.ociManifest), 400, 'DIGEST_INVALID');
    });

    it('PUT to an invalid tag is 400 TAG_INVALID', async () => {
      await expectOciError(await oci.putManifest(name, '-bad', image.bytes, MT.ociManifest), 400, 'TAG_INVALID');
    });

    it('pushing another manifest to a tag moves the tag', async () => {
      const first = await oci.pushImage(name, 'moving');
      const second = await oci.pushImage(name, 'moving');
      const response = await oci.fetch(`/v2/${name}/manifests/moving`, { method: 'HEAD' });
      expect(response.headers.get('docker-content-digest')).toBe(second.manifest.digest);
      const old = await oci.fetch(`/v2/${name}/manifests/${first.manifest.digest}`, { method: 'HEAD' });
      expect(old.status).toBe(200);
    });

    it('concurrent pushes into a new repository all land', async () => {
      const fresh = repoName('concurrent');
      const tags = ['a', 'b', 'c', 'd', 'e'];
      const images = await Promise.all(tags.map((tag) => oci.pushImage(fresh, tag)));
      const listed = (await (await oci.fetch(`/v2/${fresh}/tags/list`)).json()) as { tags: string[] };
      expect(listed.tags).toEqual(tags);
      for (const [i, tag] of tags.entries()) {
        const head = await oci.fetch(`/v2/${fresh}/manifests/${tag}`, { method: 'HEAD' });
        expect(head.headers.get('docker-content-digest')).toBe(images[i]!.manifest.digest);
      }
    });

    it('a manifest with a subject answers with OCI-Subject', async () => {
      const empty = await oci.pushBlob(name, Buffer.from('{}'), MT.ociEmpty);
      const bytes = Buffer.from(
        JSON.stringify(imageManifest({ config: empty, layers: [empty], subject: image.manifest, artifactType: 'application/vnd.example.sig' })),
      );
      const response = await oci.putManifest(name, digestOf(bytes), bytes, MT.ociManifest);
      expect(response.status).toBe(201);
      expect(response.headers.get('oci-subject')).toBe(image.manifest.digest);
    });

    it('a manifest without a subject has no OCI-Subject', async () => {
      const bytes = Buffer.from(JSON.stringify(imageManifest({ config: image.config, layers: [], annotations: { no: 'subject' } })));
      const response = await oci.putManifest(name, 'no-subject', bytes, MT.ociManifest);
      expect(response.status).toBe(201);
      expect(response.headers.get('oci-subject')).toBeNull();
    });
  });

  async function expectRoundTrip(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const digest = digestOf(bytes);
    const put = await oci.putManifest(repo, reference, bytes, mediaType);
    expect(put.status, await put.text()).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    for (const ref of new Set([reference, digest])) {
      const get = await oci.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { accept: mediaType } });
      expect(get.status).toBe(200);
      expect(get.headers.get('content-type')).toBe(mediaType);
      expect(get.headers.get('docker-content-digest')).toBe(digest);
      expect(Buffer.from(await get.arrayBuffer())).toEqual(bytes);
      // HEAD names this very manifest (for an index: the index, not a platform's manifest).
      const head = await oci.fetch(`/v2/${repo}/manifests/${ref}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe(mediaType);
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.headers.get('content-length')).toBe(String(bytes.length));
    }
  }
});

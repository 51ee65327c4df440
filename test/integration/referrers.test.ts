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
  type Descriptor,
  type PushedImage,
} from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SBOM = 'application/vnd.example.sbom.v1';
const SIGNATURE = 'application/vnd.example.signature.v1';

describe('referrers', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('referrers');
  let subject: PushedImage;
  /** Every referrer of `subject`, as the API must describe it. */
  const expected: Descriptor[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    subject = await oci.pushImage(name, 'v1');
    const empty = await oci.pushBlob(name, Buffer.from('{}'), MT.ociEmpty);

    // An artifact with artifactType and annotations.
    const sbom = await oci.pushImage(name, undefined, { subject: subject.manifest, artifactType: SBOM, annotations: { 'org.example.kind': 'sbom' } });
    expected.push({ ...sbom.manifest, artifactType: SBOM, annotations: { 'org.example.kind': 'sbom' } });

    // No artifactType: the config's media type stands in for it.
    const bytes = Buffer.from(JSON.stringify(imageManifest({ config: { ...empty, mediaType: SIGNATURE }, layers: [empty], subject: subject.manifest })));
    const signature = await oci.pushManifest(name, digestOf(bytes), bytes, MT.ociManifest);
    expected.push({ ...signature, artifactType: SIGNATURE });

    // An index can refer to a subject too.
    const indexBytes = Buffer.from(JSON.stringify({ ...imageIndex([]), artifactType: SBOM, subject: subject.manifest }));
    const index = await oci.pushManifest(name, digestOf(indexBytes), indexBytes, MT.ociIndex);
    expected.push({ ...index, artifactType: SBOM });

    // A manifest with another subject is not listed.
    const other = await oci.pushImage(name, 'other');
    await oci.pushImage(name, undefined, { subject: other.manifest, artifactType: SBOM });
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  async function referrers(repo: string, digest: string, query = ''): Promise<{ response: Response; body: Record<string, unknown> }> {
    const response = await oci.fetch(`/v2/${repo}/referrers/${digest}${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(MT.ociIndex);
    return { response, body: (await response.json()) as Record<string, unknown> };
  }

  function byDigest(descriptors: Descriptor[]): Descriptor[] {
    return [...descriptors].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  it('lists every manifest whose subject is the digest, as full descriptors', async () => {
    const { response, body } = await referrers(name, subject.manifest.digest);
    expect(response.headers.get('oci-filters-applied')).toBeNull();
    expect(body.schemaVersion).toBe(2);
    expect(body.mediaType).toBe(MT.ociIndex);
    expect(byDigest(body.manifests as Descriptor[])).toEqual(byDigest(expected));
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const { response, body } = await referrers(name, subject.manifest.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    expect(response.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(byDigest(body.manifests as Descriptor[])).toEqual(byDigest(expected.filter((d) => d.artifactType === SBOM)));
  });

  it('a filter nothing matches gives an empty index, still naming the filter', async () => {
    const { response, body } = await referrers(name, subject.manifest.digest, '?artifactType=application%2Fvnd.example.none');
    expect(response.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(body.manifests).toEqual([]);
  });

  it('an unknown subject gives an empty index, not a 404', async () => {
    const { body } = await referrers(name, digestOf(randomBlob()));
    expect(body).toEqual({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] });
  });

  it('an unknown repository gives an empty index, not a 404', async () => {
    const { body } = await referrers(repoName('nobody'), subject.manifest.digest);
    expect(body).toEqual({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] });
  });

  it('referrers may be pushed before their subject', async () => {
    const repo = repoName('early');
    const config = await oci.pushBlob(repo, randomBlob(8));
    const layer = await oci.pushBlob(repo, randomBlob(8));
    const future: Descriptor = { mediaType: MT.ociManifest, digest: digestOf(randomBlob()), size: 123 };
    const bytes = Buffer.from(JSON.stringify(imageManifest({ config: { ...config, mediaType: SIGNATURE }, layers: [layer], subject: future })));
    const put = await oci.putManifest(repo, digestOf(bytes), bytes, MT.ociManifest);
    expect(put.status).toBe(201);
    expect(put.headers.get('oci-subject')).toBe(future.digest);
    const { body } = await referrers(repo, future.digest);
    expect(body.manifests).toEqual([{ mediaType: MT.ociManifest, digest: digestOf(bytes), size: bytes.length, artifactType: SIGNATURE }]);
  });

  it('a deleted referrer is no longer listed', async () => {
    const repo = repoName('deleted');
    const target = await oci.pushImage(repo, 'v1');
    const first = await oci.pushImage(repo, undefined, { subject: target.manifest, artifactType: SBOM });
    const second = await oci.pushImage(repo, undefined, { subject: target.manifest, artifactType: SIGNATURE });
    expect((await oci.fetch(`/v2/${repo}/manifests/${first.manifest.digest}`, { method: 'DELETE' })).status).toBe(202);
    const { body } = await referrers(repo, target.manifest.digest);
    expect(body.manifests).toEqual([second.manifest]);
  });

  it('an invalid digest is 400 DIGEST_INVALID', async () => {
    await expectOciError(await oci.fetch(`/v2/${name}/referrers/sha256:totallywrong`), 400, 'DIGEST_INVALID');
  });
});

/**
 * A port of the OCI distribution-spec conformance suite (opencontainers/distribution-spec,
 * `conformance/`, the v1.1.1 layout: 01_pull, 02_push, 03_discovery, 04_management and setup.go),
 * run against a real Berth over `fetch`. The four workflows run in the suite's order, against one
 * registry and one namespace, with the suite's fixtures and its defaults:
 * OCI_DELETE_MANIFEST_BEFORE_BLOBS=true, OCI_AUTOMATIC_CROSSMOUNT=0 (Berth never mounts without
 * `from`), setup always run (no OCI_TAG_NAME / OCI_TAG_LIST pre-seeding).
 *
 * Where the suite accepts several answers, so does this port; a comment names the one Berth gives.
 * The tag-listing checks also carry a later suite revision's stricter form (mixed-case tags, sorted
 * order, `last` excluded from the next page), which v1.1.1's checks are a subset of.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MT, OciClient, readOciError, type Bytes } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

// ---------------------------------------------------------------------------------------------
// Fixtures, built the way setup.go builds them (Go's json.MarshalIndent with a tab indent).
// ---------------------------------------------------------------------------------------------

/** The suite's workflow bit flags run 1, 2, 4, 8, so its `numWorkflows` is 16 configs/manifests. */
const NUM_FIXTURES = 16;

/** A gzipped tarball of one text file: the suite's layer (setup.go's layerBase64String). */
const LAYER_BASE64 =
  'H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0' +
  'WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD' +
  'jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA';

const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
const ARTIFACT_TYPE_A = 'application/vnd.nhl.peanut.butter.bagel';
const ARTIFACT_TYPE_B = 'application/vnd.nba.strawberry.jam.croissant';
const ARTIFACT_TYPE_INDEX = 'application/vnd.food.stand';
const TEST_TAG = 'tagtest0';
const EMPTY_LAYER_TAG = 'emptylayer';
const NONEXISTENT_MANIFEST = '.INVALID_MANIFEST_NAME';

/** The codes the suite accepts in an error body (setup.go's errorCodes). */
const ERROR_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'TAG_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED',
];

interface TestBlob {
  content: Bytes;
  digest: string;
}

function testBlob(content: Bytes): TestBlob {
  return { content, digest: digestOf(content) };
}

/** Go's MarshalIndent(v, "", "\t"); `[]byte` fields are base64 strings there, so they are here. */
function goJson(value: unknown): Bytes {
  return Buffer.from(JSON.stringify(value, null, '\t'));
}

const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');

/**
 * A descriptor in the suite's field order. Its `newUnspecifiedField` has no omitempty, so it is
 * `null` wherever the suite does not set it: registries must keep unknown fields as they are.
 */
function descriptor(
  mediaType: string,
  blob: TestBlob,
  extra: { annotations?: Record<string, string>; data?: string; newUnspecifiedField?: string } = {},
): Record<string, unknown> {
  return {
    mediaType,
    digest: blob.digest,
    size: blob.content.length,
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
    ...(extra.data !== undefined ? { data: extra.data } : {}),
    newUnspecifiedField: extra.newUnspecifiedField ?? null,
  };
}

/** Config blobs made unique by a random author, as the suite does on every run. */
const configs: TestBlob[] = Array.from({ length: NUM_FIXTURES }, () =>
  testBlob(
    goJson({
      author: randomBytes(12).toString('base64url').slice(0, 16),
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  ),
);

const layer = testBlob(Buffer.from(LAYER_BASE64, 'base64'));

/** A config descriptor carrying the config inline (`data`) and a field no spec defines. */
const configDescriptor = (config: TestBlob) =>
  descriptor(MT.ociConfig, config, { data: b64(config.content), newUnspecifiedField: b64('hello world') });

const manifests: TestBlob[] = configs.map((config) =>
  testBlob(
    goJson({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: configDescriptor(config),
      layers: [descriptor(MT.ociLayer, layer)],
    }),
  ),
);

/** No layers and no `mediaType` field: the Content-Type header alone says what it is. */
const emptyLayerManifest = testBlob(goJson({ schemaVersion: 2, config: configDescriptor(configs[1]!), layers: [] }));

const dummyDigest = digestOf('hello world');

/** 42 random bytes: the streamed/monolithic blob (testBlobA). */
const blobA = testBlob(Buffer.from(randomBytes(42)));

/** The chunked blob (testBlobB), split after size/2+1 bytes; rebuilt when the registry asks for bigger chunks. */
interface ChunkedBlob extends TestBlob {
  chunk1: Bytes;
  chunk2: Bytes;
  chunk1Range: string;
  chunk2Range: string;
}

function chunkedBlob(size: number): ChunkedBlob {
  const blob = testBlob(Buffer.from(randomBytes(size)));
  const split = Math.floor(size / 2) + 1;
  return {
    ...blob,
    chunk1: blob.content.subarray(0, split),
    chunk2: blob.content.subarray(split),
    chunk1Range: `0-${split - 1}`,
    chunk2Range: `${split}-${size - 1}`,
  };
}

// Referrers fixtures: artifacts whose subject is manifests[4], plus one whose subject (manifests[3])
// is never pushed while they are listed.
const emptyJson = testBlob(Buffer.from('{}'));
const emptyJsonDescriptor = descriptor(MT.ociEmpty, emptyJson);
const refBlobA = testBlob(Buffer.from('NHL Peanut Butter on my NHL bagel'));
const refBlobB = testBlob(Buffer.from('NBA Strawberry Jam on my NBA croissant'));
const subjectOf = (manifest: TestBlob) => descriptor(MT.ociManifest, manifest);
const annotationValues = new Map<string, string>();

function artifact(value: Record<string, unknown>, annotation?: string): TestBlob {
  const blob = testBlob(goJson(annotation === undefined ? value : { ...value, annotations: { [ANNOTATION_KEY]: annotation } }));
  if (annotation !== undefined) annotationValues.set(blob.digest, annotation);
  return blob;
}

/** artifactType carried by config.mediaType. */
const configArtifact = (type: string, blob: TestBlob, annotation: string) =>
  artifact(
    { schemaVersion: 2, mediaType: MT.ociManifest, config: descriptor(type, blob), layers: [emptyJsonDescriptor], subject: subjectOf(manifests[4]!) },
    annotation,
  );

/** artifactType set explicitly, with the empty JSON config. */
const layerArtifact = (type: string, blob: TestBlob, subject: TestBlob, annotation?: string) =>
  artifact(
    { schemaVersion: 2, mediaType: MT.ociManifest, artifactType: type, config: emptyJsonDescriptor, layers: [descriptor(type, blob)], subject: subjectOf(subject) },
    annotation,
  );

const refsManifestAConfig = configArtifact(ARTIFACT_TYPE_A, refBlobA, 'test config a');
const refsManifestBConfig = configArtifact(ARTIFACT_TYPE_B, refBlobB, 'test config b');
const refsManifestALayer = layerArtifact(ARTIFACT_TYPE_A, refBlobA, manifests[4]!, 'test layer a');
const refsManifestBLayer = layerArtifact(ARTIFACT_TYPE_B, refBlobB, manifests[4]!, 'test layer b');
const refsManifestCLayer = layerArtifact(ARTIFACT_TYPE_B, refBlobB, manifests[3]!);
const refsIndex = artifact(
  {
    schemaVersion: 2,
    mediaType: MT.ociIndex,
    artifactType: ARTIFACT_TYPE_INDEX,
    manifests: [descriptor(MT.ociManifest, refsManifestAConfig), descriptor(MT.ociManifest, refsManifestALayer)],
    subject: subjectOf(manifests[4]!),
  },
  'test index',
);

// ---------------------------------------------------------------------------------------------
// Assertions the suite repeats.
// ---------------------------------------------------------------------------------------------

function expect2xx(response: Response): void {
  expect(response.status).toBeGreaterThanOrEqual(200);
  expect(response.status).toBeLessThan(300);
}

function expectOneOf(response: Response, statuses: number[]): void {
  expect(statuses).toContain(response.status);
}

/** A 2xx, or one of `others` (the suite's "SatisfyAny(2xx, 404, 405)" forms). */
function expect2xxOr(response: Response, others: number[]): void {
  if (others.includes(response.status)) return;
  expect2xx(response);
}

/** The Location header as a path, as the suite's client resolves it (relative or absolute). */
function relativeLocation(response: Response): string {
  const location = response.headers.get('location');
  expect(location).toBeTruthy();
  const url = new URL(location!, 'http://registry.invalid');
  return `${url.pathname}${url.search}`;
}

async function tagsOf(response: Response): Promise<string[]> {
  try {
    const body = (await response.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  } catch {
    return [];
  }
}

/** A GET carrying a body, sent with node:http, answered as a fetch Response. */
function getWithBody(url: string, contentType: string, body: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [key, value] of Object.entries(res.headers)) {
          if (typeof value === 'string') headers.set(key, value);
        }
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface ReferrersIndex {
  manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
}

// ---------------------------------------------------------------------------------------------
// The suite.
// ---------------------------------------------------------------------------------------------

interface Registry {
  oci: OciClient;
  /** OCI_NAMESPACE */
  name: string;
}

/** POST a session, then PUT the blob monolithically to its Location (the suite's setup pushes). */
async function pushBlobInTwoSteps({ oci, name }: Registry, blob: TestBlob): Promise<Response> {
  const started = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
  const location = relativeLocation(started);
  const separator = location.includes('?') ? '&' : '?';
  return oci.fetch(`${location}${separator}digest=${blob.digest}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.content,
  });
}

function putManifest({ oci, name }: Registry, reference: string, manifest: TestBlob, mediaType: string = MT.ociManifest): Promise<Response> {
  return oci.putManifest(name, reference, manifest.content, mediaType);
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
}

/**
 * The "Blob Upload Chunked" checks of the Push workflow. They honour OCI-Chunk-Min-Length as the
 * suite does: when the POST answer asks for chunks bigger than the first one, the blob is rebuilt
 * at twice the minimum less two bytes.
 */
function blobUploadChunked(registry: () => Registry): void {
  let blob = chunkedBlob(42);
  let firstSession = '';
  let last: Response | undefined;

  it('Out-of-order blob upload should return 416', async () => {
    const { oci, name } = registry();
    const started = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
    const location = relativeLocation(started);
    const minLength = started.headers.get('oci-chunk-min-length');
    if (minLength !== null && minLength !== '') {
      const min = Number(minLength);
      expect(Number.isInteger(min)).toBe(true);
      if (min > blob.chunk1.length) blob = chunkedBlob(min * 2 - 2);
    }
    const response = await oci.fetch(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': blob.chunk2Range },
      body: blob.chunk2,
    });
    expect(response.status).toBe(416);
  });

  it('PATCH request with first chunk should return 202', async () => {
    const { oci, name } = registry();
    const started = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
    firstSession = relativeLocation(started);
    const response = await oci.fetch(firstSession, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': blob.chunk1Range },
      body: blob.chunk1,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('range')).toBe(blob.chunk1Range);
    last = response;
  });

  it('Retry previous blob chunk should return 416', async () => {
    const response = await registry().oci.fetch(firstSession, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': blob.chunk1Range },
      body: blob.chunk1,
    });
    expect(response.status).toBe(416);
  });

  it('Get on stale blob upload should return 204 with a range and location', async () => {
    const response = await registry().oci.fetch(firstSession);
    expect(response.status).toBe(204);
    expect(response.headers.get('location')).toBeTruthy();
    expect(response.headers.get('range')).toBe(blob.chunk1Range);
    last = response;
  });

  it('PATCH request with second chunk should return 202', async () => {
    const response = await registry().oci.fetch(relativeLocation(last!), {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': blob.chunk2Range },
      body: blob.chunk2,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBeTruthy();
    last = response;
  });

  it('PUT request with digest should return 201', async () => {
    const { oci, name } = registry();
    const response = await oci.fetch(withDigest(relativeLocation(last!), blob.digest), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBeTruthy();
    // Not in the suite: the two chunks really made up the blob.
    const get = await oci.fetch(`/v2/${name}/blobs/${blob.digest}`);
    // equals(), not toEqual(): a deep comparison of a 10 MiB blob (chunks at the minimum length) takes minutes.
    expect(Buffer.from(await get.arrayBuffer()).equals(blob.content)).toBe(true);
  });
}

describe('OCI Distribution Conformance Tests', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = `berth-conformance/${randomBytes(4).toString('hex')}`;
  /** OCI_CROSSMOUNT_NAMESPACE left unset: the suite then uses `conformance-<uuid>`. */
  const crossmountNamespace = `conformance-${randomUUID()}`;
  const registry = (): Registry => ({ oci, name });

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  describe('Pull', () => {
    const tag = TEST_TAG;

    describe('Setup', () => {
      it('Populate registry with test blob (config[0])', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), configs[0]!));
      });

      it('Populate registry with test blob (config[1])', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), configs[1]!));
      });

      it('Populate registry with test layer', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), layer));
      });

      it('Populate registry with test manifest (manifest[0] by tag)', async () => {
        expect2xx(await putManifest(registry(), tag, manifests[0]!));
      });

      it('Populate registry with test manifest (manifest[1] by digest)', async () => {
        expect2xx(await putManifest(registry(), manifests[1]!.digest, manifests[1]!));
      });
    });

    describe('Pull blobs', () => {
      it('HEAD request to nonexistent blob should result in 404 response', async () => {
        expect((await oci.fetch(`/v2/${name}/blobs/${dummyDigest}`, { method: 'HEAD' })).status).toBe(404);
      });

      it('HEAD request to existing blob should yield 200', async () => {
        const response = await oci.fetch(`/v2/${name}/blobs/${configs[0]!.digest}`, { method: 'HEAD' });
        expect(response.status).toBe(200);
        const digest = response.headers.get('docker-content-digest');
        if (digest) expect(digest).toBe(configs[0]!.digest);
      });

      it('GET nonexistent blob should result in 404 response', async () => {
        expect((await oci.fetch(`/v2/${name}/blobs/${dummyDigest}`)).status).toBe(404);
      });

      it('GET request to existing blob URL should yield 200', async () => {
        const response = await oci.fetch(`/v2/${name}/blobs/${configs[0]!.digest}`);
        expect(response.status).toBe(200);
        // Not asserted by the suite: the bytes are the ones pushed.
        expect(Buffer.from(await response.arrayBuffer())).toEqual(configs[0]!.content);
      });
    });

    describe('Pull manifests', () => {
      const accept = { accept: MT.ociManifest };

      it('HEAD request to nonexistent manifest should return 404', async () => {
        expect((await oci.fetch(`/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`, { method: 'HEAD' })).status).toBe(404);
      });

      for (const i of [0, 1]) {
        it(`HEAD request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const response = await oci.fetch(`/v2/${name}/manifests/${manifests[i]!.digest}`, { method: 'HEAD', headers: accept });
          expect(response.status).toBe(200);
          const digest = response.headers.get('docker-content-digest');
          if (digest) expect(digest).toBe(manifests[i]!.digest);
        });
      }

      it('HEAD request to manifest path (tag) should yield 200 response', async () => {
        expect(tag).not.toBe('');
        const response = await oci.fetch(`/v2/${name}/manifests/${tag}`, { method: 'HEAD', headers: accept });
        expect(response.status).toBe(200);
        const digest = response.headers.get('docker-content-digest');
        if (digest) expect(digest).toBe(manifests[0]!.digest);
      });

      it('GET nonexistent manifest should return 404', async () => {
        expect((await oci.fetch(`/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`)).status).toBe(404);
      });

      for (const i of [0, 1]) {
        it(`GET request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const response = await oci.fetch(`/v2/${name}/manifests/${manifests[i]!.digest}`, { headers: accept });
          expect(response.status).toBe(200);
          // Not asserted by the suite, but what makes a digest pull work: the exact bytes pushed.
          expect(Buffer.from(await response.arrayBuffer())).toEqual(manifests[i]!.content);
        });
      }

      it('GET request to manifest path (tag) should yield 200 response', async () => {
        expect(tag).not.toBe('');
        const response = await oci.fetch(`/v2/${name}/manifests/${tag}`, { headers: accept });
        expect(response.status).toBe(200);
      });
    });

    describe('Error codes', () => {
      it('400 response body should contain OCI-conforming JSON message', async () => {
        // A GET with a manifest body, as the suite sends it (fetch refuses GET bodies, node:http does not).
        const response = await getWithBody(`${server.url}/v2/${name}/manifests/sha256:totallywrong`, MT.ociManifest, Buffer.from('blablabla'));
        expectOneOf(response, [400, 404]); // Berth: 400 DIGEST_INVALID
        if (response.status === 400) {
          const error = await readOciError(response);
          expect(ERROR_CODES).toContain(error.code);
        }
      });
    });

    describe('Teardown', () => {
      // OCI_DELETE_MANIFEST_BEFORE_BLOBS defaults to true: manifests go first.
      for (const i of [0, 1]) {
        it(`Delete manifest[${i}] created in setup`, async () => {
          const response = await oci.fetch(`/v2/${name}/manifests/${manifests[i]!.digest}`, { method: 'DELETE' });
          expect2xxOr(response, [405]); // Berth: 202
        });
      }

      for (const [label, blob] of [['config[0] blob', configs[0]!], ['config[1] blob', configs[1]!], ['layer blob', layer]] as const) {
        it(`Delete ${label} created in setup`, async () => {
          const response = await oci.fetch(`/v2/${name}/blobs/${blob.digest}`, { method: 'DELETE' });
          expect2xxOr(response, [404, 405]); // Berth: 202
        });
      }
    });
  });

  describe('Push', () => {
    let last: Response | undefined;
    let emptyLayerManifestRef = '';

    describe('Blob Upload Streamed', () => {
      it('PATCH request with blob in body should yield 202 response', async () => {
        const started = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
        expect(started.headers.get('location')).toBeTruthy();
        const response = await oci.fetch(relativeLocation(started), {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream' },
          body: blobA.content,
        });
        expect(response.status).toBe(202);
        last = response;
      });

      it('PUT request to session URL with digest should yield 201 response', async () => {
        expect(last).toBeDefined();
        const response = await oci.fetch(withDigest(relativeLocation(last!), blobA.digest), {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
        });
        expect(response.status).toBe(201);
        expect(response.headers.get('location')).toBeTruthy();
      });
    });

    describe('Blob Upload Monolithic', () => {
      it('GET nonexistent blob should result in 404 response', async () => {
        expect((await oci.fetch(`/v2/${name}/blobs/${dummyDigest}`)).status).toBe(404);
      });

      it('POST request with digest and blob should yield a 201 or 202', async () => {
        const response = await oci.fetch(`/v2/${name}/blobs/uploads/?digest=${configs[1]!.digest}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: configs[1]!.content,
        });
        expect(response.headers.get('location')).toBeTruthy();
        expectOneOf(response, [201, 202]); // Berth: 201
        last = response;
      });

      it('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
        expect(last).toBeDefined();
        const response = await oci.fetch(`/v2/${name}/blobs/${configs[1]!.digest}`);
        expect(response.status).toBe(last!.status === 202 ? 404 : 200);
      });

      it('POST request should yield a session ID', async () => {
        const response = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
        expect(response.status).toBe(202);
        last = response;
      });

      it('PUT upload of a blob should yield a 201 Response', async () => {
        const response = await oci.fetch(withDigest(relativeLocation(last!), configs[1]!.digest), {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: configs[1]!.content,
        });
        expect(response.headers.get('location')).toBeTruthy();
        expect(response.status).toBe(201);
      });

      it('GET request to existing blob should yield 200 response', async () => {
        expect((await oci.fetch(`/v2/${name}/blobs/${configs[1]!.digest}`)).status).toBe(200);
      });

      it('PUT upload of a layer blob should yield a 201 Response', async () => {
        const response = await pushBlobInTwoSteps(registry(), layer);
        expect(response.headers.get('location')).toBeTruthy();
        expect(response.status).toBe(201);
      });

      it('GET request to existing layer should yield 200 response', async () => {
        expect((await oci.fetch(`/v2/${name}/blobs/${layer.digest}`)).status).toBe(200);
      });
    });

    describe('Blob Upload Chunked', () => {
      blobUploadChunked(registry);
    });

    describe('Cross-Repository Blob Mount', () => {
      let mount: Response | undefined;

      it('Cross-mounting of a blob without the from argument should yield session id', async () => {
        const response = await oci.fetch(`/v2/${crossmountNamespace}/blobs/uploads/?mount=${dummyDigest}`, { method: 'POST' });
        expect(response.status).toBe(202);
        expect(response.headers.get('location')).toBeTruthy();
      });

      it("POST request to mount another repository's blob should return 201 or 202", async () => {
        const response = await oci.fetch(`/v2/${crossmountNamespace}/blobs/uploads/?mount=${blobA.digest}&from=${name}`, {
          method: 'POST',
        });
        expectOneOf(response, [201, 202]); // Berth: 201
        mount = response;
      });

      it('GET request to test digest within cross-mount namespace should return 200', async () => {
        // The suite checks this only after a 201, which is what Berth gives.
        if (mount!.status !== 201) return;
        const location = relativeLocation(mount!);
        expect(location).toBe(`/v2/${crossmountNamespace}/blobs/${blobA.digest}`);
        expect((await oci.fetch(location)).status).toBe(200);
      });

      it('Cross-mounting of nonexistent blob should yield session id', async () => {
        // The suite checks this only when the mount above answered 202. Berth answered 201 there,
        // so the same check is made on a mount of a blob the source repository does not hold.
        const response =
          mount!.status === 202
            ? mount!
            : await oci.fetch(`/v2/${crossmountNamespace}/blobs/uploads/?mount=${dummyDigest}&from=${name}`, { method: 'POST' });
        expect(response.status).toBe(202);
        expect(relativeLocation(response).startsWith(`/v2/${crossmountNamespace}/blobs/uploads/`)).toBe(true);
      });

      it('Cross-mounting without from, and automatic content discovery disabled should return a 202', async () => {
        // OCI_AUTOMATIC_CROSSMOUNT=0: Berth never guesses a source, so only this variant applies.
        // The suite checks it only after the mount above answered 201 (Berth's answer).
        if (mount!.status !== 201) return;
        const response = await oci.fetch(`/v2/${crossmountNamespace}/blobs/uploads/?mount=${blobA.digest}`, { method: 'POST' });
        expect(response.status).toBe(202);
      });
    });

    describe('Manifest Upload', () => {
      it('GET nonexistent manifest should return 404', async () => {
        expect((await oci.fetch(`/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`)).status).toBe(404);
      });

      it('PUT should accept a manifest upload', async () => {
        for (let i = 0; i < 4; i++) {
          const response = await putManifest(registry(), `test${i}`, manifests[1]!);
          expect(response.headers.get('location')).toBeTruthy();
          expect(response.status).toBe(201);
        }
      });

      it('Registry should accept a manifest upload with no layers', async () => {
        const response = await putManifest(registry(), EMPTY_LAYER_TAG, emptyLayerManifest);
        // The suite only warns on a refusal. Berth accepts it: 201.
        if (response.status === 201) {
          emptyLayerManifestRef = response.headers.get('location') ?? '';
          expect(emptyLayerManifestRef).not.toBe('');
        }
      });

      it('GET request to manifest URL (digest) should yield 200 response', async () => {
        const response = await oci.fetch(`/v2/${name}/manifests/${manifests[1]!.digest}`, { headers: { accept: MT.ociManifest } });
        expect(response.status).toBe(200);
      });
    });

    describe('Teardown', () => {
      it('Delete manifest created in tests', async () => {
        const response = await oci.fetch(`/v2/${name}/manifests/${manifests[1]!.digest}`, { method: 'DELETE' });
        expect2xxOr(response, [405]); // Berth: 202
        if (emptyLayerManifestRef !== '') {
          const empty = await oci.fetch(`/v2/${name}/manifests/${emptyLayerManifest.digest}`, { method: 'DELETE' });
          expect2xxOr(empty, [405]); // Berth: 202
        }
      });

      it('Delete config blob created in tests', async () => {
        expect2xxOr(await oci.fetch(`/v2/${name}/blobs/${configs[1]!.digest}`, { method: 'DELETE' }), [404, 405]);
      });

      it('Delete layer blob created in setup', async () => {
        expect2xxOr(await oci.fetch(`/v2/${name}/blobs/${layer.digest}`, { method: 'DELETE' }), [404, 405]);
      });
    });
  });

  describe('Content Discovery', () => {
    let numTags = 4;
    let tagList: string[] = [];

    async function pushSubjectArtifact(manifest: TestBlob, subject: TestBlob, mediaType: string = MT.ociManifest): Promise<void> {
      const response = await putManifest(registry(), manifest.digest, manifest, mediaType);
      expect2xx(response);
      expect(response.headers.get('oci-subject')).toBe(subject.digest);
    }

    describe('Setup', () => {
      it('Populate registry with test blob', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), configs[2]!));
      });

      it('Populate registry with test layer', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), layer));
      });

      it('Populate registry with test tags', async () => {
        for (let i = 0; i < numTags; i++) {
          // `TEST<i>` as well as `test<i>`: the later suite revision's mixed-case tags.
          for (const tag of [`test${i}`, `TEST${i}`]) expect2xx(await putManifest(registry(), tag, manifests[2]!));
        }
        tagList = await tagsOf(await oci.fetch(`/v2/${name}/tags/list`));
      });

      it('References setup', async () => {
        expect(emptyJson.digest).toBe(EMPTY_JSON_DIGEST);
        expect2xx(await pushBlobInTwoSteps(registry(), emptyJson));
        // A referenced blob pushed before the subject manifest exists.
        expect2xx(await pushBlobInTwoSteps(registry(), refBlobA));
        await pushSubjectArtifact(refsManifestAConfig, manifests[4]!);
        await pushSubjectArtifact(refsManifestALayer, manifests[4]!);
        await pushSubjectArtifact(refsIndex, manifests[4]!, MT.ociIndex);
        // Now the subject itself.
        expect2xx(await pushBlobInTwoSteps(registry(), configs[4]!));
        expect2xx(await pushBlobInTwoSteps(registry(), layer));
        expect2xx(await putManifest(registry(), TEST_TAG, manifests[4]!));
        // Artifacts pushed after their subject.
        expect2xx(await pushBlobInTwoSteps(registry(), refBlobB));
        await pushSubjectArtifact(refsManifestBConfig, manifests[4]!);
        await pushSubjectArtifact(refsManifestBLayer, manifests[4]!);
        // An artifact whose subject does not exist.
        await pushSubjectArtifact(refsManifestCLayer, manifests[3]!);
      });
    });

    describe('Test content discovery endpoints (listing tags)', () => {
      it('GET request to list tags should yield 200 response and be in sorted order', async () => {
        const response = await oci.fetch(`/v2/${name}/tags/list`);
        expect(response.status).toBe(200);
        tagList = await tagsOf(response);
        numTags = tagList.length;
        expect(numTags).toBeGreaterThan(1);
        // Lexical (case-insensitive) or plain byte order; Berth sorts bytewise.
        const lexical = [...tagList].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
        const bytewise = [...tagList].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect([lexical, bytewise]).toContainEqual(tagList);
      });

      it('GET number of tags should be limitable by `n` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const response = await oci.fetch(`/v2/${name}/tags/list?n=${numResults}`);
        expect(response.status).toBe(200);
        tagList = await tagsOf(response);
        expect(tagList.length).toBe(numResults);
      });

      it('GET start of tag is set by `last` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const first = await oci.fetch(`/v2/${name}/tags/list?n=${numResults}`);
        expect(first.status).toBe(200);
        tagList = await tagsOf(first);
        const last = tagList[numResults - 1]!;
        const response = await oci.fetch(`/v2/${name}/tags/list?n=${numResults}&last=${encodeURIComponent(last)}`);
        expect(response.status).toBe(200);
        tagList = await tagsOf(response);
        expect(tagList.length).toBeLessThanOrEqual(numResults);
        expect(tagList).not.toContain(last);
      });
    });

    describe('Test content discovery endpoints (listing references)', () => {
      async function readIndex(response: Response): Promise<ReferrersIndex> {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(MT.ociIndex);
        return (await response.json()) as ReferrersIndex;
      }

      function expectSuiteAnnotations(index: ReferrersIndex): void {
        for (const entry of index.manifests) {
          expect(Object.keys(entry.annotations ?? {})).toHaveLength(1);
          expect(entry.annotations?.[ANNOTATION_KEY]).toBe(annotationValues.get(entry.digest));
        }
      }

      it('GET request to nonexistent blob should result in empty 200 response', async () => {
        const index = await readIndex(await oci.fetch(`/v2/${name}/referrers/${dummyDigest}`));
        expect(index.manifests).toHaveLength(0);
      });

      it('GET request to existing blob should yield 200', async () => {
        const index = await readIndex(await oci.fetch(`/v2/${name}/referrers/${manifests[4]!.digest}`));
        expect(index.manifests).toHaveLength(5);
        expect(index.manifests[0]!.digest).not.toBe(index.manifests[1]!.digest);
        expectSuiteAnnotations(index);
      });

      it('GET request to existing blob with filter should yield 200', async () => {
        const response = await oci.fetch(`/v2/${name}/referrers/${manifests[4]!.digest}?artifactType=${encodeURIComponent(ARTIFACT_TYPE_A)}`);
        const applied = response.headers.get('oci-filters-applied');
        const index = await readIndex(response);
        if (applied) {
          // Berth filters (the suite only warns when a registry does not).
          expect(index.manifests).toHaveLength(2);
          expect(applied).toBe('artifactType');
        } else {
          expect(index.manifests).toHaveLength(5);
        }
        expectSuiteAnnotations(index);
      });

      it('GET request to missing manifest should yield 200', async () => {
        const index = await readIndex(await oci.fetch(`/v2/${name}/referrers/${manifests[3]!.digest}`));
        expect(index.manifests).toHaveLength(1);
        expect(index.manifests[0]!.digest).toBe(refsManifestCLayer.digest);
      });
    });

    describe('Teardown', () => {
      async function expectDeleted(path: string): Promise<void> {
        expect2xxOr(await oci.fetch(path, { method: 'DELETE' }), [404, 405]);
      }

      it('Delete created manifest & associated tags', async () => {
        const references = [
          refsIndex.digest,
          manifests[2]!.digest,
          manifests[4]!.digest,
          refsManifestAConfig.digest,
          refsManifestALayer.digest,
          TEST_TAG,
          refsManifestBConfig.digest,
          refsManifestBLayer.digest,
          refsManifestCLayer.digest,
        ];
        for (const reference of references) await expectDeleted(`/v2/${name}/manifests/${reference}`);
      });

      it('Delete config blob created in tests', async () => {
        expect2xxOr(await oci.fetch(`/v2/${name}/blobs/${configs[2]!.digest}`, { method: 'DELETE' }), [405]); // Berth: 202
      });

      it('Delete layer blob created in setup', async () => {
        expect2xxOr(await oci.fetch(`/v2/${name}/blobs/${layer.digest}`, { method: 'DELETE' }), [405]); // Berth: 202
      });

      it('References teardown', async () => {
        // Manifests first (already gone, so 404 is fine), then the blobs.
        for (const digest of [refsIndex, refsManifestAConfig, refsManifestALayer, manifests[4]!, refsManifestBConfig, refsManifestBLayer]) {
          await expectDeleted(`/v2/${name}/manifests/${digest.digest}`);
        }
        for (const blob of [configs[4]!, refBlobA, refBlobB, emptyJson]) await expectDeleted(`/v2/${name}/blobs/${blob.digest}`);
      });
    });
  });

  describe('Content Management', () => {
    const tagToDelete = TEST_TAG;
    let numTags = 0;
    let blobDeleteAllowed = true;

    describe('Setup', () => {
      it('Populate registry with test config blob', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), configs[3]!));
      });

      it('Populate registry with test layer', async () => {
        expect2xx(await pushBlobInTwoSteps(registry(), layer));
      });

      it('Populate registry with test tag', async () => {
        expect2xx(await putManifest(registry(), tagToDelete, manifests[3]!));
      });

      it('Check how many tags there are before anything gets deleted', async () => {
        const response = await oci.fetch(`/v2/${name}/tags/list`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { tags: string[] | null };
        numTags = (body.tags ?? []).length;
      });
    });

    describe('Manifest delete', () => {
      it('DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)', async () => {
        const response = await oci.fetch(`/v2/${name}/manifests/${tagToDelete}`, { method: 'DELETE' });
        expectOneOf(response, [202, 400, 405]); // Berth: 202, the tag alone goes
        if (response.status === 400) expect((await readOciError(response)).code).toBe('UNSUPPORTED');
      });

      it('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
        const response = await oci.fetch(`/v2/${name}/manifests/${manifests[3]!.digest}`, { method: 'DELETE' });
        expectOneOf(response, [202, 404]); // Berth: 202 (deleting the tag left the manifest)
      });

      it('GET request to deleted manifest URL should yield 404 response, unless delete is disallowed', async () => {
        const response = await oci.fetch(`/v2/${name}/manifests/${manifests[3]!.digest}`);
        expectOneOf(response, [404, 200]); // Berth: 404
      });

      it('GET request to tags list should reflect manifest deletion', async () => {
        const response = await oci.fetch(`/v2/${name}/tags/list`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { tags: string[] | null };
        expect((body.tags ?? []).length).toBeLessThan(numTags);
      });
    });

    describe('Blob delete', () => {
      it('DELETE request to blob URL should yield 202 response', async () => {
        const config = await oci.fetch(`/v2/${name}/blobs/${configs[3]!.digest}`, { method: 'DELETE' });
        expectOneOf(config, [202, 404, 405]); // Berth: 202
        const layerResponse = await oci.fetch(`/v2/${name}/blobs/${layer.digest}`, { method: 'DELETE' });
        expectOneOf(layerResponse, [202, 404, 405]); // Berth: 202
        if (layerResponse.status === 405) blobDeleteAllowed = false;
      });

      it('GET request to deleted blob URL should yield 404 response', async () => {
        // The suite runs this only when blob deletion is allowed, which it is on Berth.
        expect(blobDeleteAllowed).toBe(true);
        expect((await oci.fetch(`/v2/${name}/blobs/${configs[3]!.digest}`)).status).toBe(404);
      });
    });
  });

  // Not a check of the suite: no request of the run above may have been a server error.
  it('answered no request with a 5xx', async () => {
    expect(await server.serverErrors()).toEqual([]);
  });
});

describe('OCI Distribution Conformance Tests: Push, Blob Upload Chunked, with OCI-Chunk-Min-Length', () => {
  // The suite re-sizes its chunked blob when the registry advertises a minimum chunk length; this
  // runs that path against a Berth configured with one (the default advertises none).
  let server: TestServer;
  let oci: OciClient;
  const name = `berth-conformance/${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    server = await startTestServer({ configure: (config) => (config.registry.chunkMinLength = 64) });
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  it('advertises OCI-Chunk-Min-Length on POST', async () => {
    const response = await oci.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(response.headers.get('oci-chunk-min-length')).toBe('64');
  });

  blobUploadChunked(() => ({ oci, name }));
});

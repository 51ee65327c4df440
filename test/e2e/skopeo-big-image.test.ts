import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import {
  OciLayoutWriter,
  OciMediaType,
  blobPath,
  fileDigest,
  listBlobs,
  refDescriptor,
  type WrittenImage,
} from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function gunzippedDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path).pipe(createGunzip())) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

describe('skopeo: an image with a 64 MiB layer round-trips byte for byte', () => {
  let server: TestServer;
  let recorder: RequestRecorder;
  let sandbox: ClientSandbox;
  let src: string;
  let image: WrittenImage;

  beforeAll(async () => {
    requireTool('skopeo');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    image = await layout.writeImage({
      layers: [
        { entries: [{ path: 'hello.txt', content: `hello from berth e2e ${Date.now()}\n` }] },
        { entries: [{ path: 'big.bin', randomBytes: 64 * MiB + 4321 }, { path: 'after-big.txt', content: 'tail\n' }] },
        { entries: [{ path: 'small.bin', randomBytes: 300 * 1024 }] },
      ],
      cmd: ['/hello.txt'],
    });
    await layout.tag(image.manifest, 'v1');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('generated a layout whose big layer really is at least 64 MiB', () => {
    expect(image.layers).toHaveLength(3);
    expect(image.layers[1]!.size).toBeGreaterThanOrEqual(64 * MiB);
  });

  it('pushes oci: → docker:// and pulls back the same manifest and blobs', async () => {
    const digestFile = join(sandbox.dir, 'push-oci.digest');
    await sandbox.skopeoOk(
      ['copy', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${src}:v1`, `docker://${server.host}/e2e-lab/big:v1`],
      { timeoutMs: 90_000 },
    );
    // gzip layers are pushed as they are, so the manifest is ours, unchanged.
    expect(await readFile(digestFile, 'utf8')).toBe(image.manifest.digest);

    const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/big/manifests/v1`, { headers: { accept: OciMediaType.manifest } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(OciMediaType.manifest);
    expect(response.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    expect(Buffer.from(await response.arrayBuffer()).equals(image.manifestBytes)).toBe(true);

    const back = join(sandbox.dir, 'back');
    await sandbox.skopeoOk(['copy', '--src-tls-verify=false', `docker://${server.host}/e2e-lab/big:v1`, `oci:${back}:v1`], {
      timeoutMs: 90_000,
    });
    const pulled = await refDescriptor(back, 'v1');
    expect(pulled.digest).toBe(image.manifest.digest);
    expect(pulled.mediaType).toBe(OciMediaType.manifest);
    expect((await readFile(blobPath(back, pulled.digest))).equals(image.manifestBytes)).toBe(true);

    const expected = [image.manifest, image.config, ...image.layers].map((d) => d.digest).sort();
    expect(await listBlobs(back)).toEqual(expected);
    for (const descriptor of [image.config, ...image.layers]) {
      // Same digest as the name and the source file: the same bytes came back.
      expect(await fileDigest(blobPath(back, descriptor.digest))).toEqual({ digest: descriptor.digest, size: descriptor.size });
    }
  }, 120_000);

  it('pushes with --format v2s2 and the Docker schema 2 manifest round-trips', async () => {
    const digestFile = join(sandbox.dir, 'push-v2s2.digest');
    await sandbox.skopeoOk(
      [
        'copy', '--dest-tls-verify=false', '--format', 'v2s2', '--digestfile', digestFile,
        `oci:${src}:v1`, `docker://${server.host}/e2e-lab/big-docker:v1`,
      ],
      { timeoutMs: 90_000 },
    );
    const pushedDigest = await readFile(digestFile, 'utf8');

    const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/big-docker/manifests/v1`, { headers: { accept: DOCKER_MANIFEST } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(DOCKER_MANIFEST);
    expect(response.headers.get('docker-content-digest')).toBe(pushedDigest);
    const served = Buffer.from(await response.arrayBuffer());
    expect(sha256(served)).toBe(pushedDigest);
    const manifest = JSON.parse(served.toString('utf8')) as {
      mediaType: string;
      config: { mediaType: string; digest: string };
      layers: Array<{ mediaType: string; digest: string; size: number }>;
    };
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(manifest.config).toMatchObject({ mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config.digest });
    // Conversion changes the media types only: the gzip layers are the very same blobs.
    expect(manifest.layers.map((l) => [l.mediaType, l.digest, l.size])).toEqual(
      image.layers.map((l) => ['application/vnd.docker.image.rootfs.diff.tar.gzip', l.digest, l.size]),
    );

    // dir: keeps whatever manifest it is given, so this is what the registry served, byte for byte.
    const back = join(sandbox.dir, 'back-v2s2');
    await sandbox.skopeoOk(['copy', '--src-tls-verify=false', `docker://${server.host}/e2e-lab/big-docker:v1`, `dir:${back}`], {
      timeoutMs: 90_000,
    });
    expect((await readFile(join(back, 'manifest.json'))).equals(served)).toBe(true);
    const files = (await readdir(back)).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
    expect(files).toEqual([image.config, ...image.layers].map((d) => d.digest.slice('sha256:'.length)).sort());
    for (const descriptor of [image.config, ...image.layers]) {
      expect(await fileDigest(join(back, descriptor.digest.slice('sha256:'.length)))).toEqual({
        digest: descriptor.digest,
        size: descriptor.size,
      });
    }
  }, 120_000);

  it('gzips an uncompressed layer on push, streamed with no length, and it arrives intact', async () => {
    const rawDir = join(sandbox.dir, 'raw');
    const layout = await OciLayoutWriter.create(rawDir);
    const raw = await layout.writeImage({
      layers: [{ entries: [{ path: 'raw.bin', randomBytes: 8 * MiB }], compression: 'none' }],
    });
    await layout.tag(raw.manifest, 'v1');
    const diffId = raw.layers[0]!.digest;

    recorder.clear();
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${rawDir}:v1`, `docker://${server.host}/e2e-lab/raw:v1`], {
      timeoutMs: 60_000,
    });
    // skopeo compresses while it uploads, so it cannot know the length: a chunked PATCH.
    const streamed = recorder.requests.filter(
      (r) => r.method === 'PATCH' && r.url.startsWith('/v2/e2e-lab/raw/blobs/uploads/') && r.contentLength === undefined,
    );
    expect(streamed.map((r) => r.status)).toEqual([202]);

    const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/raw/manifests/v1`, { headers: { accept: OciMediaType.manifest } });
    expect(response.status).toBe(200);
    const manifest = JSON.parse(await response.text()) as { layers: Array<{ mediaType: string; digest: string }> };
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]!.mediaType).toBe(OciMediaType.layerGzip);
    expect(manifest.layers[0]!.digest).not.toBe(diffId);

    const back = join(sandbox.dir, 'raw-back');
    await sandbox.skopeoOk(['copy', '--src-tls-verify=false', `docker://${server.host}/e2e-lab/raw:v1`, `oci:${back}:v1`], {
      timeoutMs: 60_000,
    });
    const gz = blobPath(back, manifest.layers[0]!.digest);
    expect((await fileDigest(gz)).digest).toBe(manifest.layers[0]!.digest);
    // Unpacked, it is our tar again, byte for byte.
    expect(await gunzippedDigest(gz)).toBe(diffId);
  }, 60_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

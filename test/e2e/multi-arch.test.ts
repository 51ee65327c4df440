import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import {
  OciLayoutWriter,
  OciMediaType,
  blobPath,
  fileDigest,
  listBlobs,
  refDescriptor,
  type Descriptor,
  type Platform,
  type WrittenImage,
} from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PLATFORMS: Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux' },
];

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

function digestsOf(image: WrittenImage): string[] {
  return [image.manifest, image.config, ...image.layers].map((d) => d.digest);
}

describe('skopeo: a multi-arch image index (linux/amd64 + linux/arm64)', () => {
  let server: TestServer;
  let recorder: RequestRecorder;
  let sandbox: ClientSandbox;
  let src: string;
  let images: Map<string, WrittenImage>;
  let index: { descriptor: Descriptor; bytes: Buffer };
  let ref: string;

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
    const stamp = `${Date.now()}-${Math.random()}`;
    images = new Map();
    for (const platform of PLATFORMS) {
      images.set(
        platform.architecture,
        await layout.writeImage({
          platform,
          layers: [
            { entries: [{ path: 'arch.txt', content: `${platform.os}/${platform.architecture} ${stamp}\n` }] },
            { entries: [{ path: `${platform.architecture}.bin`, randomBytes: 512 * 1024 }] },
          ],
        }),
      );
    }
    index = await layout.writeImageIndex(PLATFORMS.map((platform) => ({ manifest: images.get(platform.architecture)!.manifest, platform })));
    await layout.tag(index.descriptor, 'v1');
    ref = `docker://${server.host}/e2e-lab/multi:v1`;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('pushes every platform with copy --all, and the registry serves the index as pushed', async () => {
    const digestFile = join(sandbox.dir, 'push.digest');
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${src}:v1`, ref], {
      timeoutMs: 60_000,
    });
    expect(await readFile(digestFile, 'utf8')).toBe(index.descriptor.digest);

    const raw = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', ref]);
    expect(raw.stdout).toBe(index.bytes.toString('utf8'));

    const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/multi/manifests/v1`, { headers: { accept: OciMediaType.index } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(OciMediaType.index);
    expect(response.headers.get('docker-content-digest')).toBe(index.descriptor.digest);
    for (const image of images.values()) {
      const child = await ownerFetch(server, `${server.url}/v2/e2e-lab/multi/manifests/${image.manifest.digest}`, {
        headers: { accept: OciMediaType.manifest },
      });
      expect(child.status).toBe(200);
      expect(Buffer.from(await child.arrayBuffer()).equals(image.manifestBytes)).toBe(true);
    }
  }, 60_000);

  it('pulls every platform back with copy --all, byte for byte', async () => {
    const back = join(sandbox.dir, 'back-all');
    await sandbox.skopeoOk(['copy', '--all', '--src-tls-verify=false', ref, `oci:${back}:v1`], { timeoutMs: 60_000 });
    const pulled = await refDescriptor(back, 'v1');
    expect(pulled).toMatchObject({ mediaType: OciMediaType.index, digest: index.descriptor.digest });
    expect((await readFile(blobPath(back, pulled.digest))).equals(index.bytes)).toBe(true);

    const expected = [index.descriptor.digest, ...[...images.values()].flatMap(digestsOf)].sort();
    expect(await listBlobs(back)).toEqual(expected);
    expect(await listBlobs(src)).toEqual(expected);
    for (const digest of expected) {
      expect(await fileDigest(blobPath(back, digest))).toEqual(await fileDigest(blobPath(src, digest)));
      expect((await fileDigest(blobPath(back, digest))).digest).toBe(digest);
    }
  }, 60_000);

  it('pulls only linux/arm64 with --override-arch arm64', async () => {
    const arm64 = images.get('arm64')!;
    const inspected = await sandbox.skopeoOk(['--override-arch', 'arm64', 'inspect', '--tls-verify=false', ref]);
    // skopeo reports the digest of what the tag names (the index), and the platform image's details.
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      Digest: index.descriptor.digest,
      Architecture: 'arm64',
      Os: 'linux',
      Layers: arm64.layers.map((l) => l.digest),
    });

    const back = join(sandbox.dir, 'back-arm64');
    await sandbox.skopeoOk(['--override-arch', 'arm64', 'copy', '--src-tls-verify=false', ref, `oci:${back}:v1`], {
      timeoutMs: 60_000,
    });
    const pulled = await refDescriptor(back, 'v1');
    expect(pulled).toMatchObject({ mediaType: OciMediaType.manifest, digest: arm64.manifest.digest });
    expect((await readFile(blobPath(back, pulled.digest))).equals(arm64.manifestBytes)).toBe(true);
    expect(await listBlobs(back)).toEqual(digestsOf(arm64).sort());
    for (const digest of digestsOf(arm64)) expect((await fileDigest(blobPath(back, digest))).digest).toBe(digest);
  }, 60_000);

  it('converts the index to a Docker manifest list with --all --format v2s2', async () => {
    const digestFile = join(sandbox.dir, 'push-v2s2.digest');
    const dockerRef = `docker://${server.host}/e2e-lab/multi-docker:v1`;
    await sandbox.skopeoOk(
      ['copy', '--all', '--format', 'v2s2', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${src}:v1`, dockerRef],
      { timeoutMs: 60_000 },
    );
    const pushed = await readFile(digestFile, 'utf8');

    const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/multi-docker/manifests/v1`, { headers: { accept: DOCKER_LIST } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(DOCKER_LIST);
    expect(response.headers.get('docker-content-digest')).toBe(pushed);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(pushed);
    const list = JSON.parse(bytes.toString('utf8')) as {
      mediaType: string;
      manifests: Array<{ mediaType: string; digest: string; platform: Platform }>;
    };
    expect(list.mediaType).toBe(DOCKER_LIST);
    expect(list.manifests.map((m) => [m.mediaType, m.platform.architecture])).toEqual(
      PLATFORMS.map((p) => [DOCKER_MANIFEST, p.architecture]),
    );
    for (const entry of list.manifests) {
      const child = await ownerFetch(server, `${server.url}/v2/e2e-lab/multi-docker/manifests/${entry.digest}`, { headers: { accept: DOCKER_MANIFEST } });
      expect(child.status).toBe(200);
      expect(child.headers.get('content-type')).toBe(DOCKER_MANIFEST);
      const manifest = JSON.parse(await child.text()) as { layers: Array<{ digest: string }> };
      expect(manifest.layers.map((l) => l.digest)).toEqual(images.get(entry.platform.architecture)!.layers.map((l) => l.digest));
    }

    const raw = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', dockerRef]);
    expect(raw.stdout).toBe(bytes.toString('utf8'));
    const arm64 = await sandbox.skopeoOk(['--override-arch', 'arm64', 'inspect', '--tls-verify=false', dockerRef]);
    expect(JSON.parse(arm64.stdout)).toMatchObject({ Architecture: 'arm64', Layers: images.get('arm64')!.layers.map((l) => l.digest) });
  }, 60_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

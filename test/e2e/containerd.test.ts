import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { OciLayoutWriter, OciMediaType, blobPath, fileDigest, type WrittenImage } from '../support/oci-layout.js';
import { mountsOf, recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('containerd (ctr): pull an image pushed by skopeo, push it under a new name', () => {
  let server: TestServer;
  let recorder: RequestRecorder;
  let sandbox: ClientSandbox;
  let containerd: Containerd | undefined;
  let src: string;
  let image: WrittenImage;
  let helloText: string;
  let srcRef: string;
  let dstRef: string;

  /** `ctr images ls` as ref → [media type, digest] (the size column holds a space, so only the first three). */
  async function localImages(): Promise<Map<string, [string, string]>> {
    const listed = await containerd!.ctrOk(['images', 'ls']);
    const rows = listed.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/));
    return new Map(rows.map(([ref, type, digest]) => [ref!, [type!, digest!]]));
  }

  beforeAll(async () => {
    requireTool('skopeo');
    requireTool('containerd');
    requireTool('ctr');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    helloText = `hello containerd ${Date.now()}-${Math.random()}\n`;
    image = await layout.writeImage({
      layers: [
        { entries: [{ path: 'hello.txt', content: helloText }] },
        { entries: [{ path: 'data.bin', randomBytes: 1024 * 1024 + 3 }] },
      ],
      cmd: ['/hello.txt'],
    });
    await layout.tag(image.manifest, 'v1');
    srcRef = `${server.host}/e2e-lab/ctr-src:v1`;
    dstRef = `${server.host}/e2e-lab/ctr-dst:c1`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${srcRef}`]);
    containerd = await startContainerd(join(sandbox.dir, 'ctrd'));
  }, 60_000);

  afterAll(async () => {
    try {
      await containerd?.stop();
    } finally {
      await server?.close();
      await sandbox?.cleanup();
    }
  });

  it('pulls and unpacks it, holding every blob byte for byte', async () => {
    await containerd!.ctrOk(['images', 'pull', '--plain-http', '--user', `iamapikey:${server.berth.ownerApiKey!}`, '--snapshotter', 'native', srcRef], { timeoutMs: 30_000 });

    expect((await localImages()).get(srcRef)).toEqual([OciMediaType.manifest, image.manifest.digest]);
    for (const blob of [image.manifest, image.config, ...image.layers]) {
      expect(await fileDigest(containerd!.contentPath(blob.digest)), blob.digest).toEqual({ digest: blob.digest, size: blob.size });
    }
    // The native snapshotter unpacks into plain folders: the top snapshot holds both layers' files.
    const snapshots = join(sandbox.dir, 'ctrd', 'root', 'io.containerd.snapshotter.v1.native', 'snapshots');
    const found: string[] = [];
    for (const id of await readdir(snapshots)) {
      const hello = await readFile(join(snapshots, id, 'hello.txt'), 'utf8').catch(() => undefined);
      if (hello === undefined) continue;
      expect(hello).toBe(helloText);
      found.push(id);
      const data = await readFile(join(snapshots, id, 'data.bin')).catch(() => undefined);
      if (data) expect(sha256(data)).toBe(`sha256:${image.files['data.bin']}`);
    }
    expect(found.length).toBeGreaterThan(0);
  }, 40_000);

  it('pushes it under a new name with the same manifest digest, mounting the blobs', async () => {
    recorder.clear();
    await containerd!.ctrOk(['images', 'push', '--plain-http', '--user', `iamapikey:${server.berth.ownerApiKey!}`, dstRef, srcRef], { timeoutMs: 30_000 });

    const raw = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', `docker://${dstRef}`]);
    expect(sha256(raw.stdout)).toBe(image.manifest.digest);
    expect(raw.stdout).toBe(image.manifestBytes.toString('utf8'));
    const inspected = JSON.parse((await sandbox.skopeoOk(['inspect', '--tls-verify=false', `docker://${dstRef}`])).stdout) as {
      Digest: string;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(image.manifest.digest);
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.digest));

    for (const blob of [image.config, ...image.layers]) {
      const head = await ownerFetch(server, `${server.url}/v2/e2e-lab/ctr-dst/blobs/${blob.digest}`, { method: 'HEAD' });
      expect(head.status, blob.digest).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(blob.size));
    }
    // containerd remembers where it pulled each blob from and asks for a cross-repository mount.
    for (const layer of image.layers) {
      const mounts = mountsOf(recorder.requests, 'e2e-lab/ctr-dst', layer.digest);
      expect(mounts.map((m) => [m.from, m.status]), `mount of ${layer.digest}`).toEqual([['e2e-lab/ctr-src', 201]]);
    }
    // containerd asks the token endpoint with the OAuth2 POST first, and gets its token there.
    const tokenRequests = recorder.requests.filter((r) => r.url.startsWith('/oauth/token'));
    expect(tokenRequests[0]).toMatchObject({ method: 'POST', status: 200 });
    const manifestPuts = recorder.requests.filter((r) => r.method === 'PUT' && r.url.startsWith('/v2/e2e-lab/ctr-dst/manifests/'));
    expect(manifestPuts.map((r) => [r.url, r.status])).toEqual([['/v2/e2e-lab/ctr-dst/manifests/c1', 201]]);
  }, 40_000);

  it('pulls a Docker v2 schema 2 image as pushed', async () => {
    const digestFile = join(sandbox.dir, 'v2s2.digest');
    const dockerRef = `${server.host}/e2e-lab/ctr-docker:v1`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', '--format', 'v2s2', '--digestfile', digestFile, `oci:${src}:v1`, `docker://${dockerRef}`]);
    const pushed = await readFile(digestFile, 'utf8');

    await containerd!.ctrOk(['images', 'pull', '--plain-http', '--user', `iamapikey:${server.berth.ownerApiKey!}`, '--snapshotter', 'native', dockerRef], { timeoutMs: 30_000 });
    expect((await localImages()).get(dockerRef)).toEqual([DOCKER_MANIFEST, pushed]);
    const manifest = await readFile(containerd!.contentPath(pushed));
    expect(sha256(manifest)).toBe(pushed);
    expect(JSON.parse(manifest.toString('utf8'))).toMatchObject({
      mediaType: DOCKER_MANIFEST,
      layers: image.layers.map((l) => ({ digest: l.digest, size: l.size })),
    });
    for (const layer of image.layers) {
      expect(await fileDigest(containerd!.contentPath(layer.digest))).toEqual(await fileDigest(blobPath(src, layer.digest)));
    }
  }, 40_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

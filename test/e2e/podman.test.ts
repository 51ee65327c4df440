import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { OciLayoutWriter, OciMediaType, type WrittenImage } from '../support/oci-layout.js';
import { mountsOf, recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

function sha256hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface PodmanImage {
  Id: string;
  Digest: string;
  Names?: string[];
}

describe('podman: pull, push under a new name, pull back (private vfs storage)', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let recorder: RequestRecorder;
  let image: WrittenImage;
  let helloText: string;
  let srcRef: string;
  let dstRef: string;

  async function registryManifest(repository: string, reference: string): Promise<{ digest: string; bytes: Buffer }> {
    const response = await ownerFetch(server, `${server.url}/v2/${repository}/manifests/${reference}`, {
      headers: { accept: `${OciMediaType.manifest}, application/vnd.docker.distribution.manifest.v2+json` },
    });
    expect(response.status).toBe(200);
    return { digest: response.headers.get('docker-content-digest')!, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  async function localImages(): Promise<PodmanImage[]> {
    const listed = await sandbox.podmanOk(['images', '--format', 'json']);
    return JSON.parse(listed.stdout) as PodmanImage[];
  }

  /** Reads a file of a local image through `podman image mount` (vfs: a plain folder). */
  async function readFromImage(ref: string, path: string): Promise<Buffer> {
    const mounted = await sandbox.podmanOk(['image', 'mount', ref]);
    try {
      return await readFile(join(mounted.stdout.trim(), path));
    } finally {
      await sandbox.podmanOk(['image', 'unmount', ref]);
    }
  }

  beforeAll(async () => {
    requireTool('skopeo');
    requireTool('podman');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    const src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    helloText = `hello podman ${Date.now()}-${Math.random()}\n`;
    image = await layout.writeImage({
      layers: [
        { entries: [{ path: 'hello.txt', content: helloText }] },
        { entries: [{ path: 'data.bin', randomBytes: 3 * 1024 * 1024 + 17 }] },
      ],
      cmd: ['/hello.txt'],
    });
    await layout.tag(image.manifest, 'v1');
    srcRef = `${server.host}/e2e-lab/podman-src:v1`;
    dstRef = `${server.host}/e2e-lab/podman-dst:p1`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${srcRef}`]);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('pulls an image pushed by skopeo', async () => {
    await sandbox.podmanOk(['pull', '--tls-verify=false', srcRef], { timeoutMs: 60_000 });

    const inspected = await sandbox.podmanOk(['image', 'inspect', '--format', '{{.Digest}}', srcRef]);
    expect(inspected.stdout.trim()).toBe(image.manifest.digest);
    const images = await localImages();
    expect(images).toHaveLength(1);
    expect(images[0]!.Digest).toBe(image.manifest.digest);
    expect(images[0]!.Names).toContain(srcRef);
    // The image ID is the config digest.
    expect(`sha256:${images[0]!.Id}`).toBe(image.config.digest);

    expect((await readFromImage(srcRef, 'hello.txt')).toString('utf8')).toBe(helloText);
    const data = await readFromImage(srcRef, 'data.bin');
    expect(data.length).toBe(3 * 1024 * 1024 + 17);
    expect(sha256hex(data)).toBe(image.files['data.bin']);
  }, 60_000);

  it('pushes it under a new name, reusing the layers already in the registry', async () => {
    recorder.clear();
    const digestFile = join(sandbox.dir, 'podman-push.digest');
    await sandbox.podmanOk(['push', '--tls-verify=false', '--digestfile', digestFile, srcRef, `docker://${dstRef}`], {
      timeoutMs: 60_000,
    });
    const pushed = await readFile(digestFile, 'utf8');
    const served = await registryManifest('e2e-lab/podman-dst', 'p1');
    expect(served.digest).toBe(pushed);

    const manifest = JSON.parse(served.bytes.toString('utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
    expect(manifest.config.digest).toBe(image.config.digest);
    // podman knows the compressed blobs it pulled, so it pushes those (mounted), not new gzip streams.
    expect(manifest.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));
    for (const layer of image.layers) {
      const head = await ownerFetch(server, `${server.url}/v2/e2e-lab/podman-dst/blobs/${layer.digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    for (const layer of image.layers) {
      const mounts = mountsOf(recorder.requests, 'e2e-lab/podman-dst', layer.digest);
      expect(mounts.map((m) => [m.from, m.status]), `mount of ${layer.digest}`).toEqual([['e2e-lab/podman-src', 201]]);
    }
    const manifestPut = recorder.requests.filter((r) => r.method === 'PUT' && r.url.startsWith('/v2/e2e-lab/podman-dst/manifests/'));
    expect(manifestPut.map((r) => r.status)).toEqual([201]);
  }, 60_000);

  it('pulls the pushed image back into empty storage', async () => {
    await sandbox.podmanOk(['rmi', '--all', '--force']);
    expect(await localImages()).toEqual([]);

    const served = await registryManifest('e2e-lab/podman-dst', 'p1');
    await sandbox.podmanOk(['pull', '--tls-verify=false', dstRef], { timeoutMs: 60_000 });
    const inspected = await sandbox.podmanOk(['image', 'inspect', '--format', '{{.Digest}}', dstRef]);
    expect(inspected.stdout.trim()).toBe(served.digest);

    const table = await sandbox.podmanOk(['images', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
    expect(table.stdout.trim().split('\n')).toEqual([`${server.host}/e2e-lab/podman-dst:p1 ${served.digest}`]);

    expect((await readFromImage(dstRef, 'hello.txt')).toString('utf8')).toBe(helloText);
    const data = await readFromImage(dstRef, 'data.bin');
    expect(sha256hex(data)).toBe(image.files['data.bin']);
  }, 60_000);

  it('search finds the repositories through _catalog', async () => {
    const result = await sandbox.podmanOk(['search', '--tls-verify=false', '--format', '{{.Name}}', `${server.host}/e2e-lab/podman`]);
    const names = result.stdout.trim().split('\n').sort();
    expect(names).toEqual([`${server.host}/e2e-lab/podman-dst`, `${server.host}/e2e-lab/podman-src`]);
    expect(recorder.requests.some((r) => r.method === 'GET' && r.url.startsWith('/v2/_catalog') && r.status === 200)).toBe(true);
  }, 30_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { OciMediaType, layerFiles } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface Manifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

describe('buildah: build from scratch, push as OCI and as Docker v2s2, pull back with skopeo', () => {
  let server: TestServer;
  let recorder: RequestRecorder;
  let sandbox: ClientSandbox;
  let text: string;
  let binary: Buffer;
  const localImage = 'localhost/e2e-lab/buildah:b1';

  beforeAll(async () => {
    requireTool('buildah');
    requireTool('skopeo');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    text = `built by buildah ${Date.now()}-${Math.random()}\n`;
    binary = randomBytes(256 * 1024 + 5);
    await writeFile(join(sandbox.dir, 'b.txt'), text);
    await writeFile(join(sandbox.dir, 'b.bin'), binary);
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  /** The manifest as the registry serves it, checked against the digest buildah reported. */
  async function served(repository: string, tag: string, pushedDigest: string, mediaType: string): Promise<{ bytes: Buffer; manifest: Manifest }> {
    const response = await ownerFetch(server, `${server.url}/v2/${repository}/manifests/${tag}`, {
      headers: { accept: `${OciMediaType.manifest}, ${DOCKER.manifest}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(mediaType);
    expect(response.headers.get('docker-content-digest')).toBe(pushedDigest);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(sha256(bytes)).toBe(pushedDigest);
    return { bytes, manifest: JSON.parse(bytes.toString('utf8')) as Manifest };
  }

  /** Pulls with skopeo into a `dir:` folder (which keeps the manifest as served) and reads it back. */
  async function pullBack(ref: string, name: string): Promise<{ manifestBytes: Buffer; files: Map<string, Buffer>; config: { config: { Cmd?: string[] } } }> {
    const back = join(sandbox.dir, name);
    await sandbox.skopeoOk(['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${back}`], { timeoutMs: 30_000 });
    const manifestBytes = await readFile(join(back, 'manifest.json'));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    const files = new Map<string, Buffer>();
    for (const layer of manifest.layers) {
      const blob = await readFile(join(back, layer.digest.split(':')[1]!));
      expect(sha256(blob)).toBe(layer.digest);
      expect(blob.length).toBe(layer.size);
      for (const [path, content] of layerFiles(blob)) files.set(path, content);
    }
    const configBlob = await readFile(join(back, manifest.config.digest.split(':')[1]!));
    expect(sha256(configBlob)).toBe(manifest.config.digest);
    return { manifestBytes, files, config: JSON.parse(configBlob.toString('utf8')) as { config: { Cmd?: string[] } } };
  }

  it('builds an image from scratch: copy, config --cmd, commit', async () => {
    const from = await sandbox.buildahOk(['from', 'scratch']);
    const container = from.stdout.trim();
    expect(container).not.toBe('');
    await sandbox.buildahOk(['copy', container, join(sandbox.dir, 'b.txt'), '/b.txt']);
    await sandbox.buildahOk(['copy', container, join(sandbox.dir, 'b.bin'), '/b.bin']);
    await sandbox.buildahOk(['config', '--cmd', '/b.txt', container]);
    await sandbox.buildahOk(['commit', '--quiet', container, localImage]);
    await sandbox.buildahOk(['rm', container]);

    const inspected = JSON.parse((await sandbox.buildahOk(['inspect', '--type', 'image', localImage])).stdout) as {
      OCIv1: { config: { Cmd: string[] }; rootfs: { diff_ids: string[] } };
    };
    expect(inspected.OCIv1.config.Cmd).toEqual(['/b.txt']);
    expect(inspected.OCIv1.rootfs.diff_ids).toHaveLength(1);
  }, 30_000);

  it('pushes it in OCI format; skopeo pulls back the same manifest and files', async () => {
    const ref = `${server.host}/e2e-lab/buildah:b1`;
    const digestFile = join(sandbox.dir, 'oci.digest');
    await sandbox.buildahOk(['push', '--tls-verify=false', '--digestfile', digestFile, localImage, `docker://${ref}`], { timeoutMs: 30_000 });
    const pushed = await readFile(digestFile, 'utf8');

    const { bytes, manifest } = await served('e2e-lab/buildah', 'b1', pushed, OciMediaType.manifest);
    expect(manifest.mediaType).toBe(OciMediaType.manifest);
    expect(manifest.config.mediaType).toBe(OciMediaType.config);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([OciMediaType.layerGzip]);

    const back = await pullBack(ref, 'back-oci');
    expect(back.manifestBytes.equals(bytes)).toBe(true);
    expect(back.files.get('b.txt')?.toString('utf8')).toBe(text);
    expect(back.files.get('b.bin')?.equals(binary)).toBe(true);
    expect(back.config.config.Cmd).toEqual(['/b.txt']);
  }, 40_000);

  it('pushes it with --format docker (v2s2); skopeo pulls back the same manifest and files', async () => {
    const ref = `${server.host}/e2e-lab/buildah:b1-docker`;
    const digestFile = join(sandbox.dir, 'docker.digest');
    await sandbox.buildahOk(['push', '--tls-verify=false', '--format', 'docker', '--digestfile', digestFile, localImage, `docker://${ref}`], {
      timeoutMs: 30_000,
    });
    const pushed = await readFile(digestFile, 'utf8');

    const { bytes, manifest } = await served('e2e-lab/buildah', 'b1-docker', pushed, DOCKER.manifest);
    expect(manifest.mediaType).toBe(DOCKER.manifest);
    expect(manifest.config.mediaType).toBe(DOCKER.config);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([DOCKER.layerGzip]);

    const inspected = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    expect(inspected.stdout).toBe(bytes.toString('utf8'));
    const back = await pullBack(ref, 'back-docker');
    expect(back.manifestBytes.equals(bytes)).toBe(true);
    expect(back.files.get('b.txt')?.toString('utf8')).toBe(text);
    expect(back.files.get('b.bin')?.equals(binary)).toBe(true);
    expect(back.config.config.Cmd).toEqual(['/b.txt']);
  }, 40_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { OciLayoutWriter, OciMediaType, type WrittenImage } from '../support/oci-layout.js';
import { mountsOf, recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { describeRun, requireTool } from '../support/run.js';
import { addNamespaces, ownerFetch } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const EXTRA_TAGS = ['1.0', 'Latest', 'beta_2'];
const ALL_TAGS = ['v1', 'v2', ...EXTRA_TAGS].sort();

interface InspectOutput {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  Layers: string[];
}

describe('skopeo: inspect, list-tags, delete and cross-repository copy', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let recorder: RequestRecorder;
  let src: string;
  let image: WrittenImage;
  let other: WrittenImage;
  let configBytes: Buffer;

  beforeAll(async () => {
    requireTool('skopeo');
    // Tiny pages, so every tag listing below only works if skopeo follows the Link header.
    server = await startTestServer({ auth: 'iam', configure: (config) => void (config.registry.maxPageSize = 2) });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const stamp = `${Date.now()}-${Math.random()}`;
    image = await layout.writeImage({
      layers: [
        { entries: [{ path: 'etc/berth-release', content: `berth e2e ${stamp}\n` }] },
        { entries: [{ path: 'data.bin', randomBytes: 2 * 1024 * 1024 }] },
      ],
      platform: { architecture: 'amd64', os: 'linux' },
    });
    other = await layout.writeImage({
      layers: [{ entries: [{ path: 'other.txt', content: `another image ${stamp}\n` }] }],
    });
    await layout.tag(image.manifest, 'v1');
    await layout.tag(other.manifest, 'other');
    configBytes = await readFile(join(src, 'blobs', 'sha256', image.config.digest.slice('sha256:'.length)));
    for (const tag of ['v1', 'v2']) {
      await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${server.host}/e2e-lab/tools:${tag}`]);
    }
    // More tags on the same manifest, put directly: five tags make three pages.
    for (const tag of EXTRA_TAGS) {
      const put = await ownerFetch(server, `${server.url}/v2/e2e-lab/tools/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': OciMediaType.manifest },
        body: new Uint8Array(image.manifestBytes),
      });
      expect(put.status).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('inspect reports the pushed digest, tags, platform and layers', async () => {
    const result = await sandbox.skopeoOk(['inspect', '--tls-verify=false', `docker://${server.host}/e2e-lab/tools:v1`]);
    const inspected = JSON.parse(result.stdout) as InspectOutput;
    expect(inspected.Name).toBe(`${server.host}/e2e-lab/tools`);
    expect(inspected.Digest).toBe(image.manifest.digest);
    expect([...inspected.RepoTags].sort()).toEqual(ALL_TAGS);
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Os).toBe('linux');
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.digest));
  }, 30_000);

  it('inspect --raw prints exactly the pushed manifest bytes, --config --raw the config', async () => {
    const raw = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', `docker://${server.host}/e2e-lab/tools:v1`]);
    expect(raw.stdout).toBe(image.manifestBytes.toString('utf8'));
    const config = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--config', '--raw', `docker://${server.host}/e2e-lab/tools:v1`]);
    expect(config.stdout).toBe(configBytes.toString('utf8'));
  }, 30_000);

  it('list-tags lists every tag of the repository, page after page', async () => {
    recorder.clear();
    const result = await sandbox.skopeoOk(['list-tags', '--tls-verify=false', `docker://${server.host}/e2e-lab/tools`]);
    const listed = JSON.parse(result.stdout) as { Repository: string; Tags: string[] };
    expect(listed.Repository).toBe(`${server.host}/e2e-lab/tools`);
    // Bytewise order across pages, each tag once.
    expect(listed.Tags).toEqual(ALL_TAGS);
    const pages = recorder.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/v2/e2e-lab/tools/tags/list'));
    expect(pages.map((r) => r.status)).toEqual([200, 200, 200]);
  }, 30_000);

  it('list-tags on an unknown repository fails', async () => {
    const result = await sandbox.skopeo(['list-tags', '--tls-verify=false', `docker://${server.host}/e2e-lab/nothing-here`]);
    expect(result.code, describeRun(result)).not.toBe(0);
    expect(result.stderr).toMatch(/name unknown|not found|404/i);
  }, 30_000);

  it('delete removes the manifest: its tag then 404s, other tags stay', async () => {
    const ref = `docker://${server.host}/e2e-lab/tools:doomed`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:other`, ref]);
    expect((await ownerFetch(server, `${server.url}/v2/e2e-lab/tools/manifests/doomed`, { method: 'HEAD' })).status).toBe(200);

    await sandbox.skopeoOk(['delete', '--tls-verify=false', ref]);

    // skopeo deletes by digest: the tag and the manifest are both gone.
    for (const reference of ['doomed', other.manifest.digest]) {
      const response = await ownerFetch(server, `${server.url}/v2/e2e-lab/tools/manifests/${reference}`);
      expect(response.status).toBe(404);
      const body = (await response.json()) as { errors: Array<{ code: string }> };
      expect(body.errors[0]!.code).toBe('MANIFEST_UNKNOWN');
    }
    const inspect = await sandbox.skopeo(['inspect', '--tls-verify=false', ref]);
    expect(inspect.code, describeRun(inspect)).not.toBe(0);
    expect(inspect.stderr).toMatch(/manifest unknown/i);

    const tags = await sandbox.skopeoOk(['list-tags', '--tls-verify=false', `docker://${server.host}/e2e-lab/tools`]);
    expect((JSON.parse(tags.stdout) as { Tags: string[] }).Tags).toEqual(ALL_TAGS);
    const kept = await ownerFetch(server, `${server.url}/v2/e2e-lab/tools/manifests/v1`, { headers: { accept: OciMediaType.manifest } });
    expect(kept.status).toBe(200);
    expect(kept.headers.get('docker-content-digest')).toBe(image.manifest.digest);
  }, 30_000);

  it('copies docker:// → docker:// across repositories by mounting the layers', async () => {
    recorder.clear();
    await sandbox.skopeoOk([
      'copy', '--src-tls-verify=false', '--dest-tls-verify=false',
      `docker://${server.host}/e2e-lab/tools:v1`, `docker://${server.host}/e2e-lab/mirror:v1`,
    ]);

    for (const layer of image.layers) {
      const mounts = mountsOf(recorder.requests, 'e2e-lab/mirror', layer.digest);
      expect(mounts.map((m) => [m.from, m.status]), `mount of ${layer.digest}`).toEqual([['e2e-lab/tools', 201]]);
      // Mounted, so never uploaded: no upload was completed with this digest.
      const uploads = recorder.requests.filter((r) => r.method === 'PUT' && r.url.includes(encodeURIComponent(layer.digest)));
      expect(uploads).toEqual([]);

      const head = await ownerFetch(server, `${server.url}/v2/e2e-lab/mirror/blobs/${layer.digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBe(layer.size);
    }
    const copied = await sandbox.skopeoOk(['inspect', '--tls-verify=false', '--raw', `docker://${server.host}/e2e-lab/mirror:v1`]);
    expect(copied.stdout).toBe(image.manifestBytes.toString('utf8'));
  }, 30_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

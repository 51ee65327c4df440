import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { OciLayoutWriter, OciMediaType, type Descriptor, type Platform, type WrittenImage } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { describeRun, requireTool } from '../support/run.js';
import { addNamespaces } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const PLATFORMS: Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux' },
];

interface InspectedManifest {
  schemaVersion: number;
  mediaType?: string;
  config: { digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

/** One entry of `docker manifest inspect --verbose`. */
interface VerboseEntry {
  Ref: string;
  Descriptor: { mediaType: string; digest: string; size: number; platform?: Platform };
  Raw: string;
  OCIManifest?: InspectedManifest;
  SchemaV2Manifest?: InspectedManifest;
}

/** The docker CLI on this machine has no daemon: login and `manifest inspect` talk to the registry themselves. */
describe('docker CLI (client only): login and manifest inspect', () => {
  let server: TestServer;
  let recorder: RequestRecorder;
  let sandbox: ClientSandbox;
  let image: WrittenImage;
  let platformImages: WrittenImage[];
  let index: { descriptor: Descriptor; bytes: Buffer };
  let dockerDigest: string;

  const layersOf = (written: WrittenImage) => written.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));

  beforeAll(async () => {
    requireTool('docker');
    requireTool('skopeo');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'e2e-lab');
    // One login for skopeo, podman and buildah: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);
    const src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const stamp = `${Date.now()}-${Math.random()}`;
    image = await layout.writeImage({
      layers: [{ entries: [{ path: 'hello.txt', content: `hello docker ${stamp}\n` }] }, { entries: [{ path: 'data.bin', randomBytes: 64 * 1024 }] }],
    });
    await layout.tag(image.manifest, 'v1');
    platformImages = [];
    for (const platform of PLATFORMS) {
      platformImages.push(
        await layout.writeImage({ platform, layers: [{ entries: [{ path: 'arch.txt', content: `${platform.architecture} ${stamp}\n` }] }] }),
      );
    }
    index = await layout.writeImageIndex(platformImages.map((written, i) => ({ manifest: written.manifest, platform: PLATFORMS[i]! })));
    await layout.tag(index.descriptor, 'multi');

    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${server.host}/e2e-lab/docker:v1`]);
    const digestFile = join(sandbox.dir, 'v2s2.digest');
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', '--format', 'v2s2', '--digestfile', digestFile, `oci:${src}:v1`, `docker://${server.host}/e2e-lab/docker:v1-docker`]);
    dockerDigest = await readFile(digestFile, 'utf8');
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', `oci:${src}:multi`, `docker://${server.host}/e2e-lab/docker-multi:v1`]);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  async function inspect(ref: string, verbose = false): Promise<unknown> {
    const result = await sandbox.dockerOk(['manifest', 'inspect', '--insecure', ...(verbose ? ['--verbose'] : []), ref], { timeoutMs: 20_000 });
    return JSON.parse(result.stdout) as unknown;
  }

  it('docker login -u iamapikey logs in through the token endpoint and keeps an identity token', async () => {
    recorder.clear();
    const login = await sandbox.dockerOk(['login', '-u', 'iamapikey', '--password-stdin', server.host], {
      input: `${server.berth.ownerApiKey!}\n`,
      timeoutMs: 20_000,
    });
    expect(login.stdout).toContain('Login Succeeded');
    const config = JSON.parse(await readFile(join(sandbox.env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth?: string; identitytoken?: string }>;
    };
    // The token answer carried a refresh token (docker asks offline_token=true): docker keeps that, not the key.
    expect(config.auths[server.host]?.identitytoken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(config)).not.toContain(server.berth.ownerApiKey!);
    // It first tries https (refused at the TLS level), then pings /v2/ over plain http and is challenged.
    expect(recorder.requests.filter((r) => r.url === '/v2/').map((r) => [r.method, r.status])).toContainEqual(['GET', 401]);
    expect(recorder.requests.filter((r) => r.url.startsWith('/oauth/token')).map((r) => r.status)).toContain(200);
  }, 30_000);

  it('docker login with a bad key fails with the registry\'s message', async () => {
    const bad = await sandbox.docker(['--config', join(sandbox.dir, 'bad-docker'), 'login', '-u', 'iamapikey', '--password-stdin', server.host], { input: 'not-a-key\n', timeoutMs: 20_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The login credentials are not valid');
  }, 30_000);

  it('manifest inspect shows the OCI image skopeo pushed: its config, layers and digest', async () => {
    const ref = `${server.host}/e2e-lab/docker:v1`;
    recorder.clear();
    expect(await inspect(ref)).toEqual({
      schemaVersion: 2,
      mediaType: OciMediaType.manifest,
      config: { mediaType: OciMediaType.config, digest: image.config.digest, size: image.config.size },
      layers: layersOf(image),
    });
    const verbose = (await inspect(ref, true)) as VerboseEntry;
    expect(verbose.Ref).toBe(ref);
    expect(verbose.Descriptor).toMatchObject({ mediaType: OciMediaType.manifest, digest: image.manifest.digest, size: image.manifest.size });
    expect(Buffer.from(verbose.Raw, 'base64').equals(image.manifestBytes)).toBe(true);
    // With an identity token stored, docker gets its registry tokens by the OAuth2 POST.
    expect(recorder.requests.filter((r) => r.url.startsWith('/oauth/token')).map((r) => [r.method, r.status])).toContainEqual(['POST', 200]);
  }, 30_000);

  it('manifest inspect shows the Docker v2s2 image with the same layers', async () => {
    const ref = `${server.host}/e2e-lab/docker:v1-docker`;
    const manifest = (await inspect(ref)) as InspectedManifest;
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(manifest.config.digest).toBe(image.config.digest);
    expect(manifest.layers.map((l) => [l.digest, l.size])).toEqual(image.layers.map((l) => [l.digest, l.size]));
    const verbose = (await inspect(ref, true)) as VerboseEntry;
    expect(verbose.Descriptor).toMatchObject({ mediaType: DOCKER_MANIFEST, digest: dockerDigest });
  }, 30_000);

  it('manifest inspect shows the multi-arch index as a manifest list, and each platform with --verbose', async () => {
    const ref = `${server.host}/e2e-lab/docker-multi:v1`;
    const list = (await inspect(ref)) as { mediaType: string; manifests: Array<{ mediaType: string; digest: string; size: number; platform: Platform }> };
    expect(list.mediaType).toBe(OciMediaType.index);
    expect(list.manifests).toEqual(
      platformImages.map((written, i) => ({
        mediaType: OciMediaType.manifest,
        digest: written.manifest.digest,
        size: written.manifest.size,
        platform: PLATFORMS[i],
      })),
    );

    const entries = (await inspect(ref, true)) as VerboseEntry[];
    expect(entries.map((e) => [e.Descriptor.digest, e.Descriptor.platform?.architecture])).toEqual(
      platformImages.map((written, i) => [written.manifest.digest, PLATFORMS[i]!.architecture]),
    );
    entries.forEach((entry, i) => {
      expect(Buffer.from(entry.Raw, 'base64').equals(platformImages[i]!.manifestBytes)).toBe(true);
      expect(entry.OCIManifest?.layers).toEqual(layersOf(platformImages[i]!));
    });
  }, 30_000);

  it('manifest inspect of an unknown tag fails', async () => {
    const result = await sandbox.docker(['manifest', 'inspect', '--insecure', `${server.host}/e2e-lab/docker:nope`], { timeoutMs: 20_000 });
    expect(result.code, describeRun(result)).not.toBe(0);
    expect(result.stderr).toContain('no such manifest');
    expect(recorder.requests.some((r) => r.url === '/v2/e2e-lab/docker/manifests/nope' && r.status === 404)).toBe(true);
  }, 30_000);

  it('docker logout removes the stored credentials', async () => {
    await sandbox.dockerOk(['logout', server.host]);
    const config = JSON.parse(await readFile(join(sandbox.env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    expect(config.auths[server.host]).toBeUndefined();
  }, 30_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

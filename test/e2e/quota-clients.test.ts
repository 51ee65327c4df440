import type ContainerRegistryV1 from '@ibm-cloud/ibm-container-registry/dist/container-registry/v1.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { startDockerd, type Dockerd } from '../support/dockerd.js';
import { addNamespaces, ownerFetch, ownerSession, registryApiFor } from '../support/iam.js';
import { OciLayoutWriter, OciMediaType, type WrittenImage } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RecordedRequest, type RequestRecorder } from '../support/request-recorder.js';
import { describeRun, requireTool, type RunResult } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MB = 1024 * 1024;
/** IBM's wording, written out here (not imported from src/) so the test checks the wire text itself. */
const STORAGE_MESSAGE = 'Your account has exceeded its image storage quota for the current month.';
const TRAFFIC_MESSAGE = 'Your account has exceeded its pull traffic quota for the current month.';
const DOCKER_V2_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Quota {
  limit: { storage_bytes: number; traffic_bytes: number };
  usage: { storage_bytes: number; traffic_bytes: number };
}

/**
 * What skopeo 1.9, podman 4.3 and a Docker 20.10 daemon print when Berth refuses them for a quota.
 * The assertions pin each client's whole line: they are the documentation of what a user sees.
 */
describe('quotas as real clients show them: storage refusals on push, traffic refusals on pull', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let recorder: RequestRecorder;
  let cr: ContainerRegistryV1;
  let daemon: Promise<Dockerd> | undefined;
  let dockerd: Dockerd;
  let src: string;
  /** The same image as a `docker save` tarball: layers uncompressed, so clients compress them on push. */
  let archive: string;
  let image: WrittenImage;
  /** The tail Berth puts after IBM's storage message, up to the end of the line. */
  let storageDetail: string;
  let trafficDetail: string;

  const quota = async () => (await cr.getQuota()).result as Quota;
  const refusedLine = (output: string, marker: string) => output.split('\n').find((line) => line.includes(marker));
  const manifestStatus = async (repository: string, tag: string) =>
    (await ownerFetch(server, `${server.url}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: `${OciMediaType.manifest}, ${DOCKER_V2_MANIFEST}` } })).status;
  /** A refused push leaves no image behind and the account within its quota. */
  const expectNothingStored = async (repository: string) => {
    expect(await manifestStatus(repository, 'v1')).toBe(404);
    expect(recorder.requests.filter((r) => r.method === 'PUT' && r.url.includes('/manifests/'))).toEqual([]);
    expect((await quota()).usage.storage_bytes).toBeLessThanOrEqual(MB);
  };
  const expectFailed = (result: RunResult) => expect(result.code, describeRun(result)).not.toBe(0);
  const blobCommits = (requests: RecordedRequest[], repository: string) =>
    requests.filter((r) => r.method === 'PUT' && r.url.startsWith(`/v2/${repository}/blobs/uploads/`));
  /** The big layer's commit refused once, never retried; the small layer's done (or cancelled by the client). */
  const expectOneRefusedCommit = (commits: RecordedRequest[]) => {
    expect(commits.filter((r) => r.status === 403)).toHaveLength(1);
    expect(commits.filter((r) => r.status !== 403 && r.status !== 201)).toEqual([]);
  };

  beforeAll(async () => {
    requireTool('skopeo');
    requireTool('podman');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    // The daemon takes a few seconds to start: let it, while the image is made.
    daemon = startDockerd(join(sandbox.dir, 'dockerd'), sandbox.env);
    daemon.catch(() => {}); // awaited below; afterAll stops it even when the rest of this hook fails
    await addNamespaces(server, 'quota-e2e');
    const owner = await ownerSession(server);
    cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, owner.accountId);
    const region = escape(server.config.regions[0]!.name);
    storageDetail = ` This push needs \\d+ more bytes; the account stores \\d+ of its ${MB} bytes in region ${region}\\.`;
    trafficDetail = ` This pull needs \\d+ bytes; the account has pulled \\d+ of its ${MB} bytes this month in region ${region}\\.`;
    // One login for skopeo and podman: they share the sandbox's REGISTRY_AUTH_FILE.
    await sandbox.skopeoOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host]);

    // 2 MiB of random bytes: the gzip layer stays over the 1 MB quota whoever compresses it.
    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    image = await layout.writeImage({
      layers: [
        { entries: [{ path: 'hello.txt', content: `hello quota ${Date.now()}-${Math.random()}\n` }] },
        { entries: [{ path: 'data.bin', randomBytes: 2 * MB }] },
      ],
    });
    await layout.tag(image.manifest, 'v1');
    expect(image.layers[1]!.size).toBeGreaterThan(MB);
    // podman and the daemon get it as a local image, as if built there: they compress the layers on push.
    archive = join(sandbox.dir, 'image.tar');
    await sandbox.skopeoOk(['copy', `oci:${src}:v1`, `docker-archive:${archive}:quota/big:v1`]);
    await sandbox.podmanOk(['load', '-i', archive]);
    dockerd = await daemon;
    await dockerd.dockerOk(['login', '-u', 'iamapikey', '-p', server.berth.ownerApiKey!, server.host], { timeoutMs: 30_000 });
    await dockerd.dockerOk(['load', '-i', archive]);
    await dockerd.dockerOk(['tag', 'quota/big:v1', `${server.host}/quota-e2e/docker:v1`]);

    expect((await cr.updateQuota({ storageMegabytes: 1 })).status).toBe(200);
    expect((await quota()).limit.storage_bytes).toBe(MB);
  }, 120_000);

  afterAll(async () => {
    try {
      await (await daemon?.catch(() => undefined))?.stop();
    } finally {
      await server?.close();
      await sandbox?.cleanup();
    }
  }, 60_000);

  it('podman push over the storage quota fails with "denied: <IBM\'s message>" (refused at the commit PUT)', async () => {
    recorder.clear();
    const push = await sandbox.podman(['push', '--tls-verify=false', 'docker.io/quota/big:v1', `docker://${server.host}/quota-e2e/podman:v1`], { timeoutMs: 30_000 });
    expectFailed(push);
    expect(push.stderr, describeRun(push)).toContain(`denied: ${STORAGE_MESSAGE}`);
    // podman compresses the layer itself, so it streams it without a length and the commit is refused.
    expect(refusedLine(push.stderr, 'denied:')).toMatch(
      new RegExp(
        `^Error: writing blob: uploading layer to ${escape(server.url)}/v2/quota-e2e/podman/blobs/uploads/[0-9a-f-]+\\?digest=sha256%3A[0-9a-f]{64}: denied: ${escape(STORAGE_MESSAGE)}${storageDetail}$`,
      ),
    );
    expectOneRefusedCommit(blobCommits(recorder.requests, 'quota-e2e/podman'));
    await expectNothingStored('quota-e2e/podman');
  }, 40_000);

  it('skopeo copy of a local image over the storage quota fails with "denied: <IBM\'s message>" (compressed on the way: refused at the commit PUT)', async () => {
    recorder.clear();
    const copy = await sandbox.skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${server.host}/quota-e2e/skopeo-archive:v1`], { timeoutMs: 30_000 });
    expectFailed(copy);
    expect(copy.stderr, describeRun(copy)).toContain(`denied: ${STORAGE_MESSAGE}`);
    expect(refusedLine(copy.stderr, 'denied:')).toMatch(
      new RegExp(
        `^time="[^"]+" level=fatal msg="writing blob: uploading layer to ${escape(server.url)}/v2/quota-e2e/skopeo-archive/blobs/uploads/[0-9a-f-]+\\?digest=sha256%3A[0-9a-f]{64}: denied: ${escape(STORAGE_MESSAGE)}${storageDetail}"$`,
      ),
    );
    expectOneRefusedCommit(blobCommits(recorder.requests, 'quota-e2e/skopeo-archive'));
    await expectNothingStored('quota-e2e/skopeo-archive');
  }, 40_000);

  it('skopeo copy of an OCI layout over the storage quota shows "denied: <IBM\'s message>", every time', async () => {
    // Sizes are known here, so skopeo PATCHes the layer with a Content-Length and is refused before
    // the body is read. containers/image sends `Connection: close` on every request: Berth reads and
    // drops the rest of that body before it answers, or the reset of a socket closed with data still
    // arriving could destroy the answer (skopeo then said `write: broken pipe`). Several tries, since
    // that failure was a race.
    const denied = new RegExp(`^time="[^"]+" level=fatal msg="writing blob: uploading layer chunked: denied: ${escape(STORAGE_MESSAGE)}${storageDetail}"$`);
    for (let attempt = 0; attempt < 5; attempt++) {
      recorder.clear();
      const copy = await sandbox.skopeo(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${server.host}/quota-e2e/skopeo:v1`], { timeoutMs: 30_000 });
      expectFailed(copy);
      expect(refusedLine(copy.stderr, 'level=fatal') ?? '', describeRun(copy)).toMatch(denied);
      // The server refused the PATCH that declared the layer's size.
      const refused = recorder.requests.filter((r) => r.status === 403);
      expect(refused.map((r) => [r.method, r.contentLength])).toEqual([['PATCH', String(image.layers[1]!.size)]]);
      await expectNothingStored('quota-e2e/skopeo');
    }
  }, 60_000);

  it('docker push (daemon) over the storage quota fails with "denied: <IBM\'s message>", without retrying', async () => {
    recorder.clear();
    const push = await dockerd.docker(['push', `${server.host}/quota-e2e/docker:v1`], { timeoutMs: 30_000 });
    expectFailed(push);
    // The refusal is the only line of stderr. (Whether stdout shows the small layer "Pushed" first is a race.)
    expect(push.stderr).toMatch(new RegExp(`^denied: ${escape(STORAGE_MESSAGE)}${storageDetail}\n$`));
    expect(push.stdout).not.toMatch(/Retrying/);
    // It streams layers without a length: the big one is taken, then refused at its commit, once.
    expectOneRefusedCommit(blobCommits(recorder.requests, 'quota-e2e/docker'));
    expect(recorder.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v2/quota-e2e/docker/blobs/uploads/')).length).toBeLessThanOrEqual(2);
    await expectNothingStored('quota-e2e/docker');
  }, 40_000);

  it('after the storage quota is raised to unlimited, the same three pushes succeed', async () => {
    expect((await cr.updateQuota({ storageMegabytes: -1 })).status).toBe(200);
    await sandbox.podmanOk(['push', '--tls-verify=false', 'docker.io/quota/big:v1', `docker://${server.host}/quota-e2e/podman:v1`], { timeoutMs: 30_000 });
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${server.host}/quota-e2e/skopeo:v1`], { timeoutMs: 30_000 });
    await dockerd.dockerOk(['push', `${server.host}/quota-e2e/docker:v1`], { timeoutMs: 30_000 });
    for (const repository of ['quota-e2e/podman', 'quota-e2e/skopeo', 'quota-e2e/docker']) expect(await manifestStatus(repository, 'v1')).toBe(200);
    expect((await quota()).usage.storage_bytes).toBeGreaterThan(MB);
  }, 90_000);

  describe('a pull over the pull traffic quota', () => {
    const ref = () => `${server.host}/quota-e2e/skopeo:v1`;
    /** The big layer as the registry holds it, which every pull below needs. */
    let bigLayer: () => string;

    beforeAll(async () => {
      // Not necessarily the layout's blob: skopeo's host-wide blob-info cache may have it mount
      // podman's compression of the same layer (from quota-e2e/podman) instead of uploading its own.
      const served = await ownerFetch(server, `${server.url}/v2/quota-e2e/skopeo/manifests/v1`, { headers: { accept: `${OciMediaType.manifest}, ${DOCKER_V2_MANIFEST}` } });
      const layers = ((await served.json()) as { layers: Array<{ digest: string; size: number }> }).layers;
      const big = layers.find((layer) => layer.size > MB);
      if (!big) throw new Error(`no layer over 1 MB in quota-e2e/skopeo:v1: ${JSON.stringify(layers)}`);
      bigLayer = () => big.digest;
      expect((await cr.updateQuota({ trafficMegabytes: 1 })).status).toBe(200);
      // Local copies of the layers would let podman and the daemon skip the download.
      await sandbox.podmanOk(['rmi', '--all', '--force']);
      const ids = (await dockerd.dockerOk(['images', '-q'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await dockerd.dockerOk(['rmi', '--force', ...new Set(ids)]);
    }, 60_000);

    it('is refused with IBM\'s message in the body, which skopeo and podman do not show', async () => {
      const answer = await ownerFetch(server, `${server.url}/v2/quota-e2e/skopeo/blobs/${bigLayer()}`);
      expect(answer.status).toBe(403);
      const body = (await answer.json()) as { errors: Array<{ code: string; message: string }> };
      expect(body.errors.map((e) => e.code)).toEqual(['DENIED']);
      expect(body.errors[0]!.message).toMatch(new RegExp(`^${escape(TRAFFIC_MESSAGE)}${trafficDetail}$`));
    });

    // containers/image (skopeo 1.9, podman 4.3) reads the error body of a blob GET only when it is a
    // 401; any other status becomes "invalid status code from registry". It does read the body of a
    // refused manifest GET, so only a refusal there would put the message in front of these users.
    it('skopeo copy fails with "invalid status code from registry 403 (Forbidden)": it reads no error body on a blob GET', async () => {
      recorder.clear();
      const copy = await sandbox.skopeo(['copy', '--src-tls-verify=false', `docker://${ref()}`, `oci:${join(sandbox.dir, 'pulled')}:v1`], { timeoutMs: 30_000 });
      expectFailed(copy);
      expect(copy.stderr).toMatch(
        new RegExp(`^time="[^"]+" level=fatal msg="reading blob ${bigLayer()}: Error fetching blob: invalid status code from registry 403 \\(Forbidden\\)"\n$`),
      );
      expect(copy.stderr).not.toContain('denied:');
      expect(recorder.requests.filter((r) => r.status === 403).map((r) => r.url)).toEqual([`/v2/quota-e2e/skopeo/blobs/${bigLayer()}`]);
    }, 40_000);

    it('podman pull fails with the same line as skopeo', async () => {
      const pull = await sandbox.podman(['pull', '--tls-verify=false', ref()], { timeoutMs: 30_000 });
      expectFailed(pull);
      expect(refusedLine(pull.stderr, 'Error:')).toBe(`Error: reading blob ${bigLayer()}: Error fetching blob: invalid status code from registry 403 (Forbidden)`);
      expect(pull.stderr).not.toContain('denied:');
    }, 40_000);

    // The daemon words every DENIED on a pull as "pull access denied … may require 'docker login'", then the message.
    it('docker pull (daemon) shows the message, after its "pull access denied" preamble, without retrying', async () => {
      recorder.clear();
      const pull = await dockerd.docker(['pull', ref()], { timeoutMs: 30_000 });
      expectFailed(pull);
      expect(pull.stderr).toMatch(
        new RegExp(
          `^pull access denied for ${escape(server.host)}/quota-e2e/skopeo, repository does not exist or may require 'docker login': denied: ${escape(TRAFFIC_MESSAGE)}${trafficDetail}\n$`,
        ),
      );
      expect(pull.stdout).not.toMatch(/Retrying/);
      // Two GETs, one attempt: the daemon's size probe (a Seek to the end, whose failure it ignores), then the read.
      expect(recorder.requests.filter((r) => r.method === 'GET' && r.url.endsWith(bigLayer())).map((r) => r.status)).toEqual([403, 403]);
    }, 40_000);

    it('after the traffic quota is raised to unlimited, the same pull succeeds', async () => {
      expect((await cr.updateQuota({ trafficMegabytes: -1 })).status).toBe(200);
      await sandbox.skopeoOk(['copy', '--src-tls-verify=false', `docker://${ref()}`, `oci:${join(sandbox.dir, 'pulled')}:v1`], { timeoutMs: 30_000 });
      await sandbox.podmanOk(['pull', '--tls-verify=false', ref()], { timeoutMs: 30_000 });
    }, 60_000);
  });

  it('answered no request with a 5xx', async () => {
    expect(serverErrors(recorder.all)).toEqual([]);
    expect(await server.serverErrors()).toEqual([]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { startDockerd, type Dockerd } from '../support/dockerd.js';
import { addNamespaces, ownerSession, policyBody } from '../support/iam.js';
import { OciLayoutWriter } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The seed's own command: `docker login -u iamapikey -p <key> <registry>` against a real Docker
 * daemon (Debian's docker.io, vfs storage), then `docker pull` and `docker push`, with a service
 * ID's key that may push to one namespace only.
 */
describe('docker daemon: docker login -u iamapikey, pull and push', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let dockerd: Dockerd;
  let recorder: RequestRecorder;
  let pusherKey: string;
  let srcRef: string;

  beforeAll(async () => {
    requireTool('skopeo');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'docker-lab', 'docker-other');
    const owner = await ownerSession(server);
    const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name: 'docker-pusher', apikey: { name: 'k' } })).result;
    await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, ['Writer'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'docker-lab' }) as never);
    pusherKey = sid.apikey!.apikey;

    const src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const image = await layout.writeImage({ layers: [{ entries: [{ path: 'hello.txt', content: `hello from the daemon test ${Date.now()}\n` }] }] });
    await layout.tag(image.manifest, 'v1');
    srcRef = `${server.host}/docker-lab/seed:v1`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', '--dest-creds', `iamapikey:${server.berth.ownerApiKey!}`, `oci:${src}:v1`, `docker://${srcRef}`]);
    dockerd = await startDockerd(join(sandbox.dir, 'dockerd'), sandbox.env);
  }, 120_000);

  afterAll(async () => {
    try {
      await dockerd?.stop();
    } finally {
      await server?.close();
      await sandbox?.cleanup();
    }
  }, 60_000);

  it('logs in with docker login -u iamapikey -p <key>', async () => {
    const login = await dockerd.dockerOk(['login', '-u', 'iamapikey', '-p', pusherKey, server.host], { timeoutMs: 30_000 });
    expect(login.stdout).toContain('Login Succeeded');
  }, 40_000);

  it('refuses a wrong key with the registry\'s message', async () => {
    const bad = await dockerd.docker(['--config', join(sandbox.dir, 'other-docker'), 'login', '-u', 'iamapikey', '-p', 'not-a-real-key', server.host], { timeoutMs: 30_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/The login credentials are not valid/);
  }, 40_000);

  it('pulls the image skopeo pushed', async () => {
    await dockerd.dockerOk(['pull', srcRef], { timeoutMs: 60_000 });
    const listed = await dockerd.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(listed.stdout.split('\n')).toContain(srcRef);
  }, 70_000);

  it('pushes it under a new name in its namespace, and is refused in another', async () => {
    recorder.clear();
    const pushed = `${server.host}/docker-lab/pushed:d1`;
    await dockerd.dockerOk(['tag', srcRef, pushed]);
    const push = await dockerd.dockerOk(['push', pushed], { timeoutMs: 60_000 });
    expect(push.stdout).toMatch(/d1: digest: sha256:[0-9a-f]{64}/);
    // The daemon asked for `push,pull` (in that order) and got both.
    expect(recorder.requests.some((r) => r.url.startsWith('/oauth/token') && r.status === 200)).toBe(true);
    expect(recorder.requests.filter((r) => r.method === 'PUT' && r.url === '/v2/docker-lab/pushed/manifests/d1').map((r) => r.status)).toEqual([201]);
    await dockerd.dockerOk(['rmi', pushed]);
    await dockerd.dockerOk(['pull', pushed], { timeoutMs: 60_000 });

    const elsewhere = `${server.host}/docker-other/pushed:d1`;
    await dockerd.dockerOk(['tag', srcRef, elsewhere]);
    const refused = await dockerd.docker(['push', elsewhere], { timeoutMs: 60_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/denied|unauthorized/);
  }, 150_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { addNamespaces, ownerSession, policyBody, tokenFor } from '../support/iam.js';
import { OciLayoutWriter } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The three kinds of registry credentials with real clients: podman logs in with a service ID's
 * API key and pushes where its policy lets it; skopeo takes `--creds iamapikey:<key>`,
 * `iambearer:<IAM access token>` and `iamrefresh:<refresh token>`.
 */
describe('registry credentials with podman and skopeo', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let recorder: RequestRecorder;
  let writerKey: string;
  let readerKey: string;
  let src: string;
  let seedRef: string;

  beforeAll(async () => {
    requireTool('skopeo');
    requireTool('podman');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    await addNamespaces(server, 'creds-ns-a', 'creds-ns-b');
    const owner = await ownerSession(server);
    const serviceId = async (name: string, role: string) => {
      const sid = (await owner.sdk.identity.createServiceId({ accountId: owner.accountId, name, apikey: { name: 'k' } })).result;
      await owner.sdk.policies.createPolicy(policyBody(sid.iam_id, owner.accountId, [role], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'creds-ns-a' }) as never);
      return sid.apikey!.apikey;
    };
    writerKey = await serviceId('podman-writer', 'Writer');
    readerKey = await serviceId('skopeo-reader', 'Reader');
    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const image = await layout.writeImage({ layers: [{ entries: [{ path: 'creds.txt', content: `credentials ${Date.now()}\n` }] }] });
    await layout.tag(image.manifest, 'v1');
    seedRef = `${server.host}/creds-ns-a/seed:v1`;
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', '--dest-creds', `iamapikey:${server.berth.ownerApiKey!}`, `oci:${src}:v1`, `docker://${seedRef}`]);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('podman login -u iamapikey -p <key> pushes to the namespace its policy allows, and pulls back', async () => {
    const login = await sandbox.podmanOk(['login', '--tls-verify=false', '-u', 'iamapikey', '-p', writerKey, server.host]);
    expect(login.stdout).toContain('Login Succeeded');
    await sandbox.podmanOk(['pull', '--tls-verify=false', seedRef], { timeoutMs: 30_000 });
    const ref = `${server.host}/creds-ns-a/app:p1`;
    await sandbox.podmanOk(['tag', seedRef, ref]);
    await sandbox.podmanOk(['push', '--tls-verify=false', ref], { timeoutMs: 30_000 });
    await sandbox.podmanOk(['rmi', ref]);
    await sandbox.podmanOk(['pull', '--tls-verify=false', ref], { timeoutMs: 30_000 });
  }, 90_000);

  it('the same key cannot push to another namespace', async () => {
    const ref = `${server.host}/creds-ns-b/app:p1`;
    await sandbox.podmanOk(['tag', seedRef, ref]);
    const refused = await sandbox.podman(['push', '--tls-verify=false', ref], { timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/denied|unauthorized/i);
  }, 60_000);

  it('a bad key is refused at login with podman\'s "invalid username/password"', async () => {
    const bad = await sandbox.podman(['login', '--tls-verify=false', '--authfile', join(sandbox.dir, 'bad.json'), '-u', 'iamapikey', '-p', 'wrong', server.host]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid username\/password|credentials are not valid/);
  });

  it('skopeo takes --creds iamapikey, iambearer and iamrefresh', async () => {
    const ref = `docker://${server.host}/creds-ns-a/app:p1`;
    const inspect = (creds: string) => sandbox.skopeo(['inspect', '--tls-verify=false', '--authfile', join(sandbox.dir, 'none.json'), '--creds', creds, ref]);
    const byKey = await inspect(`iamapikey:${readerKey}`);
    expect(byKey.code, byKey.stderr).toBe(0);
    const digest = (JSON.parse(byKey.stdout) as { Digest: string }).Digest;

    const bearer = await tokenFor(server, readerKey);
    const byBearer = await inspect(`iambearer:${bearer}`);
    expect(byBearer.code, byBearer.stderr).toBe(0);
    expect((JSON.parse(byBearer.stdout) as { Digest: string }).Digest).toBe(digest);

    // A refresh token as the IBM CLI gets one (client bx), the way `ibmcloud cr login` uses it.
    const cli = await fetch(`${server.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic Yng6Yng=' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: readerKey }).toString(),
    });
    const refresh = ((await cli.json()) as { refresh_token: string }).refresh_token;
    for (let i = 0; i < 2; i++) {
      const byRefresh = await inspect(`iamrefresh:${refresh}`);
      expect(byRefresh.code, byRefresh.stderr).toBe(0);
    }
    const wrongKind = await inspect(`admin:${readerKey}`);
    expect(wrongKind.code).not.toBe(0);
  }, 60_000);

  it('a Reader can copy the image out but not push a copy in', async () => {
    const out = await sandbox.skopeo(['copy', '--src-tls-verify=false', '--src-creds', `iamapikey:${readerKey}`, `docker://${server.host}/creds-ns-a/app:p1`, `oci:${join(sandbox.dir, 'out')}:v1`]);
    expect(out.code, out.stderr).toBe(0);
    const back = await sandbox.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `iamapikey:${readerKey}`, `oci:${src}:v1`, `docker://${server.host}/creds-ns-a/app:reader`]);
    expect(back.code).not.toBe(0);
  }, 60_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

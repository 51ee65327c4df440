import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliUser, type CliUser } from '../support/cli.js';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { OciLayoutWriter } from '../support/oci-layout.js';
import { recordRequests, serverErrors, type RequestRecorder } from '../support/request-recorder.js';
import { requireTool } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { repoRoot } from '../support/paths.js';

/**
 * The seed's flows with the `berth` CLI and real clients: a service ID made, granted and given a key
 * by the CLI pushes with `podman login`; `cr login --client podman` lets skopeo copy without any
 * password on its command line; skopeo and podman pull through `docker-credential-berth`.
 */
describe('the berth CLI with podman and skopeo', () => {
  let server: TestServer;
  let sandbox: ClientSandbox;
  let admin: CliUser;
  let recorder: RequestRecorder;
  let src: string;

  beforeAll(async () => {
    requireTool('skopeo');
    requireTool('podman');
    server = await startTestServer({ auth: 'iam' });
    recorder = recordRequests(server);
    sandbox = await clientSandbox();
    // The credential helper on the clients' PATH, as `npm install -g .` puts it there.
    const bin = join(sandbox.dir, 'bin');
    await mkdir(bin);
    await symlink(join(repoRoot, 'bin/docker-credential-berth.js'), join(bin, 'docker-credential-berth'));
    sandbox.env.PATH = `${bin}:${process.env.PATH}`;
    admin = await cliUser(sandbox);
    sandbox.env.BERTH_HOME = admin.env.BERTH_HOME;
    const ownerKey = join(admin.home, 'owner.key');
    await writeFile(ownerKey, `${server.berth.ownerApiKey!}\n`, { mode: 0o600 });
    await admin.berthOk(['login', '-a', server.url, '--apikey', `@${ownerKey}`]);
    for (const ns of ['seed-team-a', 'seed-team-b']) await admin.berthOk(['cr', 'namespace-add', ns]);

    src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const image = await layout.writeImage({ layers: [{ entries: [{ path: 'seed.txt', content: `seed flows ${Date.now()}\n` }] }] });
    await layout.tag(image.manifest, 'v1');
    await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', '--dest-creds', `iamapikey:${server.berth.ownerApiKey!}`, `oci:${src}:v1`, `docker://${server.host}/seed-team-a/base:v1`]);
  }, 90_000);

  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('a service ID given Writer on one namespace by the CLI pushes there with podman login, and nowhere else', async () => {
    await admin.berthOk(['iam', 'service-id-create', 'seed-pusher']);
    await admin.berthOk(['iam', 'service-policy-create', 'seed-pusher', '--roles', 'Writer', '--service-name', 'container-registry', '--resource-type', 'namespace', '--resource', 'seed-team-a']);
    const keyFile = join(admin.home, 'key');
    await admin.berthOk(['iam', 'service-api-key-create', 'seed-key', 'seed-pusher', '--file', keyFile]);
    const key = (await readFile(keyFile, 'utf8')).trim();

    const authfile = join(sandbox.dir, 'pusher-auth.json');
    const login = await sandbox.podmanOk(['login', '--tls-verify=false', '--authfile', authfile, '-u', 'iamapikey', '-p', key, server.host]);
    expect(login.stdout).toContain('Login Succeeded');
    const base = `${server.host}/seed-team-a/base:v1`;
    await sandbox.podmanOk(['pull', '--tls-verify=false', '--authfile', authfile, base], { timeoutMs: 30_000 });
    await sandbox.podmanOk(['tag', base, `${server.host}/seed-team-a/pushed:p1`, `${server.host}/seed-team-b/pushed:p1`]);
    await sandbox.podmanOk(['push', '--tls-verify=false', '--authfile', authfile, `${server.host}/seed-team-a/pushed:p1`], { timeoutMs: 30_000 });
    const refused = await sandbox.podman(['push', '--tls-verify=false', '--authfile', authfile, `${server.host}/seed-team-b/pushed:p1`], { timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/denied|unauthorized/i);
    expect((await admin.berthOk(['cr', 'images', '--restrict', 'seed-team-a/pushed'])).stdout).toContain('p1');
  }, 120_000);

  it('cr login --client podman, then skopeo copy with no password on its command line', async () => {
    const login = await admin.berthOk(['cr', 'login', '--client', 'podman']);
    expect(login.stdout).toContain(`Logged in to '${server.host}'.`);
    // skopeo reads the same REGISTRY_AUTH_FILE the CLI wrote to.
    expect(admin.env.REGISTRY_AUTH_FILE).toBe(sandbox.env.REGISTRY_AUTH_FILE);
    const copied = await sandbox.skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${server.host}/seed-team-a/base:v1`, `docker://${server.host}/seed-team-b/copied:c1`], { timeoutMs: 30_000 });
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.command).not.toContain(server.berth.ownerApiKey!);
    const inspected = await sandbox.skopeoOk(['inspect', '--tls-verify=false', `docker://${server.host}/seed-team-b/copied:c1`]);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ Name: `${server.host}/seed-team-b/copied` });
  }, 60_000);

  it('skopeo and podman with credHelpers: berth pull through docker-credential-berth', async () => {
    const authfile = join(sandbox.dir, 'helper-auth.json');
    await writeFile(authfile, JSON.stringify({ credHelpers: { [server.host]: 'berth' } }));
    recorder.clear();
    const inspected = await sandbox.skopeo(['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${server.host}/seed-team-a/base:v1`]);
    expect(inspected.code, inspected.stderr).toBe(0);
    const pulled = await sandbox.podman(['pull', '--tls-verify=false', '--authfile', authfile, `${server.host}/seed-team-b/copied:c1`], { timeoutMs: 30_000 });
    expect(pulled.code, pulled.stderr).toBe(0);
    // The helper handed them IAM access tokens (iambearer), which the token endpoint took.
    expect(recorder.requests.filter((r) => r.url.startsWith('/oauth/token')).map((r) => r.status)).toContain(200);
    // The file still holds no credentials of its own.
    expect(JSON.parse(await readFile(authfile, 'utf8'))).toEqual({ credHelpers: { [server.host]: 'berth' } });
    // Logged out, the helper has nothing to give: the pull is refused.
    await admin.berthOk(['logout']);
    const refused = await sandbox.skopeo(['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${server.host}/seed-team-a/base:v1`]);
    expect(refused.code).not.toBe(0);
  }, 90_000);

  it('answered no request with a 5xx', () => {
    expect(serverErrors(recorder.all)).toEqual([]);
  });
});

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliUser, oneLineError, type CliUser } from '../support/cli.js';
import { basicAuth, ownerSession, tokenFor } from '../support/iam.js';
import { OciClient } from '../support/oci-client.js';
import { run } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { repoRoot } from '../support/paths.js';

/** The `berth` CLI as a subprocess against a real server, every command and its main failure. */
describe('berth CLI', () => {
  let server: TestServer;
  let user: CliUser;
  let keyFile: string;
  let accountId: string;

  const json = <T>(text: string) => JSON.parse(text) as T;
  const config = () => json<Record<string, unknown>>(readFileSync(join(user.env.BERTH_HOME!, 'config.json'), 'utf8'));

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (c) => void (c.regions = [{ name: 'us-south' }, { name: 'eu-de', port: 0 }]) });
    user = await cliUser();
    keyFile = join(user.home, 'owner.key');
    writeFileSync(keyFile, `${server.berth.ownerApiKey!}\n`, { mode: 0o600 });
    accountId = (await ownerSession(server)).accountId;
    await user.berthOk(['login', '-a', server.url, '--apikey', `@${keyFile}`]);
  }, 60_000);
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('session', () => {
    it('login keeps a refresh token, not the key, in a 0600 file; target shows where commands go', async () => {
      const stored = config();
      expect(stored).toMatchObject({ url: server.url, account: accountId, refreshToken: expect.any(String) });
      expect(JSON.stringify(stored)).not.toContain(server.berth.ownerApiKey!);
      expect(statSync(join(user.env.BERTH_HOME!, 'config.json')).mode & 0o777).toBe(0o600);
      const target = json<{ account: string; region: string; registry: string }>((await user.berthOk(['target', '--output', 'json'])).stdout);
      expect(target).toMatchObject({ account: accountId, region: 'us-south', registry: server.host });
      expect((await user.berthOk(['target'])).stdout).toMatch(/Account\s+\S+/);
    });

    it('targets another region, and refuses unknown regions and other accounts', async () => {
      const eu = json<{ registry: string }>((await user.berthOk(['target', '-r', 'eu-de', '--output', 'json'])).stdout);
      expect(eu.registry).toBe(server.regions['eu-de']!.host);
      expect((await user.berthOk(['cr', 'region'])).stdout).toContain('eu-de');
      expect(oneLineError(await user.berth(['target', '-r', 'mars']))).toContain('not one of this server');
      expect(oneLineError(await user.berth(['target', '-c', '0'.repeat(32)]))).toContain('belongs to account');
      await user.berthOk(['cr', 'region-set', 'us-south']);
    });

    it('prints its version with --version and -v', async () => {
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      for (const flag of ['--version', '-v']) expect((await user.berthOk([flag])).stdout).toBe(`${version}\n`);
    });

    it('fails in one line: bad key, unreachable server, bad URL, bad flag, unknown output format', async () => {
      const other = await cliUser();
      expect(oneLineError(await other.berth(['login', '-a', server.url, '--apikey', 'not-a-key']))).toMatch(/400 .*API key could not be found/);
      expect(oneLineError(await other.berth(['login', '-a', 'http://127.0.0.1:1', '--apikey', 'x']))).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
      expect(oneLineError(await other.berth(['login', '-a', 'ftp://x', '--apikey', 'x']))).toContain('http(s) URL');
      expect(oneLineError(await other.berth(['login', '-a', server.url, '--apikey', '@/no/such/file']))).toContain('cannot read the API key');
      expect(oneLineError(await other.berth(['login', '-a', server.url]))).toContain('an API key is needed');
      expect(oneLineError(await other.berth(['iam', 'api-keys']))).toContain('not logged in');
      expect(oneLineError(await user.berth(['iam', 'api-keys', '--output', 'yaml']))).toContain('--output');
      expect(oneLineError(await user.berth(['iam', 'api-keys', '--colour']))).toBe("berth: unknown option '--colour'");
      expect(oneLineError(await user.berth(['bogus']))).toMatch(/^berth: unknown command 'bogus'/);
      expect(oneLineError(await user.berth(['serve', '--port']))).toBe("berth: option '--port <n>' argument missing");
    });

    it('logs in from BERTH_APIKEY, keeps the key only with --save-apikey, and logs out', async () => {
      const other = await cliUser();
      await other.berthOk(['login', '-a', server.url], { env: { BERTH_APIKEY: server.berth.ownerApiKey! } });
      await other.berthOk(['login', '-a', server.url, '--apikey', server.berth.ownerApiKey!, '--save-apikey']);
      expect(readFileSync(join(other.env.BERTH_HOME!, 'config.json'), 'utf8')).toContain(server.berth.ownerApiKey!);
      expect((await other.berthOk(['logout'])).stdout).toContain('Logged out');
      expect(oneLineError(await other.berth(['target']))).toContain('not logged in');
    });

    it('renews its access token with the refresh token, also when several commands need it at once', async () => {
      const before = config();
      writeFileSync(join(user.env.BERTH_HOME!, 'config.json'), JSON.stringify({ ...before, accessTokenExpires: 0 }), { mode: 0o600 });
      const runs = await Promise.all([1, 2, 3].map(() => user.berth(['iam', 'api-keys', '--output', 'json'])));
      for (const result of runs) expect(result.code, result.stderr).toBe(0);
      const after = config();
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(after.accessTokenExpires).toBeGreaterThan(Date.now());
    });

    it('says the session ended once its API key is gone', async () => {
      const other = await cliUser();
      const key = await server.berth.iam.apiKeys.create({ accountId, iamId: (await ownerSession(server)).iamId, name: 'doomed', createdBy: 'test' });
      await other.berthOk(['login', '-a', server.url, '--apikey', key.secret]);
      await server.berth.iam.apiKeys.remove(key.record.id);
      const stored = json<Record<string, unknown>>(readFileSync(join(other.env.BERTH_HOME!, 'config.json'), 'utf8'));
      writeFileSync(join(other.env.BERTH_HOME!, 'config.json'), JSON.stringify({ ...stored, accessTokenExpires: 0 }));
      expect(oneLineError(await other.berth(['iam', 'api-keys']))).toContain('run berth login again');
    });
  });

  describe('iam', () => {
    it('api-key-create prints the key once, or writes it alone (0600) with --file; api-keys, api-key, lock, unlock, delete', async () => {
      const printed = await user.berthOk(['iam', 'api-key-create', 'printed', '-d', 'shown once']);
      const value = /API key \(shown once, keep it safe\): (\S+)/.exec(printed.stdout)?.[1];
      await expect(tokenFor(server, value!)).resolves.toMatch(/^ey/);

      const file = join(user.home, 'filed.key');
      const filed = await user.berthOk(['iam', 'api-key-create', 'filed', '--file', file]);
      const secret = readFileSync(file, 'utf8');
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(filed.stdout + filed.stderr).not.toContain(secret.trim());

      const asJson = json<{ apikey: string; name: string }>((await user.berthOk(['iam', 'api-key-create', 'scripted', '--output', 'json'])).stdout);
      expect(asJson).toMatchObject({ name: 'scripted', apikey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

      const listed = json<Array<{ name: string }>>((await user.berthOk(['iam', 'api-keys', '--output', 'json'])).stdout).map((k) => k.name);
      expect(listed).toEqual(expect.arrayContaining(['printed', 'filed', 'scripted']));
      expect((await user.berthOk(['iam', 'api-keys'])).stdout.split('\n')[0]).toMatch(/^Name\s+ID\s+Description/);
      expect((await user.berthOk(['iam', 'api-key', 'printed'])).stdout).toMatch(/Description\s+shown once/);

      await user.berthOk(['iam', 'api-key-lock', 'filed']);
      expect(json<{ locked: boolean }>((await user.berthOk(['iam', 'api-key', 'filed', '--output', 'json'])).stdout).locked).toBe(true);
      expect(oneLineError(await user.berth(['iam', 'api-key-delete', 'filed', '-f']))).toContain('409');
      await user.berthOk(['iam', 'api-key-unlock', 'filed']);
      // Without a terminal to ask on, a destructive command needs -f.
      expect(oneLineError(await user.berth(['iam', 'api-key-delete', 'filed']))).toContain('add -f');
      await user.berthOk(['iam', 'api-key-delete', 'filed', '-f']);
      await expect(tokenFor(server, secret.trim())).rejects.toThrow(/400/);
      expect(oneLineError(await user.berth(['iam', 'api-key', 'filed']))).toContain('not found');
    });

    it('asks on a terminal before deleting, and does nothing unless told yes', async () => {
      await user.berthOk(['iam', 'api-key-create', 'asked']);
      // `script` gives the command a terminal, fed from our stdin.
      const onTerminal = (answer: string) =>
        run('script', ['-qec', `${process.execPath} ${join(repoRoot, 'bin/berth.js')} iam api-key-delete asked`, '/dev/null'], { input: answer, env: user.env, timeoutMs: 30_000 });
      const no = await onTerminal('n\n');
      expect(no.stdout).toMatch(/Delete API key asked .*\[y\/N\]/);
      expect(no.stdout).toContain('berth: cancelled');
      expect((await user.berthOk(['iam', 'api-key', 'asked'])).stdout).toContain('asked');
      const yes = await onTerminal('y\n');
      expect(yes.stdout).toContain('API key asked deleted.');
      expect(oneLineError(await user.berth(['iam', 'api-key', 'asked']))).toContain('not found');
    });

    it('service IDs, their keys and policies; policy-delete', async () => {
      const sid = json<{ id: string; iam_id: string }>((await user.berthOk(['iam', 'service-id-create', 'robot', '-d', 'a robot', '--output', 'json'])).stdout);
      expect((await user.berthOk(['iam', 'service-ids'])).stdout).toContain('robot');
      expect(json<{ id: string }>((await user.berthOk(['iam', 'service-id', 'robot', '--output', 'json'])).stdout).id).toBe(sid.id);
      const file = join(user.home, 'robot.key');
      await user.berthOk(['iam', 'service-api-key-create', 'robot-key', 'robot', '--file', file]);
      expect(json<unknown[]>((await user.berthOk(['iam', 'service-api-keys', sid.id, '--output', 'json'])).stdout)).toHaveLength(1);

      await user.berthOk(['cr', 'namespace-add', 'robot-ns']);
      const created = json<{ id: string }>(
        (await user.berthOk(['iam', 'service-policy-create', 'robot', '--roles', 'Writer', '--service-name', 'container-registry', '--resource-type', 'namespace', '--resource', 'robot-ns', '--output', 'json'])).stdout,
      );
      const listed = (await user.berthOk(['iam', 'service-policies', 'robot'])).stdout;
      expect(listed).toContain(created.id);
      expect(listed).toContain('resource=robot-ns');
      // The key now pushes there, and only there.
      const pusher = basicAuth(readFileSync(file, 'utf8').trim());
      await new OciClient(server.url, pusher).pushImage('robot-ns/app', 'v1');
      expect((await fetch(`${server.url}/v2/other-ns/app/blobs/uploads/`, { method: 'POST', headers: { authorization: pusher } })).status).toBe(403);

      expect(oneLineError(await user.berth(['iam', 'service-policy-create', 'robot', '--roles', 'Owner', '--service-name', 'container-registry']))).toContain('role Owner');
      expect(oneLineError(await user.berth(['iam', 'service-policy-create', 'robot', '--roles', 'Reader', '--service-name', 'container-registry', '--resource', 'x']))).toContain('go together');
      expect(oneLineError(await user.berth(['iam', 'service-policy-create', 'ghost', '--roles', 'Reader', '--service-name', 'container-registry']))).toContain('not found');
      await user.berthOk(['iam', 'policy-delete', created.id, '-f']);
      expect((await user.berthOk(['iam', 'service-policies', 'robot'])).stdout).toContain('No policies.');
      expect(oneLineError(await user.berth(['iam', 'policy-delete', created.id, '-f']))).toContain('404');
      await user.berthOk(['iam', 'service-id-delete', 'robot', '-f']);
      expect(oneLineError(await user.berth(['iam', 'service-id', 'robot']))).toContain('not found');
    });

    it('users with their first key, user policies, accounts (operator)', async () => {
      const file = join(user.home, 'dev.key');
      const created = await user.berthOk(['iam', 'user-create', 'dev@example.com', '--name', 'Dev Eloper', '--file', file]);
      expect(created.stdout).toContain('User dev@example.com');
      await expect(tokenFor(server, readFileSync(file, 'utf8').trim())).resolves.toMatch(/^ey/);
      expect((await user.berthOk(['iam', 'users'])).stdout).toContain('dev@example.com');
      await user.berthOk(['iam', 'user-policy-create', 'dev@example.com', '--roles', 'Reader', '--service-name', 'container-registry', '--region', 'us-south']);
      expect((await user.berthOk(['iam', 'user-policies', 'dev@example.com'])).stdout).toContain('region=us-south');
      expect(oneLineError(await user.berth(['iam', 'user-policies', 'nobody@example.com']))).toContain('not found');

      const accountFile = join(user.home, 'tenant.key');
      const account = await user.berthOk(['iam', 'account-create', 'tenant', '--owner-email', 'lead@tenant.example', '--file', accountFile]);
      expect(account.stdout).toMatch(/Account tenant \([0-9a-f]{32}\) created/);
      expect(json<Array<{ name: string }>>((await user.berthOk(['iam', 'accounts', '--output', 'json'])).stdout).map((a) => a.name)).toContain('tenant');
      // The tenant's owner is no operator.
      const tenant = await cliUser();
      await tenant.berthOk(['login', '-a', server.url, '--apikey', `@${accountFile}`]);
      expect(oneLineError(await tenant.berth(['iam', 'account-create', 'nested', '--owner-email', 'x@example.com']))).toContain('403');
      expect(oneLineError(await tenant.berth(['iam', 'user-policies', 'dev@example.com']))).toContain('not found');
    });
  });

  describe('cr', () => {
    it('namespaces, images, image-tag and image-rm in the targeted region', async () => {
      await user.berthOk(['cr', 'namespace-add', 'cli-images']);
      expect(oneLineError(await user.berth(['cr', 'namespace-add', 'X!']))).toContain('not valid');
      expect((await user.berthOk(['cr', 'namespaces'])).stdout).toContain('cli-images');
      expect(json<string[]>((await user.berthOk(['cr', 'namespace-list', '--output', 'json'])).stdout)).toContain('cli-images');
      const owner = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
      await owner.pushImage('cli-images/app', '1.0');
      const images = (await user.berthOk(['cr', 'images', '--restrict', 'cli-images'])).stdout;
      expect(images).toMatch(new RegExp(`${server.host}/cli-images/app\\s+1\\.0`));
      await user.berthOk(['cr', 'image-tag', 'cli-images/app:1.0', 'cli-images/app:stable']);
      const tags = json<Array<{ tag: string }>>((await user.berthOk(['cr', 'images', '--restrict', 'cli-images/app', '--output', 'json'])).stdout).map((r) => r.tag);
      expect(tags.sort()).toEqual(['1.0', 'stable']);
      expect(oneLineError(await user.berth(['cr', 'image-rm', 'cli-images/app:1.0']))).toContain('add -f');
      await user.berthOk(['cr', 'image-rm', `${server.host}/cli-images/app:1.0`, '-f']);
      expect((await user.berthOk(['cr', 'images', '--restrict', 'cli-images'])).stdout).toContain('No images.');
      expect(oneLineError(await user.berth(['cr', 'image-rm', 'cli-images/app:gone', '-f']))).toContain('404');
      await user.berthOk(['cr', 'namespace-rm', 'cli-images', '-f']);
      expect((await user.berthOk(['cr', 'namespaces'])).stdout).not.toContain('cli-images');
      // Another region has namespaces of its own.
      await user.berthOk(['cr', 'region-set', 'eu-de']);
      expect((await user.berthOk(['cr', 'namespaces'])).stdout).toContain("No namespaces in region 'eu-de'");
      await user.berthOk(['cr', 'region-set', 'us-south']);
    });

    it('cr login writes iamrefresh credentials into podman\'s and docker\'s files, keeping their other entries', async () => {
      const other = { auths: { 'elsewhere.example': { auth: 'b3RoZXI6c2VjcmV0' } }, credHelpers: { 'x.example': 'x' } };
      writeFileSync(user.env.REGISTRY_AUTH_FILE!, JSON.stringify(other));
      await mkdir(user.env.DOCKER_CONFIG!, { recursive: true });
      writeFileSync(join(user.env.DOCKER_CONFIG!, 'config.json'), JSON.stringify(other));
      for (const [client, file] of [['podman', user.env.REGISTRY_AUTH_FILE!], ['docker', join(user.env.DOCKER_CONFIG!, 'config.json')]] as const) {
        // No Docker daemon for this user: the entry is written directly.
        const login = await user.berthOk(['cr', 'login', '--client', client], { env: { DOCKER_HOST: `unix://${join(user.home, 'no-docker.sock')}` } });
        expect(login.stdout).toContain(`Logging '${client}' in to '${server.host}'...`);
        const written = json<{ auths: Record<string, { auth: string }>; credHelpers: unknown }>(readFileSync(file, 'utf8'));
        expect(written.auths['elsewhere.example']).toEqual(other.auths['elsewhere.example']);
        expect(written.credHelpers).toEqual(other.credHelpers);
        const [username, password] = Buffer.from(written.auths[server.host]!.auth, 'base64').toString().split(':');
        expect(username).toBe('iamrefresh');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        // The password is a refresh token the registry takes, again and again.
        for (let i = 0; i < 2; i++) expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth(password!, 'iamrefresh') } })).status).toBe(200);
      }
      expect(oneLineError(await user.berth(['cr', 'login', '--client', 'rkt']))).toContain('--client');
    });
  });

  describe('the main failure of each remaining command', () => {
    it('answers in one line: not logged in, not found, forbidden, conflict, bad reference', async () => {
      const nobody = await cliUser();
      const robot = await cliUser();
      const sid = await server.berth.iam.serviceIds.create({ accountId, name: 'powerless', createdBy: 'test', apiKey: { name: 'k' } });
      await robot.berthOk(['login', '-a', server.url, '--apikey', sid.apiKey!.secret]);
      await user.berthOk(['iam', 'user-create', 'twice@example.com']);
      const cases: Array<[CliUser, string[], RegExp]> = [
        [nobody, ['iam', 'accounts'], /not logged in/],
        [nobody, ['cr', 'region'], /not logged in/],
        [nobody, ['cr', 'images'], /not logged in/],
        [robot, ['iam', 'api-key-create', 'mine'], /403/],
        [robot, ['iam', 'service-id-create', 'more'], /403/],
        [robot, ['iam', 'users'], /403/],
        [robot, ['cr', 'namespace-add', 'robot-made'], /403/],
        [user, ['iam', 'api-key-lock', 'ghost'], /not found/],
        [user, ['iam', 'service-api-key-create', 'k', 'ghost'], /not found/],
        [user, ['iam', 'service-api-keys', 'ghost'], /not found/],
        [user, ['iam', 'service-policies', 'ghost'], /not found/],
        [user, ['iam', 'user-policy-create', 'nobody@example.com', '--roles', 'Reader', '--service-name', 'container-registry'], /not found/],
        [user, ['iam', 'user-create', 'twice@example.com'], /409/],
        [user, ['cr', 'namespace-rm', 'ghost-namespace', '-f'], /404/],
        [user, ['cr', 'image-tag', 'ghost-ns/a:1', 'elsewhere.example/ghost-ns/b:2'], /400/],
      ];
      for (const [who, args, message] of cases) {
        expect(oneLineError(await who.berth(args)), args.join(' ')).toMatch(message);
      }
      // A service ID with no roles lists nothing rather than failing.
      expect((await robot.berthOk(['cr', 'namespaces'])).stdout).toContain('No namespaces');
    });
  });

  describe('docker-credential-berth', () => {
    it('hands out a fresh iambearer token for the logged-in registries only; store and erase keep nothing', async () => {
      const got = await user.helper('get', `http://${server.host}\n`);
      expect(got.code, got.stdout).toBe(0);
      const credentials = json<{ ServerURL: string; Username: string; Secret: string }>(got.stdout);
      expect(credentials).toMatchObject({ ServerURL: `http://${server.host}`, Username: 'iambearer' });
      expect((await fetch(`${server.url}/v2/`, { headers: { authorization: basicAuth(credentials.Secret, 'iambearer') } })).status).toBe(200);
      expect((await user.helper('get', server.regions['eu-de']!.host)).code).toBe(0);

      const elsewhere = await user.helper('get', 'https://index.docker.io/v1/');
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stdout.trim()).toBe('credentials not found in native keychain');
      expect(json<Record<string, string>>((await user.helper('list', '')).stdout)).toEqual({ [server.host]: 'iambearer', [server.regions['eu-de']!.host]: 'iambearer' });
      expect((await user.helper('store', JSON.stringify({ ServerURL: server.host, Username: 'x', Secret: 'y' }))).code).toBe(0);
      expect((await user.helper('erase', server.host)).code).toBe(0);
      expect((await user.helper('bogus', '')).code).toBe(1);
      const stranger = await cliUser();
      expect((await stranger.helper('get', server.host)).stdout.trim()).toBe('credentials not found in native keychain');
    });
  });
});

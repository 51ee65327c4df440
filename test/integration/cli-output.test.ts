import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliUser, oneLineError, type CliUser } from '../support/cli.js';
import { basicAuth, ownerSession } from '../support/iam.js';
import { OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Every table writes a moment one way (src/cli/date-time.ts). */
const MOMENT = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/;

/** What the CLI shows people (issue 12): who is logged in, where, sizes and dates, the service a typo names. */
describe('berth CLI output', () => {
  let server: TestServer;
  let serverUp = true;
  let user: CliUser;
  let accountId: string;

  const json = <T>(text: string) => JSON.parse(text) as T;
  const lineOf = (text: string, word: string) => text.split('\n').find((line) => line.includes(word)) ?? '';

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (c) => void (c.regions = [{ name: 'us-south' }, { name: 'eu-de', port: 0 }]) });
    user = await cliUser();
    const keyFile = join(user.home, 'owner.key');
    writeFileSync(keyFile, `${server.berth.ownerApiKey!}\n`, { mode: 0o600 });
    accountId = (await ownerSession(server)).accountId;
    await user.berthOk(['login', '-a', server.url, '--apikey', `@${keyFile}`]);
  }, 60_000);
  afterAll(async () => {
    if (serverUp) await server.close();
  });

  it('login and target name the user by e-mail, and a service ID by name and ID', async () => {
    const other = await cliUser();
    const login = await other.berthOk(['login', '-a', server.url, '--apikey', server.berth.ownerApiKey!]);
    expect(login.stdout).toMatch(/^User\s+owner@berth\.local$/m);
    expect((await user.berthOk(['target'])).stdout).toMatch(/^User\s+owner@berth\.local$/m);
    const target = json<Record<string, unknown>>((await user.berthOk(['target', '--output', 'json'])).stdout);
    expect(target).toMatchObject({ account: accountId, user: 'owner@berth.local', iam_id: expect.stringMatching(/^BERTHid-/) });

    const sid = await server.berth.iam.serviceIds.create({ accountId, name: 'shown-robot', createdBy: 'test', apiKey: { name: 'k' } });
    const robot = await cliUser();
    const robotLogin = await robot.berthOk(['login', '-a', server.url, '--apikey', sid.apiKey!.secret]);
    expect(robotLogin.stdout).toMatch(/^Service ID\s+shown-robot \(ServiceId-[0-9a-f-]+\)$/m);
    expect(json<Record<string, unknown>>((await robot.berthOk(['target', '--output', 'json'])).stdout)).toMatchObject({
      service_id: { id: expect.stringMatching(/^ServiceId-/), name: 'shown-robot' },
    });
  });

  it('names a misspelt --service-name as the mistake, with the services there are', async () => {
    await user.berthOk(['iam', 'service-id-create', 'typo-robot']);
    for (const roles of ['Reader', 'crn:v1:bluemix:public:iam::::serviceRole:Reader']) {
      const error = oneLineError(await user.berth(['iam', 'service-policy-create', 'typo-robot', '--roles', roles, '--service-name', 'container-registy']));
      expect(error).toMatch(/^berth: unknown service "container-registy" \(known: container-registry, iam-identity, /);
    }
    const typo = oneLineError(await user.berth(['iam', 'user-policy-create', 'owner@berth.local', '--roles', 'Reader', '--service-name', 'container-registy']));
    expect(typo).toContain('unknown service "container-registy"');
    // A known service with a wrong role still blames the role.
    expect(oneLineError(await user.berth(['iam', 'service-policy-create', 'typo-robot', '--roles', 'Owner', '--service-name', 'container-registry']))).toContain('role Owner');
  });

  it('cr images shows a small image in bytes, in the units cr quota uses', async () => {
    await user.berthOk(['cr', 'namespace-add', 'sizes']);
    await new OciClient(server.url, basicAuth(server.berth.ownerApiKey!)).pushImage('sizes/app', '1.0');
    const [row] = json<Array<{ size: number }>>((await user.berthOk(['cr', 'images', '--restrict', 'sizes', '--output', 'json'])).stdout);
    expect(row!.size).toBeGreaterThan(0);
    expect(row!.size).toBeLessThan(1024);
    const table = (await user.berthOk(['cr', 'images', '--restrict', 'sizes'])).stdout;
    expect(lineOf(table, 'sizes/app')).toMatch(new RegExp(`\\s${row!.size} B$`));
    expect(table).not.toContain('MB');
  });

  it('writes dates one way in every table: images, API keys, service IDs', async () => {
    const images = (await user.berthOk(['cr', 'images', '--restrict', 'sizes'])).stdout;
    expect(lineOf(images, 'sizes/app')).toMatch(MOMENT);
    const keys = (await user.berthOk(['iam', 'api-keys'])).stdout;
    expect(lineOf(keys, 'owner')).toMatch(MOMENT);
    expect((await user.berthOk(['iam', 'api-key', 'owner'])).stdout).toMatch(new RegExp(`^Created\\s+${MOMENT.source}$`, 'm'));
    await user.berthOk(['iam', 'service-id-create', 'dated']);
    expect(lineOf((await user.berthOk(['iam', 'service-ids'])).stdout, 'dated')).toMatch(MOMENT);
    expect((await user.berthOk(['iam', 'service-id', 'dated'])).stdout).toMatch(new RegExp(`^Created\\s+${MOMENT.source}$`, 'm'));
    // Scripts keep the server's own values.
    expect(json<Array<{ created_at: string }>>((await user.berthOk(['iam', 'api-keys', '--output', 'json'])).stdout)[0]!.created_at).not.toMatch(/UTC/);
  });

  // Last: it stops the server.
  it('shows the target with the server down; only setting one needs it, and says so in one line', async () => {
    await user.berthOk(['target', '-r', 'eu-de']);
    const euHost = server.regions['eu-de']!.host;
    await server.close();
    serverUp = false;
    const shown = await user.berthOk(['target']);
    expect(shown.stdout).toMatch(/^Region\s+eu-de$/m);
    expect(shown.stdout).toMatch(new RegExp(`^Registry\\s+${euHost.replaceAll('.', '\\.')}$`, 'm'));
    expect(shown.stdout).toMatch(/^User\s+owner@berth\.local$/m);
    expect(json<Record<string, unknown>>((await user.berthOk(['target', '--output', 'json'])).stdout)).toMatchObject({ region: 'eu-de', registry: euHost });
    expect((await user.berthOk(['cr', 'region'])).stdout).toMatch(/^Region\s+eu-de$/m);
    expect(oneLineError(await user.berth(['target', '-r', 'us-south']))).toMatch(/^berth: cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(oneLineError(await user.berth(['cr', 'region-set', 'us-south']))).toMatch(/^berth: cannot reach /);
    // The failed set changed nothing.
    expect((await user.berthOk(['target'])).stdout).toMatch(/^Region\s+eu-de$/m);
  });
});

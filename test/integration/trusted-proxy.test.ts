import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth, registryToken } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseChallenge } from '../support/token-flow.js';

/** What a proxy in front of Berth adds to a request (the test itself plays the proxy, at 127.0.0.1). */
function forwarded(headers: { for?: string; proto?: string; host?: string }): Record<string, string> {
  return {
    ...(headers.for !== undefined ? { 'x-forwarded-for': headers.for } : {}),
    ...(headers.proto !== undefined ? { 'x-forwarded-proto': headers.proto } : {}),
    ...(headers.host !== undefined ? { 'x-forwarded-host': headers.host } : {}),
  };
}

const randomAddress = () => `198.51.100.${1 + Math.floor(Math.random() * 254)}`;

/** A Berth with IAM, a second region told apart by host, and its request log kept. */
async function proxiedServer(trustedProxies: string[]): Promise<TestServer & { log: Array<Record<string, unknown>> }> {
  const log: Array<Record<string, unknown>> = [];
  const server = await startTestServer({
    auth: 'iam',
    configure: (config) => {
      config.logLevel = 'info';
      config.trustedProxies = trustedProxies;
      config.regions = [{ name: 'us-south' }, { name: 'eu-gb', host: 'uk.reg.example' }];
    },
    logSink: (line) => log.push(JSON.parse(line) as Record<string, unknown>),
  });
  await addNamespaces(server, 'proxied');
  return Object.assign(server, { log });
}

/** A login with a bad key, as sent through the proxy. */
async function badLogin(server: TestServer, headers: Record<string, string>): Promise<number> {
  // A fresh wrong key each time: the same one retried is throttled on its own, from any address.
  const response = await fetch(`${server.url}/oauth/token?service=registry`, { headers: { authorization: basicAuth(randomBytes(32).toString('base64url')), ...headers } });
  await response.body?.cancel();
  return response.status;
}

/** The region of the registry token the owner gets through the proxy. */
async function tokenRegion(server: TestServer, headers: Record<string, string>): Promise<string> {
  const response = await fetch(`${server.url}/oauth/token?service=registry`, { headers: { ...headers, authorization: basicAuth(server.berth.ownerApiKey!) } });
  const { token } = (await response.json()) as { token: string };
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { region: string }).region;
}

/** The `remote` of the request log line of the last request to `path`. */
function remoteOf(server: { log: Array<Record<string, unknown>> }, path: string): unknown {
  return server.log.filter((line) => line.msg === 'request' && String(line.url).startsWith(path)).at(-1)?.remote;
}

// Unset, or naming proxies other than the peer (the test at 127.0.0.1): the headers are the client's own words.
describe.each([
  ['unset', []],
  ['10.0.0.0/8, not the peer', ['10.0.0.0/8']],
])('BERTH_TRUSTED_PROXIES %s: X-Forwarded-* are ignored', (_label, trusted: string[]) => {
  let server: Awaited<ReturnType<typeof proxiedServer>>;
  beforeAll(async () => void (server = await proxiedServer(trusted)));
  afterAll(async () => server.close());

  it('neither the realm nor the region follows X-Forwarded-Proto and -Host', async () => {
    const headers = forwarded({ proto: 'https', host: 'uk.reg.example' });
    const challenge = parseChallenge((await fetch(`${server.url}/v2/`, { headers })).headers.get('www-authenticate'));
    expect(challenge?.realm).toBe(`${server.url}/oauth/token`);
    expect(await tokenRegion(server, headers)).toBe('us-south');
  });

  // Last: it uses up the failures 127.0.0.1 may make this minute.
  it('a client cannot choose its address: 25 bad logins with random X-Forwarded-For are throttled on the real one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push(await badLogin(server, forwarded({ for: randomAddress() })));
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    expect(remoteOf(server, '/oauth/token')).toBe('127.0.0.1');
  });
});

describe('BERTH_TRUSTED_PROXIES=127.0.0.1: the proxy says who the client is and which URL it used', () => {
  let server: Awaited<ReturnType<typeof proxiedServer>>;
  beforeAll(async () => void (server = await proxiedServer(['127.0.0.1'])));
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  it('throttles the forwarded address: one client failing does not lock out another behind the same proxy', async () => {
    const failing = forwarded({ for: '203.0.113.7' });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push(await badLogin(server, failing));
    expect(statuses.at(-1)).toBe(429);
    expect(remoteOf(server, '/oauth/token')).toBe('203.0.113.7');
    expect((await registryToken(server.url, basicAuth(server.berth.ownerApiKey!))).status).toBe(200);
    const other = forwarded({ for: '203.0.113.8' });
    expect(await badLogin(server, other)).toBe(401);
    const good = await fetch(`${server.url}/oauth/token?service=registry`, { headers: { ...other, authorization: basicAuth(server.berth.ownerApiKey!) } });
    expect(good.status).toBe(200);
    expect(remoteOf(server, '/oauth/token')).toBe('203.0.113.8');
    // The proxy appends the address it saw; what the client wrote before it is not believed.
    expect(await badLogin(server, forwarded({ for: '203.0.113.7, 203.0.113.9' }))).toBe(401);
    expect(remoteOf(server, '/oauth/token')).toBe('203.0.113.9');
  });

  it('builds the realm from X-Forwarded-Proto and -Host; Locations stay relative, so they resolve against that URL', async () => {
    const headers = forwarded({ for: '203.0.113.20', proto: 'https', host: 'registry.example' });
    const challenge = parseChallenge((await fetch(`${server.url}/v2/proxied/app/tags/list`, { headers })).headers.get('www-authenticate'));
    expect(challenge).toEqual({ realm: 'https://registry.example/oauth/token', service: 'registry', scope: 'repository:proxied/app:pull' });
    const upload = await fetch(`${server.url}/v2/proxied/app/blobs/uploads/`, {
      method: 'POST',
      headers: { ...headers, authorization: basicAuth(server.berth.ownerApiKey!) },
    });
    expect(upload.status).toBe(202);
    expect(upload.headers.get('location')).toMatch(/^\/v2\/proxied\/app\/blobs\/uploads\/[^/]+$/);
    expect(new URL(upload.headers.get('location')!, 'https://registry.example/v2/proxied/app/blobs/uploads/').origin).toBe('https://registry.example');
  });

  it('the forwarded host chooses the region, and the realm stays on it', async () => {
    const headers = forwarded({ proto: 'https', host: 'uk.reg.example' });
    const challenge = parseChallenge((await fetch(`${server.url}/v2/`, { headers })).headers.get('www-authenticate'));
    expect(challenge?.realm).toBe('https://uk.reg.example/oauth/token');
    expect(await tokenRegion(server, headers)).toBe('eu-gb');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ownerSession, registryToken } from '../support/iam.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** One id per request: in the X-Request-Id header, the error body of each surface and the log line. */
describe('request ids', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (config) => void (config.logLevel = 'info'), logSink: (line) => lines.push(line) });
  });
  afterAll(async () => server.close());

  function logged(id: string): Record<string, unknown> | undefined {
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.reqId === id && entry.msg === 'request');
  }

  const cases: Array<[string, string, RequestInit, (body: Record<string, any>) => unknown]> = [
    ['the Identity API', '/v1/apikeys/nope', { headers: { authorization: 'Bearer x' } }, (body) => body.trace],
    ['the Policy API', '/v1/policies', { headers: { authorization: 'Bearer x' } }, (body) => body.trace],
    ['the token service', '/identity/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nope' }, (body) => body.context.requestId],
    ['the management API', '/api/v1/namespaces', { headers: { authorization: 'Bearer x' } }, (body) => body['request-id']],
  ];
  for (const [surface, path, init, idOf] of cases) {
    it(`${surface}: the error body names the request's id, as its log line does`, async () => {
      const response = await fetch(`${server.url}${path}`, init);
      expect(response.status).toBeGreaterThanOrEqual(400);
      const id = response.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(String(idOf((await response.json()) as Record<string, any>)).replaceAll('-', '')).toBe(id.replaceAll('-', ''));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(logged(id)).toMatchObject({ url: path, status: response.status });
    });
  }

  it('the registry carries it in the header beside the OCI error body', async () => {
    const response = await fetch(`${server.url}/v2/`);
    expect(response.status).toBe(401);
    const id = response.headers.get('x-request-id')!;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged(id)).toMatchObject({ url: '/v2/', status: 401 });
  });

  it('the log line says who the request proved to be and how, never with what', async () => {
    const session = await ownerSession(server);
    const key = server.berth.ownerApiKey!;
    const { token } = (await registryToken(server.url, basicAuth(key), ['registry:catalog:*'])).body;
    const asked: Array<[RequestInit, string, string | undefined]> = [
      [{}, 'anonymous', undefined],
      [{ headers: { authorization: basicAuth(key) } }, 'apikey', session.iamId],
      [{ headers: { authorization: `Bearer ${token}` } }, 'registry-token', session.iamId],
    ];
    for (const [init, auth, principal] of asked) {
      const response = await fetch(`${server.url}/v2/_catalog`, init);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const line = logged(response.headers.get('x-request-id')!)!;
      expect([line.auth, line.principal]).toEqual([auth, principal]);
    }
    const iam = await fetch(`${server.url}/v1/apikeys?account_id=${session.accountId}`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(iam.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged(iam.headers.get('x-request-id')!)).toMatchObject({ auth: 'iam-token', principal: session.iamId });
    expect(lines.join('\n')).not.toContain(key);
    expect(lines.join('\n')).not.toContain(token!);
  });
});

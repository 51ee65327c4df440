import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});

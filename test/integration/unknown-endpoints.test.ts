import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * A path or method no route serves answers in the wire format of the surface the path belongs
 * to, whatever body came with it (an empty JSON body, as IBM's SDKs send, or broken JSON).
 */
describe('unknown paths and methods', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  const bodies: Array<[string, string | undefined]> = [
    ['no body', undefined],
    ['an empty JSON body', ''],
    ['broken JSON', '{"name":'],
  ];

  async function send(method: string, path: string, body: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  for (const [label, body] of bodies) {
    describe(`with ${label}`, () => {
      it('IAM Identity paths (/v1/…, /v2/accounts/…) answer the Identity API error body', async () => {
        for (const [method, path] of [['PUT', '/v1/apikeys'], ['POST', '/v1/nothing-here'], ['PATCH', '/v2/accounts/a/users']] as const) {
          const { status, json } = await send(method, path, body);
          expect(status, `${method} ${path}`).toBe(404);
          expect(json.status_code).toBe('404');
          expect(json.trace).toBeTruthy();
          expect(json.errors).toEqual([expect.objectContaining({ code: 'not_found', message_code: 'BXNIM0102E', message: `There is no ${method} ${path} in the IAM Identity API.` })]);
        }
      });

      it('IAM Policy paths, including /v2/policies beside the registry, answer the Policy API error body', async () => {
        for (const [method, path] of [['PATCH', '/v1/policies'], ['POST', '/v2/policies'], ['GET', '/v2/policies/p-1'], ['GET', '/v2/policies?account_id=a']] as const) {
          const { status, json } = await send(method, path, body === undefined || method === 'GET' ? undefined : body);
          expect(status, `${method} ${path}`).toBe(404);
          expect(json).toEqual({ trace: expect.any(String), errors: [{ code: 'not_found', message: `There is no ${method} ${path.split('?')[0]} in the IAM Policy API.` }], status_code: 404 });
        }
      });

      it('Container Registry paths (/api/v1/…) answer a CRG error', async () => {
        for (const [method, path] of [['POST', '/api/v1/nothing'], ['PUT', '/api/v1/quotas']] as const) {
          const { status, json } = await send(method, path, body);
          expect(status, `${method} ${path}`).toBe(404);
          expect(json).toEqual({ code: 'CRG0404E', message: `There is no ${method} ${path} in the Container Registry API.`, 'request-id': expect.any(String) });
        }
      });

      it('the token service (/identity/…) answers its own error body', async () => {
        const { status, json } = await send('PUT', '/identity/token', body);
        expect(status).toBe(404);
        expect(json).toMatchObject({ errorCode: 'BXNIM0102E', errorMessage: 'There is no PUT /identity/token in the IAM token API.' });
      });

      it('any other path answers a JSON 404, not the framework\'s own body', async () => {
        const { status, json } = await send('POST', '/nothing/here', body);
        expect(status).toBe(404);
        expect(json).toEqual({ errors: [{ code: 'NOT_FOUND', message: 'There is no POST /nothing/here on this server.' }] });
      });
    });
  }

  it('registry paths under /v2/ keep the OCI error body', async () => {
    const { status, json } = await send('GET', '/v2/some/repo/nothing', undefined);
    expect(status).toBe(404);
    expect(json).toEqual({ errors: [{ code: 'UNSUPPORTED', message: 'no such endpoint', detail: { path: '/v2/some/repo/nothing' } }] });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

describe('GET /v2/', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('answers 200 with the API version header', async () => {
    const response = await fetch(`${server.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('answers an unknown endpoint with a 404 OCI error', async () => {
    const response = await fetch(`${server.url}/v2/foo/bar/unknown`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { errors: Array<{ code: string }> };
    expect(body.errors[0]!.code).toBe('UNSUPPORTED');
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('observability', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('/healthz answers 200', async () => {
    const response = await oci.fetch('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when the database is reachable', async () => {
    const response = await oci.fetch('/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/metrics counts requests by route id, method and status', async () => {
    const name = repoName('metrics');
    const image = await oci.pushImage(name, 'v1');
    await (await oci.fetch(`/v2/${name}/manifests/v1`)).arrayBuffer();
    await (await oci.fetch(`/v2/${name}/blobs/${digestOf(randomBlob())}`)).arrayBuffer();
    await (await oci.fetch(`/v2/${name}/blobs/${image.config.digest}`, { method: 'HEAD' })).arrayBuffer();

    const response = await oci.fetch('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE berth_http_requests_total counter');
    const count = (route: string, method: string, status: number): number => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith('berth_http_requests_total{') && l.includes(`route="${route}"`) && l.includes(`method="${method}"`) && l.includes(`status="${status}"`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    expect(count('manifest.put', 'PUT', 201)).toBe(1);
    expect(count('manifest.get', 'GET', 200)).toBe(1);
    expect(count('upload.start', 'POST', 201)).toBe(2);
    expect(count('blob.get', 'GET', 404)).toBe(1);
    expect(count('blob.get', 'HEAD', 200)).toBe(1);
    expect(text).toContain('berth_http_request_duration_seconds_bucket{');
  });
});

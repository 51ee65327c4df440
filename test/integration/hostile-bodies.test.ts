import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth } from '../support/iam.js';
import { expectOciError, MT, OciClient, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;

/** Sends a request head and `sent` bytes of a body declared as `declared` bytes, then goes silent. */
function silentRequest(url: string, method: string, path: string, declared: number, sent: Buffer): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`);
      socket.write(sent, () => resolve(socket));
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(0);
    socket.once('close', () => resolve(performance.now() - started));
  });
}

describe('bodies that go silent', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('silent');

  beforeAll(async () => {
    server = await startTestServer({ configure: (config) => void (config.bodyIdleSeconds = 1) });
    oci = new OciClient(server.url);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('a PATCH that declares 1 GiB and goes silent is cut off; its upload goes on from the last recorded state', async () => {
    const blob = randomBytes(3 * MiB);
    const location = await oci.startUpload(name);
    const first = await oci.fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: blob.subarray(0, MiB) });
    expect(first.status).toBe(202);
    const next = first.headers.get('location')!;

    const socket = await silentRequest(server.url, 'PATCH', new URL(next, server.url).pathname + new URL(next, server.url).search, 1024 * MiB, blob.subarray(MiB, 2 * MiB));
    const took = await closed(socket);
    expect(took).toBeLessThan(10_000);

    const status = await oci.fetch(next);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${MiB - 1}`);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const rest = await oci.fetch(`${status.headers.get('location')!}${status.headers.get('location')!.includes('?') ? '&' : '?'}digest=${digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${MiB}-${blob.length - 1}` },
      body: blob.subarray(MiB),
    });
    expect(rest.status, await rest.text()).toBe(201);
    const back = Buffer.from(await (await oci.fetch(`/v2/${name}/blobs/${digest}`)).arrayBuffer());
    expect(back.equals(blob)).toBe(true);
  });

  it('fifty silent uploads are all closed, and the server answers at once meanwhile', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const location = new URL(await oci.startUpload(name), server.url);
        return silentRequest(server.url, 'PATCH', location.pathname + location.search, 1024 * MiB, Buffer.alloc(1024));
      }),
    );
    expect((await oci.fetch('/v2/')).status).toBe(200);
    const times = await Promise.all(sockets.map(closed));
    expect(Math.max(...times)).toBeLessThan(10_000);
  });

  it('a manifest PUT that goes silent mid-body is cut off and stores nothing', async () => {
    const socket = await silentRequest(server.url, 'PUT', `/v2/${name}/manifests/silent`, 4096, Buffer.from('{"schemaVersion":'));
    await closed(socket);
    expect((await oci.fetch(`/v2/${name}/manifests/silent`, { method: 'HEAD' })).status).toBe(404);
  });
});

describe('answers given before the body is read', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    await addNamespaces(server, 'hostile');
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('a 5 MiB manifest gets its 413 every time, not a broken pipe', async () => {
    const name = 'hostile/big';
    const client = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    const body = Buffer.alloc(5 * MiB, 0x20);
    for (let i = 0; i < 20; i++) {
      const response = await client.putManifest(name, `t${i}`, body, MT.ociManifest);
      await expectOciError(response, 413, 'SIZE_INVALID');
    }
  });

  it('an 8 MiB blob PUT without credentials gets its 401 challenge every time', async () => {
    const body = randomBytes(8 * MiB);
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${server.url}/v2/hostile/x/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      await response.body?.cancel();
    }
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** Writes raw bytes and reads everything until the server closes the connection. */
function rawExchange(url: string, request: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('no answer and no close')));
  });
}

function openIdle(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('requests Node cannot parse', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ configure: (config) => void (config.maxConnections = 8) });
  });
  afterAll(async () => server.close());

  it('a raw non-ASCII byte in a header is a bodiless 400, so a HEAD client reads nothing after it', async () => {
    const head = Buffer.concat([Buffer.from('HEAD /v2/ HTTP/1.1\r\nHost: x\r\nX-Name: caf'), Buffer.from([0xe9, 0x01]), Buffer.from('\r\n\r\n')]);
    const answer = await rawExchange(server.url, head);
    expect(answer.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(answer).toContain('Content-Length: 0\r\n');
    expect(answer.endsWith('\r\n\r\n')).toBe(true);
  });

  it('a request head over 16 KiB is a bodiless 431', async () => {
    const answer = await rawExchange(server.url, Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')).toBe(true);
    expect(answer.endsWith('\r\n\r\n')).toBe(true);
  });

  it('past BERTH_MAX_CONNECTIONS new connections are closed at once; freed, the server answers again', async () => {
    const idle = await Promise.all(Array.from({ length: 8 }, () => openIdle(server.url)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await rawExchange(server.url, Buffer.from('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(refused).toBe('');
    for (const socket of idle) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${server.url}/v2/`)).status).toBe(200);
  });
});

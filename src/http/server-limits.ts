import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TlsCertificate } from './tls.js';

export interface ServerLimits {
  /** Connections one listener holds at once; more are closed as they come (`BERTH_MAX_CONNECTIONS`). */
  maxConnections: number;
}

/** Longest a client may take to send its request head. */
const HEADERS_TIMEOUT_MS = 30_000;
/** Largest request head (Node's default, said here): more is 431. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * A request Node cannot parse (a raw non-ASCII byte in a header, a head too large, a timeout) is
 * answered with its status and no body, then the connection closes: a body would be read by a
 * HEAD client as the start of the next answer, and we cannot tell which surface it was meant for.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  socket.destroySoon();
}

/**
 * An HTTP server (HTTPS with `tls`) with Berth's limits: no whole-request timeout (layers take as
 * long as they take), a head timeout and size, a connection cap.
 */
export function createLimitedServer(listener: RequestListener, limits: ServerLimits, options: { ownClientErrors: boolean; tls?: TlsCertificate | undefined }): Server {
  const settings = { requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS, maxHeaderSize: MAX_HEADER_BYTES };
  let server: Server;
  if (options.tls) {
    const secure = createHttpsServer({ ...settings, ...options.tls.options }, listener);
    options.tls.serve(secure);
    server = secure;
  } else {
    server = createServer(settings, listener);
  }
  server.maxConnections = limits.maxConnections;
  // Fastify's own server gets the handler through its clientErrorHandler option instead.
  if (options.ownClientErrors) server.on('clientError', answerClientError);
  return server;
}

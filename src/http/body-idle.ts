import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** Whether a request says a body follows (a length above zero, or chunks). */
function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A request body that goes silent for `seconds` has its socket closed: a client that declared a
 * gigabyte and stopped would otherwise hold the socket (and its upload's file) forever. Only while
 * the body arrives: the time the server then takes to answer (a digest check, an object-store copy)
 * is not limited. An upload whose chunk was cut off keeps its last recorded state and can go on.
 */
export function registerBodyIdleTimeout(app: FastifyInstance, seconds: number): void {
  if (seconds <= 0) return;
  app.addHook('onRequest', (request, _reply, done) => {
    watchBody(request.raw, request.headers, seconds);
    done();
  });
}

function watchBody(body: IncomingMessage, headers: IncomingHttpHeaders, seconds: number): void {
  if (!hasBody(headers) || body.complete) return;
  const socket = body.socket;
  // With nobody listening for 'timeout', Node's server destroys the socket.
  socket.setTimeout(seconds * 1000);
  const done = () => socket.setTimeout(0);
  body.once('end', done).once('close', done);
}

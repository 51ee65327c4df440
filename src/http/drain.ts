import type { FastifyInstance } from 'fastify';

/**
 * Lets a graceful close end as soon as the last in-flight request does. Node closes idle keep-alive
 * sockets once, when the close begins; the socket of a request still running then stays open after
 * its answer until the keep-alive timeout, and holds the close (and SIGTERM) that long.
 */
export function registerDrain(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // An answer sent while closing tells the client not to reuse the socket, and Node ends it.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // An answer whose headers went out before the close (a long download) leaves its socket idle.
  app.addHook('onResponse', (_request, _reply, done) => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
}

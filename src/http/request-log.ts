import type { FastifyInstance } from 'fastify';

/** Query parameters that can carry a credential; their values never reach a log line. */
const SECRET_PARAMS = /^(password|passwd|token|access_token|refresh_token|apikey|api_key|secret|client_secret|code)$/i;

export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const query = new URLSearchParams(url.slice(queryStart + 1));
  let redacted = false;
  for (const key of new Set(query.keys())) {
    if (SECRET_PARAMS.test(key)) {
      query.set(key, '[REDACTED]');
      redacted = true;
    }
  }
  return redacted ? `${url.slice(0, queryStart)}?${query.toString()}` : url;
}

/** One JSON line per request, written when the response is done. Headers are never logged. */
export function registerRequestLog(app: FastifyInstance): void {
  // The level is fixed at start: above info, the line is not even assembled.
  if (!['trace', 'debug', 'info'].includes(app.log.level)) return;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.raw.url ?? ''),
        route: request.routeId ?? request.routeOptions.url,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        remote: request.ip,
        // Who, as the request proved it; never the credential itself.
        principal: request.security?.principal?.iamId,
        auth: request.security?.method,
        bytesIn: Number(request.headers['content-length'] ?? 0) || undefined,
      },
      'request',
    );
    done();
  });
}

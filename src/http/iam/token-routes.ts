import type { FastifyInstance } from 'fastify';
import { IamError, iamErrors } from '../../iam/errors.js';
import { FailureLimiter } from '../../iam/failure-limiter.js';
import type { Iam } from '../../iam/iam.js';
import { sendTokenError, toIamError } from './errors.js';

/** A token request is a handful of short fields; anything larger is not one. */
const FORM_LIMIT = 16 * 1024;

/** The client of `Authorization: Basic base64(client_id:client_secret)`, if any (the IBM CLI sends bx:bx). */
function basicClientId(header: string | undefined): string | undefined {
  const match = header && /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : undefined;
}

/** Failed token requests a client may make per minute before it is told to wait. */
const MAX_FAILURES_PER_MINUTE = 20;

/** `POST /identity/token` and `GET /identity/keys` (the JWKS). */
export async function tokenRoutes(app: FastifyInstance, deps: { iam: Iam }): Promise<void> {
  const limiter = new FailureLimiter(MAX_FAILURES_PER_MINUTE, 60_000, Date.now);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.setErrorHandler(async (error, request, reply) => {
    const iamError = toIamError(error);
    if (iamError.status >= 500) request.log.error({ err: error }, 'token request failed');
    return sendTokenError(request, reply, iamError);
  });

  app.post('/identity/token', async (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) {
      throw iamErrors.invalidRequest('the body must be application/x-www-form-urlencoded');
    }
    limiter.check(request.ip);
    try {
      const response = await deps.iam.tokens.grant(request.body, basicClientId(request.headers.authorization));
      return reply.header('cache-control', 'no-store').send(response);
    } catch (error) {
      if (error instanceof IamError && error.status < 500) {
        limiter.recordFailure(request.ip);
        // Never the secret: the grant type and the answer are enough to see an attack.
        request.log.warn({ client: request.ip, grantType: request.body.get('grant_type'), errorCode: error.errorCode }, 'token request refused');
      }
      throw error;
    }
  });

  app.get('/identity/keys', async () => deps.iam.signingKeys.jwks());
}

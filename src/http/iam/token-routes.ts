import type { FastifyInstance } from 'fastify';
import type { AccessEvents, CredentialKind } from '../../audit/access-events.js';
import { IamError, iamErrors } from '../../iam/errors.js';
import { LoginThrottle } from '../../iam/login-throttle.js';
import type { Iam } from '../../iam/iam.js';
import { APIKEY_GRANT, type TokenClient } from '../../iam/token-service.js';
import { sendTokenError, toIamError } from './errors.js';
import { tokenEndpoints } from './token-endpoints.js';

/** A token request is a handful of short fields; anything larger is not one. */
const FORM_LIMIT = 16 * 1024;

/** The client of `Authorization: Basic base64(client_id:client_secret)`, if any (the IBM CLI sends bx:bx). */
function basicClient(header: string | undefined): TokenClient | undefined {
  const match = header && /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : undefined;
}

/** `POST /identity/token` and `GET /identity/keys` (the JWKS). */
const KINDS: Readonly<Record<string, CredentialKind>> = { [APIKEY_GRANT]: 'apikey', refresh_token: 'refreshtoken' };

export async function tokenRoutes(app: FastifyInstance, deps: { iam: Iam; failuresPerMinute: number; events?: AccessEvents }): Promise<void> {
  const throttle = new LoginThrottle(deps.failuresPerMinute);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.setErrorHandler(async (error, request, reply) => {
    const iamError = toIamError(error);
    if (iamError.status >= 500) request.log.error({ err: error }, 'token request failed');
    return sendTokenError(request, reply, iamError);
  });

  app.post(tokenEndpoints.token.url, async (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) {
      throw iamErrors.invalidRequest('the body must be application/x-www-form-urlencoded');
    }
    const form = request.body;
    const secret = form.get('apikey') ?? form.get('refresh_token') ?? form.get('password') ?? undefined;
    const refused = (error: unknown) => error instanceof IamError && error.status < 500;
    const origin = { client: request.ip, requestId: request.id };
    const kind = KINDS[form.get('grant_type') ?? ''] ?? 'unknown';
    try {
      const { response, identity } = await throttle.attempt(request.ip, secret, () => deps.iam.tokens.grant(form, basicClient(request.headers.authorization)), refused);
      await deps.events?.login(kind, 'iam', origin, { who: { iamId: identity.iamId, accountId: identity.accountId, name: identity.kind === 'user' ? identity.email : identity.name } });
      return reply.header('cache-control', 'no-store').send(response);
    } catch (error) {
      if (refused(error)) {
        const failure = error as IamError;
        // Never the secret: the grant type and the answer are enough to see an attack.
        request.log.warn({ client: request.ip, grantType: form.get('grant_type'), errorCode: failure.errorCode }, 'token request refused');
        // A throttled request was not checked: the throttle bounds what one client adds to the trail.
        if (failure.status !== 429) await deps.events?.login(kind, 'iam', origin, { failure: `${failure.errorCode}: ${failure.details ?? failure.message}` });
      }
      throw error;
    }
  });

  app.get(tokenEndpoints.keys.url, async () => deps.iam.signingKeys.jwks());
}

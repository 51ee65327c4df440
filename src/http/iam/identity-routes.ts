import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { resolveCaller, type Caller } from '../../iam/caller.js';
import type { Iam } from '../../iam/iam.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { sendIdentityError, toIdentityError } from './identity-errors.js';
import { IDENTITY_BODY_LIMIT } from './identity-input.js';
import type { IdentityRoute } from './identity-route.js';
import { serviceIdRoutes } from './service-id-routes.js';
import { acceptJsonOrNothing } from './json-body.js';

/** Every endpoint of the IAM Identity API that Berth serves. */
export const identityRoutesTable: IdentityRoute[] = [...apiKeyRoutes, ...serviceIdRoutes];

/** The IAM Identity API (API keys, service IDs): Bearer access token required on every call. */
export async function identityRoutes(app: FastifyInstance, deps: { iam: Iam; db: Kysely<Database> }): Promise<void> {
  const callers = new WeakMap<FastifyRequest, Caller>();
  const operations = new WeakMap<FastifyRequest, string>();

  app.setErrorHandler(async (error, request, reply) => {
    const identityError = toIdentityError(error);
    if (identityError.status >= 500) request.log.error({ err: error }, 'identity request failed');
    return sendIdentityError(request, reply, identityError, operations.get(request) ?? 'identity');
  });

  acceptJsonOrNothing(app, (details) => identityErrors.invalid(details));

  for (const route of identityRoutesTable) {
    for (const url of route.urls) {
      app.route({
        method: route.method,
        url,
        bodyLimit: IDENTITY_BODY_LIMIT,
        ...(route.schema ? { schema: route.schema } : {}),
        // Authenticate before the body is read: an anonymous caller never gets a body parsed.
        onRequest: async (request) => {
          operations.set(request, route.operation);
          const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
          if (!match) throw identityErrors.missingToken();
          const subject = await deps.iam.verifier.verify(match[1]!);
          callers.set(request, await resolveCaller(deps.db, subject));
        },
        handler: async (request, reply) => {
          const answer = await route.handle(request, callers.get(request)!, deps.iam);
          reply.code(route.status);
          if (answer.etag !== undefined) reply.header('etag', answer.etag);
          return route.status === 204 ? reply.send() : reply.send(answer.body);
        },
      });
    }
  }
}

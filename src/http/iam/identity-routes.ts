import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { identityErrors } from '../../iam/identity-errors.js';
import type { Principal } from '../../iam/principal.js';
import { accountRoutes } from './account-routes.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { bearerPrincipal } from './bearer.js';
import { sendIdentityError, toIdentityError } from './identity-errors.js';
import { IDENTITY_BODY_LIMIT } from './identity-input.js';
import type { IdentityRoute } from './identity-route.js';
import { serviceIdRoutes } from './service-id-routes.js';
import { acceptJsonOrNothing } from './json-body.js';
import { userRoutes } from './user-routes.js';

/** Every endpoint in the Identity API's error shape: API keys, service IDs, users and accounts. */
export const identityRoutesTable: IdentityRoute[] = [...apiKeyRoutes, ...serviceIdRoutes, ...userRoutes, ...accountRoutes];

/** The IAM Identity API and its neighbours: Bearer access token required on every call. */
export async function identityRoutes(app: FastifyInstance, deps: { iam: Iam }): Promise<void> {
  const principals = new WeakMap<FastifyRequest, Principal>();
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
          principals.set(request, await bearerPrincipal(request, { missing: identityErrors.missingToken, invalid: identityErrors.badToken }));
        },
        handler: async (request, reply) => {
          const answer = await route.handle(request, principals.get(request)!, deps.iam);
          reply.code(route.status);
          if (answer.etag !== undefined) reply.header('etag', answer.etag);
          return route.status === 204 ? reply.send() : reply.send(answer.body);
        },
      });
    }
  }
}

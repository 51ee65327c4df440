import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import type { Principal } from '../../iam/principal.js';
import { managementErrors } from '../../registry/management-errors.js';
import type { RegionRegistry } from '../../registry/regional.js';
import type { Registry } from '../../registry/registry.js';
import { bearerPrincipal } from '../iam/bearer.js';
import { acceptJsonOrNothing } from '../iam/json-body.js';
import { imageRoutes } from './image-routes.js';
import { sendManagementError, toManagementError, type ManagementRoute } from './management-route.js';
import { namespaceRoutes } from './namespace-routes.js';
import { quotaRoutes } from './quota-routes.js';
import { trashRoutes } from './trash-routes.js';

/** Management bodies are short lists of references. */
const BODY_LIMIT = 256 * 1024;

export const managementRoutesTable: ManagementRoute[] = [
  ...namespaceRoutes,
  ...imageRoutes,
  ...trashRoutes,
  ...quotaRoutes,
  // No messages from this registry: IBM answers 204 when it has none.
  {
    method: 'GET',
    url: '/api/v1/messages',
    operation: 'get_messages',
    status: 204,
    anyAccount: true,
    doc: { summary: 'Messages of the registry to its users: none, ever' },
    handle: async () => ({}),
  },
];

export interface ManagementDependencies {
  iam: Iam;
  registry: Registry;
  registryOf(region: string): RegionRegistry;
  regionOf(request: FastifyRequest): string;
  /** The registry host of a region as image references write it, when configured. */
  hostOf(region: string): string | undefined;
}

/**
 * The Container Registry management API of each region (`/api/v1/…`, reference §4): IAM access
 * token (`Authorization: Bearer`) and the `Account` header of the token's account on every call;
 * every action is asked of the IAM decision with the action of §3.9.
 */
export async function managementRoutes(app: FastifyInstance, deps: ManagementDependencies): Promise<void> {
  const principals = new WeakMap<FastifyRequest, Principal>();
  app.setErrorHandler(async (error, request, reply) => {
    const failure = toManagementError(error);
    if (failure.status >= 500) request.log.error({ err: error }, 'management request failed');
    return sendManagementError(reply, failure);
  });
  acceptJsonOrNothing(app, (details) => managementErrors.badRequest(details));

  for (const route of managementRoutesTable) {
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: BODY_LIMIT,
      onRequest: async (request) => {
        const principal = await bearerPrincipal(request, { missing: managementErrors.unauthorized, invalid: managementErrors.unauthorized });
        if (!route.anyAccount) {
          const account = request.headers.account;
          if (typeof account !== 'string' || account === '') throw managementErrors.missingAccount();
          // Any other account answers the same, whether it exists or not.
          if (account !== principal.accountId) throw managementErrors.wrongAccount(account);
        }
        principals.set(request, principal);
      },
      handler: async (request, reply) => {
        const principal = principals.get(request)!;
        const region = deps.regionOf(request);
        const configured = deps.hostOf(region);
        const hosts = [...new Set([configured, request.host.toLowerCase()].filter((host): host is string => host !== undefined))];
        const answer = await route.handle(request, {
          principal,
          access: await deps.iam.authorization.for(principal),
          region,
          registry: deps.registry,
          regional: deps.registryOf(region),
          hosts,
        });
        reply.code(answer.status ?? route.status);
        return answer.body === undefined ? reply.send() : reply.send(answer.body);
      },
    });
  }
}

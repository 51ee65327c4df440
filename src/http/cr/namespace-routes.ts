import type { FastifyRequest } from 'fastify';
import { managementErrors } from '../../registry/management-errors.js';
import { actorOf, crResource, ownNamespace, requireAction, type ManagementContext, type ManagementRoute } from './management-route.js';
import { namespaceDetails } from './views.js';
import { namespaceDetailsSchema, namespaceNamesSchema, namespaceSchema, resourceGroupHeader } from './management-schemas.js';

const nameOf = (request: FastifyRequest) => (request.params as { name: string }).name;

/** `X-Auth-Resource-Group`, when given. */
function resourceGroupOf(request: FastifyRequest): string | undefined {
  const group = request.headers['x-auth-resource-group'];
  return typeof group === 'string' && group !== '' ? group : undefined;
}

/** The caller's namespaces in the region that it may list (§3.9: namespace.list). */
async function listable(ctx: ManagementContext) {
  const records = await ctx.registry.namespaces.list(ctx.region, ctx.principal.accountId);
  return records.filter((record) => ctx.access.can('container-registry.namespace.list', crResource.namespace(ctx, record.name)));
}

/** `/api/v1/namespaces…`: list, details, add, assign to a resource group, delete (which empties it, as IBM's does). */
export const namespaceRoutes: ManagementRoute[] = [
  {
    method: 'GET',
    url: '/api/v1/namespaces',
    status: 200,
    operation: 'list_namespaces',
    doc: { summary: 'List the names of the namespaces in this region the caller may list', response: namespaceNamesSchema },
    handle: async (_request, ctx) => ({ body: (await listable(ctx)).map((record) => record.name) }),
  },
  {
    method: 'GET',
    url: '/api/v1/namespaces/details',
    status: 200,
    operation: 'list_namespace_details',
    doc: { summary: 'List the namespaces in this region the caller may list, with details', response: { type: 'array', items: namespaceDetailsSchema } },
    handle: async (_request, ctx) => ({ body: (await listable(ctx)).map(namespaceDetails) }),
  },
  {
    method: 'PUT',
    url: '/api/v1/namespaces/:name',
    status: 201,
    operation: 'create_namespace',
    doc: {
      summary: 'Create a namespace in this region',
      params: { name: 'the namespace name: 4 to 30 lowercase letters, digits, - and _' },
      headers: [resourceGroupHeader(false)],
      response: namespaceSchema,
      otherStatuses: { 200: 'The account has this namespace already.' },
    },
    async handle(request, ctx) {
      const name = nameOf(request);
      // Creating is a configuring action: granted service-wide only (§3.8).
      requireAction(ctx, 'namespace.create', crResource.service(ctx));
      const created = await ctx.registry.namespaces.create(ctx.region, name, ctx.principal.accountId, resourceGroupOf(request), actorOf(request, ctx));
      // 200 when the account has it already, as the Go SDK's test accepts.
      return { body: { namespace: name }, status: created ? 201 : 200 };
    },
  },
  {
    method: 'PATCH',
    url: '/api/v1/namespaces/:name',
    status: 200,
    operation: 'assign_namespace',
    doc: { summary: 'Assign a namespace to a resource group', params: { name: 'the namespace name' }, headers: [resourceGroupHeader(true)], response: namespaceSchema },
    async handle(request, ctx) {
      const name = nameOf(request);
      requireAction(ctx, 'namespace.create', crResource.service(ctx));
      const group = resourceGroupOf(request);
      if (group === undefined) throw managementErrors.badRequest('the X-Auth-Resource-Group header names the resource group to assign the namespace to');
      await ownNamespace(ctx, name);
      await ctx.registry.namespaces.assign(ctx.region, name, group);
      return { body: { namespace: name } };
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/namespaces/:name',
    status: 204,
    operation: 'delete_namespace',
    doc: { summary: 'Delete a namespace and every image in it', params: { name: 'the namespace name' } },
    async handle(request, ctx) {
      const name = nameOf(request);
      requireAction(ctx, 'namespace.delete', crResource.service(ctx));
      await ownNamespace(ctx, name);
      await ctx.registry.namespaces.delete(ctx.region, name, actorOf(request, ctx));
      return {};
    },
  },
];

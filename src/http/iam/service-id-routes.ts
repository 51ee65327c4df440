import type { FastifyRequest } from 'fastify';
import type { ListSort } from '../../iam/api-keys.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { flagHeader, listEnvelope, readPage, requireIfMatch, schemas, type ListParams } from './identity-input.js';
import { removeAndLockRoutes, type IdentityRoute } from './identity-route.js';
import { serviceIdView } from './identity-views.js';

interface ServiceIdBody {
  account_id: string;
  name: string;
  description?: string;
  apikey?: { name: string; description?: string };
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

/** `/v1/serviceids…` (§2.5). The SDKs declare list and create with a trailing slash; Node strips it, Go may not. */
export const serviceIdRoutes: IdentityRoute[] = [
  {
    method: 'POST',
    urls: ['/v1/serviceids', '/v1/serviceids/'],
    operation: 'create_service_id',
    status: 201,
    schema: schemas.createServiceId,
    async handle(request, caller, iam) {
      const body = request.body as ServiceIdBody;
      const { record, apiKey } = await iam.serviceIdAdmin.create(caller, {
        accountId: body.account_id,
        name: body.name,
        ...(body.description !== undefined ? { description: body.description } : {}),
        locked: flagHeader(request, 'entity-lock'),
        ...(body.apikey
          ? { apiKey: { name: body.apikey.name, ...(body.apikey.description !== undefined ? { description: body.apikey.description } : {}) } }
          : {}),
      });
      return { body: serviceIdView(record, apiKey) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/serviceids', '/v1/serviceids/'],
    operation: 'list_service_ids',
    status: 200,
    schema: schemas.listServiceIds,
    async handle(request, caller, iam) {
      const query = request.query as ListParams & { name?: string };
      const page = readPage(query);
      if (page.accountId === undefined) throw identityErrors.invalid('account_id is required unless pagetoken is given');
      const { records, more } = await iam.serviceIdAdmin.list(caller, {
        accountId: page.accountId,
        ...(query.name !== undefined ? { name: query.name } : {}),
        sort: page.sort as ListSort,
        order: page.order,
        offset: page.offset,
        limit: page.limit,
      });
      return { body: listEnvelope(request, 'serviceids', page, { items: records.map((r) => serviceIdView(r)), more }) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/serviceids/:id'],
    operation: 'get_service_id',
    status: 200,
    async handle(request, caller, iam) {
      const view = serviceIdView(await iam.serviceIdAdmin.get(caller, idOf(request)));
      return { body: view, etag: view.entity_tag };
    },
  },
  {
    method: 'PUT',
    urls: ['/v1/serviceids/:id'],
    operation: 'update_service_id',
    status: 200,
    schema: schemas.updateServiceId,
    async handle(request, caller, iam) {
      const ifMatch = requireIfMatch(request);
      const body = request.body as Partial<ServiceIdBody>;
      const record = await iam.serviceIdAdmin.update(caller, idOf(request), ifMatch, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
      });
      const view = serviceIdView(record);
      return { body: view, etag: view.entity_tag };
    },
  },
  ...removeAndLockRoutes('/v1/serviceids/:id', 'service_id', (iam) => iam.serviceIdAdmin),
];

import type { FastifyRequest } from 'fastify';
import type { LeakAction, ListSort } from '../../iam/api-keys.js';
import { identityErrors } from '../../iam/identity-errors.js';
import type { ServiceIdRecord } from '../../iam/service-ids.js';
import type { Iam } from '../../iam/iam.js';
import { flagHeader, listEnvelope, parseExpiresAt, readFilter, readPage, requireIfMatch, schemas, type ListParams } from './identity-input.js';
import { queryFlag, removeAndLockRoutes, type IdentityRoute } from './identity-route.js';
import { serviceIdView } from './identity-views.js';
import { serviceIdListSchema, serviceIdSchema } from './identity-view-schemas.js';
import { entityHeaders, ifMatchHeader } from './identity-docs.js';

interface ServiceIdBody {
  account_id: string;
  name: string;
  description?: string;
  unique_instance_crns?: string[];
  apikey?: { name: string; description?: string; apikey?: string; store_value?: boolean; action_when_leaked?: LeakAction; expires_at?: string };
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

async function readView(request: FastifyRequest, iam: Iam, record: ServiceIdRecord) {
  const history = queryFlag(request, 'include_history') ? await iam.history.of(record.id) : undefined;
  const view = serviceIdView(record, history ? { history } : {});
  return { body: view, etag: view.entity_tag };
}

/** `/v1/serviceids…` (§2.5). The SDKs declare list and create with a trailing slash; Node strips it, Go may not. */
export const serviceIdRoutes: IdentityRoute[] = [
  {
    method: 'POST',
    urls: ['/v1/serviceids', '/v1/serviceids/'],
    operation: 'create_service_id',
    status: 201,
    schema: schemas.createServiceId,
    doc: { summary: 'Create a service ID, optionally with an API key (whose value is shown in this answer only)', headers: entityHeaders(['Entity-Lock']), response: serviceIdSchema },
    async handle(request, principal, iam) {
      const body = request.body as ServiceIdBody;
      const key = body.apikey;
      const keyExpiresAt = parseExpiresAt(key?.expires_at);
      const { record, apiKey } = await iam.serviceIdAdmin.create(principal, {
        accountId: body.account_id,
        name: body.name,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.unique_instance_crns !== undefined ? { uniqueInstanceCrns: body.unique_instance_crns } : {}),
        locked: flagHeader(request, 'entity-lock'),
        ...(key?.store_value !== undefined ? { storeApiKeyValue: key.store_value } : {}),
        ...(key
          ? {
              apiKey: {
                name: key.name,
                ...(key.description !== undefined ? { description: key.description } : {}),
                ...(key.apikey !== undefined ? { secret: key.apikey } : {}),
                ...(key.action_when_leaked !== undefined ? { actionWhenLeaked: key.action_when_leaked } : {}),
                ...(keyExpiresAt !== undefined ? { expiresAt: keyExpiresAt } : {}),
              },
            }
          : {}),
      });
      return { body: serviceIdView(record, apiKey ? { apiKey } : {}) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/serviceids', '/v1/serviceids/'],
    operation: 'list_service_ids',
    status: 200,
    schema: schemas.listServiceIds,
    doc: { summary: 'List the service IDs of an account', response: serviceIdListSchema },
    async handle(request, principal, iam) {
      const query = request.query as ListParams & { name?: string; filter?: string };
      const page = readPage(query);
      if (page.accountId === undefined) throw identityErrors.invalid('account_id is required unless pagetoken is given');
      const filter = readFilter(query.filter);
      const { records, more } = await iam.serviceIdAdmin.list(principal, {
        accountId: page.accountId,
        ...(query.name !== undefined ? { name: query.name } : {}),
        ...(filter ? { filter } : {}),
        sort: page.sort as ListSort,
        order: page.order,
        offset: page.offset,
        limit: page.limit,
      });
      const withHistory = queryFlag(request, 'include_history');
      const items = await Promise.all(records.map(async (r) => serviceIdView(r, withHistory ? { history: await iam.history.of(r.id) } : {})));
      return { body: listEnvelope(request, 'serviceids', page, { items, more }) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/serviceids/:id'],
    operation: 'get_service_id',
    status: 200,
    schema: schemas.getEntity,
    doc: { summary: 'Get a service ID', params: { id: "the service ID's ID" }, response: serviceIdSchema },
    async handle(request, principal, iam) {
      return readView(request, iam, await iam.serviceIdAdmin.get(principal, idOf(request)));
    },
  },
  {
    method: 'PUT',
    urls: ['/v1/serviceids/:id'],
    operation: 'update_service_id',
    status: 200,
    schema: schemas.updateServiceId,
    doc: { summary: 'Update a service ID', params: { id: "the service ID's ID" }, headers: [ifMatchHeader], response: serviceIdSchema },
    async handle(request, principal, iam) {
      const ifMatch = requireIfMatch(request);
      const body = request.body as Partial<ServiceIdBody>;
      const record = await iam.serviceIdAdmin.update(principal, idOf(request), ifMatch, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.unique_instance_crns !== undefined ? { uniqueInstanceCrns: body.unique_instance_crns } : {}),
      });
      const view = serviceIdView(record);
      return { body: view, etag: view.entity_tag };
    },
  },
  ...removeAndLockRoutes('/v1/serviceids/:id', 'service_id', 'service ID', (iam) => iam.serviceIdAdmin),
];

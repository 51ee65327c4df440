import type { FastifyRequest } from 'fastify';
import type { ListSort } from '../../iam/api-keys.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { flagHeader, listEnvelope, parseExpiresAt, readPage, requireIfMatch, schemas, type ListParams } from './identity-input.js';
import { removeAndLockRoutes, type IdentityRoute } from './identity-route.js';
import { apiKeyView } from './identity-views.js';

interface ApiKeyBody {
  name: string;
  iam_id: string;
  description?: string;
  account_id?: string;
  expires_at?: string;
}

type Id = { id: string };
const idOf = (request: FastifyRequest) => (request.params as Id).id;
const withActivity = (request: FastifyRequest) => (request.query as { include_activity?: string }).include_activity === 'true';

/** `/v1/apikeys…` (§2.2). 204 answers have no body. */
export const apiKeyRoutes: IdentityRoute[] = [
  {
    method: 'POST',
    urls: ['/v1/apikeys'],
    operation: 'create_api_key',
    status: 201,
    schema: schemas.createApiKey,
    async handle(request, caller, iam) {
      const body = request.body as ApiKeyBody;
      const expiresAt = parseExpiresAt(body.expires_at);
      const { record, secret } = await iam.apiKeyAdmin.create(caller, {
        name: body.name,
        iamId: body.iam_id,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.account_id !== undefined ? { accountId: body.account_id } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        locked: flagHeader(request, 'entity-lock'),
        disabled: flagHeader(request, 'entity-disable'),
      });
      // The only time the value is ever shown.
      return { body: apiKeyView(record, { secret }) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/apikeys'],
    operation: 'list_api_keys',
    status: 200,
    schema: schemas.listApiKeys,
    async handle(request, caller, iam) {
      const query = request.query as ListParams & { iam_id?: string; scope?: 'entity' | 'account' };
      const page = readPage(query);
      const { records, more } = await iam.apiKeyAdmin.list(caller, {
        ...(page.accountId !== undefined ? { accountId: page.accountId } : {}),
        ...(query.iam_id !== undefined ? { iamId: query.iam_id } : {}),
        scope: query.scope ?? 'entity',
        sort: page.sort as ListSort,
        order: page.order,
        offset: page.offset,
        limit: page.limit,
      });
      return { body: listEnvelope(request, 'apikeys', page, { items: records.map((r) => apiKeyView(r)), more }) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/apikeys/details'],
    operation: 'get_api_keys_details',
    status: 200,
    async handle(request, caller, iam) {
      const value = request.headers['iam-apikey'];
      if (typeof value !== 'string' || value === '') throw identityErrors.invalid('header IAM-ApiKey is required');
      const record = await iam.apiKeyAdmin.getBySecret(caller, value);
      return { body: apiKeyView(record, { activity: withActivity(request) }), etag: apiKeyView(record).entity_tag };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/apikeys/:id'],
    operation: 'get_api_key',
    status: 200,
    async handle(request, caller, iam) {
      const view = apiKeyView(await iam.apiKeyAdmin.get(caller, idOf(request)), { activity: withActivity(request) });
      return { body: view, etag: view.entity_tag };
    },
  },
  {
    method: 'PUT',
    urls: ['/v1/apikeys/:id'],
    operation: 'update_api_key',
    status: 200,
    schema: schemas.updateApiKey,
    async handle(request, caller, iam) {
      const ifMatch = requireIfMatch(request);
      const body = request.body as Partial<ApiKeyBody>;
      const expiresAt = parseExpiresAt(body.expires_at);
      const record = await iam.apiKeyAdmin.update(caller, idOf(request), ifMatch, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      });
      const view = apiKeyView(record);
      return { body: view, etag: view.entity_tag };
    },
  },
  ...removeAndLockRoutes('/v1/apikeys/:id', 'api_key', (iam) => iam.apiKeyAdmin),
];

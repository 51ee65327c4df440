import type { FastifyRequest } from 'fastify';
import type { ApiKeyRecord, LeakAction, ListSort } from '../../iam/api-keys.js';
import type { Iam } from '../../iam/iam.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { flagHeader, listEnvelope, parseExpiresAt, readFilter, readPage, requireIfMatch, schemas, type ListParams } from './identity-input.js';
import { queryFlag, removeAndLockRoutes, type IdentityRoute } from './identity-route.js';
import { apiKeyView } from './identity-views.js';
import { apiKeyListSchema, apiKeySchema, createdApiKeySchema } from './identity-view-schemas.js';
import { entityHeaders, ifMatchHeader } from './identity-docs.js';

interface ApiKeyBody {
  name: string;
  iam_id: string;
  description?: string;
  account_id?: string;
  apikey?: string;
  store_value?: boolean;
  support_sessions?: boolean;
  action_when_leaked?: LeakAction;
  expires_at?: string;
}

type Id = { id: string };
const idOf = (request: FastifyRequest) => (request.params as Id).id;

/** A key as a single read answers it: with history and activity when asked, and its ETag. */
async function readView(request: FastifyRequest, iam: Iam, record: ApiKeyRecord) {
  const history = queryFlag(request, 'include_history') ? await iam.history.of(record.id) : undefined;
  const view = apiKeyView(record, { activity: queryFlag(request, 'include_activity'), ...(history ? { history } : {}) });
  return { body: view, etag: view.entity_tag };
}

/** `/v1/apikeys…` (§2.2). 204 answers have no body. */
export const apiKeyRoutes: IdentityRoute[] = [
  {
    method: 'POST',
    urls: ['/v1/apikeys'],
    operation: 'create_api_key',
    status: 201,
    schema: schemas.createApiKey,
    doc: { summary: 'Create an API key for a user or service ID (its value is shown in this answer only)', headers: entityHeaders(['Entity-Lock', 'Entity-Disable']), response: createdApiKeySchema },
    async handle(request, principal, iam) {
      const body = request.body as ApiKeyBody;
      const expiresAt = parseExpiresAt(body.expires_at);
      const { record, secret } = await iam.apiKeyAdmin.create(principal, {
        name: body.name,
        iamId: body.iam_id,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.account_id !== undefined ? { accountId: body.account_id } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(body.apikey !== undefined ? { secret: body.apikey } : {}),
        ...(body.store_value !== undefined ? { storeValue: body.store_value } : {}),
        ...(body.support_sessions !== undefined ? { supportSessions: body.support_sessions } : {}),
        ...(body.action_when_leaked !== undefined ? { actionWhenLeaked: body.action_when_leaked } : {}),
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
    doc: { summary: 'List API keys of an identity, or of the account (scope=account)', response: apiKeyListSchema },
    async handle(request, principal, iam) {
      const query = request.query as ListParams & { iam_id?: string; scope?: 'entity' | 'account'; type?: 'user' | 'serviceid'; filter?: string };
      const page = readPage(query);
      const filter = readFilter(query.filter);
      const { records, more } = await iam.apiKeyAdmin.list(principal, {
        ...(page.accountId !== undefined ? { accountId: page.accountId } : {}),
        ...(query.iam_id !== undefined ? { iamId: query.iam_id } : {}),
        ...(query.type !== undefined ? { type: query.type } : {}),
        ...(filter ? { filter } : {}),
        scope: query.scope ?? 'entity',
        sort: page.sort as ListSort,
        order: page.order,
        offset: page.offset,
        limit: page.limit,
      });
      const withHistory = queryFlag(request, 'include_history');
      const items = await Promise.all(records.map(async (r) => apiKeyView(r, withHistory ? { history: await iam.history.of(r.id) } : {})));
      return { body: listEnvelope(request, 'apikeys', page, { items, more }) };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/apikeys/details'],
    operation: 'get_api_keys_details',
    status: 200,
    schema: schemas.getEntity,
    doc: {
      summary: 'Get the details of the API key given in the IAM-ApiKey header',
      headers: [{ name: 'IAM-ApiKey', required: true, description: 'the API key value to look up' }],
      response: apiKeySchema,
    },
    async handle(request, principal, iam) {
      const value = request.headers['iam-apikey'];
      if (typeof value !== 'string' || value === '') throw identityErrors.invalid('header IAM-ApiKey is required');
      return readView(request, iam, await iam.apiKeyAdmin.getBySecret(principal, value));
    },
  },
  {
    method: 'GET',
    urls: ['/v1/apikeys/:id'],
    operation: 'get_api_key',
    status: 200,
    schema: schemas.getEntity,
    doc: { summary: 'Get an API key (never its value)', params: { id: "the API key's ID" }, response: apiKeySchema },
    async handle(request, principal, iam) {
      return readView(request, iam, await iam.apiKeyAdmin.get(principal, idOf(request)));
    },
  },
  {
    method: 'PUT',
    urls: ['/v1/apikeys/:id'],
    operation: 'update_api_key',
    status: 200,
    schema: schemas.updateApiKey,
    doc: { summary: 'Update an API key', params: { id: "the API key's ID" }, headers: [ifMatchHeader], response: apiKeySchema },
    async handle(request, principal, iam) {
      const ifMatch = requireIfMatch(request);
      const body = request.body as Partial<ApiKeyBody>;
      const expiresAt = parseExpiresAt(body.expires_at);
      const record = await iam.apiKeyAdmin.update(principal, idOf(request), ifMatch, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(body.support_sessions !== undefined ? { supportSessions: body.support_sessions } : {}),
        ...(body.action_when_leaked !== undefined ? { actionWhenLeaked: body.action_when_leaked } : {}),
      });
      const view = apiKeyView(record);
      return { body: view, etag: view.entity_tag };
    },
  },
  ...removeAndLockRoutes('/v1/apikeys/:id', 'api_key', 'API key', (iam) => iam.apiKeyAdmin),
  {
    method: 'POST',
    urls: ['/v1/apikeys/:id/disable'],
    operation: 'disable_api_key',
    status: 204,
    doc: { summary: 'Disable an API key: it stops working until enabled', params: { id: "the API key's ID" } },
    handle: async (request, principal, iam) => (await iam.apiKeyAdmin.setDisabled(principal, idOf(request), true), {}),
  },
  {
    method: 'DELETE',
    urls: ['/v1/apikeys/:id/disable'],
    operation: 'enable_api_key',
    status: 204,
    doc: { summary: 'Enable a disabled API key', params: { id: "the API key's ID" } },
    handle: async (request, principal, iam) => (await iam.apiKeyAdmin.setDisabled(principal, idOf(request), false), {}),
  },
];

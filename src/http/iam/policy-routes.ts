import type { FastifyInstance, FastifyRequest } from 'fastify';
import { entityTag } from '../../iam/entity-tag.js';
import type { Iam } from '../../iam/iam.js';
import { POLICY_SORTS, type PolicyQuery, type PolicySort } from '../../iam/policies.js';
import { policyErrors } from '../../iam/policy-errors.js';
import { rolesFor, SERVICE_NAMES, type RoleDescription } from '../../iam/policy-roles.js';
import type { Principal } from '../../iam/principal.js';
import { bearerPrincipal } from './bearer.js';
import { sendPolicyError, toPolicyError } from './policy-errors.js';
import { policyView } from './policy-views.js';
import { acceptJsonOrNothing } from './json-body.js';
import { ifMatchHeader, listQuerySchema, policyBodySchema, policyListSchema, policySchema, policyStateBodySchema, roleListSchema, rolesQuerySchema } from './policy-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';

/** A policy body is a few attribute lists; 64 KiB is far beyond any real one. */
const POLICY_BODY_LIMIT = 64 * 1024;

interface PolicyAnswer {
  body?: unknown;
  etag?: string;
}

/** One endpoint of the Policy Management API, as data (§3.1, §3.4). */
interface PolicyRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** IBM's operation name (the SDK's method, in snake case). */
  operation: string;
  status: number;
  /** What GET /openapi.json says of it; the bodies are checked by policy-validation.ts, not by Fastify. */
  doc?: RouteDoc;
  handle(request: FastifyRequest, principal: Principal, iam: Iam): Promise<PolicyAnswer>;
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
const answer = (request: FastifyRequest, record: Parameters<typeof policyView>[1]): PolicyAnswer => ({
  body: policyView(request, record),
  etag: entityTag(record.id, record.version),
});

/** Every v1 policy endpoint Berth serves, and the role lookup the CLI and SDK resolve role names with. */
export const policyRoutesTable: PolicyRoute[] = [
  {
    method: 'POST',
    url: '/v1/policies',
    operation: 'create_policy',
    status: 201,
    doc: { summary: 'Create an access policy', body: policyBodySchema, response: policySchema },
    handle: async (request, principal, iam) => answer(request, await iam.policyAdmin.create(principal, request.body)),
  },
  {
    method: 'GET',
    url: '/v1/policies',
    operation: 'list_policies',
    status: 200,
    doc: { summary: 'List the policies of an account', query: listQuerySchema, response: policyListSchema },
    async handle(request, principal, iam) {
      const query = request.query as Record<string, string | undefined>;
      const records = await iam.policyAdmin.list(principal, readListQuery(query));
      return { body: listPage(request, query, records.map((record) => policyView(request, record))) };
    },
  },
  {
    method: 'GET',
    url: '/v1/policies/:id',
    operation: 'get_policy',
    status: 200,
    doc: { summary: 'Get a policy', params: { id: 'the policy ID' }, response: policySchema },
    handle: async (request, principal, iam) => answer(request, await iam.policyAdmin.get(principal, idOf(request))),
  },
  {
    method: 'PUT',
    url: '/v1/policies/:id',
    operation: 'replace_policy',
    status: 200,
    doc: { summary: 'Replace a policy', params: { id: 'the policy ID' }, headers: [ifMatchHeader], body: policyBodySchema, response: policySchema },
    handle: async (request, principal, iam) => answer(request, await iam.policyAdmin.replace(principal, idOf(request), request.headers['if-match'], request.body)),
  },
  {
    method: 'PATCH',
    url: '/v1/policies/:id',
    operation: 'update_policy_state',
    status: 200,
    doc: { summary: 'Delete or restore a policy by its state', params: { id: 'the policy ID' }, headers: [ifMatchHeader], body: policyStateBodySchema, response: policySchema },
    async handle(request, principal, iam) {
      const state = (request.body as { state?: unknown } | undefined)?.state;
      return answer(request, await iam.policyAdmin.setState(principal, idOf(request), request.headers['if-match'], state));
    },
  },
  {
    method: 'DELETE',
    url: '/v1/policies/:id',
    operation: 'delete_policy',
    status: 204,
    doc: { summary: 'Delete a policy', params: { id: 'the policy ID' } },
    async handle(request, principal, iam) {
      await iam.policyAdmin.remove(principal, idOf(request));
      return {};
    },
  },
  {
    method: 'GET',
    url: '/v2/roles',
    operation: 'list_roles',
    status: 200,
    doc: { summary: 'List the roles a policy can grant', query: rolesQuerySchema, response: roleListSchema },
    async handle(request, principal) {
      const query = request.query as Record<string, string | undefined>;
      if (query.account_id !== undefined && query.account_id !== principal.accountId) throw policyErrors.forbidden(`Account ${query.account_id} is not yours.`);
      // An unknown service is the caller's mistake (a typo, usually); answering with the system roles
      // alone would make a client blame the role name instead.
      if (query.service_name && !SERVICE_NAMES.includes(query.service_name)) throw policyErrors.unknownService(query.service_name, SERVICE_NAMES);
      const { serviceRoles, systemRoles } = rolesFor({
        ...(query.service_name ? { serviceName: query.service_name } : {}),
        ...(query.service_group_id ? { serviceGroupId: query.service_group_id } : {}),
      });
      const view = (role: RoleDescription) => ({ display_name: role.displayName, description: role.description, actions: role.actions, crn: role.crn });
      // Berth has no custom roles.
      return { body: { custom_roles: [], service_roles: serviceRoles.map(view), system_roles: systemRoles.map(view) } };
    },
  },
];

const MAX_LIMIT = 100;

/**
 * The list envelope (§3.2). Without `limit` every match comes in one page, as clients that do not
 * page expect; with it, pages of that size and a `next.start` the SDK's pager passes back as `start`.
 */
function listPage(request: FastifyRequest, query: Record<string, string | undefined>, policies: unknown[]) {
  if (query.limit === undefined && query.start === undefined) return { policies };
  const limit = query.limit === undefined ? MAX_LIMIT : Number(query.limit);
  if (!/^\d+$/.test(query.limit ?? '1') || limit < 1 || limit > MAX_LIMIT) throw policyErrors.invalidQuery(`limit must be 1 to ${MAX_LIMIT}`);
  const offset = query.start === undefined ? 0 : decodeStart(query.start);
  const href = (start?: number) => {
    const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'start'));
    if (start !== undefined) params.set('start', encodeStart(start));
    return `${request.protocol}://${request.host}/v1/policies?${params}`;
  };
  const body: Record<string, unknown> = { limit, first: { href: href() } };
  if (offset + limit < policies.length) body.next = { href: href(offset + limit), start: encodeStart(offset + limit) };
  if (offset > 0) {
    const previous = Math.max(0, offset - limit);
    body.previous = { href: href(previous), start: encodeStart(previous) };
  }
  body.policies = policies.slice(offset, offset + limit);
  return body;
}

const encodeStart = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');

function decodeStart(start: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(start, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the error below.
  }
  throw policyErrors.invalidQuery('start is not one this server issued');
}

/** IBM's list parameters (§3.1). `format` only adds last-permit fields Berth does not track, so it is accepted and ignored. */
function readListQuery(query: Record<string, string | undefined>): PolicyQuery {
  const accountId = query.account_id;
  if (!accountId) throw policyErrors.missingQuery('account_id');
  const { iam_id: iamId, type, service_name: serviceName, sort, state } = query;
  if (type !== undefined && type !== 'access' && type !== 'authorization') throw policyErrors.invalidQuery(`type ${type}`);
  if (state !== undefined && state !== 'active' && state !== 'deleted') throw policyErrors.invalidQuery(`state ${state}`);
  let order: PolicyQuery['sort'];
  if (sort !== undefined) {
    const key = sort.replace(/^-/, '');
    if (!(POLICY_SORTS as readonly string[]).includes(key)) throw policyErrors.invalidQuery(`sort ${sort}`);
    order = { key: key as PolicySort, descending: sort.startsWith('-') };
  }
  return {
    accountId,
    ...(iamId !== undefined ? { iamId } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(serviceName !== undefined ? { serviceName } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(order ? { sort: order } : {}),
  };
}

/** The IAM Policy Management API (v1): Bearer access token of any principal required on every call. */
export async function policyRoutes(app: FastifyInstance, deps: { iam: Iam }): Promise<void> {
  const principals = new WeakMap<FastifyRequest, Principal>();

  app.setErrorHandler(async (error, request, reply) => {
    const policyError = toPolicyError(error);
    if (policyError.status >= 500) request.log.error({ err: error }, 'policy request failed');
    return sendPolicyError(request, reply, policyError);
  });

  acceptJsonOrNothing(app, (details) => policyErrors.invalidBody(details));

  for (const route of policyRoutesTable) {
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: POLICY_BODY_LIMIT,
      // Authenticate before the body is read: an anonymous caller never gets a body parsed.
      onRequest: async (request) => {
        principals.set(request, await bearerPrincipal(request, { missing: policyErrors.invalidToken, invalid: policyErrors.invalidToken }));
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

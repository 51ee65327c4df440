import type { FastifyInstance, FastifyRequest } from 'fastify';
import { entityTag } from '../../iam/entity-tag.js';
import type { Iam } from '../../iam/iam.js';
import { POLICY_SORTS, type PolicyQuery, type PolicySort } from '../../iam/policies.js';
import type { PolicyCaller } from '../../iam/policy-admin.js';
import { policyErrors } from '../../iam/policy-errors.js';
import { sendPolicyError, toPolicyError } from './policy-errors.js';
import { policyView } from './policy-views.js';
import { acceptJsonOrNothing } from './json-body.js';

/** A policy body is a few attribute lists; 64 KiB is far beyond any real one. */
const POLICY_BODY_LIMIT = 64 * 1024;

interface PolicyAnswer {
  body?: unknown;
  etag?: string;
}

/** One endpoint of the Policy Management API, as data (§3.1). */
interface PolicyRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  status: number;
  handle(request: FastifyRequest, caller: PolicyCaller, iam: Iam): Promise<PolicyAnswer>;
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

/** Every v1 policy endpoint Berth serves. PATCH (state) is not served yet. */
export const policyRoutesTable: PolicyRoute[] = [
  {
    method: 'POST',
    url: '/v1/policies',
    status: 201,
    async handle(request, caller, iam) {
      const record = await iam.policyAdmin.create(caller, request.body);
      return { body: policyView(request, record), etag: entityTag(record.id, record.version) };
    },
  },
  {
    method: 'GET',
    url: '/v1/policies',
    status: 200,
    // One page holds every match: the v1 pager follows `next.start`, and with no `next` it stops (§3.2).
    async handle(request, caller, iam) {
      const records = await iam.policyAdmin.list(caller, readListQuery(request.query as Record<string, string | undefined>));
      return { body: { policies: records.map((record) => policyView(request, record)) } };
    },
  },
  {
    method: 'GET',
    url: '/v1/policies/:id',
    status: 200,
    async handle(request, caller, iam) {
      const record = await iam.policyAdmin.get(caller, idOf(request));
      return { body: policyView(request, record), etag: entityTag(record.id, record.version) };
    },
  },
  {
    method: 'PUT',
    url: '/v1/policies/:id',
    status: 200,
    async handle(request, caller, iam) {
      const record = await iam.policyAdmin.replace(caller, idOf(request), request.headers['if-match'], request.body);
      return { body: policyView(request, record), etag: entityTag(record.id, record.version) };
    },
  },
  {
    method: 'DELETE',
    url: '/v1/policies/:id',
    status: 204,
    async handle(request, caller, iam) {
      await iam.policyAdmin.remove(caller, idOf(request));
      return {};
    },
  },
];

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
  const callers = new WeakMap<FastifyRequest, PolicyCaller>();

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
        const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
        if (!match) throw policyErrors.invalidToken();
        const subject = await deps.iam.verifier.verify(match[1]!);
        callers.set(request, await deps.iam.policyAdmin.resolveCaller(subject));
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

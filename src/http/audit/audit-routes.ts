import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { AuditReader, READ_AUDIT_EVENTS } from '../../audit/audit-reader.js';
import { eventJson } from '../../audit/event-json.js';
import type { Iam } from '../../iam/iam.js';
import { identityErrors } from '../../iam/identity-errors.js';
import type { Principal } from '../../iam/principal.js';
import { bearerPrincipal } from '../iam/bearer.js';
import { sendIdentityError } from '../iam/identity-errors.js';
import { toAuditWireError } from './audit-errors.js';
import { readAuditQuery } from './audit-query.js';
import { encodePageToken } from './page-token.js';
import { auditPageSchema, auditQuerySchema } from './event-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';

/** One endpoint of the audit API, as data: what it needs, what it answers, which errors it can give. */
interface AuditRoute {
  method: 'GET';
  url: string;
  /** Names the operation in error bodies, as the Identity API's do. */
  operation: string;
  /** The action the caller needs on its own account (the reader asks the decision for it). */
  action: string;
  status: number;
  errors: readonly number[];
  /** What GET /openapi.json says of it; the query is read by audit-query.ts, not Fastify. */
  doc?: RouteDoc;
  handle(request: FastifyRequest, principal: Principal, reader: AuditReader): Promise<unknown>;
}

/** Every endpoint of Berth's audit API. */
export const auditRoutesTable: AuditRoute[] = [
  {
    method: 'GET',
    url: '/v1/audit/events',
    operation: 'list_audit_events',
    action: READ_AUDIT_EVENTS,
    status: 200,
    // 404: `account_id` naming any account but the caller's own.
    errors: [400, 401, 403, 404],
    doc: { summary: "Read an account's audit trail, oldest first, a page at a time", query: auditQuerySchema, response: auditPageSchema },
    async handle(request, principal, reader) {
      const query = readAuditQuery(request.query, Date.now());
      const page = await reader.read(principal, query);
      const last = page.events[page.events.length - 1];
      return {
        events: page.events.map(eventJson),
        limit: query.limit,
        ...(page.more && last ? { next: { start: encodePageToken(last) } } : {}),
      };
    },
  },
];

/** Berth's audit API: an account's audit trail, read with an IAM access token (Bearer), by policy. */
export async function auditRoutes(app: FastifyInstance, deps: { iam: Iam; audit: AuditLog }): Promise<void> {
  const reader = new AuditReader(deps.audit, deps.iam.authorization);

  app.setErrorHandler(async (error, request, reply) => {
    const wire = toAuditWireError(error);
    if (wire.status >= 500) request.log.error({ err: error }, 'audit request failed');
    const operation = (request.routeOptions.config as { operation?: string }).operation ?? 'audit';
    return sendIdentityError(request, reply, wire, operation);
  });

  for (const route of auditRoutesTable) {
    app.route({
      method: route.method,
      url: route.url,
      config: { operation: route.operation },
      // A GET has no body to parse: authenticating first thing in the handler reads nothing before it.
      handler: async (request, reply) => {
        const principal = await bearerPrincipal(request, { missing: identityErrors.missingToken, invalid: identityErrors.badToken });
        return reply.code(route.status).send(await route.handle(request, principal, reader));
      },
    });
  }
}

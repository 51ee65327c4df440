import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IamError } from '../iam/errors.js';
import { OciError } from '../oci/errors.js';
import { identityErrors } from '../iam/identity-errors.js';
import { policyErrors } from '../iam/policy-errors.js';
import { managementErrors } from '../registry/management-errors.js';
import { sendManagementError } from './cr/management-route.js';
import { sendTokenError } from './iam/errors.js';
import { sendIdentityError } from './iam/identity-errors.js';
import { sendPolicyError } from './iam/policy-errors.js';

/** Whose wire format a path is in, by the prefixes each surface serves. */
export type Surface = 'registry' | 'policy' | 'identity' | 'token' | 'management' | 'other';

/** The IAM collections that live under `/v2/` beside the registry (IBM's Policy v2 and User Management APIs). */
const IAM_UNDER_V2 = new Set(['policies', 'roles', 'accounts']);

export function surfaceOf(path: string): Surface {
  const segments = path.split('/');
  if (segments[1] === 'v1' && segments[2] === 'policies') return 'policy';
  if (segments[1] === 'v2' && (segments[2] === 'policies' || segments[2] === 'roles')) return 'policy';
  if (segments[1] === 'v2' && segments[2] === 'accounts') return 'identity';
  if (segments[1] === 'v1') return 'identity';
  if (segments[1] === 'identity') return 'token';
  if (segments[1] === 'api') return 'management';
  if (segments[1] === 'v2' || segments[1] === 'oauth') return 'registry';
  return 'other';
}

/** A path under `/v2/` that is not a registry route but one of IAM's collections. */
export function isIamPathUnderV2(path: string): boolean {
  const segments = path.split('/');
  return segments[1] === 'v2' && IAM_UNDER_V2.has(segments[2] ?? '');
}

/** A failure in the wire format of the surface `path` belongs to. */
function sendInShape(request: FastifyRequest, reply: FastifyReply, status: 400 | 404, message: string): FastifyReply {
  const path = (request.raw.url ?? '/').split('?')[0]!;
  switch (surfaceOf(path)) {
    case 'policy':
      return sendPolicyError(request, reply, status === 404 ? policyErrors.unknownEndpoint(message) : policyErrors.invalidQuery(message));
    case 'identity':
      return sendIdentityError(request, reply, status === 404 ? identityErrors.unknownEndpoint(message) : identityErrors.invalid(message), 'unknown');
    case 'token':
      return sendTokenError(request, reply, status === 404 ? new IamError(404, 'BXNIM0102E', `There is no ${message} in the IAM token API.`) : new IamError(400, 'BXNIM0106E', message));
    case 'management':
      return sendManagementError(reply, status === 404 ? managementErrors.unknownEndpoint(message) : managementErrors.badRequest(message));
    case 'registry': {
      const error = new OciError('UNSUPPORTED', undefined, { status, message: status === 404 ? `no such endpoint: ${message}` : message });
      return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(error.toJSON()));
    }
    case 'other':
      return reply.code(status).header('content-type', 'application/json').send({ errors: [{ code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: status === 404 ? `There is no ${message} on this server.` : message }] });
  }
}

/** Answers an unserved path or method in the shape of the surface the path belongs to. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = (request.raw.url ?? '/').split('?')[0]!;
  return sendInShape(request, reply, 404, `${request.method} ${path}`);
}

/**
 * A NUL character (`%00`) in a path or query names nothing Berth has, and PostgreSQL refuses it in
 * text: such a request is a 400 in its surface's shape before any route sees it.
 */
export function registerNulGuard(app: FastifyInstance): void {
  // Callback style, as every hook on the request path: an async hook costs each request promises.
  app.addHook('onRequest', (request, reply, done) => {
    if (!(request.raw.url ?? '').includes('%00')) return done();
    // Answered here: the request goes no further (done is not called).
    void sendInShape(request, reply, 400, 'the request URL holds a NUL character (%00)');
  });
}

/**
 * The server's not-found answer, in a plugin of its own: bodies sent to unserved paths are never
 * parsed (an empty or broken JSON body would otherwise get the framework's own 400 first).
 */
export async function notFoundPlugin(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.setNotFoundHandler(async (request, reply) => sendNotFound(request, reply));
}

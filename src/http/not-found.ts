import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IamError } from '../iam/errors.js';
import { identityErrors } from '../iam/identity-errors.js';
import { policyErrors } from '../iam/policy-errors.js';
import { managementErrors } from '../registry/management-errors.js';
import { sendManagementError } from './cr/management-route.js';
import { sendTokenError } from './iam/errors.js';
import { sendIdentityError } from './iam/identity-errors.js';
import { sendPolicyError } from './iam/policy-errors.js';

/** Whose wire format a path is in, by the prefixes each surface serves. */
export type Surface = 'policy' | 'identity' | 'token' | 'management' | 'other';

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
  return 'other';
}

/** A path under `/v2/` that is not a registry route but one of IAM's collections. */
export function isIamPathUnderV2(path: string): boolean {
  const segments = path.split('/');
  return segments[1] === 'v2' && IAM_UNDER_V2.has(segments[2] ?? '');
}

/** Answers an unserved path or method in the shape of the surface the path belongs to. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = (request.raw.url ?? '/').split('?')[0]!;
  const what = `${request.method} ${path}`;
  switch (surfaceOf(path)) {
    case 'policy':
      return sendPolicyError(request, reply, policyErrors.unknownEndpoint(what));
    case 'identity':
      return sendIdentityError(request, reply, identityErrors.unknownEndpoint(what), 'unknown');
    case 'token':
      return sendTokenError(request, reply, new IamError(404, 'BXNIM0102E', `There is no ${what} in the IAM token API.`));
    case 'management':
      return sendManagementError(reply, managementErrors.unknownEndpoint(request.method, path));
    case 'other':
      return reply.code(404).header('content-type', 'application/json').send({ errors: [{ code: 'NOT_FOUND', message: `There is no ${what} on this server.` }] });
  }
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

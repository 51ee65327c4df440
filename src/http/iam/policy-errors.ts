import type { FastifyReply, FastifyRequest } from 'fastify';
import { entityTag } from '../../iam/entity-tag.js';
import { IamError } from '../../iam/errors.js';
import { PolicyError, policyErrors } from '../../iam/policy-errors.js';
import { policyView } from './policy-views.js';

/** Any failure as a PolicyError: ours pass through, the verifier's 401s and the framework's 4xx keep their status, the rest are 500s. */
export function toPolicyError(error: unknown): PolicyError {
  if (error instanceof PolicyError) return error;
  if (error instanceof IamError) return error.status === 401 ? policyErrors.invalidToken() : policyErrors.invalidBody(error.message);
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  if (statusCode === 415) return policyErrors.unsupportedContentType(message ?? 'unsupported content type');
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return new PolicyError(statusCode, 'invalid_body', message ?? 'invalid request');
  }
  return policyErrors.internal();
}

/**
 * IBM's Policy API error body (§3.3). No `context.url`: the SDK would take any body carrying one
 * for an authentication failure and hide the message (§0.3).
 */
export function sendPolicyError(request: FastifyRequest, reply: FastifyReply, error: PolicyError): FastifyReply {
  const trace = request.id.replaceAll('-', '');
  const conflict = error.conflictsWith;
  const details = conflict
    ? { conflicts_with: { etag: entityTag(conflict.id, conflict.version), policy: policyView(request, conflict) } }
    : error.details;
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .header('transaction-id', trace)
    .send({
      trace,
      errors: [{ code: error.code, message: error.message, ...(details !== undefined ? { details } : {}) }],
      status_code: error.status,
    });
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { IamError } from '../../iam/errors.js';
import { IdentityError, identityErrors } from '../../iam/identity-errors.js';
import { PolicyError } from '../../iam/policy-errors.js';

/** Short codes for the framework's own 4xx answers (bad JSON, body too large, wrong content type). */
const FRAMEWORK_CODES: Record<number, string> = { 413: 'payload_too_large', 415: 'unsupported_media_type' };

/** Any failure as an IdentityError: ours pass through, the framework's 4xx keep their status, the rest are 500s. */
export function toIdentityError(error: unknown): IdentityError {
  if (error instanceof IdentityError) return error;
  // A policy given with an invitation was refused: keep its status and say why.
  if (error instanceof PolicyError) return new IdentityError(error.status, error.code, 'BXNIM0106E', error.message);
  if (error instanceof IamError) {
    // The token verifier's 401s carry no short code of their own.
    return new IdentityError(error.status, error.status === 401 ? 'unauthorized' : 'bad_request', error.errorCode, error.message, error.details);
  }
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  if (statusCode === 400) return identityErrors.invalid(message ?? 'invalid request');
  if (statusCode !== undefined && statusCode > 400 && statusCode < 500) {
    return new IdentityError(statusCode, FRAMEWORK_CODES[statusCode] ?? 'bad_request', 'BXNIM0106E', 'Property validation failed.', message);
  }
  return new IdentityError(500, 'internal_error', 'BXNIM0500E', 'Internal error.');
}

/** IBM's Identity API error body: a context, the status as a string, one error, and a trace id. */
export function sendIdentityError(request: FastifyRequest, reply: FastifyReply, error: IdentityError, operation: string): FastifyReply {
  const transactionId = request.id;
  const start = Date.now() - reply.elapsedTime;
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .header('transaction-id', transactionId)
    .send({
      context: {
        transaction_id: transactionId,
        operation,
        user_agent: request.headers['user-agent'] ?? '',
        // The path only: the SDK takes any error whose context.url contains "iam" (an iam_id in a
        // query, say) for a credentials failure and hides its message (§0.3).
        url: request.url.split('?')[0],
        instance_id: '',
        thread_id: '',
        host: request.host,
        start_time: new Date(start).toISOString(),
        end_time: new Date().toISOString(),
        elapsed_time: String(Math.round(reply.elapsedTime)),
        cluster_name: 'berth',
      },
      status_code: String(error.status),
      errors: [{ code: error.code, message_code: error.errorCode, message: error.message, details: error.details ?? '' }],
      trace: transactionId,
    });
}

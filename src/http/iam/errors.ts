import type { FastifyReply, FastifyRequest } from 'fastify';
import { IamError } from '../../iam/errors.js';

/** IBM's token-service error body: a request context, a BXNIM code, a message and optional details. */
export function sendTokenError(request: FastifyRequest, reply: FastifyReply, error: IamError): FastifyReply {
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .send({
      context: {
        requestId: request.id,
        requestType: 'incoming.Identity_Token',
        userAgent: request.headers['user-agent'] ?? '',
        url: `${request.protocol}://${request.host}`,
        startTime: new Date().toISOString(),
      },
      errorCode: error.errorCode,
      errorMessage: error.message,
      ...(error.details !== undefined ? { errorDetails: error.details } : {}),
    });
}

/** Errors that are not IamErrors (bad form, body too large) in the same shape; the rest are 500s. */
export function toIamError(error: unknown): IamError {
  if (error instanceof IamError) return error;
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return new IamError(statusCode, 'BXNIM0106E', 'Property validation failed.', message);
  }
  return new IamError(500, 'BXNIM0500E', 'Internal error.');
}

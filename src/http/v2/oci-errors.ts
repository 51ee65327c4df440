import type { FastifyReply, FastifyRequest } from 'fastify';
import { OciError } from '../../oci/errors.js';

/** Errors that are not ours: Fastify's client errors keep their status and message; the rest are 500s. */
export function toOciError(error: unknown): OciError {
  if (error instanceof OciError) return error;
  const { statusCode, code, message } = error as { statusCode?: number; code?: string; message?: string };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new OciError('UNSUPPORTED', undefined, { status: 415, message: 'the Content-Type header is not a valid media type' });
  }
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new OciError('SIZE_INVALID', undefined, { message: 'invalid Content-Length' });
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return new OciError('UNSUPPORTED', undefined, { status: statusCode, message: message ?? 'bad request' });
  }
  return new OciError('UNKNOWN');
}

/** Any failure as the registry's error JSON (`{"errors":[…]}`), with the headers it carries (a challenge, a Range). */
export function sendOciError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const oci = toOciError(error);
  if (oci.status >= 500) request.log.error({ err: error }, 'request failed');
  reply.removeHeader('content-length');
  reply.headers(oci.headers);
  // A refused body may still be arriving; don't make the connection swallow it.
  if (oci.status === 413) reply.header('connection', 'close');
  return reply.code(oci.status).header('content-type', 'application/json').send(JSON.stringify(oci.toJSON()));
}

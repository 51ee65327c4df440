import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError, LoginThrottledError, TokenRequestError } from '../../auth/errors.js';
import { OciError } from '../../oci/errors.js';
import { RegistryError } from '../../registry/errors.js';
import { isNoSpace, StorageFullError } from '../../storage/blob-store.js';

/**
 * The registry's refusals in OCI terms. Quotas and a full disk are DENIED with a 4xx status:
 * docker, podman and skopeo print a 4xx's message after `denied:`, but a 5xx only as a status.
 */
function fromRegistryError(error: RegistryError): OciError {
  switch (error.kind) {
    case 'storage-quota':
    case 'traffic-quota':
      return new OciError('DENIED', undefined, { message: error.message });
    case 'in-use':
      return new OciError('DENIED', undefined, { status: 409, message: error.message });
    case 'not-in-trash':
    case 'tag-taken':
    case 'invalid':
      return new OciError('UNSUPPORTED', undefined, { status: 400, message: error.message });
  }
}

/** What a client is told when the registry's disk is full: what happened, and what frees space. */
export const STORAGE_FULL_MESSAGE =
  'The registry is out of storage space: it cannot take more data until space is freed (delete images, then run berth gc). Pulls, logins and deletes still work.';

/** Errors that are not ours: Fastify's client errors keep their status and message; the rest are 500s. */
export function toOciError(error: unknown): OciError {
  if (error instanceof OciError) return error;
  if (error instanceof RegistryError) return fromRegistryError(error);
  if (error instanceof AuthenticationError) return new OciError('UNAUTHORIZED', undefined, { message: error.message });
  if (error instanceof LoginThrottledError) return new OciError('TOOMANYREQUESTS', undefined, { message: error.message, headers: { 'Retry-After': String(error.retryAfterSeconds) } });
  if (error instanceof TokenRequestError) return new OciError('UNSUPPORTED', error.detail, { status: 400, message: error.message });
  if (error instanceof StorageFullError || isNoSpace(error)) return new OciError('DENIED', undefined, { message: STORAGE_FULL_MESSAGE });
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

/** The most of an unread body read and dropped before an answer to a closing client. */
const DRAIN_LIMIT = 256 * 1024 * 1024;

/**
 * A request refused before its body was read (a quota refusal at POST or PATCH, a manifest over
 * the limit) has its body still arriving. Node answers a keep-alive client at once and then reads
 * the rest and drops it. But it closes the socket of a client that sent `Connection: close`
 * (skopeo) with the body unread, and the reset that follows can destroy the answer before the
 * client reads it: that client's body is read and dropped first, then it gets its answer.
 */
async function drainForClosingClient(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = request.raw;
  if (reply.raw.shouldKeepAlive || body.complete || body.destroyed) return;
  // Bounded: past DRAIN_LIMIT the answer goes out anyway; a silent body is cut off by the body idle timeout.
  if (Number(request.headers['content-length']) > DRAIN_LIMIT) return;
  let drained = 0;
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained <= DRAIN_LIMIT) return;
      body.off('data', onData).pause();
      resolve();
    };
    body.on('data', onData).once('end', resolve).once('close', resolve).once('error', () => resolve());
  });
}

/** Any failure as the registry's error JSON (`{"errors":[…]}`), with the headers it carries (a challenge, a Range). */
export async function sendOciError(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
  const oci = toOciError(error);
  if (oci.status >= 500) request.log.error({ err: error }, 'request failed');
  else if (oci.message === STORAGE_FULL_MESSAGE) request.log.warn({ err: error }, 'storage is full');
  reply.removeHeader('content-length');
  reply.headers(oci.headers);
  await drainForClosingClient(request, reply);
  return reply.code(oci.status).header('content-type', 'application/json').send(JSON.stringify(oci.toJSON()));
}

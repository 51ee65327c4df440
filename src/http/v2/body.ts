import type { FastifyRequest } from 'fastify';
import { OciError } from '../../oci/errors.js';

function tooLarge(limit: number): OciError {
  return new OciError('SIZE_INVALID', { limit }, { status: 413, message: `manifest exceeds the ${limit}-byte limit` });
}

/**
 * Reads a small body (a manifest) whole. One declared over `limit` is refused before a byte is
 * read; one that passes `limit` as it arrives stops being kept, and the rest is read and dropped
 * (breaking off would close the socket under the client, and with it the 413 it is owed).
 */
export async function readLimitedBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total <= limit) chunks.push(chunk as Buffer);
  }
  if (total > limit) throw tooLarge(limit);
  return Buffer.concat(chunks, total);
}

import type { FastifyRequest } from 'fastify';
import type { ChunkRange } from '../../registry/uploads.js';

/** `Content-Range: <start>-<end>` of a chunk (the spec's form; `bytes ` / `bytes=` prefixes tolerated). */
export function parseContentRange(header: string | undefined): ChunkRange | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return 'invalid';
  return { start, end };
}

export type ByteRangeRequest = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * A single `Range: bytes=…` request against a blob of `size` bytes (RFC 9110). Forms we do not
 * serve (several ranges, other units) are ignored, which the RFC allows: the whole blob follows.
 */
export function parseRange(header: string | undefined, size: number): ByteRangeRequest {
  if (header === undefined) return undefined;
  // The range unit is case-insensitive (RFC 9110 §14.1).
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || (match[2] !== '' && Number(match[2]) < start)) return 'unsatisfiable';
  return { start, end };
}

/** Whether the request carries a body at all (a chunk on PUT is optional). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

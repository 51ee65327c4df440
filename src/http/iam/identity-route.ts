import type { FastifyRequest, FastifySchema } from 'fastify';
import type { Caller } from '../../iam/caller.js';
import type { Iam } from '../../iam/iam.js';

/** What a handler answers: a body for the success status, and the ETag for single-entity reads and writes. */
export interface IdentityAnswer {
  body?: unknown;
  etag?: string;
}

/** One endpoint of the Identity API, as data: the plugin registers these and names errors by `operation`. */
export interface IdentityRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  urls: string[];
  operation: string;
  status: number;
  schema?: FastifySchema;
  handle(request: FastifyRequest, caller: Caller, iam: Iam): Promise<IdentityAnswer>;
}

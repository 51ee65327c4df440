import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Endpoint } from '../openapi/endpoint.js';
import { regionsSchema } from './management-schemas.js';

/** Berth's own discovery (IBM's CLI has its table built in): which regions, at which registry hosts. No login needed. */
export const regionsEndpoint: Endpoint = {
  method: 'GET',
  url: '/api/v1/regions',
  operation: 'list_regions',
  status: 200,
  security: [],
  doc: { summary: 'The regions of this Berth and their registry hosts', response: regionsSchema },
};

export function registerRegions(app: FastifyInstance, regionsFor: (request: FastifyRequest) => Array<{ name: string; registry: string }>): void {
  app.get(regionsEndpoint.url, async (request) => regionsFor(request));
}

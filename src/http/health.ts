import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Endpoint } from './openapi/endpoint.js';
import { named, object, string } from './openapi/schema.js';

const healthBody = named('Health', object({ status: { type: 'string', enum: ['ok', 'unavailable'] }, reason: string('why it is not ready') }, ['status']));

/** The two probes as data: registered below, described by GET /openapi.json. */
export const healthEndpoints: { live: Endpoint; ready: Endpoint } = {
  live: { method: 'GET', url: '/healthz', operation: 'get_health', status: 200, security: [], doc: { summary: 'The process answers', response: healthBody } },
  ready: {
    method: 'GET',
    url: '/readyz',
    operation: 'get_readiness',
    status: 200,
    security: [],
    doc: { summary: 'The process answers and reaches its database', response: healthBody, otherStatuses: { 503: 'The database is not reachable.' } },
  },
};

/** `/healthz`: the process answers. `/readyz`: it can also reach its database. */
export function registerHealth(app: FastifyInstance, db: Kysely<Database>): void {
  app.get(healthEndpoints.live.url, async () => ({ status: 'ok' }));
  app.get(healthEndpoints.ready.url, async (request, reply) => {
    try {
      await sql`select 1`.execute(db);
      return { status: 'ok' };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable', reason: 'database not reachable' });
    }
  });
}

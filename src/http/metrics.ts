import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Endpoint } from './openapi/endpoint.js';

export const metricsEndpoint: Endpoint = {
  method: 'GET',
  url: '/metrics',
  operation: 'get_metrics',
  status: 200,
  security: [],
  doc: { summary: 'Prometheus metrics of this node', response: { type: 'string' }, responseMediaType: 'text/plain; version=0.0.4' },
};

/** Prometheus metrics of one app; a registry per app so tests can run many side by side. */
export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  const requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'Time to the end of the response, by route and method.',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeId ?? request.routeOptions.url ?? 'unknown';
    requests.inc({ route, method: request.method, status: reply.statusCode });
    duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
  app.get(metricsEndpoint.url, async (_request, reply) => {
    reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
  return registry;
}

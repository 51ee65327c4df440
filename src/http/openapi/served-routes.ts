import type { FastifyInstance } from 'fastify';

export interface ServedRoute {
  method: string;
  url: string;
}

/**
 * Records every route registered on the app from here on, as Fastify sees it (`app.servedRoutes`):
 * what the OpenAPI test holds the document against, so a route that bypasses the route tables
 * cannot go undescribed unnoticed.
 */
export function recordServedRoutes(app: FastifyInstance): void {
  const routes: ServedRoute[] = [];
  app.decorate('servedRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    servedRoutes: readonly ServedRoute[];
  }
}

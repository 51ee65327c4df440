import type { FastifyInstance } from 'fastify';
import { describedApis, openApiEndpoint } from './described-apis.js';
import { openApiDocument } from './document.js';
import { berthVersion } from '../../version.js';

/**
 * `GET /openapi.json`: the document of every JSON API, public (it describes, it grants nothing).
 * Built once, at start: the route tables do not change while the process runs, and a table the
 * generator cannot describe stops the start rather than the first reader.
 */
export function registerOpenApi(app: FastifyInstance): void {
  const document = JSON.stringify(openApiDocument(describedApis(), berthVersion()));
  app.get(openApiEndpoint.url, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(document));
}

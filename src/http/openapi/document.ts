import { STATUS_CODES } from 'node:http';
import { SchemaComponents } from './components.js';
import type { ApiSurface, Endpoint } from './endpoint.js';
import { headerParameters, openApiPath, pathParameters, queryParameters } from './parameters.js';
import type { RouteDoc, WildcardDoc } from './route-doc.js';
import { nameOf } from './schema.js';

/** The vendor extension naming the Fastify route(s) an operation is served by (the tests match them). */
export const ROUTE_EXTENSION = 'x-berth-routes';

const SECURITY_SCHEMES = {
  iamToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An IAM access token from POST /identity/token.' },
  tokenClient: { type: 'http', scheme: 'basic', description: 'The token client: the IBM Cloud CLI sends bx:bx to get a refresh token; anyone else sends none.' },
  registryLogin: { type: 'http', scheme: 'basic', description: 'User name iamapikey and an API key as password (or iambearer with an access token, iamrefresh with a refresh token).' },
};

type Operation = Record<string, unknown>;

/** The endpoints a route stands for: its own, or those a wildcard route lists. */
function docsOf(endpoint: Endpoint): WildcardDoc[] {
  const path = openApiPath(endpoint.url);
  const fallback = `${endpoint.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, '')}`;
  if (Array.isArray(endpoint.doc)) return endpoint.doc as WildcardDoc[];
  const doc = (endpoint.doc as RouteDoc | undefined) ?? { summary: `${endpoint.method} ${endpoint.url}` };
  return [{ ...doc, path, operation: endpoint.operation ?? fallback }];
}

function content(mediaType: string, schema: unknown) {
  return { content: { [mediaType]: { schema } } };
}

function responsesOf(surface: ApiSurface, endpoint: Endpoint, doc: RouteDoc, components: SchemaComponents, errorResponse: unknown) {
  const body = doc.response === undefined ? {} : content(doc.responseMediaType ?? 'application/json', components.use(doc.response));
  const responses: Record<string, unknown> = {
    [endpoint.status]: { description: STATUS_CODES[endpoint.status] ?? 'Success', ...(endpoint.status === 204 ? {} : body) },
  };
  for (const [status, description] of Object.entries(doc.otherStatuses ?? {})) responses[status] = { description, ...body };
  for (const status of [...surface.errors, ...(endpoint.errors ?? [])].sort((a, b) => a - b)) responses[status] ??= errorResponse;
  responses.default = errorResponse;
  return responses;
}

function operationOf(surface: ApiSurface, endpoint: Endpoint, doc: WildcardDoc, components: SchemaComponents): Operation {
  const schema = endpoint.schema ?? {};
  const errorResponse = { $ref: `#/components/responses/${nameOf(surface.errorBody)}` };
  const parameters = [
    ...pathParameters(doc.path, schema.params, doc.params),
    ...queryParameters([schema.querystring, doc.query], components),
    ...headerParameters([...(endpoint.headers ?? []), ...(doc.headers ?? [])]),
  ];
  const body = schema.body ?? doc.body;
  const aliases = endpoint.aliases ?? [];
  return {
    operationId: doc.operation,
    tags: [surface.tag],
    summary: doc.summary,
    ...(doc.description || aliases.length > 0 ? { description: [doc.description, ...aliases.map((alias) => `Also answered at \`${alias}\`.`)].filter(Boolean).join('\n\n') } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body !== undefined ? { requestBody: { required: doc.bodyOptional !== true, ...content(doc.bodyMediaType ?? 'application/json', components.use(body)) } } : {}),
    responses: responsesOf(surface, endpoint, doc, components, errorResponse),
    security: endpoint.security ?? surface.security,
    [ROUTE_EXTENSION]: [endpoint.url, ...aliases],
  };
}

/**
 * The OpenAPI 3.1 document of these surfaces, built from their route tables: every endpoint
 * becomes an operation with its parameters, body, success and error answers, and security.
 */
export function openApiDocument(surfaces: readonly ApiSurface[], version: string) {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, Operation>> = {};
  const operationIds = new Set<string>();
  const errorResponses: Record<string, unknown> = {};
  for (const surface of surfaces) {
    const errorName = nameOf(surface.errorBody)!;
    errorResponses[errorName] ??= { description: `A failure, in the ${errorName} shape.`, ...content('application/json', components.use(surface.errorBody)) };
    for (const endpoint of surface.endpoints) {
      for (const doc of docsOf(endpoint)) {
        const method = endpoint.method.toLowerCase();
        const item = (paths[doc.path] ??= {});
        if (item[method]) throw new Error(`${endpoint.method} ${doc.path} is described twice`);
        if (operationIds.has(doc.operation)) throw new Error(`operation ${doc.operation} is described twice`);
        operationIds.add(doc.operation);
        item[method] = operationOf(surface, endpoint, doc, components);
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Berth',
      version,
      description: 'The JSON APIs of a Berth registry: IAM (tokens, identities, policies, account users), the Container Registry management API, the audit trail and operations. The OCI distribution API (/v2/…) is specified by the OCI, not here.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: surfaces.map((surface) => ({ name: surface.tag, description: surface.description })),
    paths,
    components: { schemas: components.schemas, responses: errorResponses, securitySchemes: SECURITY_SCHEMES },
  };
}

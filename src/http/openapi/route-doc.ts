/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it) as plain data. */
export type JsonSchema = Record<string, unknown>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A header a route reads, for the document. */
export interface HeaderDoc {
  name: string;
  required?: boolean;
  description: string;
  schema?: JsonSchema;
}

/**
 * How an endpoint is described in `GET /openapi.json`, beside the route it describes. None of
 * this is validated by Fastify: the handlers check their own input with their surface's error
 * messages, and a response schema given to Fastify would strip fields from the answer.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Query parameters (an object schema) the handler reads, when the route has no Fastify querystring schema. */
  query?: JsonSchema;
  /** Path parameters' descriptions, by name. */
  params?: Record<string, string>;
  headers?: HeaderDoc[];
  /** The request body, when the route has no Fastify body schema. */
  body?: JsonSchema;
  /** The body may be left out (the handler takes none as empty). */
  bodyOptional?: boolean;
  /** `application/json` unless said. */
  bodyMediaType?: string;
  /** The success body; none means an empty answer. */
  response?: JsonSchema;
  responseMediaType?: string;
  /** Other success answers than the route's status, with what they mean. */
  otherStatuses?: Record<number, string>;
}

/**
 * One of the endpoints a wildcard route (`/api/v1/images/*`) stands for: its own path template
 * (`/api/v1/images/{image}/json`) and operation.
 */
export interface WildcardDoc extends RouteDoc {
  path: string;
  operation: string;
}

import type { HeaderDoc, HttpMethod, JsonSchema, RouteDoc, WildcardDoc } from './route-doc.js';

/** Who may call an endpoint, by the security schemes of document.ts: any one of the entries. */
export type Security = Array<Record<string, string[]>>;

/** One registered route as the document sees it: the same method and URL the app registers. */
export interface Endpoint {
  method: HttpMethod;
  /** Fastify's URL (`/v1/apikeys/:id`, `/api/v1/images/*`). */
  url: string;
  /** Further URLs registered for the same handler (a trailing-slash spelling). */
  aliases?: readonly string[];
  operation?: string;
  status: number;
  /** The Fastify schema the route is validated with, if any. */
  schema?: { params?: unknown; querystring?: unknown; body?: unknown; headers?: unknown };
  /** Error statuses the route is known to answer, besides its surface's. */
  errors?: readonly number[];
  /** A wildcard route lists the endpoints it stands for. */
  doc?: RouteDoc | readonly WildcardDoc[];
  /** Instead of its surface's. */
  security?: Security;
  /** Headers its surface reads on it (the management API's Account). */
  headers?: readonly HeaderDoc[];
}

/** The endpoints of one API that share an error body and authentication. */
export interface ApiSurface {
  tag: string;
  description: string;
  security: Security;
  errorBody: JsonSchema;
  /** Error statuses every endpoint of it can answer. */
  errors: readonly number[];
  endpoints: readonly Endpoint[];
}

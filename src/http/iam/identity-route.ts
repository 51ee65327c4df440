import type { FastifyRequest, FastifySchema } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import type { Principal } from '../../iam/principal.js';
import type { RouteDoc } from '../openapi/route-doc.js';

/** What a handler answers: a body for the success status, and the ETag for single-entity reads and writes. */
export interface IdentityAnswer {
  body?: unknown;
  etag?: string;
}

/** One endpoint of the Identity API, as data: the plugin registers these and names errors by `operation`. */
export interface IdentityRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  urls: string[];
  operation: string;
  status: number;
  schema?: FastifySchema;
  /** What GET /openapi.json says of it beyond `schema`. */
  doc?: RouteDoc;
  handle(request: FastifyRequest, principal: Principal, iam: Iam): Promise<IdentityAnswer>;
}

/** What an entity's admin offers for removal and locking (API keys and service IDs alike). */
interface RemovableLockable {
  remove(principal: Principal, id: string): Promise<void>;
  setLocked(principal: Principal, id: string, locked: boolean): Promise<void>;
}

/** A flag from the query string (the schema has made it a boolean). */
export const queryFlag = (request: FastifyRequest, name: string) => (request.query as Record<string, unknown>)[name] === true;

/**
 * `DELETE <path>`, `POST <path>/lock` and `DELETE <path>/lock` (all 204): the same three endpoints
 * for every lockable entity. `path` ends in `/:id`; `entity` names the operations (`api_key`) and
 * `label` the entity in their summaries (`API key`).
 */
export function removeAndLockRoutes(path: string, entity: string, label: string, admin: (iam: Iam) => RemovableLockable): IdentityRoute[] {
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const params = { id: `the ${label}'s ID` };
  return [
    {
      method: 'DELETE',
      urls: [path],
      operation: `delete_${entity}`,
      status: 204,
      doc: { summary: `Delete a ${label}`, params },
      handle: async (request, principal, iam) => (await admin(iam).remove(principal, idOf(request)), {}),
    },
    {
      method: 'POST',
      urls: [`${path}/lock`],
      operation: `lock_${entity}`,
      status: 204,
      doc: { summary: `Lock a ${label}: it can be neither changed nor deleted until unlocked`, params },
      handle: async (request, principal, iam) => (await admin(iam).setLocked(principal, idOf(request), true), {}),
    },
    {
      method: 'DELETE',
      urls: [`${path}/lock`],
      operation: `unlock_${entity}`,
      status: 204,
      doc: { summary: `Unlock a ${label}`, params },
      handle: async (request, principal, iam) => (await admin(iam).setLocked(principal, idOf(request), false), {}),
    },
  ];
}

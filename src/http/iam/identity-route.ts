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

/** What an entity's admin offers for removal and locking (API keys and service IDs alike). */
interface RemovableLockable {
  remove(caller: Caller, id: string): Promise<void>;
  setLocked(caller: Caller, id: string, locked: boolean): Promise<void>;
}

/**
 * `DELETE <path>`, `POST <path>/lock` and `DELETE <path>/lock` (all 204): the same three endpoints
 * for every lockable entity. `path` ends in `/:id`; `entity` names the operations (`api_key`).
 */
export function removeAndLockRoutes(path: string, entity: string, admin: (iam: Iam) => RemovableLockable): IdentityRoute[] {
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  return [
    { method: 'DELETE', urls: [path], operation: `delete_${entity}`, status: 204, handle: async (request, caller, iam) => (await admin(iam).remove(caller, idOf(request)), {}) },
    { method: 'POST', urls: [`${path}/lock`], operation: `lock_${entity}`, status: 204, handle: async (request, caller, iam) => (await admin(iam).setLocked(caller, idOf(request), true), {}) },
    { method: 'DELETE', urls: [`${path}/lock`], operation: `unlock_${entity}`, status: 204, handle: async (request, caller, iam) => (await admin(iam).setLocked(caller, idOf(request), false), {}) },
  ];
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessEvents } from '../../audit/access-events.js';
import type { Actor } from '../../audit/actor.js';
import type { Access, Caller } from '../../auth/access.js';
import type { Authorizer } from '../../auth/authorize.js';
import type { Authenticator } from '../../auth/authenticate.js';
import type { BerthConfig } from '../../config/config.js';
import type { RegionRegistry } from '../../registry/regional.js';
import type { Locations } from './locations.js';

/** What the /v2 surface is built from. */
export interface V2Options {
  /** The registry of one region. */
  registryOf(region: string): RegionRegistry;
  /** The region a request reached. */
  regionOf(request: FastifyRequest): string;
  /** The base URL clients reach a region's registry at, when one is configured (no trailing slash). */
  publicUrlOf(region: string): string | undefined;
  authenticator: Authenticator;
  authorizer: Authorizer;
  config: BerthConfig;
  /** Where pulls are recorded for the audit trail. */
  events?: AccessEvents;
}

/** What one request's handler works with: its region's registry. */
export interface V2Dependencies extends V2Options {
  region: string;
  registry: RegionRegistry;
}

/** One matched /v2 request, as its handler sees it. */
export interface V2Context {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Repository name (empty for `/v2/` and `_catalog`). */
  name: string;
  params: Record<string, string>;
  query: URLSearchParams;
  caller: Caller;
  deps: V2Dependencies;
  /** Where Location headers point: under the region's public URL, or relative. */
  locations: Locations;
  /** Asks the authorizer whether every action of `access` is granted. */
  may(access: Access): Promise<boolean>;
  /** Of these repositories, the ones the caller may pull (by its policies now, not only its token). */
  pullable(names: string[]): Promise<Set<string>>;
}

export type V2Handler = (ctx: V2Context) => Promise<void>;

/** The caller as the audit trail names it. */
export function actorOf(caller: Caller, request: FastifyRequest): Actor {
  const principal = caller.kind === 'principal' ? caller : undefined;
  return { principalId: principal?.id ?? null, principalName: principal?.name ?? null, client: request.ip, requestId: request.id };
}

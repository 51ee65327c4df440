import type { FastifyRequest } from 'fastify';
import type { Resource } from '../../iam/authorize.js';
import type { SubjectAccess } from '../../iam/authorization.js';
import type { Principal } from '../../iam/principal.js';
import { managementErrors } from '../../registry/management-errors.js';
import type { RegionRegistry } from '../../registry/regional.js';
import type { Registry } from '../../registry/registry.js';

/** What a management handler works with: who calls, in which region, with which registry. */
export interface ManagementContext {
  principal: Principal;
  access: SubjectAccess;
  region: string;
  registry: Registry;
  regional: RegionRegistry;
  /** This registry's host as image references write it (the first), and the others it answers to. */
  hosts: string[];
}

/** One endpoint of the Container Registry management API, as data. */
export interface ManagementRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  status: number;
  handle(request: FastifyRequest, ctx: ManagementContext): Promise<{ body?: unknown; status?: number }>;
}

/** Container Registry resources in policy terms: service-wide in the region, or one namespace. */
export const crResource = {
  service: (ctx: ManagementContext): Resource => ({ accountId: ctx.principal.accountId, serviceName: 'container-registry', region: ctx.region }),
  namespace: (ctx: ManagementContext, namespace: string): Resource => ({
    ...crResource.service(ctx),
    resourceType: 'namespace',
    resource: namespace,
  }),
};

/** Throws 403 unless the caller holds `container-registry.<action>` on the resource. */
export function requireAction(ctx: ManagementContext, action: string, resource: Resource): void {
  if (!ctx.access.can(`container-registry.${action}`, resource)) throw managementErrors.denied(`container-registry.${action}`);
}

/** The caller's namespace of that name in this region; another account's is as missing as none (404). */
export async function ownNamespace(ctx: ManagementContext, name: string) {
  const record = await ctx.registry.namespaces.get(ctx.region, name);
  if (!record || record.account_id !== ctx.principal.accountId) throw managementErrors.namespaceUnknown(name);
  return record;
}

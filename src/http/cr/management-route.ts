import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../audit/actor.js';
import type { Resource } from '../../iam/authorize.js';
import type { SubjectAccess } from '../../iam/authorization.js';
import type { Principal } from '../../iam/principal.js';
import { RegistryError, type RegistryErrorKind } from '../../registry/errors.js';
import { ManagementError, managementErrors } from '../../registry/management-errors.js';
import { isNoSpace, StorageFullError } from '../../storage/blob-store.js';
import type { RegionRegistry } from '../../registry/regional.js';
import type { Registry } from '../../registry/registry.js';
import type { RouteDoc, WildcardDoc } from '../openapi/route-doc.js';

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
  /** IBM's operation name (the SDK's method, in snake case); a wildcard route's are in its docs. */
  operation?: string;
  status: number;
  /** Any account's token may call it: no `Account` header is asked for. */
  anyAccount?: true;
  /** What GET /openapi.json says of it: a wildcard route lists the endpoints it stands for. */
  doc?: RouteDoc | readonly WildcardDoc[];
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
  ctx.access.require(`container-registry.${action}`, resource, () => managementErrors.denied(`container-registry.${action}`));
}

/** The caller's namespace of that name in this region; another account's is as missing as none (404). */
export async function ownNamespace(ctx: ManagementContext, name: string) {
  const record = await ctx.registry.namespaces.get(ctx.region, name);
  if (!record || record.account_id !== ctx.principal.accountId) throw managementErrors.namespaceUnknown(name);
  return record;
}

/** The registry's refusals as IBM-style errors: each kind has one status and code. */
const REGISTRY_ERRORS: Record<RegistryErrorKind, { status: number; code: string }> = {
  'storage-quota': { status: 403, code: 'CRG0041E' },
  'traffic-quota': { status: 403, code: 'CRG0042E' },
  'in-use': { status: 409, code: 'CRG0043E' },
  'not-in-trash': { status: 404, code: 'CRG0040E' },
  'tag-taken': { status: 409, code: 'CRG0044E' },
  invalid: { status: 400, code: 'CRG0045E' },
};

/** Any failure as a ManagementError: ours pass through, the framework's 4xx keep their status, the rest are 500s. */
/** Who makes a management request, as its audit event names them. */
export function actorOf(request: FastifyRequest, ctx: ManagementContext): Actor {
  return { principalId: ctx.principal.iamId, principalName: ctx.principal.name, client: request.ip, requestId: request.id };
}

/** The management API's error body: `{"code": "CRG…E", "message": …, "request-id": …}`. */
export function sendManagementError(reply: FastifyReply, failure: ManagementError): FastifyReply {
  return reply.code(failure.status).header('content-type', 'application/json').send({ code: failure.code, message: failure.message, 'request-id': reply.request.id });
}

export function toManagementError(error: unknown): ManagementError {
  if (error instanceof ManagementError) return error;
  if (error instanceof RegistryError) return new ManagementError(REGISTRY_ERRORS[error.kind].status, REGISTRY_ERRORS[error.kind].code, error.message);
  if (error instanceof StorageFullError || isNoSpace(error)) {
    return new ManagementError(507, 'CRG0507E', 'The registry is out of storage space; delete images and run berth gc to free some.');
  }
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return new ManagementError(statusCode, 'CRG0001E', message ?? 'bad request');
  return managementErrors.internal();
}


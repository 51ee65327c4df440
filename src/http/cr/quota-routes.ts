import type { QuotaBytes } from '../../registry/quotas.js';
import { managementErrors } from '../../registry/management-errors.js';
import { actorOf, crResource, requireAction, type ManagementContext, type ManagementRoute } from './management-route.js';
import { planSchema, quotaBodySchema, quotaSchema } from './management-schemas.js';

const wire = (bytes: QuotaBytes) => ({ storage_bytes: bytes.storageBytes, traffic_bytes: bytes.trafficBytes });

/** IBM's Quota: `{"limit": {storage_bytes, traffic_bytes}, "usage": {…}}` of the caller's account in this region. */
async function quotaBody(ctx: ManagementContext) {
  const quota = await ctx.registry.quotas.get(ctx.principal.accountId, ctx.region);
  return { limit: wire(quota.limit), usage: wire(quota.usage) };
}

/** A megabyte count from a PATCH body: absent, or a whole number. */
function megabytes(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw managementErrors.badRequest(`${field} must be a whole number of megabytes (-1 for no quota)`);
  return value;
}

/**
 * `/api/v1/quotas` and `/api/v1/plans` (§4.2, §4.5): the account's storage and pull-traffic limits
 * and usage in this region, its own quotas (megabytes in, bytes out) and its plan. Configuring
 * actions, granted service-wide only (§3.8).
 */
export const quotaRoutes: ManagementRoute[] = [
  {
    method: 'GET',
    url: '/api/v1/quotas',
    status: 200,
    operation: 'get_quota',
    doc: { summary: "The account's storage and pull-traffic quotas and usage in this region", response: quotaSchema },
    async handle(_request, ctx) {
      requireAction(ctx, 'quota.get', crResource.service(ctx));
      return { body: await quotaBody(ctx) };
    },
  },
  {
    method: 'PATCH',
    url: '/api/v1/quotas',
    status: 200,
    operation: 'update_quota',
    doc: { summary: "Set the account's quotas in this region (megabytes)", body: quotaBodySchema, response: quotaSchema },
    async handle(request, ctx) {
      requireAction(ctx, 'quota.set', crResource.service(ctx));
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw managementErrors.badRequest('the body must be a JSON object with storage_megabytes and/or traffic_megabytes');
      const fields = body as Record<string, unknown>;
      const storage = megabytes(fields, 'storage_megabytes');
      const traffic = megabytes(fields, 'traffic_megabytes');
      await ctx.registry.quotas.setQuota(ctx.principal.accountId, ctx.region, { ...(storage !== undefined ? { storage } : {}), ...(traffic !== undefined ? { traffic } : {}) }, actorOf(request, ctx));
      return { body: await quotaBody(ctx) };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/plans',
    status: 200,
    operation: 'get_plans',
    doc: { summary: "The account's plan in this region", response: planSchema },
    async handle(_request, ctx) {
      requireAction(ctx, 'plan.get', crResource.service(ctx));
      return { body: { plan: await ctx.registry.quotas.plan(ctx.principal.accountId, ctx.region) } };
    },
  },
  {
    method: 'PATCH',
    url: '/api/v1/plans',
    status: 200,
    operation: 'update_plans',
    doc: { summary: "Set the account's plan in this region", body: planSchema, response: planSchema },
    async handle(request, ctx) {
      requireAction(ctx, 'plan.set', crResource.service(ctx));
      const plan = (request.body as { plan?: unknown } | undefined)?.plan;
      if (typeof plan !== 'string' || plan === '') throw managementErrors.badRequest('the body must be {"plan": "Standard"}');
      await ctx.registry.quotas.setPlan(ctx.principal.accountId, ctx.region, plan, actorOf(request, ctx));
      return { body: { plan: await ctx.registry.quotas.plan(ctx.principal.accountId, ctx.region) } };
    },
  },
];

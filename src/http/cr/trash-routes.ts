import { managementErrors } from '../../registry/management-errors.js';
import { refInPath, repositoryRef, type ImageRef } from './image-refs.js';
import { actorOf, crResource, ownNamespace, requireAction, type ManagementContext, type ManagementRoute } from './management-route.js';
import { imageParam, restoredTagsSchema, trashSchema } from './management-schemas.js';

const DAY_MS = 86_400_000;

/** A trashed image's reference in a restore path, in one of the caller's namespaces where it may push (§3.9: image.push). */
async function restorable(ctx: ManagementContext, ref: ImageRef): Promise<string> {
  await ownNamespace(ctx, ref.namespace);
  requireAction(ctx, 'image.push', crResource.namespace(ctx, ref.namespace));
  return ctx.regional.key(ref.repository);
}

/** `/api/v1/trash…` (§4.2): what deleted images wait in the trash, and restoring them by digest or by tag. */
export const trashRoutes: ManagementRoute[] = [
  {
    method: 'GET',
    url: '/api/v1/trash',
    status: 200,
    operation: 'list_deleted_images',
    doc: { summary: 'List the deleted images waiting in the trash', query: { type: 'object', properties: { namespace: { type: 'string', description: 'only this namespace' } } }, response: trashSchema },
    async handle(request, ctx) {
      const wanted = (request.query as { namespace?: unknown }).namespace;
      const own = await ctx.registry.namespaces.list(ctx.region, ctx.principal.accountId);
      // Listing the trash needs image.delete, as IBM's does (§3.9).
      const namespaces = own
        .map((record) => record.name)
        .filter((name) => (typeof wanted !== 'string' || wanted === '' || wanted === name) && ctx.access.can('container-registry.image.delete', crResource.namespace(ctx, name)));
      const images = await ctx.registry.trash.list(namespaces.map((name) => ctx.regional.key(`${name}/`)));
      const prefix = ctx.regional.key('');
      const now = Date.now();
      const body: Record<string, { daysUntilExpiry: number; tags: string[] }> = {};
      for (const image of images) {
        body[`${repositoryRef(ctx.hosts[0]!, image.key.slice(prefix.length))}@${image.digest}`] = {
          daysUntilExpiry: Math.max(0, Math.ceil((image.expiresAt - now) / DAY_MS)),
          tags: image.tags,
        };
      }
      return { body };
    },
  },
  {
    method: 'POST',
    url: '/api/v1/trash/*',
    status: 200,
    doc: [
      { path: '/api/v1/trash/{image}/restore', operation: 'restore_image', summary: 'Restore a deleted image, by tag or by digest', params: imageParam },
      {
        path: '/api/v1/trash/{image}/restoretags',
        operation: 'restore_tags',
        summary: 'Restore the tags a deleted image had (by digest), except those now on another image',
        params: imageParam,
        response: restoredTagsSchema,
      },
    ],
    async handle(request, ctx) {
      const path = (request.raw.url ?? '').split('?')[0]!;
      const host = ctx.hosts[0]!;
      if (path.endsWith('/restoretags')) {
        const ref = refInPath(request, ctx.hosts, '/api/v1/trash/', '/restoretags');
        if (ref.reference.kind !== 'digest') throw managementErrors.invalidImage(ref.text, 'restoretags takes a reference by digest');
        const result = await ctx.registry.trash.restoreDigest(await restorable(ctx, ref), ref.reference.digest.value, actorOf(request, ctx));
        const full = (tag: string) => `${repositoryRef(host, ref.repository)}:${tag}`;
        return { body: { successful: result.restored.map(full), unsuccessful: result.conflicts.map(full) } };
      }
      if (path.endsWith('/restore')) {
        const ref = refInPath(request, ctx.hosts, '/api/v1/trash/', '/restore');
        const key = await restorable(ctx, ref);
        if (ref.reference.kind === 'digest') await ctx.registry.trash.restoreDigest(key, ref.reference.digest.value, actorOf(request, ctx));
        else await ctx.registry.trash.restoreTag(key, ref.reference.tag, actorOf(request, ctx));
        return {};
      }
      throw managementErrors.badRequest('POST /api/v1/trash/<image>/restore (by tag) or /api/v1/trash/<image@digest>/restoretags');
    },
  },
];

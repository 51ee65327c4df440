import type { Actor } from '../../audit/actor.js';
import type { ImageRecord } from '../../registry/images.js';
import { managementErrors } from '../../registry/management-errors.js';
import { parseImageRef, refInPath, type ImageRef } from './image-refs.js';
import { actorOf, crResource, ownNamespace, requireAction, toManagementError, type ManagementContext, type ManagementRoute } from './management-route.js';
import { imageDigest, imageInspection, isIndex, manifestFacts, remoteApiImage } from './views.js';
import { bulkDeleteSchema, imageDigestSchema, imageDigestsBodySchema, imageInspectionSchema, imageParam, imagesQuerySchema, remoteApiImageSchema, untaggedSchema } from './management-schemas.js';

/** Query values that may repeat or come comma-joined (the Node SDK joins arrays with commas). */
function listParam(value: unknown): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

const flag = (value: unknown) => value === true || value === 'true';

/** A repository filter, with or without the registry host in front. */
function repositoryOf(ctx: ManagementContext, text: string): string {
  const slash = text.indexOf('/');
  return slash !== -1 && ctx.hosts.includes(text.slice(0, slash).toLowerCase()) ? text.slice(slash + 1) : text;
}

/**
 * The images of the caller's namespaces it may do `action` on (optionally only some namespaces
 * and repositories), named as clients name them.
 */
async function visibleImages(ctx: ManagementContext, action: string, filter: { namespaces: string[]; repositories: string[] }) {
  const own = await ctx.registry.namespaces.list(ctx.region, ctx.principal.accountId);
  const wanted = new Set(filter.namespaces);
  const namespaces = own
    .map((record) => record.name)
    .filter((name) => (wanted.size === 0 || wanted.has(name)) && ctx.access.can(`container-registry.${action}`, crResource.namespace(ctx, name)));
  const repositories = new Set(filter.repositories.map((text) => repositoryOf(ctx, text)));
  const images = await ctx.registry.images.list(namespaces.map((name) => ctx.regional.key(`${name}/`)));
  const prefix = ctx.regional.key('');
  return images
    .map((image) => ({ repository: image.key.slice(prefix.length), image }))
    .filter(({ repository }) => repositories.size === 0 || repositories.has(repository));
}

/** The image a reference names, in a namespace of the caller on which it holds `action`. Missing and foreign answer alike (404). */
async function imageFor(ctx: ManagementContext, ref: ImageRef, action: string): Promise<ImageRecord> {
  await ownNamespace(ctx, ref.namespace);
  requireAction(ctx, action, crResource.namespace(ctx, ref.namespace));
  const image = await ctx.registry.images.find(ctx.regional.key(ref.repository), ref.reference);
  if (!image) throw managementErrors.imageUnknown(ref.text);
  return image;
}

async function configOf(ctx: ManagementContext, image: ImageRecord) {
  const { configDigest } = manifestFacts(image);
  return configDigest !== undefined ? ctx.registry.images.config(configDigest) : undefined;
}

/**
 * Deletes the image a reference names (by tag or digest): its manifest and every tag on it in
 * that repository go to the trash, as IBM's registry does (at once, with BERTH_TRASH_DAYS=0).
 */
async function deleteImage(ctx: ManagementContext, ref: ImageRef, actor: Actor): Promise<void> {
  const image = await imageFor(ctx, ref, 'image.delete');
  if (!(await ctx.registry.trash.put(image.key, image.digest, actor))) throw managementErrors.imageUnknown(ref.text);
}

/** `/api/v1/images…` and `/api/v1/tags/…` (§4.2). */
export const imageRoutes: ManagementRoute[] = [
  {
    method: 'GET',
    url: '/api/v1/images',
    status: 200,
    operation: 'list_images',
    doc: { summary: 'List the tagged images of the namespaces the caller may list', query: imagesQuerySchema, response: { type: 'array', items: remoteApiImageSchema } },
    async handle(request, ctx) {
      const query = request.query as Record<string, unknown>;
      const withLists = flag(query.includeManifestLists);
      const images = await visibleImages(ctx, 'image.list', { namespaces: listParam(query.namespace), repositories: listParam(query.repository) });
      const body = [];
      for (const { repository, image } of images) {
        if (image.tags.length === 0 || (isIndex(image) && !withLists)) continue;
        body.push(remoteApiImage(ctx.hosts[0]!, repository, image, await configOf(ctx, image)));
      }
      return { body };
    },
  },
  {
    method: 'POST',
    url: '/api/v1/images/digests',
    status: 200,
    operation: 'list_image_digests',
    doc: { summary: 'List images by digest, with every repository and tag each is in', body: imageDigestsBodySchema, bodyOptional: true, response: { type: 'array', items: imageDigestSchema } },
    async handle(request, ctx) {
      const body = (request.body ?? {}) as { exclude_tagged?: unknown; repositories?: unknown };
      if (body.repositories !== undefined && (!Array.isArray(body.repositories) || body.repositories.some((r) => typeof r !== 'string'))) {
        throw managementErrors.badRequest('repositories must be an array of repository names');
      }
      const images = await visibleImages(ctx, 'image.list', { namespaces: [], repositories: (body.repositories as string[] | undefined) ?? [] });
      const byDigest = new Map<string, Array<{ host: string; repository: string; image: ImageRecord }>>();
      for (const { repository, image } of images) {
        // Untagged means on its own: a platform manifest of a tagged index or a signature is part of that image.
        if (flag(body.exclude_tagged) && (image.tags.length > 0 || image.partOfAnother)) continue;
        byDigest.set(image.digest, [...(byDigest.get(image.digest) ?? []), { host: ctx.hosts[0]!, repository, image }]);
      }
      const answer = [];
      for (const [digest, entries] of byDigest) answer.push(imageDigest(digest, entries, await configOf(ctx, entries[0]!.image)));
      return { body: answer };
    },
  },
  {
    method: 'POST',
    url: '/api/v1/images/tags',
    status: 201,
    operation: 'tag_image',
    doc: {
      summary: 'Tag an image with a new tag, in its repository or another',
      query: {
        type: 'object',
        properties: { fromimage: { type: 'string', description: 'the image to tag: <repository>:<tag> or @<digest>' }, toimage: { type: 'string', description: '<repository>:<tag>' } },
        required: ['fromimage', 'toimage'],
      },
    },
    async handle(request, ctx) {
      const query = request.query as Record<string, unknown>;
      const [from, to] = [query.fromimage, query.toimage];
      if (typeof from !== 'string' || typeof to !== 'string' || from === '' || to === '') throw managementErrors.badRequest('fromimage and toimage are both required');
      const source = parseImageRef(from, ctx.hosts);
      const target = parseImageRef(to, ctx.hosts);
      if (target.reference.kind !== 'tag' || !to.slice(to.lastIndexOf('/')).includes(':')) throw managementErrors.invalidImage(to, 'the target must be <repository>:<tag>');
      const image = await imageFor(ctx, source, 'image.pull');
      await ownNamespace(ctx, target.namespace);
      requireAction(ctx, 'image.push', crResource.namespace(ctx, target.namespace));
      await ctx.registry.images.copy(image.key, image.digest, ctx.regional.key(target.repository), target.reference.tag, actorOf(request, ctx));
      return {};
    },
  },
  {
    method: 'POST',
    url: '/api/v1/images/bulkdelete',
    status: 200,
    operation: 'bulk_delete_images',
    doc: { summary: 'Delete images by digest (into the trash)', body: { type: 'array', items: { type: 'string' }, description: 'image references by digest' }, response: bulkDeleteSchema },
    async handle(request, ctx) {
      const refs = request.body;
      if (!Array.isArray(refs) || refs.some((ref) => typeof ref !== 'string')) throw managementErrors.badRequest('the body must be a JSON array of image references by digest');
      const success: string[] = [];
      const error: Record<string, { code: string; message: string }> = {};
      for (const text of refs as string[]) {
        try {
          const ref = parseImageRef(text, ctx.hosts);
          if (ref.reference.kind !== 'digest') throw managementErrors.invalidImage(text, 'bulk delete takes references by digest');
          await deleteImage(ctx, ref, actorOf(request, ctx));
          success.push(text);
        } catch (failure) {
          const refused = toManagementError(failure);
          if (refused.status >= 500) throw failure;
          error[text] = { code: refused.code, message: refused.message };
        }
      }
      return { body: { success, error } };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/images/*',
    status: 200,
    doc: [
      { path: '/api/v1/images/{image}/json', operation: 'inspect_image', summary: "An image's config, as docker inspect shows it", params: imageParam, response: imageInspectionSchema },
      { path: '/api/v1/images/{image}/manifest', operation: 'get_image_manifest', summary: "An image's manifest, as pushed", params: imageParam, response: { type: 'object', description: 'the OCI or Docker manifest' } },
    ],
    async handle(request, ctx) {
      const path = (request.raw.url ?? '').split('?')[0]!;
      if (path.endsWith('/json')) {
        const image = await imageFor(ctx, refInPath(request, ctx.hosts, '/api/v1/images/', '/json'), 'image.inspect');
        if (isIndex(image)) throw managementErrors.manifestList(image.digest);
        return { body: imageInspection(image, await configOf(ctx, image)) };
      }
      if (path.endsWith('/manifest')) {
        const image = await imageFor(ctx, refInPath(request, ctx.hosts, '/api/v1/images/', '/manifest'), 'image.inspect');
        return { body: JSON.parse(image.content.toString('utf8')) as unknown };
      }
      throw managementErrors.badRequest('GET an image at /api/v1/images/<image>/json or /api/v1/images/<image>/manifest');
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/images/*',
    status: 200,
    doc: [{ path: '/api/v1/images/{image}', operation: 'delete_image', summary: 'Delete an image and every tag on it (into the trash)', params: imageParam, response: untaggedSchema }],
    async handle(request, ctx) {
      const ref = refInPath(request, ctx.hosts, '/api/v1/images/');
      await deleteImage(ctx, ref, actorOf(request, ctx));
      return { body: { Untagged: ref.text } };
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/tags/*',
    status: 200,
    doc: [{ path: '/api/v1/tags/{image}', operation: 'delete_image_tag', summary: 'Remove a tag from an image', params: imageParam, response: untaggedSchema }],
    async handle(request, ctx) {
      const ref = refInPath(request, ctx.hosts, '/api/v1/tags/');
      if (ref.reference.kind !== 'tag') throw managementErrors.invalidImage(ref.text, 'untag takes <repository>:<tag>');
      await imageFor(ctx, ref, 'image.delete');
      await ctx.regional.manifests.delete(ref.repository, ref.reference, actorOf(request, ctx));
      return { body: { Untagged: ref.text } };
    },
  },
];

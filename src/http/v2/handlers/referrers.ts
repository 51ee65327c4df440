import { MediaType } from '../../../oci/media-types.js';
import type { Descriptor } from '../../../oci/manifest.js';
import { requireDigest } from '../../../registry/references.js';
import type { V2Context, V2Handler } from '../context.js';

function sendIndex(ctx: V2Context, manifests: Descriptor[], filtered: boolean): void {
  if (filtered) ctx.reply.header('oci-filters-applied', 'artifactType');
  // A Buffer, not a string: Fastify would append `; charset=utf-8` to the media type of a string.
  ctx.reply
    .code(200)
    .header('content-type', MediaType.ociIndex)
    .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
}

/** `GET /v2/<name>/referrers/<digest>?artifactType=`: always an index, never a 404. */
export const listReferrers: V2Handler = async (ctx) => {
  const subject = requireDigest(ctx.params.digest);
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const result = await ctx.deps.registry.referrers.list(ctx.name, subject, artifactType || undefined);
  sendIndex(ctx, result.descriptors, result.filtered);
};

/** What a caller without pull access sees: the same as for a subject nobody refers to. */
export const noReferrers: V2Handler = async (ctx) => {
  requireDigest(ctx.params.digest);
  const artifactType = ctx.query.get('artifactType');
  sendIndex(ctx, [], Boolean(artifactType));
};

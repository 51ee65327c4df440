import type { Access } from '../../../auth/access.js';
import { parseDigest } from '../../../oci/digest.js';
import { OciError } from '../../../oci/errors.js';
import { isValidRepositoryName } from '../../../oci/names.js';
import { requireDigest } from '../../../registry/references.js';
import { uploadRange, type ChunkRange, type UploadSession } from '../../../registry/uploads.js';
import type { V2Context, V2Handler } from '../context.js';
import { hasBody, parseContentRange } from '../headers.js';

/** The body length the client declared (Content-Length), or 0 when it streams without one. */
function declaredLength(ctx: V2Context): number {
  const length = Number(ctx.request.headers['content-length'] ?? 0);
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}

/** Who opens an upload: they alone may finish it after their token expires. */
function ownerOf(ctx: V2Context): string | undefined {
  return ctx.caller.kind === 'principal' ? ctx.caller.id : undefined;
}

function sendProgress(ctx: V2Context, session: UploadSession, status: number): void {
  ctx.reply
    .code(status)
    .header('location', ctx.locations.upload(ctx.name, session.id))
    .header('range', uploadRange(session.size))
    .header('docker-upload-uuid', session.id)
    .header('content-length', 0)
    .send();
}

function sendCreated(ctx: V2Context, digest: string): void {
  ctx.reply
    .code(201)
    .header('location', ctx.locations.blob(ctx.name, digest))
    .header('docker-content-digest', digest)
    .header('content-length', 0)
    .send();
}

/** A chunk's Content-Range; a malformed one is a 416 with the upload's current Range. */
async function chunkRange(ctx: V2Context): Promise<ChunkRange | undefined> {
  const range = parseContentRange(ctx.request.headers['content-range']);
  if (range !== 'invalid') return range;
  const session = await ctx.deps.registry.uploads.get(ctx.name, ctx.params.upload!);
  throw new OciError('BLOB_UPLOAD_INVALID', 'Content-Range must be <start>-<end>', {
    status: 416,
    headers: { Range: uploadRange(session.size) },
  });
}

/** The repository a `?mount=&from=` request mounts from, when it names a valid one. */
function mountSource(query: URLSearchParams): string | undefined {
  const from = query.get('from');
  return query.get('mount') !== null && from !== null && isValidRepositoryName(from) ? from : undefined;
}

/**
 * What a mount also uses: pull on its source. The challenge asks for it beside the push, so a
 * token client gets one token covering both, as Distribution's challenge does.
 */
export function mountAccess(name: string, query: URLSearchParams): Access[] {
  const from = mountSource(query);
  return from !== undefined && from !== name ? [{ type: 'repository', name: from, actions: ['pull'] }] : [];
}

/** `?mount=&from=`: links the blob when the caller may pull it from `from`; false means upload instead. */
async function tryMount(ctx: V2Context, mount: string): Promise<boolean> {
  const parsed = parseDigest(mount);
  const from = mountSource(ctx.query);
  if (!parsed.ok || from === undefined) return false;
  if (!(await ctx.may({ type: 'repository', name: from, actions: ['pull'] }))) return false;
  if (!(await ctx.deps.registry.blobs.mount(ctx.name, parsed.digest, from))) return false;
  sendCreated(ctx, parsed.digest.value);
  return true;
}

/** `POST /v2/<name>/blobs/uploads/`: mount, single-request upload (`?digest=`) or a new session. */
export const startUpload: V2Handler = async (ctx) => {
  const mount = ctx.query.get('mount');
  if (mount !== null && (await tryMount(ctx, mount))) return;

  const digestParam = ctx.query.get('digest');
  const uploads = ctx.deps.registry.uploads;
  if (digestParam !== null && mount === null) {
    const digest = requireDigest(digestParam);
    const session = await uploads.start(ctx.name, ownerOf(ctx), declaredLength(ctx));
    try {
      await uploads.complete(ctx.name, session.id, digest, { source: ctx.request.raw });
    } catch (error) {
      await uploads.cancel(ctx.name, session.id).catch(() => undefined);
      throw error;
    }
    sendCreated(ctx, digest.value);
    return;
  }

  const session = await uploads.start(ctx.name, ownerOf(ctx));
  const minChunk = ctx.deps.config.registry.chunkMinLength;
  if (minChunk > 0) ctx.reply.header('oci-chunk-min-length', minChunk);
  sendProgress(ctx, session, 202);
};

/** `GET /v2/<name>/blobs/uploads/<id>`: where the upload stands. */
export const uploadStatus: V2Handler = async (ctx) => {
  const session = await ctx.deps.registry.uploads.get(ctx.name, ctx.params.upload!);
  sendProgress(ctx, session, 204);
};

/** `PATCH /v2/<name>/blobs/uploads/<id>`: a chunk (with Content-Range) or the rest of a stream. */
export const appendChunk: V2Handler = async (ctx) => {
  const range = await chunkRange(ctx);
  const session = await ctx.deps.registry.uploads.append(ctx.name, ctx.params.upload!, ctx.request.raw, range, declaredLength(ctx));
  sendProgress(ctx, session, 202);
};

/** `PUT /v2/<name>/blobs/uploads/<id>?digest=`: the optional last chunk, then verify and commit. */
export const completeUpload: V2Handler = async (ctx) => {
  const digest = requireDigest(ctx.query.get('digest') ?? undefined);
  const range = await chunkRange(ctx);
  const finalChunk = hasBody(ctx.request) || range ? { source: ctx.request.raw, declaredBytes: declaredLength(ctx), ...(range ? { range } : {}) } : undefined;
  await ctx.deps.registry.uploads.complete(ctx.name, ctx.params.upload!, digest, finalChunk);
  sendCreated(ctx, digest.value);
};

/** `DELETE /v2/<name>/blobs/uploads/<id>` */
export const cancelUpload: V2Handler = async (ctx) => {
  await ctx.deps.registry.uploads.cancel(ctx.name, ctx.params.upload!);
  ctx.reply.code(204).send();
};

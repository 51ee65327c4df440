import type { BerthConfig } from '../../../config/config.js';
import { OciError } from '../../../oci/errors.js';
import { requireDigest } from '../../../registry/references.js';
import type { V2Handler } from '../context.js';
import { parseRange } from '../headers.js';
import { sendBlob } from '../send-blob.js';

/** How long a presigned blob URL lasts: enough to start the download, short enough to be worth little if leaked. */
const REDIRECT_SECONDS = 300;

function redirects(config: BerthConfig): boolean {
  return config.storage.kind === 's3' && config.storage.s3.redirect;
}

/**
 * `GET|HEAD /v2/<name>/blobs/<digest>`, with single-range requests. With an object store and
 * redirects on, a GET that passed authorization is sent to a presigned URL (307) to fetch the
 * bytes from the store directly.
 */
export const getBlob: V2Handler = async ({ name, params, request, reply, deps }) => {
  const digest = requireDigest(params.digest);
  const info = await deps.registry.blobs.lookup(name, digest);
  if (!info) throw new OciError('BLOB_UNKNOWN', { digest: digest.value });
  const etag = `"${digest.value}"`;
  reply
    .header('docker-content-digest', digest.value)
    .header('content-type', 'application/octet-stream')
    .header('accept-ranges', 'bytes')
    .header('etag', etag)
    .header('cache-control', 'max-age=31536000');
  if (request.headers['if-none-match'] === etag) {
    reply.code(304).send();
    return;
  }
  const range = parseRange(request.headers.range, info.size);
  if (range === 'unsatisfiable') {
    reply.code(416).header('content-range', `bytes */${info.size}`).header('content-length', 0).send();
    return;
  }
  const length = range ? range.end - range.start + 1 : info.size;
  reply.header('content-length', length);
  if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
  const status = range ? 206 : 200;
  if (request.method === 'HEAD') {
    reply.code(status).send();
    return;
  }
  if (redirects(deps.config)) {
    const url = await deps.registry.blobs.signedUrl(info, REDIRECT_SECONDS);
    if (url) {
      await deps.registry.quotas.chargePull(name, length);
      // The object store answers the Range itself; the client sends it again to the new location.
      reply.code(307).header('location', url).header('content-length', 0).removeHeader('content-range').removeHeader('cache-control').send();
      return;
    }
  }
  // Open before anything is sent, so a blob gone from the store is still a clean 404.
  const reader = await deps.registry.blobs.open(info, range);
  try {
    await deps.registry.quotas.chargePull(name, length);
  } catch (error) {
    await reader.close();
    throw error;
  }
  await sendBlob(reply, status, reader, length);
};

/** `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from this repository. */
export const deleteBlob: V2Handler = async ({ name, params, reply, deps }) => {
  if (!deps.config.registry.deleteEnabled) throw new OciError('UNSUPPORTED', 'deletion is disabled on this registry');
  const digest = requireDigest(params.digest);
  await deps.registry.blobs.unlink(name, digest);
  reply.code(202).header('content-length', 0).send();
};

import { OciError } from '../../../oci/errors.js';
import { requireDigest } from '../../../registry/references.js';
import type { V2Handler } from '../context.js';
import { parseRange } from '../headers.js';

/** `GET|HEAD /v2/<name>/blobs/<digest>`, with single-range requests. */
export const getBlob: V2Handler = async ({ name, params, request, reply, deps }) => {
  const digest = requireDigest(params.digest);
  const info = await deps.registry.blobs.stat(name, digest);
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
  // Open before any success header is set, so a blob gone from the store is a clean 404.
  const stream = request.method === 'HEAD' ? undefined : (await deps.registry.blobs.open(name, digest, range)).stream;
  reply.header('content-length', range ? range.end - range.start + 1 : info.size);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
  else reply.code(200);
  reply.send(stream);
};

/** `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from this repository. */
export const deleteBlob: V2Handler = async ({ name, params, reply, deps }) => {
  if (!deps.config.registry.deleteEnabled) throw new OciError('UNSUPPORTED', 'deletion is disabled on this registry');
  const digest = requireDigest(params.digest);
  await deps.registry.blobs.unlink(name, digest);
  reply.code(202).header('content-length', 0).send();
};

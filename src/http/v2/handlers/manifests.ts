import { OciError } from '../../../oci/errors.js';
import { isValidTag } from '../../../oci/names.js';
import { parseManifestReference } from '../../../registry/references.js';
import { readLimitedBody } from '../body.js';
import { actorOf, type V2Handler } from '../context.js';

/**
 * `GET|HEAD /v2/<name>/manifests/<reference>`. The stored bytes are returned with the media type
 * they were pushed with, whatever the Accept header lists: converting would change the digest.
 */
export const getManifest: V2Handler = async ({ name, params, request, reply, deps, caller }) => {
  // A tag outside the grammar names nothing, so reading it is 404 (the conformance suite pulls
  // `.INVALID_MANIFEST_NAME`); only pushing to one is TAG_INVALID. A malformed digest stays 400.
  if (!params.reference!.includes(':') && !isValidTag(params.reference!)) {
    throw new OciError('MANIFEST_UNKNOWN', { name, reference: params.reference });
  }
  const reference = parseManifestReference(params.reference!);
  const manifest = await deps.registry.manifests.get(name, reference);
  const etag = `"${manifest.digest}"`;
  reply
    .header('content-type', manifest.mediaType)
    .header('docker-content-digest', manifest.digest)
    .header('etag', etag)
    .header('content-length', manifest.content.length);
  // A GET is a pull (a HEAD only asks whether it is there); an anonymous caller has no account to record it in.
  if (request.method === 'GET' && caller.kind === 'principal' && caller.account !== undefined) {
    const target = `${name}${reference.kind === 'tag' ? `:${reference.tag}` : `@${manifest.digest}`}`;
    await deps.events?.pulled(caller.account, { iamId: caller.id, name: caller.name ?? null }, target, { client: request.ip, requestId: request.id });
  }
  if (request.headers['if-none-match'] === etag) {
    reply.code(304).send();
    return;
  }
  reply.code(200).send(request.method === 'HEAD' ? undefined : manifest.content);
};

/** `PUT /v2/<name>/manifests/<reference>` */
export const putManifest: V2Handler = async ({ name, params, request, reply, deps, locations, caller }) => {
  const reference = parseManifestReference(params.reference!);
  const body = await readLimitedBody(request, deps.config.registry.maxManifestBytes);
  const pushed = await deps.registry.manifests.put(name, reference, body, request.headers['content-type'], actorOf(caller, request));
  if (pushed.subject) reply.header('oci-subject', pushed.subject);
  reply
    .code(201)
    .header('location', locations.manifest(name, pushed.digest))
    .header('docker-content-digest', pushed.digest)
    .header('content-length', 0)
    .send();
};

/** `DELETE /v2/<name>/manifests/<reference>`: by digest the manifest and its tags, by tag the tag. */
export const deleteManifest: V2Handler = async ({ name, params, request, reply, deps, caller }) => {
  if (!deps.config.registry.deleteEnabled) throw new OciError('UNSUPPORTED', 'deletion is disabled on this registry');
  const reference = parseManifestReference(params.reference!);
  await deps.registry.manifests.delete(name, reference, actorOf(caller, request));
  reply.code(202).header('content-length', 0).send();
};

import { parseDigest, type Digest } from '../oci/digest.js';
import { OciError } from '../oci/errors.js';
import { isValidTag } from '../oci/names.js';

export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/** `<reference>` of a manifest URL: a tag or a digest, nothing else. */
export function parseManifestReference(reference: string): ManifestReference {
  if (reference.includes(':')) {
    const parsed = parseDigest(reference);
    if (!parsed.ok) throw new OciError('DIGEST_INVALID', { digest: reference, reason: parsed.reason }, { message: 'invalid digest' });
    return { kind: 'digest', digest: parsed.digest };
  }
  if (!isValidTag(reference)) {
    throw new OciError('TAG_INVALID', { tag: reference }, { message: 'invalid tag: tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}' });
  }
  return { kind: 'tag', tag: reference };
}

/** A digest from a URL path or query; bad syntax is a 400 DIGEST_INVALID. */
export function requireDigest(text: string | undefined): Digest {
  if (text === undefined || text === '') throw new OciError('DIGEST_INVALID', 'a digest is required', { message: 'digest missing' });
  const parsed = parseDigest(text);
  if (!parsed.ok) throw new OciError('DIGEST_INVALID', { digest: text, reason: parsed.reason }, { message: 'invalid digest' });
  return parsed.digest;
}

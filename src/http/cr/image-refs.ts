import type { FastifyRequest } from 'fastify';
import { parseDigest, type Digest } from '../../oci/digest.js';
import { isValidRepositoryName, isValidTag } from '../../oci/names.js';
import { managementErrors } from '../../registry/management-errors.js';
import { namespaceOf } from '../../registry/namespaces.js';

/** A full image reference as the management API takes it: `<registry>/<namespace>/<repo>:<tag>` or `…@<digest>`. */
export interface ImageRef {
  /** As the client wrote it, for answers that echo it. */
  text: string;
  repository: string;
  namespace: string;
  reference: { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };
}

/** A first path component that is a registry host, by Docker's rule: it has a dot or a port, or is localhost. */
function isHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/**
 * Parses a reference, which must be in this registry (one of `hosts`) when it names a registry at
 * all. A missing tag means `latest`, as IBM assumes. Malformed or foreign references are 400s.
 */
export function parseImageRef(text: string, hosts: readonly string[]): ImageRef {
  let rest = text;
  const slash = rest.indexOf('/');
  if (slash !== -1 && isHost(rest.slice(0, slash))) {
    const host = rest.slice(0, slash).toLowerCase();
    if (!hosts.includes(host)) throw managementErrors.otherRegistry(text, hosts[0]!);
    rest = rest.slice(slash + 1);
  }
  let reference: ImageRef['reference'] = { kind: 'tag', tag: 'latest' };
  const at = rest.indexOf('@');
  if (at !== -1) {
    const parsed = parseDigest(rest.slice(at + 1));
    if (!parsed.ok) throw managementErrors.invalidImage(text, 'the digest is not valid');
    reference = { kind: 'digest', digest: parsed.digest };
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      const tag = rest.slice(colon + 1);
      if (!isValidTag(tag)) throw managementErrors.invalidImage(text, 'the tag is not valid');
      reference = { kind: 'tag', tag };
      rest = rest.slice(0, colon);
    }
  }
  if (!isValidRepositoryName(rest) || !rest.includes('/')) throw managementErrors.invalidImage(text, 'it must name <namespace>/<repository>');
  return { text, repository: rest, namespace: namespaceOf(rest), reference };
}

/** `<registry>/<repository>` as answers write repositories. */
export function repositoryRef(host: string, repository: string): string {
  return `${host}/${repository}`;
}

/**
 * The image reference in a path after `prefix` (and before `suffix`): one encoded segment
 * (`host%2Fns%2Frepo%3Atag`), or raw with its slashes, as Go clients send it.
 */
export function refInPath(request: FastifyRequest, hosts: readonly string[], prefix: string, suffix = ''): ImageRef {
  const path = (request.raw.url ?? '').split('?')[0]!.slice(prefix.length);
  const encoded = suffix !== '' && path.endsWith(suffix) ? path.slice(0, -suffix.length) : path;
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    throw managementErrors.invalidImage(encoded, 'it is not percent-encoded correctly');
  }
  return parseImageRef(text, hosts);
}

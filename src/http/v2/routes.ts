import type { Access, RepositoryAction } from '../../auth/access.js';
import { OciError } from '../../oci/errors.js';
import { apiVersion } from './handlers/base.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { listCatalog } from './handlers/catalog.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { listReferrers, noReferrers } from './handlers/referrers.js';
import { listTags } from './handlers/tags.js';
import { appendChunk, cancelUpload, completeUpload, mountAccess, startUpload, uploadStatus } from './handlers/uploads.js';
import type { V2Handler } from './context.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * One endpoint of the OCI distribution API. `path` matches what follows `/v2/`; its named groups
 * become params (`name` is the repository). `action` is what the authorizer must grant.
 * `hidden` is the answer for a caller who may not see the repository: exactly the answer for a
 * repository that does not exist, so access cannot be probed. `uses` is further access the request
 * can use but does without (a mount's source): challenged for beside `action`, never refused.
 */
export interface V2Route {
  id: string;
  endpoint: string;
  methods: HttpMethod[];
  path: RegExp;
  action: RepositoryAction | 'catalog' | 'none';
  handler: V2Handler;
  hidden?: V2Handler;
  uses?: (name: string, query: URLSearchParams) => Access[];
}

/** A `hidden` answer that is the route's own not-found error. */
function notFound(error: (params: Record<string, string>) => OciError): V2Handler {
  return async ({ params }) => {
    throw error(params);
  };
}

const NAME = '(?<name>.+?)';

export const V2_ROUTES: V2Route[] = [
  { id: 'base', endpoint: 'end-1', methods: ['GET', 'HEAD'], path: /^$/, action: 'none', handler: apiVersion },
  { id: 'catalog', endpoint: 'catalog', methods: ['GET', 'HEAD'], path: /^_catalog$/, action: 'catalog', handler: listCatalog },
  {
    id: 'tags.list', endpoint: 'end-8a', methods: ['GET', 'HEAD'], path: new RegExp(`^${NAME}/tags/list$`),
    action: 'pull', handler: listTags, hidden: notFound((p) => new OciError('NAME_UNKNOWN', { name: p.name })),
  },
  {
    id: 'manifest.get', endpoint: 'end-3', methods: ['GET', 'HEAD'], path: new RegExp(`^${NAME}/manifests/(?<reference>[^/]+)$`),
    action: 'pull', handler: getManifest, hidden: notFound((p) => new OciError('MANIFEST_UNKNOWN', { name: p.name, reference: p.reference })),
  },
  { id: 'manifest.put', endpoint: 'end-7', methods: ['PUT'], path: new RegExp(`^${NAME}/manifests/(?<reference>[^/]+)$`), action: 'push', handler: putManifest },
  { id: 'manifest.delete', endpoint: 'end-9', methods: ['DELETE'], path: new RegExp(`^${NAME}/manifests/(?<reference>[^/]+)$`), action: 'delete', handler: deleteManifest },
  {
    id: 'upload.start', endpoint: 'end-4', methods: ['POST'], path: new RegExp(`^${NAME}/blobs/uploads/?$`),
    action: 'push', handler: startUpload, uses: mountAccess,
  },
  {
    id: 'upload.status', endpoint: 'end-13', methods: ['GET'], path: new RegExp(`^${NAME}/blobs/uploads/(?<upload>[^/]+)$`),
    action: 'push', handler: uploadStatus,
  },
  { id: 'upload.chunk', endpoint: 'end-5', methods: ['PATCH'], path: new RegExp(`^${NAME}/blobs/uploads/(?<upload>[^/]+)$`), action: 'push', handler: appendChunk },
  { id: 'upload.complete', endpoint: 'end-6', methods: ['PUT'], path: new RegExp(`^${NAME}/blobs/uploads/(?<upload>[^/]+)$`), action: 'push', handler: completeUpload },
  { id: 'upload.cancel', endpoint: 'end-14', methods: ['DELETE'], path: new RegExp(`^${NAME}/blobs/uploads/(?<upload>[^/]+)$`), action: 'push', handler: cancelUpload },
  {
    id: 'blob.get', endpoint: 'end-2', methods: ['GET', 'HEAD'], path: new RegExp(`^${NAME}/blobs/(?<digest>(?!uploads$)[^/]+)$`),
    action: 'pull', handler: getBlob, hidden: notFound((p) => new OciError('BLOB_UNKNOWN', { digest: p.digest })),
  },
  { id: 'blob.delete', endpoint: 'end-10', methods: ['DELETE'], path: new RegExp(`^${NAME}/blobs/(?<digest>(?!uploads$)[^/]+)$`), action: 'delete', handler: deleteBlob },
  {
    id: 'referrers', endpoint: 'end-12', methods: ['GET'], path: new RegExp(`^${NAME}/referrers/(?<digest>[^/]+)$`),
    action: 'pull', handler: listReferrers, hidden: noReferrers,
  },
];

export type RouteMatch =
  | { kind: 'route'; route: V2Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'none' };

function decodeParams(groups: Record<string, string | undefined>): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(groups)) {
    if (value === undefined) continue;
    try {
      // The name is matched undecoded: its grammar has no place for escapes, so they fail validation.
      params[key] = key === 'name' ? value : decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

/** Finds the route for a path below `/v2/` (query removed) and a method. */
export function matchV2Route(path: string, method: string): RouteMatch {
  const allow = new Set<HttpMethod>();
  for (const route of V2_ROUTES) {
    const match = route.path.exec(path);
    if (!match) continue;
    if (!route.methods.includes(method as HttpMethod)) {
      route.methods.forEach((m) => allow.add(m));
      continue;
    }
    const params = decodeParams(match.groups ?? {});
    if (!params) return { kind: 'none' };
    return { kind: 'route', route, params };
  }
  return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'none' };
}

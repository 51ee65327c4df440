import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Access, Caller } from '../../auth/access.js';
import { formatScope } from '../../auth/scopes.js';
import { AuthenticationError } from '../../auth/errors.js';
import { registryVerdict } from '../../auth/verdict.js';
import { OciError } from '../../oci/errors.js';
import { isValidRepositoryName } from '../../oci/names.js';
import type { V2Context, V2Dependencies, V2Options } from './context.js';
import { locationsUnder } from './locations.js';
import { sendOciError } from './oci-errors.js';
import { matchV2Route, type V2Route } from './routes.js';
import { establish } from '../security.js';
import { isIamPathUnderV2, sendNotFound } from '../surfaces.js';

/** The access a route needs, in token-scope terms. */
function accessFor(route: V2Route, name: string): Access | undefined {
  if (route.action === 'none') return undefined;
  if (route.action === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  return { type: 'repository', name, actions: [route.action] };
}

/** The scope a challenge asks for: a push needs pull too (clients check blobs before they send them). */
function challengeScope(access: Access): string {
  if (access.type === 'registry') return formatScope('registry', 'catalog', ['*']);
  return formatScope('repository', access.name, access.actions.includes('push') ? ['pull', 'push'] : access.actions);
}

/**
 * A challenge's scope: what the request needs, then what it can also use (a mount's source),
 * space-separated as Distribution writes several.
 */
function challengeScopes(access: Access, uses: readonly Access[]): string {
  return [access, ...uses].map(challengeScope).join(' ');
}

/**
 * 401 with the Bearer challenge (RFC 6750, Docker token auth) when the registry has one. The realm
 * is on the region's public URL, or on the host and protocol the client used (as a trusted proxy
 * forwarded them): `/oauth/token` issues tokens for the region its request reaches.
 */
function unauthorized(ctx: Pick<V2Context, 'request' | 'deps'>, message: string | undefined, scope?: string, error?: string): OciError {
  const challenge = ctx.deps.authenticator.challenge;
  const headers: Record<string, string> = {};
  if (challenge) {
    const base = ctx.deps.publicUrlOf(ctx.deps.region) ?? `${ctx.request.protocol}://${ctx.request.host}`;
    const realm = `${base}${challenge.realmPath}`;
    headers['WWW-Authenticate'] =
      `Bearer realm="${realm}",service="${challenge.service}"` + (scope ? `,scope="${scope}"` : '') + (error ? `,error="${error}"` : '');
  }
  return new OciError('UNAUTHORIZED', undefined, { headers, ...(message ? { message } : {}) });
}

/**
 * After its token expired, a principal may go on with an upload it opened, as long as its
 * policies still let it push there: a long layer must not fail half-way (uploads live at most
 * BERTH_UPLOAD_IDLE_HOURS, the grace the authenticator gives expired tokens).
 */
async function mayFinishOwnUpload(ctx: V2Context, access: Access | undefined): Promise<boolean> {
  const { caller } = ctx;
  if (caller.kind !== 'principal' || ctx.params.upload === undefined || access?.type !== 'repository') return false;
  const session = await ctx.deps.registry.uploads.get(ctx.name, ctx.params.upload);
  if (session.owner !== caller.id) return false;
  const authorizer = ctx.deps.authorizer;
  const granted = await (authorizer.current ?? authorizer.authorize)(caller, access, ctx.deps.region);
  return access.actions.every((action) => granted.has(action));
}

async function dispatch(options: V2Options, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('docker-distribution-api-version', 'registry/2.0');
  const url = request.raw.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = (queryStart === -1 ? url : url.slice(0, queryStart)).replace(/^\/v2\/?/, '');
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));

  const match = matchV2Route(path, request.method);
  // IAM's collections under /v2/ (policies, roles, account users) answer in IAM's shape.
  if (match.kind === 'none' && isIamPathUnderV2(url.split('?')[0]!)) {
    sendNotFound(request, reply);
    return;
  }
  if (match.kind === 'none') throw new OciError('UNSUPPORTED', { path: url.split('?')[0] }, { status: 404, message: 'no such endpoint' });
  if (match.kind === 'method-not-allowed') {
    reply.header('allow', match.allow.join(', '));
    throw new OciError('UNSUPPORTED', { method: request.method }, { message: `method ${request.method} is not allowed here` });
  }
  const { route, params } = match;
  request.routeId = route.id;
  const name = params.name ?? '';
  if (params.name !== undefined && !isValidRepositoryName(name)) {
    throw new OciError('NAME_INVALID', { name }, { message: 'invalid repository name' });
  }

  const region = options.regionOf(request);
  const deps: V2Dependencies = { ...options, region, registry: options.registryOf(region) };
  const access = accessFor(route, name);
  const uses = access ? (route.uses?.(name, query) ?? []) : [];
  const scope = access && challengeScopes(access, uses);
  let caller: Caller;
  try {
    caller = await deps.authenticator.authenticate(request.headers, region, { client: request.ip, requestId: request.id });
  } catch (error) {
    // Bad credentials get the challenge too, so clients know where to log in again.
    if (error instanceof AuthenticationError) throw unauthorized({ request, deps }, error.message, scope);
    throw error;
  }
  if (caller.kind === 'principal') establish(request, { iamId: caller.id, accountId: caller.account ?? '', name: caller.name ?? null }, caller.method ?? 'registry-token', caller.tokenId);
  const ctx: V2Context = {
    request,
    reply,
    name,
    params,
    query,
    caller,
    deps,
    locations: locationsUnder(deps.publicUrlOf(region)),
    may: async (access) => {
      const granted = await deps.authorizer.authorize(caller, access, region);
      return access.actions.every((action) => granted.has(action));
    },
    pullable: async (names) => {
      const { authorizer } = deps;
      if (authorizer.pullable) return authorizer.pullable(caller, names, region);
      const allowed = new Set<string>();
      for (const name of names) if ((await authorizer.authorize(caller, { type: 'repository', name, actions: ['pull'] }, region)).has('pull')) allowed.add(name);
      return allowed;
    },
  };
  const verdict = await registryVerdict({
    caller,
    access,
    uses,
    region,
    loginRequired: deps.authenticator.challenge !== undefined,
    hidable: route.hidden !== undefined,
    granted: (needed) => ctx.may(needed),
    mayFinishOwnUpload: () => mayFinishOwnUpload(ctx, access),
  });
  switch (verdict.kind) {
    case 'challenge':
      throw unauthorized(ctx, verdict.reason, verdict.withScope ? scope : undefined, verdict.insufficientScope ? 'insufficient_scope' : undefined);
    case 'deny':
      throw new OciError('DENIED', undefined, { message: verdict.reason });
    case 'hide':
      return route.hidden!(ctx);
    case 'allow':
      break;
  }
  await route.handler(ctx);
}

/** Registers the whole `/v2` surface: one catch-all route, dispatched through the route table. */
export async function v2Plugin(app: FastifyInstance, options: V2Options): Promise<void> {
  // Bodies stay unread streams: blobs go straight to the store, manifests are read with a limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.setErrorHandler(async (error: unknown, request, reply) => sendOciError(request, reply, error));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    await dispatch(options, request, reply);
    // Handlers call reply.send themselves (streams included); returning the reply tells Fastify so.
    return reply;
  };
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'];
  for (const url of ['/v2', '/v2/', '/v2/*']) {
    app.route({ method: methods, url, handler, exposeHeadRoute: false });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The route-table id of the /v2 endpoint this request matched, for logs and metrics. */
    routeId?: string;
  }
}

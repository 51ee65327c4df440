import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '../../auth/access.js';
import { OciError } from '../../oci/errors.js';
import { isValidRepositoryName } from '../../oci/names.js';
import type { V2Context, V2Dependencies } from './context.js';
import { matchV2Route, type V2Route } from './routes.js';

/** The access a route needs, in token-scope terms. */
function accessFor(route: V2Route, name: string): Access | undefined {
  if (route.action === 'none') return undefined;
  if (route.action === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  return { type: 'repository', name, actions: [route.action] };
}

async function dispatch(deps: V2Dependencies, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('docker-distribution-api-version', 'registry/2.0');
  const url = request.raw.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = (queryStart === -1 ? url : url.slice(0, queryStart)).replace(/^\/v2\/?/, '');
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));

  const match = matchV2Route(path, request.method);
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

  const caller = await deps.authenticator.authenticate(request.headers);
  const ctx: V2Context = {
    request,
    reply,
    name,
    params,
    query,
    caller,
    deps,
    may: async (access) => {
      const granted = await deps.authorizer.authorize(caller, access);
      return access.actions.every((action) => granted.has(action));
    },
  };
  const access = accessFor(route, name);
  if (access && !(await ctx.may(access))) {
    if (caller.kind === 'anonymous') throw new OciError('UNAUTHORIZED');
    if (route.hidden === undefined) throw new OciError('DENIED');
    return route.hidden(ctx);
  }
  await route.handler(ctx);
}

/** Registers the whole `/v2` surface: one catch-all route, dispatched through the route table. */
export async function v2Plugin(app: FastifyInstance, deps: V2Dependencies): Promise<void> {
  // Bodies stay unread streams: blobs go straight to the store, manifests are read with a limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.setErrorHandler(async (error: unknown, request, reply) => {
    const oci = error instanceof OciError ? error : toOciError(error);
    if (oci.status >= 500) request.log.error({ err: error }, 'request failed');
    reply.removeHeader('content-length');
    reply.headers(oci.headers);
    // A refused body may still be arriving; don't make the connection swallow it.
    if (oci.status === 413) reply.header('connection', 'close');
    reply.code(oci.status).header('content-type', 'application/json').send(JSON.stringify(oci.toJSON()));
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    await dispatch(deps, request, reply);
    // Handlers call reply.send themselves (streams included); returning the reply tells Fastify so.
    return reply;
  };
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'];
  for (const url of ['/v2', '/v2/', '/v2/*']) {
    app.route({ method: methods, url, handler, exposeHeadRoute: false });
  }
}

/** Errors that are not ours: Fastify's client errors keep their status and message; the rest are 500s. */
function toOciError(error: unknown): OciError {
  const { statusCode, code, message } = error as { statusCode?: number; code?: string; message?: string };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new OciError('UNSUPPORTED', undefined, { status: 415, message: 'the Content-Type header is not a valid media type' });
  }
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new OciError('SIZE_INVALID', undefined, { message: 'invalid Content-Length' });
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return new OciError('UNSUPPORTED', undefined, { status: statusCode, message: message ?? 'bad request' });
  }
  return new OciError('UNKNOWN');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The route-table id of the /v2 endpoint this request matched, for logs and metrics. */
    routeId?: string;
  }
}

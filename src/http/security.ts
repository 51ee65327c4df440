import type { FastifyInstance, FastifyRequest } from 'fastify';
import { anonymousContext, type AuthMethod, type SecurityContext } from '../auth/security-context.js';

/**
 * Every request starts anonymous with its address and id; the surface it reaches fills in who it
 * is once it has authenticated it (`establish`). Domain code deep in a request (an IAM change, a
 * denial) gets the origin with the subject acting (`Subject.origin`), never from async context:
 * an AsyncLocalStorage turns on Node's promise hooks for the whole process, which cost a manifest
 * PUT about a tenth of its time.
 */
export function registerSecurityContext(app: FastifyInstance): void {
  app.decorateRequest('security', null as unknown as SecurityContext);
  app.addHook('onRequest', (request, _reply, done) => {
    request.security = anonymousContext({ client: request.ip, requestId: request.id });
    done();
  });
}

/** Records who the request proved to be, and how. */
export function establish(request: FastifyRequest, principal: { iamId: string; accountId: string; name?: string | null }, method: AuthMethod, tokenId?: string): void {
  request.security.principal = { iamId: principal.iamId, accountId: principal.accountId, name: principal.name ?? null };
  request.security.method = method;
  request.security.tokenId = tokenId ?? null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, as this request proved it (anonymous until a surface authenticates it). */
    security: SecurityContext;
  }
}

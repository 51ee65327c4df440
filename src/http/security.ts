import type { FastifyInstance, FastifyRequest } from 'fastify';
import { originScope } from '../audit/origin.js';
import { anonymousContext, type AuthMethod, type SecurityContext } from '../auth/security-context.js';

/**
 * Every request starts anonymous with its address and id; the surface it reaches fills in who it
 * is once it has authenticated it (`establish`). Domain code deep in a request (an IAM change, a
 * denial) reads the same object through `originScope`.
 */
export function registerSecurityContext(app: FastifyInstance): void {
  app.decorateRequest('security', null as unknown as SecurityContext);
  // Callback style: the rest of the request runs inside the scope (an async hook would leave it).
  app.addHook('onRequest', (request, _reply, done) => {
    request.security = anonymousContext({ client: request.ip, requestId: request.id });
    originScope.run(request.security, done);
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

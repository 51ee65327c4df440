import type { FastifyRequest } from 'fastify';
import type { AuthenticatorChain } from '../../auth/authenticator-chain.js';
import { AuthenticationError } from '../../auth/errors.js';
import type { Principal } from '../../iam/principal.js';
import { establish } from '../security.js';

/**
 * The principal behind `Authorization: Bearer <IAM access token>`, resolved through the one
 * authenticator chain: a valid token of an identity that still exists. Each API names the errors
 * it answers with for a missing and a bad token.
 */
export async function bearerPrincipal(request: FastifyRequest, errors: { missing: () => Error; invalid: () => Error }): Promise<Principal> {
  const header = request.headers.authorization ?? '';
  if (!/^Bearer\s+\S+$/i.test(header)) throw errors.missing();
  let caller;
  try {
    caller = await request.server.authenticators.resolve(header, ['iam-token'], { region: '', origin: request.security });
  } catch (error) {
    if (error instanceof AuthenticationError) throw errors.invalid();
    throw error;
  }
  if (caller.kind !== 'principal' || !caller.subject) throw errors.invalid();
  const principal = caller.subject;
  establish(request, principal, 'iam-token', caller.tokenId);
  return principal;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The one authenticator chain, decorated on the app (see app.ts). */
    authenticators: AuthenticatorChain;
  }
}

import type { FastifyRequest } from 'fastify';
import { IamError } from '../../iam/errors.js';
import { establish } from '../security.js';
import type { Iam } from '../../iam/iam.js';
import type { Principal } from '../../iam/principal.js';
import type { TokenSubject } from '../../iam/verify-token.js';

/**
 * The principal behind `Authorization: Bearer <IAM access token>`: a valid token of an identity
 * that still exists. Each API names the errors it answers with for a missing and a bad token.
 */
export async function bearerPrincipal(
  request: FastifyRequest,
  iam: Iam,
  errors: { missing: () => Error; invalid: () => Error },
): Promise<Principal> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw errors.missing();
  let token: TokenSubject;
  try {
    token = await iam.verifier.verify(match[1]!);
  } catch (error) {
    if (error instanceof IamError && error.status === 401) throw errors.invalid();
    throw error;
  }
  const principal = await iam.principalOf(token);
  if (!principal) throw errors.invalid();
  establish(request, principal, 'iam-token', typeof token.payload.jti === 'string' ? token.payload.jti : undefined);
  return principal;
}

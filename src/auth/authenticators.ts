import { IamError } from '../iam/errors.js';
import type { Iam } from '../iam/iam.js';
import type { AccessEntry, RegistryTokenClaims, RegistryTokens } from './registry-tokens.js';
import type { Caller } from './access.js';
import { REGISTRY_ISSUER } from './registry-tokens.js';
import type { CredentialAuthenticator } from './authenticator-chain.js';
import { USERNAME_KINDS, type RegistryCredentials } from './credentials.js';
import { REGISTRY_SERVICE } from './registry-seams.js';
import { AuthenticationError } from './errors.js';
import { scopeKey } from './scopes.js';

/** An IAM access token: a valid token (our issuer, RS256, not expired) of an identity that still exists. */
export function iamTokenAuthenticator(iam: Pick<Iam, 'verifier' | 'principalOf'>): CredentialAuthenticator {
  return {
    kind: 'iam-token',
    recognises: (presented) => presented.scheme === 'bearer' && presented.issuer === iam.verifier.issuer,
    async authenticate(presented, arrival) {
      if (presented.scheme !== 'bearer') throw new AuthenticationError('send an IAM access token (Bearer)');
      let token;
      try {
        token = await iam.verifier.verify(presented.token);
      } catch (error) {
        if (error instanceof IamError && error.status === 401) throw new AuthenticationError(error.message);
        throw error;
      }
      const principal = await iam.principalOf(token);
      if (!principal) throw new AuthenticationError('the identity of the access token no longer exists');
      const jti = token.payload.jti;
      // The subject acts in this request: its changes and refusals are recorded with it.
      const subject = { ...principal, origin: arrival.origin };
      return { kind: 'principal', id: principal.iamId, account: principal.accountId, name: principal.name, subject, method: 'iam-token', origin: arrival.origin, ...(typeof jti === 'string' ? { tokenId: jti } : {}) };
    },
  };
}

/**
 * A registry token from `/oauth/token`, good only in the region that issued it; one past its
 * expiry (within `uploadGraceSeconds`) is marked expired and serves only to finish its principal's
 * own upload.
 */
export function registryTokenAuthenticator(tokens: RegistryTokens, uploadGraceSeconds: number): CredentialAuthenticator {
  // A token's caller is worked out once per token and node: only its expiry changes between requests.
  const callers = new WeakMap<RegistryTokenClaims, TokenCaller>();
  const callerOf = (claims: RegistryTokenClaims) => {
    let caller = callers.get(claims);
    if (caller === undefined) callers.set(claims, (caller = tokenCaller(claims)));
    return caller;
  };
  return {
    kind: 'registry-token',
    recognises: (presented) => presented.scheme === 'bearer' && presented.issuer === REGISTRY_ISSUER,
    async authenticate(presented, arrival) {
      const verified = presented.scheme === 'bearer' ? await tokens.verify(presented.token, REGISTRY_SERVICE, uploadGraceSeconds) : undefined;
      if (!verified || verified.claims.region !== arrival.region) throw new AuthenticationError('the registry token is not valid here, or has expired');
      const { access, requested, ...caller } = callerOf(verified.claims);
      // Whether it owns the account is looked up again when its policies are asked (current()).
      return { ...caller, origin: arrival.origin, token: { access, requested, expired: verified.expired } };
    },
  };
}

type ScopeMap = ReadonlyMap<string, ReadonlySet<string>>;

/** What a registry token's claims say of its caller; the request adds its origin and the token's expiry. */
type TokenCaller = Omit<Caller & { kind: 'principal' }, 'token' | 'origin'> & { access: ScopeMap; requested: ScopeMap };

function tokenCaller(claims: RegistryTokenClaims): TokenCaller {
  return {
    kind: 'principal',
    id: claims.iamId,
    account: claims.accountId,
    ...(claims.name !== undefined ? { name: claims.name } : {}),
    method: 'registry-token',
    ...(claims.tokenId !== undefined ? { tokenId: claims.tokenId } : {}),
    access: byKey(claims.access),
    requested: byKey(claims.requested),
  };
}

function byKey(entries: readonly AccessEntry[]): ScopeMap {
  return new Map(entries.map((entry) => [scopeKey(entry.type, entry.name), new Set(entry.actions)]));
}

/** A login's secret sent with the request (Basic `iamapikey`/`iambearer`/`iamrefresh`), as some clients do. */
export function loginAuthenticator(credentials: RegistryCredentials): CredentialAuthenticator {
  return {
    kind: 'login',
    recognises: (presented) => presented.scheme === 'basic',
    async authenticate(presented, arrival) {
      if (presented.scheme !== 'basic') throw new AuthenticationError('send iamapikey credentials (Basic)');
      const { principal } = await credentials.login(presented.username, presented.password, arrival.origin, `registry ${arrival.region}`);
      // The login succeeded, so the username is one of the three.
      return { kind: 'principal', id: principal.iamId, account: principal.accountId, name: principal.name, subject: { ...principal, origin: arrival.origin }, method: USERNAME_KINDS[presented.username]!, origin: arrival.origin };
    },
  };
}

import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { IamError } from './errors.js';
import type { SigningKeys } from './signing-keys.js';

/** What a verified IAM access token says about its bearer. */
export interface TokenSubject {
  iamId: string;
  accountId: string;
  subType: 'User' | 'ServiceId';
  payload: JWTPayload;
}

/** How long a verifier trusts its copy of the JWKS before reading the database again. */
const JWKS_CACHE_MS = 30_000;

/**
 * Verifies IAM access tokens (RS256, our issuer, not expired) against the published keys. The key
 * set is cached briefly; an unknown `kid` (a rotation on another node) refreshes it at once.
 */
export class TokenVerifier {
  private cached: { keys: ReturnType<typeof createLocalJWKSet>; kids: Set<string>; at: number } | undefined;

  constructor(
    private readonly keys: SigningKeys,
    private readonly issuer: string,
    private readonly clock: () => number,
  ) {}

  async verify(token: string): Promise<TokenSubject> {
    const keySet = await this.keySet(kidOf(token));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: ['RS256'],
        issuer: this.issuer,
        currentDate: new Date(this.clock()),
      }));
    } catch {
      throw new IamError(401, 'BXNIM0407E', 'Provided access token is invalid or expired.');
    }
    const account = payload.account as { bss?: unknown } | undefined;
    const subType = payload.sub_type;
    if (typeof payload.iam_id !== 'string' || typeof account?.bss !== 'string' || (subType !== 'User' && subType !== 'ServiceId')) {
      throw new IamError(401, 'BXNIM0407E', 'Provided access token is invalid or expired.');
    }
    return { iamId: payload.iam_id, accountId: account.bss, subType, payload };
  }

  private async keySet(kid: string | undefined) {
    const fresh = this.cached && this.clock() - this.cached.at < JWKS_CACHE_MS;
    if (!this.cached || !fresh || (kid !== undefined && !this.cached.kids.has(kid))) {
      const jwks = await this.keys.jwks();
      this.cached = {
        keys: createLocalJWKSet(jwks),
        kids: new Set(jwks.keys.map((k) => k.kid ?? '')),
        at: this.clock(),
      };
    }
    return this.cached.keys;
  }
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

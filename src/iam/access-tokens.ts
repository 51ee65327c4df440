import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { IamContext } from './context.js';
import type { Identity } from './identities.js';
import type { SigningKeys } from './signing-keys.js';

export const ACCESS_TOKEN_SECONDS = 3600;

export interface IssuedToken {
  token: string;
  iat: number;
  exp: number;
}

/** The claims IBM puts in an access token, for a user or a service ID. */
function claimsFor(identity: Identity): Record<string, unknown> {
  if (identity.kind === 'serviceid') {
    return {
      iam_id: identity.iamId,
      id: identity.iamId,
      realmid: 'iam',
      identifier: identity.id,
      name: identity.name,
      sub: identity.id,
      sub_type: 'ServiceId',
    };
  }
  const identifier = identity.iamId.slice(identity.iamId.indexOf('-') + 1);
  return {
    iam_id: identity.iamId,
    id: identity.iamId,
    realmid: identity.iamId.slice(0, identity.iamId.indexOf('-')),
    identifier,
    name: identity.name,
    email: identity.email,
    sub: identity.email,
    sub_type: 'User',
  };
}

/** Signs one-hour RS256 access tokens with IBM's claim set; the SDK reads `iat` and `exp` from them. */
export class AccessTokens {
  constructor(
    private readonly ctx: IamContext,
    private readonly keys: SigningKeys,
  ) {}

  async issue(identity: Identity, grant: { grantType: string; clientId: string; scope: string }): Promise<IssuedToken> {
    const iat = Math.floor(this.ctx.clock() / 1000);
    const exp = iat + ACCESS_TOKEN_SECONDS;
    const { kid, privateKey } = await this.keys.signer();
    const token = await new SignJWT({
      ...claimsFor(identity),
      jti: randomUUID(),
      account: { valid: true, bss: identity.accountId },
      grant_type: grant.grantType,
      scope: grant.scope,
      client_id: grant.clientId,
      acr: 1,
      amr: ['pwd'],
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setIssuer(this.ctx.issuer)
      .sign(privateKey);
    return { token, iat, exp };
  }
}

import { jwtVerify, type JWTPayload } from 'jose';
import { IamError } from './errors.js';
import type { SigningKeys } from './signing-keys.js';

/** What a verified IAM access token says about its bearer. */
export interface TokenSubject {
  iamId: string;
  accountId: string;
  subType: 'User' | 'ServiceId';
  payload: JWTPayload;
}

/** Verifies IAM access tokens (RS256, our issuer, not expired) against the published keys. */
export class TokenVerifier {
  constructor(
    private readonly keys: SigningKeys,
    readonly issuer: string,
    private readonly clock: () => number,
  ) {}

  async verify(token: string): Promise<TokenSubject> {
    const keySet = await this.keys.verificationKeys(token);
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
}

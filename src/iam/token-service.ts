import type { AccessTokens } from './access-tokens.js';
import { ACCESS_TOKEN_SECONDS } from './access-tokens.js';
import type { ApiKeys } from './api-keys.js';
import { IamError, iamErrors } from './errors.js';
import type { Identities } from './identities.js';

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';
const DEFAULT_SCOPE = 'ibm openid';
const DEFAULT_CLIENT = 'default';

/** The body of a successful `POST /identity/token`, field for field as IBM answers. */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expiration: number;
  scope: string;
}

/** `POST /identity/token`: exchanges a credential for an access token. */
export class TokenService {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly identities: Identities,
    private readonly accessTokens: AccessTokens,
  ) {}

  async grant(form: URLSearchParams, clientId: string | undefined): Promise<TokenResponse> {
    const grantType = form.get('grant_type');
    if (!grantType) throw iamErrors.invalidRequest('grant_type is required');
    if (grantType === 'refresh_token') {
      // Refresh tokens are not issued yet (every response says not_supported), so none can be valid.
      throw new IamError(400, 'BXNIM0407E', 'Provided refresh token is invalid.');
    }
    if (grantType !== APIKEY_GRANT) throw iamErrors.unsupportedGrant(grantType);

    const apikey = form.get('apikey');
    if (!apikey) throw iamErrors.invalidRequest('apikey is required for the apikey grant');
    const record = await this.apiKeys.authenticate(apikey);
    const identity = await this.identities.find(record.iam_id);
    if (!identity) throw iamErrors.apiKeyNotFound();
    const scope = form.get('scope') || DEFAULT_SCOPE;
    const issued = await this.accessTokens.issue(identity, { grantType, clientId: clientId ?? DEFAULT_CLIENT, scope });
    return {
      access_token: issued.token,
      refresh_token: 'not_supported',
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      expiration: issued.exp,
      scope,
    };
  }
}

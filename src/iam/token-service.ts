import type { AccessTokens } from './access-tokens.js';
import { ACCESS_TOKEN_SECONDS } from './access-tokens.js';
import type { ApiKeys } from './api-keys.js';
import { IamError, iamErrors } from './errors.js';
import type { Identities, Identity } from './identities.js';
import type { RefreshTokens } from './refresh-tokens.js';

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';
const DEFAULT_SCOPE = 'ibm openid';
const DEFAULT_CLIENT = 'default';

/**
 * Clients that get real refresh tokens, with their (public) secrets: the IBM Cloud CLI's `bx:bx`.
 * Everyone else, like IBM's SDKs, gets `not_supported`, as IBM answers them.
 */
const REFRESH_CLIENTS: ReadonlyMap<string, string> = new Map([['bx', 'bx']]);

/** The client of a token request, from `Authorization: Basic`; absent means IBM's "default" client. */
export interface TokenClient {
  id: string;
  secret: string;
}

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
    private readonly refreshTokens: RefreshTokens,
  ) {}

  /** The token answer, and who it was issued to (for the audit trail). */
  async grant(form: URLSearchParams, client: TokenClient | undefined): Promise<{ response: TokenResponse; identity: Identity }> {
    const grantType = form.get('grant_type');
    if (!grantType) throw iamErrors.invalidRequest('grant_type is required');
    const clientId = client?.id ?? DEFAULT_CLIENT;
    const refreshable = client !== undefined && REFRESH_CLIENTS.has(client.id);
    if (refreshable && REFRESH_CLIENTS.get(client.id) !== client.secret) {
      throw new IamError(400, 'BXNIM0106E', 'Property validation failed.', 'invalid client credentials');
    }

    let session: { iamId: string; apiKeyId: string };
    if (grantType === APIKEY_GRANT) {
      const apikey = form.get('apikey');
      if (!apikey) throw iamErrors.invalidRequest('apikey is required for the apikey grant');
      const record = await this.apiKeys.authenticate(apikey);
      session = { iamId: record.iam_id, apiKeyId: record.id };
    } else if (grantType === 'refresh_token') {
      const token = form.get('refresh_token');
      if (!token) throw iamErrors.invalidRequest('refresh_token is required for the refresh_token grant');
      session = await this.refreshTokens.redeem(token, clientId);
    } else {
      throw iamErrors.unsupportedGrant(grantType);
    }

    const identity = await this.identities.find(session.iamId);
    if (!identity) throw iamErrors.apiKeyNotFound();
    const scope = form.get('scope') || DEFAULT_SCOPE;
    const issued = await this.accessTokens.issue(identity, { grantType, clientId, scope });
    const refreshToken = refreshable ? await this.refreshTokens.issue({ ...session, clientId }) : 'not_supported';
    const response: TokenResponse = {
      access_token: issued.token,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      expiration: issued.exp,
      scope,
    };
    return { response, identity };
  }
}

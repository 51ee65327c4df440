import type { AccessEvents, Origin } from '../audit/access-events.js';
import { AuthenticationError, TokenRequestError } from './errors.js';
import type { Login, RegistryCredentials } from './credentials.js';
import type { RegistryGrants } from './grants.js';
import type { RegistryTokens } from './registry-tokens.js';
import { REGISTRY_SERVICE } from './registry-seams.js';
import { parseScopes, ScopeError } from './scopes.js';

/** A token request, from either form of the endpoint (GET with Basic, or the OAuth2 POST). */
export interface TokenRequest {
  /** Basic credentials or the POST password grant; absent for the refresh grant or an anonymous ask. */
  credentials?: { username: string; password: string };
  /** The POST refresh_token grant. */
  refreshToken?: string;
  service?: string;
  scopes: string[];
  /** `offline_token=true` (GET) or `access_type=offline` (POST): the answer carries a refresh token. */
  offline: boolean;
  region: string;
  origin: Origin;
}

/** The answer Docker's token spec describes (`token` for GET clients, `access_token` for OAuth2 ones). */
export interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

/**
 * Registry login: who the credentials are, then a registry token whose `access` lists exactly what
 * their policies grant of each requested scope in this region. Asking for more gives less, never
 * an error (an error would say whether the repository exists). A login carries no scope.
 */
export class RegistryLogin {
  constructor(
    private readonly credentials: RegistryCredentials,
    private readonly grants: RegistryGrants,
    private readonly tokens: RegistryTokens,
    private readonly events?: AccessEvents,
  ) {}

  async token(request: TokenRequest): Promise<TokenAnswer> {
    const service = request.service ?? REGISTRY_SERVICE;
    if (service !== REGISTRY_SERVICE) throw new TokenRequestError(`unknown service "${service}"; this registry is "${REGISTRY_SERVICE}"`, { service });
    let scopes;
    try {
      scopes = parseScopes(request.scopes);
    } catch (error) {
      if (error instanceof ScopeError) throw new TokenRequestError(error.message);
      throw error;
    }
    const login = await this.authenticate(request);
    const { principal } = login;
    const { entries: access, decisions } = await this.grants.decide(principal, request.region, scopes);
    await this.events?.decided(principal, decisions, request.origin);
    const requested = scopes.map((scope) => ({ type: scope.type, name: scope.name, actions: [...scope.actions] as string[] }));
    const issued = await this.tokens.issue({ iamId: principal.iamId, accountId: principal.accountId, name: principal.name, region: request.region, service, access, requested });
    const refreshToken = request.offline ? await this.credentials.issueRefreshToken(login) : undefined;
    return {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    };
  }

  private async authenticate(request: TokenRequest): Promise<Login> {
    const target = `registry ${request.region}`;
    if (request.refreshToken !== undefined) return this.credentials.refresh(request.refreshToken, request.origin, target);
    if (request.credentials) return this.credentials.login(request.credentials.username, request.credentials.password, request.origin, target);
    // Berth has no public repositories, so an anonymous token would grant nothing: say so instead.
    throw new AuthenticationError('authentication required: log in with username iamapikey and an API key');
  }
}

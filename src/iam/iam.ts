import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../registry/clock.js';
import { AccessTokens } from './access-tokens.js';
import { ApiKeys } from './api-keys.js';
import { ApiKeyAdmin } from './api-key-admin.js';
import { Identities } from './identities.js';
import { Policies } from './policies.js';
import { PolicyAdmin } from './policy-admin.js';
import type { ServerSecret } from './server-secret.js';
import { ServiceIdAdmin } from './service-id-admin.js';
import { ServiceIds } from './service-ids.js';
import { SigningKeys } from './signing-keys.js';
import { RefreshTokens } from './refresh-tokens.js';
import { TokenService } from './token-service.js';
import { ACCESS_TOKEN_SECONDS } from './access-tokens.js';
import { TokenVerifier } from './verify-token.js';

/** The IAM services over one database. No HTTP here. */
export interface Iam {
  identities: Identities;
  apiKeys: ApiKeys;
  signingKeys: SigningKeys;
  tokens: TokenService;
  verifier: TokenVerifier;
  serviceIds: ServiceIds;
  /** The Identity API's operations, with who may do what. */
  apiKeyAdmin: ApiKeyAdmin;
  serviceIdAdmin: ServiceIdAdmin;
  policies: Policies;
  /** The Policy Management API's operations, with who may do what. */
  policyAdmin: PolicyAdmin;
}

export function createIam(deps: {
  db: Kysely<Database>;
  secret: ServerSecret;
  clock: Clock;
  issuer: string;
  refreshTokenHours: number;
}): Iam {
  const ctx = { ...deps };
  const identities = new Identities(ctx);
  const apiKeys = new ApiKeys(ctx);
  // A retired key signed tokens for at most another hour: keep it published that long, and a little more.
  const signingKeys = new SigningKeys(ctx, ACCESS_TOKEN_SECONDS + 300);
  const refreshTokens = new RefreshTokens(ctx, deps.refreshTokenHours * 3600 * 1000);
  const tokens = new TokenService(apiKeys, identities, new AccessTokens(ctx, signingKeys), refreshTokens);
  const verifier = new TokenVerifier(signingKeys, deps.issuer, deps.clock);
  const serviceIds = new ServiceIds(ctx, apiKeys);
  const apiKeyAdmin = new ApiKeyAdmin(apiKeys, identities, deps.clock);
  const serviceIdAdmin = new ServiceIdAdmin(serviceIds);
  const policies = new Policies(ctx);
  const policyAdmin = new PolicyAdmin(deps.db, identities, policies);
  return { identities, apiKeys, signingKeys, tokens, verifier, serviceIds, apiKeyAdmin, serviceIdAdmin, policies, policyAdmin };
}

import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../registry/clock.js';
import { AccessTokens } from './access-tokens.js';
import { AccountAdmin } from './account-admin.js';
import { IamChanges } from './changes.js';
import { ApiKeys } from './api-keys.js';
import { ApiKeyAdmin } from './api-key-admin.js';
import { Authorization, type DenialSink } from './authorization.js';
import { IdentityHistory } from './history.js';
import { Identities } from './identities.js';
import { Policies } from './policies.js';
import { PolicyAdmin } from './policy-admin.js';
import { resolvePrincipal, type Principal } from './principal.js';
import type { ServerSecret } from './server-secret.js';
import { ServiceIdAdmin } from './service-id-admin.js';
import { ServiceIds } from './service-ids.js';
import { SigningKeys } from './signing-keys.js';
import { RefreshTokens } from './refresh-tokens.js';
import { TokenService } from './token-service.js';
import { ACCESS_TOKEN_SECONDS } from './access-tokens.js';
import { UserAdmin } from './user-admin.js';
import { TokenVerifier, type TokenSubject } from './verify-token.js';

/** The IAM services over one database. No HTTP here. */
export interface Iam {
  identities: Identities;
  apiKeys: ApiKeys;
  signingKeys: SigningKeys;
  tokens: TokenService;
  refreshTokens: RefreshTokens;
  verifier: TokenVerifier;
  serviceIds: ServiceIds;
  policies: Policies;
  /** The only reader of policies for decisions, with its per-subject cache. */
  authorization: Authorization;
  /** The principal a verified token stands for, if it still exists. */
  principalOf(token: Pick<TokenSubject, 'iamId' | 'accountId' | 'subType'>): Promise<Principal | undefined>;
  /** The APIs' operations, each with who may do what. */
  apiKeyAdmin: ApiKeyAdmin;
  serviceIdAdmin: ServiceIdAdmin;
  policyAdmin: PolicyAdmin;
  userAdmin: UserAdmin;
  accountAdmin: AccountAdmin;
  history: IdentityHistory;
}

export function createIam(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  audit?: AuditLog;
  /** Told of every refusal for want of access, for the audit trail. */
  onDenied?: DenialSink;
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
  const policies = new Policies(ctx);
  const authorization = new Authorization(deps.db, deps.onDenied);
  const history = new IdentityHistory(deps.db, deps.clock);
  const changes = new IamChanges(ctx);
  const policyAdmin = new PolicyAdmin(policies, authorization, changes);
  return {
    identities,
    apiKeys,
    signingKeys,
    tokens,
    refreshTokens,
    verifier,
    serviceIds,
    policies,
    authorization,
    principalOf: (token) => resolvePrincipal(deps.db, token),
    apiKeyAdmin: new ApiKeyAdmin(apiKeys, identities, authorization, history, deps.clock, changes),
    serviceIdAdmin: new ServiceIdAdmin(serviceIds, policies, authorization, history, deps.clock, changes),
    policyAdmin,
    userAdmin: new UserAdmin(identities, policies, policyAdmin, authorization, history, changes),
    accountAdmin: new AccountAdmin(identities, apiKeys, changes),
    history,
  };
}

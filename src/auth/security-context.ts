import type { Origin } from '../audit/access-events.js';

/** How a request proved who it is: a registry or IAM token, or a login's secret sent with it. */
export type AuthMethod = 'anonymous' | 'registry-token' | 'iam-token' | 'apikey' | 'accesstoken' | 'refreshtoken';

/**
 * Who is calling, resolved once per request by the surface it reached, and read by everything
 * after (the request's log line, its audit events): never the secret, only what it proved.
 */
export interface SecurityContext extends Origin {
  principal: { iamId: string; accountId: string; name: string | null } | null;
  method: AuthMethod;
  /** The `jti` of the token presented, when it was one. */
  tokenId: string | null;
}

export function anonymousContext(origin: Origin): SecurityContext {
  return { ...origin, principal: null, method: 'anonymous', tokenId: null };
}

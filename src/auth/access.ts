import type { Origin } from '../audit/access-events.js';
import type { Principal } from '../iam/principal.js';
import type { AuthMethod } from './security-context.js';

/** What a request asks to do, in the vocabulary of Docker token scopes (`repository:<name>:pull,push`). */
export type RepositoryAction = 'pull' | 'push' | 'delete';

export type Access =
  | { type: 'repository'; name: string; actions: RepositoryAction[] }
  | { type: 'registry'; name: 'catalog'; actions: ['*'] };

/** What a registry token grants: actions by scope key (`repository:<name>`, `registry:catalog`). */
export interface TokenGrant {
  access: ReadonlyMap<string, ReadonlySet<string>>;
  /** What the client asked the token for, by the same keys. */
  requested: ReadonlyMap<string, ReadonlySet<string>>;
  /** Past its expiry: good only for finishing an upload its principal opened (see the v2 plugin). */
  expired: boolean;
}

/**
 * Who is calling. Anonymous callers are told to authenticate; others are told only what they may
 * see. An IAM principal carries its subject; with a registry token, also what the token grants
 * (without one it presented credentials directly, and its policies decide each request).
 */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'principal'; id: string; account?: string; name?: string; subject?: Principal; token?: TokenGrant; method?: AuthMethod; tokenId?: string; origin?: Origin };

export const ANONYMOUS: Caller = { kind: 'anonymous' };

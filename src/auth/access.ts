/** What a request asks to do, in the vocabulary of Docker token scopes (`repository:<name>:pull,push`). */
export type RepositoryAction = 'pull' | 'push' | 'delete';

export type Access =
  | { type: 'repository'; name: string; actions: RepositoryAction[] }
  | { type: 'registry'; name: 'catalog'; actions: ['*'] };

/** Who is calling. Anonymous callers are told to authenticate; others are told only what they may see. */
export type Caller = { kind: 'anonymous' } | { kind: 'principal'; id: string; account?: string };

export const ANONYMOUS: Caller = { kind: 'anonymous' };

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { identityErrors } from './identity-errors.js';
import type { TokenSubject } from './verify-token.js';

/** Who calls the Identity API, with what decides their rights until policies exist. */
export interface Caller {
  iamId: string;
  accountId: string;
  /** The account owner may do everything in the account; other users only touch their own keys. */
  isOwner: boolean;
}

/**
 * The caller behind a verified token. Service IDs may do nothing here yet (403); a user deleted
 * since the token was issued is no longer anyone (401).
 */
export async function resolveCaller(db: Kysely<Database>, subject: TokenSubject): Promise<Caller> {
  if (subject.subType !== 'User') throw identityErrors.forbidden('Service IDs cannot manage API keys or service IDs.');
  const user = await db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select(['users.account_id', 'accounts.owner_iam_id'])
    .where('users.iam_id', '=', subject.iamId)
    .executeTakeFirst();
  if (!user || user.account_id !== subject.accountId) throw identityErrors.badToken();
  return { iamId: subject.iamId, accountId: user.account_id, isOwner: user.owner_iam_id === subject.iamId };
}

/** Throws 404 for anything outside the caller's account, exactly as for a missing entity. */
export function assertSameAccount(caller: Caller, accountId: string, type: string, id: string): void {
  if (accountId !== caller.accountId) throw identityErrors.notFound(type, id);
}

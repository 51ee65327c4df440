import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Subject } from './authorize.js';
import type { TokenSubject } from './verify-token.js';

/** Who calls an IAM API: a user or service ID that still exists, with what its account says of it. */
export interface Principal extends Subject {
  kind: 'user' | 'serviceid';
  /** The owner of the operator's account (the first one): may create further accounts. */
  isOperator: boolean;
  /** As audit events name it: a user's e-mail, a service ID's name. */
  name: string;
}

/**
 * The principal behind a verified access token, or undefined when the identity is gone (deleted
 * since the token was issued) or no longer in the account the token names.
 */
export async function resolvePrincipal(db: Kysely<Database>, token: Pick<TokenSubject, 'iamId' | 'accountId' | 'subType'>): Promise<Principal | undefined> {
  const identity =
    token.subType === 'User'
      ? await db.selectFrom('users').select(['account_id', 'email as name']).where('iam_id', '=', token.iamId).executeTakeFirst()
      : await db.selectFrom('service_ids').select(['account_id', 'name']).where('iam_id', '=', token.iamId).executeTakeFirst();
  if (!identity || identity.account_id !== token.accountId) return undefined;
  const account = await db.selectFrom('accounts').select(['owner_iam_id', 'operator']).where('id', '=', identity.account_id).executeTakeFirst();
  if (!account) return undefined;
  const isAccountOwner = account.owner_iam_id === token.iamId;
  return {
    iamId: token.iamId,
    accountId: identity.account_id,
    kind: token.subType === 'User' ? 'user' : 'serviceid',
    isAccountOwner,
    isOperator: isAccountOwner && account.operator === 1,
    name: identity.name,
  };
}

/** The kind of identity an IAM ID names, from its form: service IDs are `iam-ServiceId-…`. */
export function subTypeOf(iamId: string): TokenSubject['subType'] {
  return iamId.startsWith('iam-ServiceId-') ? 'ServiceId' : 'User';
}

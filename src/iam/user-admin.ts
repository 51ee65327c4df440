import type { Authorization } from './authorization.js';
import type { IamChanges } from './changes.js';
import type { IdentityHistory } from './history.js';
import type { Identities, UserRecord } from './identities.js';
import { identityErrors } from './identity-errors.js';
import { pageOf } from './paging.js';
import type { Policies } from './policies.js';
import type { PolicyAdmin } from './policy-admin.js';
import type { Principal } from './principal.js';

/** IBM's user states that an administrator may set (the others describe a pending invitation). */
export const SETTABLE_USER_STATES = ['ACTIVE', 'VPN_ONLY', 'DISABLED_CLASSIC_INFRASTRUCTURE'] as const;

export interface UserInvitation {
  users: Array<{ email: string; name?: string }>;
  /** Policies (type, roles, resources; no subjects) to grant each invited user. */
  policies: Array<{ type: unknown; roles: unknown; resources: unknown }>;
}

export interface UserChanges {
  firstname?: string;
  lastname?: string;
  email?: string;
  state?: string;
}

type UserOperation = 'get' | 'invite' | 'update' | 'remove';

/**
 * IBM's User Management operations over an account's users. Who may: the account owner; anyone
 * with a `user-management` role that grants the operation (roles.ts); a user for their own
 * profile; and the operator in every account. Inviting takes a user (IBM refuses service IDs).
 * An account the caller may not manage answers 404, exactly as one that does not exist.
 */
export class UserAdmin {
  constructor(
    private readonly identities: Identities,
    private readonly policies: Policies,
    private readonly policyAdmin: PolicyAdmin,
    private readonly authorization: Authorization,
    private readonly history: IdentityHistory,
    private readonly changes: IamChanges,
  ) {}

  async list(principal: Principal, accountId: string, page: { offset: number; limit: number }): Promise<{ records: UserRecord[]; more: boolean; total: number }> {
    await this.assertMay(principal, accountId, 'get');
    const users = await this.identities.users(accountId);
    return { ...pageOf(users, page.offset, page.limit), total: users.length };
  }

  async get(principal: Principal, accountId: string, iamId: string): Promise<UserRecord> {
    if (principal.iamId !== iamId) await this.assertMay(principal, accountId, 'get');
    return this.userIn(principal, accountId, iamId);
  }

  /** Creates each user, ACTIVE at once (Berth sends no e-mail), and grants them the given policies. */
  async invite(principal: Principal, accountId: string, invitation: UserInvitation): Promise<UserRecord[]> {
    if (principal.kind !== 'user') throw identityErrors.forbidden('Service IDs cannot invite users; use a user token.');
    await this.assertMay(principal, accountId, 'invite');
    if (invitation.users.length === 0) throw identityErrors.invalid('users must name at least one user to invite');
    // A policy is written in the inviter's own account; the operator invites elsewhere without one.
    if (invitation.policies.length > 0 && accountId !== principal.accountId) throw identityErrors.invalid('iam_policy can only be given in your own account');
    const emails = invitation.users.map((user) => user.email);
    if (new Set(emails).size !== emails.length) throw identityErrors.invalid('users names the same e-mail twice');
    const existing = new Set((await this.identities.users(accountId)).map((user) => user.email));
    const taken = emails.find((email) => existing.has(email));
    if (taken !== undefined) throw identityErrors.conflict(`A user with e-mail ${taken} is already in account ${accountId}.`);
    // Every policy is checked (body and the inviter's right to grant it) before anyone is created.
    const policyBody = (subject: string, policy: UserInvitation['policies'][number]) => ({
      ...policy,
      subjects: [{ attributes: [{ name: 'iam_id', value: subject }] }],
    });
    for (const policy of invitation.policies) await this.policyAdmin.check(principal, policyBody('BERTHid-INVITEE', policy));
    // Two policies on the same resources would conflict once the first is written.
    const targets = invitation.policies.map((policy) => JSON.stringify(policy.resources));
    if (new Set(targets).size !== targets.length) throw identityErrors.invalid('iam_policy names the same resources twice; give both roles in one policy');

    const created: UserRecord[] = [];
    for (const user of invitation.users) {
      // Each user with their policies, or neither.
      const record = await this.changes.run(principal, async (trx, note) => {
        const iamId = await this.identities.createUser(accountId, { email: user.email, name: user.name ?? user.email }, trx);
        note({ action: 'user-management.user.invite', target: iamId, reason: `${user.email} into account ${accountId}` });
        for (const policy of invitation.policies) await this.policyAdmin.createChecked(principal, policyBody(iamId, policy), trx);
        return (await this.identities.user(iamId, trx))!;
      });
      created.push(record);
    }
    return created;
  }

  async update(principal: Principal, accountId: string, iamId: string, changes: UserChanges): Promise<void> {
    const self = principal.iamId === iamId;
    // A user may change their own name and e-mail; the state is for administrators.
    if (!self || changes.state !== undefined) await this.assertMay(principal, accountId, 'update');
    const user = await this.userIn(principal, accountId, iamId);
    if (changes.state !== undefined && !(SETTABLE_USER_STATES as readonly string[]).includes(changes.state)) {
      throw identityErrors.invalid(`state must be one of ${SETTABLE_USER_STATES.join(', ')}`);
    }
    if (changes.email !== undefined && changes.email !== user.email) {
      const clash = (await this.identities.users(accountId)).some((other) => other.email === changes.email);
      if (clash) throw identityErrors.conflict(`A user with e-mail ${changes.email} is already in account ${accountId}.`);
    }
    const renamed = changes.firstname !== undefined || changes.lastname !== undefined;
    const { firstname, lastname } = nameParts(user.name);
    const set = {
      ...(renamed ? { name: `${changes.firstname ?? firstname} ${changes.lastname ?? lastname}`.trim() } : {}),
      ...(changes.email !== undefined ? { email: changes.email } : {}),
      ...(changes.state !== undefined ? { state: changes.state } : {}),
    };
    await this.changes.run(principal, async (trx, note) => {
      await this.identities.updateUser(iamId, set, trx);
      note({ action: 'user-management.user.update', target: iamId, reason: Object.keys(set).join(', ') });
    });
  }

  /** Removes the user with their API keys (and so their sessions), and retires the policies naming them. */
  async remove(principal: Principal, accountId: string, iamId: string): Promise<void> {
    await this.assertMay(principal, accountId, 'remove');
    await this.userIn(principal, accountId, iamId);
    const account = await this.identities.account(accountId);
    if (account?.owner_iam_id === iamId) throw identityErrors.conflict('The account owner cannot be removed from the account.');
    await this.changes.run(principal, async (trx, note) => {
      note({ action: 'user-management.user.remove', target: iamId, reason: `from account ${accountId}` });
      const keys = await trx.selectFrom('api_keys').select('id').where('iam_id', '=', iamId).execute();
      await trx.deleteFrom('refresh_tokens').where('iam_id', '=', iamId).execute();
      await trx.deleteFrom('api_keys').where('iam_id', '=', iamId).execute();
      await trx.deleteFrom('users').where('iam_id', '=', iamId).execute();
      await this.policies.retireSubject(trx, accountId, iamId, principal.iamId);
      await this.history.forget(keys.map((key) => key.id), trx);
    });
  }

  private async userIn(principal: Principal, accountId: string, iamId: string): Promise<UserRecord> {
    const user = await this.identities.user(iamId);
    if (!user || user.account_id !== accountId) throw identityErrors.notFound('user', iamId);
    if (!principal.isOperator && accountId !== principal.accountId) throw identityErrors.notFound('user', iamId);
    return user;
  }

  private async assertMay(principal: Principal, accountId: string, operation: UserOperation): Promise<void> {
    if (principal.isOperator && (await this.identities.account(accountId))) return;
    if (accountId !== principal.accountId) throw identityErrors.notFound('account', accountId);
    const access = await this.authorization.for(principal);
    access.require(`user-management.user.${operation}`, { accountId, serviceName: 'user-management' }, () =>
      identityErrors.forbidden(`${operation} on the users of the account needs a user-management role that grants it.`),
    );
  }
}

/** A user's name as IBM's first and last name: the first word, and the rest. */
export function nameParts(name: string): { firstname: string; lastname: string } {
  const [firstname = '', ...rest] = name.trim().split(/\s+/);
  return { firstname, lastname: rest.join(' ') };
}

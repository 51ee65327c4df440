import type { ApiKeyRecord, ApiKeys } from './api-keys.js';
import type { IamChanges } from './changes.js';
import type { AccountRecord, Identities } from './identities.js';
import { identityErrors } from './identity-errors.js';
import type { Principal } from './principal.js';

export interface NewAccount {
  name: string;
  owner: { email: string; name?: string };
}

/**
 * Berth's own account API (IBM creates accounts by sign-up, not by API): the operator — the owner
 * of the first account — creates tenants, each with an owner and a first API key for them. Every
 * principal sees its own account; the operator sees all. Any other account answers 404.
 */
export class AccountAdmin {
  constructor(
    private readonly identities: Identities,
    private readonly apiKeys: ApiKeys,
    private readonly changes: IamChanges,
  ) {}

  async create(principal: Principal, request: NewAccount): Promise<{ account: AccountRecord; ownerKey: { record: ApiKeyRecord; secret: string } }> {
    if (!principal.isOperator) throw identityErrors.forbidden('Only the operator (the owner of the first account) may create accounts.');
    const owner = { email: request.owner.email, name: request.owner.name ?? request.owner.email };
    return this.changes.run(principal, async (trx, note) => {
      const { accountId, ownerIamId } = await this.identities.createAccount(request.name, owner, { db: trx });
      const ownerKey = await this.apiKeys.create({ accountId, iamId: ownerIamId, name: 'owner', description: 'created with the account', createdBy: principal.iamId }, trx);
      note({ action: 'iam-identity.account.create', target: accountId, reason: `owned by ${owner.email}` });
      return { account: (await this.identities.account(accountId, trx))!, ownerKey };
    });
  }

  async list(principal: Principal): Promise<AccountRecord[]> {
    if (principal.isOperator) return this.identities.accounts();
    const own = await this.identities.account(principal.accountId);
    return own ? [own] : [];
  }

  async get(principal: Principal, id: string): Promise<AccountRecord> {
    const account = principal.isOperator || id === principal.accountId ? await this.identities.account(id) : undefined;
    if (!account) throw identityErrors.notFound('account', id);
    return account;
  }
}

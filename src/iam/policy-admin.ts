import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Identities } from './identities.js';
import type { Policies, PolicyQuery, PolicyRecord } from './policies.js';
import { policyErrors } from './policy-errors.js';
import { validatePolicy } from './policy-validation.js';
import type { TokenSubject } from './verify-token.js';

/** Who calls the Policy API: any user or service ID of an account; the owner alone may write. */
export interface PolicyCaller {
  iamId: string;
  accountId: string;
  isOwner: boolean;
}

/** The Policy Management operations, with who may do what until policies themselves decide it. */
export class PolicyAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly identities: Identities,
    private readonly policies: Policies,
  ) {}

  /** The principal behind a verified token; one deleted since the token was issued is no longer anyone (401). */
  async resolveCaller(subject: TokenSubject): Promise<PolicyCaller> {
    const identity = await this.identities.find(subject.iamId);
    if (!identity || identity.accountId !== subject.accountId) throw policyErrors.invalidToken();
    const account = await this.db.selectFrom('accounts').select('owner_iam_id').where('id', '=', identity.accountId).executeTakeFirst();
    return { iamId: identity.iamId, accountId: identity.accountId, isOwner: account?.owner_iam_id === identity.iamId };
  }

  async create(caller: PolicyCaller, body: unknown): Promise<PolicyRecord> {
    assertOwner(caller);
    const content = await validatePolicy(body, caller.accountId, this.identities);
    const existing = await this.policies.findConflict(caller.accountId, content);
    if (existing) throw policyErrors.duplicate(existing);
    return this.policies.create(caller.accountId, content, caller.iamId);
  }

  /** Another account's policies are not readable, so asking for them lists nothing (§3.1). */
  async list(caller: PolicyCaller, query: PolicyQuery): Promise<PolicyRecord[]> {
    if (query.accountId !== caller.accountId) return [];
    return this.policies.list(query);
  }

  async get(caller: PolicyCaller, id: string): Promise<PolicyRecord> {
    const record = await this.policies.get(id);
    if (!record || record.account_id !== caller.accountId) throw policyErrors.notFound(id);
    return record;
  }

  async replace(caller: PolicyCaller, id: string, ifMatch: string | undefined, body: unknown): Promise<PolicyRecord> {
    await this.get(caller, id);
    assertOwner(caller);
    if (ifMatch === undefined) throw policyErrors.ifMatchRequired();
    const content = await validatePolicy(body, caller.accountId, this.identities);
    const existing = await this.policies.findConflict(caller.accountId, content, id);
    if (existing) throw policyErrors.duplicate(existing);
    return this.policies.replace(id, ifMatch, content, caller.iamId);
  }

  async remove(caller: PolicyCaller, id: string): Promise<void> {
    await this.get(caller, id);
    assertOwner(caller);
    await this.policies.remove(id);
  }
}

function assertOwner(caller: PolicyCaller): void {
  if (!caller.isOwner) throw policyErrors.forbidden('Only the account owner may manage policies.');
}

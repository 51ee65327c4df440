import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Authorization, SubjectAccess } from './authorization.js';
import type { PolicyAttribute } from './authorize.js';
import type { IamChanges, IamEvent } from './changes.js';
import type { Policies, PolicyContent, PolicyQuery, PolicyRecord, PolicyState } from './policies.js';
import { policyErrors } from './policy-errors.js';
import { validatePolicy } from './policy-validation.js';
import type { Principal } from './principal.js';
import { ASSIGN_ACCESS } from './roles.js';

const READ_ALL = 'iam-access-management.policy.read';

/**
 * The Policy Management operations with who may do them (roles.ts): writing a policy needs
 * `iam.policy.assign` (the Administrator role) on every resource the policy names, before and
 * after the change; reading one needs being its subject, being able to write it, or a role on
 * `iam-access-management`. Lists leave out what the caller may not read, as IBM's do.
 */
export class PolicyAdmin {
  constructor(
    private readonly policies: Policies,
    private readonly authorization: Authorization,
    private readonly changes: IamChanges,
  ) {}

  /** The write `work` does, with its audit event, in one transaction (or in the caller's `db`). */
  private recorded<T extends { id: string; subject_iam_id: string | null }>(principal: Principal, action: string, db: Kysely<Database> | undefined, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    const run = async (trx: Kysely<Database>, note: (event: IamEvent) => void) => {
      const record = await work(trx);
      note({ action: `iam-am.policy.${action}`, target: record.id, reason: `for ${record.subject_iam_id ?? '(no subject)'}` });
      return record;
    };
    return db ? this.changes.record(principal, db, run) : this.changes.run(principal, run);
  }

  /**
   * A policy for a subject made in the caller's transaction `trx` (an invited user): its body and
   * the caller's right to grant it were checked (check()) before the transaction began; only the
   * subject differs, and a new subject has no policy to conflict with.
   */
  async createChecked(principal: Principal, body: unknown, trx: Kysely<Database>): Promise<PolicyRecord> {
    const content = validatePolicy(body, principal.accountId);
    return this.recorded(principal, 'create', trx, (inner) => this.policies.create(principal.accountId, content, principal.iamId, inner));
  }

  async create(principal: Principal, body: unknown): Promise<PolicyRecord> {
    const content = await this.check(principal, body);
    const existing = await this.policies.findConflict(principal.accountId, content);
    if (existing) throw policyErrors.duplicate(existing);
    return this.recorded(principal, 'create', undefined, (trx) => this.policies.create(principal.accountId, content, principal.iamId, trx));
  }

  /** What create() checks before it writes: a valid body the caller may grant. */
  async check(principal: Principal, body: unknown): Promise<PolicyContent> {
    const content = validatePolicy(body, principal.accountId);
    this.assertMayAssign(await this.authorization.for(principal), content.resources);
    return content;
  }

  async list(principal: Principal, query: PolicyQuery): Promise<PolicyRecord[]> {
    // Another account's policies are not readable, so asking for them lists nothing (§3.1).
    if (query.accountId !== principal.accountId) return [];
    const access = await this.authorization.for(principal);
    return (await this.policies.list(query)).filter((record) => this.mayRead(principal, access, record));
  }

  async get(principal: Principal, id: string): Promise<PolicyRecord> {
    const record = await this.inAccount(principal, id);
    if (!this.mayRead(principal, await this.authorization.for(principal), record)) {
      throw policyErrors.forbidden('Reading this policy needs being its subject, the Administrator role on its resources, or a role on iam-access-management.');
    }
    return record;
  }

  async replace(principal: Principal, id: string, ifMatch: string | undefined, body: unknown): Promise<PolicyRecord> {
    const record = await this.inAccount(principal, id);
    if (ifMatch === undefined) throw policyErrors.ifMatchRequired();
    const content = validatePolicy(body, principal.accountId);
    const access = await this.authorization.for(principal);
    this.assertMayAssign(access, storedResources(record));
    this.assertMayAssign(access, content.resources);
    const existing = await this.policies.findConflict(principal.accountId, content, id);
    if (existing) throw policyErrors.duplicate(existing);
    return this.recorded(principal, 'update', undefined, (trx) => this.policies.replace(id, ifMatch, content, principal.iamId, trx));
  }

  /** PATCH state: restoring a deleted policy is refused while an active one grants the same. */
  async setState(principal: Principal, id: string, ifMatch: string | undefined, state: unknown): Promise<PolicyRecord> {
    const record = await this.inAccount(principal, id);
    if (ifMatch === undefined) throw policyErrors.ifMatchRequired();
    if (state !== 'active' && state !== 'deleted') throw policyErrors.invalidBody('state must be "active" or "deleted"');
    this.assertMayAssign(await this.authorization.for(principal), storedResources(record));
    if (state === 'active' && record.state !== 'active') {
      const target = { subjects: JSON.parse(record.subjects) as unknown[], subjectIamId: record.subject_iam_id ?? '', resources: storedResources(record) };
      const existing = await this.policies.findConflict(principal.accountId, target, id);
      if (existing) throw policyErrors.duplicate(existing);
    }
    return this.recorded(principal, state === 'active' ? 'restore' : 'delete', undefined, (trx) => this.policies.setState(id, ifMatch, state as PolicyState, principal.iamId, trx));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const record = await this.inAccount(principal, id);
    this.assertMayAssign(await this.authorization.for(principal), storedResources(record));
    await this.recorded(principal, 'delete', undefined, async (trx) => {
      await this.policies.remove(id, principal.iamId, trx);
      return record;
    });
  }

  /** The policy, if it is in the caller's account: another account's is a 404, exactly as a missing one. */
  private async inAccount(principal: Principal, id: string): Promise<PolicyRecord> {
    const record = await this.policies.get(id);
    if (!record || record.account_id !== principal.accountId) throw policyErrors.notFound(id);
    return record;
  }

  private mayRead(principal: Principal, access: SubjectAccess, record: PolicyRecord): boolean {
    if (record.subject_iam_id === principal.iamId) return true;
    if (access.can(READ_ALL, { accountId: principal.accountId, serviceName: 'iam-access-management' })) return true;
    return this.mayAssign(access, storedResources(record));
  }

  private mayAssign(access: SubjectAccess, resources: unknown[]): boolean {
    return resources.length > 0 && resources.every((resource) => access.can(ASSIGN_ACCESS, { attributes: (resource as { attributes: PolicyAttribute[] }).attributes }));
  }

  private assertMayAssign(access: SubjectAccess, resources: unknown[]): void {
    if (this.mayAssign(access, resources)) return;
    const refused = resources.map((resource) => ({ attributes: (resource as { attributes: PolicyAttribute[] }).attributes ?? [] })).find((scope) => !access.can(ASSIGN_ACCESS, scope));
    if (refused) access.refused(ASSIGN_ACCESS, refused, access.decide(ASSIGN_ACCESS, refused).reason);
    else access.refused(ASSIGN_ACCESS, { attributes: [] }, 'the policy names no resource');
    throw policyErrors.forbidden('Granting access needs the Administrator role on every resource the policy names.');
  }
}

function storedResources(record: PolicyRecord): unknown[] {
  return JSON.parse(record.resources) as unknown[];
}

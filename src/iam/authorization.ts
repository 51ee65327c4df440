import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  decide,
  decideRepositoryAction,
  grantedActions,
  type Decision,
  type Policy,
  type PolicyAttribute,
  type RepositoryAction,
  type RepositoryScope,
  type Resource,
  type ResourceScope,
  type Subject,
} from './authorize.js';

/** Subjects whose policies one node keeps; the least recently loaded go first beyond this. */
const MAX_CACHED_SUBJECTS = 10_000;

/** A subject's policies as loaded, with the account's policy version they were read at. */
interface CachedPolicies {
  version: number;
  policies: Policy[];
}

/** Told of every request refused for want of access: the audit trail records it with the reason. */
export type DenialSink = (subject: Subject, action: string, resource: Resource | ResourceScope, reason: string) => void;

/** The decisions one subject can be given, over policies loaded once for a request. */
export class SubjectAccess {
  constructor(
    readonly subject: Subject,
    private readonly policies: readonly Policy[],
    private readonly onDenied?: DenialSink,
  ) {}

  /** Throws `refusal()` unless the subject may: the refusal is reported with the decision's reason. */
  require(action: string, resource: Resource | ResourceScope, refusal: () => Error): void {
    const decision = this.decide(action, resource);
    if (decision.allowed) return;
    this.refused(action, resource, decision.reason);
    throw refusal();
  }

  /** Reports a refusal the caller decided (by a rule beside the policies, or over several resources). */
  refused(action: string, resource: Resource | ResourceScope, reason: string): void {
    this.onDenied?.(this.subject, action, resource, reason);
  }

  decide(action: string, resource: Resource | ResourceScope): Decision {
    return decide({ subject: this.subject, action, resource }, this.policies);
  }

  can(action: string, resource: Resource | ResourceScope): boolean {
    return this.decide(action, resource).allowed;
  }

  grantedActions(scope: RepositoryScope): RepositoryAction[] {
    return grantedActions(this.subject, scope, this.policies);
  }

  decideRepositoryAction(scope: RepositoryScope, action: RepositoryAction): Decision {
    return decideRepositoryAction(this.subject, scope, action, this.policies);
  }
}

/**
 * The only reader of policies for decisions. A subject's active policies are cached per node and
 * reused while the account's `policy_version` is unchanged; every policy write bumps it in the
 * same transaction, so a change made on any node is seen by every node on its next decision.
 */
export class Authorization {
  private readonly cache = new Map<string, CachedPolicies>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onDenied?: DenialSink,
  ) {}

  /** Loads (or reuses) the subject's policies; decide with the result as often as the request needs. */
  async for(subject: Subject): Promise<SubjectAccess> {
    // The owner needs no policy, and decide() never consults them for the owner.
    if (subject.isAccountOwner) return new SubjectAccess(subject, [], this.onDenied);
    return new SubjectAccess(subject, await this.policiesOf(subject), this.onDenied);
  }

  private async policiesOf(subject: Subject): Promise<Policy[]> {
    // The version is read before the policies: a write in between makes the cached entry look
    // older than it is (reloaded next time), never newer.
    const account = await this.db.selectFrom('accounts').select('policy_version').where('id', '=', subject.accountId).executeTakeFirst();
    if (!account) return [];
    const key = `${subject.accountId}/${subject.iamId}`;
    const cached = this.cache.get(key);
    if (cached && cached.version === account.policy_version) return cached.policies;

    const rows = await this.db
      .selectFrom('policies')
      .select(['id', 'roles', 'resources'])
      .where('account_id', '=', subject.accountId)
      .where('subject_iam_id', '=', subject.iamId)
      .where('state', '=', 'active')
      .execute();
    const policies = rows.map((row) => toPolicy(row, subject.iamId));
    this.cache.delete(key);
    if (this.cache.size >= MAX_CACHED_SUBJECTS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { version: account.policy_version, policies });
    return policies;
  }
}

/** A stored policy in the decision's terms; anything malformed in it matches nothing. */
function toPolicy(row: { id: string; roles: string; resources: string }, iamId: string): Policy {
  const roles = JSON.parse(row.roles) as Array<{ role_id?: unknown }>;
  const resources = JSON.parse(row.resources) as Array<{ attributes?: PolicyAttribute[]; tags?: unknown[] }>;
  return {
    id: row.id,
    subjectIamIds: [iamId],
    roleCrns: roles.map((role) => role.role_id).filter((id): id is string => typeof id === 'string'),
    resources: resources.map((resource) => ({
      attributes: Array.isArray(resource.attributes) ? resource.attributes : [],
      ...(Array.isArray(resource.tags) ? { tags: resource.tags } : {}),
    })),
  };
}

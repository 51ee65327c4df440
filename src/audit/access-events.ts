import type { Decision, Resource, ResourceScope, Subject } from '../iam/authorize.js';
import type { Clock } from '../registry/clock.js';
import type { AuditFields } from './chain.js';
import type { AuditRecorder } from './recorder.js';

/** Where a request came from, as every event of it names it. */
export interface Origin {
  client: string;
  requestId: string;
}

/** Who an event is about, once known. */
export interface Who {
  iamId: string;
  accountId: string;
  name: string;
}

/** What a login presented: the username's kind of secret (reference §5.3) or an IAM grant's. */
export type CredentialKind = 'apikey' | 'accesstoken' | 'refreshtoken' | 'unknown';

/** One decided action on one repository of a region. */
export interface RepositoryDecision {
  repository: string;
  action: 'pull' | 'push' | 'delete';
  decision: Decision;
}

const namespaceOf = (repository: string) => (repository.includes('/') ? repository.slice(0, repository.indexOf('/')) : null);

/**
 * The events of access that change nothing — logins, authorization decisions, pulls — through the
 * batched recorder. Never a secret: a failed login names what kind of credential it was and why it
 * failed, and who, when the credential named someone.
 */
export class AccessEvents {
  constructor(
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  /** `target` says where the login was for: a region's registry, or IAM itself. */
  login(kind: CredentialKind, target: string, origin: Origin, outcome: { who: Who } | { failure: string; who?: Who }): Promise<void> {
    const failed = 'failure' in outcome;
    return this.note(outcome.who?.accountId ?? null, outcome.who, origin, {
      action: kind === 'unknown' ? 'iam-identity.login' : `iam-identity.${kind}.login`,
      outcome: failed ? 'failure' : 'success',
      reason: failed ? outcome.failure : null,
      target,
      namespace: null,
    });
  }

  /**
   * What a registry token was asked for (or a request with credentials needed) and what policy
   * answered, action by action, with the reason.
   */
  async decided(who: Who, decisions: readonly RepositoryDecision[], origin: Origin | undefined): Promise<void> {
    for (const { repository, action, decision } of decisions) {
      await this.note(who.accountId, who, origin, {
        action: `container-registry.image.${action}`,
        outcome: decision.allowed ? 'success' : 'denied',
        reason: decision.reason,
        target: repository,
        namespace: namespaceOf(repository),
      });
    }
  }

  /**
   * A request refused for want of access (the IAM and management APIs), with the decision's
   * reason, in the request the subject acts in.
   */
  denied(subject: Subject, action: string, resource: Resource | ResourceScope, reason: string): void {
    const attributes = 'attributes' in resource ? Object.fromEntries(resource.attributes.map((a) => [a.name, a.value])) : resource;
    const namespace = attributes.resourceType === 'namespace' && attributes.resource !== undefined ? attributes.resource : null;
    void this.note(subject.accountId, { iamId: subject.iamId, name: subject.name ?? null }, subject.origin, {
      action,
      outcome: 'denied',
      reason,
      target: attributes.resource ?? attributes.serviceName ?? null,
      namespace,
    });
  }

  /** A manifest served: the pull of an image (its blobs are not counted one by one). */
  pulled(accountId: string, who: { iamId: string; name: string | null } | null, target: string, origin: Origin): Promise<void> {
    return this.note(accountId, who, origin, { action: 'container-registry.image.pull', outcome: 'success', reason: null, target, namespace: namespaceOf(target) });
  }

  /** One event with who and where from filled in, at the clock's now. */
  private note(
    accountId: string | null,
    who: { iamId: string; name: string | null } | undefined | null,
    origin: Origin | undefined,
    event: Pick<AuditFields, 'action' | 'outcome' | 'reason' | 'target' | 'namespace'>,
  ): Promise<void> {
    return this.recorder.note(accountId, {
      at: this.clock(),
      ...event,
      principalId: who?.iamId ?? null,
      principalName: who?.name ?? null,
      client: origin?.client ?? null,
      requestId: origin?.requestId ?? null,
    });
  }
}

import type { RepositoryDecision } from '../audit/access-events.js';
import type { Authorization, SubjectAccess } from '../iam/authorization.js';
import type { Decision, Subject } from '../iam/authorize.js';
import type { Namespaces } from '../registry/namespaces.js';
import type { RepositoryAction } from './access.js';
import type { AccessEntry } from './registry-tokens.js';
import type { ScopeRequest } from './scopes.js';

const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/**
 * What a subject's policies grant in one region's registry, asked the one way (the IAM decision):
 * a repository `<namespace>/<repo>[/…]` is in the namespace its first component names, and only
 * a namespace of the subject's own account grants anything. A missing namespace and another
 * account's look the same: nothing is granted.
 */
export class RegistryGrants {
  constructor(
    private readonly authorization: Authorization,
    private readonly namespaces: Namespaces,
  ) {}

  /** The granted part of each request, in request order; a request granted nothing keeps an empty entry. */
  async of(subject: Subject, region: string, requests: readonly ScopeRequest[]): Promise<AccessEntry[]> {
    return (await this.decide(subject, region, requests)).entries;
  }

  /** As `of`, with the decision on every repository action asked and its reason (for the audit trail). */
  async decide(subject: Subject, region: string, requests: readonly ScopeRequest[]): Promise<{ entries: AccessEntry[]; decisions: RepositoryDecision[] }> {
    const lookup = await this.lookup(subject, region);
    const entries: AccessEntry[] = [];
    const decisions: RepositoryDecision[] = [];
    for (const request of requests) {
      if (request.type === 'registry') {
        // Any principal may ask for the catalog; it lists only what that principal may pull.
        entries.push({ type: 'registry', name: 'catalog', actions: [...request.actions] });
        continue;
      }
      const granted: RepositoryAction[] = [];
      for (const action of request.actions) {
        const decision = await lookup(request.name, action);
        decisions.push({ repository: request.name, action, decision });
        if (decision.allowed) granted.push(action);
      }
      entries.push({ type: 'repository', name: request.name, actions: granted });
    }
    return { entries, decisions };
  }

  /** The repository actions the subject holds on one repository now. */
  async actions(subject: Subject, region: string, repository: string): Promise<RepositoryAction[]> {
    const lookup = await this.lookup(subject, region);
    const granted: RepositoryAction[] = [];
    for (const action of REPOSITORY_ACTIONS) if ((await lookup(repository, action)).allowed) granted.push(action);
    return granted;
  }

  /** Of these repositories, the ones the subject may pull now. */
  async pullable(subject: Subject, region: string, repositories: readonly string[]): Promise<Set<string>> {
    const lookup = await this.lookup(subject, region);
    const allowed = new Set<string>();
    for (const name of repositories) if ((await lookup(name, 'pull')).allowed) allowed.add(name);
    return allowed;
  }

  /** A per-request lookup: policies loaded once, each namespace read once. */
  private async lookup(subject: Subject, region: string): Promise<(repository: string, action: RepositoryAction) => Promise<Decision>> {
    let access: SubjectAccess | undefined;
    const byNamespace = new Map<string, { accountId: string } | undefined>();
    return async (repository, action) => {
      const slash = repository.indexOf('/');
      // IBM's images are always <namespace>/<repository>: a bare name is in no namespace.
      if (slash === -1) return { allowed: false, reason: `${repository} names no namespace (images are <namespace>/<name>)` };
      const namespace = repository.slice(0, slash);
      if (!byNamespace.has(namespace)) {
        const record = await this.namespaces.get(region, namespace);
        byNamespace.set(namespace, record && { accountId: record.account_id });
      }
      const record = byNamespace.get(namespace);
      // The same reason for a missing namespace and another account's: the trail is read by the subject's account.
      if (record === undefined || record.accountId !== subject.accountId) {
        return { allowed: false, reason: `account ${subject.accountId} has no namespace ${namespace} in ${region}` };
      }
      access ??= await this.authorization.for(subject);
      return access.decideRepositoryAction({ accountId: record.accountId, region, namespace }, action);
    };
  }
}

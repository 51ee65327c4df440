import type { Authorization, SubjectAccess } from '../iam/authorization.js';
import type { Subject } from '../iam/authorize.js';
import type { Namespaces } from '../registry/namespaces.js';
import type { RepositoryAction } from './access.js';
import type { AccessEntry } from './registry-tokens.js';
import type { ScopeRequest } from './scopes.js';

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
    const lookup = await this.lookup(subject, region);
    const entries: AccessEntry[] = [];
    for (const request of requests) {
      if (request.type === 'registry') {
        // Any principal may ask for the catalog; it lists only what that principal may pull.
        entries.push({ type: 'registry', name: 'catalog', actions: [...request.actions] });
        continue;
      }
      const granted = await lookup(request.name);
      entries.push({ type: 'repository', name: request.name, actions: [...request.actions].filter((action) => granted.includes(action)) });
    }
    return entries;
  }

  /** The repository actions the subject holds on one repository now. */
  async actions(subject: Subject, region: string, repository: string): Promise<RepositoryAction[]> {
    return (await this.lookup(subject, region))(repository);
  }

  /** Of these repositories, the ones the subject may pull now. */
  async pullable(subject: Subject, region: string, repositories: readonly string[]): Promise<Set<string>> {
    const lookup = await this.lookup(subject, region);
    const allowed = new Set<string>();
    for (const name of repositories) if ((await lookup(name)).includes('pull')) allowed.add(name);
    return allowed;
  }

  /** A per-request lookup: policies loaded once, each namespace read once. */
  private async lookup(subject: Subject, region: string): Promise<(repository: string) => Promise<RepositoryAction[]>> {
    let access: SubjectAccess | undefined;
    const byNamespace = new Map<string, RepositoryAction[]>();
    return async (repository) => {
      const slash = repository.indexOf('/');
      // IBM's images are always <namespace>/<repository>: a bare name is in no namespace.
      if (slash === -1) return [];
      const namespace = repository.slice(0, slash);
      let granted = byNamespace.get(namespace);
      if (granted === undefined) {
        const record = await this.namespaces.get(region, namespace);
        if (record === undefined || record.account_id !== subject.accountId) {
          granted = [];
        } else {
          access ??= await this.authorization.for(subject);
          granted = access.grantedActions({ accountId: record.account_id, region, namespace });
        }
        byNamespace.set(namespace, granted);
      }
      return granted;
    };
  }
}

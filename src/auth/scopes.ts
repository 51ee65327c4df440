import { isValidRepositoryName } from '../oci/names.js';
import type { RepositoryAction } from './access.js';

/**
 * Docker token scopes (`repository:<name>:<actions>`, `registry:catalog:*`), the one place they are
 * read and written. Clients send them in any order (`push,pull` and `pull,push`), several at once
 * (a mount asks for its source too), `*` to delete, and as repeated `scope` parameters (GET) or
 * space-separated in one (OAuth2 POST).
 */
export type ScopeRequest =
  | { type: 'repository'; name: string; actions: Set<RepositoryAction> }
  | { type: 'registry'; name: 'catalog'; actions: Set<'*'> };

const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

export class ScopeError extends Error {}

/** The requested scopes, merged per resource. Unknown actions are dropped; a malformed scope is a ScopeError. */
export function parseScopes(values: readonly string[]): ScopeRequest[] {
  const repositories = new Map<string, Set<RepositoryAction>>();
  let catalog: Set<'*'> | undefined;
  for (const scope of values.flatMap((value) => value.split(' ')).filter((scope) => scope !== '')) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first === -1 || last === first) throw new ScopeError(`scope "${scope}" is not type:name:actions`);
    // `repository(plugin):name:pull` names a resource class; the class changes nothing here.
    const type = scope.slice(0, first).replace(/\(.*\)$/, '');
    const name = scope.slice(first + 1, last);
    const actions = scope.slice(last + 1).split(',');
    if (type === 'registry') {
      if (name !== 'catalog') throw new ScopeError(`scope "${scope}": the only registry resource is catalog`);
      catalog ??= new Set();
      if (actions.includes('*')) catalog.add('*');
    } else if (type === 'repository') {
      if (!isValidRepositoryName(name)) throw new ScopeError(`scope "${scope}" names an invalid repository`);
      const wanted = repositories.get(name) ?? new Set<RepositoryAction>();
      for (const action of actions) {
        if (action === '*') REPOSITORY_ACTIONS.forEach((all) => wanted.add(all));
        else if ((REPOSITORY_ACTIONS as readonly string[]).includes(action)) wanted.add(action as RepositoryAction);
      }
      repositories.set(name, wanted);
    } else {
      throw new ScopeError(`scope "${scope}" has unknown resource type ${type}`);
    }
  }
  const requests: ScopeRequest[] = [...repositories].map(([name, actions]) => ({ type: 'repository', name, actions }));
  if (catalog) requests.push({ type: 'registry', name: 'catalog', actions: catalog });
  return requests;
}

/** The key an access entry is looked up by: `repository:<name>` or `registry:catalog`. */
export function scopeKey(type: string, name: string): string {
  return `${type}:${name}`;
}

/** A challenge or token scope string. */
export function formatScope(type: string, name: string, actions: readonly string[]): string {
  return `${type}:${name}:${actions.join(',')}`;
}

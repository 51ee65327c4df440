import type { IncomingHttpHeaders } from 'node:http';
import type { Origin, RepositoryDecision, Who } from '../audit/access-events.js';
import type { Access, Caller } from './access.js';
import type { Authenticator } from './authenticate.js';
import { presentedCredential, type AuthenticatorChain } from './authenticator-chain.js';
import type { Authorizer } from './authorize.js';
import type { RegistryGrants } from './grants.js';
import { scopeKey } from './scopes.js';

/** The `service` of Berth's Bearer challenge and the audience of its registry tokens (IBM's value). */
export const REGISTRY_SERVICE = 'registry';
/** Where the challenge's realm points, on the host the client reached. */
export const TOKEN_PATH = '/oauth/token';

/** `Authorization: Basic` as user and password; undefined for anything else. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const presented = header ? presentedCredential(header) : undefined;
  return presented?.scheme === 'basic' ? { username: presented.username, password: presented.password } : undefined;
}

/**
 * Registry requests authenticate through the chain with a registry token from `/oauth/token`
 * (Bearer), or with the same credentials a login takes (Basic `iamapikey`/`iambearer`/`iamrefresh`),
 * which some clients send directly.
 */
export function iamAuthenticator(deps: { chain: AuthenticatorChain }): Authenticator {
  return {
    challenge: { service: REGISTRY_SERVICE, realmPath: TOKEN_PATH },
    authenticate: (headers: IncomingHttpHeaders, region: string, origin: Origin) => deps.chain.resolve(headers.authorization, ['registry-token', 'login'], { region, origin }),
  };
}

/**
 * A token caller gets what its token lists, nothing more; a caller with credentials gets what its
 * policies grant. `current()` always asks the policies: the catalog lists what the caller may pull
 * now, and an upload can be finished only while its principal may still push there.
 */
export function iamAuthorizer(deps: {
  grants: RegistryGrants;
  subjectOf: (caller: Caller & { kind: 'principal' }) => Promise<Caller & { kind: 'principal' }>;
  /** Told of what policy refused a request decided on the caller's policies now, with the reasons. */
  refused?: (who: Who, decisions: RepositoryDecision[], origin: Origin | undefined) => Promise<void>;
}): Authorizer {
  const live = async (caller: Caller, access: Access, region: string): Promise<ReadonlySet<string>> => {
    if (caller.kind !== 'principal') return new Set();
    const { subject } = await deps.subjectOf(caller);
    if (!subject) return new Set();
    const { entries, decisions } = await deps.grants.decide(subject, region, [
      access.type === 'registry' ? { type: 'registry', name: 'catalog', actions: new Set(['*'] as const) } : { type: 'repository', name: access.name, actions: new Set(access.actions) },
    ]);
    const refused = decisions.filter(({ decision }) => !decision.allowed);
    if (refused.length > 0) await deps.refused?.({ iamId: subject.iamId, accountId: subject.accountId, name: subject.name ?? caller.name ?? '' }, refused, caller.origin);
    return new Set(entries[0]!.actions);
  };
  return {
    async authorize(caller, access, region) {
      if (caller.kind !== 'principal') return new Set();
      if (!caller.token) return live(caller, access, region);
      if (caller.token.expired) return new Set();
      const listed = caller.token.access.get(scopeKey(access.type, access.name)) ?? new Set<string>();
      return new Set(access.actions.filter((action) => listed.has(action)));
    },
    current: live,
    async pullable(caller, names, region) {
      if (caller.kind !== 'principal') return new Set();
      const { subject } = await deps.subjectOf(caller);
      return subject ? deps.grants.pullable(subject, region, names) : new Set();
    },
  };
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Origin, RepositoryDecision, Who } from '../audit/access-events.js';
import { AuthenticationError } from './errors.js';
import { ANONYMOUS, type Access, type Caller } from './access.js';
import type { Authenticator } from './authenticate.js';
import type { Authorizer } from './authorize.js';
import type { RegistryCredentials } from './credentials.js';
import type { RegistryGrants } from './grants.js';
import type { AccessEntry, RegistryTokens } from './registry-tokens.js';
import { scopeKey } from './scopes.js';
import type { AuthMethod } from './security-context.js';

/** The `service` of Berth's Bearer challenge and the audience of its registry tokens (IBM's value). */
export const REGISTRY_SERVICE = 'registry';
/** Where the challenge's realm points, on the host the client reached. */
export const TOKEN_PATH = '/oauth/token';

/** `Authorization: Basic` as user and password; undefined for anything else. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = header && /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** How a login's username says its password proves who it is. */
function methodOfUsername(username: string): AuthMethod {
  return username === 'iambearer' ? 'accesstoken' : username === 'iamrefresh' ? 'refreshtoken' : 'apikey';
}

/**
 * Registry requests authenticate with a registry token from `/oauth/token` (Bearer), or with the
 * same credentials a login takes (Basic `iamapikey`/`iambearer`/`iamrefresh`), which some clients
 * send directly. A token is only good in the region that issued it; one past its expiry (within
 * `uploadGraceSeconds`) is marked expired and serves only to finish its principal's own upload.
 */
export function iamAuthenticator(deps: { tokens: RegistryTokens; credentials: RegistryCredentials; uploadGraceSeconds: number }): Authenticator {
  return {
    challenge: { service: REGISTRY_SERVICE, realmPath: TOKEN_PATH },
    async authenticate(headers: IncomingHttpHeaders, region: string, origin: Origin): Promise<Caller> {
      const header = headers.authorization;
      if (header === undefined || header === '') return ANONYMOUS;
      const bearer = /^Bearer\s+(\S+)$/i.exec(header);
      if (bearer) {
        const claims = await deps.tokens.verify(bearer[1]!, REGISTRY_SERVICE, deps.uploadGraceSeconds);
        if (!claims || claims.region !== region) throw new AuthenticationError('the registry token is not valid here, or has expired');
        const byKey = (entries: AccessEntry[]) => new Map(entries.map((entry) => [scopeKey(entry.type, entry.name), new Set(entry.actions)]));
        return {
          kind: 'principal',
          id: claims.iamId,
          account: claims.accountId,
          ...(claims.name !== undefined ? { name: claims.name } : {}),
          method: 'registry-token',
          ...(claims.tokenId !== undefined ? { tokenId: claims.tokenId } : {}),
          // Whether it owns the account is looked up again when its policies are asked (current()).
          token: { access: byKey(claims.access), requested: byKey(claims.requested), expired: claims.expired },
        };
      }
      const basic = basicCredentials(header);
      if (!basic) throw new AuthenticationError('send a registry token (Bearer) or iamapikey credentials (Basic)');
      const { principal } = await deps.credentials.login(basic.username, basic.password, origin, `registry ${region}`);
      return { kind: 'principal', id: principal.iamId, account: principal.accountId, name: principal.name, subject: principal, method: methodOfUsername(basic.username) };
    },
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
  refused?: (who: Who, decisions: RepositoryDecision[]) => Promise<void>;
}): Authorizer {
  const live = async (caller: Caller, access: Access, region: string): Promise<ReadonlySet<string>> => {
    if (caller.kind !== 'principal') return new Set();
    const { subject } = await deps.subjectOf(caller);
    if (!subject) return new Set();
    const { entries, decisions } = await deps.grants.decide(subject, region, [
      access.type === 'registry' ? { type: 'registry', name: 'catalog', actions: new Set(['*'] as const) } : { type: 'repository', name: access.name, actions: new Set(access.actions) },
    ]);
    const refused = decisions.filter(({ decision }) => !decision.allowed);
    if (refused.length > 0) await deps.refused?.({ iamId: subject.iamId, accountId: subject.accountId, name: subject.name ?? caller.name ?? '' }, refused);
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

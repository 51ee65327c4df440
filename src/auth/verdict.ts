import type { Access, Caller } from './access.js';
import { scopeKey } from './scopes.js';

/**
 * What the registry answers a request, decided once and rendered by the HTTP layer: go ahead; log
 * in (again) for the scope the request needs; refused; or answered as if the repository did not
 * exist (a route whose not-found answer is indistinguishable from a forbidden one).
 */
export type Verdict =
  | { kind: 'allow' }
  | { kind: 'challenge'; reason?: string; insufficientScope?: boolean; withScope: boolean }
  | { kind: 'deny'; reason: string }
  | { kind: 'hide' };

export interface VerdictQuestion {
  caller: Caller;
  /** What the route needs; undefined for `/v2/` itself. */
  access: Access | undefined;
  /** What the request can also use (a mount's source). */
  uses: readonly Access[];
  region: string;
  /** Whether anonymous callers must log in (a registry with authentication). */
  loginRequired: boolean;
  /** Whether the route answers a refusal as not-found. */
  hidable: boolean;
  /** Whether the access is granted (the authorizer, asked at most once). */
  granted(access: Access): Promise<boolean>;
  /** For an expired token: whether its principal may finish its own upload here. */
  mayFinishOwnUpload(): Promise<boolean>;
}

/**
 * A token the client did not ask for this access: it may ask for a new one (401 with the scope).
 * What it asked for and was not granted is refused for good (403, or the not-found answer).
 */
export function tokenNeverAsked(caller: Caller, access: Access): boolean {
  if (caller.kind !== 'principal' || caller.token === undefined) return false;
  const asked = caller.token.requested.get(scopeKey(access.type, access.name));
  return !access.actions.every((action) => asked?.has(action));
}

export async function registryVerdict(question: VerdictQuestion): Promise<Verdict> {
  const { caller, access, uses, region } = question;
  const anonymous = caller.kind === 'anonymous';
  // With a login required, `/v2/` asks for one too: that is how clients learn the realm.
  if (anonymous && !access && question.loginRequired) return { kind: 'challenge', withScope: false };
  if (caller.kind === 'principal' && caller.token?.expired) {
    if (!(await question.mayFinishOwnUpload())) return { kind: 'challenge', reason: 'the registry token has expired', withScope: true };
  } else if (access && !(await question.granted(access))) {
    if (anonymous) return { kind: 'challenge', withScope: true };
    if (tokenNeverAsked(caller, access)) return { kind: 'challenge', reason: 'the registry token does not cover this repository', insufficientScope: true, withScope: true };
    if (question.hidable) return { kind: 'hide' };
    return {
      kind: 'deny',
      reason:
        access.type === 'repository'
          ? `requested access to the resource is denied: ${access.actions.join(',')} on ${access.name} needs its namespace in your account in region ${region}, and a policy that grants it`
          : 'requested access to the resource is denied',
    };
  }
  // A token that never asked for what the request can also use is told to ask for it (so a mount
  // need not fall back to an upload); one that asked and was refused does without.
  if (uses.some((use) => tokenNeverAsked(caller, use))) {
    return { kind: 'challenge', reason: 'the registry token does not cover every repository this request uses', insufficientScope: true, withScope: true };
  }
  return { kind: 'allow' };
}

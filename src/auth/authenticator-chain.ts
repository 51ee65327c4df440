import type { Origin } from '../audit/access-events.js';
import { ANONYMOUS, type Caller } from './access.js';
import { AuthenticationError } from './errors.js';

/** A credential as an Authorization header carries it; a Bearer token's issuer is read unverified, only to route it. */
export type Presented = { scheme: 'bearer'; token: string; issuer: string | undefined } | { scheme: 'basic'; username: string; password: string };

/** The kinds of credential Berth knows: an IAM access token, a registry token, a login's secret (Basic with the three usernames). */
export type CredentialKind = 'iam-token' | 'registry-token' | 'login';

/** Where a request arrived: its region (a registry token is good in one) and its origin. */
export interface Arrival {
  region: string;
  origin: Origin;
}

/** One way to prove who one is. */
export interface CredentialAuthenticator {
  readonly kind: CredentialKind;
  recognises(presented: Presented): boolean;
  /** Who the credential proves; throws AuthenticationError when it proves nobody. */
  authenticate(presented: Presented, arrival: Arrival): Promise<Caller & { kind: 'principal' }>;
}

const DESCRIPTIONS: Record<CredentialKind, string> = {
  'iam-token': 'an IAM access token (Bearer)',
  'registry-token': 'a registry token (Bearer)',
  login: 'iamapikey credentials (Basic)',
};

/** `Authorization: Bearer …` or `Basic …`; undefined for anything else. */
export function presentedCredential(header: string): Presented | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { scheme: 'bearer', token: bearer[1]!, issuer: unverifiedIssuer(bearer[1]!) };
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Issuers already read, by token: clients send one token with many requests. */
const MAX_ISSUERS = 10_000;
const issuers = new Map<string, string | undefined>();

function unverifiedIssuer(token: string): string | undefined {
  if (issuers.has(token)) return issuers.get(token);
  const issuer = readIssuer(token);
  if (issuers.size >= MAX_ISSUERS) issuers.delete(issuers.keys().next().value!);
  issuers.set(token, issuer);
  return issuer;
}

function readIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one ordered chain every surface resolves its callers through: the first authenticator that
 * recognises the credential decides, and a surface names the kinds it takes (the registry takes
 * registry tokens and logins, the IAM and management APIs IAM access tokens). A credential of a
 * kind the surface does not take is refused the same way as a bad one.
 */
export class AuthenticatorChain {
  constructor(private readonly authenticators: readonly CredentialAuthenticator[]) {}

  async resolve(header: string | undefined, accepts: readonly CredentialKind[], arrival: Arrival): Promise<Caller> {
    if (header === undefined || header === '') return ANONYMOUS;
    const presented = presentedCredential(header);
    const authenticator = presented && this.authenticators.find((candidate) => candidate.recognises(presented));
    if (!presented || !authenticator || !accepts.includes(authenticator.kind)) {
      throw new AuthenticationError(`send ${accepts.map((kind) => DESCRIPTIONS[kind]).join(' or ')}`);
    }
    return authenticator.authenticate(presented, arrival);
  }
}

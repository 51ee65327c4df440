import type { AccessEvents, CredentialKind, Origin } from '../audit/access-events.js';
import { IamError } from '../iam/errors.js';
import type { LoginThrottle } from '../iam/login-throttle.js';
import type { Iam } from '../iam/iam.js';
import { subTypeOf, type Principal } from '../iam/principal.js';
import { AuthenticationError, LoginThrottledError } from './errors.js';

/** The client of registry refresh tokens (docker's "identity token"); IAM's own refresh tokens are the CLI's (`bx`). */
export const REGISTRY_REFRESH_CLIENT = 'berth-registry';
const IAM_CLI_CLIENT = 'bx';

/** Who logged in, and with which API key when one is behind it (a refresh token is bound to it). */
export interface Login {
  principal: Principal;
  apiKeyId?: string;
}

/** The three usernames, each saying what its password is (reference §5.3). */
export const USERNAMES = ['iamapikey', 'iambearer', 'iamrefresh'] as const;

/** What each username says its password is, in the audit trail's and the security context's words. */
export const USERNAME_KINDS: Readonly<Record<string, Exclude<CredentialKind, 'unknown'>>> = { iamapikey: 'apikey', iambearer: 'accesstoken', iamrefresh: 'refreshtoken' };

const BAD_CREDENTIALS = 'The login credentials are not valid, or the account is not active.';

function unauthorized(message: string): AuthenticationError {
  return new AuthenticationError(message);
}

/**
 * Registry credentials as `docker login -u <kind> -p <secret>` sends them: `iamapikey` with an API
 * key (user or service ID), `iambearer` with an IAM access token, `iamrefresh` with an IAM refresh
 * token (the CLI's, or one this registry issued). Anything else is refused, naming the three. A
 * client or secret that keeps failing is answered 429 for the rest of the minute, wherever it logs in;
 * a valid credential is never refused for the failures of others.
 */
export class RegistryCredentials {
  constructor(
    private readonly iam: Iam,
    private readonly throttle: LoginThrottle,
    private readonly events?: AccessEvents,
  ) {}

  /**
   * `origin.client` is who to count failures against (the client address); `target` names the
   * registry logged in to, for the audit trail.
   */
  async login(username: string, password: string, origin: Origin, target: string): Promise<Login> {
    return this.recorded(USERNAME_KINDS[username] ?? 'unknown', origin, target, () => this.counted(origin.client, password, () => this.check(username, password)));
  }

  /** A refresh token (docker's identity token, or the CLI's), left usable for the next time. */
  async refresh(token: string, origin: Origin, target: string): Promise<Login> {
    return this.recorded('refreshtoken', origin, target, () => this.counted(origin.client, token, () => this.refreshSession(token)));
  }

  /**
   * Every login checked goes to the audit trail, success or failure; a throttled one was not
   * checked and is not recorded (the throttle bounds how many failures one client can add).
   */
  private async recorded(kind: CredentialKind, origin: Origin, target: string, attempt: () => Promise<Login>): Promise<Login> {
    let login: Login;
    try {
      login = await attempt();
    } catch (error) {
      if (error instanceof AuthenticationError) {
        // The username is not echoed: a secret typed as the username must not land in the trail.
        await this.events?.login(kind, target, origin, { failure: kind === 'unknown' ? 'unsupported username' : error.message });
      }
      throw error;
    }
    await this.events?.login(kind, target, origin, { who: login.principal });
    return login;
  }

  /** Counts a failure against the client and the secret; a valid secret always works (see LoginThrottle). */
  private async counted(client: string, secret: string, attempt: () => Promise<Login>): Promise<Login> {
    try {
      return await this.throttle.attempt(client, secret, attempt, (error) => error instanceof AuthenticationError);
    } catch (error) {
      if (!(error instanceof IamError) || error.status !== 429) throw error;
      throw new LoginThrottledError(`too many failed logins; ${error.details ?? 'try again later'}`, 60);
    }
  }

  private async check(username: string, password: string): Promise<Login> {
    if (!(USERNAMES as readonly string[]).includes(username)) {
      throw unauthorized(`Unsupported username "${username}": log in as iamapikey (with an API key), iambearer (with an IAM access token) or iamrefresh (with an IAM refresh token).`);
    }
    if (password === '') throw unauthorized(`${BAD_CREDENTIALS} The password is empty.`);
    try {
      if (username === 'iamapikey') {
        const key = await this.iam.apiKeys.authenticate(password);
        return { principal: await this.principal(key.iam_id), apiKeyId: key.id };
      }
      if (username === 'iambearer') {
        const token = await this.iam.verifier.verify(password);
        const principal = await this.iam.principalOf(token);
        if (!principal) throw unauthorized(BAD_CREDENTIALS);
        return { principal };
      }
      return await this.refreshSession(password);
    } catch (error) {
      if (error instanceof IamError) throw unauthorized(`${BAD_CREDENTIALS} ${error.details ?? error.message}`);
      throw error;
    }
  }

  /** A refresh token, left usable: clients present the same one for every token they need. */
  private async refreshSession(token: string): Promise<Login> {
    try {
      const session = await this.iam.refreshTokens.check(token, [IAM_CLI_CLIENT, REGISTRY_REFRESH_CLIENT]);
      return { principal: await this.principal(session.iamId), apiKeyId: session.apiKeyId };
    } catch (error) {
      if (error instanceof IamError) throw unauthorized(`${BAD_CREDENTIALS} ${error.message}`);
      throw error;
    }
  }

  /** A refresh token for the login, when an API key is behind it: void once that key is deleted or disabled. */
  async issueRefreshToken(login: Login): Promise<string | undefined> {
    if (login.apiKeyId === undefined) return undefined;
    return this.iam.refreshTokens.issue({ iamId: login.principal.iamId, apiKeyId: login.apiKeyId, clientId: REGISTRY_REFRESH_CLIENT });
  }

  private async principal(iamId: string): Promise<Principal> {
    const identity = await this.iam.identities.find(iamId);
    const principal = identity && (await this.iam.principalOf({ iamId, accountId: identity.accountId, subType: subTypeOf(iamId) }));
    if (!principal) throw unauthorized(BAD_CREDENTIALS);
    return principal;
  }
}

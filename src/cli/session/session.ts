import { CliError } from '../errors.js';
import { request } from '../http.js';
import { readConfig, removeConfig, withConfigLock, writeConfig, type CliConfig, type Subject } from './config-file.js';

/** The IBM CLI's client: the one the token service gives real refresh tokens to. */
const CLI_CLIENT = `Basic ${Buffer.from('bx:bx').toString('base64')}`;
/** An access token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expiration: number;
}

export interface RegionInfo {
  name: string;
  registry: string;
}

interface Claims {
  iam_id: string;
  account: { bss: string };
  sub_type?: string;
  sub?: string;
  email?: string;
  name?: string;
}

function claimsOf(token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Claims;
}

/** A user by e-mail, a service ID by name and ID, as IBM's tokens carry them; nothing for other tokens. */
function subjectOf(claims: Claims): Subject | undefined {
  if (claims.sub_type === 'ServiceId' && claims.sub && claims.name) return { kind: 'service_id', id: claims.sub, name: claims.name };
  if (claims.email) return { kind: 'user', email: claims.email };
  return undefined;
}

/** Takes the token service's answer into the config: the new refresh token replaces the spent one. */
function remember(config: CliConfig, answer: TokenAnswer): CliConfig {
  const claims = claimsOf(answer.access_token);
  const subject = subjectOf(claims);
  return {
    ...config,
    account: claims.account.bss,
    iamId: claims.iam_id,
    ...(subject ? { subject } : {}),
    refreshToken: answer.refresh_token,
    accessToken: answer.access_token,
    accessTokenExpires: answer.expiration * 1000,
  };
}

async function grant(url: string, form: Record<string, string>): Promise<TokenAnswer> {
  const answer = await request<TokenAnswer>(`${url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: CLI_CLIENT },
    body: new URLSearchParams(form).toString(),
  });
  return answer.body;
}

/**
 * A logged-in CLI: the server URL, the account and region, and an IAM session kept as a refresh
 * token in `~/.berth/config.json`. Every command asks it for an access token; it renews one
 * (spending the single-use refresh token, under a lock) only when the last one runs out.
 */
export class Session {
  private constructor(private config: CliConfig & { url: string }) {}

  /** `berth login`: exchanges the API key for a session, keeping the key only when asked. */
  static async login(url: string, apikey: string, options: { saveApikey: boolean; region?: string }): Promise<Session> {
    const base = url.replace(/\/+$/, '');
    const answer = await grant(base, { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey });
    // Logging in again to the same server keeps the region targeted before.
    const previous = readConfig();
    const region = options.region ?? (previous.url === base ? previous.region : undefined);
    const config = remember({ url: base, ...(region ? { region } : {}), ...(options.saveApikey ? { apikey } : {}) }, answer);
    writeConfig(config);
    return new Session({ ...config, url: base });
  }

  /** The stored session; not logged in is a CliError that says what to do. */
  static current(): Session {
    const config = readConfig();
    if (!config.url || (!config.refreshToken && !config.apikey)) throw new CliError('not logged in: run berth login -a <url> --apikey <key>');
    return new Session({ ...config, url: config.url });
  }

  static logout(): void {
    removeConfig();
  }

  get url(): string {
    return this.config.url;
  }

  get account(): string {
    return this.config.account ?? '';
  }

  get iamId(): string {
    return this.config.iamId ?? '';
  }

  get region(): string | undefined {
    return this.config.region;
  }

  /** Who is logged in, as a person reads it; sessions saved before it was kept have none. */
  get subject(): Subject | undefined {
    return this.config.subject;
  }

  /**
   * The targeted region and its registry host as kept on disk, so showing them works with the
   * server down. Only a session saved before the host was kept asks the server, once.
   */
  async target(): Promise<{ region: string; registry: string }> {
    if (this.config.region && this.config.registry) return { region: this.config.region, registry: this.config.registry };
    const registry = await this.registry();
    this.setTarget({ region: registry.region, registry: registry.host });
    return { region: registry.region, registry: registry.host };
  }

  /** A valid IAM access token: the last one while it lasts, else one from the refresh token (or the saved key). */
  async accessToken(): Promise<string> {
    const fresh = (config: CliConfig) => config.accessToken && (config.accessTokenExpires ?? 0) - RENEW_BEFORE_MS > Date.now();
    if (fresh(this.config)) return this.config.accessToken!;
    return withConfigLock(async () => {
      // Another command may have renewed it while this one waited for the lock.
      const config = { ...readConfig(), url: this.config.url };
      if (fresh(config)) {
        this.config = config;
        return config.accessToken!;
      }
      let answer: TokenAnswer;
      try {
        if (!config.refreshToken) throw new CliError('no refresh token');
        answer = await grant(config.url, { grant_type: 'refresh_token', refresh_token: config.refreshToken });
      } catch (error) {
        if (!config.apikey) throw new CliError(`the session has ended (${(error as Error).message}): run berth login again`);
        answer = await grant(config.url, { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: config.apikey });
      }
      this.config = { ...remember(config, answer), url: config.url };
      writeConfig(this.config);
      return answer.access_token;
    });
  }

  /** The session's refresh token, spent and renewed first so the one handed out is the current one. */
  async refreshToken(): Promise<string> {
    await this.accessToken();
    return readConfig().refreshToken ?? this.config.refreshToken ?? '';
  }

  /** Saves a changed target: the region and its registry host. */
  setTarget(target: { region: string; registry: string }): void {
    this.config = { ...this.config, ...target };
    writeConfig({ ...readConfig(), ...target });
  }

  /** A server's regions and their registry hosts (asked without logging in). */
  static async regionsOf(url: string): Promise<RegionInfo[]> {
    return (await request<RegionInfo[]>(`${url.replace(/\/+$/, '')}/api/v1/regions`)).body;
  }

  async regions(): Promise<RegionInfo[]> {
    return Session.regionsOf(this.url);
  }

  /** The targeted region (or the server's first) with its registry base URL. */
  async registry(): Promise<{ region: string; host: string; url: string }> {
    const regions = await this.regions();
    const region = regions.find((r) => r.name === this.region) ?? (this.region === undefined ? regions[0] : undefined);
    if (!region) throw new CliError(`region ${this.region} is not one of this server's: ${regions.map((r) => r.name).join(', ')}`);
    return { region: region.name, host: region.registry, url: `${new URL(this.url).protocol}//${region.registry}` };
  }

  /** Headers of an IAM API call. */
  async bearer(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.accessToken()}` };
  }
}

import { CliError, ServerError } from './errors.js';
import { jsonBody, request } from './http.js';
import type { Session } from './session/session.js';

export interface ApiKey {
  id: string;
  name: string;
  description?: string;
  iam_id: string;
  locked: boolean;
  disabled: boolean;
  created_at: string;
  apikey?: string;
  entity_tag: string;
}

export interface ServiceId {
  id: string;
  iam_id: string;
  name: string;
  description?: string;
  locked: boolean;
  created_at: string;
  apikey?: ApiKey;
}

export interface Policy {
  id: string;
  subjects: Array<{ attributes: Array<{ name: string; value: string }> }>;
  roles: Array<{ role_id: string; display_name?: string }>;
  resources: Array<{ attributes: Array<{ name: string; value: string; operator?: string }> }>;
}

export interface User {
  iam_id: string;
  email: string;
  firstname: string;
  lastname: string;
  state: string;
}

/** The IAM APIs as the CLI uses them, through the session's access token. */
export class IamApi {
  constructor(private readonly session: Session) {}

  async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = { ...(await this.session.bearer()), ...(init.headers as Record<string, string> | undefined) };
    return (await request<T>(`${this.session.url}${path}`, { ...init, headers })).body;
  }

  /** Every page of an Identity API list (`next` holds the page token). */
  async all<T>(path: string, field: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next !== undefined) {
      const page: Record<string, unknown> = await this.call(next);
      items.push(...((page[field] as T[] | undefined) ?? []));
      next = typeof page.next === 'string' ? page.next : undefined;
    }
    return items;
  }

  /** An API key by ID, or by name among the keys of `iamId` (the caller's by default). */
  async apiKey(nameOrId: string, iamId = this.session.iamId): Promise<ApiKey> {
    if (nameOrId.startsWith('ApiKey-')) return this.call<ApiKey>(`/v1/apikeys/${encodeURIComponent(nameOrId)}`);
    const keys = await this.all<ApiKey>(`/v1/apikeys?iam_id=${encodeURIComponent(iamId)}&pagesize=100`, 'apikeys');
    return only(keys.filter((key) => key.name === nameOrId), `API key ${nameOrId}`);
  }

  /** A service ID by ID or by name. */
  async serviceId(nameOrId: string): Promise<ServiceId> {
    if (nameOrId.startsWith('ServiceId-')) return this.call<ServiceId>(`/v1/serviceids/${encodeURIComponent(nameOrId)}`);
    const ids = await this.all<ServiceId>(`/v1/serviceids?account_id=${this.session.account}&name=${encodeURIComponent(nameOrId)}&pagesize=100`, 'serviceids');
    return only(ids, `service ID ${nameOrId}`);
  }

  /** A user of the account by e-mail or IAM ID. */
  async user(emailOrIamId: string): Promise<User> {
    const users: User[] = [];
    let start: string | undefined = '0';
    while (start !== undefined) {
      const page: { resources?: User[]; next_url?: string } = await this.call(`/v2/accounts/${this.session.account}/users?limit=100&_start=${start}`);
      users.push(...(page.resources ?? []));
      start = page.next_url ? (new URL(page.next_url, 'http://next').searchParams.get('_start') ?? undefined) : undefined;
    }
    return only(users.filter((user) => user.email === emailOrIamId || user.iam_id === emailOrIamId), `user ${emailOrIamId}`);
  }

  /** Role names (Reader, Manager…) or CRNs as CRNs, looked up the way IBM's CLI does (`GET /v2/roles`). */
  async roleCrns(names: string[], serviceName: string): Promise<string[]> {
    type Roles = { service_roles: Array<{ display_name: string; crn: string }>; system_roles: Array<{ display_name: string; crn: string }> };
    const roles = await this.call<Roles>(`/v2/roles?service_name=${encodeURIComponent(serviceName)}&account_id=${this.session.account}`).catch((error: unknown) => {
      throw unknownService(error, serviceName) ?? error;
    });
    const known = [...roles.service_roles, ...roles.system_roles];
    return names.map((name) => {
      if (name.startsWith('crn:')) return name;
      const role = known.find((r) => r.display_name.toLowerCase() === name.toLowerCase());
      if (!role) throw new CliError(`role ${name} is not one of ${serviceName}'s: ${known.map((r) => r.display_name).join(', ')}`);
      return role.crn;
    });
  }

  async createPolicy(iamId: string, roles: string[], attributes: Record<string, string>): Promise<Policy> {
    const body = {
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
      roles: roles.map((role_id) => ({ role_id })),
      resources: [{ attributes: Object.entries({ accountId: this.session.account, ...attributes }).map(([name, value]) => ({ name, value, operator: 'stringEquals' })) }],
    };
    return this.call<Policy>('/v1/policies', { method: 'POST', ...jsonBody(body) });
  }

  async policiesOf(iamId: string): Promise<Policy[]> {
    return (await this.call<{ policies: Policy[] }>(`/v1/policies?account_id=${this.session.account}&iam_id=${encodeURIComponent(iamId)}`)).policies;
  }
}

/** The server's "no such service" (it lists the ones it has) as the user's mistake, named as such. */
function unknownService(error: unknown, serviceName: string): CliError | undefined {
  if (!(error instanceof ServerError) || error.status !== 400) return undefined;
  const details = (error.body as { errors?: Array<{ details?: { known_services?: unknown } }> } | undefined)?.errors?.[0]?.details;
  const known = details?.known_services;
  if (!Array.isArray(known)) return undefined;
  return new CliError(`unknown service "${serviceName}" (known: ${known.join(', ')})`);
}

function only<T>(matches: T[], what: string): T {
  if (matches.length === 0) throw new CliError(`${what} not found`);
  if (matches.length > 1) throw new CliError(`${matches.length} entities are called that (${what}); use its ID`);
  return matches[0]!;
}

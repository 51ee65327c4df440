import IamIdentityV1 from '@ibm-cloud/platform-services/iam-identity/v1.js';
import IamPolicyManagementV1 from '@ibm-cloud/platform-services/iam-policy-management/v1.js';
import UserManagementV1 from '@ibm-cloud/platform-services/user-management/v1.js';
import ContainerRegistryV1 from '@ibm-cloud/ibm-container-registry/dist/container-registry/v1.js';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import type { TestServer } from './server.js';

/** An access token for an API key, straight from the token service; throws if the key does not work. */
export async function tokenFor(server: Pick<TestServer, 'url'>, apikey: string): Promise<string> {
  const response = await fetch(`${server.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }).toString(),
  });
  if (response.status !== 200) throw new Error(`token grant failed with ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** IBM's SDK clients for one API key, pointed at a test server. */
export function sdkFor(server: Pick<TestServer, 'url'>, apikey: string) {
  const options = () => ({ authenticator: new IamAuthenticator({ apikey, url: server.url }), serviceUrl: server.url });
  return {
    identity: new IamIdentityV1(options()),
    policies: new IamPolicyManagementV1(options()),
    users: new UserManagementV1(options()),
  };
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  bearer?: string | null;
  headers?: Record<string, string>;
}

/** A JSON request with a Bearer token, as a raw `fetch` (for statuses and bodies the SDK would hide). */
export function callWith(server: Pick<TestServer, 'url'>, defaultBearer: () => string) {
  return (path: string, init: CallOptions = {}): Promise<Response> => {
    const { bearer = defaultBearer(), body, headers = {}, method = 'GET' } = init;
    return fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };
}

/** A policy body granting `roles` (names or CRNs) on `attributes` (accountId first), as the CLI sends one. */
export function policyBody(iamId: string, accountId: string, roles: string[], attributes: Record<string, string>) {
  const crn = (role: string) => {
    if (role.startsWith('crn:')) return role;
    return ['Reader', 'Writer', 'Manager'].includes(role)
      ? `crn:v1:bluemix:public:iam::::serviceRole:${role}`
      : `crn:v1:bluemix:public:iam::::role:${role}`;
  };
  return {
    type: 'access',
    subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
    roles: roles.map((role) => ({ role_id: crn(role) })),
    resources: [
      {
        attributes: Object.entries({ accountId, ...attributes }).map(([name, value]) => ({ name, value, operator: 'stringEquals' })),
      },
    ],
  };
}

/** The bootstrap owner of a test server: their SDK clients, a token, a raw caller, and who they are. */
export async function ownerSession(server: Pick<TestServer, 'url' | 'berth'>) {
  const apikey = server.berth.ownerApiKey!;
  const sdk = sdkFor(server, apikey);
  const token = await tokenFor(server, apikey);
  const details = (await sdk.identity.getApiKeysDetails({ iamApiKey: apikey })).result;
  return { sdk, token, call: callWith(server, () => token), accountId: details.account_id!, iamId: details.iam_id };
}

/** Registry credentials as clients send them: `iamapikey` (or another kind) and the secret, as HTTP Basic. */
export function basicAuth(secret: string, username = 'iamapikey'): string {
  return `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
}

/** A registry token from `/oauth/token` (GET, as docker and podman ask), and its claims. */
export async function registryToken(url: string, authorization: string | undefined, scopes: string[] = []) {
  const query = new URLSearchParams({ service: 'registry' });
  for (const scope of scopes) query.append('scope', scope);
  const response = await fetch(`${url}/oauth/token?${query}`, { headers: authorization ? { authorization } : {} });
  const body = (await response.json()) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string; refresh_token?: string; errors?: { code: string; message: string }[] };
  const claims = body.token ? (JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as RegistryClaims) : undefined;
  return { status: response.status, body, claims };
}

export interface RegistryClaims {
  sub: string;
  aud: string;
  iss: string;
  exp: number;
  iat: number;
  region: string;
  account: string;
  access: Array<{ type: string; name: string; actions: string[] }>;
}

/** IBM's Container Registry SDK for one API key, pointed at one region's registry of a test server. */
export function registryApiFor(registryUrl: string, iamUrl: string, apikey: string, account: string): ContainerRegistryV1 {
  return new ContainerRegistryV1({ authenticator: new IamAuthenticator({ apikey, url: iamUrl }), serviceUrl: registryUrl, account });
}

/** `fetch` with the server owner's registry credentials (`iamapikey`, as HTTP Basic). */
export function ownerFetch(server: Pick<TestServer, 'berth'>, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', basicAuth(server.berth.ownerApiKey!));
  return fetch(url, { ...init, headers });
}

/** The owner's namespaces for a test, made through the management API of the server's main region. */
export async function addNamespaces(server: Pick<TestServer, 'url' | 'berth'>, ...names: string[]): Promise<void> {
  const session = await ownerSession(server);
  const cr = registryApiFor(server.url, server.url, server.berth.ownerApiKey!, session.accountId);
  for (const name of names) await cr.createNamespace({ name });
}

import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIamPathUnderV2 } from '../../src/http/surfaces.js';
import { addNamespaces, basicAuth, ownerSession, policyBody } from '../support/iam.js';
import { OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The OCI distribution API (`/v2/…` but IAM's collections there) is the OCI's to specify, not this document's. */
const isOciDistribution = (url: string) => (url === '/v2' || url.startsWith('/v2/')) && !isIamPathUnderV2(url);

/**
 * A copy of a schema in which every object with listed properties allows no others: a field a
 * view adds without its schema saying so fails the check below.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Json = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

describe('GET /openapi.json', () => {
  let server: TestServer;
  let doc: Json;
  let owner: Awaited<ReturnType<typeof ownerSession>>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    owner = await ownerSession(server);
    await addNamespaces(server, 'docs');
    await new OciClient(server.url, basicAuth(server.berth.ownerApiKey!)).pushImage('docs/app', 'v1');
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await response.json()) as Json;
  });
  afterAll(async () => server.close());

  /** The operation of the document at a path template, failing when there is none. */
  function operation(method: string, path: string): Json {
    const found = doc.paths[path]?.[method.toLowerCase()] as Json | undefined;
    if (!found) throw new Error(`the document has no ${method} ${path}`);
    return found;
  }

  /** Holds a real answer against what the document says that operation answers with that status. */
  async function expectDocumented(method: string, path: string, response: Response): Promise<Json> {
    let answer = operation(method, path).responses[String(response.status)] as Json | undefined;
    if (!answer) throw new Error(`${method} ${path} answered ${response.status}, which the document does not list`);
    if (answer.$ref) answer = doc.components.responses[(answer.$ref as string).split('/').pop()!];
    const text = await response.text();
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    const media = answer!.content as Json | undefined;
    if (!media) {
      expect(body ?? '').toBe('');
      return {};
    }
    const schema = closed({ ...(Object.values(media)[0] as Json).schema, components: closed(doc.components) });
    const validate = ajv.compile(schema as Json);
    if (!validate(body)) throw new Error(`${method} ${path} ${response.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
    return body as Json;
  }

  const call = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; bearer?: boolean } = {}) =>
    fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.bearer === false ? {} : { authorization: `Bearer ${owner.token}` }),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  const management = (path: string, init: { method?: string; body?: unknown } = {}) => call(path, { ...init, headers: { account: owner.accountId } });

  it('is a valid OpenAPI 3.1 document, served without credentials, versioned as the package', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2));
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.info.version).toBe(VERSION);

    // The validator is not vacuous: a broken copy (a path parameter that may be left out) fails.
    const broken = structuredClone(doc);
    broken.paths['/v1/apikeys/{id}'].get.parameters[0].required = false;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('describes every route the app serves outside the OCI distribution API, and no other', () => {
    const served = server.berth.app.servedRoutes.filter((route) => METHODS.includes(route.method.toLowerCase()) && !isOciDistribution(route.url));
    const documented = new Set<string>();
    for (const item of Object.values(doc.paths) as Json[]) {
      for (const [method, op] of Object.entries(item)) for (const url of op['x-berth-routes'] as string[]) documented.add(`${method.toUpperCase()} ${url}`);
    }
    const servedKeys = new Set(served.map((route) => `${route.method} ${route.url}`));
    // Not vacuous: the recorded routes span every surface.
    for (const key of ['POST /v1/apikeys', 'GET /v2/accounts/:account_id/users', 'GET /v2/roles', 'GET /api/v1/regions', 'GET /api/v1/images/*', 'POST /identity/token', 'GET /oauth/token', 'GET /v1/audit/events', 'GET /healthz']) {
      expect(servedKeys).toContain(key);
    }
    expect([...servedKeys].filter((key) => !documented.has(key))).toEqual([]);
    expect([...documented].filter((key) => !servedKeys.has(key))).toEqual([]);
  });

  it('says what the routes take: bodies, parameters, headers, security and operation names', () => {
    const create = operation('POST', '/v1/apikeys');
    expect(create.operationId).toBe('create_api_key');
    expect(create.security).toEqual([{ iamToken: [] }]);
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['name', 'iam_id']));
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['name', 'iam_id', 'description', 'expires_at']));
    expect(create.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreatedApiKey' });
    expect(create.responses['401']).toEqual({ $ref: '#/components/responses/IdentityError' });

    const list = operation('GET', '/api/v1/namespaces');
    expect(list.operationId).toBe('list_namespaces');
    expect(list.parameters).toContainEqual(expect.objectContaining({ name: 'Account', in: 'header', required: true }));
    expect(list.responses.default).toEqual({ $ref: '#/components/responses/ManagementError' });

    expect(operation('GET', '/v1/apikeys/{id}').parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path', required: true }));
    expect(operation('GET', '/v1/apikeys').parameters).toContainEqual(expect.objectContaining({ name: 'pagesize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } }));
    expect(operation('PUT', '/v1/policies/{id}').parameters).toContainEqual(expect.objectContaining({ name: 'If-Match', in: 'header', required: true }));
    expect(operation('GET', '/api/v1/images/{image}/json').operationId).toBe('inspect_image');
    expect(operation('GET', '/api/v1/messages').parameters ?? []).not.toContainEqual(expect.objectContaining({ name: 'Account' }));
    expect(operation('POST', '/identity/token').requestBody.content).toHaveProperty('application/x-www-form-urlencoded');
    expect(operation('POST', '/identity/token').security).toEqual([{}, { tokenClient: [] }]);
    expect(operation('GET', '/oauth/token').security).toEqual([{ registryLogin: [] }]);
    expect(operation('GET', '/openapi.json').security).toEqual([]);
    expect(operation('GET', '/v1/audit/events').responses['403']).toEqual({ $ref: '#/components/responses/IdentityError' });
    expect(operation('POST', '/v1/serviceids').description).toContain('/v1/serviceids/');
  });

  it('checks answers against it strictly: a field the document does not name fails', async () => {
    const answer = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    await expect(expectDocumented('GET', '/healthz', answer({ status: 'ok', uptime: 1 }))).rejects.toThrow(/does not match/);
    await expect(expectDocumented('GET', '/v1/accounts/{id}', answer({ id: 'a', name: 'b' }))).rejects.toThrow(/does not match/);
  });

  it('describes what the IAM APIs really answer', async () => {
    const token = await fetch(`${server.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: server.berth.ownerApiKey! }),
    });
    await expectDocumented('POST', '/identity/token', token);
    await expectDocumented('GET', '/identity/keys', await fetch(`${server.url}/identity/keys`));
    const refused = await fetch(`${server.url}/identity/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nope' });
    await expectDocumented('POST', '/identity/token', refused);

    const key = await expectDocumented('POST', '/v1/apikeys', await call('/v1/apikeys', { method: 'POST', body: { name: 'docs', iam_id: owner.iamId, description: 'for the docs', expires_at: '2049-01-02T18:30+0000' } }));
    await expectDocumented('GET', '/v1/apikeys/{id}', await call(`/v1/apikeys/${key.id}?include_history=true&include_activity=true`));
    await expectDocumented('GET', '/v1/apikeys', await call(`/v1/apikeys?iam_id=${owner.iamId}&pagesize=1`));
    await expectDocumented('GET', '/v1/apikeys', await call('/v1/apikeys', { bearer: false }));
    await expectDocumented('POST', '/v1/apikeys/{id}/lock', await call(`/v1/apikeys/${key.id}/lock`, { method: 'POST' }));
    const service = await expectDocumented(
      'POST',
      '/v1/serviceids',
      await call('/v1/serviceids', { method: 'POST', body: { account_id: owner.accountId, name: 'docs-ci', apikey: { name: 'ci' } } }),
    );
    await expectDocumented('GET', '/v1/serviceids', await call(`/v1/serviceids?account_id=${owner.accountId}&include_history=true`));
    await expectDocumented('GET', '/v1/accounts', await call('/v1/accounts'));
    await expectDocumented('GET', '/v1/accounts/{id}', await call(`/v1/accounts/${owner.accountId}`));
    await expectDocumented('GET', '/v2/accounts/{account_id}/users', await call(`/v2/accounts/${owner.accountId}/users`));
    await expectDocumented('GET', '/v2/accounts/{account_id}/users/{iam_id}', await call(`/v2/accounts/${owner.accountId}/users/${owner.iamId}`));

    const policy = await expectDocumented(
      'POST',
      '/v1/policies',
      await call('/v1/policies', { method: 'POST', body: policyBody(service.iam_id, owner.accountId, ['Reader'], { serviceName: 'container-registry', resourceType: 'namespace', resource: 'docs' }) }),
    );
    await expectDocumented('GET', '/v1/policies/{id}', await call(`/v1/policies/${policy.id}`));
    await expectDocumented('GET', '/v1/policies', await call(`/v1/policies?account_id=${owner.accountId}&limit=1`));
    await expectDocumented('GET', '/v1/policies', await call(`/v1/policies?account_id=${owner.accountId}`, { bearer: false }));
    await expectDocumented('GET', '/v2/roles', await call('/v2/roles?service_name=container-registry'));
    await expectDocumented('GET', '/v1/audit/events', await call('/v1/audit/events?limit=2'));
    await expectDocumented('GET', '/v1/audit/events', await call('/v1/audit/events?bogus=1'));
  });

  it('describes what the Container Registry, registry token and operations endpoints really answer', async () => {
    const host = server.host;
    await expectDocumented('PUT', '/api/v1/namespaces/{name}', await management('/api/v1/namespaces/docs2', { method: 'PUT' }));
    await expectDocumented('GET', '/api/v1/namespaces', await management('/api/v1/namespaces'));
    await expectDocumented('GET', '/api/v1/namespaces/details', await management('/api/v1/namespaces/details'));
    await expectDocumented('GET', '/api/v1/namespaces', await call('/api/v1/namespaces'));
    await expectDocumented('GET', '/api/v1/images', await management('/api/v1/images'));
    await expectDocumented('POST', '/api/v1/images/digests', await management('/api/v1/images/digests', { method: 'POST', body: {} }));
    await expectDocumented('GET', '/api/v1/images/{image}/json', await management(`/api/v1/images/${encodeURIComponent(`${host}/docs/app:v1`)}/json`));
    await expectDocumented('GET', '/api/v1/images/{image}/manifest', await management(`/api/v1/images/${encodeURIComponent(`${host}/docs/app:v1`)}/manifest`));
    await expectDocumented('POST', '/api/v1/images/tags', await management(`/api/v1/images/tags?fromimage=${encodeURIComponent('docs/app:v1')}&toimage=${encodeURIComponent('docs/app:v2')}`, { method: 'POST' }));
    await expectDocumented('DELETE', '/api/v1/tags/{image}', await management(`/api/v1/tags/${encodeURIComponent(`${host}/docs/app:v2`)}`, { method: 'DELETE' }));
    await expectDocumented('GET', '/api/v1/trash', await management('/api/v1/trash'));
    await expectDocumented('GET', '/api/v1/quotas', await management('/api/v1/quotas'));
    await expectDocumented('GET', '/api/v1/plans', await management('/api/v1/plans'));
    await expectDocumented('GET', '/api/v1/messages', await call('/api/v1/messages'));
    await expectDocumented('GET', '/api/v1/regions', await fetch(`${server.url}/api/v1/regions`));

    await expectDocumented('GET', '/oauth/token', await fetch(`${server.url}/oauth/token?service=registry&scope=repository:docs/app:pull`, { headers: { authorization: basicAuth(server.berth.ownerApiKey!) } }));
    await expectDocumented('GET', '/oauth/token', await fetch(`${server.url}/oauth/token?service=nope`));
    await expectDocumented('GET', '/healthz', await fetch(`${server.url}/healthz`));
    await expectDocumented('GET', '/readyz', await fetch(`${server.url}/readyz`));
  });
});

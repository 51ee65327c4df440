import { auditRoutesTable } from '../audit/audit-routes.js';
import { managementRoutesTable } from '../cr/management-routes.js';
import { regionsEndpoint } from '../cr/region-routes.js';
import { healthEndpoints } from '../health.js';
import { identityRoutesTable } from '../iam/identity-routes.js';
import { policyRoutesTable } from '../iam/policy-routes.js';
import { tokenEndpoints } from '../iam/token-endpoints.js';
import { metricsEndpoint } from '../metrics.js';
import { oauthEndpoints } from '../oauth/token-endpoints.js';
import type { ApiSurface, Endpoint } from './endpoint.js';
import { identityErrorBody, managementErrorBody, ociErrorBody, policyErrorBody, serverErrorBody, tokenErrorBody } from './error-bodies.js';
import { object, string } from './schema.js';

export const openApiEndpoint: Endpoint = {
  method: 'GET',
  url: '/openapi.json',
  operation: 'get_openapi_document',
  status: 200,
  security: [],
  doc: { summary: 'This document', response: object({ openapi: string(), info: { type: 'object' }, paths: { type: 'object' } }, ['openapi', 'info', 'paths']) },
};

const iamToken = [{ iamToken: [] }];

const accountHeader = { name: 'Account', required: true, description: "the ID of the account the namespaces are in: the token's own" };

const identity = identityRoutesTable.map((route): Endpoint => ({
  method: route.method,
  url: route.urls[0]!,
  aliases: route.urls.slice(1),
  operation: route.operation,
  status: route.status,
  ...(route.schema ? { schema: route.schema } : {}),
  ...(route.doc ? { doc: route.doc } : {}),
}));
// IBM's User Management API lives under /v2/accounts; it answers in the Identity API's error shape all the same.
const isUserManagement = (endpoint: Endpoint) => endpoint.url.startsWith('/v2/');

/**
 * Every JSON API of the app, from the route tables and endpoint lists the app registers: a route
 * added to one of those is in GET /openapi.json without anything else to do.
 */
export function describedApis(): ApiSurface[] {
  return [
    {
      tag: 'IAM token',
      description: 'IAM access tokens for API keys, and the keys to verify them with.',
      security: [],
      errorBody: tokenErrorBody,
      errors: [400],
      endpoints: Object.values(tokenEndpoints),
    },
    {
      tag: 'IAM identity',
      description: 'API keys, service IDs and accounts (IBM IAM Identity Services API; accounts are Berth’s own).',
      security: iamToken,
      errorBody: identityErrorBody,
      errors: [400, 401, 403, 404],
      endpoints: identity.filter((endpoint) => !isUserManagement(endpoint)),
    },
    {
      tag: 'User management',
      description: 'The users of an account (IBM User Management API).',
      security: iamToken,
      errorBody: identityErrorBody,
      errors: [400, 401, 403, 404],
      endpoints: identity.filter(isUserManagement),
    },
    {
      tag: 'IAM policy',
      description: 'Access policies and the roles they grant (IBM IAM Policy Management API).',
      security: iamToken,
      errorBody: policyErrorBody,
      errors: [400, 401, 403, 404],
      endpoints: policyRoutesTable,
    },
    {
      tag: 'Audit',
      description: 'Berth’s audit trail of an account: logins, decisions and changes, hash-chained.',
      security: iamToken,
      errorBody: identityErrorBody,
      errors: [],
      endpoints: auditRoutesTable,
    },
    {
      tag: 'Container Registry',
      description: 'Namespaces, images, tags, trash, quotas and plans of this region (IBM Container Registry API).',
      security: iamToken,
      errorBody: managementErrorBody,
      errors: [400, 401, 403, 404],
      endpoints: [
        ...managementRoutesTable.map((route): Endpoint => ({ ...route, ...(route.anyAccount ? {} : { headers: [accountHeader] }) })),
        regionsEndpoint,
      ],
    },
    {
      tag: 'Registry token',
      description: 'Registry tokens for OCI clients: the realm of the /v2/ Bearer challenge.',
      security: [],
      errorBody: ociErrorBody,
      errors: [400, 401],
      endpoints: Object.values(oauthEndpoints),
    },
    {
      tag: 'Operations',
      description: 'Probes, metrics and this description.',
      security: [],
      errorBody: serverErrorBody,
      errors: [],
      endpoints: [...Object.values(healthEndpoints), metricsEndpoint, openApiEndpoint],
    },
  ];
}

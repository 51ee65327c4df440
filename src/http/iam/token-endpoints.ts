import { APIKEY_GRANT } from '../../iam/token-service.js';
import type { Endpoint } from '../openapi/endpoint.js';
import { arrayOf, integer, named, object, record, string } from '../openapi/schema.js';

// The IAM token service's two endpoints as data: token-routes.ts registers them, GET /openapi.json describes them.

const tokenForm = object(
  {
    grant_type: { type: 'string', enum: [APIKEY_GRANT, 'refresh_token'] },
    apikey: string('the API key, for the apikey grant'),
    refresh_token: string('for the refresh_token grant (IBM Cloud CLI client only)'),
    scope: string('default: ibm openid'),
  },
  ['grant_type'],
);

const tokenAnswer = named(
  'IamToken',
  record({
    access_token: string('an RS256 JWT, verifiable with GET /identity/keys'),
    refresh_token: string('"not_supported" except for the IBM Cloud CLI client (bx:bx)'),
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: integer('seconds'),
    expiration: integer('seconds since the epoch'),
    scope: string(),
  }),
);

const jwks = named('Jwks', record({ keys: arrayOf(object({ kty: string(), kid: string(), alg: string(), use: string(), n: string(), e: string() }, ['kty', 'kid'])) }));

export const tokenEndpoints: { token: Endpoint; keys: Endpoint } = {
  token: {
    method: 'POST',
    url: '/identity/token',
    operation: 'create_access_token',
    status: 200,
    // Anyone may ask; the IBM Cloud CLI also names itself as client bx:bx.
    security: [{}, { tokenClient: [] }],
    doc: { summary: 'Exchange an API key (or a refresh token) for an IAM access token', body: tokenForm, bodyMediaType: 'application/x-www-form-urlencoded', response: tokenAnswer },
  },
  keys: {
    method: 'GET',
    url: '/identity/keys',
    operation: 'get_signing_keys',
    status: 200,
    security: [],
    doc: { summary: 'The public keys IAM access tokens are signed with (JWKS)', response: jwks },
  },
};

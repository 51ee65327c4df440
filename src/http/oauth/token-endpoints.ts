import { TOKEN_PATH } from '../../auth/registry-seams.js';
import type { Endpoint } from '../openapi/endpoint.js';
import { integer, named, object, string } from '../openapi/schema.js';

// `/oauth/token` as data: token-routes.ts registers it, GET /openapi.json describes it.

const registryToken = named(
  'RegistryToken',
  object(
    {
      token: string('a registry JWT whose access claim lists what was granted'),
      access_token: string('the same token, for OAuth2 clients'),
      expires_in: integer('seconds'),
      issued_at: string(),
      refresh_token: string('with offline_token=true (GET) or access_type=offline (POST)'),
    },
    ['token', 'access_token', 'expires_in', 'issued_at'],
  ),
);

const scopeDescription = 'repository:<name>:<actions>, repeatable; asking for more than granted gives less, never an error';

export const oauthEndpoints: { basic: Endpoint; form: Endpoint } = {
  basic: {
    method: 'GET',
    url: TOKEN_PATH,
    operation: 'get_registry_token',
    status: 200,
    security: [{ registryLogin: [] }],
    doc: {
      summary: "A registry token for Docker's token auth (docker, podman, skopeo log in here)",
      query: object({
        service: string('the registry service; default: the registry'),
        scope: { type: 'array', items: { type: 'string' }, description: scopeDescription },
        offline_token: { type: 'string', enum: ['true', 'false'] },
      }),
      response: registryToken,
    },
  },
  form: {
    method: 'POST',
    url: TOKEN_PATH,
    operation: 'create_registry_token',
    status: 200,
    security: [],
    doc: {
      summary: 'A registry token for an OAuth2 client (containerd): the password or refresh_token grant',
      body: object(
        {
          grant_type: { type: 'string', enum: ['password', 'refresh_token'] },
          username: string('iamapikey, iambearer or iamrefresh'),
          password: string('the API key, access token or refresh token'),
          refresh_token: string(),
          service: string(),
          scope: string(scopeDescription),
          access_type: { type: 'string', enum: ['offline', 'online'] },
        },
        ['grant_type'],
      ),
      bodyMediaType: 'application/x-www-form-urlencoded',
      response: registryToken,
    },
  },
};

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryLogin, TokenRequest } from '../../auth/login.js';
import { basicCredentials } from '../../auth/registry-seams.js';
import { OciError } from '../../oci/errors.js';
import { sendOciError } from '../v2/oci-errors.js';
import { oauthEndpoints } from './token-endpoints.js';

/** A token request is a handful of short fields; anything larger is not one. */
const FORM_LIMIT = 16 * 1024;

type Form = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const all = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * `/oauth/token`, the realm of the registry's Bearer challenge: `GET` with Basic credentials
 * (Docker token auth: docker, podman, skopeo) and `POST` with the OAuth2 form (containerd, docker
 * with an identity token). Errors come in the registry's error JSON.
 */
export async function oauthTokenRoutes(app: FastifyInstance, deps: { login: RegistryLogin; regionOf(request: FastifyRequest): string }): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    const form: Form = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const existing = form[key];
      form[key] = existing === undefined ? value : [...all(existing), value];
    }
    done(null, form);
  });
  app.setErrorHandler(async (error: unknown, request, reply) => sendOciError(request, reply, error));

  const answer = async (request: FastifyRequest, reply: FastifyReply, ask: Omit<TokenRequest, 'region' | 'origin'>) => {
    const body = await deps.login.token({ ...ask, region: deps.regionOf(request), origin: { client: request.ip, requestId: request.id } });
    return reply.header('cache-control', 'no-store').send(body);
  };

  app.get(oauthEndpoints.basic.url, async (request, reply) => {
    const query = request.query as Form;
    const credentials = basicCredentials(request.headers.authorization);
    if (request.headers.authorization && !credentials) throw new OciError('UNAUTHORIZED', undefined, { message: 'send the credentials as HTTP Basic: iamapikey and an API key' });
    const service = first(query.service);
    return answer(request, reply, {
      ...(credentials ? { credentials } : {}),
      ...(service !== undefined ? { service } : {}),
      scopes: all(query.scope),
      offline: first(query.offline_token) === 'true',
    });
  });

  app.post(oauthEndpoints.form.url, async (request, reply) => {
    if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) {
      throw new OciError('UNSUPPORTED', undefined, { status: 415, message: 'the body must be application/x-www-form-urlencoded' });
    }
    const form = request.body as Form | undefined;
    if (form === undefined || typeof form !== 'object') throw new OciError('UNSUPPORTED', undefined, { status: 400, message: 'the body must be application/x-www-form-urlencoded' });
    const grant = first(form.grant_type);
    const service = first(form.service);
    const common = { ...(service !== undefined ? { service } : {}), scopes: all(form.scope), offline: first(form.access_type) === 'offline' };
    if (grant === 'password') {
      const username = first(form.username) ?? '';
      const password = first(form.password) ?? '';
      return answer(request, reply, { ...common, credentials: { username, password } });
    }
    if (grant === 'refresh_token') {
      const refreshToken = first(form.refresh_token);
      if (!refreshToken) throw new OciError('UNSUPPORTED', undefined, { status: 400, message: 'refresh_token is required for grant_type=refresh_token' });
      return answer(request, reply, { ...common, refreshToken });
    }
    throw new OciError('UNSUPPORTED', { grant_type: grant }, { status: 400, message: 'grant_type must be password or refresh_token' });
  });
}

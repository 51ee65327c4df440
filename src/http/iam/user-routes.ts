import type { FastifyRequest } from 'fastify';
import type { UserRecord } from '../../iam/identities.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { USER_REALM } from '../../iam/ids.js';
import { nameParts } from '../../iam/user-admin.js';
import { email, name } from './identity-input.js';
import type { IdentityRoute } from './identity-route.js';
import { invitedUsersSchema, userListSchema, userProfileSchema } from './identity-view-schemas.js';

type Params = { account_id: string; iam_id: string };
const paramsOf = (request: FastifyRequest) => request.params as Params;

const schemas = {
  list: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100 }, _start: { type: 'string', maxLength: 32 } } } },
  invite: {
    body: {
      type: 'object',
      properties: {
        users: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'object', required: ['email'], properties: { email, account_role: { type: 'string', maxLength: 64 } } } },
        iam_policy: { type: 'array', maxItems: 20, items: { type: 'object', required: ['type', 'roles', 'resources'] } },
        access_groups: { type: 'array', items: { type: 'string' } },
      },
      required: ['users'],
    },
  },
  update: {
    body: {
      type: 'object',
      properties: { firstname: name, lastname: name, email, state: { type: 'string' } },
    },
  },
};

/** IBM's UserProfile for one of Berth's users. */
function profile(user: UserRecord) {
  const { firstname, lastname } = nameParts(user.name);
  return {
    id: user.iam_id,
    iam_id: user.iam_id,
    realm: USER_REALM,
    user_id: user.email,
    firstname,
    lastname,
    state: user.state,
    email: user.email,
    phonenumber: '',
    altphonenumber: '',
    photo: '',
    account_id: user.account_id,
    added_on: new Date(user.created_at).toISOString(),
  };
}

/** IBM's User Management API (`UserManagementV1`) over an account's users. */
export const userRoutes: IdentityRoute[] = [
  {
    method: 'GET',
    urls: ['/v2/accounts/:account_id/users'],
    operation: 'list_users',
    status: 200,
    schema: schemas.list,
    doc: { summary: 'List the users of an account', params: { account_id: 'the account ID' }, response: userListSchema },
    async handle(request, principal, iam) {
      const query = request.query as { limit?: number; _start?: string };
      const limit = query.limit ?? 100;
      const offset = query._start === undefined ? 0 : Number(query._start);
      if (!Number.isSafeInteger(offset) || offset < 0) throw identityErrors.invalid('_start is not one this server issued');
      const { account_id: accountId } = paramsOf(request);
      const { records, more, total } = await iam.userAdmin.list(principal, accountId, { offset, limit });
      const base = `/v2/accounts/${encodeURIComponent(accountId)}/users?limit=${limit}`;
      return {
        body: {
          total_results: total,
          limit,
          first_url: base,
          ...(more ? { next_url: `${base}&_start=${offset + limit}` } : {}),
          resources: records.map(profile),
        },
      };
    },
  },
  {
    method: 'POST',
    urls: ['/v2/accounts/:account_id/users'],
    operation: 'invite_users',
    status: 202,
    schema: schemas.invite,
    doc: { summary: 'Invite users to an account, optionally with access policies', params: { account_id: 'the account ID' }, response: invitedUsersSchema },
    async handle(request, principal, iam) {
      const body = request.body as { users: Array<{ email: string }>; iam_policy?: Array<{ type: unknown; roles: unknown; resources: unknown }>; access_groups?: string[] };
      if (body.access_groups?.length) throw identityErrors.invalid('access_groups: Berth has no access groups; grant with iam_policy instead');
      const created = await iam.userAdmin.invite(principal, paramsOf(request).account_id, { users: body.users, policies: body.iam_policy ?? [] });
      return { body: { resources: created.map((user) => ({ email: user.email, id: user.iam_id, state: user.state })) } };
    },
  },
  {
    method: 'GET',
    urls: ['/v2/accounts/:account_id/users/:iam_id'],
    operation: 'get_user_profile',
    status: 200,
    doc: { summary: "Get a user's profile", params: { account_id: 'the account ID', iam_id: "the user's IAM ID" }, response: userProfileSchema },
    async handle(request, principal, iam) {
      const { account_id: accountId, iam_id: iamId } = paramsOf(request);
      return { body: profile(await iam.userAdmin.get(principal, accountId, iamId)) };
    },
  },
  {
    method: 'PATCH',
    urls: ['/v2/accounts/:account_id/users/:iam_id'],
    operation: 'update_user_profile',
    status: 204,
    schema: schemas.update,
    doc: { summary: "Update a user's name, email or state", params: { account_id: 'the account ID', iam_id: "the user's IAM ID" } },
    async handle(request, principal, iam) {
      const { account_id: accountId, iam_id: iamId } = paramsOf(request);
      const body = (request.body ?? {}) as Record<string, string | undefined>;
      // IBM's profile also has phone numbers and a photo; Berth keeps no such thing and says so.
      const unkept = ['phonenumber', 'altphonenumber', 'photo'].filter((field) => body[field] !== undefined);
      if (unkept.length > 0) throw identityErrors.invalid(`Berth keeps no ${unkept.join(', ')} for users`);
      const { firstname, lastname, email: newEmail, state } = body;
      await iam.userAdmin.update(principal, accountId, iamId, {
        ...(firstname !== undefined ? { firstname } : {}),
        ...(lastname !== undefined ? { lastname } : {}),
        ...(newEmail !== undefined ? { email: newEmail } : {}),
        ...(state !== undefined ? { state } : {}),
      });
      return {};
    },
  },
  {
    method: 'DELETE',
    urls: ['/v2/accounts/:account_id/users/:iam_id'],
    operation: 'remove_user',
    status: 204,
    doc: { summary: 'Remove a user from an account', params: { account_id: 'the account ID', iam_id: "the user's IAM ID" } },
    async handle(request, principal, iam) {
      const { account_id: accountId, iam_id: iamId } = paramsOf(request);
      await iam.userAdmin.remove(principal, accountId, iamId);
      return {};
    },
  },
];

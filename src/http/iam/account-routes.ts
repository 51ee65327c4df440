import type { FastifyRequest } from 'fastify';
import type { AccountRecord } from '../../iam/identities.js';
import { email, name } from './identity-input.js';
import type { IdentityRoute } from './identity-route.js';
import { apiKeyView } from './identity-views.js';
import { accountListSchema, accountSchema, createdAccountSchema } from './identity-view-schemas.js';

const schemas = {
  create: {
    body: {
      type: 'object',
      required: ['name', 'owner_email'],
      properties: { name, owner_email: email, owner_name: name },
    },
  },
};

function accountView(account: AccountRecord) {
  return {
    id: account.id,
    name: account.name,
    owner_iam_id: account.owner_iam_id,
    operator: account.operator === 1,
    created_at: new Date(account.created_at).toISOString(),
  };
}

/** Berth's own account API: the operator creates tenants (IBM makes accounts by sign-up, not by API). */
export const accountRoutes: IdentityRoute[] = [
  {
    method: 'POST',
    urls: ['/v1/accounts'],
    operation: 'create_account',
    status: 201,
    schema: schemas.create,
    doc: { summary: "Create an account with its owner user, and the owner's first API key (shown in this answer only); operator only", response: createdAccountSchema },
    async handle(request, principal, iam) {
      const body = request.body as { name: string; owner_email: string; owner_name?: string };
      const { account, ownerKey } = await iam.accountAdmin.create(principal, {
        name: body.name,
        owner: { email: body.owner_email, ...(body.owner_name !== undefined ? { name: body.owner_name } : {}) },
      });
      // The owner's first key, shown this once.
      return { body: { ...accountView(account), owner_apikey: apiKeyView(ownerKey.record, { secret: ownerKey.secret }) } };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/accounts'],
    operation: 'list_accounts',
    status: 200,
    doc: { summary: 'List the accounts the caller may see', response: accountListSchema },
    async handle(_request, principal, iam) {
      return { body: { accounts: (await iam.accountAdmin.list(principal)).map(accountView) } };
    },
  },
  {
    method: 'GET',
    urls: ['/v1/accounts/:id'],
    operation: 'get_account',
    status: 200,
    doc: { summary: 'Get an account', params: { id: 'the account ID' }, response: accountSchema },
    async handle(request: FastifyRequest, principal, iam) {
      return { body: accountView(await iam.accountAdmin.get(principal, (request.params as { id: string }).id)) };
    },
  },
];

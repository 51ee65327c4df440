import { LEAK_ACTIONS } from '../../iam/api-keys.js';
import { arrayOf, boolean, integer, named, object, record, string } from '../openapi/schema.js';

// The answers of identity-views.ts, account-routes.ts and user-routes.ts, for GET /openapi.json.

const time = string('IBM identity time, minute precision: 2026-12-01T09:30+0000');

const historyEntry = record({ timestamp: time, iam_id: string(), iam_id_account: string(), action: string(), params: arrayOf(string()), message: string() });

const entityFields = {
  id: string(),
  entity_tag: string('the ETag; send it as If-Match to update'),
  crn: string(),
  locked: boolean(),
  created_at: time,
  created_by: string(),
  modified_at: time,
  name: string(),
  description: string(),
  account_id: string(),
  history: arrayOf(historyEntry, 'with include_history=true'),
};

export const apiKeySchema = named(
  'ApiKey',
  object(
    {
      ...entityFields,
      disabled: boolean(),
      iam_id: string('the identity the key logs in as'),
      support_sessions: boolean(),
      action_when_leaked: { type: 'string', enum: [...LEAK_ACTIONS] },
      expires_at: time,
      apikey: string('the key itself: only in the answer to its creation'),
      activity: object({ last_authn: time, authn_count: integer() }, ['authn_count'], 'with include_activity=true'),
    },
    ['id', 'entity_tag', 'crn', 'locked', 'disabled', 'created_at', 'created_by', 'modified_at', 'name', 'iam_id', 'account_id', 'support_sessions', 'action_when_leaked'],
  ),
);

/** The answer to a creation: the key with its value, this once. */
export const createdApiKeySchema = named('CreatedApiKey', { allOf: [apiKeySchema], required: ['apikey'] });

export const serviceIdSchema = named(
  'ServiceId',
  object(
    { ...entityFields, iam_id: string(), unique_instance_crns: arrayOf(string()), apikey: apiKeySchema },
    ['id', 'iam_id', 'entity_tag', 'crn', 'locked', 'created_at', 'created_by', 'modified_at', 'account_id', 'name', 'unique_instance_crns'],
  ),
);

/** `listEnvelope` (identity-input.ts) around the entities in `field`. */
function listOf(name: string, field: string, item: Record<string, unknown>) {
  return named(name, object({ offset: integer(), limit: integer(), first: string(), next: string('left out on the last page; carries pagetoken'), [field]: arrayOf(item) }, ['offset', 'limit', 'first', field]));
}

export const apiKeyListSchema = listOf('ApiKeyList', 'apikeys', apiKeySchema);
export const serviceIdListSchema = listOf('ServiceIdList', 'serviceids', serviceIdSchema);

export const accountSchema = named('Account', record({ id: string(), name: string(), owner_iam_id: string(), operator: boolean('the operator account, which creates the others'), created_at: string() }));
export const createdAccountSchema = named('CreatedAccount', object({ ...(accountSchema.properties as object), owner_apikey: apiKeySchema }, [...(accountSchema.required as string[]), 'owner_apikey']));
export const accountListSchema = named('AccountList', record({ accounts: arrayOf(accountSchema) }));

export const userProfileSchema = named(
  'UserProfile',
  record({
    id: string(),
    iam_id: string(),
    realm: string(),
    user_id: string(),
    firstname: string(),
    lastname: string(),
    state: string(),
    email: string(),
    phonenumber: string(),
    altphonenumber: string(),
    photo: string(),
    account_id: string(),
    added_on: string(),
  }),
);

export const userListSchema = named(
  'UserList',
  object({ total_results: integer(), limit: integer(), first_url: string(), next_url: string(), resources: arrayOf(userProfileSchema) }, ['total_results', 'limit', 'first_url', 'resources']),
);

export const invitedUsersSchema = named('InvitedUsers', record({ resources: arrayOf(record({ email: string(), id: string(), state: string() })) }));

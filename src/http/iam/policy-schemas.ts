import { POLICY_SORTS } from '../../iam/policies.js';
import type { HeaderDoc } from '../openapi/route-doc.js';
import { arrayOf, named, object, record, string } from '../openapi/schema.js';

// The Policy Management API's queries (policy-routes.ts) and bodies (policy-validation.ts,
// policy-views.ts), for GET /openapi.json.

export const listQuerySchema = object(
  {
    account_id: string('the caller’s account'),
    iam_id: string('only policies of this subject'),
    type: { type: 'string', enum: ['access', 'authorization'] },
    service_name: string(),
    state: { type: 'string', enum: ['active', 'deleted'] },
    sort: { type: 'string', enum: POLICY_SORTS.flatMap((key) => [key, `-${key}`]), description: 'a field, with - in front for descending' },
    format: string('accepted and ignored'),
    limit: { type: 'integer', minimum: 1, maximum: 100, description: 'page size; without limit and start every match comes in one page' },
    start: string('the next.start of the page before'),
  },
  ['account_id'],
);

export const ifMatchHeader: HeaderDoc = { name: 'If-Match', required: true, description: 'the ETag last read, or *; without it the answer is 428' };

export const rolesQuerySchema = object({ account_id: string('the caller’s account'), service_name: string(), service_group_id: string() });

const attribute = object({ name: string(), value: string(), operator: { type: 'string', enum: ['stringEquals', 'stringMatch'] } }, ['name', 'value']);
const attributes = { type: 'array', minItems: 1, items: attribute };

const subject = object({ attributes }, ['attributes'], 'exactly one attribute: iam_id');
const resource = object(
  { attributes: { ...attributes, description: 'accountId (the caller’s), serviceName or serviceType, and optionally region, resourceType, resource' }, tags: attributes },
  ['attributes'],
);

/** What POST and PUT take (checked by policy-validation.ts, which names the first bad field). */
export const policyBodySchema = named(
  'PolicyBody',
  object(
    {
      type: { type: 'string', enum: ['access'] },
      description: { type: 'string', maxLength: 300 },
      subjects: { type: 'array', minItems: 1, maxItems: 1, items: subject },
      roles: { type: 'array', minItems: 1, items: object({ role_id: string('a role CRN, e.g. crn:v1:bluemix:public:iam::::serviceRole:Reader') }, ['role_id']) },
      resources: { type: 'array', minItems: 1, items: resource },
    },
    ['type', 'subjects', 'roles', 'resources'],
  ),
);

export const policyStateBodySchema = named('PolicyStateBody', object({ state: { type: 'string', enum: ['active', 'deleted'] } }, ['state']));

export const policySchema = named(
  'Policy',
  object(
    {
      id: string(),
      type: string(),
      description: string(),
      subjects: arrayOf(subject),
      roles: arrayOf(object({ role_id: string(), display_name: string(), description: string() }, ['role_id'])),
      resources: arrayOf(resource),
      href: string(),
      created_at: string(),
      created_by_id: string(),
      last_modified_at: string(),
      last_modified_by_id: string(),
      state: { type: 'string', enum: ['active', 'deleted'] },
    },
    ['id', 'type', 'subjects', 'roles', 'resources', 'href', 'created_at', 'created_by_id', 'last_modified_at', 'last_modified_by_id', 'state'],
  ),
);

const pageLink = object({ href: string(), start: string('pass back as start') }, ['href']);

export const policyListSchema = named(
  'PolicyList',
  object({ limit: { type: 'integer' }, first: pageLink, next: pageLink, previous: pageLink, policies: arrayOf(policySchema) }, ['policies'], 'paged only when limit or start is given'),
);

const role = record({ display_name: string(), description: string(), actions: arrayOf(string()), crn: string() });

export const roleListSchema = named('RoleList', record({ custom_roles: arrayOf(role, 'always empty: Berth has no custom roles'), service_roles: arrayOf(role), system_roles: arrayOf(role) }));

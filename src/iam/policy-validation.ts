import type { PolicyContent } from './policies.js';
import { policyErrors } from './policy-errors.js';
import { isKnownRoleCrn } from './roles.js';

/** Resource attributes Berth can enforce; anything else would grant what no check ever reads. */
const RESOURCE_ATTRIBUTES = new Set(['accountId', 'serviceName', 'serviceType', 'region', 'resourceType', 'resource']);
const SERVICE_TYPES = new Set(['service', 'platform_service']);
const OPERATORS = new Set(['stringEquals', 'stringMatch']);
const MAX_VALUE = 1000;
/** IAM IDs as IBM writes them (`IBMid-…`, `iam-ServiceId-…`, `BERTHid-…`): printable, no spaces. */
const IAM_ID = /^[\x21-\x7e]{1,128}$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
function fail(details: string): never {
  throw policyErrors.invalidBody(details);
}

/**
 * Checks a create or replace body and returns what to store. Subjects and resources are kept as
 * sent, unchanged, because IBM's clients compare the echo with what they sent.
 */
export function validatePolicy(body: unknown, accountId: string): PolicyContent {
  if (!isObject(body)) fail('the body must be a JSON object');
  const { type, subjects, roles, resources, description } = body as Json;
  if (type !== 'access') fail('type must be "access"');
  if (description !== undefined && (typeof description !== 'string' || description.length > 300)) fail('description must be a string of at most 300 characters');
  const subjectIamId = validateSubjects(subjects, accountId);
  const roleIds = validateRoles(roles);
  validateResources(resources, accountId);
  return {
    type: 'access',
    subjects: subjects as unknown[],
    subjectIamId,
    roleIds,
    resources: resources as unknown[],
    ...(description !== undefined ? { description: description as string } : {}),
  };
}

interface CheckedAttribute {
  value: string;
  operator: string;
}

/** `[{name, value, operator?}]` with string values; returns the attributes by name. */
function attributes(list: unknown, where: string): Map<string, CheckedAttribute> {
  if (!Array.isArray(list) || list.length === 0) fail(`${where} must be a non-empty array`);
  const byName = new Map<string, CheckedAttribute>();
  for (const attribute of list as unknown[]) {
    if (!isObject(attribute) || typeof attribute.name !== 'string' || typeof attribute.value !== 'string') fail(`each attribute of ${where} needs string name and value`);
    const { name, value, operator } = attribute as { name: string; value: string; operator?: unknown };
    if (value.length < 1 || value.length > MAX_VALUE) fail(`attribute ${name} of ${where} must be 1 to ${MAX_VALUE} characters`);
    if (operator !== undefined && !OPERATORS.has(operator as string)) fail(`attribute ${name} of ${where} has unsupported operator ${String(operator)}`);
    if (byName.has(name)) fail(`attribute ${name} appears twice in ${where}`);
    byName.set(name, { value, operator: (operator as string | undefined) ?? 'stringEquals' });
  }
  return byName;
}

/**
 * Exactly one subject with one iam_id. As IBM does, the iam_id need not name an identity of the
 * account (IBM's own examples grant to made-up ids): decide() never lets a policy of one account
 * grant anything to a principal of another, so such a policy grants nothing, and accepting every
 * well-formed id tells a caller nothing about which ids exist elsewhere.
 */
function validateSubjects(subjects: unknown, accountId: string): string {
  if (!Array.isArray(subjects) || subjects.length !== 1) fail('subjects must hold exactly one subject');
  const subject = (subjects as unknown[])[0];
  if (!isObject(subject)) fail('subjects[0] must be an object with attributes');
  const byName = attributes(subject.attributes, 'subjects[0].attributes');
  const iamId = byName.get('iam_id');
  const groupId = byName.get('access_group_id');
  if (byName.size !== 1 || (iamId === undefined && groupId === undefined)) fail('subjects[0] must have exactly one attribute, iam_id or access_group_id');
  // Access groups are part of the policy language but Berth has none yet, so every group id is unknown.
  if (groupId !== undefined) fail(`access group ${groupId.value} not found in account ${accountId}`);
  if (iamId!.operator !== 'stringEquals' || !IAM_ID.test(iamId!.value)) fail('subjects[0] iam_id must be an IAM ID compared with stringEquals');
  return iamId!.value;
}

function validateRoles(roles: unknown): string[] {
  if (!Array.isArray(roles) || roles.length === 0) fail('roles must be a non-empty array');
  const ids = (roles as unknown[]).map((role) => {
    const roleId = isObject(role) ? role.role_id : undefined;
    if (typeof roleId !== 'string' || !isKnownRoleCrn(roleId)) fail(`role_id ${String(roleId)} is not a known role CRN`);
    return roleId as string;
  });
  return [...new Set(ids)];
}

function validateResources(resources: unknown, accountId: string): void {
  if (!Array.isArray(resources) || resources.length === 0) fail('resources must be a non-empty array');
  (resources as unknown[]).forEach((resource, index) => {
    const where = `resources[${index}]`;
    if (!isObject(resource)) fail(`${where} must be an object with attributes`);
    const byName = attributes(resource.attributes, `${where}.attributes`);
    for (const name of byName.keys()) if (!RESOURCE_ATTRIBUTES.has(name)) fail(`${where} attribute ${name} is not supported`);
    const account = byName.get('accountId');
    if (account?.value !== accountId || account.operator !== 'stringEquals') fail(`${where} must have accountId ${accountId}, the caller's account`);
    if (!byName.has('serviceName') && !byName.has('serviceType')) fail(`${where} must have serviceName or serviceType`);
    const serviceType = byName.get('serviceType');
    if (serviceType && !SERVICE_TYPES.has(serviceType.value)) fail(`${where} serviceType must be service or platform_service`);
    // Access tags are kept and echoed (IBM's examples send them); with no tagged resources in Berth they match nothing.
    if (resource.tags !== undefined) attributes(resource.tags, `${where}.tags`);
  });
}

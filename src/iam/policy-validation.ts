import type { Identities } from './identities.js';
import type { PolicyContent } from './policies.js';
import { policyErrors } from './policy-errors.js';
import { findRole } from './policy-roles.js';

/** Resource attributes Berth can enforce; anything else would grant what no check ever reads. */
const RESOURCE_ATTRIBUTES = new Set(['accountId', 'serviceName', 'region', 'resourceType', 'resource']);
const OPERATORS = new Set(['stringEquals', 'stringMatch']);
const MAX_VALUE = 1000;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
function fail(details: string): never {
  throw policyErrors.invalidBody(details);
}

/**
 * Checks a create or replace body and returns what to store. Subjects and resources are kept as
 * sent, unchanged, because IBM's clients compare the echo with what they sent.
 */
export async function validatePolicy(body: unknown, accountId: string, identities: Identities): Promise<PolicyContent> {
  if (!isObject(body)) fail('the body must be a JSON object');
  const { type, subjects, roles, resources, description } = body as Json;
  if (type !== 'access') fail('type must be "access"');
  if (description !== undefined && (typeof description !== 'string' || description.length > 300)) fail('description must be a string of at most 300 characters');
  await validateSubjects(subjects, accountId, identities);
  const roleIds = validateRoles(roles);
  validateResources(resources, accountId);
  return {
    type: 'access',
    subjects: subjects as unknown[],
    roleIds,
    resources: resources as unknown[],
    ...(description !== undefined ? { description: description as string } : {}),
  };
}

/** `[{name, value, operator?}]` with string values; returns the attributes by name. */
function attributes(entry: unknown, where: string): Map<string, string> {
  if (!isObject(entry) || !Array.isArray(entry.attributes) || entry.attributes.length === 0) fail(`${where} must have a non-empty attributes array`);
  const byName = new Map<string, string>();
  for (const attribute of (entry as { attributes: unknown[] }).attributes) {
    if (!isObject(attribute) || typeof attribute.name !== 'string' || typeof attribute.value !== 'string') fail(`each attribute of ${where} needs string name and value`);
    const { name, value, operator } = attribute as { name: string; value: string; operator?: unknown };
    if (value.length < 1 || value.length > MAX_VALUE) fail(`attribute ${name} of ${where} must be 1 to ${MAX_VALUE} characters`);
    if (operator !== undefined && !OPERATORS.has(operator as string)) fail(`attribute ${name} of ${where} has unsupported operator ${String(operator)}`);
    if (byName.has(name)) fail(`attribute ${name} appears twice in ${where}`);
    byName.set(name, value);
  }
  return byName;
}

async function validateSubjects(subjects: unknown, accountId: string, identities: Identities): Promise<void> {
  if (!Array.isArray(subjects) || subjects.length !== 1) fail('subjects must hold exactly one subject');
  const subject = attributes((subjects as unknown[])[0], 'subjects[0]');
  const iamId = subject.get('iam_id');
  const groupId = subject.get('access_group_id');
  if (subject.size !== 1 || (iamId === undefined && groupId === undefined)) fail('subjects[0] must have exactly one attribute, iam_id or access_group_id');
  // Access groups are part of the policy language but Berth has none yet, so every group id is unknown.
  if (groupId !== undefined) fail(`access group ${groupId} not found in account ${accountId}`);
  const identity = await identities.find(iamId!);
  if (!identity || identity.accountId !== accountId) fail(`iam_id ${iamId} is not a user or service ID of account ${accountId}`);
}

function validateRoles(roles: unknown): string[] {
  if (!Array.isArray(roles) || roles.length === 0) fail('roles must be a non-empty array');
  const ids = (roles as unknown[]).map((role) => {
    const roleId = isObject(role) ? role.role_id : undefined;
    if (typeof roleId !== 'string' || !findRole(roleId)) fail(`role_id ${String(roleId)} is not a known role CRN`);
    return roleId as string;
  });
  return [...new Set(ids)];
}

function validateResources(resources: unknown, accountId: string): void {
  if (!Array.isArray(resources) || resources.length === 0) fail('resources must be a non-empty array');
  (resources as unknown[]).forEach((resource, index) => {
    const where = `resources[${index}]`;
    const byName = attributes(resource, where);
    for (const name of byName.keys()) if (!RESOURCE_ATTRIBUTES.has(name)) fail(`${where} attribute ${name} is not supported`);
    if (byName.get('accountId') !== accountId) fail(`${where} must have accountId ${accountId}, the caller's account`);
    if (!byName.has('serviceName')) fail(`${where} must have serviceName`);
  });
}

import { ROLE_ACTIONS, roleOf, type RoleActionTable } from './roles.js';

/**
 * The one decision "may subject S do action A on resource R", as IBM IAM makes it (reference
 * §3.2, §3.7, §3.8). Pure: callers load the subject's policies and pass them in, so the rules can
 * be tested as a table and every route asks the same question the same way.
 */

export interface Subject {
  iamId: string;
  accountId: string;
  isAccountOwner: boolean;
}

/** The resource a request touches, in policy attribute names. Absent attributes are "not scoped". */
export interface Resource {
  accountId: string;
  serviceName: string;
  region?: string;
  resourceType?: string;
  resource?: string;
}

export interface AccessRequest {
  subject: Subject;
  action: string;
  resource: Resource;
}

export interface PolicyAttribute {
  name: string;
  value: string;
  /** `stringEquals` when absent, as IBM treats it. */
  operator?: string;
}

export interface Policy {
  id: string;
  subjectIamIds: string[];
  roleCrns: string[];
  resources: Array<{ attributes: PolicyAttribute[] }>;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface AuthorizationContext {
  roleActions: RoleActionTable;
}

export const DEFAULT_AUTHORIZATION_CONTEXT: AuthorizationContext = { roleActions: ROLE_ACTIONS };

export function decide(
  request: AccessRequest,
  policies: readonly Policy[],
  context: AuthorizationContext = DEFAULT_AUTHORIZATION_CONTEXT,
): Decision {
  const { subject, action, resource } = request;
  // Checked before the owner rule and before policies: no role, however broad, crosses accounts.
  if (subject.accountId !== resource.accountId) {
    return deny(`${subject.iamId} belongs to account ${subject.accountId}, not ${resource.accountId}`);
  }
  if (subject.isAccountOwner) return { allowed: true, reason: `${subject.iamId} owns account ${resource.accountId}` };

  const grantsOnService = context.roleActions[resource.serviceName] ?? {};
  for (const policy of policies) {
    // Callers should pass only the subject's policies; re-checking keeps a loading bug from granting.
    if (!policy.subjectIamIds.includes(subject.iamId)) continue;
    if (!policy.resources.some((scope) => scopeCovers(scope.attributes, resource))) continue;
    for (const crn of policy.roleCrns) {
      const role = roleOf(crn, resource.serviceName);
      if (role && grantsOnService[role]?.includes(action)) {
        return { allowed: true, reason: `policy ${policy.id} grants ${action} through ${role}` };
      }
    }
  }
  return deny(`no policy grants ${action} on ${describe(resource)} to ${subject.iamId}`);
}

/** The registry token's actions, as the data plane names them (§3.9: data plane pull/push → image.pull/push). */
export type RepositoryAction = 'pull' | 'push' | 'delete';

const REPOSITORY_ACTIONS: ReadonlyArray<[RepositoryAction, string]> = [
  ['pull', 'container-registry.image.pull'],
  ['push', 'container-registry.image.push'],
  ['delete', 'container-registry.image.delete'],
];

export interface RepositoryScope {
  accountId: string;
  region: string;
  namespace: string;
}

/** Which repository actions the subject holds in a namespace; the registry login grants exactly these. */
export function grantedActions(
  subject: Subject,
  scope: RepositoryScope,
  policies: readonly Policy[],
  context: AuthorizationContext = DEFAULT_AUTHORIZATION_CONTEXT,
): RepositoryAction[] {
  const resource: Resource = {
    accountId: scope.accountId,
    serviceName: 'container-registry',
    region: scope.region,
    resourceType: 'namespace',
    resource: scope.namespace,
  };
  return REPOSITORY_ACTIONS.filter(([, action]) => decide({ subject, action, resource }, policies, context).allowed).map(
    ([name]) => name,
  );
}

/**
 * A policy scope covers a resource when every attribute it names matches; an attribute it leaves
 * out matches anything (no region = every region, no resourceType/resource = service-wide).
 * An attribute the resource does not carry (serviceInstance, resourceGroupId, geography, a typo
 * like `accountid`) never matches, so a policy we do not understand grants nothing.
 * accountId and serviceName are required: without them "matches anything" would mean every
 * account or every service.
 */
function scopeCovers(attributes: readonly PolicyAttribute[], resource: Resource): boolean {
  const names = new Set(attributes.map((attribute) => attribute.name));
  if (!names.has('accountId') || !names.has('serviceName')) return false;
  const values: Record<string, string | undefined> = { ...resource };
  return attributes.every((attribute) => {
    const actual = Object.hasOwn(values, attribute.name) ? values[attribute.name] : undefined;
    return actual !== undefined && valueMatches(attribute, actual);
  });
}

/** IBM compares attribute values case-sensitively; `stringMatch` adds `*` and `?` wildcards. */
function valueMatches(attribute: PolicyAttribute, actual: string): boolean {
  switch (attribute.operator ?? 'stringEquals') {
    case 'stringEquals':
      return attribute.value === actual;
    case 'stringMatch':
      return globToRegExp(attribute.value).test(actual);
    default:
      return false;
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function describe(resource: Resource): string {
  const parts = [resource.serviceName, resource.region ?? '(no region)'];
  if (resource.resourceType) parts.push(`${resource.resourceType}=${resource.resource ?? ''}`);
  return `${parts.join(' ')} in account ${resource.accountId}`;
}

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

import type { Origin } from '../audit/access-events.js';
import { actionsOf, ROLE_ACTIONS, roleOf, SERVICE_TYPES, type RoleActionTable } from './roles.js';

/**
 * The one decision "may subject S do action A on resource R", as IBM IAM makes it (reference
 * §3.2, §3.7, §3.8). Pure: callers load the subject's policies and pass them in (authorization.ts
 * is the one loader), so the rules can be tested as a table and every route asks the same
 * question the same way.
 */

export interface Subject {
  iamId: string;
  accountId: string;
  isAccountOwner: boolean;
  /** As the audit trail names it, when known. */
  name?: string;
  /** The request it acts in, for the audit events of what it does or is refused (none outside a request: the CLI). */
  origin?: Origin;
}

/**
 * The resource a request touches, in policy attribute names. Absent attributes are "not scoped".
 * `serviceType` need not be given: it follows from a known `serviceName`.
 */
export interface Resource {
  accountId: string;
  serviceName?: string;
  serviceType?: string;
  region?: string;
  resourceType?: string;
  resource?: string;
}

export interface PolicyAttribute {
  name: string;
  value: string;
  /** `stringEquals` when absent, as IBM treats it. */
  operator?: string;
}

/**
 * What a policy write asks about: the resource attributes of the policy being written, wildcards
 * and all. The writer must hold the action on everything such a scope can cover.
 */
export interface ResourceScope {
  attributes: readonly PolicyAttribute[];
}

export interface AccessRequest {
  subject: Subject;
  action: string;
  resource: Resource | ResourceScope;
}

export interface Policy {
  id: string;
  subjectIamIds: string[];
  roleCrns: string[];
  resources: Array<{ attributes: PolicyAttribute[]; tags?: unknown[] }>;
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
  const { subject, action } = request;
  const target = targetAttributes(request.resource);
  const accountId = literal(target, 'accountId');
  // Checked before the owner rule and before policies: no role, however broad, crosses accounts.
  if (accountId !== subject.accountId) {
    return deny(`${subject.iamId} belongs to account ${subject.accountId}, not ${accountId ?? '(none)'}`);
  }
  if (subject.isAccountOwner) return { allowed: true, reason: `${subject.iamId} owns account ${accountId}` };

  const serviceName = literal(target, 'serviceName');
  for (const policy of policies) {
    // Callers should pass only the subject's policies; re-checking keeps a loading bug from granting.
    if (!policy.subjectIamIds.includes(subject.iamId)) continue;
    if (!policy.resources.some((scope) => scopeCovers(scope, target))) continue;
    for (const crn of policy.roleCrns) {
      const role = roleOf(crn, serviceName);
      if (role && actionsOf(context.roleActions, serviceName, role).includes(action)) {
        return { allowed: true, reason: `policy ${policy.id} grants ${action} through ${role}` };
      }
    }
  }
  return deny(`no policy grants ${action} on ${describe(target)} to ${subject.iamId}`);
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

/** Whether the subject may take one repository action in a namespace, and why (the audit trail keeps the reason). */
export function decideRepositoryAction(
  subject: Subject,
  scope: RepositoryScope,
  action: RepositoryAction,
  policies: readonly Policy[],
  context: AuthorizationContext = DEFAULT_AUTHORIZATION_CONTEXT,
): Decision {
  const resource: Resource = {
    accountId: scope.accountId,
    serviceName: 'container-registry',
    region: scope.region,
    resourceType: 'namespace',
    resource: scope.namespace,
  };
  return decide({ subject, action: REPOSITORY_ACTIONS.find(([name]) => name === action)![1], resource }, policies, context);
}

/** Which repository actions the subject holds in a namespace; the registry login grants exactly these. */
export function grantedActions(
  subject: Subject,
  scope: RepositoryScope,
  policies: readonly Policy[],
  context: AuthorizationContext = DEFAULT_AUTHORIZATION_CONTEXT,
): RepositoryAction[] {
  return REPOSITORY_ACTIONS.filter(([name]) => decideRepositoryAction(subject, scope, name, policies, context).allowed).map(([name]) => name);
}

/** A target attribute: a literal value, or a wildcard pattern when the target is a policy scope. */
interface TargetAttribute {
  value: string;
  pattern: boolean;
}

/** The request's resource as attributes; a known serviceName brings its serviceType with it. */
function targetAttributes(resource: Resource | ResourceScope): Map<string, TargetAttribute> {
  const target = new Map<string, TargetAttribute>();
  if ('attributes' in resource) {
    for (const attribute of resource.attributes) {
      target.set(attribute.name, { value: attribute.value, pattern: (attribute.operator ?? 'stringEquals') !== 'stringEquals' });
    }
  } else {
    for (const [name, value] of Object.entries(resource)) if (typeof value === 'string') target.set(name, { value, pattern: false });
  }
  const serviceName = literal(target, 'serviceName');
  const serviceType = serviceName !== undefined ? SERVICE_TYPES[serviceName] : undefined;
  if (serviceType !== undefined && !target.has('serviceType')) target.set('serviceType', { value: serviceType, pattern: false });
  return target;
}

function literal(target: Map<string, TargetAttribute>, name: string): string | undefined {
  const attribute = target.get(name);
  return attribute && !attribute.pattern ? attribute.value : undefined;
}

/**
 * A policy scope covers a target when every attribute it names matches; an attribute it leaves
 * out matches anything (no region = every region, no resourceType/resource = service-wide).
 * An attribute the target does not carry (serviceInstance, resourceGroupId, geography, a typo
 * like `accountid`) never matches, so a policy we do not understand grants nothing; so does a
 * scope with access tags, which Berth does not evaluate. accountId and a service (serviceName or
 * serviceType) are required: without them "matches anything" would mean every account or every
 * service.
 */
function scopeCovers(scope: { attributes: readonly PolicyAttribute[]; tags?: unknown[] }, target: Map<string, TargetAttribute>): boolean {
  if (scope.tags !== undefined && scope.tags.length > 0) return false;
  const names = new Set(scope.attributes.map((attribute) => attribute.name));
  if (!names.has('accountId') || (!names.has('serviceName') && !names.has('serviceType'))) return false;
  return scope.attributes.every((attribute) => {
    const wanted = target.get(attribute.name);
    if (wanted === undefined) return false;
    // A wildcard in the target is covered only by the same pattern or by "anything".
    if (wanted.pattern) return attribute.operator === 'stringMatch' && (attribute.value === wanted.value || attribute.value === '*');
    return valueMatches(attribute, wanted.value);
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

function describe(target: Map<string, TargetAttribute>): string {
  const parts = [...target.entries()].filter(([name]) => name !== 'accountId').map(([name, { value }]) => `${name}=${value}`);
  return `${parts.join(' ')} in account ${literal(target, 'accountId') ?? '(none)'}`;
}

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

/**
 * IAM roles and the actions each grants, per service. Role CRNs are IBM's (reference §3.6), so
 * policies written with the IBM CLI, SDK or Terraform mean the same thing here.
 *
 * `container-registry` follows reference §3.7 exactly. The IAM services below are Berth's choice —
 * the reference names none — modelled on IBM's own services of the same names (all of them
 * "account management" services, `serviceType=platform_service`):
 *
 * - `iam-identity` gates service IDs, and API keys that belong to someone else (a user's own keys
 *   need no policy; another user's it only lets one read, see api-key-admin.ts). Viewer reads;
 *   Operator also locks and unlocks; Editor and Administrator also create, update, disable and
 *   delete. The service role ServiceIdCreator only creates service IDs.
 *   A policy may name one service ID (`resourceType=serviceid`, `resource=ServiceId-…`): it then
 *   covers that service ID and its API keys only.
 * - `iam-access-management` lets Viewer, Operator, Editor and Administrator read every policy of
 *   the account.
 * - `user-management` gates the users of an account: Viewer lists and reads them, Editor and
 *   Administrator also invite, update and remove them.
 * - `berth-audit` is a name of Berth's own (IBM serves audit events from Activity Tracker, which
 *   Berth does not reproduce): Viewer, Operator, Editor and Administrator each read the account's
 *   audit trail (`GET /v1/audit/events`). None writes: events are only ever appended by Berth.
 * - Writing a policy is granting access, so (as in IBM) it needs the Administrator platform role on
 *   what the policy grants: Administrator on any service carries `iam.policy.assign` for resources
 *   of that service (see ANY_SERVICE below), and the policy admin asks for it on each resource of
 *   the policy it writes.
 *
 * Platform roles grant no registry action (§3.7: "No registry action is mapped to a platform role").
 */

const IAM_CRN = 'crn:v1:bluemix:public:iam::::';

export const SERVICE_ROLES = ['Reader', 'Writer', 'Manager'] as const;
export const PLATFORM_ROLES = ['Viewer', 'Operator', 'Editor', 'Administrator'] as const;
/** Roles that exist on one service only, written with that service's CRN prefix. */
export const SERVICE_SPECIFIC_ROLES: Readonly<Record<string, readonly string[]>> = {
  'iam-identity': ['ServiceIdCreator'],
};
export type ServiceRole = (typeof SERVICE_ROLES)[number];
export type PlatformRole = (typeof PLATFORM_ROLES)[number];
export type RoleName = ServiceRole | PlatformRole | string;

export const roleCrn = {
  service: (role: ServiceRole) => `${IAM_CRN}serviceRole:${role}`,
  platform: (role: PlatformRole) => `${IAM_CRN}role:${role}`,
  /** A role of one service only, e.g. `crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator`. */
  specific: (serviceName: string, role: string) => `crn:v1:bluemix:public:${serviceName}::::serviceRole:${role}`,
};

/**
 * The role a CRN names on a service, or undefined for anything else (custom or unknown roles grant
 * nothing). The Registry docs also write service roles as `crn:v1:bluemix:public:container-registry::::
 * serviceRole:X` (§3.6, unconfirmed which form IBM stores), so a service's own prefix is accepted
 * for service roles of that service. Comparison is case-sensitive, as CRNs are.
 */
export function roleOf(crn: string, serviceName: string | undefined): RoleName | undefined {
  for (const role of PLATFORM_ROLES) if (crn === roleCrn.platform(role)) return role;
  for (const role of SERVICE_ROLES) {
    if (crn === roleCrn.service(role)) return role;
    if (serviceName !== undefined && crn === roleCrn.specific(serviceName, role)) return role;
  }
  if (serviceName === undefined) return undefined;
  return SERVICE_SPECIFIC_ROLES[serviceName]?.find((role) => crn === roleCrn.specific(serviceName, role));
}

/** Whether a CRN names a role Berth knows on some service (a policy naming any other role is refused). */
export function isKnownRoleCrn(crn: string): boolean {
  if (roleOf(crn, undefined) !== undefined) return true;
  return Object.keys(ROLE_ACTIONS).some((service) => roleOf(crn, service) !== undefined);
}

/** serviceName → role → actions that role grants on that service. */
export type RoleActionTable = Readonly<Record<string, Readonly<Partial<Record<RoleName, readonly string[]>>>>>;

/** IBM's two kinds of service: IAM-enabled services (`service`) and account management (`platform_service`). */
export const SERVICE_TYPES: Readonly<Record<string, 'service' | 'platform_service'>> = {
  'container-registry': 'service',
  'iam-identity': 'platform_service',
  'iam-access-management': 'platform_service',
  'user-management': 'platform_service',
  'berth-audit': 'platform_service',
};

/** The key in a RoleActionTable whose grants hold on every service, for roles that mean the same everywhere. */
export const ANY_SERVICE = '*';

/** The action a policy write needs on each resource the policy names. */
export const ASSIGN_ACCESS = 'iam.policy.assign';

const cr = (...names: string[]) => names.map((name) => `container-registry.${name}`);
const identity = (...names: string[]) => names.map((name) => `iam-identity.${name}`);
const users = (...names: string[]) => names.map((name) => `user-management.${name}`);

const identityViewer = identity('serviceid.get', 'apikey.get');
const identityOperator = [...identityViewer, ...identity('serviceid.lock', 'apikey.lock')];
const identityEditor = [
  ...identityOperator,
  ...identity('serviceid.create', 'serviceid.update', 'serviceid.delete', 'apikey.create', 'apikey.update', 'apikey.delete', 'apikey.disable'),
];
const policyRead = ['iam-access-management.policy.read'];
const userViewer = users('user.get');
const userEditor = [...userViewer, ...users('user.invite', 'user.update', 'user.remove')];
const auditRead = ['berth-audit.event.read'];

export const ROLE_ACTIONS: RoleActionTable = {
  'container-registry': {
    // Reference §3.7, column by column. Writer deliberately lacks image.list and image.inspect.
    Reader: cr(
      'image.pull', 'image.list', 'image.inspect', 'image.vulnerabilities', 'namespace.list', 'quota.get',
      'auth.get', 'settings.get', 'retention.analyze', 'retention.get', 'retention.list', 'exemption.list',
    ),
    Writer: cr('image.pull', 'image.push', 'image.delete', 'quota.get', 'auth.get', 'settings.get', 'retention.set'),
    Manager: cr(
      'image.pull', 'image.push', 'image.delete', 'image.list', 'image.inspect', 'image.vulnerabilities',
      'namespace.list', 'namespace.create', 'namespace.delete', 'quota.get', 'quota.set', 'plan.get', 'plan.set',
      'auth.get', 'auth.set', 'settings.get', 'settings.set', 'retention.analyze', 'retention.get',
      'retention.list', 'retention.set', 'exemption.list', 'exemption.manager',
    ),
  },
  'iam-identity': {
    Viewer: identityViewer,
    Operator: identityOperator,
    Editor: identityEditor,
    Administrator: identityEditor,
    ServiceIdCreator: identity('serviceid.create'),
  },
  'iam-access-management': {
    Viewer: policyRead,
    Operator: policyRead,
    Editor: policyRead,
    Administrator: policyRead,
  },
  'user-management': {
    Viewer: userViewer,
    Operator: userViewer,
    Editor: userEditor,
    Administrator: userEditor,
  },
  'berth-audit': {
    Viewer: auditRead,
    Operator: auditRead,
    Editor: auditRead,
    Administrator: auditRead,
  },
  [ANY_SERVICE]: {
    Administrator: [ASSIGN_ACCESS],
  },
};

/** What a role grants on a service: the service's own grants plus those that hold on every service. */
export function actionsOf(table: RoleActionTable, serviceName: string | undefined, role: RoleName): readonly string[] {
  const own = serviceName !== undefined ? (table[serviceName]?.[role] ?? []) : [];
  const everywhere = table[ANY_SERVICE]?.[role] ?? [];
  return everywhere.length === 0 ? own : [...own, ...everywhere];
}

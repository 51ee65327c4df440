/**
 * IAM roles and the actions each grants, per service. Role CRNs are IBM's (reference §3.6), so
 * policies written with the IBM CLI, SDK or Terraform mean the same thing here.
 *
 * `container-registry` follows reference §3.7 exactly. The IAM-administration services below are
 * Berth's choice — the reference names none — modelled on IBM's own services of the same names:
 *
 * - `iam-identity` gates service IDs, and API keys that belong to someone else (a user's own keys
 *   need no policy). Viewer reads; Operator also locks/unlocks; Editor and Administrator also
 *   create, update and delete.
 * - `iam-access-management` gates access policies. Viewer/Operator/Editor read them; only
 *   Administrator writes them, because writing a policy is granting access, and IBM reserves that
 *   for Administrator.
 *
 * Platform roles grant no registry action (§3.7: "No registry action is mapped to a platform role").
 */

const IAM_CRN = 'crn:v1:bluemix:public:iam::::';

export const SERVICE_ROLES = ['Reader', 'Writer', 'Manager'] as const;
export const PLATFORM_ROLES = ['Viewer', 'Operator', 'Editor', 'Administrator'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];
export type PlatformRole = (typeof PLATFORM_ROLES)[number];
export type RoleName = ServiceRole | PlatformRole;

export const roleCrn = {
  service: (role: ServiceRole) => `${IAM_CRN}serviceRole:${role}`,
  platform: (role: PlatformRole) => `${IAM_CRN}role:${role}`,
};

/**
 * The role a CRN names, or undefined for anything else (custom or unknown roles grant nothing).
 * The Registry docs also write service roles as `crn:v1:bluemix:public:container-registry::::
 * serviceRole:X` (§3.6, unconfirmed which form IBM stores), so a service's own prefix is accepted
 * for service roles of that service. Comparison is case-sensitive, as CRNs are.
 */
export function roleOf(crn: string, serviceName: string): RoleName | undefined {
  for (const role of PLATFORM_ROLES) if (crn === roleCrn.platform(role)) return role;
  for (const role of SERVICE_ROLES) {
    if (crn === roleCrn.service(role)) return role;
    if (crn === `crn:v1:bluemix:public:${serviceName}::::serviceRole:${role}`) return role;
  }
  return undefined;
}

/** serviceName → role → actions that role grants on that service. */
export type RoleActionTable = Readonly<Record<string, Readonly<Partial<Record<RoleName, readonly string[]>>>>>;

const cr = (...names: string[]) => names.map((name) => `container-registry.${name}`);
const identity = (...names: string[]) => names.map((name) => `iam-identity.${name}`);

const identityViewer = identity('serviceid.get', 'apikey.get');
const identityOperator = [...identityViewer, ...identity('serviceid.lock', 'apikey.lock')];
const identityEditor = [
  ...identityOperator,
  ...identity('serviceid.create', 'serviceid.update', 'serviceid.delete', 'apikey.create', 'apikey.update', 'apikey.delete'),
];
const policyRead = ['iam-access-management.policy.read'];

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
  },
  'iam-access-management': {
    Viewer: policyRead,
    Operator: policyRead,
    Editor: policyRead,
    Administrator: [
      ...policyRead,
      'iam-access-management.policy.create',
      'iam-access-management.policy.update',
      'iam-access-management.policy.delete',
    ],
  },
};

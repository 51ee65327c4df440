import {
  actionsOf,
  PLATFORM_ROLES,
  ROLE_ACTIONS,
  roleCrn,
  roleOf,
  SERVICE_ROLES,
  SERVICE_SPECIFIC_ROLES,
  SERVICE_TYPES,
  type RoleName,
} from './roles.js';

/**
 * The roles as the Policy API shows them: with display names and descriptions on each role a
 * policy returns (as IBM adds them), and with their actions in `GET /v2/roles` (§3.4). What each
 * role grants is in roles.ts; this is only how they are named to people.
 */
export interface RoleDescription {
  crn: string;
  displayName: string;
  description: string;
  actions: string[];
}

const DESCRIPTIONS: Record<string, string> = {
  Reader: 'As a reader, you can perform read-only actions within a service such as viewing service-specific resources.',
  Writer: 'As a writer, you have permissions beyond the reader role, including creating and editing service-specific resources.',
  Manager: 'As a manager, you have permissions beyond the writer role to complete privileged actions as defined by the service.',
  Viewer: "As a viewer, you can view service instances, but you can't modify them.",
  Operator: 'As an operator, you can perform platform actions required to configure and operate service instances.',
  Editor: 'As an editor, you can perform all platform actions except for managing the account and assigning access policies.',
  Administrator:
    'As an administrator, you can perform all platform actions based on the resource this role is being assigned, including assigning access policies to other users.',
  ServiceIdCreator: 'As a service ID creator, you can create service IDs.',
};

function described(crn: string, role: RoleName, serviceName: string | undefined): RoleDescription {
  return { crn, displayName: role, description: DESCRIPTIONS[role] ?? role, actions: [...actionsOf(ROLE_ACTIONS, serviceName, role)] };
}

/** Name and description of a role CRN, whichever service it belongs to; undefined for unknown roles. */
export function describeRole(crn: string): Omit<RoleDescription, 'actions'> | undefined {
  for (const serviceName of [undefined, ...Object.keys(SERVICE_TYPES)]) {
    const role = roleOf(crn, serviceName);
    if (role) return { crn, displayName: role, description: DESCRIPTIONS[role] ?? role };
  }
  return undefined;
}

/** Every service a policy can grant roles on here. */
export const SERVICE_NAMES: readonly string[] = Object.keys(SERVICE_TYPES);

/** `GET /v2/roles`: the system (platform) roles, and the service roles of one service or service group. */
export function rolesFor(query: { serviceName?: string; serviceGroupId?: string }): { serviceRoles: RoleDescription[]; systemRoles: RoleDescription[] } {
  const { serviceName } = query;
  const systemRoles = PLATFORM_ROLES.map((role) => described(roleCrn.platform(role), role, serviceName));
  // IBM's "IAM" service group is its account management services.
  const services =
    serviceName !== undefined
      ? [serviceName].filter((name) => SERVICE_TYPES[name] !== undefined)
      : query.serviceGroupId === 'IAM'
        ? Object.keys(SERVICE_TYPES).filter((name) => SERVICE_TYPES[name] === 'platform_service')
        : [];
  const serviceRoles = services.flatMap((service) => [
    ...SERVICE_ROLES.filter((role) => ROLE_ACTIONS[service]?.[role] !== undefined).map((role) => described(roleCrn.service(role), role, service)),
    ...(SERVICE_SPECIFIC_ROLES[service] ?? []).map((role) => described(roleCrn.specific(service, role), role, service)),
  ]);
  return { serviceRoles, systemRoles };
}

import { roleCrn, type PlatformRole, type ServiceRole } from './roles.js';

/**
 * The roles a policy may grant, by CRN (§3.6; the CRNs and what each grants are in roles.ts). IBM
 * emits the `iam::::` forms; display name and description are added to each role a policy returns,
 * as IBM does.
 */
export interface Role {
  crn: string;
  displayName: string;
  description: string;
}

const serviceRole = (name: ServiceRole, description: string): Role => ({ crn: roleCrn.service(name), displayName: name, description });
const platformRole = (name: PlatformRole, description: string): Role => ({ crn: roleCrn.platform(name), displayName: name, description });

export const ROLES: readonly Role[] = [
  serviceRole('Reader', 'As a reader, you can perform read-only actions within a service such as viewing service-specific resources.'),
  serviceRole('Writer', 'As a writer, you have permissions beyond the reader role, including creating and editing service-specific resources.'),
  serviceRole('Manager', 'As a manager, you have permissions beyond the writer role to complete privileged actions as defined by the service.'),
  platformRole('Viewer', 'As a viewer, you can view service instances, but you can\'t modify them.'),
  platformRole('Operator', 'As an operator, you can perform platform actions required to configure and operate service instances.'),
  platformRole('Editor', 'As an editor, you can perform all platform actions except for managing the account and assigning access policies.'),
  platformRole('Administrator', 'As an administrator, you can perform all platform actions based on the resource this role is being assigned, including assigning access policies to other users.'),
];

export function findRole(crn: string): Role | undefined {
  return ROLES.find((role) => role.crn === crn);
}

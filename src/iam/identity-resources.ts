import type { Resource } from './authorize.js';
import type { Identity } from './identities.js';

/**
 * The `iam-identity` resources the Identity API asks about (roles.ts says who holds what on them):
 * a service ID, with its API keys, is its own resource; everything else is the service as a whole.
 */
export const identityResource = {
  service: (accountId: string): Resource => ({ accountId, serviceName: 'iam-identity' }),
  serviceId: (accountId: string, serviceId: string): Resource => ({ accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: serviceId }),
  /** Where the API keys of an identity live: its service ID, or (for a user) the service as a whole. */
  keysOf: (identity: Identity): Resource =>
    identity.kind === 'serviceid' ? identityResource.serviceId(identity.accountId, identity.id) : identityResource.service(identity.accountId),
};

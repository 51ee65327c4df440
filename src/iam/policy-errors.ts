/**
 * A failure of the Policy Management API. Its wire shape (§3.3) differs from the Identity API's:
 * a short `code` from IBM's enum, a message, optional details, and a numeric status.
 */
import type { PolicyRecord } from './policies.js';

export class PolicyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The existing policy a create or replace would duplicate; the HTTP layer shows it in `details.conflicts_with`. */
    readonly conflictsWith?: PolicyRecord,
  ) {
    super(message);
  }
}

/** The catalogue: each failure's status, code and message are set here once. */
export const policyErrors = {
  invalidBody: (details: string) => new PolicyError(400, 'invalid_body', `Invalid body format: ${details}`),
  missingQuery: (name: string) => new PolicyError(400, 'missing_required_query_parameter', `The query parameter ${name} is required.`),
  invalidQuery: (details: string) => new PolicyError(400, 'invalid_body', `Invalid query parameter: ${details}`),
  // IBM's enum has no code of its own for this; `details.known_services` lets a client name the right one.
  unknownService: (serviceName: string, known: readonly string[]) =>
    new PolicyError(400, 'invalid_body', `Invalid query parameter: service_name ${serviceName} is not a service of this server (known: ${known.join(', ')}).`, {
      service_name: serviceName,
      known_services: [...known],
    }),
  invalidToken: () => new PolicyError(401, 'invalid_token', 'The provided access token is missing, invalid or expired.'),
  // `insufficent` is IBM's own spelling in the SDK's enum; clients match on it.
  forbidden: (details: string) => new PolicyError(403, 'insufficent_permissions', `You are not allowed to perform this action. ${details}`),
  // The same answer for a missing policy and one in another account: a caller learns nothing across accounts.
  unknownEndpoint: (what: string) => new PolicyError(404, 'not_found', `There is no ${what} in the IAM Policy API.`),
  notFound: (id: string) => new PolicyError(404, 'policy_not_found', `Policy with id ${id} not found.`),
  staleVersion: (id: string) =>
    new PolicyError(409, 'policy_conflict_error', `The policy ${id} was changed in the meantime: If-Match does not match its current ETag.`),
  duplicate: (existing: PolicyRecord) =>
    new PolicyError(
      409,
      'policy_conflict_error',
      `The policy wasn't created because an access policy with identical attributes already exists: ${existing.id}.`,
      undefined,
      existing,
    ),
  ifMatchRequired: () => new PolicyError(428, 'request_not_processed', 'The If-Match header is required; send the ETag you read, or *.'),
  unsupportedContentType: (details: string) => new PolicyError(415, 'unsupported_content_type', details),
  internal: () => new PolicyError(500, 'unable_to_process', 'The request could not be processed.'),
};

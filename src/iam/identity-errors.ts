import { IamError } from './errors.js';

/**
 * A failure of the Identity API (API keys, service IDs). Besides IamError's status and BXNIM code
 * it carries the short `code` IBM puts beside it (`not_found`, `conflict`, ...).
 */
export class IdentityError extends IamError {
  constructor(
    status: number,
    readonly code: string,
    messageCode: string,
    message: string,
    details?: string,
  ) {
    super(status, messageCode, message, details);
  }
}

/** The catalogue: each failure's status, code and message are set here once. */
export const identityErrors = {
  invalid: (details: string) => new IdentityError(400, 'bad_request', 'BXNIM0106E', 'Property validation failed.', details),
  missingToken: () =>
    new IdentityError(401, 'unauthorized', 'BXNIM0308E', 'No authorization header found.', 'Send Authorization: Bearer <IAM access token>.'),
  badToken: () => new IdentityError(401, 'unauthorized', 'BXNIM0407E', 'Provided access token is invalid or expired.'),
  forbidden: (details: string) => new IdentityError(403, 'forbidden', 'BXNIM0513E', 'You are not authorized to perform this action.', details),
  // The same answer for a missing entity and for one in another account: a caller learns nothing across accounts.
  unknownEndpoint: (what: string) => new IdentityError(404, 'not_found', 'BXNIM0102E', `There is no ${what} in the IAM Identity API.`),
  notFound: (type: string, id: string) =>
    new IdentityError(404, 'not_found', 'BXNIM0102E', 'Unable to find object', `Object type ${type} with id ${id} not found.`),
  locked: (type: string, id: string) =>
    new IdentityError(409, 'conflict', 'BXNIM0509E', 'The entity is locked.', `The ${type} ${id} is locked; unlock it before changing or deleting it.`),
  staleVersion: (type: string, id: string) =>
    new IdentityError(409, 'conflict', 'BXNIM0508E', 'The entity was changed in the meantime.', `If-Match does not match the current entity_tag of ${type} ${id}.`),
  conflict: (details: string) => new IdentityError(409, 'conflict', 'BXNIM0511E', 'The request conflicts with what exists.', details),
  valueTaken: () => new IdentityError(409, 'conflict', 'BXNIM0510E', 'The API key value is already in use.', 'Choose another value for apikey, or let Berth generate one.'),
  ifMatchRequired: () =>
    new IdentityError(428, 'precondition_required', 'BXNIM0507E', 'If-Match header is required.', 'Send the entity_tag (ETag) you read, or * to update any version.'),
};

/**
 * An IAM failure as IBM's token service reports it: an HTTP status, a `BXNIM…` code and a message.
 * The HTTP layer renders it in IBM's error shape.
 */
export class IamError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

export const iamErrors = {
  apiKeyNotFound: () => new IamError(400, 'BXNIM0415E', 'Provided API key could not be found.'),
  apiKeyExpired: () => new IamError(400, 'BXNIM0415E', 'Provided API key could not be found.', 'The API key has expired.'),
  apiKeyDisabled: () => new IamError(400, 'BXNIM0415E', 'Provided API key could not be found.', 'The API key is disabled.'),
  invalidRequest: (details: string) => new IamError(400, 'BXNIM0106E', 'Property validation failed.', details),
  unsupportedGrant: (grant: string) =>
    new IamError(400, 'BXNIM0109E', 'Property grant_type is invalid or unsupported.', `unsupported grant_type "${grant}"`),
};

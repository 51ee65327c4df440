/**
 * The registry login's domain errors; each surface renders them in its own wire format (the /v2
 * surface and `/oauth/token` as OCI error JSON, see v2/oci-errors.ts).
 */

/** The request's credentials prove nobody: bad, expired or of the wrong kind. */
export class AuthenticationError extends Error {}

/** Too many failed logins from this client, or with this secret: try again after `retryAfterSeconds`. */
export class LoginThrottledError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A token request that cannot be answered as asked: an unknown service, a malformed scope. */
export class TokenRequestError extends Error {
  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

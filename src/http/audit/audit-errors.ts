import { AuditError } from '../../audit/audit-errors.js';
import { IdentityError, identityErrors } from '../../iam/identity-errors.js';
import { toIdentityError } from '../iam/identity-errors.js';

/**
 * Any failure of the audit API in the Identity API's error shape: every path under `/v1/` that is
 * not a policy answers in it (surfaces.ts), its unknown endpoints and NUL refusals included, so
 * the audit API's own errors look like those.
 */
export function toAuditWireError(error: unknown): IdentityError {
  if (!(error instanceof AuditError)) return toIdentityError(error);
  switch (error.kind) {
    case 'invalid_parameter':
      return identityErrors.invalid(error.message);
    case 'forbidden':
      return identityErrors.forbidden(error.message);
    case 'account_not_found':
      return identityErrors.notFound('account', error.accountId!);
  }
}

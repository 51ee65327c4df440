/**
 * Why a read of the audit trail was refused. Domain errors only: each surface that serves the
 * trail turns them into its own wire shape (http/audit/audit-errors.ts for the API).
 */
export class AuditError extends Error {
  constructor(
    readonly kind: 'invalid_parameter' | 'forbidden' | 'account_not_found',
    message: string,
    /** The query parameter at fault, for `invalid_parameter`. */
    readonly parameter?: string,
    /** The account named, for `account_not_found`. */
    readonly accountId?: string,
  ) {
    super(message);
  }
}

/** The catalogue: each refusal's kind and message are set here once. */
export const auditErrors = {
  invalidParameter: (name: string, why: string) => new AuditError('invalid_parameter', `query parameter ${name} ${why}`, name),
  forbidden: (action: string, accountId: string) =>
    new AuditError('forbidden', `${action} on account ${accountId} needs the account owner or a policy granting a berth-audit role (Viewer or above).`),
  // The same answer whether the account exists or not: a caller learns nothing of other accounts.
  accountNotFound: (accountId: string) => new AuditError('account_not_found', `account ${accountId} not found`, undefined, accountId),
};

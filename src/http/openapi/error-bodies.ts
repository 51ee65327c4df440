import { arrayOf, integer, named, object, record, string } from './schema.js';

// The error body of each wire format, as its one sender writes it.

/** `sendIdentityError` (http/iam/identity-errors.ts): the Identity API, account users and the audit API. */
export const identityErrorBody = named(
  'IdentityError',
  object(
    {
      context: object({
        transaction_id: string(),
        operation: string('the operation that failed, e.g. create_api_key'),
        user_agent: string(),
        url: string('the path only'),
        instance_id: string(),
        thread_id: string(),
        host: string(),
        start_time: string(),
        end_time: string(),
        elapsed_time: string(),
        cluster_name: string(),
      }),
      status_code: string('the HTTP status, as a string'),
      errors: arrayOf(record({ code: string('short code: bad_request, not_found, conflict, …'), message_code: string('BXNIM…E'), message: string(), details: string() })),
      trace: string(),
    },
    ['context', 'status_code', 'errors', 'trace'],
  ),
);

/** `sendPolicyError` (http/iam/policy-errors.ts): the Policy Management API and roles. */
export const policyErrorBody = named(
  'PolicyError',
  record({
    trace: string(),
    errors: arrayOf(object({ code: string(), message: string(), details: {} }, ['code', 'message'])),
    status_code: integer(),
  }),
);

/** `sendTokenError` (http/iam/errors.ts): the IAM token service. */
export const tokenErrorBody = named(
  'TokenError',
  object(
    {
      context: record({ requestId: string(), requestType: string(), userAgent: string(), url: string(), startTime: string() }),
      errorCode: string('BXNIM…E'),
      errorMessage: string(),
      errorDetails: string(),
    },
    ['context', 'errorCode', 'errorMessage'],
  ),
);

/** `sendManagementError` (http/cr/management-route.ts): the Container Registry management API. */
export const managementErrorBody = named('ManagementError', record({ code: string('CRG…E'), message: string(), 'request-id': string() }));

/** The OCI distribution error body (oci/errors.ts), which `/oauth/token` answers in. */
export const ociErrorBody = named(
  'OciError',
  record({ errors: arrayOf(object({ code: string(), message: string(), detail: {} }, ['code', 'message'])) }),
);

/** What paths outside every surface answer (http/surfaces.ts). */
export const serverErrorBody = named('ServerError', record({ errors: arrayOf(record({ code: string(), message: string() })) }));

/**
 * A failure of the Container Registry management API (`/api/v1/…`). IBM's error body is not known
 * (reference §4.4); Berth answers `{"code": "CRG…E", "message": …, "request-id": …}` with the
 * status below. The codes are Berth's own, in IBM's CRG style; clients show the message.
 */
export class ManagementError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The catalogue: each failure's status, code and message are set here once. */
export const managementErrors = {
  badRequest: (details: string) => new ManagementError(400, 'CRG0001E', `The request is not valid: ${details}`),
  missingAccount: () => new ManagementError(400, 'CRG0002E', 'The Account header is required: send the ID of the account that owns the namespaces.'),
  unauthorized: () =>
    new ManagementError(401, 'CRG0014E', 'Authorization required: send Authorization: Bearer <IAM access token> from POST /identity/token.'),
  wrongAccount: (account: string) => new ManagementError(403, 'CRG0003E', `You are not authorized to work in account ${account}: it is not the account of your token.`),
  denied: (action: string) => new ManagementError(403, 'CRG0004E', `You are not authorized to access the specified resource: ${action} is not granted to you.`),
  invalidNamespace: (name: string, problem: string) => new ManagementError(400, 'CRG0020E', `The namespace name '${name}' is not valid: ${problem}.`),
  namespaceTaken: (name: string, region: string) =>
    new ManagementError(409, 'CRG0021E', `The namespace '${name}' is already in use in region ${region}; namespace names are unique in a region. Choose another.`),
  namespaceLimit: (region: string) => new ManagementError(400, 'CRG0022E', `Your account has the maximum number of namespaces in region ${region}.`),
  // The same answer for a missing namespace and one of another account.
  namespaceUnknown: (name: string) => new ManagementError(404, 'CRG0023E', `The namespace '${name}' does not exist in this region, or is not yours.`),
  imageUnknown: (reference: string) => new ManagementError(404, 'CRG0030E', `The image '${reference}' was not found.`),
  invalidImage: (reference: string, problem: string) => new ManagementError(400, 'CRG0031E', `The image reference '${reference}' is not valid: ${problem}.`),
  otherRegistry: (reference: string, host: string) =>
    new ManagementError(400, 'CRG0032E', `The image '${reference}' is not in this registry; its references start with ${host}/.`),
  manifestList: (reference: string) =>
    new ManagementError(400, 'CRG0033E', `The image '${reference}' is a manifest list; inspect one of its platform images by digest.`),
  notInTrash: (reference: string) => new ManagementError(404, 'CRG0040E', `The image '${reference}' is not in the trash.`),
  unknownEndpoint: (what: string) => new ManagementError(404, 'CRG0404E', `There is no ${what} in the Container Registry API.`),
  internal: () => new ManagementError(500, 'CRG0500E', 'The request could not be processed.'),
};

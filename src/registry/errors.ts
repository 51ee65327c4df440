/**
 * Why the registry refused something, in its own terms. Each surface renders these in its wire
 * format at its edge: OCI error JSON on `/v2`, IBM's error body on the management API.
 */
export type RegistryErrorKind =
  /** The account's storage quota would be exceeded. */
  | 'storage-quota'
  /** The account's pull traffic quota for the month would be exceeded. */
  | 'traffic-quota'
  /** A manifest or blob something else still needs (an index names it; a manifest names the blob). */
  | 'in-use'
  /** No such image in the trash. */
  | 'not-in-trash'
  /** A tag to restore is taken by another image now. */
  | 'tag-taken'
  /** A quota or plan value the account cannot have. */
  | 'invalid';

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** IBM's wording, which clients print after `denied:`; what follows it is Berth's detail. */
export const STORAGE_QUOTA_MESSAGE = 'Your account has exceeded its image storage quota for the current month.';
export const TRAFFIC_QUOTA_MESSAGE = 'Your account has exceeded its pull traffic quota for the current month.';

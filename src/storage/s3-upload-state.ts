/**
 * An S3 upload as its database row keeps it: the multipart upload and the parts recorded so far
 * (number, ETag, size), the tail object holding the bytes after the last whole part, and, once
 * sealed, the one object that holds all the bytes.
 */
export interface S3UploadState {
  multipart?: string;
  parts: Array<[number: number, etag: string, size: number]>;
  tail?: [key: string, size: number];
  sealed?: string;
  /** Bytes of the sealed object. */
  size?: number;
}

/** The state from a row; anything else is refused (a row is no place to trust blindly). */
export function parseS3State(text: string): S3UploadState {
  const value = JSON.parse(text) as Partial<S3UploadState>;
  const partsOk =
    Array.isArray(value.parts) &&
    value.parts.every((p) => Array.isArray(p) && Number.isSafeInteger(p[0]) && typeof p[1] === 'string' && Number.isSafeInteger(p[2]));
  const tailOk = value.tail === undefined || (Array.isArray(value.tail) && typeof value.tail[0] === 'string' && Number.isSafeInteger(value.tail[1]));
  const rest =
    (value.multipart === undefined || typeof value.multipart === 'string') &&
    (value.sealed === undefined || typeof value.sealed === 'string') &&
    (value.size === undefined || Number.isSafeInteger(value.size));
  if (!partsOk || !tailOk || !rest) throw new Error('invalid upload state for the S3 store');
  return value as S3UploadState;
}

import { describe, expect, it } from 'vitest';
import { OCI_ERRORS, OciError } from '../../../src/oci/errors.js';

describe('OciError', () => {
  it('takes its status and message from the catalogue', () => {
    const error = new OciError('BLOB_UNKNOWN', { digest: 'sha256:x' });
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(404);
    expect(error.message).toBe('blob unknown to registry');
    expect(error.headers).toEqual({});
  });

  it('renders the spec error body with the detail', () => {
    const error = new OciError('MANIFEST_INVALID', 'config is required');
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: 'config is required' }],
    });
  });

  it('leaves detail out when there is none', () => {
    const body = new OciError('UNSUPPORTED').toJSON();
    expect(body).toEqual({ errors: [{ code: 'UNSUPPORTED', message: 'the operation is unsupported' }] });
    expect(Object.keys(body.errors[0]!)).toEqual(['code', 'message']);
  });

  it('keeps falsy details (they are still details)', () => {
    expect(new OciError('SIZE_INVALID', 0).toJSON().errors[0]).toHaveProperty('detail', 0);
    expect(new OciError('SIZE_INVALID', null).toJSON().errors[0]).toHaveProperty('detail', null);
  });

  it('lets one error override status, message and headers', () => {
    const error = new OciError('BLOB_UPLOAD_INVALID', undefined, {
      status: 416,
      message: 'range not satisfiable',
      headers: { Range: '0-9' },
    });
    expect(error.status).toBe(416);
    expect(error.headers).toEqual({ Range: '0-9' });
    expect(error.toJSON()).toEqual({ errors: [{ code: 'BLOB_UPLOAD_INVALID', message: 'range not satisfiable' }] });
  });

  it('maps every code of the spec to the status the spec gives it', () => {
    const spec: Record<string, number> = {
      BLOB_UNKNOWN: 404,
      BLOB_UPLOAD_INVALID: 400,
      BLOB_UPLOAD_UNKNOWN: 404,
      DIGEST_INVALID: 400,
      MANIFEST_BLOB_UNKNOWN: 400,
      MANIFEST_INVALID: 400,
      MANIFEST_UNKNOWN: 404,
      NAME_INVALID: 400,
      NAME_UNKNOWN: 404,
      SIZE_INVALID: 400,
      UNAUTHORIZED: 401,
      DENIED: 403,
      UNSUPPORTED: 405,
      TOOMANYREQUESTS: 429,
    };
    for (const [code, status] of Object.entries(spec)) {
      expect(OCI_ERRORS[code as keyof typeof OCI_ERRORS]?.status, code).toBe(status);
    }
  });
});

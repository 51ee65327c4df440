import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

const s3Env = { BERTH_STORAGE: 's3', BERTH_S3_BUCKET: 'registry-blobs' };

describe('storage settings', () => {
  it('keeps blobs in the data folder by default', () => {
    expect(loadConfig({}, {}).storage).toEqual({ kind: 'fs' });
    expect(loadConfig({}, { BERTH_STORAGE: 'FS' }).storage).toEqual({ kind: 'fs' });
  });

  it('takes S3 from the environment, with redirects on and AWS-style hosts unless an endpoint is given', () => {
    expect(loadConfig({}, s3Env).storage).toEqual({
      kind: 's3',
      s3: { bucket: 'registry-blobs', region: 'us-east-1', prefix: '', pathStyle: false, redirect: true },
    });
    const rgw = loadConfig({}, { ...s3Env, BERTH_S3_ENDPOINT: 'http://rgw.internal:7480/', BERTH_S3_REGION: 'eu-de', BERTH_S3_PREFIX: '/berth', BERTH_S3_REDIRECT: 'off' });
    expect(rgw.storage).toEqual({
      kind: 's3',
      s3: { endpoint: 'http://rgw.internal:7480', bucket: 'registry-blobs', region: 'eu-de', prefix: 'berth/', pathStyle: true, redirect: false },
    });
    expect(loadConfig({}, { ...s3Env, BERTH_S3_ENDPOINT: 'https://s3.example', BERTH_S3_PATH_STYLE: 'false' }).storage).toMatchObject({ s3: { pathStyle: false } });
  });

  it('lets flags win over the environment', () => {
    const config = loadConfig({ storage: 's3', s3Bucket: 'from-flag', s3Prefix: 'a/b/' }, { BERTH_STORAGE: 'fs', BERTH_S3_BUCKET: 'from-env' });
    expect(config.storage).toMatchObject({ kind: 's3', s3: { bucket: 'from-flag', prefix: 'a/b/' } });
  });

  it.each([
    [{ BERTH_STORAGE: 'gcs' }, 'BERTH_STORAGE must be fs or s3, got "gcs"'],
    [{ BERTH_STORAGE: 's3' }, 'BERTH_S3_BUCKET must name the bucket when BERTH_STORAGE is s3'],
    [{ ...s3Env, BERTH_S3_BUCKET: 'Bad_Bucket' }, 'BERTH_S3_BUCKET is not a valid bucket name: "Bad_Bucket"'],
    [{ ...s3Env, BERTH_S3_ENDPOINT: 'rgw:7480' }, 'BERTH_S3_ENDPOINT must be an http(s)://host[:port] URL, got "rgw:7480"'],
    [{ ...s3Env, BERTH_S3_ENDPOINT: 'http://rgw:7480/bucket' }, 'BERTH_S3_ENDPOINT must be an http(s)://host[:port] URL, got "http://rgw:7480/bucket"'],
    [{ ...s3Env, BERTH_S3_REGION: 'US East' }, 'BERTH_S3_REGION must be a region name such as us-east-1, got "US East"'],
    [{ ...s3Env, BERTH_S3_PREFIX: 'a/../b' }, 'BERTH_S3_PREFIX must be a plain key prefix such as berth/, got "a/../b"'],
    [{ ...s3Env, BERTH_S3_REDIRECT: 'maybe' }, 'BERTH_S3_REDIRECT must be true or false, got "maybe"'],
    [{ ...s3Env, BERTH_S3_PATH_STYLE: '2' }, 'BERTH_S3_PATH_STYLE must be true or false, got "2"'],
  ])('refuses %j with one line naming the setting', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(new ConfigError(message));
  });

  it('names the flag when the bad value came from one', () => {
    expect(() => loadConfig({ storage: 'nfs' }, {})).toThrow('--storage must be fs or s3, got "nfs"');
  });
});

describe('the advertised minimum chunk', () => {
  it('is a multipart part (5 MiB) on S3 and none on the filesystem, unless BERTH_CHUNK_MIN_LENGTH says otherwise', () => {
    expect(loadConfig({}, {}).registry.chunkMinLength).toBe(0);
    expect(loadConfig({}, s3Env).registry.chunkMinLength).toBe(5 * 1024 * 1024);
    expect(loadConfig({}, { ...s3Env, BERTH_CHUNK_MIN_LENGTH: '0' }).registry.chunkMinLength).toBe(0);
  });
});

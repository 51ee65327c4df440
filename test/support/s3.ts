/** The S3 server the test command started (scripts/test.sh: Ceph RGW on loopback). */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The S3 server of `BERTH_TEST_S3_*` (scripts/rgw.sh writes them), or undefined without an endpoint. */
export function testS3(): TestS3 | undefined {
  const env = process.env;
  const endpoint = env.BERTH_TEST_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = env.BERTH_TEST_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.BERTH_TEST_S3_SECRET_ACCESS_KEY;
  // Empty keys would only show up later as a confusing signature error.
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('BERTH_TEST_S3_ENDPOINT is set without BERTH_TEST_S3_ACCESS_KEY_ID and BERTH_TEST_S3_SECRET_ACCESS_KEY');
  }
  return {
    endpoint,
    bucket: env.BERTH_TEST_S3_BUCKET || 'berth-test',
    region: env.BERTH_TEST_S3_REGION || 'us-east-1',
    accessKeyId,
    secretAccessKey,
  };
}

export function requireTestS3(): TestS3 {
  const s3 = testS3();
  if (!s3) {
    throw new Error(
      'no S3 server for the tests: run them through `npm test` (scripts/test.sh starts Ceph RGW), or set BERTH_TEST_S3_ENDPOINT, BERTH_TEST_S3_BUCKET, BERTH_TEST_S3_ACCESS_KEY_ID and BERTH_TEST_S3_SECRET_ACCESS_KEY',
    );
  }
  return s3;
}

/** Where this run's test servers keep blobs: `BERTH_TEST_STORAGE=fs|s3` (scripts/test.sh runs an s3 pass). */
export function testStorage(): 'fs' | 's3' {
  const value = process.env.BERTH_TEST_STORAGE ?? 'fs';
  if (value !== 'fs' && value !== 's3') throw new Error(`BERTH_TEST_STORAGE must be fs or s3, got ${value}`);
  return value;
}

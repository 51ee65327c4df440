import { HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Where the S3 store keeps blobs. Credentials come from the SDK's standard chain unless given. */
export interface S3Settings {
  /** `http(s)://host:port` of an S3-compatible service; absent means AWS itself. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Prepended to every key (`berth/`), so one bucket can hold several registries or other data. */
  prefix: string;
  /** Bucket in the path (`host/bucket/key`) rather than the host name: what most self-hosted services need. */
  pathStyle: boolean;
  /** For tests and tools; production uses the environment, profile or instance role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A misconfigured object store, said in one line that names the setting to fix. */
export class S3SetupError extends Error {}

export function createS3Client(settings: S3Settings): S3Client {
  // The SDK warns on Node 20 that releases after January 2027 need Node 22; Berth pins a release
  // that runs on 20, so the warning (several lines on stderr, in the middle of JSON logs) says nothing.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config: S3ClientConfig = {
    region: settings.region,
    forcePathStyle: settings.pathStyle,
    // Checksums on streamed bodies need aws-chunked encoding, which not every S3-compatible service
    // speaks (Ceph RGW 16 answers MissingContentLength); digests are checked by the registry anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // With "Expect: 100-continue" (the SDK's default above 2 MB) every part would go on a fresh
    // connection of its own, outside the keep-alive pool: slower, and more memory per part.
    expectContinueHeader: false,
    // Without a logger the SDK warns on the console when a streamed request fails ("non-retryable
    // streaming request"): the store retries those itself, and stray lines would break JSON logs.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    requestHandler: { connectionTimeout: 5_000, httpAgent: { keepAlive: true, maxSockets: 64 }, httpsAgent: { keepAlive: true, maxSockets: 64 } },
  };
  if (settings.endpoint) config.endpoint = settings.endpoint;
  if (settings.credentials) config.credentials = settings.credentials;
  return new S3Client(config);
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Fails with one clear line when the endpoint, the bucket or the credentials are wrong. */
export async function checkBucket(client: S3Client, settings: S3Settings): Promise<void> {
  const where = settings.endpoint ?? `AWS region ${settings.region}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
  } catch (error) {
    const status = statusOf(error);
    if (status === 404) throw new S3SetupError(`BERTH_S3_BUCKET: bucket "${settings.bucket}" does not exist at ${where}`);
    if (status === 403 || status === 401) {
      throw new S3SetupError(`S3 storage at ${where} refused the credentials for bucket "${settings.bucket}" (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
    }
    if (status === 301 || status === 400) throw new S3SetupError(`BERTH_S3_REGION or BERTH_S3_PATH_STYLE: ${where} answered ${status} for bucket "${settings.bucket}"`);
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === 'CredentialsProviderError') throw new S3SetupError(`S3 storage: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): ${reason}`);
    throw new S3SetupError(`BERTH_S3_ENDPOINT: cannot reach ${where}: ${reason}`);
  }
}

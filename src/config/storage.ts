/** Where blobs live: the data folder (the embedded default) or an S3-compatible bucket. */
export type StorageConfig = { kind: 'fs' } | { kind: 's3'; s3: S3StorageConfig };

export interface S3StorageConfig {
  /** `http(s)://host:port` of an S3-compatible service; absent means AWS itself. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Prepended to every key; empty or ending in `/`. */
  prefix: string;
  pathStyle: boolean;
  /** Blob GETs answer 307 to a short-lived presigned URL instead of passing the bytes through. */
  redirect: boolean;
}

export interface StorageFlags {
  storage?: string;
  s3Endpoint?: string;
  s3Bucket?: string;
  s3Region?: string;
  s3Prefix?: string;
}

type Fail = (message: string) => Error;
type Read = (name: string) => string | undefined;

function flag(value: string | undefined, flagName: string, env: string, read: Read): { value: string | undefined; setting: string } {
  return value !== undefined ? { value, setting: flagName } : { value: read(env), setting: env };
}

function parseSwitch(value: string, setting: string, fail: Fail): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw fail(`${setting} must be true or false, got "${value}"`);
}

/**
 * `BERTH_STORAGE` (`fs` or `s3`) and the `BERTH_S3_*` settings. Credentials are not settings: the
 * AWS SDK's standard chain finds them (`AWS_ACCESS_KEY_ID`, profiles, instance roles).
 */
export function parseStorage(flags: StorageFlags, read: Read, fail: Fail): StorageConfig {
  const kind = flag(flags.storage, '--storage', 'BERTH_STORAGE', read);
  const name = (kind.value ?? 'fs').toLowerCase();
  if (name === 'fs') return { kind: 'fs' };
  if (name !== 's3') throw fail(`${kind.setting} must be fs or s3, got "${kind.value}"`);

  const bucket = flag(flags.s3Bucket, '--s3-bucket', 'BERTH_S3_BUCKET', read);
  if (!bucket.value) throw fail('BERTH_S3_BUCKET must name the bucket when BERTH_STORAGE is s3');
  // S3's bucket naming rules, which every compatible service accepts.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket.value)) throw fail(`${bucket.setting} is not a valid bucket name: "${bucket.value}"`);
  const endpoint = flag(flags.s3Endpoint, '--s3-endpoint', 'BERTH_S3_ENDPOINT', read);
  if (endpoint.value !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint.value)) {
    throw fail(`${endpoint.setting} must be an http(s)://host[:port] URL, got "${endpoint.value}"`);
  }
  const region = flag(flags.s3Region, '--s3-region', 'BERTH_S3_REGION', read);
  if (region.value !== undefined && !/^[a-z0-9-]{1,64}$/.test(region.value)) throw fail(`${region.setting} must be a region name such as us-east-1, got "${region.value}"`);
  const prefix = flag(flags.s3Prefix, '--s3-prefix', 'BERTH_S3_PREFIX', read);
  const prefixValue = (prefix.value ?? '').replace(/^\/+/, '');
  if (/\.\.|\/\/|[\\\s]/.test(prefixValue)) throw fail(`${prefix.setting} must be a plain key prefix such as berth/, got "${prefix.value}"`);
  const pathStyle = read('BERTH_S3_PATH_STYLE');
  const redirect = read('BERTH_S3_REDIRECT');
  const s3: S3StorageConfig = {
    bucket: bucket.value,
    region: region.value ?? 'us-east-1',
    prefix: prefixValue === '' || prefixValue.endsWith('/') ? prefixValue : `${prefixValue}/`,
    // Self-hosted services (Ceph RGW, MinIO, an IP address) need the bucket in the path; AWS prefers hosts.
    pathStyle: pathStyle !== undefined ? parseSwitch(pathStyle, 'BERTH_S3_PATH_STYLE', fail) : endpoint.value !== undefined,
    redirect: redirect !== undefined ? parseSwitch(redirect, 'BERTH_S3_REDIRECT', fail) : true,
  };
  if (endpoint.value !== undefined) s3.endpoint = endpoint.value.replace(/\/$/, '');
  return { kind: 's3', s3 };
}

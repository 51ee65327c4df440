import type { Read, Setting } from './settings.js';

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

function parseSwitch({ value, source }: Setting, fallback: boolean, fail: Fail): boolean {
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw fail(`${source} must be true or false, got "${value}"`);
}

/**
 * `storage` (`fs` or `s3`) and the `s3-*` settings. Credentials are not settings: the AWS SDK's
 * standard chain finds them (`AWS_ACCESS_KEY_ID`, profiles, instance roles).
 */
export function parseStorage(read: Read, fail: Fail): StorageConfig {
  const kind = read('storage');
  const name = (kind.value ?? 'fs').toLowerCase();
  if (name === 'fs') return { kind: 'fs' };
  if (name !== 's3') throw fail(`${kind.source} must be fs or s3, got "${kind.value}"`);

  const bucket = read('s3-bucket');
  if (!bucket.value) throw fail(`${bucket.source} must name the bucket when ${kind.source} is s3`);
  // S3's bucket naming rules, which every compatible service accepts.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket.value)) throw fail(`${bucket.source} is not a valid bucket name: "${bucket.value}"`);
  const endpoint = read('s3-endpoint');
  if (endpoint.value !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint.value)) {
    throw fail(`${endpoint.source} must be an http(s)://host[:port] URL, got "${endpoint.value}"`);
  }
  const region = read('s3-region');
  if (region.value !== undefined && !/^[a-z0-9-]{1,64}$/.test(region.value)) throw fail(`${region.source} must be a region name such as us-east-1, got "${region.value}"`);
  const prefix = read('s3-prefix');
  const prefixValue = (prefix.value ?? '').replace(/^\/+/, '');
  if (/\.\.|\/\/|[\\\s]/.test(prefixValue)) throw fail(`${prefix.source} must be a plain key prefix such as berth/, got "${prefix.value}"`);
  const s3: S3StorageConfig = {
    bucket: bucket.value,
    region: region.value ?? 'us-east-1',
    prefix: prefixValue === '' || prefixValue.endsWith('/') ? prefixValue : `${prefixValue}/`,
    // Self-hosted services (Ceph RGW, MinIO, an IP address) need the bucket in the path; AWS prefers hosts.
    pathStyle: parseSwitch(read('s3-path-style'), endpoint.value !== undefined, fail),
    redirect: parseSwitch(read('s3-redirect'), true, fail),
  };
  if (endpoint.value !== undefined) s3.endpoint = endpoint.value.replace(/\/$/, '');
  return { kind: 's3', s3 };
}

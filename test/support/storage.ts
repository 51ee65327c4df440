import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, type S3Settings } from '../../src/storage/s3-client.js';

/** Where a test server keeps blobs: its data folder, or a prefix of the suite's bucket in the s3 pass. */
export interface StoredAt {
  dataDir: string;
  s3?: S3Settings;
}

/** Every committed blob of a server's store, as `sha256:<hex>` → size (a test may walk the store; Berth never does). */
export async function blobFiles(at: StoredAt | string): Promise<Map<string, number>> {
  const where = typeof at === 'string' ? { dataDir: at } : at;
  if (where.s3) return blobObjects(where.s3);
  const files = new Map<string, number>();
  const root = join(where.dataDir, 'blobs');
  let algorithms: string[];
  try {
    algorithms = await readdir(root);
  } catch {
    return files;
  }
  for (const algorithm of algorithms) {
    for (const prefix of await readdir(join(root, algorithm))) {
      for (const hex of await readdir(join(root, algorithm, prefix))) {
        files.set(`${algorithm}:${hex}`, (await stat(join(root, algorithm, prefix, hex))).size);
      }
    }
  }
  return files;
}

/** Bytes of committed blobs in a server's store. */
export async function blobBytes(at: StoredAt | string): Promise<number> {
  let total = 0;
  for (const size of (await blobFiles(at)).values()) total += size;
  return total;
}

/** Ids of the uploads a server's store has staged data for. */
export async function uploadFiles(at: StoredAt | string): Promise<string[]> {
  const where = typeof at === 'string' ? { dataDir: at } : at;
  if (where.s3) return stagedObjects(where.s3);
  const ids: string[] = [];
  for (const folder of ['staging', 'uploads']) {
    try {
      ids.push(...(await readdir(join(where.dataDir, folder))));
    } catch {
      // No upload has used that folder yet.
    }
  }
  return ids;
}

async function* listed(settings: S3Settings, prefix: string): AsyncIterable<{ key: string; size: number }> {
  const client = createS3Client(settings);
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) yield { key: object.Key!.slice(prefix.length), size: object.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
}

async function blobObjects(settings: S3Settings): Promise<Map<string, number>> {
  const blobs = new Map<string, number>();
  for await (const { key, size } of listed(settings, `${settings.prefix}blobs/`)) {
    const [algorithm, , hex] = key.split('/');
    blobs.set(`${algorithm}:${hex}`, size);
  }
  return blobs;
}

async function stagedObjects(settings: S3Settings): Promise<string[]> {
  const prefix = `${settings.prefix}uploads/`;
  const ids = new Set<string>();
  for await (const { key } of listed(settings, prefix)) ids.add(key.split('/')[0]!);
  const client = createS3Client(settings);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: prefix }));
    for (const upload of uploads.Uploads ?? []) ids.add(upload.Key!.slice(prefix.length).split('/')[0]!);
  } finally {
    client.destroy();
  }
  return [...ids];
}

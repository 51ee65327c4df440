import { randomBytes } from 'node:crypto';
import { createS3Client, type S3Settings } from '../../src/storage/s3-client.js';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3-blob-store.js';
import { requireTestS3 } from './s3.js';

/** Settings for a store of the test's own: the suite's bucket, under a prefix nobody else uses. */
export function freshS3Settings(): S3Settings {
  const s3 = requireTestS3();
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    prefix: `test-${randomBytes(6).toString('hex')}/`,
    pathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
}

/** An S3 store on a fresh prefix, and how to empty that prefix afterwards. */
export async function freshS3Store(options: S3BlobStoreOptions = {}): Promise<{ store: S3BlobStore; settings: S3Settings; close(): Promise<void> }> {
  const settings = freshS3Settings();
  const store = await S3BlobStore.open(settings, options);
  return {
    store,
    settings,
    async close() {
      await emptyPrefix(settings);
      store.close();
    },
  };
}

/** Removes every object and multipart upload under the settings' prefix. */
export async function emptyPrefix(settings: S3Settings): Promise<void> {
  const { ListObjectsV2Command, DeleteObjectsCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
  const client = createS3Client(settings);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: settings.prefix }));
    for (const upload of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
    }
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: settings.prefix }));
      const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: keys, Quiet: true } }));
    }
  } finally {
    client.destroy();
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../src/oci/digest.js';
import { S3BlobStore } from '../../../src/storage/s3-blob-store.js';
import { freshS3Settings, freshS3Store } from '../../support/s3-store.js';
import { describeBlobStore } from './blob-store-suite.js';

const MiB = 1024 * 1024;

// 5 MiB parts, two in flight and one being filled (15 MiB), plus what the HTTP client holds while a
// part is on the wire: 30–45 MiB measured for 1 GiB, whatever the blob's size (one part in flight
// stays under 20 MiB, at half the speed).
describeBlobStore('S3BlobStore on Ceph RGW', () => freshS3Store(), { maxBufferedBytes: 48 * MiB, multiPartBytes: 11 * MiB + 17 });

describe('S3BlobStore at start', () => {
  it('names a missing bucket', async () => {
    const settings = { ...freshS3Settings(), bucket: 'no-such-bucket-here' };
    await expect(S3BlobStore.open(settings)).rejects.toThrow(/^BERTH_S3_BUCKET: bucket "no-such-bucket-here" does not exist at http/);
  });

  it('says the credentials were refused', async () => {
    const settings = freshS3Settings();
    settings.credentials = { accessKeyId: settings.credentials!.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret-wrong-secret' };
    await expect(S3BlobStore.open(settings)).rejects.toThrow(/refused the credentials for bucket "berth-test" \(check AWS_ACCESS_KEY_ID/);
  });

  it('says an endpoint cannot be reached', async () => {
    const settings = { ...freshS3Settings(), endpoint: 'http://127.0.0.1:9' };
    await expect(S3BlobStore.open(settings)).rejects.toThrow(/^BERTH_S3_ENDPOINT: cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});

describe('S3BlobStore above CopyObject\'s limit', () => {
  it('commits part by part (the limit lowered to 5 MiB, so the test stays small)', async () => {
    const { store, close } = await freshS3Store({ copyLimitBytes: 5 * MiB, copyPartBytes: 5 * MiB });
    try {
      const bytes = randomBytes(12 * MiB + 3);
      const parsed = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      if (!parsed.ok) throw new Error(parsed.reason);
      let counter = 0;
      const reserve = async () => ++counter;
      const id = crypto.randomUUID();
      const { state } = await store.append(id, await store.createUpload(id), (async function* () {
        yield bytes;
      })(), { reserve });
      await store.commit(id, await store.seal(id, state, { reserve }), parsed.digest);
      expect(await store.stat(parsed.digest)).toBe(bytes.length);
      const reader = (await store.openReader(parsed.digest))!;
      const into = Buffer.alloc(bytes.length + 1);
      let filled = 0;
      for (let n = await reader.read(into.subarray(filled)); n > 0; n = await reader.read(into.subarray(filled))) filled += n;
      await reader.close();
      expect(into.subarray(0, filled).equals(bytes)).toBe(true);
    } finally {
      await close();
    }
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../src/oci/digest.js';
import { S3BlobStore } from '../../../src/storage/s3-blob-store.js';
import { emptyPrefix, freshS3Settings, freshS3Store } from '../../support/s3-store.js';
import { describeBlobStore } from './blob-store-suite.js';

const MiB = 1024 * 1024;

// 5 MiB parts, two in flight and one being filled (15 MiB), sent as views of the request's own
// chunks (no copy): 15–33 MiB measured for 1 GiB, whatever the blob's size; the rest of the margin
// is a busy test worker's heap.
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

describe('S3BlobStore under many concurrent appends', () => {
  it('shares its part slots among them: one slot for six appends, every blob exact', async () => {
    const { store, close } = await freshS3Store({ totalPartsInFlight: 1 });
    try {
      const blobs = [0, 1, 2, 3, 4, 5].map((i) => randomBytes(11 * MiB + i * 4099));
      const stored = await Promise.all(
        blobs.map(async (bytes, i) => {
          let counter = 0;
          const reserve = async () => ++counter;
          const id = crypto.randomUUID();
          // Odd appends bring a chunk larger than two parts at once; even ones small chunks.
          const chunk = i % 2 === 1 ? bytes.length : 256 * 1024;
          const { state } = await store.append(id, await store.createUpload(id), (async function* () {
            for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
          })(), { reserve });
          const parsed = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
          if (!parsed.ok) throw new Error(parsed.reason);
          await store.commit(id, await store.seal(id, state, { reserve }), parsed.digest);
          return parsed.digest;
        }),
      );
      for (const [i, digest] of stored.entries()) {
        const reader = (await store.openReader(digest))!;
        const into = Buffer.alloc(blobs[i]!.length + 1);
        let filled = 0;
        for (let n = await reader.read(into.subarray(filled)); n > 0; n = await reader.read(into.subarray(filled))) filled += n;
        await reader.close();
        expect(into.subarray(0, filled).equals(blobs[i]!), `blob ${i}`).toBe(true);
      }
    } finally {
      await close();
    }
  }, 120_000);
});

describe('S3BlobStore on a connection that breaks', () => {
  it('sends a part again when its connection is reset mid-request (the SDK cannot resend a stream)', async () => {
    const settings = freshS3Settings();
    const upstream = new URL(settings.endpoint!);
    let resets = 0;
    // A loopback proxy to the real S3 server that cuts the first request for part 2.
    const proxy = createServer((client) => {
      const server = connect(Number(upstream.port), upstream.hostname);
      client.on('data', (data) => {
        if (resets === 0 && /^PUT [^ ]*partNumber=2&/m.test(data.toString('latin1', 0, 2048))) {
          resets += 1;
          client.destroy();
          server.destroy();
          return;
        }
        server.write(data);
      });
      server.on('data', (data) => client.write(data));
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    const store = await S3BlobStore.open({ ...settings, endpoint: `http://127.0.0.1:${port}` });
    try {
      const bytes = randomBytes(12 * MiB + 5);
      let counter = 0;
      const reserve = async () => ++counter;
      const id = crypto.randomUUID();
      const { state } = await store.append(id, await store.createUpload(id), (async function* () {
        for (let at = 0; at < bytes.length; at += MiB) yield bytes.subarray(at, at + MiB);
      })(), { reserve });
      expect(resets).toBe(1);
      const sealed = await store.seal(id, state, { reserve });
      const reread = createHash('sha256');
      for await (const part of await store.readUpload(id, sealed)) reread.update(part as Buffer);
      expect(reread.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      store.close();
      proxy.close();
      await emptyPrefix(settings);
    }
  }, 60_000);
});

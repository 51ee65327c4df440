import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOciError, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { uploadFiles } from '../support/storage.js';

describe('abandoned upload sessions', () => {
  let server: TestServer;
  let oci: OciClient;

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
  });
  afterAll(async () => server.close());

  it('are cancelled once idle for longer than the limit, with their staged bytes', async () => {
    const name = repoName('idle');
    const location = await oci.startUpload(name);
    const id = location.split('/').pop()!;
    const patch = await oci.fetch(location, { method: 'PATCH', headers: { 'content-range': '0-99' }, body: randomBlob(100) });
    expect(patch.status).toBe(202);
    expect(await uploadFiles(server)).toContain(id);

    // Not idle for an hour yet: kept.
    expect(await server.berth.registry.uploads.purgeIdle(3600_000)).toBe(0);
    expect((await oci.fetch(location)).status).toBe(204);

    await sleep(5);
    expect(await server.berth.registry.uploads.purgeIdle(1)).toBeGreaterThanOrEqual(1);
    await expectOciError(await oci.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    expect(await uploadFiles(server)).not.toContain(id);
  });
});

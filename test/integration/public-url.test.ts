import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth, ownerSession, registryApiFor } from '../support/iam.js';
import { digestOf, MT, OciClient, randomBlob } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseChallenge } from '../support/token-flow.js';

const PUBLIC = 'https://registry.example';

/**
 * BERTH_PUBLIC_URL names where clients reach the main listener's default region: its realm and
 * every Location it hands out are built from it, whatever Host or X-Forwarded-Host came. A region
 * on a listener of its own keeps URLs from the request (a token is good only in the region whose
 * realm issued it).
 */
describe('BERTH_PUBLIC_URL', () => {
  let server: TestServer;
  let oci: OciClient;
  const challengeOf = async (url: string, headers: Record<string, string> = {}) =>
    parseChallenge((await fetch(url, { headers })).headers.get('www-authenticate'));
  /** The path of a public Location, to follow it on the test server. */
  const pathOf = (location: string | null) => {
    expect(location?.startsWith(`${PUBLIC}/v2/`), location ?? 'no location').toBe(true);
    return location!.slice(PUBLIC.length);
  };

  beforeAll(async () => {
    server = await startTestServer({
      auth: 'iam',
      configure: (config) => {
        config.publicUrl = PUBLIC;
        config.trustedProxies = ['127.0.0.1'];
        config.regions = [{ name: 'us-south' }, { name: 'eu-de', port: 0 }];
      },
    });
    await addNamespaces(server, 'public');
    oci = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  it('puts the realm on the public URL, even behind a trusted proxy that names another host', async () => {
    expect((await challengeOf(`${server.url}/v2/`))?.realm).toBe(`${PUBLIC}/oauth/token`);
    const behindProxy = await challengeOf(`${server.url}/v2/public/app/tags/list`, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'inside.example' });
    expect(behindProxy).toEqual({ realm: `${PUBLIC}/oauth/token`, service: 'registry', scope: 'repository:public/app:pull' });
  });

  it('builds every Location from it: upload session, chunk, committed blob, single-request blob, mount and manifest', async () => {
    const start = await oci.fetch('/v2/public/app/blobs/uploads/', { method: 'POST' });
    expect(start.status).toBe(202);
    const session = pathOf(start.headers.get('location'));
    expect(session).toBe(`/v2/public/app/blobs/uploads/${start.headers.get('docker-upload-uuid')}`);

    const bytes = randomBlob(100);
    const patch = await oci.fetch(session, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(patch.status).toBe(202);
    const digest = digestOf(bytes);
    const put = await oci.fetch(`${pathOf(patch.headers.get('location'))}?digest=${digest}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`${PUBLIC}/v2/public/app/blobs/${digest}`);

    const config = randomBlob(20);
    const single = await oci.fetch(`/v2/public/app/blobs/uploads/?digest=${digestOf(config)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: config });
    expect(single.headers.get('location')).toBe(`${PUBLIC}/v2/public/app/blobs/${digestOf(config)}`);

    const mount = await oci.fetch(`/v2/public/copy/blobs/uploads/?mount=${digest}&from=public/app`, { method: 'POST' });
    expect(mount.status).toBe(201);
    expect(mount.headers.get('location')).toBe(`${PUBLIC}/v2/public/copy/blobs/${digest}`);

    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MT.ociLayer, digest, size: bytes.length }],
    });
    const pushed = await oci.putManifest('public/app', 'v1', manifest, MT.ociManifest);
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('location')).toBe(`${PUBLIC}/v2/public/app/manifests/${digestOf(manifest)}`);
    expect((await oci.fetch(pathOf(pushed.headers.get('location')))).status).toBe(200);
  });

  it('leaves a region with a listener of its own on the URL its clients reached', async () => {
    const region = server.regions['eu-de']!;
    expect((await challengeOf(`${region.url}/v2/`))?.realm).toBe(`${region.url}/oauth/token`);
    expect((await challengeOf(`${region.url}/v2/`, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'de.reg.example' }))?.realm).toBe('https://de.reg.example/oauth/token');
    const session = await ownerSession(server);
    await registryApiFor(region.url, server.url, server.berth.ownerApiKey!, session.accountId).createNamespace({ name: 'public-de' });
    const upload = await new OciClient(region.url, basicAuth(server.berth.ownerApiKey!)).fetch('/v2/public-de/app/blobs/uploads/', { method: 'POST' });
    expect(upload.status).toBe(202);
    expect(upload.headers.get('location')).toMatch(/^\/v2\/public-de\/app\/blobs\/uploads\/[^/]+$/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNamespaces, basicAuth, ownerSession, policyBody, registryToken } from '../support/iam.js';
import { digestOf, OciClient, randomBlob, type Descriptor } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseChallenge, TokenClient } from '../support/token-flow.js';

/**
 * A cross-repository mount through Docker token auth: the challenge names the source repository
 * too, so a client that asks exactly for the challenged scopes mounts (201) from a repository it
 * may pull, and from one it may not gets an ordinary upload (202) that says nothing of the blob.
 */
describe('cross-repository mount with registry tokens', () => {
  let server: TestServer;
  /** A service ID's key: Writer on team-a only. */
  let writer: string;
  let owner: string;
  let blob: Descriptor;

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam' });
    owner = basicAuth(server.berth.ownerApiKey!);
    await addNamespaces(server, 'team-a', 'team-b');
    const session = await ownerSession(server);
    const sid = (await session.sdk.identity.createServiceId({ accountId: session.accountId, name: 'writer', apikey: { name: 'writer-key' } })).result;
    const attributes = { serviceName: 'container-registry', resourceType: 'namespace', resource: 'team-a' };
    await session.sdk.policies.createPolicy(policyBody(sid.iam_id, session.accountId, ['Writer'], attributes) as never);
    writer = basicAuth(sid.apikey!.apikey);
    const ownerOci = new OciClient(server.url, owner);
    const bytes = randomBlob(128);
    blob = await ownerOci.pushBlob('team-a/src', bytes);
    await ownerOci.pushBlob('team-b/src', bytes);
  });
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  const mountPath = (target: string, from: string, digest = blob.digest) => `/v2/${target}/blobs/uploads/?mount=${digest}&from=${from}`;
  const post = { method: 'POST' } as const;

  /** What a caller learns from a mount answer, with the upload id and the names taken out. */
  async function seen(response: Response, ...names: string[]) {
    const id = response.headers.get('docker-upload-uuid') ?? '<none>';
    const strip = (text: string | null) => names.reduce((value, name) => value.replaceAll(name, '<name>'), (text ?? '').replaceAll(id, '<id>'));
    return {
      status: response.status,
      location: strip(response.headers.get('location')),
      range: response.headers.get('range'),
      digest: response.headers.get('docker-content-digest'),
      body: strip(await response.text()),
    };
  }

  it('challenges a mount for pull on its source beside push on the target', async () => {
    const challenge = async (path: string) => parseChallenge((await fetch(`${server.url}${path}`, post)).headers.get('www-authenticate'))!.scope;
    expect(await challenge(mountPath('team-a/copy', 'team-a/src'))).toBe('repository:team-a/copy:pull,push repository:team-a/src:pull');
    // Nothing to mount from, or from itself: the target's scope alone.
    expect(await challenge(`/v2/team-a/copy/blobs/uploads/?mount=${blob.digest}`)).toBe('repository:team-a/copy:pull,push');
    expect(await challenge(mountPath('team-a/copy', 'team-a/copy'))).toBe('repository:team-a/copy:pull,push');
    expect(await challenge(mountPath('team-a/copy', 'Not..Valid'))).toBe('repository:team-a/copy:pull,push');
    expect(await challenge('/v2/team-a/copy/blobs/uploads/?from=team-a/src')).toBe('repository:team-a/copy:pull,push');
  });

  it('a token client asking exactly the challenged scopes mounts from a repository it may pull: 201', async () => {
    const client = new TokenClient(server.url, writer);
    const response = await client.fetch(mountPath('team-a/copy-1', 'team-a/src'), post);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/team-a/copy-1/blobs/${blob.digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(blob.digest);
    expect(client.challenges.map((c) => c.scope)).toEqual(['repository:team-a/copy-1:pull,push repository:team-a/src:pull']);
    expect((await client.fetch(`/v2/team-a/copy-1/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('from a repository it may not pull, it gets a 202 upload exactly as for one that does not exist', async () => {
    const answers = [];
    for (const from of ['team-b/src', 'team-b/nothing', 'no-such-ns/src']) {
      const target = `team-a/copy-${from.replace('/', '-')}`;
      const client = new TokenClient(server.url, writer);
      const response = await client.fetch(mountPath(target, from), post);
      answers.push({ ...(await seen(response, target, from)), challenges: client.challenges.map((c) => c.scope!.replaceAll(target, '<t>').replaceAll(from, '<f>')) });
      // The fallback session is real, and the blob did not arrive.
      expect((await client.fetch(response.headers.get('location')!)).status).toBe(204);
      expect((await client.fetch(`/v2/${target}/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
    }
    expect(answers[0]).toMatchObject({ status: 202, range: '0-0', digest: null, challenges: ['repository:<t>:pull,push repository:<f>:pull'] });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // And the owner, who may pull team-b/src, mounts it the same way: the comparison is not vacuous.
    expect((await new TokenClient(server.url, owner).fetch(mountPath('team-a/copy-by-owner', 'team-b/src'), post)).status).toBe(201);
  });

  it('a token that never asked for the source is told to ask (insufficient_scope naming both), whether or not it may pull there', async () => {
    for (const from of ['team-a/src', 'team-b/src', 'team-b/nothing']) {
      const { body } = await registryToken(server.url, writer, ['repository:team-a/copy-2:pull,push']);
      const response = await fetch(`${server.url}${mountPath('team-a/copy-2', from)}`, { ...post, headers: { authorization: `Bearer ${body.token}` } });
      expect(response.status, from).toBe(401);
      expect(parseChallenge(response.headers.get('www-authenticate'))).toMatchObject({
        scope: `repository:team-a/copy-2:pull,push repository:${from}:pull`,
        error: 'insufficient_scope',
      });
    }
    // A plain upload with that token needs nothing more.
    const { body } = await registryToken(server.url, writer, ['repository:team-a/copy-2:pull,push']);
    const upload = await fetch(`${server.url}/v2/team-a/copy-2/blobs/uploads/`, { ...post, headers: { authorization: `Bearer ${body.token}` } });
    expect(upload.status).toBe(202);
  });

  it('with the token it then asks for, the mount answers 201 (or the 202 fallback when refused)', async () => {
    const client = new TokenClient(server.url, writer);
    expect((await client.fetch('/v2/team-a/copy-3/blobs/uploads/', post)).status).toBe(202);
    expect((await client.fetch(mountPath('team-a/copy-3', 'team-a/src'), post)).status).toBe(201);
    expect((await client.fetch(mountPath('team-a/copy-3', 'team-b/src'), post)).status).toBe(202);
    expect(client.challenges.map((c) => [c.scope, c.error])).toEqual([
      ['repository:team-a/copy-3:pull,push', undefined],
      ['repository:team-a/copy-3:pull,push repository:team-a/src:pull', 'insufficient_scope'],
      ['repository:team-a/copy-3:pull,push repository:team-b/src:pull', 'insufficient_scope'],
    ]);
  });

  it('Basic credentials (no token) mount by their policies: 201 where they may pull, 202 elsewhere', async () => {
    const oci = new OciClient(server.url, writer);
    expect((await oci.fetch(mountPath('team-a/copy-4', 'team-a/src'), post)).status).toBe(201);
    expect((await oci.fetch(mountPath('team-a/copy-5', 'team-b/src'), post)).status).toBe(202);
    expect((await oci.fetch(mountPath('team-a/copy-5', 'team-a/src', digestOf(randomBlob())), post)).status).toBe(202);
  });
});

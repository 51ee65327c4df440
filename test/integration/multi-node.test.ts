import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_KEY_FILE } from '../../src/iam/bootstrap.js';
import { createS3Client, type S3Settings } from '../../src/storage/s3-client.js';
import { describeProcess, killRunning, killServe, logLines, startServe, stopServe, type BerthProcess } from '../support/berth-process.js';
import { testDatabaseUrl } from '../support/database.js';
import { basicAuth, registryToken, tokenFor } from '../support/iam.js';
import { digestOf, expectOciError, imageManifest, MT, OciClient, randomBlob, type Bytes } from '../support/oci-client.js';
import { requireTestS3, type TestS3 } from '../support/s3.js';
import { emptyPrefix, freshS3Settings } from '../support/s3-store.js';

/**
 * Scale-out as DESIGN.md describes it: two `berth serve` processes on one PostgreSQL database and
 * one S3 prefix, each with a data folder of its own. Whatever one node records, the other must
 * carry on from: upload sessions, registry tokens, revocations — also when a node dies mid-chunk
 * or both write to one upload at once.
 */

const MiB = 1024 * 1024;

let s3: TestS3;
let settings: S3Settings;
let databaseName: string;
let tempRoot: string;
let env: Record<string, string>;
const dataDirs: string[] = [];
/** node[0] is "node 1", node[1] "node 2"; node 1 is replaced when it is restarted. */
const node: BerthProcess[] = [];
/** Every process started, also those killed: their logs are checked at the end. */
const everyProcess: BerthProcess[] = [];
let ownerKey: string;
let namespace: string;

function adminClient(): pg.Client {
  return new pg.Client({ connectionString: testDatabaseUrl() });
}

async function startNode(index: 0 | 1): Promise<BerthProcess> {
  const proc = await startServe(dataDirs[index]!, env);
  node[index] = proc;
  everyProcess.push(proc);
  return proc;
}

/** Registry credentials as docker sends them after a login: a Bearer token from one node's /oauth/token. */
async function registryBearer(from: BerthProcess, repository: string, actions = 'pull,push'): Promise<string> {
  const { status, body } = await registryToken(from.url, basicAuth(ownerKey), [`repository:${repository}:${actions}`]);
  expect(status, JSON.stringify(body)).toBe(200);
  return `Bearer ${body.token}`;
}

/** The upload URL a Location path names, with `query` added. */
function withQuery(location: string, query: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${query}`;
}

function patchChunk(client: OciClient, location: string, chunk: Bytes, offset: number): Promise<Response> {
  return client.fetch(location, {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
    body: chunk,
  });
}

/** A blob's bytes through the node, following its redirect to the object store. */
async function pullBlob(client: OciClient, repository: string, digest: string): Promise<Buffer> {
  const response = await client.fetch(`/v2/${repository}/blobs/${digest}`);
  expect(response.status, `GET ${digest} on ${client.baseUrl}`).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

function uploadId(location: string): string {
  return location.split('?')[0]!.split('/').pop()!;
}

/** What a node logged as failed (level error and above), shortly: for assertion messages. */
function failures(proc: BerthProcess): string {
  return logLines(proc)
    .filter((line) => Number(line.level) >= 50)
    .map((line) => {
      const err = line.err as { name?: string; message?: string } | undefined;
      return `[${String(line.reqId)} ${String(line.msg)}: ${err?.name ?? ''} ${err?.message ?? ''}]`;
    })
    .join(' ');
}

/** Request log lines with a 5xx status, of every node that ran. */
function serverErrors(): string[] {
  return everyProcess.flatMap((proc) =>
    logLines(proc)
      .filter((line) => line.msg === 'request' && Number(line.status) >= 500)
      .map((line) => `${proc.url} ${String(line.method)} ${String(line.url)} ${String(line.status)}`),
  );
}

beforeAll(async () => {
  s3 = requireTestS3();
  settings = freshS3Settings();
  databaseName = `berth_mn_${randomBytes(6).toString('hex')}`;
  const admin = adminClient();
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${databaseName}`);
  } finally {
    await admin.end();
  }
  const databaseUrl = new URL(testDatabaseUrl());
  databaseUrl.pathname = `/${databaseName}`;
  tempRoot = await mkdtemp(join(tmpdir(), 'berth-multi-node-'));
  dataDirs.push(await mkdtemp(join(tempRoot, 'node1-')), await mkdtemp(join(tempRoot, 'node2-')));
  env = {
    BERTH_DATABASE_URL: databaseUrl.toString(),
    BERTH_SECRET: randomBytes(32).toString('base64url'),
    BERTH_GC_INTERVAL: '0',
    BERTH_STORAGE: 's3',
    BERTH_S3_ENDPOINT: s3.endpoint,
    BERTH_S3_BUCKET: settings.bucket,
    BERTH_S3_REGION: settings.region,
    BERTH_S3_PREFIX: settings.prefix,
    BERTH_S3_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  // Node 1 sets up the database (migrations, the owner); node 2 finds it done.
  await startNode(0);
  await startNode(1);
  ownerKey = readFileSync(join(dataDirs[0]!, OWNER_KEY_FILE), 'utf8').trim();
  expect(node[0]!.stderr()).toContain(ownerKey);
  expect(existsSync(join(dataDirs[1]!, OWNER_KEY_FILE)), 'node 2 made an owner of its own').toBe(false);

  const iam = await tokenFor(node[0]!, ownerKey);
  const claims = JSON.parse(Buffer.from(iam.split('.')[1]!, 'base64url').toString()) as { account: { bss: string } };
  namespace = `mn-${randomBytes(3).toString('hex')}`;
  const created = await fetch(`${node[0]!.url}/api/v1/namespaces/${namespace}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${iam}`, account: claims.account.bss },
  });
  expect(created.status, await created.text()).toBe(201);
});

afterAll(async () => {
  await Promise.all(node.map((proc) => stopServe(proc)));
  await killRunning();
  // Read once they have exited: their last log lines are out then.
  const errors = serverErrors();
  if (databaseName) {
    const admin = adminClient();
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  if (settings) await emptyPrefix(settings);
  if (tempRoot) await rm(tempRoot, { recursive: true, force: true });
  expect(errors, everyProcess.map(failures).join('\n')).toEqual([]);
});

describe('two nodes on one database and one bucket', () => {
  it('carries a chunked upload that alternates between the nodes, and serves it from either', async () => {
    const repository = `${namespace}/chunked`;
    const authorization = await registryBearer(node[0]!, repository);
    const [one, two] = [new OciClient(node[0]!.url, authorization), new OciClient(node[1]!.url, authorization)];
    // Above a part, tiny, just above a part, on node 2, 1, 2; the PUT on node 1 brings a last chunk.
    const chunks = [randomBlob(7 * MiB + 3), randomBlob(100), randomBlob(5 * MiB + 1)];
    const last = randomBlob(MiB + 5);
    const blob = Buffer.concat([...chunks, last]);
    const digest = digestOf(blob);

    let location = await one.startUpload(repository);
    expect(location).toMatch(/^\/v2\//);
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      const client = i % 2 === 0 ? two : one;
      const response = await patchChunk(client, location, chunk, offset);
      expect(response.status, `chunk ${i} on ${client.baseUrl}: ${await response.clone().text()}`).toBe(202);
      offset += chunk.length;
      expect(response.headers.get('range')).toBe(`0-${offset - 1}`);
      location = response.headers.get('location')!;
    }
    const status = await two.fetch(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${offset - 1}`);

    const done = await one.fetch(withQuery(location, `digest=${digest}`), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${blob.length - 1}` },
      body: last,
    });
    expect(done.status, await done.clone().text()).toBe(201);
    expect(done.headers.get('docker-content-digest')).toBe(digest);

    const redirect = await two.fetch(`/v2/${repository}/blobs/${digest}`, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toMatch(new RegExp(`^${s3.endpoint}/.*X-Amz-Signature=`));
    expect((await pullBlob(two, repository, digest)).equals(blob)).toBe(true);

    // Across the chunk boundaries 7 MiB+3 and 7 MiB+103, and the first part's end at 5 MiB.
    const [start, end] = [5 * MiB - 10, 7 * MiB + 110];
    const part = await two.fetch(`/v2/${repository}/blobs/${digest}`, { headers: { range: `bytes=${start}-${end}` } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes ${start}-${end}/${blob.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(blob.subarray(start, end + 1))).toBe(true);
  });

  it('accepts on one node the registry tokens the other issued, with exactly their access', async () => {
    const repository = `${namespace}/token-image`;
    const fromOne = await registryBearer(node[0]!, repository);
    const pushOnTwo = new OciClient(node[1]!.url, fromOne);
    // Not vacuous: node 2 wants credentials, and reads what the token grants.
    expect((await fetch(`${node[1]!.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' })).status).toBe(401);
    const pullOnly = await registryBearer(node[0]!, repository, 'pull');
    expect((await fetch(`${node[1]!.url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { authorization: pullOnly } })).status).toBe(401);

    const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed: randomBytes(8).toString('hex') }));
    const config = await pushOnTwo.pushBlob(repository, configBytes, MT.ociConfig);
    const layerBytes = randomBlob(2 * MiB + 7);
    const layer = await pushOnTwo.pushBlob(repository, layerBytes, MT.ociLayer);
    const manifestBytes = Buffer.from(JSON.stringify(imageManifest({ config, layers: [layer] })));
    const manifest = await pushOnTwo.pushManifest(repository, 'v1', manifestBytes, MT.ociManifest);

    // And the other way round: a pull token from node 2, used on node 1.
    const pullOnOne = new OciClient(node[0]!.url, await registryBearer(node[1]!, repository, 'pull'));
    const pulled = await pullOnOne.fetch(`/v2/${repository}/manifests/v1`, { headers: { accept: MT.ociManifest } });
    expect(pulled.status).toBe(200);
    expect(pulled.headers.get('docker-content-digest')).toBe(manifest.digest);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(manifestBytes)).toBe(true);
    expect((await pullBlob(pullOnOne, repository, layer.digest)).equals(layerBytes)).toBe(true);
    expect((await pullBlob(pullOnOne, repository, config.digest)).equals(configBytes)).toBe(true);
  });

  it('refuses on node 2 at once an API key deleted or disabled on node 1', async () => {
    const iam = await tokenFor(node[0]!, ownerKey);
    const ownerIamId = (JSON.parse(Buffer.from(iam.split('.')[1]!, 'base64url').toString()) as { iam_id: string }).iam_id;
    const bearer = { authorization: `Bearer ${iam}` };
    const createKey = async (name: string) => {
      const created = await fetch(`${node[0]!.url}/v1/apikeys`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ name, iam_id: ownerIamId }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      return (await created.json()) as { id: string; apikey: string };
    };
    const iamGrant = (apikey: string, headers: Record<string, string> = {}) =>
      fetch(`${node[1]!.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }).toString(),
      });
    const refresh = (refreshToken: string) =>
      fetch(`${node[1]!.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('bx', 'bx') },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
      });
    const expectIamError = async (response: Response, errorCode: string) => {
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { errorCode: string; errorMessage: string; context: { requestId: string } };
      expect(body.errorCode).toBe(errorCode);
      expect(body.errorMessage.length).toBeGreaterThan(0);
      expect(body.context.requestId).toBeTruthy();
    };

    const deleted = await createKey('deleted-on-node-1');
    const disabled = await createKey('disabled-on-node-1');
    // Before: both keys work on node 2, for a registry login, an IAM token and the CLI's session.
    const sessions: Record<string, string> = {};
    for (const key of [deleted, disabled]) {
      expect((await registryToken(node[1]!.url, basicAuth(key.apikey))).status).toBe(200);
      expect((await fetch(`${node[1]!.url}/v2/`, { headers: { authorization: basicAuth(key.apikey) } })).status).toBe(200);
      const login = await iamGrant(key.apikey, { authorization: basicAuth('bx', 'bx') });
      expect(login.status).toBe(200);
      sessions[key.id] = ((await login.json()) as { refresh_token: string }).refresh_token;
    }

    expect((await fetch(`${node[0]!.url}/v1/apikeys/${deleted.id}`, { method: 'DELETE', headers: bearer })).status).toBe(204);
    expect((await fetch(`${node[0]!.url}/v1/apikeys/${disabled.id}/disable`, { method: 'POST', headers: bearer })).status).toBe(204);

    // After: refused on node 2 with no delay, whichever way the key is used.
    for (const key of [deleted, disabled]) {
      const login = await registryToken(node[1]!.url, basicAuth(key.apikey));
      expect(login.status, key.id).toBe(401);
      expect(login.body.errors?.[0]?.code).toBe('UNAUTHORIZED');
      await expectOciError(await fetch(`${node[1]!.url}/v2/`, { headers: { authorization: basicAuth(key.apikey) } }), 401, 'UNAUTHORIZED');
      await expectIamError(await iamGrant(key.apikey), 'BXNIM0415E');
      await expectIamError(await refresh(sessions[key.id]!), 'BXNIM0407E');
    }
    // The owner's own key, untouched, still works there.
    expect((await registryToken(node[1]!.url, basicAuth(ownerKey))).status).toBe(200);
  });

  it('lets exactly one of two PATCHes at one offset from both nodes win, and commits only its bytes', async () => {
    const repository = `${namespace}/race`;
    const authorization = await registryBearer(node[0]!, repository);
    const clients = [new OciClient(node[0]!.url, authorization), new OciClient(node[1]!.url, authorization)] as const;
    const races = 6;
    let overlapped = 0;
    for (let race = 0; race < races; race++) {
      // Less than a part first (each racer starts a multipart upload of its own), then more than a
      // part (both racers add parts to the one the first chunk started).
      const first = randomBlob(race < races / 2 ? MiB + 7 : 5 * MiB + 7);
      const bodies = [randomBlob(6 * MiB), randomBlob(6 * MiB)] as const;
      const location = await clients[race % 2]!.startUpload(repository);
      const started = await patchChunk(clients[(race + 1) % 2]!, location, first, 0);
      expect(started.status).toBe(202);

      const answers = await Promise.all(bodies.map((body, i) => patchChunk(clients[i]!, location, body, first.length)));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 202), `race ${race}: ${statuses.join(', ')}`).toHaveLength(1);
      const winner = statuses.indexOf(202);
      const loser = 1 - winner;
      const size = first.length + bodies[winner]!.length;
      expect(answers[winner]!.headers.get('range')).toBe(`0-${size - 1}`);
      const lost = await expectOciError(answers[loser]!, 416, 'BLOB_UPLOAD_INVALID');
      expect(answers[loser]!.headers.get('range'), `race ${race}: ${JSON.stringify(lost)}`).toBe(`0-${size - 1}`);
      // "meanwhile": the loser had begun before the winner recorded; else the range check caught it.
      if (/meanwhile/.test(String(lost.detail))) overlapped += 1;

      const status = await clients[loser]!.fetch(location);
      expect(status.headers.get('range')).toBe(`0-${size - 1}`);
      const winnerDigest = digestOf(Buffer.concat([first, bodies[winner]!]));
      const loserDigest = digestOf(Buffer.concat([first, bodies[loser]!]));
      const completer = clients[race % 2]!;
      if (race % 2 === 0) {
        const done = await completer.fetch(withQuery(location, `digest=${winnerDigest}`), { method: 'PUT' });
        expect(done.status, `race ${race}: ${await done.clone().text()} ${failures(node[race % 2]!)}`).toBe(201);
        const pulled = await pullBlob(clients[(race + 1) % 2]!, repository, winnerDigest);
        expect(pulled.equals(Buffer.concat([first, bodies[winner]!]))).toBe(true);
      } else {
        // Completing with the loser's bytes' digest: refused, and no blob under either digest.
        const refused = await completer.fetch(withQuery(location, `digest=${loserDigest}`), { method: 'PUT' });
        expect(refused.status, `race ${race}: ${await refused.clone().text()} ${failures(node[race % 2]!)}`).toBe(400);
        await expectOciError(refused, 400, 'DIGEST_INVALID');
        for (const client of clients) {
          for (const digest of [loserDigest, winnerDigest]) {
            expect((await client.fetch(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD', redirect: 'manual' })).status).toBe(404);
          }
        }
      }
    }
    console.log(`multi-node race: ${overlapped} of ${races} losers had begun before the winner recorded its chunk`);
  });

  it('carries on, on node 2, an upload whose node was killed mid-chunk', async () => {
    const repository = `${namespace}/killed`;
    const authorization = await registryBearer(node[0]!, repository);
    const one = new OciClient(node[0]!.url, authorization);
    const two = new OciClient(node[1]!.url, authorization);
    // A whole part and a tail: the killed chunk's parts go into the multipart upload the recorded
    // chunk started, the one the completion assembles the blob from.
    const recorded = randomBlob(8 * MiB + 11);
    const location = await one.startUpload(repository);
    const first = await patchChunk(one, location, recorded, 0);
    expect(first.status).toBe(202);

    const client = createS3Client(settings);
    const partsOnStore = async (): Promise<number> => {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: `${settings.prefix}uploads/${uploadId(location)}/` }));
      let parts = 0;
      for (const upload of uploads.Uploads ?? []) {
        const listed = await client.send(new ListPartsCommand({ Bucket: settings.bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
        parts += listed.Parts?.length ?? 0;
      }
      return parts;
    };
    let stream!: ClientRequest;
    try {
      expect(await partsOnStore()).toBe(1);
      // A streamed PATCH (no length, no range) that sends 12 MiB and then waits.
      const dropped = randomBlob(12 * MiB);
      const failed = new Promise<Error>((done, fail) => {
        stream = httpRequest(`${node[0]!.url}${location}`, {
          method: 'PATCH',
          headers: { authorization, 'content-type': 'application/octet-stream' },
        });
        stream.on('error', done).on('response', (response) => fail(new Error(`the killed PATCH was answered ${response.statusCode}`)));
      });
      for (let sent = 0; sent < dropped.length; sent += MiB) {
        if (!stream.write(dropped.subarray(sent, sent + MiB))) await new Promise((done) => stream.once('drain', done));
      }
      // The bytes reached the store: node 1 wrote a part of the killed chunk beside the recorded one.
      const deadline = Date.now() + 15_000;
      while ((await partsOnStore()) < 2) {
        if (Date.now() > deadline) throw new Error(`node 1 wrote no part of the streamed chunk\n${describeProcess(node[0]!)}`);
        await new Promise((done) => setTimeout(done, 100));
      }
      expect(await killServe(node[0]!)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await failed).toBeInstanceOf(Error);
    } finally {
      stream?.destroy();
      client.destroy();
    }

    // Node 2 sees only what was recorded, and takes the rest from there.
    const status = await two.fetch(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${recorded.length - 1}`);
    const rest = randomBlob(7 * MiB + 5);
    const blob = Buffer.concat([recorded, rest]);
    const digest = digestOf(blob);
    const patched = await patchChunk(two, status.headers.get('location') ?? location, rest, recorded.length);
    expect(patched.status, await patched.clone().text()).toBe(202);
    expect(patched.headers.get('range')).toBe(`0-${blob.length - 1}`);
    const done = await two.fetch(withQuery(location, `digest=${digest}`), { method: 'PUT' });
    expect(done.status, `${await done.clone().text()} ${failures(node[1]!)}`).toBe(201);
    expect((await pullBlob(two, repository, digest)).equals(blob)).toBe(true);

    // Node 1 comes back on its data folder, and serves the blob too.
    const again = await startNode(0);
    expect(again.stderr()).not.toContain(ownerKey);
    expect((await pullBlob(new OciClient(again.url, authorization), repository, digest)).equals(blob)).toBe(true);
  });
});

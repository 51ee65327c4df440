import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeProcess, freePort, killRunning, logLines, spawnBerth, startServe, stopServe, until, waitHealthy, type BerthProcess } from '../support/berth-process.js';

/**
 * `berth serve` as a real process: what a container runtime or systemd sees. The embedded SQLite
 * default is what `serve` is about, so these tests do not follow BERTH_TEST_DB.
 */

/** The owner key of a data folder as registry credentials (`iamapikey`, sent as HTTP Basic). */
function ownerBasic(dataDir: string): string {
  const key = readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
  return `Basic ${Buffer.from(`iamapikey:${key}`).toString('base64')}`;
}

/** Creates a namespace through the management API, as the owner. */
async function addNamespace(proc: BerthProcess, dataDir: string, name: string): Promise<void> {
  const key = readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
  const grant = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: key });
  const token = ((await (await fetch(`${proc.url}/identity/token`, { method: 'POST', body: grant })).json()) as { access_token: string }).access_token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { account: { bss: string } };
  const created = await fetch(`${proc.url}/api/v1/namespaces/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, account: claims.account.bss } });
  expect(created.status).toBe(201);
}

let tempRoot: string;
beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'berth-serve-'));
});
// A failed test must not leave a server behind.
afterEach(killRunning);
afterAll(async () => rm(tempRoot, { recursive: true, force: true }));

async function freshDataDir(): Promise<string> {
  return mkdtemp(join(tempRoot, 'data-'));
}

describe('berth serve (process)', () => {
  it('starts on --port with --data and answers /healthz', async () => {
    const dataDir = await freshDataDir();
    const proc = await startServe(dataDir);
    const response = await fetch(`${proc.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await stat(join(dataDir, 'berth.db'))).isFile()).toBe(true);
    expect(await stopServe(proc)).toEqual({ code: 0, signal: null });
  });

  it('prints the owner API key once, to the terminal and never to the log, and writes it to owner-apikey', async () => {
    const dataDir = await freshDataDir();
    const first = await startServe(dataDir);
    await stopServe(first);
    const key = readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.stderr()).toContain(key);
    expect(first.stdout()).not.toContain(key);
    const second = await startServe(dataDir);
    await stopServe(second);
    expect(second.stderr()).not.toContain(key);
  });

  it('berth keys rotate publishes a new signing key beside the old one', async () => {
    const dataDir = await freshDataDir();
    const server = await startServe(dataDir);
    try {
      const key = readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
      const grant = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: key });
      const token = ((await (await fetch(`${server.url}/identity/token`, { method: 'POST', body: grant })).json()) as { access_token: string }).access_token;
      const oldKid = (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
      const rotate = spawnBerth(['keys', 'rotate', '--data', dataDir]);
      expect((await rotate.exited).code, describeProcess(rotate)).toBe(0);
      const newKid = /new signing key (\S+)/.exec(rotate.stdout())?.[1];
      expect(newKid).toBeTruthy();
      const jwks = (await (await fetch(`${server.url}/identity/keys`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    } finally {
      await stopServe(server);
    }
  });

  it('operators create accounts and users whose API keys get tokens from the running server', async () => {
    const dataDir = await freshDataDir();
    const server = await startServe(dataDir);
    try {
      const keyFile = join(dataDir, 'team-a.key');
      const account = spawnBerth(['accounts', 'create', 'team-a', '--owner-email', 'lead@example.com', '--data', dataDir, '--file', keyFile]);
      expect((await account.exited).code, describeProcess(account)).toBe(0);
      const accountId = /account ([a-f0-9]{32})/.exec(account.stdout())?.[1];
      expect(accountId).toBeTruthy();
      const ownerKey = readFileSync(keyFile, 'utf8').trim();
      expect(account.stdout()).not.toContain(ownerKey);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

      const user = spawnBerth(['users', 'create', 'dev@example.com', '--account', accountId!, '--data', dataDir]);
      expect((await user.exited).code, describeProcess(user)).toBe(0);
      const userKey = /API key \(shown once, keep it safe\): (\S+)/.exec(user.stdout())?.[1];
      const userIamId = /user (BERTHid-\S+)/.exec(user.stdout())?.[1];
      for (const [key, iamId] of [[ownerKey, undefined], [userKey!, userIamId]] as const) {
        const grant = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: key });
        const response = await fetch(`${server.url}/identity/token`, { method: 'POST', body: grant });
        expect(response.status).toBe(200);
        const token = ((await response.json()) as { access_token: string }).access_token;
        const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { account: { bss: string }; iam_id: string };
        expect(claims.account.bss).toBe(accountId);
        if (iamId) expect(claims.iam_id).toBe(iamId);
      }

      const bad = spawnBerth(['users', 'create', 'x@example.com', '--account', 'nope', '--data', dataDir]);
      expect((await bad.exited).code).toBe(1);
      expect(bad.stderr().trim().split('\n')).toEqual(['berth: no account nope']);
    } finally {
      await stopServe(server);
    }
  });

  it('refuses to start with one line when its blob store or shared secret is wrong', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      // On PostgreSQL, a secret from the data folder would hash keys no other node can look up.
      [{ BERTH_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, /^berth: .*BERTH_SECRET must be set on PostgreSQL/],
      [{ BERTH_STORAGE: 's3', BERTH_S3_BUCKET: 'blobs', BERTH_S3_ENDPOINT: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, /^berth: BERTH_S3_ENDPOINT: cannot reach http:\/\/127\.0\.0\.1:9/],
      [{ BERTH_STORAGE: 'gcs' }, /^berth: invalid configuration: BERTH_STORAGE must be fs or s3, got "gcs"$/],
    ];
    for (const [env, message] of cases) {
      const proc = spawnBerth(['serve', '--data', await freshDataDir(), '--port', '0'], env);
      expect((await proc.exited).code, describeProcess(proc)).toBe(1);
      const lines = proc.stderr().trim().split('\n');
      expect(lines, describeProcess(proc)).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  });

  it('takes BERTH_PORT and BERTH_DATA from the environment', async () => {
    const dataDir = join(await freshDataDir(), 'from-env');
    const port = await freePort();
    const proc = spawnBerth(['serve'], { BERTH_PORT: String(port), BERTH_DATA: dataDir }, port);
    await waitHealthy(proc);
    expect((await stat(join(dataDir, 'berth.db'))).isFile()).toBe(true);
    expect(await stopServe(proc)).toEqual({ code: 0, signal: null });
  });

  it('reads --config, lets a flag override it, and names version, config, data, database, storage and listeners at start', async () => {
    const folder = await freshDataDir();
    const [port, euPort] = [await freePort(), await freePort()];
    const configFile = join(folder, 'berth.yaml');
    await writeFile(configFile, [`port: ${await freePort()}`, 'data: ./served', 'regions:', '  - us-south', `  - {name: eu-de, port: ${euPort}}`].join('\n'));
    const proc = spawnBerth(['serve', '--config', configFile, '--port', String(port)], {}, port);
    await waitHealthy(proc);
    const started = logLines(proc).find((line) => line.msg === 'berth started');
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(started).toMatchObject({
      version,
      config: configFile,
      data: join(folder, 'served'),
      database: `sqlite ${join(folder, 'served', 'berth.db')}`,
      storage: `fs ${join(folder, 'served', 'blobs')}`,
      listeners: expect.arrayContaining([`us-south http://127.0.0.1:${port}`, `eu-de http://127.0.0.1:${euPort}`]),
    });
    expect((await fetch(`http://127.0.0.1:${euPort}/healthz`)).status).toBe(200);
    expect(await stopServe(proc)).toEqual({ code: 0, signal: null });
  });

  it('refuses a config file with an unknown key in one line naming it', async () => {
    const configFile = join(await freshDataDir(), 'berth.yaml');
    await writeFile(configFile, 'prot: 5000\n');
    const proc = spawnBerth(['serve', '--config', configFile]);
    expect((await proc.exited).code).toBe(1);
    expect(proc.stderr().trim().split('\n')).toEqual([`berth: invalid configuration: unknown setting "prot" in ${configFile} (did you mean port?)`]);
  });

  it('logs one JSON line per request, without credentials', async () => {
    const proc = await startServe(await freshDataDir());
    const authorization = 'Basic c2VjcmV0OnNlY3JldA==';
    const response = await fetch(`${proc.url}/v2/?password=hunter2&n=5`, { headers: { authorization } });
    await response.arrayBuffer();
    const missing = await fetch(`${proc.url}/v2/no/such/manifests/latest?token=tok3n`, { headers: { authorization } });
    await missing.arrayBuffer();

    const requests = await until('two request log lines', () => {
      // The /healthz polls of the start-up may still be arriving: only /v2 lines count.
      const lines = logLines(proc).filter((line) => line.msg === 'request' && String(line.url).startsWith('/v2/'));
      return lines.length >= 2 ? lines : undefined;
    });
    await stopServe(proc);

    expect(requests).toHaveLength(2);
    // Not a username Berth knows: both are refused, and logged without the credentials.
    expect(requests[0]).toMatchObject({ method: 'GET', status: 401 });
    expect(requests[0]!.url).toMatch(/^\/v2\/\?/);
    expect(new URLSearchParams(String(requests[0]!.url).split('?')[1]).get('n')).toBe('5');
    expect(requests[1]).toMatchObject({ method: 'GET', url: expect.stringMatching(/^\/v2\/no\/such\/manifests\/latest/), status: 401 });
    const everything = proc.stdout() + proc.stderr();
    for (const secret of ['hunter2', 'tok3n', 'c2VjcmV0OnNlY3JldA==', 'secret:secret']) {
      expect(everything, `log contains ${secret}`).not.toContain(secret);
    }
  });

  it('finishes a slow chunk on SIGTERM, exits 0, and keeps the upload across a restart', async () => {
    const dataDir = await freshDataDir();
    const proc = await startServe(dataDir);
    await addNamespace(proc, dataDir, 'slow-lane');
    const authorization = ownerBasic(dataDir);
    const started = await fetch(`${proc.url}/v2/slow-lane/upload/blobs/uploads/`, { method: 'POST', headers: { authorization } });
    expect(started.status).toBe(202);
    const location = started.headers.get('location')!;
    expect(location).toMatch(/^\/v2\/slow-lane\/upload\/blobs\/uploads\/.+/);

    const chunk = randomBytes(256 * 1024);
    const rest = randomBytes(1000);
    // A keep-alive agent, as real clients use: its idle socket must not hold the shutdown open.
    const agent = new Agent({ keepAlive: true });
    let patch!: ClientRequest;
    const answered = new Promise<IncomingMessage>((done, fail) => {
      patch = httpRequest(`${proc.url}${location}`, {
        method: 'PATCH',
        agent,
        headers: {
          authorization,
          'content-type': 'application/octet-stream',
          'content-length': chunk.length,
          'content-range': `0-${chunk.length - 1}`,
        },
      });
      patch.on('response', done).on('error', fail);
    });
    patch.write(chunk.subarray(0, 1000));
    // Let the server take the request in before it is told to stop.
    await new Promise((done) => setTimeout(done, 500));
    proc.child.kill('SIGTERM');
    await new Promise((done) => setTimeout(done, 1000));
    expect(proc.child.exitCode, 'exited with a request in flight').toBeNull();
    patch.write(chunk.subarray(1000, 100_000));
    await new Promise((done) => setTimeout(done, 300));
    patch.end(chunk.subarray(100_000));

    const response = await answered;
    response.resume();
    expect(response.statusCode).toBe(202);
    expect(response.headers.range).toBe(`0-${chunk.length - 1}`);
    expect(response.headers.connection).toBe('close');
    const exit = await Promise.race([
      proc.exited,
      new Promise((done) => setTimeout(() => done('still running 10 s after the last request'), 10_000)),
    ]);
    agent.destroy();
    expect(exit, describeProcess(proc)).toEqual({ code: 0, signal: null });

    const again = await startServe(dataDir);
    const status = await fetch(`${again.url}${location}`, { headers: { authorization } });
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${chunk.length - 1}`);

    const whole = Buffer.concat([chunk, rest]);
    const digest = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
    const done = await fetch(`${again.url}${location}?digest=${digest}`, {
      method: 'PUT',
      headers: {
        authorization,
        'content-type': 'application/octet-stream',
        'content-range': `${chunk.length}-${whole.length - 1}`,
      },
      body: rest,
    });
    expect(done.status, await done.clone().text()).toBe(201);
    const blob = await fetch(`${again.url}/v2/slow-lane/upload/blobs/${digest}`, { headers: { authorization } });
    expect(blob.status).toBe(200);
    expect(Buffer.from(await blob.arrayBuffer()).equals(whole)).toBe(true);
    expect(await stopServe(again)).toEqual({ code: 0, signal: null });
  });

  it('finishes a download in flight on SIGTERM and exits as soon as it is done', async () => {
    const dataDir = await freshDataDir();
    const proc = await startServe(dataDir);
    await addNamespace(proc, dataDir, 'big-lane');
    const authorization = ownerBasic(dataDir);
    const blob = randomBytes(16 * 1024 * 1024);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const pushed = await fetch(`${proc.url}/v2/big-lane/blob/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    expect(pushed.status).toBe(201);

    // The answer's headers go out before the close begins, so only the socket's fate is left to test.
    const agent = new Agent({ keepAlive: true });
    const response = await new Promise<IncomingMessage>((done, fail) => {
      httpRequest(`${proc.url}/v2/big-lane/blob/blobs/${digest}`, { agent, headers: { authorization } }).on('response', done).on('error', fail).end();
    });
    response.pause();
    expect(response.statusCode).toBe(200);
    proc.child.kill('SIGTERM');
    await new Promise((done) => setTimeout(done, 500));
    expect(proc.child.exitCode, 'exited with a download in flight').toBeNull();
    const hash = createHash('sha256');
    for await (const part of response) hash.update(part as Buffer);
    expect(`sha256:${hash.digest('hex')}`).toBe(digest);
    const exit = await Promise.race([
      proc.exited,
      new Promise((done) => setTimeout(() => done('still running 5 s after the download'), 5_000)),
    ]);
    agent.destroy();
    expect(exit, describeProcess(proc)).toEqual({ code: 0, signal: null });
  });

  it.each([
    [['--port', 'nope'], '--port'],
    [['--port', '70000'], '--port'],
    [['--log-level', 'loud'], '--log-level'],
  ])('refuses serve %j with a one-line error', async (flags, setting) => {
    const proc = spawnBerth(['serve', '--data', join(tempRoot, 'never-created'), ...flags]);
    const exit = await proc.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const stderr = proc.stderr().trim();
    expect(stderr.split('\n'), stderr).toHaveLength(1);
    expect(stderr).toMatch(/^berth: /);
    expect(stderr).toContain(setting);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(proc.stdout()).toBe('');
    await expect(stat(join(tempRoot, 'never-created'))).rejects.toThrow();
  });
});

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

function tokenRequest(server: TestServer, fields: Record<string, string>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    ...init,
  });
}

async function expectIamError(response: Response, status: number, errorCode: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { errorCode: string; errorMessage: string; context: { requestId: string } };
  expect(body.errorCode).toBe(errorCode);
  expect(body.errorMessage.length).toBeGreaterThan(0);
  expect(body.context.requestId).toBeTruthy();
}

describe('IAM token service', () => {
  let server: TestServer;
  let ownerKey: string;

  beforeAll(async () => {
    // Many failures on purpose here; the limit itself has its own test below.
    server = await startTestServer({ configure: (c) => (c.tokenFailuresPerMinute = 1000) });
    ownerKey = server.berth.ownerApiKey!;
  });
  afterAll(async () => server.close());

  describe('first start', () => {
    it('creates the owner API key and writes it alone on one line to <data>/owner-apikey, mode 0600', () => {
      expect(ownerKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const file = join(server.dataDir, 'owner-apikey');
      expect(readFileSync(file, 'utf8')).toBe(`${ownerKey}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    it('keeps only an HMAC of the key', async () => {
      const { record } = await server.berth.iam.apiKeys.create({ accountId: 'a', iamId: 'x', name: 'n', createdBy: 'x' });
      expect(record.secret_hash).toMatch(/^[a-f0-9]{64}$/);
      expect(Object.values(record)).not.toContain(ownerKey);
    });

    it('does not create another owner when started again on the same data', async () => {
      const again = await server.restart();
      server = again;
      expect(again.berth.ownerApiKey).toBeUndefined();
      expect(readFileSync(join(server.dataDir, 'owner-apikey'), 'utf8')).toBe(`${ownerKey}\n`);
    });
  });

  describe('the IBM SDK', () => {
    it("IamAuthenticator gets a token from Berth and sends it as a Bearer", async () => {
      const authenticator = new IamAuthenticator({ apikey: ownerKey, url: server.url });
      const options: { headers?: Record<string, string> } = {};
      await authenticator.authenticate(options);
      const header = options.headers?.Authorization ?? '';
      expect(header).toMatch(/^Bearer ey/);
      const token = header.slice('Bearer '.length);

      const jwks = createRemoteJWKSet(new URL(`${server.url}/identity/keys`));
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { algorithms: ['RS256'] });
      expect(protectedHeader.kid).toBeTruthy();
      expect(payload.iam_id).toMatch(/^BERTHid-/);
      expect(payload.sub_type).toBe('User');
      expect((payload.account as { bss: string }).bss).toMatch(/^[a-f0-9]{32}$/);
      expect(payload.grant_type).toBe(APIKEY_GRANT);
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(payload.iss).toBe(`${server.config.publicUrl ?? `http://127.0.0.1:${server.config.port}`}/identity`);
    });

    it('IamAuthenticator fails with a bad API key', async () => {
      const authenticator = new IamAuthenticator({ apikey: 'not-a-real-key-not-a-real-key-0000000', url: server.url });
      await expect(authenticator.authenticate({})).rejects.toBeTruthy();
    });
  });

  describe('POST /identity/token', () => {
    it('answers the fields IBM answers', async () => {
      const response = await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey, response_type: 'cloud_iam' });
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expiration', 'expires_in', 'refresh_token', 'scope', 'token_type']);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'ibm openid', refresh_token: 'not_supported' });
    });

    it('an unknown API key is 400 BXNIM0415E', async () => {
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: 'nope' }), 400, 'BXNIM0415E');
    });

    it('disabled and expired keys stop working', async () => {
      const { access_token } = (await (await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey })).json()) as { access_token: string };
      const owner = (await server.berth.iam.identities.find(decodePayload(access_token).iam_id as string))!;
      expect(owner.kind).toBe('user');
      const expired = await server.berth.iam.apiKeys.create({
        accountId: owner.accountId,
        iamId: owner.iamId,
        name: 'expired',
        createdBy: owner.iamId,
        expiresAt: Date.now() - 1000,
      });
      const disabled = await server.berth.iam.apiKeys.create({
        accountId: owner.accountId,
        iamId: owner.iamId,
        name: 'disabled',
        createdBy: owner.iamId,
        disabled: true,
      });
      const locked = await server.berth.iam.apiKeys.create({
        accountId: owner.accountId,
        iamId: owner.iamId,
        name: 'locked',
        createdBy: owner.iamId,
        locked: true,
      });
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: expired.secret }), 400, 'BXNIM0415E');
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: disabled.secret }), 400, 'BXNIM0415E');
      // Locking protects a key from change, not from use.
      expect((await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: locked.secret })).status).toBe(200);
    });

    it('a missing or unsupported grant_type, or a missing apikey, is 400', async () => {
      await expectIamError(await tokenRequest(server, { apikey: ownerKey }), 400, 'BXNIM0106E');
      await expectIamError(await tokenRequest(server, { grant_type: 'password', username: 'a', password: 'b' }), 400, 'BXNIM0109E');
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT }), 400, 'BXNIM0106E');
      await expectIamError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: 'x' }), 400, 'BXNIM0407E');
    });

    it('a body that is not a form, or is oversized, gets the IBM error shape', async () => {
      const json = await fetch(`${server.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: APIKEY_GRANT, apikey: ownerKey }),
      });
      await expectIamError(json, 400, 'BXNIM0106E');
      const huge = await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: 'x'.repeat(64 * 1024) });
      await expectIamError(huge, 413, 'BXNIM0106E');
    });
  });

  describe('refresh tokens', () => {
    const bx = { authorization: `Basic ${Buffer.from('bx:bx').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' };

    async function cliLogin(apikey: string): Promise<{ access_token: string; refresh_token: string }> {
      const response = await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey }, { headers: bx });
      expect(response.status).toBe(200);
      return (await response.json()) as { access_token: string; refresh_token: string };
    }

    it('the IBM CLI client (bx:bx) gets a real one; it works once, for that client only, and rotates', async () => {
      const login = await cliLogin(ownerKey);
      expect(login.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Another client cannot use it (and using it that way does not burn it).
      await expectIamError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }), 400, 'BXNIM0407E');
      const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }, { headers: bx });
      expect(refreshed.status).toBe(200);
      const body = (await refreshed.json()) as { access_token: string; refresh_token: string };
      expect(decodePayload(body.access_token).iam_id).toBe(decodePayload(login.access_token).iam_id);
      expect(body.refresh_token).not.toBe(login.refresh_token);
      // Single use: the old one is spent.
      const again = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }, { headers: bx });
      await expectIamError(again, 400, 'BXNIM0407E');
    });

    it('a wrong secret for the CLI client is refused', async () => {
      const headers = { ...bx, authorization: `Basic ${Buffer.from('bx:guess').toString('base64')}` };
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey }, { headers }), 400, 'BXNIM0106E');
    });

    it('is void at once when the API key that started the session is deleted through the Identity API', async () => {
      const owner = await cliLogin(ownerKey);
      const subject = await server.berth.iam.verifier.verify(owner.access_token);
      const bearer = { authorization: `Bearer ${owner.access_token}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/v1/apikeys`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ name: 'session', iam_id: subject.iamId }),
      });
      expect(created.status).toBe(201);
      const key = (await created.json()) as { id: string; apikey: string };
      const login = await cliLogin(key.apikey);
      const deleted = await fetch(`${server.url}/v1/apikeys/${key.id}`, { method: 'DELETE', headers: { authorization: bearer.authorization } });
      expect(deleted.status).toBe(204);
      const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }, { headers: bx });
      await expectIamError(refreshed, 400, 'BXNIM0407E');
    });

    it('ends with the API key that started the session', async () => {
      const owner = (await server.berth.iam.verifier.verify((await cliLogin(ownerKey)).access_token));
      const shortLived = await server.berth.iam.apiKeys.create({
        accountId: owner.accountId,
        iamId: owner.iamId,
        name: 'short',
        createdBy: owner.iamId,
        expiresAt: Date.now() + 1500,
      });
      const login = await cliLogin(shortLived.secret);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }, { headers: bx });
      await expectIamError(refreshed, 400, 'BXNIM0407E');
    });
  });

  describe('verifying access tokens', () => {
    it('accepts a token Berth issued and refuses a tampered, foreign or malformed one', async () => {
      const { access_token } = (await (await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey })).json()) as { access_token: string };
      const subject = await server.berth.iam.verifier.verify(access_token);
      expect(subject.iamId).toMatch(/^BERTHid-/);
      expect(subject.subType).toBe('User');
      expect(subject.accountId).toMatch(/^[a-f0-9]{32}$/);

      const [header, payload, signature] = access_token.split('.') as [string, string, string];
      const claims = decodePayload(access_token);
      const forged = Buffer.from(JSON.stringify({ ...claims, iam_id: 'BERTHid-SOMEONEELSE' })).toString('base64url');
      for (const bad of [`${header}.${forged}.${signature}`, `${header}.${payload}.${signature.slice(0, -4)}AAAA`, 'not.a.jwt', '']) {
        await expect(server.berth.iam.verifier.verify(bad)).rejects.toMatchObject({ status: 401, errorCode: 'BXNIM0407E' });
      }
    });
  });

  describe('signing keys', () => {
    it('rotate: new tokens carry the new kid, and tokens of the old key still verify from the JWKS', async () => {
      const before = ((await (await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey })).json()) as { access_token: string }).access_token;
      const oldKid = decodeProtectedHeader(before).kid;
      const newKid = await server.berth.iam.signingKeys.rotate();
      // A restart drops the node's cached signer, as another node would see the rotation.
      server = await server.restart();
      const after = ((await (await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: ownerKey })).json()) as { access_token: string }).access_token;
      expect(decodeProtectedHeader(after).kid).toBe(newKid);
      const jwks = (await (await fetch(`${server.url}/identity/keys`)).json()) as { keys: Array<{ kid: string; d?: string }> };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
      expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
      const remote = createRemoteJWKSet(new URL(`${server.url}/identity/keys`));
      await expect(jwtVerify(before, remote)).resolves.toBeTruthy();
      await expect(jwtVerify(after, remote)).resolves.toBeTruthy();
    });
  });
});

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('repeated failed token requests', () => {
  it('are answered 429 in IBM shape after 20 a minute, while a valid key from the same client still works, and never logged with the secret', async () => {
    const lines: string[] = [];
    const server = await startTestServer({ configure: (c) => (c.logLevel = 'info'), logSink: (line) => lines.push(line) });
    try {
      const wrong = 'wrong-key-guess-000000000000000000000000000';
      for (let i = 0; i < 20; i++) {
        const response = await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: `${wrong}${i}` });
        expect(response.status).toBe(400);
      }
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: wrong }), 429, 'BXNIM0429E');
      const valid = await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: server.berth.ownerApiKey! });
      expect(valid.status).toBe(200);
      expect(((await valid.json()) as { access_token: string }).access_token).toMatch(/^ey/);
      await expectIamError(await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: `${wrong}x` }), 429, 'BXNIM0429E');
      expect(lines.some((line) => line.includes('token request refused'))).toBe(true);
      expect(lines.join('\n')).not.toContain(wrong);
      expect(lines.join('\n')).not.toContain(server.berth.ownerApiKey!);
    } finally {
      await server.close();
    }
  });
});

describe('refresh token lifetime', () => {
  it('an expired refresh token is 400 BXNIM0408E', async () => {
    const server = await startTestServer({ configure: (c) => (c.refreshTokenHours = 0) });
    try {
      const headers = { authorization: `Basic ${Buffer.from('bx:bx').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' };
      const login = (await (await tokenRequest(server, { grant_type: APIKEY_GRANT, apikey: server.berth.ownerApiKey! }, { headers })).json()) as { refresh_token: string };
      await expectIamError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: login.refresh_token }, { headers }), 400, 'BXNIM0408E');
    } finally {
      await server.close();
    }
  });
});


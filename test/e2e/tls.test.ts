import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBerth, stopServe, freePort, describeProcess, type BerthProcess } from '../support/berth-process.js';
import { clientSandbox, type ClientSandbox } from '../support/containers.js';
import { addNamespaces } from '../support/iam.js';
import { OciLayoutWriter } from '../support/oci-layout.js';
import { requireTool } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A CA made for this run, and server certificates for 127.0.0.1 it signs. */
async function makeCa(dir: string): Promise<{ ca: string; issue(serial: number): Promise<{ cert: string; key: string }> }> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const quiet = { stdio: 'pipe' as const };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=berth-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], quiet);
  const ext = join(dir, 'server.ext');
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  return {
    ca,
    async issue(serial) {
      const key = join(dir, `server-${serial}.key`);
      const csr = join(dir, `server-${serial}.csr`);
      const cert = join(dir, `server-${serial}.crt`);
      execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1'], quiet);
      execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-set_serial', String(serial), '-out', cert, '-days', '2', '-extfile', ext], quiet);
      return { cert, key };
    },
  };
}

/** GET over HTTPS trusting only `ca`: the status and the serial of the certificate served. */
function httpsGet(url: string, ca: Buffer): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ca, agent: false }, (response) => {
      const serial = (response.socket as unknown as { getPeerCertificate(): { serialNumber: string } }).getPeerCertificate().serialNumber;
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, serial }));
    });
    request.on('error', reject);
  });
}

describe('TLS: HTTPS on every listener with a certificate from a CA made at run time', () => {
  let dir: string;
  let pki: Awaited<ReturnType<typeof makeCa>>;
  let ca: Buffer;
  let server: TestServer;
  let sandbox: ClientSandbox;
  let certDir: string;
  let live: { cert: string; key: string };
  let ownerKey: string;

  beforeAll(async () => {
    requireTool('openssl');
    requireTool('skopeo');
    requireTool('podman');
    dir = await mkdtemp(join(tmpdir(), 'berth-tls-'));
    pki = await makeCa(dir);
    ca = await readFile(pki.ca);
    const first = await pki.issue(1001);
    // The files the server reads; a renewal overwrites them in place, as certbot and cert-manager do.
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    await copyFile(first.cert, live.cert);
    await copyFile(first.key, live.key);
    // The namespace is made over plain HTTP first (Node's fetch would not trust the run's CA), then
    // the same data is served with TLS.
    const data = join(dir, 'data');
    const plain = await startTestServer({ auth: 'iam', dataDir: data });
    await addNamespaces(plain, 'tls-lab');
    ownerKey = plain.berth.ownerApiKey!;
    await plain.close();
    server = await startTestServer({
      auth: 'iam',
      dataDir: data,
      ...(plain.schema ? { schema: plain.schema } : {}),
      configure: (config) => void (config.tls = { certPath: live.cert, keyPath: live.key }),
    });
    sandbox = await clientSandbox();
    certDir = join(sandbox.dir, 'certs');
    await mkdir(certDir);
    await copyFile(pki.ca, join(certDir, 'ca.crt'));
  });
  afterAll(async () => {
    await sandbox?.cleanup();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS, with the token realm on https', async () => {
    expect(server.url.startsWith('https://')).toBe(true);
    expect((await httpsGet(`${server.url}/healthz`, ca)).serial).toBe('03E9');
    const challenge = await new Promise<string>((resolve, reject) => {
      get(`${server.url}/v2/`, { ca, agent: false }, (response) => {
        response.resume();
        resolve(String(response.headers['www-authenticate']));
      }).on('error', reject);
    });
    expect(challenge).toContain(`realm="https://${server.host}/oauth/token"`);
  });

  it('skopeo pushes and podman pulls trusting the CA through --cert-dir, with TLS verification on', async () => {
    const src = join(sandbox.dir, 'src');
    const layout = await OciLayoutWriter.create(src);
    const image = await layout.writeImage({ layers: [{ entries: [{ path: 'hello.txt', content: 'hello over TLS\n' }] }], cmd: ['/hello.txt'] });
    await layout.tag(image.manifest, 'v1');
    const creds = `iamapikey:${ownerKey}`;
    await sandbox.skopeoOk(['copy', '--dest-cert-dir', certDir, '--dest-creds', creds, `oci:${src}:v1`, `docker://${server.host}/tls-lab/app:v1`]);
    await sandbox.podmanOk(['pull', '--cert-dir', certDir, '--creds', creds, `${server.host}/tls-lab/app:v1`]);
    // Without the CA the certificate is refused, as it must be.
    const untrusted = await sandbox.skopeo(['inspect', '--creds', creds, `docker://${server.host}/tls-lab/app:v1`]);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate signed by unknown authority|x509/);
  });

  it('reloads a renewed certificate for new connections; an unreadable one leaves the current in place', async () => {
    const renewed = await pki.issue(1002);
    await copyFile(renewed.cert, live.cert);
    await copyFile(renewed.key, live.key);
    expect(server.berth.reloadTls()).toBe(true);
    expect((await httpsGet(`${server.url}/healthz`, ca)).serial).toBe('03EA');
    await writeFile(live.cert, 'not a certificate');
    expect(() => server.berth.reloadTls()).toThrow(/do not make a usable pair/);
    expect((await httpsGet(`${server.url}/healthz`, ca)).serial).toBe('03EA');
    await copyFile(renewed.cert, live.cert);
  });

  it('berth serve reloads it on SIGHUP, and refuses to start with one file missing', async () => {
    const port = await freePort();
    const data = join(dir, 'serve-data');
    const proc: BerthProcess = spawnBerth(['serve', '--data', data, '--port', String(port), '--tls-cert', live.cert, '--tls-key', live.key], {}, port);
    try {
      const url = `https://127.0.0.1:${port}/healthz`;
      const deadline = Date.now() + 30_000;
      let first: { serial: string } | undefined;
      while (!first && Date.now() < deadline) first = await httpsGet(url, ca).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
      expect(first?.serial, describeProcess(proc)).toBe('03EA');
      const third = await pki.issue(1003);
      await copyFile(third.cert, live.cert);
      await copyFile(third.key, live.key);
      proc.child.kill('SIGHUP');
      let serial = '';
      for (let i = 0; i < 50 && serial !== '03EB'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        serial = (await httpsGet(url, ca)).serial;
      }
      expect(serial).toBe('03EB');
    } finally {
      await stopServe(proc);
    }
    const missing = spawnBerth(['serve', '--data', data, '--port', String(port), '--tls-cert', live.cert]);
    const exit = await missing.exited;
    expect(exit.code).toBe(1);
    expect(missing.stderr().trim()).toMatch(/^berth: invalid configuration: --tls-cert is set but BERTH_TLS_KEY \(--tls-key\) is not/);
    expect(missing.stderr().trim().split('\n')).toHaveLength(1);
  });
});

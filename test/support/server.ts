import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowAll } from '../../src/auth/authorize.js';
import { anonymousOnly } from '../../src/auth/authenticate.js';
import { loadConfig, type BerthConfig } from '../../src/config/config.js';
import { createBerth, type Berth, type BerthOptions } from '../../src/server.js';
import type { S3Settings } from '../../src/storage/s3-client.js';
import { freshSchemaName, testBackend, testDatabaseUrl } from './database.js';
import { testStorage } from './s3.js';
import { emptyPrefix, freshS3Settings } from './s3-store.js';

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, the registry host as clients write it. */
  host: string;
  /** Each region's registry: its URL and host (the main one's, unless it has a port of its own). */
  regions: Record<string, { url: string; host: string }>;
  dataDir: string;
  /** Where its blobs are in the s3 pass (a prefix of the suite's bucket). */
  s3?: S3Settings;
  config: BerthConfig;
  berth: Berth;
  close(): Promise<void>;
  /**
   * Stops this server and starts a new one on the same data folder (and PostgreSQL schema):
   * nothing held in the old process's memory survives. The new server owns the cleanup.
   */
  restart(): Promise<TestServer>;
  /** Lines of `/metrics` counting 5xx answers; a healthy run has none. */
  serverErrors(): Promise<string[]>;
}

export interface TestServerOptions {
  /** Adjusts the config before the server starts (e.g. disable delete). */
  configure?: (config: BerthConfig) => void;
  /** Keep this data folder (to restart a server on the same data). */
  dataDir?: string;
  /** Reuse this PostgreSQL schema (with dataDir, to restart on the same data). */
  schema?: string;
  /**
   * Registry authentication: `'iam'` is the product's (logins, registry tokens, policies); the
   * default is an open registry, for tests of the OCI surface itself; or seams of the test's own.
   */
  auth?: 'iam' | Pick<BerthOptions, 'authenticator' | 'authorizer'>;
  /** Receives every log line (set `configure: c => (c.logLevel = 'info')` to have some). */
  logSink?: (line: string) => void;
  /** The registry's clock (to expire the trash without waiting days). */
  registryClock?: () => number;
  /** Reuse this S3 prefix (with dataDir, to restart on the same data); in the s3 pass each server gets a fresh one. */
  s3?: S3Settings;
}

/** The secret test servers on PostgreSQL share (BERTH_SECRET), as the nodes of one deployment do. */
export const TEST_SECRET = 'berth-test-secret-berth-test-secret-0123456789';

/**
 * What `close()` removes: only what this helper created. PostgreSQL schemas are dropped after the
 * whole run instead (test/support/global-setup.ts says why).
 */
interface Cleanup {
  removeDataDir: boolean;
}

/** A real Berth on a loopback port, on this run's backend, with its own temp data folder. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer & { schema?: string; s3?: S3Settings }> {
  return start(options, { removeDataDir: options.dataDir === undefined });
}

async function start(options: TestServerOptions, cleanup: Cleanup): Promise<TestServer & { schema?: string; s3?: S3Settings }> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-test-')));
  const backend = testBackend();
  const config = loadConfig({ data: dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' }, {});
  const schema = backend === 'postgres' ? (options.schema ?? freshSchemaName()) : undefined;
  if (backend === 'postgres') {
    config.databaseUrl = testDatabaseUrl();
    // Nodes on PostgreSQL share one secret, as production ones must.
    config.secret = TEST_SECRET;
  }
  const s3 = testStorage() === 's3' ? (options.s3 ?? freshS3Settings()) : undefined;
  if (s3) {
    const { credentials: _credentials, ...settings } = s3;
    config.storage = { kind: 's3', s3: { ...settings, endpoint: settings.endpoint!, redirect: true } };
    // What loadConfig gives an S3 server without BERTH_CHUNK_MIN_LENGTH.
    config.registry.chunkMinLength = 5 * 1024 * 1024;
  }
  options.configure?.(config);
  const logStream = options.logSink && lineWriter(options.logSink);
  const seams = options.auth === 'iam' ? {} : (options.auth ?? { authenticator: anonymousOnly, authorizer: allowAll });
  const berth = await createBerth(config, {
    ...seams,
    ...(schema ? { databaseSchema: schema } : {}),
    ...(logStream ? { logStream } : {}),
    ...(options.registryClock ? { registryClock: options.registryClock } : {}),
    ...(s3?.credentials ? { s3Credentials: s3.credentials } : {}),
  });
  const listening = await berth.listen({ host: '127.0.0.1', port: 0 });
  const port = listening.port;
  const url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const regions = Object.fromEntries(
    Object.entries(listening.regions).map(([name, regionPort]) => [name, { url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${regionPort}`, host: `127.0.0.1:${regionPort}` }]),
  );
  let closed = false;
  return {
    url,
    host: `127.0.0.1:${port}`,
    regions,
    dataDir,
    config,
    berth,
    ...(schema ? { schema } : {}),
    ...(s3 ? { s3 } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await berth.close();
      if (cleanup.removeDataDir) await rm(dataDir, { recursive: true, force: true });
      if (s3 && cleanup.removeDataDir) await emptyPrefix(s3);
    },
    async restart() {
      if (closed) throw new Error('cannot restart a closed test server');
      closed = true;
      await berth.close();
      return start({ ...options, dataDir, ...(schema ? { schema } : {}), ...(s3 ? { s3 } : {}) }, cleanup);
    },
    async serverErrors() {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.split('\n').filter((line) => /^berth_http_requests_total\{.*status="5\d\d"/.test(line));
    },
  };
}

/** A writable that hands each written line to `sink`. */
function lineWriter(sink: (line: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') sink(line);
      done();
    },
  });
}


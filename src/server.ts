import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Caller } from './auth/access.js';
import type { Authenticator } from './auth/authenticate.js';
import type { Authorizer } from './auth/authorize.js';
import { RegistryCredentials } from './auth/credentials.js';
import { RegistryGrants } from './auth/grants.js';
import { RegistryLogin } from './auth/login.js';
import { iamAuthenticator, iamAuthorizer } from './auth/registry-seams.js';
import { RegistryTokens } from './auth/registry-tokens.js';
import { ConfigError, type BerthConfig } from './config/config.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { buildApp } from './http/app.js';
import { RegionListeners, RegionRouter } from './http/regions.js';
import { systemClock, type Clock } from './registry/clock.js';
import { regionView, type RegionRegistry } from './registry/regional.js';
import { createRegistry, type Registry } from './registry/registry.js';
import type { BlobStore } from './storage/blob-store.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { S3BlobStore } from './storage/s3-blob-store.js';
import { auditRetentionJob } from './jobs/audit-retention.js';
import { gcMetrics } from './jobs/gc-metrics.js';
import { JobLeases } from './jobs/leases.js';
import { JobRunner } from './jobs/runner.js';
import { bootstrapOwner } from './iam/bootstrap.js';
import { LoginThrottle } from './iam/login-throttle.js';
import { AccessEvents } from './audit/access-events.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditRecorder } from './audit/recorder.js';
import { AuthenticatorChain } from './auth/authenticator-chain.js';
import { iamTokenAuthenticator, loginAuthenticator, registryTokenAuthenticator } from './auth/authenticators.js';
import { TlsCertificate } from './http/tls.js';
import { createIam, type Iam } from './iam/iam.js';
import { subTypeOf } from './iam/principal.js';
import { ServerSecret } from './iam/server-secret.js';

export interface Berth {
  app: FastifyInstance;
  registry: Registry;
  iam: Iam;
  /** The owner API key, when this start created it (first start on an empty database). */
  ownerApiKey?: string;
  /**
   * Listens on the main address and on the listener of every region with a port of its own;
   * answers the ports each region's registry is reachable on.
   */
  listen(options?: { host?: string; port?: number }): Promise<{ port: number; regions: Record<string, number> }>;
  /** Reads the TLS certificate and key again (SIGHUP) for new connections; false without TLS. Throws, keeping the current one, if they cannot be read. */
  reloadTls(): boolean;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

export interface BerthOptions {
  /** PostgreSQL schema (tests isolate themselves in one each). */
  databaseSchema?: string;
  logStream?: NodeJS.WritableStream;
  /** Replace the registry's IAM seams (tests of the OCI surface run it open; others exercise denial). */
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** The registry's clock (tests move it on to expire the trash); IAM keeps the real one. */
  registryClock?: Clock;
  /** S3 credentials of the test's own; a server finds them where the AWS SDK looks (the environment). */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
}

const JANITOR_INTERVAL_MS = 10 * 60 * 1000;

/**
 * The background jobs, each on one node at a time: the collector at BERTH_GC_INTERVAL, the
 * upload janitor (cancelling abandoned sessions, as the spec asks) even when the collector runs
 * only on demand, and audit retention when BERTH_AUDIT_RETENTION is set.
 */
function startJobs(registry: Registry, audit: AuditLog, config: BerthConfig, leases: JobLeases, metrics: MetricsRegistry, log: FastifyBaseLogger): JobRunner {
  const runner = new JobRunner(leases, log);
  const observed = gcMetrics(metrics);
  runner.every({
    name: 'gc',
    intervalMs: config.gc.intervalMs,
    async run(renew) {
      try {
        const report = await registry.collector.run({ renew });
        observed.succeeded(report);
        const { blobs: _list, ...figures } = report;
        if (report.blobsRemoved + report.manifestsRemoved + report.uploadsPurged + report.linksRemoved > 0) log.info(figures, 'garbage collected');
      } catch (error) {
        observed.failed();
        throw error;
      }
    },
  });
  runner.every({
    name: 'upload-janitor',
    intervalMs: JANITOR_INTERVAL_MS,
    async run() {
      const purged = await registry.uploads.purgeIdle(uploadIdleMs(config));
      if (purged > 0) log.info({ purged }, 'cancelled idle upload sessions');
    },
  });
  runner.every(auditRetentionJob(audit, config.audit.retentionMs, log));
  return runner;
}

const uploadIdleMs = (config: BerthConfig) => config.uploadIdleHours * 3600 * 1000;

/** The configured blob store, checked: a wrong bucket or credential fails the start, not the first push. */
async function openStore(config: BerthConfig, options: BerthOptions): Promise<{ store: BlobStore; close(): void }> {
  if (config.storage.kind === 'fs') return { store: new FsBlobStore(config.dataDir, { reserveBytes: config.diskReserveBytes }), close: () => undefined };
  const { redirect: _redirect, ...settings } = config.storage.s3;
  const store = await S3BlobStore.open({ ...settings, ...(options.s3Credentials ? { credentials: options.s3Credentials } : {}) });
  return { store, close: () => store.close() };
}

/** The registry's services over a database, with the blob store and lifecycle settings. */
function registryOver(config: BerthConfig, database: DatabaseHandle, store: BlobStore, clock: Clock = systemClock): Registry {
  return createRegistry(
    { db: database.db, dialect: database.dialect, store, clock, graceMs: config.gc.delayMs, audit: new AuditLog(database.db, database.dialect) },
    { trashDays: config.trashDays, defaultPlan: config.defaultPlan, gcDelayMs: config.gc.delayMs, uploadIdleMs: uploadIdleMs(config) },
  );
}

function openConfiguredDatabase(config: BerthConfig, schema?: string): Promise<DatabaseHandle> {
  return openDatabase({
    sqlitePath: join(config.dataDir, 'berth.db'),
    defaultRegion: config.regions[0]!.name,
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    ...(schema ? { schema } : {}),
  });
}

function iamOver(config: BerthConfig, database: DatabaseHandle, events?: AccessEvents): Iam {
  if (config.databaseUrl && !config.secret) {
    // A secret from this node's data folder would hash API keys no other node could look up.
    throw new ConfigError('BERTH_SECRET must be set on PostgreSQL: every node hashes API keys under it, so all nodes need the same value (at least 32 characters)');
  }
  const secret = config.secret
    ? ServerSecret.fromValue(config.secret)
    : ServerSecret.fromFile(join(config.dataDir, 'keys', 'server-secret'));
  const publicUrl = config.publicUrl ?? `${config.tls ? 'https' : 'http'}://${config.host}:${config.port}`;
  return createIam({
    db: database.db,
    dialect: database.dialect,
    audit: new AuditLog(database.db, database.dialect),
    ...(events ? { onDenied: events.denied.bind(events) } : {}),
    secret,
    clock: systemClock,
    issuer: `${publicUrl}/identity`,
    refreshTokenHours: config.refreshTokenHours,
  });
}

/** IAM alone over the configured database, for operator commands run beside the server. */
export async function openIam(config: BerthConfig): Promise<{ iam: Iam; close(): Promise<void> }> {
  const database = await openConfiguredDatabase(config);
  return { iam: iamOver(config, database), close: () => database.close() };
}

/** The audit trail of the configured database, for `berth audit` run beside the servers. */
export async function openAudit(config: BerthConfig): Promise<{ audit: AuditLog; close(): Promise<void> }> {
  const database = await openConfiguredDatabase(config);
  return { audit: new AuditLog(database.db, database.dialect), close: () => database.close() };
}

/** The registry over the configured database and storage, for `berth gc` run beside the servers. */
export async function openRegistry(config: BerthConfig): Promise<{ registry: Registry; leases: JobLeases; close(): Promise<void> }> {
  const storage = await openStore(config, {});
  const database = await openConfiguredDatabase(config);
  return {
    registry: registryOver(config, database, storage.store),
    leases: new JobLeases(database.db),
    async close() {
      storage.close();
      await database.close();
    },
  };
}

/** The composition root: every dependency is built here and passed down explicitly. */
export async function createBerth(config: BerthConfig, options: BerthOptions = {}): Promise<Berth> {
  // First: a certificate that cannot be read fails the start before anything is opened.
  const tls = config.tls ? new TlsCertificate(config.tls) : undefined;
  const storage = await openStore(config, options);
  const database = await openConfiguredDatabase(config, options.databaseSchema).catch((error: unknown) => {
    storage.close();
    throw error;
  });
  const registry = registryOver(config, database, storage.store, options.registryClock);
  // Logins, decisions, denials and pulls: written in batches beside the requests.
  let log: FastifyBaseLogger | undefined;
  const auditLog = new AuditLog(database.db, database.dialect);
  const recorder = new AuditRecorder(auditLog, database.db, database.dialect, (error, lost) => {
    // The app's logger does not exist yet when the recorder is made; a lost batch is still said.
    if (log) log.error({ err: error, lost }, 'audit events could not be written');
    else console.error('audit events could not be written', lost, error);
  });
  const events = new AccessEvents(recorder, systemClock);
  let iam: Iam;
  try {
    iam = iamOver(config, database, events);
    // Keys stored before they were sealed get sealed now; a node whose secret cannot open them stops here.
    await iam.signingKeys.sealStoredKeys();
  } catch (error) {
    storage.close();
    await database.close();
    throw error;
  }
  const ownerApiKey = await bootstrapOwner(database.db, iam.identities, iam.apiKeys, config.dataDir);

  const router = new RegionRouter(config.regions);
  const views = new Map<string, RegionRegistry>(router.names().map((name) => [name, regionView(registry, name)]));
  const registryOf = (region: string) => views.get(region)!;
  const credentials = new RegistryCredentials(iam, new LoginThrottle(config.tokenFailuresPerMinute), events);
  const grants = new RegistryGrants(iam.authorization, registry.namespaces);
  const tokens = new RegistryTokens(iam.signingKeys, config.registryTokenSeconds, systemClock);
  // One ordered chain for every surface: IAM access tokens, registry tokens, then a login's secret.
  const chain = new AuthenticatorChain([
    iamTokenAuthenticator(iam),
    registryTokenAuthenticator(tokens, config.uploadIdleHours * 3600),
    loginAuthenticator(credentials),
  ]);
  // A token names who it is for; whether they own the account is asked again when policies decide.
  const subjectOf = async (caller: Caller & { kind: 'principal' }) => {
    if (caller.subject) return caller;
    const subject = await iam.principalOf({ iamId: caller.id, accountId: caller.account ?? '', subType: subTypeOf(caller.id) });
    return subject ? { ...caller, subject } : caller;
  };

  const { app, handler, metrics } = await buildApp({
    config,
    db: database.db,
    registry,
    registryOf,
    regionOf: (request) => router.regionOf(request),
    hostOf: (region) => config.regions.find((r) => r.name === region)?.host,
    // BERTH_PUBLIC_URL reaches the main listener, which answers a Host naming no region with its
    // default region: it is that region's address. Other regions' URLs come from the host clients
    // reached them at (a token is good only in the region whose /oauth/token issued it).
    publicUrlOf: (region) => (region === router.defaultRegion() ? config.publicUrl : undefined),
    regionsFor: (request) => router.names().map((name) => ({ name, registry: router.registryHost(name, request) })),
    iam,
    login: new RegistryLogin(credentials, grants, tokens, events),
    events,
    audit: auditLog,
    authenticator: options.authenticator ?? iamAuthenticator({ chain }),
    chain,
    authorizer: options.authorizer ?? iamAuthorizer({ grants, subjectOf, refused: (who, decisions, origin) => events.decided(who, decisions, origin) }),
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(tls ? { tls } : {}),
  });
  log = app.log;
  const listeners = new RegionListeners(router, handler, config, tls);
  const jobs = startJobs(registry, auditLog, config, new JobLeases(database.db), metrics, app.log);
  return {
    app,
    registry,
    iam,
    ...(ownerApiKey ? { ownerApiKey } : {}),
    async listen(listen = {}) {
      const host = listen.host ?? config.host;
      await app.listen({ host, port: listen.port ?? config.port });
      const { port } = app.server.address() as { port: number };
      const regions = await listeners.listen(host);
      for (const name of router.names()) regions[name] ??= port;
      return { port, regions };
    },
    reloadTls() {
      if (!tls) return false;
      tls.reload();
      return true;
    },
    async close() {
      await Promise.all([app.close(), listeners.close(), jobs.stop()]);
      // Requests are done: what they noted is written before the database goes.
      await recorder.close();
      await database.close();
      storage.close();
    },
  };
}

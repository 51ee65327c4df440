import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { anonymousOnly, type Authenticator } from './auth/authenticate.js';
import { allowAll, type Authorizer } from './auth/authorize.js';
import type { BerthConfig } from './config/config.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { buildApp } from './http/app.js';
import { systemClock } from './registry/clock.js';
import { createRegistry, type Registry } from './registry/registry.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { bootstrapOwner } from './iam/bootstrap.js';
import { createIam, type Iam } from './iam/iam.js';
import { ServerSecret } from './iam/server-secret.js';

export interface Berth {
  app: FastifyInstance;
  registry: Registry;
  iam: Iam;
  /** The owner API key, when this start created it (first start on an empty database). */
  ownerApiKey?: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

export interface BerthOptions {
  /** PostgreSQL schema (tests isolate themselves in one each). */
  databaseSchema?: string;
  logStream?: NodeJS.WritableStream;
  /** Replace the open registry's seams (the IAM issues plug in here; tests exercise denial). */
  authenticator?: Authenticator;
  authorizer?: Authorizer;
}

const JANITOR_INTERVAL_MS = 10 * 60 * 1000;

/** Cancels abandoned upload sessions every few minutes, as the spec asks registries to. */
function startUploadJanitor(registry: Registry, config: BerthConfig, log: FastifyBaseLogger): NodeJS.Timeout {
  const maxIdleMs = config.uploadIdleHours * 3600 * 1000;
  const timer = setInterval(() => {
    registry.uploads.purgeIdle(maxIdleMs).then(
      (purged) => purged > 0 && log.info({ purged }, 'cancelled idle upload sessions'),
      (error: unknown) => log.warn({ err: error }, 'idle upload cleanup failed'),
    );
  }, JANITOR_INTERVAL_MS);
  timer.unref();
  return timer;
}

function openConfiguredDatabase(config: BerthConfig, schema?: string): Promise<DatabaseHandle> {
  return openDatabase({
    sqlitePath: join(config.dataDir, 'berth.db'),
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    ...(schema ? { schema } : {}),
  });
}

function iamOver(config: BerthConfig, database: DatabaseHandle): Iam {
  const secret = config.secret
    ? ServerSecret.fromValue(config.secret)
    : ServerSecret.fromFile(join(config.dataDir, 'keys', 'server-secret'));
  const publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  return createIam({
    db: database.db,
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

/** The composition root: every dependency is built here and passed down explicitly. */
export async function createBerth(config: BerthConfig, options: BerthOptions = {}): Promise<Berth> {
  const database = await openConfiguredDatabase(config, options.databaseSchema);
  const store = new FsBlobStore(config.dataDir);
  const registry = createRegistry({ db: database.db, dialect: database.dialect, store, clock: systemClock });
  const iam = iamOver(config, database);
  const ownerApiKey = await bootstrapOwner(database.db, iam.identities, iam.apiKeys, config.dataDir);
  const app = await buildApp({
    config,
    db: database.db,
    registry,
    iam,
    authenticator: options.authenticator ?? anonymousOnly,
    authorizer: options.authorizer ?? allowAll,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  const janitor = startUploadJanitor(registry, config, app.log);
  return {
    app,
    registry,
    iam,
    ...(ownerApiKey ? { ownerApiKey } : {}),
    async close() {
      clearInterval(janitor);
      await app.close();
      await database.close();
    },
  };
}

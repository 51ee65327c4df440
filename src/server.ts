import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { anonymousOnly, type Authenticator } from './auth/authenticate.js';
import { allowAll, type Authorizer } from './auth/authorize.js';
import type { BerthConfig } from './config/config.js';
import { openDatabase } from './db/database.js';
import { buildApp } from './http/app.js';
import { systemClock } from './registry/clock.js';
import { createRegistry } from './registry/registry.js';
import { FsBlobStore } from './storage/fs-blob-store.js';

export interface Berth {
  app: FastifyInstance;
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

/** The composition root: every dependency is built here and passed down explicitly. */
export async function createBerth(config: BerthConfig, options: BerthOptions = {}): Promise<Berth> {
  const database = await openDatabase({
    sqlitePath: join(config.dataDir, 'berth.db'),
    ...(config.databaseUrl ? { url: config.databaseUrl } : {}),
    ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
  });
  const store = new FsBlobStore(config.dataDir);
  const registry = createRegistry({ db: database.db, dialect: database.dialect, store, clock: systemClock });
  const app = await buildApp({
    config,
    db: database.db,
    registry,
    authenticator: options.authenticator ?? anonymousOnly,
    authorizer: options.authorizer ?? allowAll,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  return {
    app,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
